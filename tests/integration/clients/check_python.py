# SPDX-License-Identifier: Apache-2.0
"""Drives proto/python/sendgate_client against a running gateway for
tests/integration/test_client_python.sh: one JSON line per case (see
client_lib.sh, which asserts the same lines for every language)."""
import json
import sys
import time

import sendgate_client as sg

L = "py"
SENDER = "sender-1@contoso.com"
MIME = (b"From: sender-1@contoso.com\r\nTo: m@example.com\r\nSubject: py mime\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nmime body\r\n")


def out(case, res=None, err=None, **extra):
    line = {"case": case, **extra}
    if err is not None:
        line["error"] = type(err).__name__
        res = getattr(err, "result", None)
    if res is not None:
        line.update(job_id=res.job_id, status=res.status, code=res.error_code,
                    backend=res.backend, metadata=res.metadata,
                    operation_id=res.operation_id, attempts=res.attempts, sender=res.sender)
    print(json.dumps(line), flush=True)


def case(name, **job):
    try:
        out(name, c.send_and_wait(timeout=30, **job))
    except sg.SendgateError as e:
        out(name, err=e)


c = sg.Client()  # $SENDGATE_REDIS_URL
case("plain", id=f"{L}-plain", sender=SENDER, to=["r@example.com"], subject=f"{L} plain",
     text="hello", metadata={"order": "42", "lang": L}, priority="transactional")
case("html", id=f"{L}-html", sender=SENDER, to=[("r@example.com", "R")], cc=["c@example.com"],
     reply_to=["help@contoso.com"], subject=f"{L} html", text="t", html="<p>hi</p>",
     headers={"X-Client": L}, priority="bulk")
case("attach", id=f"{L}-attach", sender=SENDER, to="r@example.com", subject=f"{L} attach",
     html='<img src="cid:logo">', attachments=[
         sg.Attachment("report.csv", b"a,b\n1,2\n", "text/csv"),
         sg.Attachment("logo.png", b"\x89PNG\r\n", "image/png", content_id="logo", inline=True)])
case("mime", id=f"{L}-mime", sender=SENDER, mime=MIME)
case("acs", id=f"{L}-acs", backend="acs", sender="noreply@contoso.com", to=["r@example.com"],
     subject=f"{L} acs", text="via acs")
case("named", id=f"{L}-named", account="transactional", sender="noreply@contoso.com",
     to=["r@example.com"], subject=f"{L} named", text="via the named account")
case("failed", id=f"{L}-failed", backend="acs", sender="noreply@contoso.com",
     to=["x@bounce.example"], subject=f"{L} bounce", text="b")
case("invalid", id=f"{L}-invalid", sender=SENDER, to=["not an address"], subject="s", text="b")
case("account", id=f"{L}-account", account="nosuch", sender=SENDER, to=["r@example.com"],
     subject="s", text="b")
case("expired", id=f"{L}-expired", sender=SENDER, to=["r@example.com"], subject="s", text="b",
     deadline_unix_ms=int(time.time() * 1000) - 60000)

# Generated ids: unique, and the result carries them.
a = c.send(sender=SENDER, to=["r@example.com"], subject=f"{L} gen", text="1")
b = c.send(sender=SENDER, to=["r@example.com"], subject=f"{L} gen", text="2")
ra = c.wait(a, c.results_stream, timeout=30)
out("generated", ra, distinct=a != b, same=ra.job_id == a)

# A reply stream of the producer's own, read with the iterator.
stream = f"sendgate:results:{L}"
for i in range(3):
    c.send(id=f"{L}-reply-{i}", sender=SENDER, to=["r@example.com"], subject=f"{L} reply",
           text=str(i), reply_stream=stream, metadata={"i": str(i)})
got = []
for r in c.results(stream, after="0", until=time.monotonic() + 30):
    got.append(r)
    if len(got) == 3:
        break
out("reply", ids=sorted(r.job_id for r in got), statuses=sorted({r.status for r in got}),
    metadata=sorted(r.metadata["i"] for r in got), cursor=bool(got and got[-1].entry_id))

# The plain job's id again, waited for on the shared reply stream: the
# gateway does not send it twice and says so.
r = c.send_and_wait(id=f"{L}-plain", sender=SENDER, to=["r@example.com"], subject=f"{L} plain",
                    text="hello again", reply_stream=stream)
out("duplicate", r, dup=r.duplicate)

try:
    c.wait("never-queued", timeout=0.3)
    out("timeout")
except sg.Timeout as e:
    out("timeout", err=e)
try:
    c.send(id="x" * 129, sender=SENDER, to=["r@example.com"], text="b")
    out("local")
except sg.JobError as e:
    out("local", err=e)
try:
    c.send(sender=SENDER, to=["r@example.com"], text="b", reply_stream="elsewhere")
    out("reply_prefix")
except sg.JobError as e:
    out("reply_prefix", err=e)
c.close()
sys.exit(0)
