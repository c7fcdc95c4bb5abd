#!/usr/bin/env bash
# bench/tail.py against a real redis-server: results whose job and result entry
# ids are set by hand (so every latency is known), a redis-server log with two
# AOF rewrites, and the split it must report: which jobs were in flight during a
# rewrite, percentiles on each side, the run id and warm-up filters, other
# entries on the stream skipped.
. "$(dirname "$0")/lib.sh"
start_redis

# The log: two rewrites, 1,000-1,100 ms and 5,000-5,200 ms after T0 (local time,
# as redis-server writes it). T0 is a whole second.
T0=$(($(date +%s) * 1000 - 100000))
stamp() { # ms -> redis-server's log time
  printf '%s.%03d' "$(date -d "@$(($1 / 1000))" '+%d %b %Y %H:%M:%S')" $(($1 % 1000))
}
{
  echo "123:M $(stamp "$T0") * Ready to accept connections tcp"
  echo "123:M $(stamp $((T0 + 1000))) * Starting automatic rewriting of AOF on 120% growth"
  echo "123:M $(stamp $((T0 + 1001))) * Background append only file rewriting started by pid 9"
  echo "9:C $(stamp $((T0 + 1090))) * Successfully created the temporary AOF base file"
  echo "123:M $(stamp $((T0 + 1100))) * Background AOF rewrite finished successfully"
  echo "123:M $(stamp $((T0 + 5000))) * Starting automatic rewriting of AOF on 300% growth"
  echo "123:M $(stamp $((T0 + 5200))) * Background AOF rewrite finished successfully"
} >"$T/redis-run.log"

# The stream. Run "half": jobs 0-9 are the warm-up (skipped); jobs 10-209 every
# 10 ms from T0 + 100 with 2 ms latency, except jobs whose time overlaps a
# rewrite; jobs 0-9 and "other-*" at 500 ms latency must not count; a result
# without a job entry id is skipped too.
python3 - "$REDIS_PORT" "$T0" <<'EOF'
import socket, sys
port, t0 = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
def cmd(*a):
    a = [x if isinstance(x, bytes) else str(x).encode() for x in a]
    s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
def field(num, data):  # a length-delimited protobuf field (lengths < 128)
    return bytes([num << 3 | 2, len(data)]) + data
def result(job_id, job_entry, extra=b""):
    # status 2 (varint field 2) first, then job_id 1, stream_entry_id 14, as a real one
    return b"\x10\x02" + field(1, job_id) + (field(14, job_entry) if job_entry else b"") + extra
rows = []
for n in range(10):  # warm-up: huge latency, skipped by --skip 10
    rows.append((t0 + 10 + n, 500, b"half-%d" % n))
for n in range(10, 210):
    t = t0 + 100 + (n - 10) * 10  # 100 ... 2090 ms: jobs 100-119 overlap the first rewrite
    rows.append((t, 2, b"half-%d" % n))
rows.append((t0 + 3000, 500, b"other-1"))
rows.append((t0 + 4990, 40, b"half-300"))  # answered at 5030: inside the second rewrite
rows.append((t0 + 5300, 30, b"half-301"))  # after it
rows.sort(key=lambda r: r[0] + r[1])
seq = {}
for t, lat, jid in rows:
    te = t + lat
    seq[te] = seq.get(te, -1) + 1
    cmd("XADD", "sendgate:results", "%d-%d" % (te, seq[te]), "result",
        result(jid, b"%d-0" % t, b"\x18\x01"))  # backend 1 after: fields in any order
cmd("XADD", "sendgate:results", "%d-0" % (t0 + 9000), "result", result(b"half-400", b""))
cmd("XADD", "sendgate:results", "%d-0" % (t0 + 9001), "other", b"x")
cmd("PING")  # its reply comes after every XADD's
buf = b""
while not buf.endswith(b"+PONG\r\n"):
    chunk = s.recv(65536)
    if not chunk:
        sys.exit("redis closed the connection")
    buf += chunk
if b"-ERR" in buf:
    sys.exit("an XADD failed: " + buf.decode(errors="replace"))
s.close()
EOF
check "entries written" 215 "$(rcli xlen sendgate:results)"

out=$(python3 "$SG_SOURCE_DIR/bench/tail.py" --port "$REDIS_PORT" --run-id half --skip 10 \
  --redis-log "$T/redis-run.log") && rc=0 || rc=$?
check "tail.py exit" 0 "$rc"
check "rewrites from the log" "[[$((T0 + 1000)),$((T0 + 1100))],[$((T0 + 5000)),$((T0 + 5200))]]" \
  "$(jq -c .rewrites <<<"$out")"
# Jobs 10-209 and 300-301: 202. A job appended at t is in flight until t + 2:
# appended 998-1100 overlaps [1000, 1100]: t = 1000, 1010, ..., 1100 (11 jobs),
# plus half-300 (4990-5030).
check "jobs counted" 202 "$(jq .jobs <<<"$out")"
check "during: 12 jobs" 12 "$(jq .during.jobs <<<"$out")"
check "during: max is half-300's 40 ms" 40 "$(jq .during.max <<<"$out")"
check "during: p50 2 ms" 2 "$(jq .during.p50 <<<"$out")"
check "outside: 190 jobs" 190 "$(jq .outside.jobs <<<"$out")"
check "outside: max is half-301's 30 ms" 30 "$(jq .outside.max <<<"$out")"
check "outside: p99 2 ms (1 of 190 above)" 2 "$(jq .outside.p99 <<<"$out")"
check "all: p99.9 40 ms" 40 "$(jq .all.p99_9 <<<"$out")"
# Without the warm-up filter the ten 500 ms jobs count (outside any rewrite).
check "no --skip: warm-up counted" "212 500" \
  "$(python3 "$SG_SOURCE_DIR/bench/tail.py" --port "$REDIS_PORT" --run-id half \
    --redis-log "$T/redis-run.log" | jq -r '"\(.jobs) \(.outside.max)"')"
# No rewrite in the log: everything is outside.
echo "123:M $(stamp "$T0") * Ready to accept connections tcp" >"$T/quiet.log"
check "no rewrite: all outside" "0 202" \
  "$(python3 "$SG_SOURCE_DIR/bench/tail.py" --port "$REDIS_PORT" --run-id half --skip 10 \
    --redis-log "$T/quiet.log" | jq -r '"\(.during.jobs) \(.outside.jobs)"')"
finish
