# SPDX-License-Identifier: Apache-2.0
"""sendgate_client: queue mail jobs for the sendgate gateway and read their results.

    from sendgate_client import Client
    with Client("redis://127.0.0.1:6379/0") as c:
        res = c.send_and_wait(sender="alerts@contoso.com", to=["oncall@contoso.com"],
                              subject="Backup failed", text="see the log")

See proto/python/README.md.
"""
from .client import Client
from .errors import (Expired, Failed, InvalidJob, JobError, ResultError, SendgateError,
                     SenderNotAllowed, Timeout, TooLarge, UnknownAccount)
from .job import build_job, new_id
from .types import Address, Attachment, Result

__all__ = ["Client", "Address", "Attachment", "Result", "build_job", "new_id",
           "SendgateError", "JobError", "Timeout", "ResultError", "InvalidJob", "TooLarge",
           "SenderNotAllowed", "UnknownAccount", "Failed", "Expired"]
