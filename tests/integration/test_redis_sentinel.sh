#!/usr/bin/env bash
# Redis Sentinel (redis-sentinel://): a primary, a replica and three
# sentinels from Debian's redis-server. The gateway finds the primary through
# the sentinels; in the middle of a run the primary is killed, the sentinels
# promote the replica, and the gateway follows without help: every job ends
# with a terminal result. Replication is asynchronous, so what the old primary took
# after the replica's last sync is lost; the test prints what that cost
# (results, ledger entries and so duplicates) and README.md quotes it.
. "$(dirname "$0")/lib.sh"
start_sandbox --set faults.latency_ms=20 --set graph.mailbox_recipients_per_day=0

# start_node NAME [redis-server options]: a data node; sets NODE_PORT.
start_node() {
  local name=$1
  shift
  NODE_PORT=$(free_port)
  mkdir -p "$T/$name"
  redis-server --port "$NODE_PORT" --bind 127.0.0.1 --dir "$T/$name" --save '' \
    --appendonly no --daemonize no "$@" >"$T/$name.log" 2>&1 &
  NODE_PID=$!
  PIDS+=("$NODE_PID")
}
start_node primary
P1=$NODE_PORT
P1_PID=$NODE_PID
wait_for redis-cli -p "$P1" ping
start_node replica --replicaof 127.0.0.1 "$P1"
P2=$NODE_PORT
is_synced() { redis-cli -p "$P2" info replication | tr -d '\r' | grep -qx 'master_link_status:up'; }
wait_for is_synced

SPORTS=()
for i in 1 2 3; do
  sp=$(free_port)
  SPORTS+=("$sp")
  printf '%s\n' "port $sp" "bind 127.0.0.1" "dir $T" \
    "sentinel monitor sg 127.0.0.1 $P1 2" "sentinel down-after-milliseconds sg 1000" \
    "sentinel failover-timeout sg 5000" >"$T/sentinel$i.conf"
  redis-server "$T/sentinel$i.conf" --sentinel >"$T/sentinel$i.log" 2>&1 &
  PIDS+=($!)
done
knows_replica() { [ "$(redis-cli -p "${SPORTS[0]}" sentinel replicas sg | grep -c "$P2")" -ge 1 ]; }
wait_for knows_replica
sees_sentinels() { [ "$(redis-cli -p "${SPORTS[0]}" sentinel sentinels sg | grep -c '^ip$')" -ge 2 ]; }
wait_for sees_sentinels
primary_port() { redis-cli -p "${SPORTS[0]}" sentinel get-master-addr-by-name sg | sed -n 2p; }
check "sentinels name the primary" "$P1" "$(primary_port)"

# lib.sh's helpers talk to REDIS_PORT: the primary, whichever it is.
REDIS_PORT=$P1
export SENDGATE_REDIS_URL="redis-sentinel://127.0.0.1:${SPORTS[0]},127.0.0.1:${SPORTS[1]},127.0.0.1:${SPORTS[2]}/sg/0"
N=3000
queue_jobs $N --senders 20 --prefix snt
start_gateway SENDGATE_GRAPH_MAILBOX_RECIPIENTS_PER_DAY=0
for i in $(seq 1 1200); do [ "$(rcli xlen sendgate:results)" -ge 600 ] && break; sleep 0.025; done
check_ge "gateway under way on the first primary" 600 "$(rcli xlen sendgate:results)"
kill -9 "$P1_PID" # the primary dies; the sentinels promote the replica
moved() { [ "$(primary_port)" = "$P2" ]; }
wait_for moved
REDIS_PORT=$P2
check "failed over to the replica" "$P2" "$(primary_port)"
wait_results $N 120
check "every job has a terminal result" $N "$(summary distinct_ids)"
check "all SENT" $N "$(summary SENT)"
check "jobs stream drained" 0 "$(jobs_drained)"
check "nothing pending" 0 "$(rcli xpending sendgate:jobs sendgate | head -1)"
check "the sandbox holds every message" $N "$(sbx_stat .distinct_messages)"
check_ge "the gateway reconnected to the new primary" 1 \
  "$(grep -c "\"msg\":\"connected\".*\"primary\":\"127.0.0.1:$P2\"" "$T/gateway.log")"
results=$(summary results)
dups=$(sbx_stat .duplicates)
echo "failover: $N jobs, $results results ($((results - N)) published twice), sandbox duplicates: $dups"
# Bounded by what was in flight or acked in the last moments on the old
# primary (20 senders x 4 in flight, plus one completion batch).
check "duplicates at most the jobs in flight" "true" "$([ "$dups" -le 200 ] && echo true)"
stop_gateway && rc=0 || rc=$?
check "SIGTERM exit code" 0 "$rc"
finish
