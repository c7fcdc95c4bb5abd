#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Splits a run's latency by Redis's AOF rewrites.

usage: tail.py --port P --run-id ID --skip N --redis-log FILE

Reads every result on sendgate:results of the jobs <ID>-<n> with n >= N (the
run's jobs after its warm-up), takes each one's latency from its job appended
to its result appended (both entry ids, so both Redis's clock: the loadgen's
job_to_entry_ms), and the AOF rewrites from the redis-server log (from
"Starting automatic rewriting" to "rewrite finished successfully"). A job
whose time from appended to answered overlaps a rewrite is "during" one.
Writes one JSON object on stdout:

  {"jobs", "rewrites": [[start_ms, end_ms], ...],
   "during": {"jobs", "p50", "p99", "p99_9", "max"},
   "outside": {...}, "all": {...}}

Whole milliseconds (entry ids have no finer grain); percentiles by nearest
rank. Only the standard library: a small RESP reader and the three fields of
MailResult it needs (job_id 1, stream_entry_id 14).
"""
import argparse
import json
import math
import re
import socket
import sys
import time

STREAM = b"sendgate:results"
BATCH = 10000
MAX_ENTRIES = 20_000_000  # a bound on the loop: results_maxlen's default is 10,000,000


class Resp:
    """A blocking RESP2 client: enough for XRANGE."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = bytearray()
        self.pos = 0  # read offset into buf: no copy of the rest per value

    def command(self, *args):
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        msg = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        self.s.sendall(msg)
        return self._value()

    def _fill(self, n):
        """At least n unread bytes in buf."""
        if self.pos > (1 << 20) and self.pos * 2 > len(self.buf):
            del self.buf[:self.pos]
            self.pos = 0
        while len(self.buf) - self.pos < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise EOFError("Redis closed the connection")
            self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                break
            self._fill(len(self.buf) - self.pos + 1)
        line = bytes(self.buf[self.pos:i])
        self.pos = i + 2
        return line

    def _value(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._value() for _ in range(n)]
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            self._fill(n + 2)
            data = bytes(self.buf[self.pos:self.pos + n])
            self.pos += n + 2
            return data
        if kind == b":":
            return int(rest)
        if kind == b"-":
            raise RuntimeError(rest.decode(errors="replace"))
        return rest


def varint(b, i):
    value = shift = 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint")
        c = b[i]
        i += 1
        value |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return value, i
        if shift > 63:
            raise ValueError("varint too long")


def fields(b, wanted):
    """The length-delimited fields |wanted| of one protobuf message."""
    out, i = {}, 0
    while i < len(b):
        key, i = varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(b, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = varint(b, i)
            if num in wanted:
                out[num] = b[i:i + n]
            i += n
        else:
            raise ValueError("wire type %d" % wire)
    return out


def entry_ms(entry_id):
    return int(entry_id.split(b"-", 1)[0])


def rewrites(log_path):
    """[start_ms, end_ms] of each AOF rewrite the log shows (local time, as Redis writes it)."""
    stamp = re.compile(r"^\d+:M (\d+ \w+ \d+ \d+:\d+:\d+)\.(\d+) ")
    spans, start = [], None
    with open(log_path, errors="replace") as f:
        for line in f:
            m = stamp.match(line)
            if not m:
                continue
            t = time.mktime(time.strptime(m.group(1), "%d %b %Y %H:%M:%S"))
            ms = int(t * 1000) + int(m.group(2))
            if "Starting automatic rewriting of AOF" in line or "rewriting started" in line:
                start = ms if start is None else start
            elif "rewrite finished successfully" in line or "rewrite terminated with error" in line:
                if start is not None:
                    spans.append([start, ms])
                start = None
    if start is not None:  # still running when the log was read
        spans.append([start, int(time.time() * 1000)])
    return spans


def summary(lat):
    lat = sorted(lat)
    n = len(lat)

    def rank(p):
        return lat[min(n - 1, max(0, math.ceil(n * p / 100) - 1))] if n else None

    return {"jobs": n, "p50": rank(50), "p99": rank(99), "p99_9": rank(99.9),
            "max": lat[-1] if n else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--run-id", required=True)
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--redis-log", required=True)
    a = ap.parse_args()

    spans = rewrites(a.redis_log)
    prefix = a.run_id.encode() + b"-"
    r = Resp(a.port)
    during, outside = [], []
    start, seen = b"-", 0
    while seen < MAX_ENTRIES:
        batch = r.command(b"XRANGE", STREAM, start, b"+", b"COUNT", BATCH)
        if not batch:
            break
        for eid, kv in batch:
            seen += 1
            pairs = dict(zip(kv[0::2], kv[1::2]))
            raw = pairs.get(b"result")
            if raw is None:
                continue
            f = fields(raw, (1, 14))
            job_id, job_entry = f.get(1, b""), f.get(14, b"")
            if not job_id.startswith(prefix) or not job_entry:
                continue
            try:
                n = int(job_id[len(prefix):])
            except ValueError:
                continue
            if n < a.skip:
                continue
            t0, t1 = entry_ms(job_entry), entry_ms(eid)
            hit = any(s <= t1 and t0 <= e for s, e in spans)
            (during if hit else outside).append(t1 - t0)
        start = b"(" + batch[-1][0]
    json.dump({"jobs": len(during) + len(outside), "rewrites": spans,
               "during": summary(during), "outside": summary(outside),
               "all": summary(during + outside)}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
