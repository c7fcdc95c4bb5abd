#!/usr/bin/env bash
# The SMTP egress benchmark (issue 17): one gateway sending through an
# exchange_smtp account (XOAUTH2, STARTTLS, pooled sessions) to the
# sandbox's Exchange SMTP stand-in, with the sandbox's and the gateway's
# limits off, next to the same jobs sent through Graph by the same gateway.
# A private redis-server (AOF, fsync everysec, as in production), the
# sandbox (no latency, no record), `sendgate run` with the sandbox's default
# Graph account and an [account.bench] of type exchange_smtp, then for each
# backend sendgate-loadgen queues --count jobs of --size bytes from
# --senders mailboxes as fast as it can and waits for every result:
#   messages/s end to end (the loadgen's completed/s), gateway CPU
#   (utime+stime from /proc) per message, the sandbox's CPU per message,
#   and for SMTP the peak of SMTP sessions open (sendgate_smtp_sessions_open,
#   sampled every 0.2 s) and the sessions opened in all.
#   bench/smtp_egress.sh [--build DIR] [--count N] [--size BYTES] [--senders N]
#                        [--sessions N]   (sessions per mailbox) [--perf FILE]
# Also `bench/run.sh --backend smtp ...`. Loopback only; every wait is
# bounded; stops everything it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${SG_BUILD_DIR:-$here/../build}
N=100000 SIZE=5120 SENDERS=8 SESS=4 PERF=
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --count) N=$2; shift 2 ;;
    --size) SIZE=$2; shift 2 ;;
    --senders) SENDERS=$2; shift 2 ;;
    --sessions) SESS=$2; shift 2 ;;
    --perf) PERF=$2; shift 2 ;; # perf report of the gateway during the SMTP run into FILE
    # (PERF_OPTS: perf report options, default --no-children)
    *) echo "usage: bench/smtp_egress.sh [--build DIR] [--count N] [--size BYTES] [--senders N] [--sessions N]" >&2
      exit 2 ;;
  esac
done
. "$here/lib.sh"
bench_init smtpegress

bench_redis --appendonly yes --appendfsync everysec
bench_sandbox --set smtp.exchange_listen=127.0.0.1:0 --set smtp.messages_per_minute=0
cat >"$D/gw.ini" <<INI
[account.bench]
type = exchange_smtp
tenant_id = $SENDGATE_GRAPH_TENANT_ID
client_id = $SENDGATE_GRAPH_CLIENT_ID
login_url = $SENDGATE_LOGIN_URL
smtp_host = $SENDGATE_SANDBOX_SMTP_EXCHANGE
smtp_sessions = $SESS
INI
AP=$(port)
env SENDGATE_HTTP_LISTEN="127.0.0.1:$AP" SENDGATE_GATEWAY_CONSUMER=bench SENDGATE_LOG_LEVEL=warn \
  SENDGATE_ACCOUNT_BENCH_CLIENT_SECRET="$SENDGATE_GRAPH_CLIENT_SECRET" \
  SENDGATE_GRAPH_MAILBOX_CONCURRENCY=0 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
  SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 SENDGATE_GATEWAY_MAX_IN_FLIGHT=10000 \
  SENDGATE_EXCHANGE_SMTP_MESSAGES_PER_MINUTE=0 SENDGATE_EXCHANGE_SMTP_RECIPIENTS_PER_DAY=0 \
  "$SENDGATE" run --config "$D/gw.ini" >"$D/gateway.out" 2>"$D/gateway.log" &
GW_PID=$!
PIDS+=($GW_PID)
wait_until 20 curl -sf "http://127.0.0.1:$AP/readyz"

# run NAME [loadgen options]: one saturation run; prints its line.
run() {
  local name=$1
  shift
  : >"$D/sessions.txt"
  (for _ in $(seq 1 30000); do metric sendgate_smtp_sessions_open >>"$D/sessions.txt" || true
    sleep 0.2; done) &
  SAMPLER=$!
  local g0 s0 g1 s1
  local perf_pid=
  if [ -n "$PERF" ] && [ "$name" = smtp ]; then
    perf record -g -o "$D/perf.data" -p "$GW_PID" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  g0=$(cpu_ticks "$GW_PID") s0=$(cpu_ticks "$SBX_PID")
  "$LOADGEN" --run-id "$name" --count "$N" --size "$SIZE" --senders "$SENDERS" \
    --domain contoso.com --producers 4 --pipeline 256 --json --quiet --timeout 300 "$@" \
    >"$D/$name.json" 2>"$D/$name.log"
  g1=$(cpu_ticks "$GW_PID") s1=$(cpu_ticks "$SBX_PID")
  metric sendgate_smtp_sessions_open >>"$D/sessions.txt" || true # idle ones stay 30 s
  if [ -n "$perf_pid" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
    perf report -i "$D/perf.data" ${PERF_OPTS:---no-children} --percent-limit 0.7 --stdio >"$PERF" 2>/dev/null || true
  fi
  kill "$SAMPLER" 2>/dev/null || true
  wait "$SAMPLER" 2>/dev/null || true
  SAMPLER=
  local rate sent peak
  rate=$(jq -r '.throughput.completed_per_s' "$D/$name.json")
  sent=$(jq -r '.by_status.SENT' "$D/$name.json")
  peak=$(sort -n "$D/sessions.txt" | tail -1)
  printf '%-5s %7d jobs of %d B: %8.0f messages/s, SENT %s; gateway CPU %6.1f us/message, sandbox CPU %6.1f us/message' \
    "$name" "$N" "$SIZE" "$rate" "$sent" \
    "$(awk -v c=$((g1 - g0)) -v hz="$HZ" -v n="$N" 'BEGIN {print c / hz * 1e6 / n}')" \
    "$(awk -v c=$((s1 - s0)) -v hz="$HZ" -v n="$N" 'BEGIN {print c / hz * 1e6 / n}')"
  [ "$name" = smtp ] && printf '; SMTP sessions open at most %s, opened %s' "${peak:-0}" \
    "$(metric sendgate_smtp_sessions_opened_total)"
  echo
}
echo "== $(nproc) cores; $SENDERS mailboxes, $SESS SMTP sessions per mailbox"
run smtp --account bench
run graph
