# SPDX-License-Identifier: Apache-2.0
"""build_job(): a MailJob from keyword arguments, with the checks that catch a
bad call before anything is queued. The gateway still validates everything
(and answers INVALID with a code); these checks only fail earlier."""
import time
import uuid

from ._schema import pb
from .errors import JobError
from .types import Address, Attachment

ID_MAX = 128  # CONTRACT: ids are 1..128 printable ASCII


def new_id():
    """A unique job id (a random UUID)."""
    return str(uuid.uuid4())


def check_id(job_id):
    if not 1 <= len(job_id) <= ID_MAX or any(not " " <= c <= "~" for c in job_id):
        raise JobError(f"job id must be 1 to {ID_MAX} printable ASCII characters: {job_id!r}")


def backend_value(backend):
    """None/""/0 (the gateway's default), a name ("graph", "acs", "smtp") or a number."""
    if not backend:
        return 0
    if isinstance(backend, int):
        return backend
    try:
        return pb.Backend.Value("BACKEND_" + backend.upper())
    except ValueError:
        raise JobError(f"unknown backend {backend!r}") from None


def _addresses(values):
    if isinstance(values, (str, Address)):
        values = [values]
    return [pb.Address(address=a.address, name=a.name) for a in map(Address.of, values or ())]


def build_job(*, sender, to=(), cc=(), bcc=(), reply_to=(), subject="", text=None,
              html=None, attachments=(), headers=None, mime=None, backend=None,
              account="", reply_stream="", campaign_id="", metadata=None,
              max_attempts=0, deadline_unix_ms=0, save_to_sent_items=False, id=None):
    """A ``MailJob`` message. Recipients are strings, (address, name) pairs or
    Address values; ``headers`` a dict of custom ``X-`` headers; ``mime`` the
    bytes of a complete RFC 5322 message (then recipients, if any, are its
    envelope, and subject, bodies, attachments and headers stay empty)."""
    job_id = new_id() if id is None else id
    check_id(job_id)
    if not sender:
        raise JobError("sender is required")
    if mime is not None:
        if subject or text or html or attachments or headers or reply_to:
            raise JobError("a MIME job carries no subject, bodies, reply_to, attachments or headers")
    elif text is None and html is None:
        raise JobError("text, html or mime is required")
    elif not (to or cc or bcc):
        raise JobError("at least one recipient (to, cc or bcc) is required")
    job = pb.MailJob(
        id=job_id, backend=backend_value(backend), account=account, sender=sender,
        to=_addresses(to), cc=_addresses(cc), bcc=_addresses(bcc),
        reply_to=_addresses(reply_to), subject=subject, text_body=text or "",
        html_body=html or "", mime=mime or b"", save_to_sent_items=save_to_sent_items,
        reply_stream=reply_stream, campaign_id=campaign_id, max_attempts=max_attempts,
        deadline_unix_ms=deadline_unix_ms, created_unix_ms=int(time.time() * 1000))
    for a in attachments or ():
        if not isinstance(a, Attachment):
            raise JobError(f"attachments must be Attachment values, not {type(a).__name__}")
        job.attachments.add(name=a.name, content_type=a.content_type, content=a.content,
                            content_id=a.content_id, inline=a.inline)
    for name, value in (headers or {}).items():
        job.headers.add(name=name, value=value)
    job.metadata.update(metadata or {})
    return job
