#!/usr/bin/env bash
# A 20 MB PDF scanned to `sendgate smtpd` arrives at the sandbox's Graph
# exactly (issue 14): the MIME job is over Graph's 4 MB request, so the
# gateway takes it apart (job/sg_mime_parse.h) and sends it as a draft, the
# PDF through an upload session; the sandbox's record has the PDF's bytes
# (SHA-256), the body and the envelope recipients, and one message only. A
# message over smtp.max_message_bytes (35 MB by default) is refused at SMTP.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtpd_lib.sh"
start_redis
start_sandbox --set record.violation_grace_ms=0
make_certs
smtp_ports
printf '%s\n' 'correct horse battery' | "$SENDGATE" smtp-user add scanner --users-file "$T/users" \
  --allow-from scanner@contoso.com
start_smtpd SENDGATE_SMTP_LISTEN_RELAY=off
start_gateway

{ printf '%%PDF-1.7\n'; head -c 20000000 /dev/urandom; } >"$T/scan.pdf"
PDF_SHA=$(sha256sum "$T/scan.pdf" | cut -d' ' -f1)

# submit FILE: the message in FILE over STARTTLS + AUTH to alice (To) and bob
# (Bcc only); prints the job id of the 250 reply, or "refused CODE".
submit() {
  python3 - "$1" "$SUB_PORT" "$T/ca.pem" <<'PY'
import smtplib, ssl, sys
path, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
ctx = ssl.create_default_context(cafile=ca)
s = smtplib.SMTP("127.0.0.1", port, timeout=120)
s.starttls(context=ctx)
s.login("scanner", "correct horse battery")
try:
    code, _ = s.mail("scanner@contoso.com", ["SIZE=%d" % len(data)])
    if code != 250:
        raise smtplib.SMTPResponseException(code, b"")
    s.rcpt("alice@fabrikam.example")
    s.rcpt("bob@fabrikam.example")
    code, resp = s.data(data)
    print(resp.decode().split("queued as ")[-1] if code == 250 else "refused %d" % code)
except smtplib.SMTPResponseException as e:
    print("refused %d" % e.smtp_code)
s.quit()
PY
}

# scan_eml PDF OUT: a scanner's message with the PDF attached (base64).
scan_eml() {
  python3 - "$1" "$2" <<'PY'
import sys
from email.message import EmailMessage
from email.policy import SMTP
m = EmailMessage(policy=SMTP)
m["From"] = "Scanner <scanner@contoso.com>"
m["To"] = "Alice <alice@fabrikam.example>"
m["Subject"] = "Scan 2026-12-07"
m["X-Scanner"] = "MFP-3"
m.set_content("Your scan is attached.\n")
m.add_attachment(open(sys.argv[1], "rb").read(), maintype="application", subtype="pdf",
                 filename="scan.pdf")
open(sys.argv[2], "wb").write(m.as_bytes())
PY
}

echo "# a 20 MB scan"
scan_eml "$T/scan.pdf" "$T/scan.eml"
check_ge "the message is over Graph's 4 MB request" 20000000 "$(stat -c %s "$T/scan.eml")"
ID=$(submit "$T/scan.eml")
check "250 with a job id" 1 "$([[ $ID == smtp-* ]] && echo 1 || echo 0)"
wait_results 1 120
check "SENT" 1 "$(summary SENT)"
M=$(curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=10" | jq -c 'map(.message) | .[0]')
check "one message" "1 1" "$(sbx_stat '"\(.graph_accepted) \(.drafts_sent)"')"
check "no duplicate" 0 "$(sbx_stat .duplicates)"
check "through Graph, from the sender's mailbox" "graph scanner@contoso.com" "$(jq -r '"\(.api) \(.mailbox)"' <<<"$M")"
check "subject" "Scan 2026-12-07" "$(jq -r .subject <<<"$M")"
check "the envelope: alice To, bob Bcc" "alice@fabrikam.example bob@fabrikam.example" \
  "$(jq -r '"\(.to[0].address) \(.bcc[0].address)"' <<<"$M")"
check "the X- field" "MFP-3" "$(jq -r '.headers[] | select(.name == "X-Scanner") | .value' <<<"$M")"
check "the PDF, byte for byte" "$PDF_SHA" "$(jq -r '.attachments[] | select(.name == "scan.pdf") | .sha256' <<<"$M")"
check "its type" "application/pdf" "$(jq -r '.attachments[] | select(.name == "scan.pdf") | .content_type' <<<"$M")"
check_ge "in several ranges" 6 "$(sbx_stat .upload_ranges)"

echo "# over smtp.max_message_bytes"
{ printf '%%PDF-1.7\n'; head -c 27000000 /dev/urandom; } >"$T/big.pdf"
scan_eml "$T/big.pdf" "$T/big.eml"
check "refused at SMTP (552)" "refused 552" "$(submit "$T/big.eml")"
stop_gateway
finish
