# Shared helpers for the integration tests (sourced). Each test starts its own
# private services on free loopback ports in a temp dir and stops them on exit.
# Every wait is bounded.
set -euo pipefail

SG_BIN_DIR=${SG_BIN_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../build/gateway" && pwd)}
SG_SOURCE_DIR=${SG_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SANDBOX="$SG_BIN_DIR/sendgate-sandbox"
SENDGATE="$SG_BIN_DIR/sendgate"
T=$(mktemp -d /tmp/sg-test.XXXXXX)
PIDS=()
FAILS=0
CHECKS=0

cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  release_ports
  if [ "$rc" -ne 0 ] || [ "$FAILS" -ne 0 ]; then
    echo "--- logs kept in $T" >&2
    for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }; done
  else
    rm -rf "$T"
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

# free_port: a loopback port for one of this test's servers. Tests run side by
# side, and a port that is merely free now can be taken by another test's
# server (or an outgoing connection) before ours binds it, and a client would
# then reach the wrong server. So the port is below the kernel's ephemeral
# range, reserved for this test with an atomic mkdir (a reservation whose
# owner is gone is taken over; ours are removed on exit), and bindable now.
# tests/redis_server.h does the same for the C tests.
PORT_DIR=/tmp/sg-test-ports
free_port() {
  local i p owner
  mkdir -p "$PORT_DIR"
  for i in $(seq 1 500); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    if ! mkdir "$PORT_DIR/$p" 2>/dev/null; then
      owner=$(cat "$PORT_DIR/$p/pid" 2>/dev/null || true)
      [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null || continue
      rm -rf "$PORT_DIR/$p"
      mkdir "$PORT_DIR/$p" 2>/dev/null || continue
    fi
    echo $$ >"$PORT_DIR/$p/pid"
    if python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(("127.0.0.1",int(sys.argv[1])))' "$p" 2>/dev/null; then
      echo "$p"
      return 0
    fi
    rm -rf "${PORT_DIR:?}/$p"
  done
  echo "free_port: no port" >&2
  return 1
}
release_ports() {
  local d
  for d in "$PORT_DIR"/*/; do
    [ "$(cat "$d/pid" 2>/dev/null)" = "$$" ] && rm -rf "$d"
  done
  return 0
}

# redis_ours: the server on REDIS_PORT is the one we started (REDIS_PID), and
# it has loaded its data.
redis_ours() {
  local info
  info=$(redis-cli -p "$REDIS_PORT" info 2>/dev/null | tr -d '\r')
  grep -qx "process_id:$REDIS_PID" <<<"$info" && grep -qx "loading:0" <<<"$info"
}

# start_sandbox [--set k=v ...]: starts the sandbox, sources its env lines.
start_sandbox() {
  "$SANDBOX" --listen 127.0.0.1:0 --state-dir "$T/sandbox" --env-file "$T/sandbox.env" \
    --set record.memory=100000 \
    --set record.violation_grace_ms="${SG_SANDBOX_VIOLATION_GRACE_MS:-100}" "$@" \
    >"$T/sandbox.out" 2>"$T/sandbox.log" &
  SANDBOX_PID=$!
  PIDS+=("$SANDBOX_PID")
  wait_for test -s "$T/sandbox.env"
  set -a
  . "$T/sandbox.env"
  set +a
  CA=$SENDGATE_TLS_CA_FILE
  SBX=$SENDGATE_SANDBOX_URL
}

# start_redis: a private redis-server; sets REDIS_PORT and SENDGATE_REDIS_URL.
start_redis() {
  REDIS_PORT=$(free_port)
  mkdir -p "$T/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save '' \
    --appendonly "${REDIS_AOF:-no}" --daemonize no >"$T/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_for redis_ours
  export SENDGATE_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
}

rcli() { redis-cli -p "$REDIS_PORT" "$@"; }

# sbx_config 'k=v' ...: changes sandbox settings at run time.
sbx_config() {
  printf '%s\n' "$@" | curl -sf --cacert "$CA" --data-binary @- "$SBX/sandbox/config" >/dev/null
}
sbx_stat() { curl -sf --cacert "$CA" "$SBX/sandbox/stats" | jq -r "$1"; }

check() { # check NAME EXPECTED ACTUAL
  CHECKS=$((CHECKS + 1))
  if [ "$2" = "$3" ]; then
    echo "ok   $1"
  else
    echo "FAIL $1: expected [$2], got [$3]"
    FAILS=$((FAILS + 1))
  fi
}

check_ge() { # check_ge NAME MIN ACTUAL
  CHECKS=$((CHECKS + 1))
  if [ "$3" -ge "$2" ]; then echo "ok   $1 ($3 >= $2)"; else echo "FAIL $1: $3 < $2"; FAILS=$((FAILS + 1)); fi
}

finish() {
  echo "$((CHECKS - FAILS)) passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}

TOOLS=${SG_TOOLS_DIR:-$SG_BIN_DIR/../tests}

# start_gateway [VAR=value ...] [--config FILE]: runs `sendgate run` with the
# sandbox's and Redis's settings plus the given overrides; sets GATEWAY_PID.
start_gateway() {
  local envs=() args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --config) args+=(--config "$2"); shift 2 ;;
      *) envs+=("$1"); shift ;;
    esac
  done
  env SENDGATE_HTTP_LISTEN= SENDGATE_GATEWAY_CONSUMER=test-gw "${envs[@]}" \
    "$SENDGATE" run "${args[@]}" >>"$T/gateway.out" 2>>"$T/gateway.log" &
  GATEWAY_PID=$!
  PIDS+=("$GATEWAY_PID")
}

# stop_gateway: SIGTERM, then waits (bounded) for it to exit; returns its exit code.
stop_gateway() {
  kill -TERM "$GATEWAY_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 300); do
    kill -0 "$GATEWAY_PID" 2>/dev/null || break
    sleep 0.1
  done
  wait "$GATEWAY_PID"
}

# queue_jobs N [gen options]: N jobs on sendgate:jobs.
queue_jobs() {
  "$TOOLS/sg_testjobs" gen "$@" | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
}

# wait_results N [seconds] [stream]: until the results stream holds N entries.
wait_results() {
  local n=$1 secs=${2:-60} stream=${3:-sendgate:results} i
  for i in $(seq 1 $((secs * 10))); do
    [ "$(rcli xlen "$stream")" -ge "$n" ] && return 0
    sleep 0.1
  done
  echo "only $(rcli xlen "$stream") of $n results after ${secs}s" >&2
  return 1
}

# jobs_drained: the job stream is empty (the trimmer removes acked entries
# every 100 ms and once more when the gateway stops; completions delete their
# own while a long-pending job holds the trim up); waits up to 20 s.
jobs_stream_empty() { [ "$(rcli xlen sendgate:jobs)" -eq 0 ]; }
jobs_drained() { wait_for jobs_stream_empty || true; rcli xlen sendgate:jobs; }

# unacked STREAM [GROUP]: entries of STREAM that GROUP (sendgate) has not
# acked: its pending ones and those after its last-delivered id. Acked
# entries behind a pending one stay in the stream until the trimmer can
# remove them, so XLEN may count them too.
unacked() {
  rcli eval "local ld, p
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local h = {}
  for i = 1, #g, 2 do h[g[i]] = g[i + 1] end
  if h['name'] == ARGV[1] then ld, p = h['last-delivered-id'], h['pending'] end
end
if not ld then return redis.call('XLEN', KEYS[1]) end
local n, from = p, '(' .. ld
while true do
  local r = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', 1000)
  n = n + #r
  if #r < 1000 then return n end
  from = '(' .. r[#r][1]
end" 1 "$1" "${2:-sendgate}"
}

# summary KEY: a figure of the results stream (SENT, FAILED, distinct_ids, code:X ...).
summary() {
  "$TOOLS/sg_testjobs" summary "$SENDGATE_REDIS_URL" "${2:-sendgate:results}" >"$T/summary.txt"
  awk -v k="$1" '$1 == k {print $2; f=1} END {if (!f) print 0}' "$T/summary.txt"
}

# ---- flow-control test helpers (test_flow_*.sh) ----

now_ms() { date +%s%3N; }

# lane_report LIMIT WINDOW_MS [FROM_MS]: per mailbox of the sandbox's recorded
# messages (record.memory must hold them all): "mailbox count first_ms last_ms
# span_ms allowed pct", where allowed = LIMIT * (floor(span / WINDOW) + 1) is the
# most a sliding window of LIMIT per WINDOW lets through between the first and
# the last message, and pct = 100 * count / allowed. Messages before FROM_MS
# (unix ms) are ignored.
lane_report() {
  curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=1000000" >"$T/lanes.json"
  python3 - "$T/lanes.json" "$1" "$2" "${3:-0}" <<'PY'
import json, sys, datetime
msgs = json.load(open(sys.argv[1]))
limit, window, since = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lanes = {}
for m in msgs:
    t = datetime.datetime.strptime(m["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    ms = int(t.timestamp() * 1000)
    if ms >= since:
        lanes.setdefault(m["message"]["mailbox"].lower(), []).append(ms)
for mb in sorted(lanes):
    ts = sorted(lanes[mb])
    span = ts[-1] - ts[0]
    allowed = limit * (span // window + 1) if limit else len(ts)
    print(mb, len(ts), ts[0], ts[-1], span, allowed, 100 * len(ts) // allowed)
PY
}

# lane_nth MAILBOX N: unix ms of the N-th (1-based) message recorded for MAILBOX
# in the last lane_report's fetch.
lane_nth() {
  python3 - "$T/lanes.json" "$1" "$2" <<'PY'
import json, sys, datetime
ts = sorted(int(datetime.datetime.strptime(m["ts"], "%Y-%m-%dT%H:%M:%S.%fZ")
                .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
            for m in json.load(open(sys.argv[1])) if m["message"]["mailbox"].lower() == sys.argv[2])
n = int(sys.argv[3])
print(ts[n - 1] if len(ts) >= n else 0)
PY
}

# kill9_gateway: kill -9 the gateway and reap it.
kill9_gateway() {
  kill -9 "$GATEWAY_PID" 2>/dev/null || true
  wait "$GATEWAY_PID" 2>/dev/null || true
}

# stop_redis: clean shutdown of the private redis-server (bounded wait).
stop_redis() {
  kill -TERM "$REDIS_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 200); do
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.05
  done
  wait "$REDIS_PID" 2>/dev/null || true
}

# restart_redis: starts redis-server again on the same port and directory
# (same REDIS_AOF setting) and waits until it answers.
restart_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$T/redis" --save '' \
    --appendonly "${REDIS_AOF:-no}" --daemonize no >>"$T/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_for redis_ours
}
