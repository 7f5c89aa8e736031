#!/usr/bin/env bash
# Rebuilds both modules from source and fails when they differ from the
# committed wasm/*.wasm; checks each imports nothing but module sy_host;
# prints the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
FRESH=$(mktemp -d)
trap 'rm -rf "$FRESH"' EXIT
bash scripts/build-wasm.sh "$FRESH"
status=0
for f in switchyard.wasm switchyard.wasi.wasm; do
  if ! cmp -s "$FRESH/$f" "wasm/$f"; then
    echo "check-wasm: wasm/$f differs from a fresh build: run scripts/build-wasm.sh and commit" >&2
    status=1
  fi
  node -e '
    const fs = require("fs");
    const m = new WebAssembly.Module(fs.readFileSync(process.argv[1]));
    const bad = WebAssembly.Module.imports(m).filter((i) => i.module !== "sy_host" &&
      !(i.module === "env" && i.name === "emscripten_notify_memory_growth"));
    if (bad.length) { console.error("check-wasm: unexpected imports", bad); process.exit(1); }
    // The ABI is wasm/exports.txt; the rest is each toolchain runtime.
    const want = fs.readFileSync("wasm/exports.txt", "utf8").split("\n").filter(Boolean);
    const runtime = ["memory", "_initialize", "__indirect_function_table", "__errno_location",
      "stackSave", "stackRestore", "stackAlloc"];
    const have = WebAssembly.Module.exports(m).map((e) => e.name);
    const missing = want.filter((n) => !have.includes(n));
    const extra = have.filter((n) => !want.includes(n) && !runtime.includes(n));
    if (missing.length || extra.length) {
      console.error("check-wasm: exports differ from wasm/exports.txt", { missing, extra });
      process.exit(1);
    }
  ' "$FRESH/$f" || status=1
  printf 'check-wasm: %-28s %7d bytes raw, %6d gzip -9\n' "$f" \
    "$(stat -c %s "$FRESH/$f")" "$(gzip -9c "$FRESH/$f" | wc -c)"
done
exit $status
