#!/usr/bin/env bash
# bench/run.sh in a tiny mode (2,000 messages, sandbox latency 0 and 20 ms):
# it must succeed and leave a Markdown table with one row per latency, a
# results.json with every figure (numbers, all jobs answered, h2load all 2xx)
# and a non-empty PNG; with --redis-compare, Redis's CPU per message for the
# gateway and for the plain MULTI worker on the same jobs, with results of the
# same size. Then a tiny soak (1,000 jobs at 500/s) must report a
# flat RSS and draw soak.png. h2load's 2,000 requests can take less than one
# clock tick (10 ms) of its CPU: its CPU figures and the ratio may then be 0
# (run.sh does not divide by it); 10,000 made h2load lose requests when the
# sandbox ran under ASan.
. "$(dirname "$0")/lib.sh"
BUILD=$(cd "$SG_BIN_DIR/.." && pwd)
R="$T/results"
# --wrap-h2load: a wrapper that notes each h2load it starts, then runs it.
printf '#!/bin/sh\necho "$*" >>"%s"\nexec "$@"\n' "$T/h2wrap.log" >"$T/h2wrap"
chmod +x "$T/h2wrap"
"$SG_SOURCE_DIR/bench/run.sh" --build "$BUILD" --out "$R" --count 2000 --half-seconds 1 \
  --h2load-n 2000 --latency-ms 20 --senders 20 --sample 0.1 --redis-compare \
  --wrap-h2load "$T/h2wrap" >"$T/bench.out" 2>"$T/bench.log" && rc=0 || rc=$?
check "run.sh exit" 0 "$rc"
check "h2load ran under --wrap-h2load, once a run" 2 "$(grep -c '^h2load -n 2000 ' "$T/h2wrap.log")"
check "table header" 1 "$(grep -c '^| sandbox latency | gateway msg/s |' "$R/results.md")"
check "Redis memory line" 2 "$(grep -c '^Redis memory ([0-9]* ms run, INFO used_memory): [0-9.]* MB after the saturation run' "$R/results.md")"
check "table has Redis CPU" 1 "$(grep -c '^| sandbox latency |.*| gateway CPU us/msg | Redis CPU us/msg |' "$R/results.md")"
check "table rows" 2 "$(grep -cE '^\| (0|20) ms \| [0-9]+ \|' "$R/results.md")"
check "peak in flight is a number" true "$(jq '[.runs[].gateway.peak_in_flight | type == "number"] | all' "$R/results.json")"
check "json runs" "0 20" "$(jq -r '[.runs[].sandbox_latency_ms] | join(" ")' "$R/results.json")"
for k in gateway.msgs_per_s gateway.cpu_us_per_msg gateway.peak_rss_mb \
  half_rate.rate half_rate.latency_ms.p50 half_rate.latency_ms.p99 h2load.req_per_s \
  ratios.throughput_vs_h2load \
  gateway.redis_cpu_us_per_msg half_rate.redis_cpu_us_per_msg \
  redis.used_memory_mb_after_saturation redis.used_memory_mb_after_half_rate; do
  check "json $k is a positive number" true \
    "$(jq "[.runs[].$k | type == \"number\" and . > 0] | all" "$R/results.json")"
done
check "all jobs answered" "2000 2000" "$(jq -r '[.runs[].gateway.messages] | join(" ")' "$R/results.json")"
check "none missing" 0 "$(jq '[.runs[] | .gateway.missing + .half_rate.missing] | add' "$R/results.json")"
if [ "${SG_SANITIZE:-OFF}" = ON ]; then
  # Under ASan the sandbox is several times slower and h2load (1,024 streams
  # at once) loses requests on it; here the check is that it ran and counted.
  check "h2load answered (sanitizer build)" true "$(jq '[.runs[].h2load.ok_2xx > 0] | all' "$R/results.json")"
else
  check "h2load all 2xx" "2000 2000" "$(jq -r '[.runs[].h2load.ok_2xx] | join(" ")' "$R/results.json")"
fi
for k in h2load.cpu_us_per_req ratios.cpu_per_msg_vs_h2load; do
  check "json $k is a number, 0 or more" true \
    "$(jq "[.runs[].$k | type == \"number\" and . >= 0] | all" "$R/results.json")"
done
# The half-rate jobs split by AOF rewrite (bench/tail.py): the same jobs the
# loadgen timed from appended to answered, on the two sides.
check "split by AOF rewrite covers the half-rate jobs" true "$(jq '[.runs[].half_rate |
  .by_aof_rewrite.jobs == .job_to_entry_ms.count and .by_aof_rewrite.jobs > 0 and
  .by_aof_rewrite.during.jobs + .by_aof_rewrite.outside.jobs == .by_aof_rewrite.jobs] | all' "$R/results.json")"
check "split line" 2 "$(grep -c '^Half rate ([0-9]* ms run) by AOF rewrite' "$R/results.md")"
check "h2load used the sandbox's Entra-sized token" "1300 1300" \
  "$(jq -r '[.runs[].h2load.token_length] | join(" ")' "$R/results.json")"
check "20 ms latency seen" true "$(jq '.runs[1].half_rate.latency_ms.p50 >= 20' "$R/results.json")"
for k in sendgate.redis_cpu_us_per_msg plain_worker.redis_cpu_us_per_msg \
  plain_worker.redis_used_memory_mb redis_cpu_ratio; do
  check "json redis_compare.$k is a positive number" true \
    "$(jq ".redis_compare.$k | type == \"number\" and . > 0" "$R/results.json")"
done
# The worker's own CPU for 2,000 jobs can be under one clock tick (10 ms).
check "json redis_compare.plain_worker.worker_cpu_us_per_msg is a number" true \
  "$(jq '.redis_compare.plain_worker.worker_cpu_us_per_msg | type == "number" and . >= 0' "$R/results.json")"
check "plain worker answered all" "2000 0" "$(jq -r '.redis_compare.plain_worker | "\(.messages) \(.missing)"' "$R/results.json")"
check "compare uses the 0 ms run" true \
  "$(jq '.redis_compare.sendgate.redis_cpu_us_per_msg == .runs[0].gateway.redis_cpu_us_per_msg' "$R/results.json")"
# Same result payload size from both workers (within 10 %): a fair yardstick.
check "result sizes match" true "$(jq '.redis_compare | .sendgate.result_bytes_avg > 0 and
  (.plain_worker.result_bytes_avg / .sendgate.result_bytes_avg - 1 | fabs) < 0.1' "$R/results.json")"
check "compare table rows" 2 "$(grep -cE '^\| (sendgate|sg-plain-worker)[^|]*\| [0-9]+ \| [0-9.]+ \|' "$R/results.md")"
check "targets are booleans" true "$(jq '[.targets[] | type == "boolean"] | all and length == 5' "$R/results.json")"
check "machine" true "$(jq '.machine.cores > 0 and (.machine.build_type | length > 0)' "$R/results.json")"
check "png" "PNG" "$(head -c 4 "$R/bench.png" | tail -c 3)"
check_ge "png size" 10000 "$(wc -c <"$R/bench.png")"

"$SG_SOURCE_DIR/bench/run.sh" --build "$BUILD" --out "$R" --soak 1000 500 --senders 20 --sample 0.2 \
  >"$T/soak.out" 2>"$T/soak.log" && rc=0 || rc=$?
check "soak messages" 1000 "$(jq .soak.messages "$R/soak.json")"
if [ "${SG_SANITIZE:-OFF}" = ON ]; then
  # AddressSanitizer keeps freed memory in quarantine, so RSS grows by design:
  # flatness (and run.sh's exit code, which includes it) is judged only
  # without sanitizers.
  echo "skip soak flatness under sanitizers (RSS grows with ASan's quarantine)"
else
  check "soak exit" 0 "$rc"
  check "soak flat" true "$(jq .soak.rss_flat "$R/soak.json")"
fi
check_ge "soak RSS samples" 2 "$(wc -l <"$R/soak-rss.dat")"
check "soak png" "PNG" "$(head -c 4 "$R/soak.png" | tail -c 3)"
ls -la "$R" >"$T/ls.log"
finish
