#!/usr/bin/env bash
# Builds both wasm modules into a directory (default: wasm/):
#   switchyard.wasm        Emscripten, standalone: the one the package ships
#   switchyard.wasi.wasm   clang-14 + wasi-libc (or a wasi-sdk at WASI_SDK_PATH)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(realpath -m "${1:-wasm}")
mkdir -p "$OUT"
bash scripts/fetch-cjson.sh
# Debian's emcc runs Node tools that need Debian's node modules.
export NODE_PATH=/usr/share/nodejs
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cmake -S . -B "$TMP/wasi" -DCMAKE_TOOLCHAIN_FILE=cmake/wasi-clang14.cmake \
  -DCMAKE_BUILD_TYPE=MinSizeRel >/dev/null
cmake --build "$TMP/wasi" >/dev/null
emcmake cmake -S . -B "$TMP/em" -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node >/dev/null
cmake --build "$TMP/em" >/dev/null 2>&1 || cmake --build "$TMP/em"
cp "$TMP/wasi/switchyard.wasi.wasm" "$OUT/switchyard.wasi.wasm"
cp "$TMP/em/switchyard.wasm" "$OUT/switchyard.wasm"
