#!/usr/bin/env bash
# Builds the Emscripten module (the one the package ships) from the working
# tree's src/ into build/bench/em/switchyard.wasm, with the project's own
# CMakeLists.txt in a build tree of the bench's: wasm/ is never written.
# bench/core-wasm.mjs --wasm build/bench/em/switchyard.wasm measures it.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/bench/em
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH} # Debian's emcc needs acorn
mkdir -p "$B"
if ! { emcmake cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DCMAKE_CROSSCOMPILING_EMULATOR=/usr/bin/node && cmake --build "$B" -j2 --target switchyard; } \
  >"$B/build.log" 2>&1; then
  tail -30 "$B/build.log" >&2
  echo "build-wasm: Emscripten build failed (log: $B/build.log)" >&2
  exit 1
fi
echo "built $B/switchyard.wasm ($(stat -c %s "$B/switchyard.wasm") bytes) from src/" >&2
