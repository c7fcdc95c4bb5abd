#!/usr/bin/env bash
# The sendgate benchmark (DESIGN.md §8): one command that measures the gateway
# next to the transport ceiling on this machine. For each sandbox latency
# (0 ms and --latency-ms, default 50) it starts a private redis-server (AOF,
# fsync everysec, as in production), sendgate-sandbox with every limit off,
# and `sendgate run` with no limits, then:
#   1. saturation: sendgate-loadgen queues --count jobs as fast as it can;
#      end-to-end messages/s, gateway and redis-server CPU (utime+stime
#      from /proc) per message, peak RSS (VmHWM) and peak jobs in flight
#      (/metrics);
#   2. half rate: the same load paced at 50 % of the saturated rate; latency
#      percentiles (job created_unix_ms -> result read by the loadgen),
#      redis-server CPU per message, Redis used_memory after each run;
#   3. ceiling: h2load against the same sandbox Graph endpoint, with the
#      exact body the gateway sends for a loadgen job (sg-bench-body) and the
#      gateway's concurrency (4 connections x 256 streams); its requests/s
#      and its own CPU per request (/usr/bin/time);
#   4. ratios of the two.
# Writes results.md, results.json, bench.png (gnuplot, bench/plot.gp) and the
# .dat series into the results folder. --redis-compare also runs the same
# loadgen jobs against sg-plain-worker (one MULTI per job: result XADD, XACK)
# on a fresh redis-server with the same settings and compares Redis's CPU per
# message. --soak N RATE instead runs N jobs at RATE/s (sandbox latency 0)
# and samples the gateway's RSS each second.
# Loopback only; every wait is bounded; stops everything it started.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() {
  cat <<EOF
usage: bench/run.sh [options]
  --build DIR        build tree (default: \$SG_BUILD_DIR or $here/../build); binaries
                     from DIR/gateway and DIR/bench
  --out DIR          results folder (default: bench/results/<UTC date-time>)
  --count N          jobs in the saturation run (default 200000)
  --half-seconds S   duration of the half-rate run (default 10), after its warm-up
  --aof yes|no       Redis append-only file (default yes, everysec, as in production;
                     no shows what the AOF costs the latency tail)
  --redis-conf "NAME VALUE"
                     one more redis-server setting (repeatable), e.g. your production
                     Redis's "auto-aof-rewrite-percentage 200"; recorded in results.json
  --half-rate R      pace the half-rate run at R jobs/s instead of half the saturated
                     rate (to compare two builds at the same load)
  --half-warmup S    the half-rate run's first S seconds (default 1) are a warm-up:
                     sent and checked, latency reported apart (half_rate.warmup)
  --h2load-n N       h2load requests (default: same as --count)
  --latency-ms L     the second run's sandbox latency (default 50; 0 = only one run)
  --senders N        distinct sender mailboxes (default 100)
  --token-length N   characters of the sandbox's access tokens (default: the sandbox's
                     1,300, about what Entra issues; 43 was its size before, for figures
                     comparable with older runs); h2load sends the same token
  --ledger-slots N   the gateway's gateway.ledger_slots (default: sized by the README's
                     rule for this run's volume, 2 x --count / 64 rounded up to a power
                     of two, at least 1024, as an operator sizes it for a steady state;
                     131072, the gateway's default, shows a ledger this run fills to 1 %:
                     the first write to each bucket then carries its EXPIREAT)
  --sample S         seconds between samples of throughput, RSS, in flight (default 0.5)
  --soak N RATE      soak mode: N jobs at RATE/s, RSS sampled every --sample s
  --perf             perf record -g the gateway during the first saturation run
                     (perf.data, perf-top.txt; its CPU figures are then inflated)
  --wrap "CMD"       run the gateway under CMD (split on spaces), e.g.
                     "valgrind --tool=callgrind --callgrind-out-file=/tmp/gw.cg" to
                     count instructions per message; every CPU figure is then CMD's
  --wrap-h2load "CMD" run h2load under CMD, e.g. "valgrind --tool=callgrind
                     --callgrind-out-file=/tmp/h2.cg" (two runs with different
                     --h2load-n: the difference over the difference of requests is
                     h2load's instructions per request without its start-up)
  --redis-compare    also run the same warm-up and --count jobs from the same loadgen
                     against sg-plain-worker (one MULTI: result XADD + XACK per job, no
                     HTTP) on a fresh redis-server with the same settings, and compare
                     Redis CPU per message with the 0 ms run's saturation run
  --backend smtp     the SMTP egress benchmark instead (bench/smtp_egress.sh: an
                     exchange_smtp account against the sandbox's SMTP host, next to
                     Graph); options after it are smtp_egress.sh's
  --help
EOF
}

BUILD=${SG_BUILD_DIR:-$here/../build}
OUT=
COUNT=200000
HALF_S=10
HALF_WARM=1
HALF_RATE=
AOF=yes
H2N=
LAT=50
TOKEN_LEN=
SENDERS=100
SLOTS=
SAMPLE=0.5
PERF=0
PERF_PID=
WRAP=()
H2WRAP=()
SOAK_N=
SOAK_RATE=
COMPARE=0
REDIS_CONF=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --count) COUNT=$2; shift 2 ;;
    --half-seconds) HALF_S=$2; shift 2 ;;
    --half-warmup) HALF_WARM=$2; shift 2 ;;
    --half-rate) HALF_RATE=$2; shift 2 ;;
    --aof) AOF=$2; shift 2 ;;
    --redis-conf) REDIS_CONF+=("--${2%% *}" "${2#* }"); shift 2 ;;
    --h2load-n) H2N=$2; shift 2 ;;
    --latency-ms) LAT=$2; shift 2 ;;
    --senders) SENDERS=$2; shift 2 ;;
    --token-length) TOKEN_LEN=$2; shift 2 ;;
    --ledger-slots) SLOTS=$2; shift 2 ;;
    --sample) SAMPLE=$2; shift 2 ;;
    --perf) PERF=1; shift ;;
    --wrap) read -r -a WRAP <<<"$2"; shift 2 ;;
    --wrap-h2load) read -r -a H2WRAP <<<"$2"; shift 2 ;;
    --redis-compare) COMPARE=1; shift ;;
    --soak) SOAK_N=$2; SOAK_RATE=$3; shift 3 ;;
    --backend)
      # SMTP egress: bench/smtp_egress.sh (the options after --backend smtp are its own)
      [ "$2" = smtp ] && { shift 2; exec "$here/smtp_egress.sh" --build "$BUILD" --count "$COUNT" "$@"; }
      [ "$2" = graph ] || { echo "run.sh: --backend graph or smtp" >&2; exit 2; }
      shift 2 ;;
    --help | -h) usage; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
H2N=${H2N:-$COUNT}
if [ -z "$SLOTS" ]; then
  SLOTS=1024
  while [ "$SLOTS" -lt $((2 * COUNT / 64)) ]; do SLOTS=$((SLOTS * 2)); done
fi
BUILD=$(cd "$BUILD" && pwd)
SANDBOX=$BUILD/gateway/sendgate-sandbox
SENDGATE=$BUILD/gateway/sendgate
LOADGEN=$BUILD/bench/sendgate-loadgen
BODYTOOL=$BUILD/bench/sg-bench-body
PLAIN=$BUILD/bench/sg-plain-worker
need=("$SANDBOX" "$SENDGATE" "$LOADGEN" "$BODYTOOL")
[ "$COMPARE" = 1 ] && need+=("$PLAIN")
for b in "${need[@]}"; do
  [ -x "$b" ] || { echo "run.sh: no $b (build first, or pass --build)" >&2; exit 2; }
done
for tool in redis-server redis-cli h2load curl jq gnuplot python3 awk /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 2; }
done
OUT=${OUT:-$here/results/$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
W=$(mktemp -d /tmp/sg-bench.XXXXXX)
HZ=$(getconf CLK_TCK)
PIDS=()
SAMPLER_PID=

log() { echo "bench: $*" >&2; }
cleanup() {
  local rc=$?
  [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null || true
  [ -n "$PERF_PID" ] && kill -INT "$PERF_PID" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    echo "bench failed; logs kept in $W" >&2
    for f in "$W"/*/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  elif [ -n "${BENCH_KEEP:-}" ]; then
    echo "logs kept in $W" >&2
  else
    rm -rf "$W"
  fi
}
trap cleanup EXIT

# wait_for CMD...: retries CMD every 0.05 s for up to 20 s.
wait_for() {
  local i
  for i in $(seq 1 400); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.05
  done
  echo "timed out waiting for: $*" >&2
  return 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime; comm has no spaces
child_ticks() { awk '{print $16 + $17}' "/proc/$1/stat"; } # cutime + cstime: reaped children (Redis's AOF rewrites)
vm_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
redis_info() { redis-cli -p "$REDIS_PORT" info all 2>/dev/null | tr -d '\r' | awk -F: -v k="$1" '$1 == k {print $2}'; }
# result_bytes: the mean size of the last (up to) 1,000 result payloads on sendgate:results.
result_bytes() {
  redis-cli -p "$REDIS_PORT" eval "local r = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1000)
    local t = 0
    for _, e in ipairs(r) do for i = 1, #e[2], 2 do if e[2][i] == 'result' then t = t + #e[2][i + 1] end end end
    return tostring(#r > 0 and t / #r or 0)" 1 sendgate:results 2>/dev/null | grep -E '^[0-9.]+$' || echo 0
}
metric() { curl -sf --max-time 2 "http://127.0.0.1:$MPORT/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# start_redis DIR: a fresh private redis-server in DIR/redis with the benchmark's
# settings (the same for every run); sets REDIS_PORT, REDIS_PID and exports
# SENDGATE_REDIS_URL (for the gateway and the loadgen).
start_redis() {
  local d=$1
  mkdir -p "$d/redis"
  REDIS_PORT=$(free_port)
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$d/redis" --save '' \
    --appendonly "$AOF" --appendfsync everysec --latency-monitor-threshold 5 "${REDIS_CONF[@]}" --daemonize no >"$d/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_for redis-cli -p "$REDIS_PORT" ping
  export SENDGATE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
}

# start_stack DIR LATENCY_MS: redis + sandbox + gateway in DIR; sets REDIS_PORT,
# REDIS_PID, SBX_PID, GW_PID, MPORT, CA, SBX and sources the sandbox's env lines.
start_stack() {
  local d=$1 lat=$2
  start_redis "$d"
  "$SANDBOX" --listen 127.0.0.1:0 --state-dir "$d/sandbox" --env-file "$d/sandbox.env" \
    --log-level error \
    --set graph.mailbox_concurrency=0 --set graph.mailbox_requests=0 \
    --set graph.mailbox_recipients_per_day=0 --set record.file=off --set record.memory=0 \
    --set faults.latency_ms="$lat" ${TOKEN_LEN:+--set entra.token_length="$TOKEN_LEN"} \
    >"$d/sandbox.out" 2>"$d/sandbox.log" &
  SBX_PID=$!
  PIDS+=("$SBX_PID")
  wait_for test -s "$d/sandbox.env"
  set -a
  . "$d/sandbox.env"
  set +a
  CA=$SENDGATE_TLS_CA_FILE
  SBX=$SENDGATE_SANDBOX_URL
  MPORT=$(free_port)
  env SENDGATE_HTTP_LISTEN="127.0.0.1:$MPORT" SENDGATE_GATEWAY_CONSUMER=bench \
    SENDGATE_LOG_LEVEL=warn \
    SENDGATE_GRAPH_MAILBOX_CONCURRENCY=0 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
    SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 SENDGATE_GATEWAY_MAX_IN_FLIGHT=10000 \
    SENDGATE_GATEWAY_LEDGER_SLOTS="$SLOTS" ${WRAP[@]+"${WRAP[@]}"} "$SENDGATE" run >"$d/gateway.out" 2>"$d/gateway.log" &
  GW_PID=$!
  PIDS+=("$GW_PID")
  wait_for curl -sf "http://127.0.0.1:$MPORT/readyz"
}

# stop_stack: SIGTERM to gateway, sandbox and redis; bounded wait.
stop_stack() {
  local p i
  for p in "$GW_PID" "$SBX_PID" "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do
    for i in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  PIDS=()
}

# sample FILE T0: appends "<s since T0> <gateway RSS MB> <jobs in flight>" to FILE.
sample() {
  local rss inf now
  rss=$(vm_kb "$GW_PID" VmRSS 2>/dev/null || echo 0)
  inf=$(metric sendgate_jobs_in_flight 2>/dev/null || true)
  now=$(date +%s.%N)
  awk -v a="$2" -v b="$now" -v r="${rss:-0}" -v i="${inf:-0}" \
    'BEGIN {printf "%.2f %.2f %d\n", b - a, r / 1024, i}' >>"$1"
}
# start_sampler FILE: a sample now and every $SAMPLE s (bounded: 200,000 samples).
start_sampler() {
  SAMPLE_T0=$(date +%s.%N)
  (
    for _ in $(seq 1 200000); do
      kill -0 "$GW_PID" 2>/dev/null || break
      sample "$1" "$SAMPLE_T0"
      sleep "$SAMPLE"
    done
  ) &
  SAMPLER_PID=$!
}
# stop_sampler FILE: stops the sampler and takes a last sample.
stop_sampler() {
  [ -n "$SAMPLER_PID" ] && { kill "$SAMPLER_PID" 2>/dev/null || true; wait "$SAMPLER_PID" 2>/dev/null || true; }
  SAMPLER_PID=
  sample "$1" "$SAMPLE_T0"
}

# loadgen RUN_ID OUTPREFIX [options]: JSON report in OUTPREFIX.json, progress in OUTPREFIX.progress.
loadgen() {
  local id=$1 pre=$2
  shift 2
  "$LOADGEN" --run-id "$id" --senders "$SENDERS" --producers 4 --pipeline 256 --json \
    --interval "$SAMPLE" --timeout 120 "$@" >"$pre.json" 2>"$pre.progress"
}
# progress_dat PREFIX: "<elapsed s> <completed/s>" per progress line ("0 0" when none).
progress_dat() {
  echo "0 0"
  sed -nE 's/^\[ *([0-9.]+)s\].*completed [0-9]+ \(([0-9]+)\/s\).*/\1 \2/p' "$1.progress"
}

# h2load_run DIR N: the ceiling against the sandbox running in DIR; writes DIR/h2load.json.
h2load_run() {
  local d=$1 n=$2 token path ctype
  token=$(curl -sf --cacert "$CA" \
    -d "grant_type=client_credentials&client_id=$SENDGATE_GRAPH_CLIENT_ID" \
    -d "client_secret=$SENDGATE_GRAPH_CLIENT_SECRET" \
    -d "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" \
    "$SENDGATE_LOGIN_URL/$SENDGATE_GRAPH_TENANT_ID/oauth2/v2.0/token" | jq -r .access_token)
  [ -n "$token" ] && [ "$token" != null ] || { echo "no token" >&2; return 1; }
  read -r path ctype < <("$BODYTOOL" "$d/body.json" 1 --senders "$SENDERS")
  local sb0 sb1
  sb0=$(cpu_ticks "$SBX_PID")
  /usr/bin/time -f "%U %S %M" -o "$d/h2load.time" ${H2WRAP[@]+"${H2WRAP[@]}"} \
    h2load -n "$n" -c 4 -m 256 -t 1 -d "$d/body.json" \
    -H "authorization: Bearer $token" -H "content-type: $ctype" \
    "${SBX}${path}" >"$d/h2load.out" 2>&1 || { cat "$d/h2load.out" >&2; return 1; }
  sb1=$(cpu_ticks "$SBX_PID")
  local rps ok user sys
  rps=$(sed -nE 's/^finished in .*, ([0-9.]+) req\/s.*/\1/p' "$d/h2load.out")
  ok=$(sed -nE 's/^status codes: ([0-9]+) 2xx.*/\1/p' "$d/h2load.out")
  read -r user sys _ <"$d/h2load.time"
  jq -n --argjson n "$n" --argjson rps "${rps:-0}" --argjson ok "${ok:-0}" \
    --argjson user "$user" --argjson sys "$sys" --argjson bytes "$(wc -c <"$d/body.json")" \
    --argjson sbx "$(((sb1 - sb0) * 1000000 / HZ))" --argjson tl "${#token}" \
    '{requests: $n, ok_2xx: $ok, token_length: $tl, req_per_s: $rps, body_bytes: $bytes, connections: 4,
      streams_per_connection: 256, cpu_s: ($user + $sys),
      cpu_us_per_req: (($user + $sys) * 1e6 / $n), sandbox_cpu_us_per_req: ($sbx / $n)}' \
    >"$d/h2load.json"
}

# scenario LAT: one full measurement with the sandbox at LAT ms; writes $OUT/run-LAT.json.
scenario() {
  local lat=$1 d="$W/lat$1"
  mkdir -p "$d"
  log "sandbox latency ${lat} ms: starting redis, sandbox, gateway"
  start_stack "$d" "$lat"
  loadgen warm "$d/warm" --count 2000 || { log "warm-up failed"; return 1; }
  local c0 c1 sat
  : >"$d/samples.dat"
  start_sampler "$d/samples.dat"
  log "saturation: $COUNT jobs"
  if [ "$PERF" = 1 ] && [ "$lat" = 0 ]; then
    perf record -F 499 -g -p "$GW_PID" -o "$OUT/perf.data" >"$d/perf.log" 2>&1 &
    PERF_PID=$!
  fi
  local r0 r1 rc0 rc1 mem_sat rbytes
  r0=$(cpu_ticks "$REDIS_PID")
  rc0=$(child_ticks "$REDIS_PID")
  c0=$(cpu_ticks "$GW_PID")
  loadgen sat "$d/sat" --count "$COUNT" || { log "saturation run failed"; return 1; }
  c1=$(cpu_ticks "$GW_PID")
  r1=$(cpu_ticks "$REDIS_PID")
  rc1=$(child_ticks "$REDIS_PID")
  if [ -n "$PERF_PID" ]; then
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
    PERF_PID=
    perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | head -40 >"$OUT/perf-top.txt" || true
  fi
  stop_sampler "$d/samples.dat"
  local hwm
  hwm=$(vm_kb "$GW_PID" VmHWM)
  sat=$(jq .throughput.completed_per_s "$d/sat.json")
  local half rw0 rw1
  half=${HALF_RATE:-$(awk -v s="$sat" 'BEGIN {printf "%d", s / 2}')}
  mem_sat=$(redis_info used_memory)
  rbytes=$(result_bytes)
  rw0=$(redis_info aof_rewrites)
  # Redis's per-command counters so far: the half-rate run's own are the
  # difference with those in redis-info-LAT.txt (written after it).
  redis-cli -p "$REDIS_PORT" info commandstats >"$OUT/redis-cmdstats-before-half-$lat.txt" 2>/dev/null || true
  log "half rate: $half/s for ${HALF_S}s"
  local h0 h1 hr0 hr1 hc0 hc1
  h0=$(cpu_ticks "$GW_PID")
  hr0=$(cpu_ticks "$REDIS_PID")
  hc0=$(child_ticks "$REDIS_PID")
  local warm=()
  if awk -v w="$HALF_WARM" 'BEGIN {exit !(w > 0)}'; then warm=(--warmup "$HALF_WARM"); fi
  loadgen half "$d/half" --rate "$half" \
    --duration "$(awk -v a="$HALF_S" -v b="$HALF_WARM" 'BEGIN {print a + b}')" "${warm[@]}" ||
    { log "half-rate run failed"; return 1; }
  hr1=$(cpu_ticks "$REDIS_PID")
  hc1=$(child_ticks "$REDIS_PID")
  h1=$(cpu_ticks "$GW_PID")
  # The half-rate latency split by AOF rewrite (bench/tail.py): the jobs in
  # flight while a rewrite's child ran against the others.
  python3 "$here/tail.py" --port "$REDIS_PORT" --run-id half --redis-log "$d/redis.log" \
    --skip "$(awk -v r="$half" -v w="$HALF_WARM" 'BEGIN {printf "%d", r * w}')" >"$d/tail.json" ||
    { log "tail.py failed; no split by AOF rewrite"; echo null >"$d/tail.json"; }
  # Redis's side of the latency tail: AOF rewrites (a forked child that
  # serializes the whole dataset) and its latency monitor's worst events.
  { redis-cli -p "$REDIS_PORT" info all; echo "# latency latest"
    redis-cli -p "$REDIS_PORT" latency latest; echo "# slowlog"; redis-cli -p "$REDIS_PORT" slowlog get 64; } >"$OUT/redis-info-$lat.txt" 2>/dev/null || true
  rw1=$(redis_info aof_rewrites)
  log "h2load: $H2N requests"
  h2load_run "$d" "$H2N"
  stop_stack
  progress_dat "$d/sat" >"$OUT/throughput-$lat.dat"
  progress_dat "$d/half" >"$OUT/throughput-half-$lat.dat"
  cp "$d/samples.dat" "$OUT/samples-$lat.dat"
  # x = "nines" (-log10(1 - p)): p50 0.3, p90 1, p99 2, p99.9 3; max drawn at 4.
  jq -r '.latency_ms | "0.301 \(.p50) p50\n1 \(.p90) p90\n2 \(.p99) p99\n3 \(.p99_9) p99.9\n4 \(.max) max"' \
    "$d/half.json" >"$OUT/latency-$lat.dat"
  info_val() { awk -F: -v k="$1" '$1 == k {v = $2} END {print v + 0}' "$OUT/redis-info-$lat.txt" | tr -d '\r'; }
  local peak_inf
  peak_inf=$(awk 'BEGIN {m = 0} $3 > m {m = $3} END {print m}' "$d/samples.dat")
  jq -n --argjson lat "$lat" --slurpfile sat "$d/sat.json" --slurpfile half "$d/half.json" \
    --slurpfile tail "$d/tail.json" \
    --slurpfile h2 "$d/h2load.json" --argjson satcpu "$(((c1 - c0) * 1000000 / HZ))" \
    --argjson halfcpu "$(((h1 - h0) * 1000000 / HZ))" --argjson hwm "$hwm" \
    --argjson inflight "$peak_inf" --argjson rw0 "${rw0:-0}" --argjson rw1 "${rw1:-0}" \
    --argjson rsat "$(((r1 - r0) * 1000000 / HZ))" --argjson rchild "$(((rc1 - rc0) * 1000000 / HZ))" \
    --argjson rhalf "$(((hr1 - hr0) * 1000000 / HZ))" --argjson memsat "${mem_sat:-0}" \
    --argjson rbytes "${rbytes:-0}" --argjson hchild "$(((hc1 - hc0) * 1000000 / HZ))" \
    --argjson fork "$(info_val latest_fork_usec)" --argjson mem "$(info_val used_memory)" \
    --argjson base "$(info_val aof_base_size)" '
    ($sat[0]) as $s | ($half[0]) as $h | ($h2[0]) as $c |
    ($satcpu / ([$s.jobs.completed, 1] | max)) as $cpm |
    {sandbox_latency_ms: $lat,
     gateway: {messages: $s.jobs.completed, missing: $s.jobs.missing,
               sent: $s.by_status.SENT, failed: $s.by_status.FAILED,
               msgs_per_s: $s.throughput.completed_per_s,
               drain_msgs_per_s: $s.throughput.drain_per_s, drain_s: $s.throughput.drain_s,
               cpu_s: ($satcpu / 1e6), cpu_us_per_msg: $cpm,
               redis_cpu_s: ($rsat / 1e6),
               redis_cpu_us_per_msg: ($rsat / ([$s.jobs.completed, 1] | max)),
               redis_fork_children_cpu_s: ($rchild / 1e6), result_bytes_avg: $rbytes,
               peak_rss_mb: ($hwm / 1024), peak_in_flight: $inflight,
               saturation_latency_ms: $s.latency_ms},
     half_rate: {rate: $h.config.rate, messages: $h.jobs.completed, missing: $h.jobs.missing,
                 msgs_per_s: $h.throughput.completed_per_s,
                 cpu_us_per_msg: ($halfcpu / ([$h.jobs.completed, 1] | max)),
                 redis_cpu_us_per_msg: ($rhalf / ([$h.jobs.completed, 1] | max)),
                 redis_fork_children_cpu_s: ($hchild / 1e6),
                 latency_ms: $h.latency_ms, to_entry_ms: ($h.to_entry_ms // null),
                 job_to_entry_ms: ($h.job_to_entry_ms // null),
                 by_aof_rewrite: $tail[0],
                 warmup: ($h.warmup // null)},
     redis: {aof_rewrites_before_half_rate: $rw0, aof_rewrites_in_half_rate: ($rw1 - $rw0),
             latest_fork_ms: ($fork / 1000), used_memory_mb: ($mem / 1048576),
             used_memory_mb_after_saturation: ($memsat / 1048576),
             used_memory_mb_after_half_rate: ($mem / 1048576),
             aof_base_mb: ($base / 1048576)},
     h2load: $c,
     ratios: {cpu_per_msg_vs_h2load: (if $c.cpu_us_per_req > 0 then $cpm / $c.cpu_us_per_req else 0 end),
              throughput_vs_h2load: ($s.throughput.completed_per_s / $c.req_per_s)}}' \
    >"$OUT/run-$lat.json"
  local miss
  miss=$(jq '.gateway.missing + .half_rate.missing' "$OUT/run-$lat.json")
  [ "$miss" = 0 ] || { log "jobs missing a result: $miss"; return 1; }
}

# plain_run: the --redis-compare yardstick. A fresh redis-server with the same
# settings, sg-plain-worker instead of gateway + sandbox, and the same loadgen
# warm-up and saturation run as scenario; writes $OUT/run-plain.json.
plain_run() {
  local d="$W/plain"
  mkdir -p "$d"
  log "redis compare: plain worker (MULTI: XADD result + XACK per job), $COUNT jobs"
  start_redis "$d"
  # COUNT 512: the gateway's default gateway.fetch_count.
  "$PLAIN" --redis-url "$SENDGATE_REDIS_URL" --count 512 --max 3600 >"$d/worker.out" 2>"$d/worker.log" &
  GW_PID=$!
  SBX_PID=
  PIDS+=("$GW_PID")
  wait_for grep -q '^ready$' "$d/worker.out"
  loadgen warm "$d/warm" --count 2000 || { log "plain worker warm-up failed"; return 1; }
  local r0 r1 rc0 rc1 w0 w1 mem i rbytes
  r0=$(cpu_ticks "$REDIS_PID")
  rc0=$(child_ticks "$REDIS_PID")
  w0=$(cpu_ticks "$GW_PID")
  loadgen sat "$d/sat" --count "$COUNT" || { log "plain worker saturation run failed"; return 1; }
  w1=$(cpu_ticks "$GW_PID")
  r1=$(cpu_ticks "$REDIS_PID")
  rc1=$(child_ticks "$REDIS_PID")
  mem=$(redis_info used_memory)
  rbytes=$(result_bytes)
  kill -TERM "$GW_PID" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$GW_PID" 2>/dev/null || break; sleep 0.05; done
  stop_stack
  local counts
  counts=$(grep '^{' "$d/worker.out" | tail -n 1)
  [ -n "$counts" ] || { log "plain worker printed no counts"; return 1; }
  jq -n --slurpfile sat "$d/sat.json" --argjson w "$counts" --argjson rcpu "$(((r1 - r0) * 1000000 / HZ))" \
    --argjson wcpu "$(((w1 - w0) * 1000000 / HZ))" --argjson mem "${mem:-0}" --argjson rbytes "${rbytes:-0}" \
    --argjson rchild "$(((rc1 - rc0) * 1000000 / HZ))" '
    ($sat[0]) as $s | ([$s.jobs.completed, 1] | max) as $n |
    {worker: "sg-plain-worker",
     does: "XREADGROUP COUNT 512; per job MULTI, XADD sendgate:results * result <MailResult>, XACK, EXEC; all of a read batch pipelined; no ledger, no XDEL, no HTTP",
     messages: $s.jobs.completed, missing: $s.jobs.missing,
     msgs_per_s: $s.throughput.completed_per_s,
     redis_cpu_s: ($rcpu / 1e6), redis_cpu_us_per_msg: ($rcpu / $n),
     redis_fork_children_cpu_s: ($rchild / 1e6), worker_cpu_us_per_msg: ($wcpu / $n), redis_used_memory_mb: ($mem / 1048576),
     result_bytes_avg: $rbytes, worker_counts: $w}' >"$OUT/run-plain.json"
  [ "$(jq .missing "$OUT/run-plain.json")" = 0 ] || { log "plain worker: jobs missing a result"; return 1; }
}

machine_json() {
  local bt
  bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)
  jq -n --arg cpu "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
    --argjson cores "$(nproc)" --arg build "${bt:-unknown}" \
    --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    '{cpu: $cpu, cores: $cores, build_type: $build, date: $date, commit: $commit}'
}

if [ -n "$SOAK_N" ]; then
  d="$W/soak"
  mkdir -p "$d"
  log "soak: $SOAK_N jobs at $SOAK_RATE/s"
  start_stack "$d" 0
  loadgen warm "$d/warm" --count 2000
  : >"$d/samples.dat"
  start_sampler "$d/samples.dat"
  loadgen soak "$d/soak" --count "$SOAK_N" --rate "$SOAK_RATE"
  stop_sampler "$d/samples.dat"
  hwm=$(vm_kb "$GW_PID" VmHWM)
  stop_stack
  cp "$d/samples.dat" "$OUT/soak-rss.dat"
  progress_dat "$d/soak" >"$OUT/soak-throughput.dat"
  # Flat: the largest RSS of the last half is at most the first half's + 10 % (and + 4 MB).
  read -r first last <<<"$(awk '{t[NR] = $1; r[NR] = $2} END {
    h = int(NR / 2); a = 0; b = 0
    for (i = 1; i <= h; i++) if (r[i] > a) a = r[i]
    for (i = h + 1; i <= NR; i++) if (r[i] > b) b = r[i]
    print a, b}' "$d/samples.dat")"
  jq -n --argjson m "$(machine_json)" --slurpfile s "$d/soak.json" --argjson first "$first" \
    --argjson last "$last" --argjson hwm "$hwm" \
    '{machine: $m, soak: {messages: $s[0].jobs.completed, missing: $s[0].jobs.missing,
      rate: $s[0].config.rate, msgs_per_s: $s[0].throughput.completed_per_s,
      latency_ms: $s[0].latency_ms, peak_rss_mb: ($hwm / 1024),
      max_rss_mb_first_half: $first, max_rss_mb_second_half: $last,
      rss_flat: ($last <= ($first * 1.1 + 4))}}' >"$OUT/soak.json"
  gnuplot -e "dir='$OUT'; mode='soak'" "$here/plot.gp"
  jq -r '.soak | "soak: \(.messages) messages at \(.rate)/s; RSS max first half \(.max_rss_mb_first_half) MB, second half \(.max_rss_mb_second_half) MB; flat: \(.rss_flat)"' "$OUT/soak.json"
  echo "results in $OUT"
  jq -e '.soak.rss_flat and .soak.missing == 0' "$OUT/soak.json" >/dev/null
  exit $?
fi

LATS=(0)
[ "$LAT" != 0 ] && LATS+=("$LAT")
for l in "${LATS[@]}"; do scenario "$l"; done
if [ "$COMPARE" = 1 ]; then plain_run; fi

# results.json: the runs, the machine and the targets (judged on the 0 ms run).
runs=$(for l in "${LATS[@]}"; do cat "$OUT/run-$l.json"; done | jq -s .)
plain=null
if [ "$COMPARE" = 1 ]; then plain=$(cat "$OUT/run-plain.json"); fi
# redis_compare: the 0 ms run's saturation run (gateway + sandbox) next to the
# plain worker's, both from a fresh redis-server with the same settings, the
# same loadgen warm-up and --count jobs; null without --redis-compare.
jq -n --argjson m "$(machine_json)" --argjson runs "$runs" --argjson count "$COUNT" \
  --argjson senders "$SENDERS" --arg aof "$AOF" --arg rconf "${REDIS_CONF[*]:-}" \
  --argjson plain "$plain" --argjson compare "$([ "$COMPARE" = 1 ] && echo true || echo false)" \
  --argjson hrate "${HALF_RATE:-null}" --argjson slots "$SLOTS" '
  ($runs[0]) as $z |
  {machine: $m, config: {count: $count, senders: $senders, gateway_connections: 4,
                         ledger_slots: $slots,
                         max_in_flight: 10000, redis_appendonly: $aof, redis_conf: $rconf,
                         redis_compare: $compare, half_rate_fixed: $hrate},
   runs: $runs,
   redis_compare: (if $plain == null then null else
     {jobs: $count, warmup_jobs: 2000,
      producer: "sendgate-loadgen: 4 producers x 256 pipelined XADDs; results read back with XREAD (its commands are in both figures)",
      sendgate: {worker: "sendgate + sandbox (0 ms run)",
                 does: "XREADGROUP COUNT 512; per loop turn the ledger lookups as native commands in one pipelined write (two HGETs per job; a GET of the older layout only while such keys exist) and one MULTI of native commands (per job HSETNX of the ledger and XADD of the result, an EXPIREAT with the first write to a bucket; one XACK for all, in a small script that checks the type of the results key); shared-budget script calls for the lanes that are due; every 100 ms a script that trims the acked jobs (XTRIM MINID) and caps the results stream (XTRIM MAXLEN ~); reaper, delayed-set and older-layout scans",
                 messages: $z.gateway.messages, missing: $z.gateway.missing,
                 msgs_per_s: $z.gateway.msgs_per_s, redis_cpu_s: $z.gateway.redis_cpu_s,
                 redis_cpu_us_per_msg: $z.gateway.redis_cpu_us_per_msg,
                 worker_cpu_us_per_msg: $z.gateway.cpu_us_per_msg,
                 redis_used_memory_mb: $z.redis.used_memory_mb_after_saturation,
                 redis_fork_children_cpu_s: $z.gateway.redis_fork_children_cpu_s,
                 result_bytes_avg: $z.gateway.result_bytes_avg},
      plain_worker: $plain,
      redis_cpu_ratio: (if $plain.redis_cpu_us_per_msg > 0
                        then $z.gateway.redis_cpu_us_per_msg / $plain.redis_cpu_us_per_msg else null end)}
     end),
   targets: {cpu_ratio_le_1_8: ($z.ratios.cpu_per_msg_vs_h2load > 0 and $z.ratios.cpu_per_msg_vs_h2load <= 1.8),
             msgs_per_s_ge_20000: ($z.gateway.msgs_per_s >= 20000),
             half_rate_p99_lt_20ms: (if $hrate == null then $z.half_rate.latency_ms.p99 < 20 else null end),
             peak_rss_lt_64mb: ([$runs[].gateway.peak_rss_mb] | max < 64),
             redis_cpu_below_plain_worker: (if $plain == null or $plain.redis_cpu_us_per_msg <= 0 then null
                                            else $z.gateway.redis_cpu_us_per_msg < $plain.redis_cpu_us_per_msg end)}}' >"$OUT/results.json"

# results.md
{
  jq -r '"Machine: \(.machine.cpu), \(.machine.cores) cores; build \(.machine.build_type); commit \(.machine.commit); \(.machine.date); gateway.ledger_slots \(.config.ledger_slots); access token \(.runs[0].h2load.token_length // "-") characters\n"' "$OUT/results.json"
  printf '| sandbox latency | gateway msg/s | msg/s after queueing | gateway CPU us/msg | Redis CPU us/msg | peak RSS MB | peak in flight | half rate | p50 ms | p99 ms | p99.9 ms | h2load req/s | h2load CPU us/req | CPU ratio | throughput ratio |\n'
  printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
  jq -r '.runs[] | "| \(.sandbox_latency_ms) ms | \(.gateway.msgs_per_s | floor) | \(.gateway.drain_msgs_per_s | floor) | \(.gateway.cpu_us_per_msg * 10 | floor / 10) | \(.gateway.redis_cpu_us_per_msg * 10 | floor / 10) | \(.gateway.peak_rss_mb * 10 | floor / 10) | \(.gateway.peak_in_flight) | \(.half_rate.rate | floor)/s | \(.half_rate.latency_ms.p50) | \(.half_rate.latency_ms.p99) | \(.half_rate.latency_ms.p99_9) | \(.h2load.req_per_s | floor) | \(.h2load.cpu_us_per_req * 10 | floor / 10) | \(.ratios.cpu_per_msg_vs_h2load * 100 | floor / 100) | \(.ratios.throughput_vs_h2load * 100 | floor / 100) |"' "$OUT/results.json"
  echo
  jq -r '.runs[] | "Redis (\(.sandbox_latency_ms) ms run): \(.redis.aof_rewrites_in_half_rate) AOF rewrites during the half-rate run, \(.redis.aof_rewrites_before_half_rate) before it; last fork \(.redis.latest_fork_ms) ms; dataset \(.redis.used_memory_mb | floor) MB."' "$OUT/results.json"
  jq -r '.runs[] | select(.half_rate.to_entry_ms != null) | "Half rate (\(.sandbox_latency_ms) ms run), from a job created to its result appended in Redis (the result entry id, whole ms): p50 \(.half_rate.to_entry_ms.p50), p99 \(.half_rate.to_entry_ms.p99), p99.9 \(.half_rate.to_entry_ms.p99_9) ms; from the job appended to its result appended (both times from Redis): p50 \(.half_rate.job_to_entry_ms.p50 // "-"), p99 \(.half_rate.job_to_entry_ms.p99 // "-"), p99.9 \(.half_rate.job_to_entry_ms.p99_9 // "-") ms."' "$OUT/results.json"
  jq -r '.runs[] | select(.half_rate.by_aof_rewrite != null) | .half_rate.by_aof_rewrite as $t | "Half rate (\(.sandbox_latency_ms) ms run) by AOF rewrite (bench/tail.py; job appended to result appended): \($t.during.jobs) of \($t.jobs) jobs were in flight while a rewrite ran (\($t.rewrites | length) rewrites in the whole run): p50 \($t.during.p50 // "-"), p99 \($t.during.p99 // "-"), max \($t.during.max // "-") ms; the others p50 \($t.outside.p50 // "-"), p99 \($t.outside.p99 // "-"), p99.9 \($t.outside.p99_9 // "-"), max \($t.outside.max // "-") ms."' "$OUT/results.json"
  jq -r '.runs[] | "Redis memory (\(.sandbox_latency_ms) ms run, INFO used_memory): \(.redis.used_memory_mb_after_saturation * 10 | floor / 10) MB after the saturation run, \(.redis.used_memory_mb_after_half_rate * 10 | floor / 10) MB after the half-rate run."' "$OUT/results.json"
  jq -r '.runs[] | "Redis CPU (\(.sandbox_latency_ms) ms run; redis-server utime+stime per message, the loadgen'"'"'s own commands included): \(.gateway.redis_cpu_us_per_msg * 10 | floor / 10) us/msg in the saturation run, \(.half_rate.redis_cpu_us_per_msg * 10 | floor / 10) us/msg at half rate; AOF rewrite children reaped during the saturation run: \(.gateway.redis_fork_children_cpu_s) s CPU, during the half-rate run: \(.half_rate.redis_fork_children_cpu_s) s (not in the per-message figures)."' "$OUT/results.json"
  if [ "$COMPARE" = 1 ]; then
    echo
    jq -r '.redis_compare | "Redis work per message (--redis-compare): \(.jobs) jobs after a \(.warmup_jobs)-job warm-up from the same loadgen, each worker on a fresh redis-server with the same settings; Redis CPU is redis-server utime+stime over the run per message, the loadgen'"'"'s own commands (job XADDs, result XREADs) included.\n"' "$OUT/results.json"
    printf '| worker | msg/s | Redis CPU us/msg | worker CPU us/msg | result bytes | Redis used_memory MB at end |\n'
    printf '|---|---|---|---|---|---|\n'
    jq -r '.redis_compare | (.sendgate, .plain_worker) | "| \(.worker) | \(.msgs_per_s | floor) | \(.redis_cpu_us_per_msg * 10 | floor / 10) | \(.worker_cpu_us_per_msg * 10 | floor / 10) | \(.result_bytes_avg | floor) | \(.redis_used_memory_mb * 10 | floor / 10) |"' "$OUT/results.json"
    echo
    jq -r '.redis_compare | "Redis CPU ratio (sendgate / plain worker): \(if .redis_cpu_ratio == null then "n/a (plain worker under one clock tick)" else .redis_cpu_ratio * 100 | floor / 100 end)"' "$OUT/results.json"
    jq -r '.redis_compare | "- \(.sendgate.worker): \(.sendgate.does).\n- \(.plain_worker.worker): \(.plain_worker.does)."' "$OUT/results.json"
  fi
  echo
  echo "Targets (0 ms run): "
  jq -r '.targets | to_entries[] | "- \(.key): \(if .value then "met" else "NOT met" end)"' "$OUT/results.json"
} >"$OUT/results.md"

gnuplot -e "dir='$OUT'; mode='bench'; lats='${LATS[*]}'" "$here/plot.gp"
cat "$OUT/results.md"
echo "results in $OUT"
