#!/usr/bin/env bash
# npm run bench (issue 8): every benchmark in one run, about 9.5 minutes on a
# 2-core machine, each part bounded in time:
#   1. core decision cost       bash bench/run-core.sh          -> results/core-*.json, core.md
#   2. gateway overhead         node bench/gateway/bench.mjs    -> results/gateway.json
#      direct / node pass-through (fetch; http.request) / switchyard / portkey (pinned in
#      bench/gateway/package.json, installed there with npm ci on first run)
#   3. size and memory          node bench/size-memory.mjs      -> results/size-memory.json
# then bench/report.mjs writes results/summary.md and results/plots/*.svg and
# prints the summary. Everything listens on 127.0.0.1 only; every process a
# part starts is stopped by that part (and by the trap here, by PID).
#   env: QUICK=1        a smoke run (~2 min): a tenth of the core's requests,
#                       2 gateway rounds of 3 s, no profile, 20,000 requests in size-memory
#        PARTS="core gateway size"   the parts to run (the summary uses whatever JSON is there)
#        ROUNDS, DURATION, CONNECTIONS, PROFILE (s, 0 = none)   gateway settings
#        INSTRUCTIONS (requests counted under callgrind, 0 = none; 2000, QUICK 500)
#        BENCH_WASM, BENCH_SRC_REV  passed to run-core.sh (see bench/README.md)
set -uo pipefail
cd "$(dirname "$0")/.."
R=bench/results
mkdir -p "$R"
PARTS="${PARTS:-core gateway size}"
if [ -n "${QUICK:-}" ]; then
  ROUNDS="${ROUNDS:-2}" DURATION="${DURATION:-3}" PROFILE="${PROFILE:-0}" REQUESTS=20000 INSTRUCTIONS="${INSTRUCTIONS:-500}"
else
  ROUNDS="${ROUNDS:-4}" DURATION="${DURATION:-8}" PROFILE="${PROFILE:-10}" REQUESTS=100000 INSTRUCTIONS="${INSTRUCTIONS:-2000}"
fi
CONNECTIONS="${CONNECTIONS:-50}"
t0=$(date +%s)
# The aggregate cpu line of /proc/stat: its 8th figure is time stolen by the
# hypervisor, which on a shared VM slows every figure here (said in the summary).
stat0=$(head -1 /proc/stat)
failed=""

PART_PID=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$PART_PID" ] && kill -0 "$PART_PID" 2>/dev/null; then
    kill -TERM "$PART_PID" 2>/dev/null  # timeout(1) passes it on; each part stops its own servers
    for _ in $(seq 1 50); do kill -0 "$PART_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PART_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM

# run LIMIT_S NAME CMD...: one part, in the background so the trap can stop it, within LIMIT_S seconds.
run() {
  local limit="$1" name="$2"; shift 2
  echo "== $name (at most ${limit}s)" >&2
  local s=$(date +%s)
  timeout -k 10 "$limit" "$@" &
  PART_PID=$!
  wait "$PART_PID"
  local rc=$?
  PART_PID=""
  if [ "$rc" -ne 0 ]; then
    echo "bench: $name failed (exit $rc$([ "$rc" -eq 124 ] && echo ': time limit'))" >&2
    failed="$failed $name"
  fi
  echo "== $name: $(($(date +%s) - s)) s" >&2
}

for part in $PARTS; do
  case "$part" in
    core) run 420 core bash bench/run-core.sh ;;
    gateway)
      # The gateway bench's own tools (autocannon, Portkey), pinned; installed once.
      if [ ! -d bench/gateway/node_modules/@portkey-ai/gateway ] || [ ! -d bench/gateway/node_modules/autocannon ] ||
         [ bench/gateway/package-lock.json -nt bench/gateway/node_modules/.package-lock.json ]; then
        echo "== npm ci in bench/gateway (autocannon, @portkey-ai/gateway; scripts not run)" >&2
        (cd bench/gateway && timeout 300 npm ci --ignore-scripts --no-audit --no-fund >&2) || { failed="$failed gateway-install"; continue; }
      fi
      # Counting instructions: about 35 s per target for 2,000 requests, valgrind's start included.
      budget=$(( ROUNDS * 5 * (DURATION + 6) + (PROFILE > 0 ? 2 * (PROFILE + 15) : 0) + (INSTRUCTIONS > 0 ? 30 + INSTRUCTIONS / 20 : 0) + 90 ))
      run $((budget + 30)) gateway node bench/gateway/bench.mjs --rounds "$ROUNDS" --duration "$DURATION" \
        --connections "$CONNECTIONS" --profile "$PROFILE" --instructions "$INSTRUCTIONS" --budget "$budget" --out "$R/gateway.json" ;;
    size) run 200 size-memory node bench/size-memory.mjs --requests "$REQUESTS" --out "$R/size-memory.json" ;;
    chaos) [ -d bench/gateway/node_modules/@portkey-ai/gateway ] || (cd bench/gateway && timeout 300 npm ci --ignore-scripts --no-audit --no-fund >&2); run 1560 chaos node bench/chaos/run.mjs --budget 1500 --out "$R/chaos.json" --md "$R/chaos.md" ;;  # issue 6 (~11 min, opt-in: PARTS=chaos; Portkey from bench/gateway's pins)
    *) echo "bench: unknown part $part (core, gateway, size)" >&2; failed="$failed $part" ;;
  esac
done

rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
dirty=$(git status --porcelain -- src js wasm 2>/dev/null | wc -l)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
steal=$(printf '%s\n%s\n' "$stat0" "$(head -1 /proc/stat)" | awk '{t = 0; for (i = 2; i <= 9; i++) t += $i; if (NR == 1) { t0 = t; s0 = $9 } else printf "%.1f", (t > t0 ? 100 * ($9 - s0) / (t - t0) : 0)}')
node bench/report.mjs "$R" \
  --meta "$(date -u '+%Y-%m-%d %H:%M UTC'), switchyard at $rev$([ "$dirty" -gt 0 ] && echo " with $dirty uncommitted change(s) in src/, js/ or wasm/"); $(nproc) CPUs: $cpu; node $(node --version); load average at the end $(cut -d' ' -f1-3 /proc/loadavg); CPU time stolen by the hypervisor during the run ${steal} %." \
  --meta "Parts: $PARTS$([ -n "${QUICK:-}" ] && echo ' (QUICK: a smoke run, figures less stable)'); the whole run took $(($(date +%s) - t0)) s."
if [ -n "$failed" ]; then
  echo "bench: failed:$failed" >&2
  exit 1
fi
