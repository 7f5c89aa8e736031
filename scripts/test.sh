#!/usr/bin/env bash
# The test command (npm test; .ci/run in CI). From a fresh Debian machine it
# installs what is missing, builds, and runs every test:
#   C unit suites (native, ASan + UBSan), the deterministic simulation
#   (tests/sim/sim.c, thousands of seeds), fixed-seed fuzzing of the parsers,
#   the wasm check (a fresh build must equal the committed wasm/*.wasm and
#   import only sy_host), then the JS tests, which include the spec cases on
#   the native build and on both wasm builds.
# Each stage is quick when its work is already done. Exits non-zero on the
# first failure and names the stage.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
STAGE=start
stage() {
  STAGE=$*
  printf '\n== %s\n' "$*"
}
trap 'rc=$?; [ $rc -eq 0 ] || printf "\n== FAILED (exit %d) in stage: %s\n" $rc "$STAGE" >&2' EXIT

stage "dependencies: Debian packages, npm packages, cJSON source"
bash scripts/install-deps.sh
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  echo "npm: node_modules up to date with package-lock.json"
fi
bash scripts/fetch-cjson.sh

stage "native build (C11, -Werror, ASan + UBSan)"
cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Debug -DSY_SANITIZE=ON >/dev/null
cmake --build build/native -j2 >/dev/null

stage "C unit tests (ctest: sy_unit)"
if ! ctest --test-dir build/native --output-on-failure >build/native/ctest.log 2>&1; then
  cat build/native/ctest.log
  exit 1
fi
grep -hE '^(suite|[0-9]+ passed)' build/native/Testing/Temporary/LastTest.log || true
grep -E 'tests passed' build/native/ctest.log

stage "deterministic simulation (sy_sim: 2,000 seeds of configs, workloads and faults, invariants after each)"
# A failing seed is printed with its replay command:
#   build/native/sy_sim --seed S --verbose
ASAN_OPTIONS=malloc_context_size=0 build/native/sy_sim --seeds 0:2000 --jobs 2

stage "fuzzing the parsers (300,000 fixed-seed inputs each) and the router (30,000); to explore: scripts/fuzz.sh 600"
SY_FUZZ_RUNS=300000 bash scripts/fuzz.sh

stage "wasm: fresh builds equal the committed modules"
bash scripts/check-wasm.sh

stage "JS tests (node --test)"
shopt -s nullglob
js_tests=(tests/js/*.test.js)
[ ${#js_tests[@]} -gt 0 ] || { echo "no tests/js/*.test.js found" >&2; exit 1; }
SY_SPEC_BIN=build/native/sy_spec node --test "${js_tests[@]}"

STAGE=done
printf '\n== all tests passed (%d s)\n' "$SECONDS"
