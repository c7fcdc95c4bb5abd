// SPDX-License-Identifier: Apache-2.0
// The wire schema, loaded at run time with protobufjs from
// proto/sendgate/v1/mail.proto (never copied): $SENDGATE_PROTO_FILE, else
// the schema of this source tree. Field names are protobufjs's camelCase.
'use strict';
const path = require('node:path');
const protobuf = require('protobufjs');

const file = process.env.SENDGATE_PROTO_FILE ||
  path.join(__dirname, '..', '..', 'sendgate', 'v1', 'mail.proto');
const root = protobuf.loadSync(file);

module.exports = {
  MailJob: root.lookupType('sendgate.v1.MailJob'),
  MailResult: root.lookupType('sendgate.v1.MailResult'),
  Backend: root.lookupEnum('sendgate.v1.Backend'),
  Priority: root.lookupEnum('sendgate.v1.Priority'),
  Status: root.lookupEnum('sendgate.v1.Status'),
};
