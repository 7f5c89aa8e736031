#!/usr/bin/env bash
# The test command (npm test): installs what is missing, builds, and runs
# every test: C unit suites (ASan+UBSan), a short fuzz run of the parsers,
# the wasm reproducibility check,
# then the JS tests, which include the spec cases on native and both wasm
# builds.
set -euo pipefail
cd "$(dirname "$0")/.."
stage() { printf '\n== %s\n' "$*"; }

stage "dependencies"
bash scripts/install-deps.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi
bash scripts/fetch-cjson.sh 2>&1 | grep -v -E '^gpgv|dpkg-source: warning' || true

stage "native build (ASan + UBSan)"
cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/native -j2 >/dev/null

stage "C unit tests"
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=halt_on_error=1 build/native/sy_unit

stage "fuzzing the parsers (300,000 fixed-seed inputs each; to explore: scripts/fuzz.sh 600)"
SY_FUZZ_RUNS=300000 bash scripts/fuzz.sh

stage "wasm modules are reproducible"
bash scripts/check-wasm.sh 2>&1 | grep -v -E '^gpgv|dpkg-source: warning|^configure:'

stage "JS tests (node --test)"
SY_SPEC_BIN=build/native/sy_spec node --test tests/js/*.test.js
