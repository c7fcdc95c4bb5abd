# SPDX-License-Identifier: Apache-2.0
"""Client: queue MailJobs on the gateway's stream and read their results.

Results are read with plain ``XREAD BLOCK`` and a cursor (the last entry id
seen), not a consumer group: every reader sees every result of a stream, and
nothing needs acknowledging. A reply stream per producer (or per job, as
``send_and_wait`` does by default) keeps each reader to its own results.
"""
import os
import time

import redis

from .errors import JobError, Timeout
from .job import build_job
from .types import Result

DEFAULT_URL = "redis://127.0.0.1:6379/0"
JOBS_STREAM = "sendgate:jobs"
RESULTS_STREAM = "sendgate:results"
BLOCK_MS = 1000  # one XREAD waits at most this long, so timeouts are checked


class Client:
    """``Client(url=None, redis_client=None, ...)``: ``url`` defaults to
    ``$SENDGATE_REDIS_URL`` then redis://127.0.0.1:6379/0. A given
    ``redis_client`` must not decode responses (the payloads are bytes).
    ``reply_stream_prefix`` is the gateway's ``gateway.reply_stream_prefix``:
    reply streams outside it are refused here rather than by the gateway."""

    def __init__(self, url=None, *, redis_client=None, jobs_stream=JOBS_STREAM,
                 results_stream=RESULTS_STREAM, reply_stream_prefix=RESULTS_STREAM):
        self.redis = redis_client or redis.Redis.from_url(
            url or os.environ.get("SENDGATE_REDIS_URL") or DEFAULT_URL)
        self.jobs_stream = jobs_stream
        self.results_stream = results_stream
        self.reply_stream_prefix = reply_stream_prefix

    def close(self):
        self.redis.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, **job):
        """Queues one job (keyword arguments of ``build_job``); returns its id."""
        return self.send_job(build_job(**job))

    def send_job(self, job):
        """Queues a prepared ``MailJob``; returns its id."""
        if job.reply_stream and not job.reply_stream.startswith(self.reply_stream_prefix):
            raise JobError(f"reply_stream must start with {self.reply_stream_prefix!r}")
        self.redis.xadd(self.jobs_stream, {"job": job.SerializeToString()})
        return job.id

    def send_and_wait(self, timeout=30.0, raise_errors=True, **job):
        """Queues one job and waits up to ``timeout`` seconds for its result.
        Without a ``reply_stream``, the result comes on a stream of its own
        (``<prefix>:reply:<id>``), deleted afterwards. Returns the Result when
        SENT; raises InvalidJob, Failed or Expired otherwise (unless
        ``raise_errors`` is false) and Timeout when none came."""
        msg = build_job(**job)
        private = not msg.reply_stream
        if private:
            msg.reply_stream = f"{self.reply_stream_prefix}:reply:{msg.id}"
            self.redis.delete(msg.reply_stream)
        after = self._last_id(msg.reply_stream)
        self.send_job(msg)
        try:
            res = self.wait(msg.id, msg.reply_stream, timeout=timeout, after=after)
        finally:
            if private:
                self.redis.delete(msg.reply_stream)
        return res.raise_for_status() if raise_errors else res

    def wait(self, job_id, stream=None, *, timeout=30.0, after="0"):
        """The result of ``job_id`` on ``stream`` (after entry id ``after``);
        raises Timeout when none comes within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        for res in self.results(stream, after=after, until=deadline):
            if res.job_id == job_id:
                return res
        raise Timeout(job_id, timeout)

    def results(self, stream=None, *, after="$", until=None, idle_timeout=None):
        """Yields the Results on ``stream`` (default the results stream) after
        entry id ``after`` ("$": from now on; "0": from the start; or a saved
        ``Result.entry_id`` to resume). Ends at monotonic time ``until``, or
        after ``idle_timeout`` seconds without a result; else runs until the
        caller stops iterating. Entries that are not results are skipped."""
        stream = stream or self.results_stream
        cursor = self._last_id(stream) if after == "$" else after
        idle_since = time.monotonic()
        while True:
            now = time.monotonic()
            left = [BLOCK_MS / 1000]
            if until is not None:
                left.append(until - now)
            if idle_timeout is not None:
                left.append(idle_since + idle_timeout - now)
            wait = min(left)
            if wait <= 0:
                return
            reply = self.redis.xread({stream: cursor}, count=100, block=max(1, int(wait * 1000)))
            for _, entries in reply or ():
                for entry_id, fields in entries:
                    cursor = entry_id
                    data = fields.get(b"result")
                    if data is not None:
                        idle_since = time.monotonic()
                        yield Result.parse(data, _text(entry_id))

    def _last_id(self, stream):
        last = self.redis.xrevrange(stream, count=1)
        return _text(last[0][0]) if last else "0-0"


def _text(v):
    return v.decode() if isinstance(v, bytes) else v
