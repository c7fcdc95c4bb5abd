# SPDX-License-Identifier: Apache-2.0
"""Typed errors: one class per terminal status that is not SENT, plus Timeout.

``InvalidJob``, ``Failed`` and ``Expired`` carry the ``Result`` (``.result``)
and its ``error_code`` (``.code``): the provider's code (``ErrorInvalidRecipients``)
or the gateway's own (``SENDGATE_BAD_ADDRESS``). A few INVALID codes that
callers commonly handle have subclasses of their own.
"""


class SendgateError(Exception):
    """Base class of every error this library raises."""


class JobError(SendgateError, ValueError):
    """The job was refused locally, before anything was queued (bad arguments)."""


class Timeout(SendgateError, TimeoutError):
    """No result arrived in time. The job stays queued and may still be sent."""

    def __init__(self, job_id, seconds):
        super().__init__(f"no result for {job_id} within {seconds} s (it stays queued)")
        self.job_id = job_id


class ResultError(SendgateError):
    """A terminal result other than SENT."""

    def __init__(self, result):
        msg = f"{result.job_id}: {result.status}"
        if result.error_code:
            msg += f" {result.error_code}: {result.error_message}"
        super().__init__(msg)
        self.result = result
        self.code = result.error_code


class InvalidJob(ResultError):
    """STATUS_INVALID: the gateway refused the job before sending; nothing was sent."""


class TooLarge(InvalidJob):
    """SENDGATE_TOO_LARGE: over the gateway's or the provider's size limit."""


class SenderNotAllowed(InvalidJob):
    """SENDGATE_SENDER_NOT_ALLOWED: the sender is not in the account's allowed_senders."""


class UnknownAccount(InvalidJob):
    """SENDGATE_UNKNOWN_ACCOUNT: no sending account of that name in the gateway's config."""


class Failed(ResultError):
    """STATUS_FAILED: the provider refused the message for good."""


class Expired(ResultError):
    """STATUS_EXPIRED: transient failures until max_attempts or the deadline ran out."""


_INVALID_BY_CODE = {
    "SENDGATE_TOO_LARGE": TooLarge,
    "SENDGATE_SENDER_NOT_ALLOWED": SenderNotAllowed,
    "SENDGATE_UNKNOWN_ACCOUNT": UnknownAccount,
}


def error_for(result):
    """The exception for a non-SENT ``result`` (or None when it was SENT)."""
    if result.status == "SENT":
        return None
    if result.status == "INVALID":
        return _INVALID_BY_CODE.get(result.error_code, InvalidJob)(result)
    if result.status == "FAILED":
        return Failed(result)
    if result.status == "EXPIRED":
        return Expired(result)
    return ResultError(result)
