#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan) and runs each from its
# seed corpus: for $1 seconds (default 10) to explore, or, with
# SY_FUZZ_RUNS=N, for exactly N inputs from a fixed seed, which is what the
# test command uses: a bounded stage of nearly the same inputs everywhere
# (not exactly: libFuzzer lets the values it sees compared steer some
# mutations, so two runs part after some thousands of inputs). A finding is
# written to build/fuzz/crash-*; it goes, once fixed, into fuzz/corpus/ so
# every later run replays it. New inputs go to a scratch directory, not into
# the committed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
cmake -S . -B build/fuzz -DSY_FUZZ=ON -DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/fuzz -j2 >/dev/null
for t in fuzz/fuzz_*.c; do
  name=$(basename "$t" .c)
  work=$(mktemp -d)
  cp fuzz/corpus/"${name#fuzz_}"/* "$work"/
  runs=${SY_FUZZ_RUNS:-}
  # fuzz_router drives a whole router per input (about 2,300 inputs/s here
  # with ASan and UBSan, against tens of thousands for the parsers): it
  # takes a tenth of the count, so the stage stays short.
  if [ -n "$runs" ] && [ "$name" = fuzz_router ]; then runs=$((runs / 10)); fi
  if [ -n "$runs" ]; then limit=(-runs="$runs" -seed=1); else limit=(-max_total_time="$SECS"); fi
  build/fuzz/"$name" "${limit[@]}" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix=build/fuzz/ "$work" 2>&1 |
    grep -E 'stat::number_of_executed_units|stat::new_units_added|ERROR|SUMMARY' | sed "s/^/$name: /"
  rm -rf "$work"
done
