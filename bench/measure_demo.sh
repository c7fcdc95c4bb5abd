#!/usr/bin/env bash
# The demo's settings at 10,000 jobs, measured: a private Redis, the sandbox
# with 20 ms latency and 1 % of Graph requests answered 503 + Retry-After,
# 12 senders, every 50th job invalid, every ACS_EVERY-th job through ACS
# (0 = Graph only). Prints the gateway's wall time, CPU seconds (user+sys),
# peak RSS, the result summary and the sandbox's counters.
#   cmake --build build && bench/measure_demo.sh            (Graph only)
#   ACS_EVERY=4 bench/measure_demo.sh                       (a Graph/ACS mix)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export SG_BIN_DIR=${SG_BIN_DIR:-$here/build/gateway} SG_TOOLS_DIR=${SG_TOOLS_DIR:-$here/build/tests}
. "$here/tests/integration/lib.sh"
N=${N:-10000}
start_redis
start_sandbox --set faults.latency_ms=20 --set faults.rate_503=0.01 --set faults.retry_after_s=0.5 \
  --set acs.sends_per_minute=0 --set acs.sends_per_hour=0 --set acs.status_per_minute=0 \
  --set acs.status_per_hour=0 --set acs.op_step_ms=100
queue_jobs "$N" --senders 12 --invalid-every 50 --acs-every "${ACS_EVERY:-0}" --prefix m
t0=$(date +%s%N)
start_gateway SENDGATE_ACS_SENDS_PER_MINUTE=0 SENDGATE_ACS_SENDS_PER_HOUR=0 \
  SENDGATE_ACS_POLLS_PER_MINUTE=0 SENDGATE_ACS_POLLS_PER_HOUR=0
wait_results "$N" 600
t1=$(date +%s%N)
read -r ut st < <(awk '{print $14, $15}' "/proc/$GATEWAY_PID/stat")
tck=$(getconf CLK_TCK)
echo "jobs $N"
echo "wall_ms $(( (t1 - t0) / 1000000 ))"
echo "gateway_cpu_s $(awk -v u="$ut" -v s="$st" -v t="$tck" 'BEGIN {printf "%.2f", (u + s) / t}')"
echo "gateway_peak_rss_kb $(awk '/VmHWM/ {print $2}' "/proc/$GATEWAY_PID/status")"
summary results >/dev/null
cat "$T/summary.txt"
curl -s --cacert "$CA" "$SBX/sandbox/stats" | jq -c '{requests, graph_accepted, acs_accepted,
  acs_polls, acs_repeats, throttled_graph, throttled_acs, token_requests, duplicates,
  retry_after_violations, faults_503: .faults["503"]}'
stop_gateway
finish
