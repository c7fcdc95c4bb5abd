#!/usr/bin/env bash
# The SMTP ingress benchmark (issue 13). A private redis-server (AOF, fsync
# everysec, as in production), the sandbox (limits off, no latency),
# `sendgate smtpd` with its relay listener on loopback, and `sendgate run`:
#   1. saturation: Postfix's smtp-source sends --count messages of 5 KB over
#      20 sessions to the relay listener; messages/s accepted into Redis
#      (smtp-source's run time), messages/s through to the sandbox's Graph
#      (the last result), smtpd's CPU (utime+stime from /proc) per message;
#   2. half rate: a paced client (Python's smtplib, 20 sessions) at half the
#      accepted rate for --half-seconds; the share of 250s answered within
#      10 ms of the final dot and the p99 bucket, from smtpd's
#      sendgate_smtp_handoff_seconds histogram;
#   3. idle sessions: 1,000 connections that said EHLO and wait; smtpd's RSS.
#   bench/smtp.sh [--build DIR] [--count N] [--half-seconds S]
# Loopback only; every wait is bounded; stops everything it started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${SG_BUILD_DIR:-$here/../build}
N=10000 HALF=10
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --count) N=$2; shift 2 ;;
    --half-seconds) HALF=$2; shift 2 ;;
    *) echo "usage: bench/smtp.sh [--build DIR] [--count N] [--half-seconds S]" >&2; exit 2 ;;
  esac
done
command -v smtp-source >/dev/null || { echo "smtp-source missing (apt-get install postfix)" >&2; exit 1; }
. "$here/lib.sh"
bench_init smtpbench
ulimit -n 8192 2>/dev/null || true

bench_redis --appendonly yes --appendfsync everysec
bench_sandbox
SP=$(port) AP=$(port)
env SENDGATE_SMTP_LISTEN=off SENDGATE_SMTP_LISTEN_RELAY="127.0.0.1:$SP" \
  SENDGATE_SMTP_RELAY_NETWORKS=127.0.0.1/32 SENDGATE_SMTP_RELAY_SENDERS=@devices.contoso.com \
  SENDGATE_SMTP_MAX_CONNECTIONS_PER_IP=5000 SENDGATE_SMTP_MAX_CONNECTIONS=5000 \
  SENDGATE_HTTP_LISTEN="127.0.0.1:$AP" SENDGATE_LOG_LEVEL=warn \
  "$SENDGATE" smtpd >"$D/smtpd.out" 2>"$D/smtpd.log" &
SM=$!
PIDS+=($SM)
wait_until 10 curl -sf "http://127.0.0.1:$AP/readyz"
env SENDGATE_HTTP_LISTEN= SENDGATE_GATEWAY_CONSUMER=bench SENDGATE_LOG_LEVEL=warn \
  SENDGATE_GRAPH_MAILBOX_CONCURRENCY=0 SENDGATE_GRAPH_MAILBOX_REQUESTS_PER_10MIN=0 \
  SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0 \
  "$SENDGATE" run >"$D/gateway.out" 2>"$D/gateway.log" &
PIDS+=($!)

echo "== 1. $N messages of 5 KB, 20 sessions, smtp-source to the relay listener"
c0=$(cpu_ticks "$SM")
t0=$(date +%s%N)
timeout 600 smtp-source -s 20 -m "$N" -l 5120 -f load@devices.contoso.com \
  -t sink@fabrikam.example -M bench.test "127.0.0.1:$SP" >"$D/smtp-source.log" 2>&1
t1=$(date +%s%N)
c1=$(cpu_ticks "$SM")
results() { [ "$(redis-cli -p "$RP" xlen sendgate:results)" -ge "$N" ]; }
wait_until 600 results
t2=$(date +%s%N)
hz=$(getconf CLK_TCK)
acc=$(awk -v n="$N" -v t=$((t1 - t0)) 'BEGIN {printf "%.0f", n / (t / 1e9)}')
thr=$(awk -v n="$N" -v t=$((t2 - t0)) 'BEGIN {printf "%.0f", n / (t / 1e9)}')
echo "   accepted into Redis: $acc messages/s ($(((t1 - t0) / 1000000)) ms)"
echo "   through to the sandbox's Graph: $thr messages/s ($(((t2 - t0) / 1000000)) ms to the last result)"
echo "   smtpd CPU: $(awk -v c=$((c1 - c0)) -v hz="$hz" -v n="$N" 'BEGIN {printf "%.1f", c / hz * 1e6 / n}') us per message"
echo "   jobs accepted by smtpd: $(metric sendgate_smtp_messages_accepted_total)"

half=$((acc / 2))
echo "== 2. half rate: $half messages/s for ${HALF}s, 20 sessions (Python smtplib)"
b_le() { curl -sf "http://127.0.0.1:$AP/metrics" | awk -v le="$1" -F'[{}" ]+' \
  '/^sendgate_smtp_handoff_seconds_bucket/ && $0 ~ "le=\"" le "\"" {print $NF}'; }
n10a=$(b_le 0.01) cnta=$(metric sendgate_smtp_handoff_seconds_count)
python3 - "$SP" "$half" "$HALF" <<'PY'
import smtplib, sys, threading, time
port, rate, secs = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
msg = "From: load@devices.contoso.com\r\nTo: sink@fabrikam.example\r\nSubject: half\r\n\r\n" + ("x" * 76 + "\r\n") * 64
def worker(k):
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("bench.test")
    per = rate / 20.0
    t0 = time.monotonic()
    i = 0
    while True:
        due = t0 + i / per
        now = time.monotonic()
        if due - t0 >= secs:
            break
        if due > now:
            time.sleep(due - now)
        s.sendmail("load@devices.contoso.com", ["sink@fabrikam.example"], msg)
        i += 1
    s.quit()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(20)]
for t in ts: t.start()
for t in ts: t.join()
PY
n10b=$(b_le 0.01) cntb=$(metric sendgate_smtp_handoff_seconds_count)
cnt=$(awk -v a="$cnta" -v b="$cntb" 'BEGIN {print b - a}')
in10=$(awk -v a="$n10a" -v b="$n10b" 'BEGIN {print b - a}')
echo "   $cnt messages; 250 within 10 ms of the final dot: $(awk -v a="$in10" -v c="$cnt" 'BEGIN {printf "%.2f", 100 * a / c}') %"
for le in 0.001 0.002 0.005 0.01 0.02 0.05; do
  v=$(b_le "$le")
  echo "     <= ${le}s: $v (cumulative since start)"
done

echo "== 3. 1,000 idle sessions"
rss0=$(awk '/^VmRSS:/ {print $2}' "/proc/$SM/status")
python3 - "$SP" "$SM" <<'PY'
import socket, sys
port, pid = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    f.readline()                      # 220
    s.sendall(b"EHLO device%d.test\r\n" % i)
    while not f.readline().startswith(b"250 "):
        pass
    socks.append((s, f))
rss = [l for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS:")][0].split()[1]
print("   smtpd RSS with 1,000 sessions open: %d MiB" % (int(rss) // 1024))
for s, f in socks:
    s.close()
PY
echo "   (before: $((rss0 / 1024)) MiB)"
