#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Sends one message through sendgate and prints its result.
//   node proto/node/examples/send.js --from alerts@contoso.com --to oncall@contoso.com
// Exit 0 when SENT, 1 for another result, 2 when no result came in time.
'use strict';
const { parseArgs } = require('node:util');
const sg = require('..');

async function main() {
  const { values: a } = parseArgs({
    options: {
      from: { type: 'string' },
      to: { type: 'string', multiple: true },
      subject: { type: 'string', default: 'Hello from sendgate' },
      text: { type: 'string', default: 'Sent with the Node.js client.' },
      backend: { type: 'string' },
    },
  });
  if (!a.from || !a.to) {
    console.error('usage: send.js --from ADDR --to ADDR [--to ADDR] [--subject S] [--text T] [--backend graph|acs]');
    return 2;
  }
  const client = new sg.Client(); // $SENDGATE_REDIS_URL or redis://127.0.0.1:6379/0
  try {
    const r = await client.sendAndWait({
      sender: a.from, to: a.to, subject: a.subject, text: a.text, backend: a.backend,
      metadata: { source: 'examples/send.js' },
    }, { timeoutMs: 30000 });
    console.log(`${r.jobId} ${r.status} attempts=${r.attempts} request_id=${r.providerRequestId}`);
    return 0;
  } catch (e) {
    if (e instanceof sg.Timeout) {
      console.error(e.message);
      return 2;
    }
    if (e instanceof sg.ResultError) {
      console.log(`${e.result.jobId} ${e.result.status} ${e.code}: ${e.result.errorMessage}`);
      return 1;
    }
    throw e;
  } finally {
    await client.close();
  }
}

main().then((rc) => { process.exitCode = rc; }, (e) => { console.error(e); process.exitCode = 3; });
