#!/usr/bin/env bash
# Rebuilds both modules from source in a fresh temporary directory and fails
# when either differs from the committed wasm/*.wasm. Also checks that each
# imports nothing but module sy_host and exports exactly wasm/exports.txt
# (cmake/check-module.mjs), and prints raw and gzip -9 sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${WASI_SDK_PATH:-}" ]; then
  echo "check-wasm: WASI_SDK_PATH is set; the committed modules come from Debian's clang-14," \
    "so unset it for this check" >&2
  exit 1
fi
FRESH=$(mktemp -d "${TMPDIR:-/tmp}/sy-check-wasm.XXXXXX")
trap 'rm -rf "$FRESH"' EXIT
SY_WASM_BUILD=$FRESH/build bash scripts/build-wasm.sh "$FRESH/out" >/dev/null

status=0
for f in switchyard.wasm switchyard.wasi.wasm; do
  node cmake/check-module.mjs "$FRESH/out/$f" wasm/exports.txt || status=1
  raw=$(stat -c %s "$FRESH/out/$f")
  gz=$(gzip -9c "$FRESH/out/$f" | wc -c)
  if [ ! -f "wasm/$f" ]; then
    echo "check-wasm: wasm/$f is missing: run scripts/build-wasm.sh and commit wasm/" >&2
    status=1
  elif ! cmp -s "$FRESH/out/$f" "wasm/$f"; then
    echo "check-wasm: wasm/$f ($(stat -c %s "wasm/$f") bytes) differs from a fresh build" \
      "($raw bytes): run scripts/build-wasm.sh and commit wasm/" >&2
    status=1
  fi
  printf 'check-wasm: %-22s %7d bytes raw %7d gzip -9  %s\n' "$f" "$raw" "$gz" \
    "$([ "$f" = switchyard.wasm ] && echo '(Emscripten, shipped)' || echo '(clang-14 + wasi-libc)')"
done
[ $status -eq 0 ] && echo "check-wasm: committed modules match a fresh build; imports: sy_host.* only (the Emscripten one also env.emscripten_notify_memory_growth)"
exit $status
