#!/usr/bin/env bash
# SMTP in, ACS out (issue 14): a message with HTML, an inline image (cid:) and
# two attachments, submitted over STARTTLS with AUTH to `sendgate smtpd` by a
# user whose account is an ACS resource, arrives at the sandbox's ACS taken
# apart: subject, plain text (ISO-8859-1 in, UTF-8 out), HTML, the inline
# image with its contentId, both attachments byte for byte (one with an RFC
# 2231 UTF-8 file name), Reply-To, an X- header, the envelope as To and Bcc.
# A message that cannot be taken apart (S/MIME encrypted, an unknown charset)
# is INVALID with its code, and nothing reaches ACS for it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtpd_lib.sh"
start_redis
mkdir -p "$T/bodies"
start_sandbox --set acs.sends_per_minute=0 --set acs.sends_per_hour=0 \
  --set acs.status_per_minute=0 --set acs.status_per_hour=0 --set acs.op_step_ms=50 \
  --set acs.bodies_dir="$T/bodies"
make_certs
smtp_ports
printf '%s\n' 'correct horse battery' | "$SENDGATE" smtp-user add scanner --users-file "$T/users" \
  --allow-from scanner@contoso.com --account acs_main
start_smtpd SENDGATE_SMTP_LISTEN_RELAY=off
cat >"$T/gw.conf" <<'CONF'
[account.acs_main]
type = acs
sends_per_minute = 0
sends_per_hour = 0
CONF
start_gateway SENDGATE_ACCOUNT_ACS_MAIN_CONNECTION_STRING="$SENDGATE_ACS_CONNECTION_STRING" \
  SENDGATE_ACS_POLLS_PER_MINUTE=0 SENDGATE_ACS_POLLS_PER_HOUR=0 --config "$T/gw.conf"

# The originals: an image, a PDF-like and a CSV attachment (random bytes, so
# any change in transit shows).
head -c 3000 /dev/urandom >"$T/logo.png"
head -c 200000 /dev/urandom >"$T/report.pdf"
printf 'id;name\n1;Jürgen\n2;Zoë\n' >"$T/data.csv"

# submit FILE: sends the message in FILE through smtpd (STARTTLS, AUTH PLAIN,
# the test CA); envelope scanner@contoso.com -> alice (To) and bob (Bcc only).
# Prints the job id of the 250 reply.
submit() {
  python3 - "$1" "$SUB_PORT" "$T/ca.pem" <<'PY'
import smtplib, ssl, sys
path, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, "rb") as f:
    data = f.read()
ctx = ssl.create_default_context(cafile=ca)
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.starttls(context=ctx)
s.login("scanner", "correct horse battery")
s.mail("scanner@contoso.com")
s.rcpt("alice@fabrikam.example")
s.rcpt("bob@fabrikam.example")
code, resp = s.data(data)
s.quit()
print(resp.decode().split("queued as ")[-1] if code == 250 else "refused %d" % code)
PY
}

python3 - "$T" <<'PY'
import sys
from email.message import EmailMessage
from email.policy import SMTP
from email.headerregistry import Address
t = sys.argv[1]
m = EmailMessage(policy=SMTP)
m["From"] = Address("Scanner", "scanner", "contoso.com")
m["To"] = Address("Alice Ärger", "alice", "fabrikam.example")
m["Reply-To"] = Address("Jürgen", "juergen", "contoso.com")
m["Subject"] = "Scan vom März: Bericht"
m["X-Ticket"] = "INC-4711"
m.set_content("Grüße aus dem Scanner.\nZweite Zeile.\n", charset="iso-8859-1", cte="quoted-printable")
html = '<p>Grüße, <b>Alice</b></p><img src="cid:logo123@test">'
m.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
with open(t + "/logo.png", "rb") as f:
    m.get_payload()[1].add_related(f.read(), maintype="image", subtype="png", cid="<logo123@test>",
                                   filename="logo.png")
with open(t + "/report.pdf", "rb") as f:
    m.add_attachment(f.read(), maintype="application", subtype="pdf", filename="Bericht März.pdf")
with open(t + "/data.csv", "rb") as f:
    m.add_attachment(f.read(), maintype="text", subtype="csv", filename="data.csv")
with open(t + "/msg.eml", "wb") as f:
    f.write(m.as_bytes())
PY
check "the message names the PDF by RFC 2231" 1 "$(grep -c "filename\*=utf-8''Bericht%20M%C3%A4rz.pdf" "$T/msg.eml")"

ID=$(submit "$T/msg.eml")
check "250 with a job id" 1 "$([[ $ID == smtp-* ]] && echo 1 || echo 0)"
wait_results 1 30
check "SENT" 1 "$(summary SENT)"
check "one message at ACS" 1 "$(sbx_stat .acs_accepted)"
check "every request verified" 0 "$(sbx_stat .auth_failures)"

# The sandbox's record of the message.
M=$(curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=10" |
  jq -c '(if type == "array" then . else .messages end) | map(.message) | .[0]')
check "sent through ACS" acs "$(jq -r .api <<<"$M")"
check "from the envelope sender" scanner@contoso.com "$(jq -r .mailbox <<<"$M")"
check "plain text and HTML" text+html "$(jq -r .body_kind <<<"$M")"
check "the inline image is inline" "true logo123@test" "$(jq -r '.attachments[] | select(.name == "logo.png") | "\(.inline) \(.content_id)"' <<<"$M")"

# Every part of the request body, against the originals.
B=$(ls "$T/bodies"/*.json)
check "one body kept" 1 "$(ls "$T/bodies" | wc -l)"
python3 - "$B" "$T" >"$T/parts.txt" <<'PY'
import base64, json, sys
b = json.load(open(sys.argv[1]))
t = sys.argv[2]
def norm(s): return s.replace("\r\n", "\n").rstrip("\n")
c = b["content"]
print("subject", c["subject"] == "Scan vom März: Bericht")
print("plainText", norm(c["plainText"]) == "Grüße aus dem Scanner.\nZweite Zeile.")
print("html", norm(c["html"]) == '<p>Grüße, <b>Alice</b></p><img src="cid:logo123@test">')
r = b["recipients"]
print("to", [(a["address"], a.get("displayName")) for a in r["to"]] == [("alice@fabrikam.example", "Alice Ärger")])
print("bcc", [a["address"] for a in r.get("bcc", [])] == ["bob@fabrikam.example"] and "cc" not in r)
print("replyTo", [(a["address"], a.get("displayName")) for a in b["replyTo"]] == [("juergen@contoso.com", "Jürgen")])
print("header", b.get("headers", {}).get("X-Ticket") == "INC-4711")
atts = {a["name"]: a for a in b["attachments"]}
print("attachments", sorted(atts) == sorted(["logo.png", "Bericht März.pdf", "data.csv"]))
for name, orig, ctype, cid in (("logo.png", "logo.png", "image/png", "logo123@test"),
                               ("Bericht März.pdf", "report.pdf", "application/pdf", None),
                               ("data.csv", "data.csv", "text/csv", None)):
    a = atts.get(name, {})
    same = base64.b64decode(a.get("contentInBase64", "")) == open(t + "/" + orig, "rb").read()
    print("bytes:" + orig, same and a.get("contentType") == ctype and a.get("contentId") == cid)
PY
while read -r what ok; do check "ACS got $what exactly" True "$ok"; done <"$T/parts.txt"
check "every part compared" 11 "$(wc -l <"$T/parts.txt")"

# What cannot be taken apart: INVALID with its code, nothing sent.
printf 'From: scanner@contoso.com\r\nTo: alice@fabrikam.example\r\nSubject: secret\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAxggE=\r\n' >"$T/enc.eml"
printf 'From: scanner@contoso.com\r\nTo: alice@fabrikam.example\r\nSubject: odd\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nabc\r\n' >"$T/cs.eml"
ID2=$(submit "$T/enc.eml")
ID3=$(submit "$T/cs.eml")
check "both taken by smtpd" 1 "$([[ $ID2 == smtp-* && $ID3 == smtp-* ]] && echo 1 || echo 0)"
wait_results 3 30
check "INVALID" 2 "$(summary INVALID)"
check "encrypted: its code" 1 "$(summary code:SENDGATE_MIME_ENCRYPTED)"
check "unknown charset: its code" 1 "$(summary code:SENDGATE_MIME_CHARSET)"
check "nothing more at ACS" 1 "$(sbx_stat .acs_accepted)"
stop_gateway
stop_smtpd
finish
