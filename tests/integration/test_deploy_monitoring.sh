#!/usr/bin/env bash
# The monitoring files in deploy/ against the real thing: promtool checks and
# unit-tests the alerting rules (deploy/prometheus/), lints the /metrics of a
# running gateway and of `sendgate smtpd` (promtool check metrics), and every
# metric the rules and the Grafana dashboard (deploy/grafana/) name must be a
# family those two export. The dashboard's queries must parse (each is
# checked by promtool as a recording rule, Grafana's variables filled in), and
# its panels must be well formed. The families of budgets, priorities and
# pools (dashboard row "Budgets, priorities and pools") are checked for
# values from the activity: latency by priority, pool choices, budget calls.
# promtool comes with Debian's prometheus
# package (deploy/setup-debian.sh); without it the test fails.
. "$(dirname "$0")/lib.sh"

RULES="$SG_SOURCE_DIR/deploy/prometheus/sendgate-alerts.yml"
RULES_TEST="$SG_SOURCE_DIR/deploy/prometheus/sendgate-alerts.test.yml"
DASH="$SG_SOURCE_DIR/deploy/grafana/sendgate-dashboard.json"
for tool in promtool:prometheus jq:jq python3:python3; do
  command -v "${tool%%:*}" >/dev/null || { echo "FAIL ${tool%%:*} is not installed (Debian package ${tool#*:})" >&2; exit 1; }
done

echo "# rules"
check "promtool check rules" 0 "$(promtool check rules "$RULES" >"$T/rules.log" 2>&1; echo $?)"
check "promtool test rules" 0 "$(cd "$(dirname "$RULES_TEST")" && promtool test rules "$RULES_TEST" >"$T/rules_test.log" 2>&1; echo $?)"
[ "$FAILS" -eq 0 ] || cat "$T/rules.log" "$T/rules_test.log"

echo "# a gateway and smtpd with some activity, scraped"
start_redis
start_sandbox --set faults.rate_503=0.1 --set graph.mailbox_concurrency=1
MPORT=$(free_port)
# A sender pool, and shared budgets on (the default, said here because the
# dashboard's budget panels need their families).
printf '[pool.mon]\nmembers = p1@contoso.com, p2@contoso.com\n' >"$T/gw.conf"
start_gateway SENDGATE_HTTP_LISTEN=127.0.0.1:$MPORT SENDGATE_GATEWAY_RETRY_BASE_MS=10 \
  SENDGATE_GATEWAY_SHARED_BUDGETS=true --config "$T/gw.conf"
queue_jobs 40 --senders 2 --invalid-every 10 # bulk: they belong to a campaign
queue_jobs 10 --sender pool:mon --campaign "" --prefix tx --reply-stream sendgate:results:tx
rcli xadd sendgate:jobs '*' job 'not protobuf' >/dev/null # a dead letter
wait_results 41 60
wait_results 10 60 sendgate:results:tx
SPORT=$(free_port)
env SENDGATE_HTTP_LISTEN=127.0.0.1:$SPORT SENDGATE_SMTP_LISTEN=off \
  SENDGATE_SMTP_LISTEN_RELAY=127.0.0.1:$(free_port) SENDGATE_SMTP_RELAY_NETWORKS=127.0.0.0/8 \
  SENDGATE_SMTP_RELAY_SENDERS=@contoso.com SENDGATE_SMTP_BOUNCE_SENDER=postmaster@contoso.com "$SENDGATE" smtpd >"$T/smtpd.out" 2>"$T/smtpd.log" &
PIDS+=($!)
wait_for curl -sf "http://127.0.0.1:$SPORT/metrics"
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T/gateway.metrics"
curl -sf "http://127.0.0.1:$SPORT/metrics" >"$T/smtpd.metrics"
check "gateway: throttles seen (labeled families have children)" true \
  "$(awk '$1 ~ /^sendgate_throttles_total/ && $2 > 0 {f=1} END {print f ? "true" : "false"}' "$T/gateway.metrics")"
# The families of budgets, priorities and pools have children with the activity's values.
metric() { awk -v n="$1" '$1 == n {print $2; f=1} END {if (!f) print "none"}' "$T/gateway.metrics"; }
check "latency by priority: the 10 transactional jobs" 10 \
  "$(metric 'sendgate_job_latency_by_priority_seconds_count{priority="transactional"}')"
check "latency by priority: every result, split" "$(metric sendgate_job_duration_seconds_count)" \
  "$(($(metric 'sendgate_job_latency_by_priority_seconds_count{priority="transactional"}') + $(metric 'sendgate_job_latency_by_priority_seconds_count{priority="bulk"}')))"
check "sent by priority: transactional" 10 "$(metric 'sendgate_jobs_sent_by_priority_total{priority="transactional"}')"
check "pool members chosen" 10 "$(awk '$1 ~ /^sendgate_pool_member_chosen_total\{pool="mon"/ {n += $2} END {print n + 0}' "$T/gateway.metrics")"
check_ge "budget calls made" 1 "$(metric sendgate_budget_calls_total)"
check "budget not on fallback" 0 "$(metric sendgate_budget_fallback)"
check "backlog gauges" 3 "$(grep -c '^sendgate_stream_backlog{stream="\(jobs\|bulk\|delayed_bulk\)"} [0-9]' "$T/gateway.metrics")"
check "promtool check metrics: gateway" "0 " "$(promtool check metrics <"$T/gateway.metrics" >"$T/lint.log" 2>&1; echo "$? $(cat "$T/lint.log")")"
check "promtool check metrics: smtpd" "0 " "$(promtool check metrics <"$T/smtpd.metrics" >"$T/lint.log" 2>&1; echo "$? $(cat "$T/lint.log")")"

echo "# every metric named in the rules and the dashboard is exported"
cat "$T/gateway.metrics" "$T/smtpd.metrics" | awk '$1 == "#" && $2 == "TYPE" {print $3, $4}' | sort -u >"$T/families"
check_ge "families exported" 25 "$(wc -l <"$T/families")"
# names: a histogram's _bucket/_sum/_count series belong to its family.
exported() {
  local n=$1 base
  grep -q "^$n " "$T/families" && return 0
  base=$(sed -E 's/_(bucket|sum|count)$//' <<<"$n")
  grep -q "^$base histogram$" "$T/families"
}
jq -r '.. | .expr? // empty' "$DASH" >"$T/dash_exprs"
check_ge "dashboard queries" 40 "$(wc -l <"$T/dash_exprs")"
for src in "$RULES" "$T/dash_exprs"; do
  for n in $(grep -o 'sendgate_[a-z0-9_]*' "$src" | sort -u); do
    if exported "$n"; then :; else check "$(basename "$src"): $n exported" yes no; fi
  done
done
check_ge "metrics used by the rules" 12 "$(grep -o 'sendgate_[a-z0-9_]*' "$RULES" | sort -u | wc -l)"
# Families the dashboard does not show (a note, so that a new metric is seen).
for n in $(awk '{print $1}' "$T/families"); do
  grep -q "$n" "$T/dash_exprs" || echo "note: $n is not on the dashboard"
done

echo "# the dashboard"
{
  echo "groups:"
  echo "  - name: dashboard"
  echo "    rules:"
  i=0
  while IFS= read -r e; do
    i=$((i + 1))
    e=${e//'$__rate_interval'/5m}
    e=${e//'$instance'/.*}
    printf '      - record: dashboard:q%d\n        expr: %s\n' "$i" "$(jq -Rn --arg e "$e" '$e')"
  done <"$T/dash_exprs"
} >"$T/dash_rules.yml"
check "dashboard queries parse" 0 "$(promtool check rules "$T/dash_rules.yml" >"$T/dash_rules.log" 2>&1; echo $?)"
check "panel ids unique" true "$(jq '[.panels[].id] | length == (unique | length)' "$DASH")"
check "every panel has a query" true \
  "$(jq '[.panels[] | select(.type != "row") | (.targets // []) | length > 0 and all(.[]; .expr != "")] | all' "$DASH")"
check "panels use the datasource variable" true \
  "$(jq '[.panels[] | select(.type != "row") | .datasource.uid == "${datasource}"] | all' "$DASH")"
check "panels fit the 24-column grid" true "$(jq '[.panels[].gridPos | .x + .w <= 24] | all' "$DASH")"
check "instance variable" true "$(jq '[.templating.list[].name] | index("instance") != null' "$DASH")"
finish
