#!/usr/bin/env bash
# Instructions per routed request, counted by valgrind --tool=callgrind on
# the native bench (build/bench/core_bench, -O2): for each strategy and N,
# one run of W warm-up requests + K measured ones and one of the W warm-up
# requests alone (K = 200, W = 20; for N > 100, K = 250, W = 2000). The
# warm-up leaves each of the 1000 deployments about as many past requests
# as N = 100 leaves each of its 100, about 2: the latency and load a
# strategy reads, and so its ties, are then alike, and the decision counts
# of N = 100 and 1000 compare (after 25 requests most of 1000 had none, all
# tied, one draw each, 5 % more per decision). K = 250 requests span about
# one second of the virtual clock (4 ms each), the age after which the
# store's copy reads every candidate's keys again (src/health.h): fewer
# would count that refresh whole or not at all (K = 20: 91,000 instructions
# per request more, or none);
# (Ir(W+K) - Ir(W)) / K is the count per request, router
# creation, config parsing and warm-up cancelled out. Deterministic (virtual
# clock, fixed seed), so the figure does not depend on the machine's load.
# host_ir_per_request is the part spent in the bench's own host callbacks
# (h_*: kv store, fetch queue, deliver), inclusive of what they call.
# ir_per_decision: the K-run also makes K decisions alone (sy_router_route,
# as `router.route()`) after its requests, counted by that function's
# inclusive instructions and left out of the request's count.
#
#   bench/callgrind.sh [OUT.json]     env: CG_REQUESTS (200) CG_WARMUP (20)
#     CG_REQUESTS_LARGE (250) CG_WARMUP_LARGE (2000) CG_STRATEGIES (comma list)
#     CG_SIZES (1,10,100,1000)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-bench/results/core-callgrind.json}
K_SMALL=${CG_REQUESTS:-200}
W_SMALL=${CG_WARMUP:-20}
K_LARGE=${CG_REQUESTS_LARGE:-250}
W_LARGE=${CG_WARMUP_LARGE:-2000}
STRATEGIES=${CG_STRATEGIES:-simple-shuffle,usage-based-routing,usage-based-routing-v2,least-busy,latency-based-routing,cost-based-routing,p2c-peak-ewma}
SIZES=${CG_SIZES:-1,10,100,1000}
BIN=build/bench/core_bench
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not installed" >&2; exit 1; }
[ -x "$BIN" ] || bash bench/build.sh
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$(dirname "$OUT")"

# Ir total of one run; sets SKIP when the config was rejected. $3 = requests.
run() {
  local tag=$1 n=$2 k=$3
  local f=$TMP/cg.$tag.$n.$k
  valgrind --tool=callgrind --callgrind-out-file="$f" "$BIN" --one "$tag" "$n" \
    --requests "$k" --warmup "$W" --decisions "$k" >"$f.stdout" 2>"$f.log"
  if grep -q '"skipped"' "$f.stdout"; then
    SKIP=$(sed -E 's/.*"skipped":"(.*)"\}$/\1/' "$f.stdout")
    return
  fi
  IR=$(sed -n 's/^summary: *//p' "$f")
  # Inclusive Ir of the bench host's callbacks (they never nest in each other).
  local incl # one line per function (--auto=no: no annotated sources, whose call lines repeat the counts)
  incl=$(callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$f" 2>/dev/null)
  HOST=$(awk '/core_bench\.c:h_[a-z_]+ /{gsub(",","",$1); s+=$1} END{print s+0}' <<<"$incl")
  # The decisions alone, after the requests: sy_router_route with all it calls.
  DECIDE=$(awk '/request\.c:sy_router_route /{gsub(",","",$1); s+=$1} END{print s+0}' <<<"$incl")
}

printf '| strategy | N | instructions/request | of which bench host | instructions/decision |\n|---|---:|---:|---:|---:|\n'
J=$TMP/json
echo "{\"bench\":\"core-callgrind\",\"unit\":\"instructions (Ir) per routed request\",\"results\":[" >"$J"
sep=
IFS=, read -ra SL <<<"$STRATEGIES"
IFS=, read -ra NL <<<"$SIZES"
for s in "${SL[@]}"; do
  for n in "${NL[@]}"; do
    SKIP=
    if [ "$n" -le 100 ]; then K=$K_SMALL W=$W_SMALL; else K=$K_LARGE W=$W_LARGE; fi
    run "$s" "$n" 0
    if [ -n "$SKIP" ]; then
      echo "callgrind.sh: skipped $s (N=$n): $SKIP" >&2
      printf '| %s | %s | skipped: config rejected | |\n' "$s" "$n"
      echo "$sep{\"strategy\":\"$s\",\"n\":$n,\"skipped\":\"$SKIP\"}" >>"$J"
    else
      IR0=$IR HOST0=$HOST
      run "$s" "$n" "$K"
      # The decisions ran after the requests: their count is taken out of the request's.
      per=$(((IR - IR0 - DECIDE) / K))
      host=$(((HOST - HOST0) / K))
      decide=$((DECIDE / K))
      printf '| %s | %s | %s | %s | %s |\n' "$s" "$n" "$per" "$host" "$decide"
      echo "$sep{\"strategy\":\"$s\",\"n\":$n,\"requests\":$K,\"warmup\":$W,\"ir_per_request\":$per,\"host_ir_per_request\":$host,\"ir_per_decision\":$decide,\"ir_baseline\":$IR0,\"ir_total\":$IR}" >>"$J"
    fi
    sep=,
  done
done
echo "]}" >>"$J"
cp "$J" "$OUT"
echo "callgrind.sh: wrote $OUT" >&2
