// SPDX-License-Identifier: Apache-2.0
// buildJob(): a MailJob message from a plain object, with the checks that
// catch a bad call before anything is queued (the gateway validates
// everything again and answers INVALID with a code); parseResult().
'use strict';
const crypto = require('node:crypto');
const { MailJob, MailResult, Backend, Status } = require('./schema');
const { JobError } = require('./errors');

const ID_MAX = 128; // CONTRACT: ids are 1..128 printable ASCII

function checkId(id) {
  if (typeof id !== 'string' || id.length < 1 || id.length > ID_MAX || !/^[\x20-\x7e]+$/.test(id))
    throw new JobError(`job id must be 1 to ${ID_MAX} printable ASCII characters: ${id}`);
}

function backendValue(b) {
  if (!b) return 0;
  if (typeof b === 'number') return b;
  const v = Backend.values[`BACKEND_${String(b).toUpperCase()}`];
  if (v === undefined) throw new JobError(`unknown backend ${b}`);
  return v;
}

// "a@b" or { address, name }; one or an array of them.
function addresses(v) {
  if (v == null) return [];
  return (Array.isArray(v) ? v : [v]).map((a) => (typeof a === 'string'
    ? { address: a, name: '' } : { address: a.address, name: a.name || '' }));
}

function bytes(v) {
  return Buffer.isBuffer(v) || v instanceof Uint8Array ? v : Buffer.from(String(v));
}

/**
 * A MailJob message. job: { id, sender, to, cc, bcc, replyTo, subject, text, html,
 * attachments: [{ name, content, contentType, contentId, inline }], headers: { 'X-..': v },
 * mime (Buffer or string), backend ('graph' | 'acs' | 'smtp' | number), account, replyStream,
 * campaignId, metadata, maxAttempts, deadlineUnixMs, saveToSentItems }.
 */
function buildJob(job) {
  const id = job.id === undefined ? crypto.randomUUID() : job.id;
  checkId(id);
  if (!job.sender) throw new JobError('sender is required');
  const hasContent = job.subject || job.text || job.html || job.replyTo ||
    (job.attachments && job.attachments.length) || (job.headers && Object.keys(job.headers).length);
  if (job.mime != null) {
    if (hasContent) throw new JobError('a MIME job carries no subject, bodies, replyTo, attachments or headers');
  } else if (job.text == null && job.html == null) {
    throw new JobError('text, html or mime is required');
  } else if (!addresses(job.to).length && !addresses(job.cc).length && !addresses(job.bcc).length) {
    throw new JobError('at least one recipient (to, cc or bcc) is required');
  }
  return MailJob.fromObject({
    id,
    backend: backendValue(job.backend),
    account: job.account || '',
    sender: job.sender,
    to: addresses(job.to),
    cc: addresses(job.cc),
    bcc: addresses(job.bcc),
    replyTo: addresses(job.replyTo),
    subject: job.subject || '',
    textBody: job.text || '',
    htmlBody: job.html || '',
    attachments: (job.attachments || []).map((a) => ({
      name: a.name, contentType: a.contentType || 'application/octet-stream',
      content: bytes(a.content), contentId: a.contentId || '', inline: !!a.inline,
    })),
    headers: Object.entries(job.headers || {}).map(([name, value]) => ({ name, value })),
    mime: job.mime != null ? bytes(job.mime) : Buffer.alloc(0),
    saveToSentItems: !!job.saveToSentItems,
    replyStream: job.replyStream || '',
    campaignId: job.campaignId || '',
    metadata: { ...(job.metadata || {}) },
    maxAttempts: job.maxAttempts || 0,
    deadlineUnixMs: job.deadlineUnixMs || 0,
    createdUnixMs: Date.now(),
  });
}

const strip = (name, prefix) => (name ? name.slice(prefix.length) : '');

/** A Result from the bytes of a MailResult; entryId: the result entry's Redis id. */
function parseResult(buf, entryId = '') {
  const m = MailResult.toObject(MailResult.decode(buf), { longs: Number, defaults: true });
  return {
    ...m,
    status: strip(Status.valuesById[m.status], 'STATUS_') || String(m.status),
    backend: strip(Backend.valuesById[m.backend], 'BACKEND_') || String(m.backend),
    metadata: m.metadata || {},
    entryId,
    get ok() { return this.status === 'SENT'; },
    get duplicate() { return this.errorCode === 'SENDGATE_DUPLICATE'; },
  };
}

module.exports = { buildJob, parseResult, checkId };
