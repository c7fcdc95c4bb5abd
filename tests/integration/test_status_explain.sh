#!/usr/bin/env bash
# `sendgate status` and `sendgate explain` against a running gateway and the
# sandbox: the sandbox allows a mailbox 2 requests per minute, so the first
# jobs are sent and the rest are throttled (429 + Retry-After): the lane is
# paused with an until-time and jobs wait on it. explain then finds a job in
# each place: done (its result and the sent ledger), pending and in a
# gateway's memory, queued and not read (gateway stopped), parked in the
# delayed set (gateway started again with a short delayed_after_ms), and an
# unknown id (exit 1). Also the /status endpoint's bounds and the consumer
# group gauges on /metrics.
. "$(dirname "$0")/lib.sh"

start_redis
start_sandbox --set graph.mailbox_requests=2 --set graph.mailbox_window_ms=60000 \
  --set graph.mailbox_recipients_per_day=0
MPORT=$(free_port)
URL=http://127.0.0.1:$MPORT
export SENDGATE_HTTP_LISTEN=127.0.0.1:$MPORT
start_gateway SENDGATE_HTTP_LISTEN=127.0.0.1:$MPORT
wait_for curl -sf "$URL/healthz"

echo "# throttled: the lane pauses, jobs wait on it"
queue_jobs 6 --prefix st --senders 1
wait_results 2 30
lane_paused() {
  "$SENDGATE" status --json >"$T/status.json" &&
    jq -e '.lanes.list[] | select(.state == "paused" and .queued >= 1)' "$T/status.json" >/dev/null
}
wait_for lane_paused
check "status: one lane" 1 "$(jq '.lanes.total' "$T/status.json")"
check "status: the lane is the sender's" "graph default sender-0@contoso.com" \
  "$(jq -r '.lanes.list[0] | "\(.backend) \(.account) \(.mailbox)"' "$T/status.json")"
now=$(jq '.process.now_ms' "$T/status.json")
until_ms=$(jq '.lanes.list[0].paused_until_ms' "$T/status.json")
check "status: paused until a time in the future" true "$([ "$until_ms" -gt "$now" ] && echo true || echo false)"
check "status: pause reason" true "$(jq '.lanes.list[0].pause_reason | test("Retry-After")' "$T/status.json")"
check_ge "status: jobs queued on the lane" 1 "$(jq '.jobs.queued.count' "$T/status.json")"
check "status: jobs held = 4" 4 "$(jq '.jobs.total' "$T/status.json")"
check "status: totals sent 2" 2 "$(jq '.totals.sent' "$T/status.json")"
check "status: consumer" test-gw "$(jq -r '.process.consumer' "$T/status.json")"
check "status: redis connected" true "$(jq '.redis.connected' "$T/status.json")"
check "status: the Graph token is valid" valid "$(jq -r '.tokens[] | select(.backend == "graph") | .state' "$T/status.json")"
check_ge "status: a connection open" 1 "$(jq '[.connections[].open] | add' "$T/status.json")"
pending_ok() { "$SENDGATE" status --json | jq -e '.redis.pending == 4' >/dev/null; }
wait_for pending_ok
check "status: group pending 4" 4 "$("$SENDGATE" status --json | jq '.redis.pending')"
"$SENDGATE" status >"$T/screen.txt"
check "status screen: paused lane" true "$(grep -q 'paused until .*Retry-After' "$T/screen.txt" && echo true || echo false)"
check "status screen: the mailbox" true "$(grep -q 'sender-0@contoso.com' "$T/screen.txt" && echo true || echo false)"
check "status: --lanes 0 lists none but counts" "0 1" "$("$SENDGATE" status --json --lanes 0 | jq -r '"\(.lanes.listed) \(.lanes.not_listed)"')"
check "status: bad lanes query is a 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/status?lanes=x")"
check "status: unknown path is a 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/status/nope")"
check "status: --watch refuses 0.1 s" 2 "$("$SENDGATE" status --watch 0.1 >/dev/null 2>&1; echo $?)"
# --watch refreshes until SIGINT, then exits 0.
"$SENDGATE" status --watch 0.5 >"$T/watch.txt" 2>"$T/watch.log" &
WPID=$!
watched() { [ "$(grep -c 'LANES' "$T/watch.txt")" -ge 2 ]; }
wait_for watched
kill -INT "$WPID"
wrc=0
wait "$WPID" || wrc=$?
check "status --watch: exits 0 on SIGINT" 0 "$wrc"
check_ge "status --watch: screens" 2 "$(grep -c 'LANES' "$T/watch.txt")"

echo "# metrics: consumer group gauges"
curl -sf "$URL/metrics" >"$T/metrics.txt"
check "metrics: redis up" 1 "$(awk '$1 == "sendgate_redis_up" {print $2}' "$T/metrics.txt")"
check "metrics: pending" 4 "$(awk '$1 == "sendgate_consumer_pending{stream=\"sendgate:jobs\"}" {print $2}' "$T/metrics.txt")"
check "metrics: lag" 0 "$(awk '$1 == "sendgate_consumer_lag{stream=\"sendgate:jobs\"}" {print $2}' "$T/metrics.txt")"

echo "# explain: done, pending in a gateway, unknown"
done_id=$(rcli --raw xrange sendgate:results - + | grep -ao 'st-[0-9]' | head -1)
"$SENDGATE" explain "$done_id" --sender sender-0@contoso.com >"$T/explain_done.txt"
check "explain done: exit 0" 0 "$("$SENDGATE" explain "$done_id" >/dev/null; echo $?)"
check "explain done: result SENT" true "$(grep -q 'done: SENT' "$T/explain_done.txt" && echo true || echo false)"
check "explain done: the ledger (with --sender)" true "$(grep -q 'sent ledger' "$T/explain_done.txt" && echo true || echo false)"
check "explain done: the ledger needs the sender" null "$("$SENDGATE" explain "$done_id" --json | jq -r '.ledger')"
check "explain done --json" SENT "$("$SENDGATE" explain "$done_id" --json | jq -r '.result.status')"
wait_id=$(jq -r '.jobs' "$T/status.json" >/dev/null; for i in 0 1 2 3 4 5; do [ "st-$i" != "$done_id" ] && ! rcli --raw xrange sendgate:results - + | grep -aq "st-$i" && { echo "st-$i"; break; }; done)
"$SENDGATE" explain "$wait_id" --json >"$T/explain_wait.json"
check "explain waiting: pending, read by test-gw" test-gw "$(jq -r '.pending.consumer' "$T/explain_wait.json")"
check "explain waiting: in the gateway, queued" queued "$(jq -r '.gateway.state' "$T/explain_wait.json")"
check "explain waiting: why names the pause" true "$(jq '.gateway.why | test("paused until")' "$T/explain_wait.json")"
check "explain waiting: via /status?job=" true "$(curl -sf "$URL/status?job=$wait_id" | jq '.found')"
check "explain unknown: exit 1" 1 "$("$SENDGATE" explain no-such-job >"$T/explain_unknown.txt"; echo $?)"
check "explain unknown: says not found" true "$(grep -q 'not found' "$T/explain_unknown.txt" && echo true || echo false)"

echo "# gateway stopped: pending without a gateway, new jobs not read"
stop_gateway
queue_jobs 2 --prefix late --senders 1
"$SENDGATE" explain late-1 --json >"$T/explain_late.json"
check "explain not read: in the stream" true "$(jq '.stream.present and .stream.not_read' "$T/explain_late.json")"
check "explain not read: one entry ahead" 1 "$(jq '.stream.ahead' "$T/explain_late.json")"
entry=$(jq -r '.entry_id' "$T/explain_late.json")
check "explain --entry: the same job" late-1 "$("$SENDGATE" explain --entry "$entry" --json | jq -r '.job_id')"
"$SENDGATE" explain "$wait_id" --json >"$T/explain_stopped.json"
check "explain stopped: still pending" true "$(jq '.pending != null and .gateway == null' "$T/explain_stopped.json")"
check "explain: Redis down is exit 2" 2 "$("$SENDGATE" explain x --redis-url redis://127.0.0.1:1/0 --url none >/dev/null 2>&1; echo $?)"

echo "# gateway again, long waits parked: the delayed set"
start_gateway SENDGATE_HTTP_LISTEN=127.0.0.1:$MPORT SENDGATE_GATEWAY_DELAYED_AFTER_MS=1000
parked() { "$SENDGATE" explain "$wait_id" --json | jq -e '.delayed != null' >/dev/null; }
wait_for parked
"$SENDGATE" explain "$wait_id" --json >"$T/explain_delayed.json"
now=$(now_ms)
check "explain delayed: parked until later" true "$(jq --argjson now "$now" '.delayed.until_ms > $now' "$T/explain_delayed.json")"
"$SENDGATE" explain "$wait_id" >"$T/explain_delayed.txt"
check "explain delayed: says so" true "$(grep -q 'parked in the delayed set until' "$T/explain_delayed.txt" && echo true || echo false)"
delayed_ok() { "$SENDGATE" status --json | jq -e '.redis.delayed >= 1' >/dev/null; }
wait_for delayed_ok
check "status: delayed set counted" true "$("$SENDGATE" status --json | jq '.redis.delayed >= 1')"
stop_gateway
check "status: no gateway is exit 2" 2 "$("$SENDGATE" status >/dev/null 2>&1; echo $?)"
finish
