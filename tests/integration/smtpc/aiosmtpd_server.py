#!/usr/bin/python3
# A real SMTP server that is not ours, for tests/integration/test_smtpc.sh:
# aiosmtpd (Debian's python3-aiosmtpd) with STARTTLS required before AUTH
# and before mail, AUTH PLAIN and LOGIN against one user, and every accepted
# message recorded as DIR/N.env (MAIL FROM, one RCPT per line) and DIR/N.eml
# (the DATA bytes exactly as aiosmtpd received them, dots removed).
#   aiosmtpd_server.py PORT CERT KEY USER PASSWORD DIR
import asyncio
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, cert, key, user, password, out = sys.argv[1:7]
count = 0


class Handler:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        with open(os.path.join(out, "%d.env" % count), "w") as f:
            f.write("from %s\n" % envelope.mail_from)
            for r in envelope.rcpt_tos:
                f.write("rcpt %s\n" % r)
            f.write("options %s\n" % " ".join(envelope.mail_options))
        with open(os.path.join(out, "%d.eml" % count), "wb") as f:
            f.write(envelope.original_content)
        return "250 2.0.0 OK queued as %d" % count


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user
          and auth_data.password.decode() == password)
    return AuthResult(success=ok, handled=False)


ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain(cert, key)
controller = Controller(Handler(), hostname="127.0.0.1", port=int(port), tls_context=ctx,
                        require_starttls=True, authenticator=authenticator,
                        auth_required=True, auth_require_tls=True, decode_data=False,
                        server_hostname="localhost")
controller.start()
print("ready", flush=True)
try:
    asyncio.new_event_loop().run_until_complete(asyncio.Event().wait())
finally:
    controller.stop()
