// SPDX-License-Identifier: Apache-2.0
// Drives proto/node (sendgate-client) against a running gateway for
// tests/integration/test_client_node.sh: one JSON line per case, the same
// cases as check_python.py (client_lib.sh asserts them).
'use strict';
const sg = require(process.env.SG_NODE_CLIENT);

const L = 'node';
const SENDER = 'sender-1@contoso.com';
const MIME = 'From: sender-1@contoso.com\r\nTo: m@example.com\r\nSubject: node mime\r\n' +
  'MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nmime body\r\n';

function out(name, res, err, extra = {}) {
  const line = { case: name, ...extra };
  if (err) {
    line.error = err.name;
    res = err.result;
  }
  if (res) {
    Object.assign(line, {
      job_id: res.jobId, status: res.status, code: res.errorCode, backend: res.backend,
      metadata: res.metadata, operation_id: res.operationId, attempts: res.attempts,
      sender: res.sender,
    });
  }
  console.log(JSON.stringify(line));
}

async function main() {
  const c = new sg.Client(); // $SENDGATE_REDIS_URL
  const cases = {
    plain: { id: `${L}-plain`, sender: SENDER, to: ['r@example.com'], subject: `${L} plain`,
      text: 'hello', metadata: { order: '42', lang: L }, priority: 'transactional' },
    html: { id: `${L}-html`, sender: SENDER, to: [{ address: 'r@example.com', name: 'R' }],
      cc: 'c@example.com', replyTo: ['help@contoso.com'], subject: `${L} html`, text: 't',
      html: '<p>hi</p>', headers: { 'X-Client': L }, priority: 'bulk' },
    attach: { id: `${L}-attach`, sender: SENDER, to: 'r@example.com', subject: `${L} attach`,
      html: '<img src="cid:logo">', attachments: [
        { name: 'report.csv', content: 'a,b\n1,2\n', contentType: 'text/csv' },
        { name: 'logo.png', content: Buffer.from([0x89, 0x50, 0x4e, 0x47]), contentType: 'image/png',
          contentId: 'logo', inline: true }] },
    mime: { id: `${L}-mime`, sender: SENDER, mime: MIME },
    acs: { id: `${L}-acs`, backend: 'acs', sender: 'noreply@contoso.com', to: ['r@example.com'],
      subject: `${L} acs`, text: 'via acs' },
    named: { id: `${L}-named`, account: 'transactional', sender: 'noreply@contoso.com',
      to: ['r@example.com'], subject: `${L} named`, text: 'via the named account' },
    failed: { id: `${L}-failed`, backend: 'acs', sender: 'noreply@contoso.com',
      to: ['x@bounce.example'], subject: `${L} bounce`, text: 'b' },
    invalid: { id: `${L}-invalid`, sender: SENDER, to: ['not an address'], subject: 's', text: 'b' },
    account: { id: `${L}-account`, account: 'nosuch', sender: SENDER, to: ['r@example.com'],
      subject: 's', text: 'b' },
    expired: { id: `${L}-expired`, sender: SENDER, to: ['r@example.com'], subject: 's', text: 'b',
      deadlineUnixMs: Date.now() - 60000 },
  };
  for (const [name, job] of Object.entries(cases)) {
    try {
      out(name, await c.sendAndWait(job, { timeoutMs: 30000 }));
    } catch (e) {
      if (!(e instanceof sg.SendgateError)) throw e;
      out(name, null, e);
    }
  }

  const a = await c.send({ sender: SENDER, to: 'r@example.com', subject: `${L} gen`, text: '1' });
  const b = await c.send({ sender: SENDER, to: 'r@example.com', subject: `${L} gen`, text: '2' });
  const ra = await c.wait(a, { timeoutMs: 30000 });
  out('generated', ra, null, { distinct: a !== b, same: ra.jobId === a });

  const stream = `sendgate:results:${L}`;
  for (let i = 0; i < 3; i++) {
    await c.send({ id: `${L}-reply-${i}`, sender: SENDER, to: 'r@example.com', subject: `${L} reply`,
      text: String(i), replyStream: stream, metadata: { i: String(i) } });
  }
  const got = [];
  for await (const r of c.results({ stream, after: '0', until: Date.now() + 30000 })) {
    got.push(r);
    if (got.length === 3) break;
  }
  out('reply', null, null, {
    ids: got.map((r) => r.jobId).sort(), statuses: [...new Set(got.map((r) => r.status))].sort(),
    metadata: got.map((r) => r.metadata.i).sort(), cursor: got.length > 0 && !!got[2].entryId,
  });

  const dup = await c.sendAndWait({ id: `${L}-plain`, sender: SENDER, to: 'r@example.com',
    subject: `${L} plain`, text: 'hello again', replyStream: stream });
  out('duplicate', dup, null, { dup: dup.duplicate });

  const refused = async (name, fn) => {
    try {
      await fn();
      out(name);
    } catch (e) {
      if (!(e instanceof sg.SendgateError)) throw e;
      out(name, null, e);
    }
  };
  await refused('timeout', () => c.wait('never-queued', { timeoutMs: 300 }));
  await refused('local', () => c.send({ id: 'x'.repeat(129), sender: SENDER, to: 'r@example.com', text: 'b' }));
  await refused('reply_prefix', () => c.send({ sender: SENDER, to: 'r@example.com', text: 'b',
    replyStream: 'elsewhere' }));
  await c.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
