#!/usr/bin/env bash
# The core's decision cost, in one run (issues 5 and 8): for N = 1, 10, 100,
# 1000 deployments in one group and each routing strategy,
#   1. native ns per routed request   (bench/core_bench.c, -O2)  -> results/core-native.json
#   2. callgrind instructions/request (bench/callgrind.sh)       -> results/core-callgrind.json
#   3. wasm µs per routed request     (bench/core-wasm.mjs)      -> results/core-wasm.json
# then one Markdown table (stdout and bench/results/core.md). About 2-3 minutes
# on a 2-core machine. Strategies the config parser rejects are skipped.
# Native and wasm measure the same core: the working tree's src/, the wasm
# built by bench/build-wasm.sh into build/bench/em (wasm/ is not touched).
#   env: BENCH_WASM=shipped measures the committed wasm/switchyard.wasm instead;
#        BENCH_SRC_REV=<rev> builds the native core from that commit (see
#        build.sh), and then the wasm is the shipped one;
#        QUICK=1 runs a tenth of the requests (a smoke run, numbers less stable).
set -euo pipefail
cd "$(dirname "$0")/.."
R=bench/results
mkdir -p "$R"
K=20000 KL=2000
[ -n "${QUICK:-}" ] && K=2000 KL=200
t0=$(date +%s)

bash bench/build.sh
WASM=wasm/switchyard.wasm
if [ -z "${BENCH_SRC_REV:-}" ] && [ "${BENCH_WASM:-src}" != shipped ]; then
  bash bench/build-wasm.sh
  WASM=build/bench/em/switchyard.wasm
fi
echo "== native ($K requests for N <= 100, $KL for N = 1000; median of 3)" >&2
build/bench/core_bench --requests "$K" --requests-large "$KL" --repeat 3 --out "$R/core-native.json" >&2
echo "== callgrind" >&2
bash bench/callgrind.sh "$R/core-callgrind.json" >&2
echo "== wasm (node $(node --version))" >&2
node bench/core-wasm.mjs --requests "$K" --requests-large "$KL" --repeat 3 --wasm "$WASM" \
  --out "$R/core-wasm.json" >&2

rev=$(git rev-parse --short HEAD)
if [ -n "${BENCH_SRC_REV:-}" ]; then
  src="native core at $(git rev-parse --short "$BENCH_SRC_REV")"
elif git diff --quiet HEAD -- src; then
  src="core at $rev"
else
  src="core at $rev + uncommitted changes in src/"
fi
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "== summary ($(($(date +%s) - t0)) s)" >&2
node bench/report-core.mjs "$R" \
  --meta "Core decision cost, $(date -u +%Y-%m-%d), $src (wasm: $WASM); $cpu, $(nproc) cores; $(cc --version | head -1); node $(node --version)." \
  --meta "One routed request = begin -> deliver of a non-streamed chat completion answered 200 at once by the bench's host; see bench/README.md."
