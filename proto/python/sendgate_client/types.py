# SPDX-License-Identifier: Apache-2.0
"""Plain values the client takes and returns: Address, Attachment, Result."""
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path

from ._schema import pb


@dataclass(frozen=True)
class Address:
    address: str
    name: str = ""

    @classmethod
    def of(cls, value):
        """An Address from an Address, an "addr" string or an (addr, name) pair."""
        if isinstance(value, Address):
            return value
        if isinstance(value, str):
            return cls(value)
        address, name = value
        return cls(address, name)


@dataclass(frozen=True)
class Attachment:
    name: str
    content: bytes
    content_type: str = "application/octet-stream"
    content_id: str = ""
    inline: bool = False

    @classmethod
    def from_path(cls, path, content_type=None, **kw):
        """An attachment read from a file; the type is guessed from its name."""
        p = Path(path)
        ctype = content_type or mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        return cls(p.name, p.read_bytes(), ctype, **kw)


def _enum_name(enum, value, prefix):
    try:
        return enum.Name(value)[len(prefix):]
    except ValueError:  # a value newer than this schema
        return str(value)


@dataclass
class Result:
    """One MailResult. ``status`` and ``backend`` are names ("SENT", "GRAPH");
    ``entry_id`` is the Redis id of the result entry (a cursor to resume from)."""
    job_id: str
    status: str
    backend: str = ""
    attempts: int = 0
    http_status: int = 0
    error_code: str = ""
    error_message: str = ""
    provider_request_id: str = ""
    operation_id: str = ""
    campaign_id: str = ""
    metadata: dict = field(default_factory=dict)
    created_unix_ms: int = 0
    completed_unix_ms: int = 0
    stream_entry_id: str = ""
    entry_id: str = ""
    sender: str = ""

    @property
    def ok(self):
        return self.status == "SENT"

    @property
    def duplicate(self):
        """SENT earlier: the gateway did not send this job id again."""
        return self.error_code == "SENDGATE_DUPLICATE"

    def raise_for_status(self):
        """Raises InvalidJob, Failed or Expired unless the job was SENT; returns self."""
        from .errors import error_for
        err = error_for(self)
        if err is not None:
            raise err
        return self

    @classmethod
    def parse(cls, data, entry_id=""):
        m = pb.MailResult.FromString(data)
        return cls(job_id=m.job_id,
                   status=_enum_name(pb.Status, m.status, "STATUS_"),
                   backend=_enum_name(pb.Backend, m.backend, "BACKEND_"),
                   attempts=m.attempts, http_status=m.http_status,
                   error_code=m.error_code, error_message=m.error_message,
                   provider_request_id=m.provider_request_id,
                   operation_id=m.operation_id, campaign_id=m.campaign_id,
                   metadata=dict(m.metadata), created_unix_ms=m.created_unix_ms,
                   completed_unix_ms=m.completed_unix_ms,
                   stream_entry_id=m.stream_entry_id, entry_id=entry_id,
                   sender=m.sender)
