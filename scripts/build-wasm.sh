#!/usr/bin/env bash
# Builds both wasm modules from src/ and copies them into OUT (default wasm/):
#   switchyard.wasm        Emscripten, standalone .wasm (no JS glue): the one the package ships
#   switchyard.wasi.wasm   clang-14 + wasi-libc as a reactor, or the wasi-sdk at $WASI_SDK_PATH
# Usage: scripts/build-wasm.sh [OUT]. Build trees go to $SY_WASM_BUILD
# (default build/wasm) and are reused, so a rebuild is quick. The bytes do not
# depend on either directory (see CMakeLists.txt); scripts/check-wasm.sh
# proves it against the committed modules.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-wasm}")
B=$(realpath -m "${SY_WASM_BUILD:-build/wasm}")
mkdir -p "$OUT" "$B"
bash scripts/fetch-cjson.sh
# Debian's emcc runs Node tools (acorn) that live in Debian's node_modules.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

wasi_dir=$B/wasi
[ -z "${WASI_SDK_PATH:-}" ] || wasi_dir=$B/wasi-sdk
build_wasi() {
  cmake -S . -B "$wasi_dir" -DCMAKE_TOOLCHAIN_FILE=cmake/wasi-clang14.cmake \
    -DCMAKE_BUILD_TYPE=MinSizeRel &&
    cmake --build "$wasi_dir" -j2
}
build_em() {
  emcmake cmake -S . -B "$B/em" -DCMAKE_BUILD_TYPE=MinSizeRel \
    -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node &&
    cmake --build "$B/em" -j2
}
# The two builds are independent: run them side by side, each with its log.
build_wasi >"$B/wasi.log" 2>&1 &
wasi_pid=$!
build_em >"$B/em.log" 2>&1 &
em_pid=$!
status=0
wait $wasi_pid || { echo "build-wasm: clang/wasi build failed:" >&2; tail -40 "$B/wasi.log" >&2; status=1; }
wait $em_pid || { echo "build-wasm: Emscripten build failed:" >&2; tail -40 "$B/em.log" >&2; status=1; }
[ $status -eq 0 ] || exit $status

cp "$wasi_dir/switchyard.wasi.wasm" "$OUT/switchyard.wasi.wasm"
cp "$B/em/switchyard.wasm" "$OUT/switchyard.wasm"
echo "build-wasm: wrote $OUT/switchyard.wasm (Emscripten) and $OUT/switchyard.wasi.wasm (${WASI_SDK_PATH:-clang-14 + wasi-libc})"
