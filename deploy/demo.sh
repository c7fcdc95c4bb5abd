#!/usr/bin/env bash
# The gateway's main job end to end on local defaults: installs what is
# missing, builds, starts a private Redis and the sandbox (the local stand-in
# for Entra, Graph and ACS), starts `sendgate run`, queues a sample batch from
# several senders (some jobs invalid on purpose), shows progress, prints a
# summary of the results by status, and stops everything it started. On the
# way it sends one message with `sendgate send --wait` and one through
# `sendgate smtpd` with Python's smtplib (a device that only speaks SMTP).
#   deploy/demo.sh [JOBS]      (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-2000}
bash deploy/setup-debian.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
B=build/gateway
W=$(mktemp -d /tmp/sendgate-demo.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "logs: $W"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

RP=$(port)
redis-server --port "$RP" --bind 127.0.0.1 --dir "$W" --save '' --appendonly yes \
  --appendfsync everysec >"$W/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do redis-cli -p "$RP" ping >/dev/null 2>&1 && break; sleep 0.05; done
export SENDGATE_REDIS_URL="redis://127.0.0.1:$RP/0"
echo "== Redis on 127.0.0.1:$RP"

"$B/sendgate-sandbox" --listen 127.0.0.1:0 --state-dir "$W/sandbox" --env-file "$W/sandbox.env" \
  --set faults.latency_ms=20 --set faults.rate_503=0.01 --set faults.retry_after_s=0.5 \
  --set acs.sends_per_minute=0 --set acs.sends_per_hour=0 --set acs.status_per_minute=0 \
  --set acs.status_per_hour=0 --set acs.op_step_ms=100 \
  --set acs.sends_per_hour=0 >/dev/null 2>"$W/sandbox.log" &
PIDS+=($!)
for _ in $(seq 1 200); do [ -s "$W/sandbox.env" ] && break; sleep 0.05; done
set -a
. "$W/sandbox.env"
set +a
echo "== sandbox at $SENDGATE_SANDBOX_URL (20 ms latency; 1% of Graph requests answer 503 with Retry-After)"

# The sandbox's ACS quotas are raised above, so the gateway's are too (as an
# operator does with the quota Microsoft granted).
SENDGATE_HTTP_LISTEN= SENDGATE_ACS_SENDS_PER_MINUTE=0 SENDGATE_ACS_SENDS_PER_HOUR=0 \
  SENDGATE_ACS_POLLS_PER_MINUTE=0 SENDGATE_ACS_POLLS_PER_HOUR=0 \
  "$B/sendgate" run 2>"$W/gateway.log" &
GW=$!
PIDS+=($GW)
echo "== gateway started (log: $W/gateway.log)"

echo "== one message with sendgate send --wait:"
"$B/sendgate" send --from alerts@contoso.com --to oncall@example.com \
  --subject "Disk almost full on db-1" --text "92% used on /var" --wait --timeout 30

# A device that only speaks SMTP: sendgate smtpd's relay listener (loopback
# only, senders @contoso.com), and Python's smtplib as the client.
SP=$(port)
SENDGATE_SMTP_LISTEN=off SENDGATE_SMTP_LISTEN_RELAY="127.0.0.1:$SP" \
  SENDGATE_SMTP_RELAY_NETWORKS=127.0.0.1/32 SENDGATE_SMTP_RELAY_SENDERS=@contoso.com \
  SENDGATE_HTTP_LISTEN= "$B/sendgate" smtpd 2>"$W/smtpd.log" &
PIDS+=($!)
echo "== sendgate smtpd relay on 127.0.0.1:$SP; one message with Python's smtplib:"
python3 - "$SP" <<'PY'
import smtplib, sys, time
msg = ("From: Scanner <scanner@contoso.com>\r\nTo: frontdesk@example.com\r\n"
       "Subject: Scan from MFP-2\r\n\r\nscanned document attached (demo)\r\n")
for _ in range(100):  # smtpd is starting
    try:
        s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
        break
    except OSError:
        time.sleep(0.05)
s.ehlo("mfp-2.contoso.com")
s.mail("scanner@contoso.com")
s.rcpt("frontdesk@example.com")
code, text = s.data(msg)
print("   smtpd answered:", code, text.decode())
s.quit()
PY
for _ in $(seq 1 100); do [ "$(redis-cli -p "$RP" xlen sendgate:results)" -ge 1 ] && break; sleep 0.1; done
echo "   its result: $(build/tests/sg_testjobs summary "$SENDGATE_REDIS_URL" sendgate:results |
  awk '$2 > 0 && ($1 == "SENT" || $1 == "FAILED" || $1 == "INVALID" || $1 == "EXPIRED") {print $1}')"
redis-cli -p "$RP" del sendgate:results >/dev/null # the batch's summary below counts the batch only

echo "== queueing $JOBS jobs from 12 senders: every 4th through ACS, every 50th invalid on purpose"
build/tests/sg_testjobs gen "$JOBS" --senders 12 --invalid-every 50 --acs-every 4 --prefix demo |
  redis-cli -p "$RP" --pipe >/dev/null
t0=$(date +%s%N)
last=-1
for i in $(seq 1 1200); do
  n=$(redis-cli -p "$RP" xlen sendgate:results)
  if [ -t 1 ]; then
    printf '\r   results: %6d / %d' "$n" "$JOBS"
  elif [ $((i % 10)) -eq 0 ] || [ "$n" -ge "$JOBS" ]; then
    [ "$n" != "$last" ] && echo "   results: $n / $JOBS"
    last=$n
  fi
  [ "$n" -ge "$JOBS" ] && break
  sleep 0.1
done
t1=$(date +%s%N)
[ -t 1 ] && echo
echo "== summary (results stream sendgate:results) after $(( (t1 - t0) / 1000000 )) ms"
build/tests/sg_testjobs summary "$SENDGATE_REDIS_URL" sendgate:results
echo "== sandbox counters"
curl -s --cacert "$SENDGATE_TLS_CA_FILE" "$SENDGATE_SANDBOX_URL/sandbox/stats" |
  jq -c '{graph_accepted, acs_accepted, acs_polls, duplicates, throttled_graph, retry_after_violations, tokens_issued, faults_503: .faults["503"]}'
kill -TERM "$GW"
wait "$GW"
echo "== gateway stopped cleanly"
