// Sends the message described by a job spec (message.json) with Microsoft's
// ACS Email client for JavaScript and records what it put on the wire.
//   node send.mjs SPEC.json OUT.json
// Connection string: SENDGATE_ACS_CONNECTION_STRING. TLS trust: the sandbox
// CA through NODE_EXTRA_CA_CERTS; verification stays on.
// OUT.json: {status, operationId, resultStatus, body, headerNames, url}.
// Header values are not recorded (the Authorization value is a credential).
import { readFileSync, writeFileSync } from "node:fs";
import { EmailClient } from "@azure/communication-email";

const [specPath, outPath] = process.argv.slice(2);
const spec = JSON.parse(readFileSync(specPath, "utf8"));
const conn = process.env.SENDGATE_ACS_CONNECTION_STRING;
if (!specPath || !outPath || !conn) {
  console.error("usage: SENDGATE_ACS_CONNECTION_STRING=... node send.mjs SPEC.json OUT.json");
  process.exit(2);
}

// The job's fields mapped to the SDK's EmailMessage: empty strings and empty
// lists are left out, as the gateway leaves them out.
const addrs = (list) =>
  (list || []).map((a) => (a.name ? { address: a.address, displayName: a.name } : { address: a.address }));
const nonEmpty = (list) => (list && list.length ? list : undefined);
const message = {
  senderAddress: spec.sender,
  content: {
    subject: spec.subject,
    plainText: spec.text_body || undefined,
    html: spec.html_body || undefined,
  },
  recipients: { to: addrs(spec.to), cc: nonEmpty(addrs(spec.cc)), bcc: nonEmpty(addrs(spec.bcc)) },
  replyTo: nonEmpty(addrs(spec.reply_to)),
  attachments: nonEmpty(
    (spec.attachments || []).map((a) => ({
      name: a.name,
      contentType: a.content_type,
      contentInBase64: a.content_b64,
      contentId: a.inline && a.content_id ? a.content_id : undefined,
    })),
  ),
  headers: spec.headers && spec.headers.length
    ? Object.fromEntries(spec.headers.map((h) => [h.name, h.value]))
    : undefined,
  // The SDK's name; it goes on the wire as "userEngagementTrackingDisabled".
  disableUserEngagementTracking: spec.tracking_disabled ? true : undefined,
};

const seen = {};
const capture = {
  name: "sendgateCapture",
  async sendRequest(request, next) {
    const response = await next(request);
    if (request.method === "POST") {
      seen.status = response.status;
      seen.body = request.body;
      seen.url = request.url;
      seen.headerNames = Object.keys(request.headers.toJSON()).map((n) => n.toLowerCase()).sort();
    }
    return response;
  },
};

const client = new EmailClient(conn, {
  additionalPolicies: [{ policy: capture, position: "perRetry" }],
  retryOptions: { maxRetries: 0 },
});
const poller = await client.beginSend(message, { updateIntervalInMs: 100 });
const result = await poller.pollUntilDone({ abortSignal: AbortSignal.timeout(30000) });
writeFileSync(
  outPath,
  JSON.stringify({ ...seen, operationId: result.id, resultStatus: result.status }, null, 1),
);
console.log(`sdk: ${seen.status} ${result.id} ${result.status}`);
