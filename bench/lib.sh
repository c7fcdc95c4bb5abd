#!/usr/bin/env bash
# What the benchmark scripts share (sourced, not run): a private temp
# directory, the processes they start (stopped on exit, with the tails of
# their logs when the script failed), free loopback ports, bounded waits, a
# private redis-server and the sandbox with its limits off. Loopback only.
#
#   . "$(dirname "$0")/lib.sh"
#   bench_init NAME               SENDGATE, SANDBOX, LOADGEN from $BUILD (checked);
#                                 D=/tmp/sg-NAME.XXXXXX, PIDS=(), the exit trap
#   bench_redis [redis options]   RP: a private redis-server (no RDB; AOF as asked)
#   bench_sandbox [--set k=v ...] the sandbox, every mailbox limit off; its env exported
#   port, wait_until SECONDS CMD..., cpu_ticks PID, metric NAME (on $AP), rc (redis-cli on $RP)

# bench_init NAME: the binaries of the build in $BUILD, the temp directory and the cleanup trap.
bench_init() {
  SENDGATE=$BUILD/gateway/sendgate
  SANDBOX=$BUILD/gateway/sendgate-sandbox
  LOADGEN=$BUILD/bench/sendgate-loadgen
  local b
  for b in "$SENDGATE" "$SANDBOX" "$LOADGEN"; do
    [ -x "$b" ] || { echo "$1: no $b (build first, or pass --build)" >&2; exit 2; }
  done
  D=$(mktemp -d "/tmp/sg-$1.XXXXXX")
  PIDS=()
  SAMPLER=
  BENCH_KEEP=${BENCH_KEEP:-}
  HZ=$(getconf CLK_TCK)
  trap bench_cleanup EXIT
}

bench_cleanup() {
  local rc=$?
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" -ne 0 ]; then
    for f in "$D"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }; done
  fi
  [ -n "$BENCH_KEEP" ] && echo "kept $D" >&2 || rm -rf "$D"
}

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_until() { # wait_until SECONDS CMD...
  local end=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$end" ] || { echo "timed out: $*" >&2; return 1; }
    sleep 0.05
  done
}

rc() { redis-cli -p "$RP" "$@"; }

# CPU time of a process so far, in clock ticks (user + system).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# A sample's value on the admin listener $AP (empty when absent).
metric() { curl -sf --max-time 2 "http://127.0.0.1:$AP/metrics" | awk -v k="$1" '$1 == k {print $2}'; }

# bench_redis [options]: a redis-server on a free port (RP, REDIS_PID), no RDB
# snapshots, AOF off unless the options turn it on; SENDGATE_REDIS_URL exported.
bench_redis() {
  RP=$(port)
  redis-server --port "$RP" --bind 127.0.0.1 --dir "$D" --save '' --appendonly no "$@" \
    >"$D/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_until 10 redis-cli -p "$RP" ping
  export SENDGATE_REDIS_URL="redis://127.0.0.1:$RP/0"
}

# bench_sandbox [--set k=v ...]: the sandbox (SBX_PID) with every mailbox
# limit off and nothing recorded; later --set options win. Its env file
# (SENDGATE_GRAPH_*, SENDGATE_LOGIN_URL, ...) is exported.
bench_sandbox() {
  "$SANDBOX" --listen 127.0.0.1:0 --state-dir "$D/sandbox" --env-file "$D/sandbox.env" \
    --log-level error --set graph.mailbox_concurrency=0 --set graph.mailbox_requests=0 \
    --set graph.mailbox_recipients_per_day=0 --set record.file=off --set record.memory=0 \
    "$@" >"$D/sandbox.out" 2>"$D/sandbox.log" &
  SBX_PID=$!
  PIDS+=("$SBX_PID")
  wait_until 10 test -s "$D/sandbox.env"
  set -a
  . "$D/sandbox.env"
  set +a
}
