// SPDX-License-Identifier: Apache-2.0
// Typed errors: one class per terminal status that is not SENT, plus Timeout
// and JobError (refused locally, nothing queued). ResultError and its
// subclasses carry the result (.result) and its errorCode (.code).
'use strict';

class SendgateError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}
class JobError extends SendgateError {}
class Timeout extends SendgateError {
  constructor(jobId, ms) {
    super(`no result for ${jobId} within ${ms} ms (it stays queued)`);
    this.jobId = jobId;
  }
}
class ResultError extends SendgateError {
  constructor(result) {
    super(`${result.jobId}: ${result.status}` +
      (result.errorCode ? ` ${result.errorCode}: ${result.errorMessage}` : ''));
    this.result = result;
    this.code = result.errorCode;
  }
}
/** STATUS_INVALID: refused by the gateway before sending; nothing was sent. */
class InvalidJob extends ResultError {}
class TooLarge extends InvalidJob {}
class SenderNotAllowed extends InvalidJob {}
class UnknownAccount extends InvalidJob {}
/** STATUS_FAILED: the provider refused the message for good. */
class Failed extends ResultError {}
/** STATUS_EXPIRED: transient failures until max attempts or the deadline. */
class Expired extends ResultError {}

const INVALID_BY_CODE = {
  SENDGATE_TOO_LARGE: TooLarge,
  SENDGATE_SENDER_NOT_ALLOWED: SenderNotAllowed,
  SENDGATE_UNKNOWN_ACCOUNT: UnknownAccount,
};

/** The error for a result that is not SENT, or null. */
function errorFor(result) {
  switch (result.status) {
    case 'SENT': return null;
    case 'INVALID': return new (INVALID_BY_CODE[result.errorCode] || InvalidJob)(result);
    case 'FAILED': return new Failed(result);
    case 'EXPIRED': return new Expired(result);
    default: return new ResultError(result);
  }
}

module.exports = {
  SendgateError, JobError, Timeout, ResultError, InvalidJob, TooLarge, SenderNotAllowed,
  UnknownAccount, Failed, Expired, errorFor,
};
