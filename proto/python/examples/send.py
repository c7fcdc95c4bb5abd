#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Sends one message through sendgate and prints its result.

    PYTHONPATH=proto/python python3 proto/python/examples/send.py \
        --from alerts@contoso.com --to oncall@contoso.com --attach report.csv

Exit 0 when SENT, 1 for another result, 2 when no result came in time.
"""
import argparse
import sys

import sendgate_client as sg


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--to", action="append", required=True)
    p.add_argument("--subject", default="Hello from sendgate")
    p.add_argument("--text", default="Sent with the Python client.")
    p.add_argument("--attach", action="append", default=[])
    p.add_argument("--backend", default=None, help="graph or acs (default: the gateway's)")
    p.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    with sg.Client() as client:  # $SENDGATE_REDIS_URL or redis://127.0.0.1:6379/0
        try:
            res = client.send_and_wait(
                timeout=a.timeout, sender=a.sender, to=a.to, subject=a.subject, text=a.text,
                backend=a.backend, attachments=[sg.Attachment.from_path(f) for f in a.attach],
                metadata={"source": "examples/send.py"})
        except sg.Timeout as e:
            print(e, file=sys.stderr)
            return 2
        except sg.ResultError as e:
            print(f"{e.result.job_id} {e.result.status} {e.code}: {e.result.error_message}")
            return 1
    print(f"{res.job_id} {res.status} attempts={res.attempts} request_id={res.provider_request_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
