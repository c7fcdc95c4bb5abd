// SPDX-License-Identifier: Apache-2.0
// Client: queue MailJobs on the gateway's stream and read their results, with
// Promises. Results are read with plain XREAD BLOCK and a cursor (the last
// entry id seen), not a consumer group: every reader sees every result of a
// stream and nothing needs acknowledging. Blocking reads run on a connection
// of their own (duplicated from the client's), one per wait or iterator, so
// concurrent waits never hold up send().
'use strict';
const Redis = require('ioredis');
const { MailJob } = require('./schema');
const { buildJob, parseResult } = require('./job');
const { JobError, Timeout, errorFor } = require('./errors');

const DEFAULT_URL = 'redis://127.0.0.1:6379/0';
const BLOCK_MS = 1000; // one XREAD waits at most this long, so deadlines are checked

class Client {
  /**
   * opts: { url ($SENDGATE_REDIS_URL, else redis://127.0.0.1:6379/0) or redis (an
   * ioredis client), jobsStream, resultsStream, replyStreamPrefix (the gateway's
   * gateway.reply_stream_prefix, default "sendgate:results") }.
   */
  constructor(opts = {}) {
    this.redis = opts.redis ||
      new Redis(opts.url || process.env.SENDGATE_REDIS_URL || DEFAULT_URL, { lazyConnect: true });
    this.jobsStream = opts.jobsStream || 'sendgate:jobs';
    this.resultsStream = opts.resultsStream || 'sendgate:results';
    this.replyStreamPrefix = opts.replyStreamPrefix || 'sendgate:results';
  }

  async close() {
    await this.redis.quit();
  }

  /** Queues one job (see buildJob); resolves to its id. */
  async send(job) {
    return this.sendJob(buildJob(job));
  }

  /** Queues a prepared MailJob message; resolves to its id. */
  async sendJob(msg) {
    if (msg.replyStream && !msg.replyStream.startsWith(this.replyStreamPrefix))
      throw new JobError(`replyStream must start with ${this.replyStreamPrefix}`);
    const bytes = Buffer.from(MailJob.encode(msg).finish());
    await this.redis.xadd(this.jobsStream, '*', 'job', bytes);
    return msg.id;
  }

  /**
   * Queues one job and waits for its result: on job.replyStream, or on a stream
   * of its own (<prefix>:reply:<id>, deleted afterwards). Resolves to the result
   * when SENT; rejects with InvalidJob, Failed or Expired (unless raiseErrors is
   * false) or Timeout after timeoutMs (the job stays queued).
   */
  async sendAndWait(job, { timeoutMs = 30000, raiseErrors = true } = {}) {
    const msg = buildJob(job);
    const own = !msg.replyStream;
    if (own) {
      msg.replyStream = `${this.replyStreamPrefix}:reply:${msg.id}`;
      await this.redis.del(msg.replyStream);
    }
    const after = await this.lastId(msg.replyStream);
    await this.sendJob(msg);
    let res;
    try {
      res = await this.wait(msg.id, { stream: msg.replyStream, timeoutMs, after });
    } finally {
      if (own) await this.redis.del(msg.replyStream);
    }
    const err = raiseErrors && errorFor(res);
    if (err) throw err;
    return res;
  }

  /** The result of jobId on stream after entry id `after`; rejects with Timeout. */
  async wait(jobId, { stream, timeoutMs = 30000, after = '0' } = {}) {
    const until = Date.now() + timeoutMs;
    for await (const r of this.results({ stream, after, until })) {
      if (r.jobId === jobId) return r;
    }
    throw new Timeout(jobId, timeoutMs);
  }

  /**
   * Async iterator over the results on stream (default the results stream) after
   * entry id `after` ('$': from now on, '0': from the start, or a saved
   * result.entryId to resume). Ends at time `until` (ms since the epoch) or after
   * idleTimeoutMs without a result; else runs until the caller breaks out.
   */
  async *results({ stream, after = '$', until, idleTimeoutMs } = {}) {
    stream = stream || this.resultsStream;
    let cursor = after === '$' ? await this.lastId(stream) : after;
    const reader = this.redis.duplicate();
    let idleSince = Date.now();
    try {
      for (;;) {
        const now = Date.now();
        let wait = BLOCK_MS;
        if (until !== undefined) wait = Math.min(wait, until - now);
        if (idleTimeoutMs !== undefined) wait = Math.min(wait, idleSince + idleTimeoutMs - now);
        if (wait <= 0) return;
        const reply = await reader.xreadBuffer('COUNT', 100, 'BLOCK', Math.max(1, wait),
          'STREAMS', stream, cursor);
        for (const [, entries] of reply || []) {
          for (const [id, fields] of entries) {
            cursor = id.toString();
            for (let i = 0; i + 1 < fields.length; i += 2) {
              if (fields[i].toString() !== 'result') continue;
              idleSince = Date.now();
              yield parseResult(fields[i + 1], cursor);
            }
          }
        }
      }
    } finally {
      reader.disconnect();
    }
  }

  async lastId(stream) {
    const last = await this.redis.xrevrange(stream, '+', '-', 'COUNT', 1);
    return last.length ? last[0][0] : '0-0';
  }
}

module.exports = { Client };
