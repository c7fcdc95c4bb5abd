#!/usr/bin/env bash
# sendgate-loadgen against a private redis-server and a stand-in gateway
# (sg-lg-fakegw: reads sendgate:jobs through the consumer group, answers each
# job with the real codec's verdict, can drop or duplicate results), so the
# loadgen's queueing, matching and accounting are checked without the real
# gateway: counts by status and backend, duplicates, jobs missing a result
# (and the non-zero exit it causes), reply streams, pacing, SIGINT, progress.
. "$(dirname "$0")/lib.sh"
BENCH_DIR=${SG_BENCH_BIN_DIR:-$SG_SOURCE_DIR/build/bench}
LOADGEN="$BENCH_DIR/sendgate-loadgen"
FAKE="$BENCH_DIR/sg-lg-fakegw"
start_redis

# fake [options]: starts a fresh stand-in gateway.
fake() {
  "$FAKE" --idle 60 --max 300 "$@" >"$T/fake.out" 2>"$T/fake.log" &
  FAKE_PID=$!
  PIDS+=("$FAKE_PID")
  wait_for grep -q ready "$T/fake.out"
}
stop_fake() { # sets F to its counts (JSON)
  kill -TERM "$FAKE_PID"
  wait "$FAKE_PID" || true
  F=$(tail -n 1 "$T/fake.out")
}
lg() { # lg NAME args...: runs the loadgen, JSON to $T/NAME.json, stderr to $T/NAME.err, rc to LG_RC
  local name=$1
  shift
  LG_RC=0
  "$LOADGEN" --json --quiet "$@" >"$T/$name.json" 2>"$T/$name.err" || LG_RC=$?
}
j() { jq -r "$2" "$T/$1.json"; }

echo "# command line"
check "--help exits 0" "0" "$("$LOADGEN" --help >"$T/help.out" 2>&1; echo $?)"
check "--help text" "1" "$(grep -c '^usage: sendgate-loadgen' "$T/help.out")"
rc=0; "$LOADGEN" --count 0 >/dev/null 2>"$T/bad.err" || rc=$?
check "bad option exits 2" "2" "$rc"
check "one-line reason" "1 1" "$(wc -l <"$T/bad.err") $(grep -c 'bad value for --count' "$T/bad.err")"
PORT_DOWN=$(free_port)
rc=0; "$LOADGEN" --redis-url "redis://127.0.0.1:$PORT_DOWN/0" --connect-timeout 0.5 --count 3 \
  >/dev/null 2>"$T/down.err" || rc=$?
check "Redis down exits 1" "1" "$rc"
check "Redis down reason" "1" "$(grep -c '^sendgate-loadgen: cannot reach Redis at' "$T/down.err")"

echo "# every job answered"
fake
lg warmup --count 5 --run-id old # leaves 5 results of another run in sendgate:results
lg full --count 3000 --producers 3 --pipeline 32 --invalid 10 --acs 30 --recipients 2 \
  --attachments 1 --attachment-size 200 --senders 5
stop_fake
check "exit 0" "0" "$LG_RC"
check "stderr empty" "0" "$(wc -c <"$T/full.err")"
check "stop" "done" "$(j full .stop)"
check "queued/completed/missing" "3000 3000 0" "$(j full '"\(.jobs.queued) \(.jobs.completed) \(.jobs.missing)"')"
check "no duplicates/foreign/undecodable" "0 0 0" "$(j full '"\(.jobs.duplicates) \(.jobs.foreign) \(.jobs.undecodable)"')"
check "fake read every job (and the 5 warm-up ones)" "3005" "$(echo "$F" | jq .read)"
check "XLEN jobs = queued" "3005" "$(rcli XLEN sendgate:jobs)"
check "INVALID = planned invalid = fake's" "$(echo "$F" | jq .invalid) $(echo "$F" | jq .invalid)" \
  "$(j full '"\(.by_status.INVALID) \(.jobs.planned_invalid)"')"
check_ge "some invalid" 150 "$(j full .by_status.INVALID)"
check "SENT = the rest" "3000" "$(j full '.by_status.SENT + .by_status.INVALID')"
check "invalid codes" "$(j full .by_status.INVALID)" \
  "$(j full '.error_codes.SENDGATE_NO_RECIPIENTS + .error_codes.SENDGATE_BAD_ADDRESS')"
check "ACS results = planned ACS" "$(j full .jobs.planned_acs)" "$(j full .by_backend.acs)"
check_ge "some ACS" 700 "$(j full .by_backend.acs)"
check "expectations hold" "0 0" "$(j full '"\(.jobs.unexpected_invalid) \(.jobs.invalid_accepted)"')"
check "latency count" "3000" "$(j full .latency_ms.count)"
check "percentiles ordered" "true" "$(j full '.latency_ms | .min <= .p50 and .p50 <= .p90 and .p90 <= .p99 and .p99 <= .p99_9 and .p99_9 <= .max and .max > 0')"
check "throughput figures" "true" "$(j full '.throughput | .queued_per_s > 0 and .completed_per_s > 0 and .queue_s <= .elapsed_s')"
check "unique job ids on the stream" "3000" "$(rcli --raw XRANGE sendgate:jobs - + | grep -aoE "$(j full .run_id)-[0-9]+" | sort -u | wc -l)"

echo "# reply stream"
fake
lg reply --count 200 --reply-stream lg:replies
stop_fake
check "reply stream: exit 0, completed" "0 200" "$LG_RC $(j reply .jobs.completed)"
check "results went to the reply stream" "200" "$(rcli XLEN lg:replies)"

echo "# dropped and duplicated results"
fake --drop-every 50 --dup-every 97
lg drop --count 1000 --timeout 2
stop_fake
check "exit 1" "1" "$LG_RC"
check "stop" "timeout" "$(j drop .stop)"
check "missing = dropped" "$(echo "$F" | jq .dropped)" "$(j drop .jobs.missing)"
check_ge "some dropped" 19 "$(j drop .jobs.missing)"
check "duplicates = fake's" "$(echo "$F" | jq .duplicated)" "$(j drop .jobs.duplicates)"
check "completed + missing" "1000" "$(j drop '.jobs.completed + .jobs.missing')"
check "missing ids listed" "20" "$(j drop '.missing_ids | length')"
check "missing_ids are ours" "true" "$(jq --arg r "$(j drop .run_id)-" '[.missing_ids[] | startswith($r)] | all' "$T/drop.json")"
check "one-line reason" "1" "$(grep -c '^sendgate-loadgen: [0-9]* jobs missing a result' "$T/drop.err")"
fake --drop-every 10
lg allow --count 100 --timeout 1 --allow-missing
stop_fake
check "--allow-missing exits 0" "0 10" "$LG_RC $(j allow .jobs.missing)"

echo "# pacing, progress, SIGINT"
fake
"$LOADGEN" --rate 400 --duration 1.5 --interval 0.2 --json >"$T/rate.json" 2>"$T/rate.err" || true
check "rate: planned and queued" "600 600" "$(j rate '"\(.jobs.planned) \(.jobs.queued)"')"
check "rate: paced over ~1.5 s" "true" "$(j rate '.throughput.queue_s >= 1.3')"
check_ge "plain progress lines" 3 "$(grep -c '^\[ *[0-9.]*s\] queued [0-9]*/600' "$T/rate.err")"
check "no terminal codes off a TTY" "0" "$(grep -c $'\r' "$T/rate.err" || true)"
BASE=$(rcli XLEN sendgate:jobs)
"$LOADGEN" --rate 200 --duration 60 --timeout 20 --json --quiet >"$T/int.json" 2>"$T/int.err" &
LG_PID=$!
PIDS+=("$LG_PID")
queued_some() { [ "$(rcli XLEN sendgate:jobs)" -ge $((BASE + 100)) ]; }
wait_for queued_some
kill -INT "$LG_PID"
rc=0; wait "$LG_PID" || rc=$?
stop_fake
check "SIGINT: drains and exits 0" "0 done 0" "$rc $(j int .stop) $(j int .jobs.missing)"
check "SIGINT: stopped queueing" "true" "$(j int '.jobs.queued > 0 and .jobs.queued < 2000 and .jobs.completed == .jobs.queued')"

finish
