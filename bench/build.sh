#!/usr/bin/env bash
# Builds bench/core_bench natively: the core's sources (src/*.c without the
# wasm-only files, as CMakeLists.txt globs them) + cJSON from build/cjson
# (scripts/fetch-cjson.sh), -O2, no sanitizers, into build/bench/core_bench.
# -g keeps symbols for callgrind; it does not change the code generated.
#
# BENCH_SRC_REV=<git rev> builds the core as committed at that revision
# (extracted into build/bench/src-<rev>) instead of the working tree's src/,
# e.g. BENCH_SRC_REV=HEAD while src/ is mid-edit.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-cc}
OUT=build/bench
mkdir -p "$OUT"
[ -f build/cjson/cJSON.c ] || bash scripts/fetch-cjson.sh
SRC=src
if [ -n "${BENCH_SRC_REV:-}" ]; then
  rev=$(git rev-parse --short "$BENCH_SRC_REV")
  SRC=$OUT/src-$rev
  rm -rf "$SRC" && mkdir -p "$SRC"
  git archive "$rev" src | tar -x -C "$SRC" --strip-components=1
fi
SRCS=()
for f in "$SRC"/*.c; do
  case "$f" in */host_wasm.c | */wasi_stubs.c) continue ;; esac
  SRCS+=("$f")
done
WARN=(-Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes)
OPT=(-std=c11 -O2 -g -DNDEBUG)
# cJSON is third-party: compiled with warnings off, as the CMake build does.
"$CC" "${OPT[@]}" -w -c build/cjson/cJSON.c -o "$OUT/cJSON.o"
"$CC" "${OPT[@]}" "${WARN[@]}" -I"$SRC" -Ibuild/cjson "${SRCS[@]}" bench/core_bench.c \
  "$OUT/cJSON.o" -lm -o "$OUT/core_bench"
echo "built $OUT/core_bench from $SRC${rev:+ (at $rev)} ($CC ${OPT[*]})" >&2
