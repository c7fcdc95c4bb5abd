#!/usr/bin/env bash
# Delivery guarantees: the sent ledger (a redelivered or duplicate job id is
# not sent again; its result is re-published), long waits leave memory for the
# delayed set and come back when due, and the ambiguous-outcome policy.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox
J=(env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" "$SENDGATE" send --wait --timeout 20
  --from sender@contoso.com --to r@example.com --subject ledger --text "once")

echo "# ledger"
start_gateway SENDGATE_GATEWAY_DELAYED_AFTER_MS=1000
check "first send" "SENT" "$("${J[@]}" --id dup-1 | awk '{print $2}')"
again=$("${J[@]}" --id dup-1)
check "same id again: result re-published" "SENT" "$(echo "$again" | awk '{print $2}')"
check "named a re-publication" 1 "$(echo "$again" | grep -c 'error=SENDGATE_DUPLICATE')"
check "sent once" 1 "$(sbx_stat .graph_accepted)"
# Another sender reusing the id is another message: sent, not given the first one's result.
other=$(env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" "$SENDGATE" send --wait --timeout 20 \
  --from other@contoso.com --to r@example.com --subject ledger --text "twice" --id dup-1)
check "same id, other sender: sent" "SENT" "$(echo "$other" | awk '{print $2}')"
check "same id, other sender: not a re-publication" 0 "$(echo "$other" | grep -c DUPLICATE)"
check "sent twice in all" 2 "$(sbx_stat .graph_accepted)"
buckets=$(rcli --scan --pattern 'sendgate:ledger:*')
b1=$(echo "$buckets" | head -1)
check "ledger: two entries" 2 "$(for b in $buckets; do rcli hlen "$b"; done | awk '{s+=$1} END {print s}')"
check "ledger bucket is a small hash" "listpack" "$(rcli object encoding "$b1")"
check_ge "ledger has a TTL" 1 "$(rcli ttl "$b1")"
check "no key per message" 0 "$(rcli exists sendgate:sent:dup-1)"

echo "# delayed set"
# A mailbox whose daily recipient budget is spent answers 429 with a
# Retry-After of seconds; the gateway parks those jobs instead of holding them.
sbx_config graph.mailbox_recipients_per_day=4 graph.day_window_ms=3000
queue_jobs 10 --senders 1 --prefix budget
wait_results 10 60
check "all sent eventually" 10 "$(summary SENT)"
check_ge "jobs went through the delayed set" 1 "$(grep -c 'moved to the delayed set' "$T/gateway.log")"
check "delayed set empty again" 0 "$(rcli zcard sendgate:delayed)"
check "no duplicates" 0 "$(sbx_stat .duplicates)"

echo "# ledger of an older gateway (sendgate:sent:<id>, a whole SENT result) still honoured"
# ledger_legacy auto: this gateway's scan found no key of the older layout, so
# its lookups do not ask for them; a gateway started after one is written
# looks them up (from its start, and while its scans meet one).
legacy_absent() { grep -q 'no key of the older ledger layout' "$T/gateway.log"; }
check "auto: no old key, not looked up" 0 "$(wait_for legacy_absent; echo $?)"
rcli eval "redis.call('SET', KEYS[2], redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][2][2])" \
  2 sendgate:results sendgate:sent:legacy-1 >/dev/null
stop_gateway
start_gateway SENDGATE_GATEWAY_DELAYED_AFTER_MS=1000
legacy_met() { grep -q 'keys of the older ledger layout exist' "$T/gateway.log"; }
check "auto: the old key was met" 0 "$(wait_for legacy_met; echo $?)"
before=$(sbx_stat .graph_accepted)
old=$("${J[@]}" --id legacy-1)
check "old ledger key: SENT" "SENT" "$(echo "$old" | awk '{print $2}')"
check "old ledger key: a re-publication" 1 "$(echo "$old" | grep -c 'error=SENDGATE_DUPLICATE')"
check "old ledger key: not sent again" "$before" "$(sbx_stat .graph_accepted)"
stop_gateway

echo "# ambiguous outcomes"
rcli del sendgate:results >/dev/null
sbx_config graph.mailbox_recipients_per_day=0 faults.rate_504=1
start_gateway SENDGATE_GATEWAY_AMBIGUOUS=fail
queue_jobs 3 --senders 1 --prefix amb
wait_results 3 30
check "policy fail: FAILED" 3 "$(summary FAILED)"
check "policy fail: named" 3 "$(summary code:SENDGATE_AMBIGUOUS)"
stop_gateway
rcli del sendgate:results >/dev/null
sbx_config faults.rate_504=0.5 faults.seed=7
start_gateway SENDGATE_GATEWAY_RETRY_BASE_MS=10 SENDGATE_GATEWAY_MAX_ATTEMPTS=20
queue_jobs 20 --senders 2 --prefix amb2
wait_results 20 60
check "policy resend: all SENT" 20 "$(summary SENT)"
check_ge "policy resend: named in results" 1 "$(summary code:SENDGATE_AMBIGUOUS)"
stop_gateway

echo "# reaper: another process takes over a dead consumer's entries"
rcli del sendgate:results >/dev/null
sbx_config faults.rate_504=0 faults.latency_ms=200
queue_jobs 400 --senders 2 --prefix reap
start_gateway SENDGATE_GATEWAY_CONSUMER=gw-a
for i in $(seq 1 100); do [ "$(rcli xlen sendgate:results)" -ge 20 ] && break; sleep 0.05; done
kill -9 "$GATEWAY_PID"
wait "$GATEWAY_PID" 2>/dev/null || true
check "gw-a left entries pending" "true" "$([ "$(rcli xpending sendgate:jobs sendgate | head -1)" -gt 0 ] && echo true)"
sbx_config faults.latency_ms=0
start_gateway SENDGATE_GATEWAY_CONSUMER=gw-b SENDGATE_GATEWAY_REAPER_MIN_IDLE_MS=1000 \
  SENDGATE_GATEWAY_REAPER_INTERVAL_MS=500
wait_results 400 60
check "every job has a result" 400 "$(summary distinct_ids)"
check "nothing pending" 0 "$(rcli xpending sendgate:jobs sendgate | head -1)"
stop_gateway
finish
