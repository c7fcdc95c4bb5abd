#!/usr/bin/env bash
# `sendgate smtpd` with SMTP clients that are not ours (swaks, Python's
# smtplib, curl): submission with STARTTLS (verified against a test CA) and
# AUTH, implicit TLS, the relay listener; each message's job lands on
# sendgate:jobs with the envelope as its recipients and the bytes as sent;
# AUTH only after TLS; senders outside the allowed addresses and clients
# outside relay_networks are refused; 250 only after the XADD (Redis stopped:
# 451, nothing lost); SIGTERM exits 0.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtpd_lib.sh"
REDIS_AOF=yes # the jobs must survive the Redis restart of part 7
start_redis
make_certs
smtp_ports
add_user scanner 'correct horse battery' scanner@contoso.com @alerts.contoso.com
start_smtpd SENDGATE_SMTP_RELAY_NETWORKS=127.0.0.1/32 \
  SENDGATE_SMTP_RELAY_SENDERS=printer@contoso.com,@devices.contoso.com
TLSARGS=(--tls-verify --tls-ca-path "$T/ca")

# 1. Submission: STARTTLS verified, AUTH PLAIN, a Bcc-style envelope recipient.
cat >"$T/msg1.eml" <<'MSG'
From: Scanner <scanner@contoso.com>
To: alice@fabrikam.example
Subject: scan 1

..a line that starts with a dot
body
MSG
swaks --server 127.0.0.1 --port "$SUB_PORT" --tls "${TLSARGS[@]}" --auth PLAIN \
  --auth-user scanner --auth-password 'correct horse battery' --from scanner@contoso.com \
  --to alice@fabrikam.example,hidden@fabrikam.example --data "@$T/msg1.eml" \
  >"$T/swaks1.log" 2>&1 || rc=$?
check "swaks submission: exit 0" 0 "${rc:-0}"
ID1=$(sed -n 's/.*250 2.0.0 Ok: queued as \(smtp-[0-9a-f]*\).*/\1/p' "$T/swaks1.log")
check "swaks submission: 250 names the job id" 1 "$([ -n "$ID1" ] && echo 1 || echo 0)"
check "swaks submission: STARTTLS offered" 1 "$(grep -cE '250[- ]STARTTLS' "$T/swaks1.log")"
check "one job on the stream" 1 "$(dump_jobs)"
check "job id = queue id" "id $ID1" "$(grep '^id ' "$T/jobs/1.meta")"
check "job sender = MAIL FROM" "sender scanner@contoso.com" "$(grep '^sender ' "$T/jobs/1.meta")"
check "job recipients = RCPT TO (Bcc included)" "to alice@fabrikam.example to hidden@fabrikam.example" \
  "$(grep '^to ' "$T/jobs/1.meta" | tr '\n' ' ' | sed 's/ $//')"
check "job reply_stream unset" "reply_stream " "$(grep '^reply_stream' "$T/jobs/1.meta")"
check "mime starts with a Received: trace field" "Received: from" "$(head -c 14 "$T/jobs/1.mime")"
check "Received names the protocol and id" 1 "$(grep -c "with ESMTPSA id $ID1;" "$T/jobs/1.mime")"
# After the Received: field (3 lines) come the message bytes as the file
# holds them (swaks dot-stuffs the line starting with "..", smtpd unstuffs
# it; swaks ends the data with one more CRLF).
tail -n +4 "$T/jobs/1.mime" | tr -d '\r' >"$T/got1.eml"
{ cat "$T/msg1.eml"; echo; } >"$T/want1.eml"
check "mime body as sent" "" "$(diff "$T/want1.eml" "$T/got1.eml" 2>&1 | head -3)"

# 2. The certificate is verified: a CA that did not sign it makes swaks fail.
mkdir -p "$T/otherca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/oca-key.pem" \
  -out "$T/otherca/ca.pem" -days 2 -subj "/CN=other" 2>/dev/null
openssl rehash "$T/otherca" 2>/dev/null || true
swaks --server 127.0.0.1 --port "$SUB_PORT" --tls --tls-verify --tls-ca-path "$T/otherca" \
  --auth PLAIN --auth-user scanner --auth-password 'correct horse battery' \
  --from scanner@contoso.com --to a@fabrikam.example >"$T/swaks2.log" 2>&1 && rc=0 || rc=$?
check "untrusted CA: swaks fails" 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)"
check "untrusted CA: nothing queued" 1 "$(dump_jobs)"

# 3. AUTH before STARTTLS: not offered, and refused.
python3 - "$SUB_PORT" >"$T/py3.log" 2>&1 <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.ehlo("client.test")
print("auth-offered", s.has_extn("auth"))
code, msg = s.docmd("AUTH", "PLAIN AHNjYW5uZXIAY29ycmVjdCBob3JzZSBiYXR0ZXJ5")
print("auth", code, msg.decode())
code, msg = s.docmd("MAIL", "FROM:<scanner@contoso.com>")
print("mail", code, msg.decode())
s.quit()
PY
check "no AUTH offered before TLS" 1 "$(grep -c 'auth-offered False' "$T/py3.log")"
check "AUTH before STARTTLS: 530" 1 "$(grep -c '^auth 530 5.7.0' "$T/py3.log")"
check "MAIL without AUTH: 530" 1 "$(grep -c '^mail 530 5.7.0' "$T/py3.log")"

# 4. smtplib over implicit TLS, verified, AUTH LOGIN; a wrong From: and a
# wrong envelope sender are refused with 550 5.7.60; a wrong password 535.
python3 - "$TLS_PORT" "$T/ca.pem" >"$T/py4.log" 2>&1 <<'PY'
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = smtplib.SMTP_SSL("localhost", int(sys.argv[1]), context=ctx, timeout=10)
s.ehlo("client.test")
try:
    s.login("scanner", "wrong password")
except smtplib.SMTPAuthenticationError as e:
    print("badpw", e.smtp_code)
s.login("scanner", "correct horse battery")
print("login ok")
msg = "From: nagios@alerts.contoso.com\r\nTo: ops@fabrikam.example\r\nSubject: alert\r\n\r\nCPU\r\n"
r = s.sendmail("nagios@alerts.contoso.com", ["ops@fabrikam.example"], msg)
print("sent", r)
try:
    s.sendmail("ceo@contoso.com", ["ops@fabrikam.example"], msg)
except smtplib.SMTPSenderRefused as e:
    print("sender refused", e.smtp_code, e.smtp_error.decode())
bad = "From: ceo@contoso.com\r\nSubject: x\r\n\r\nx\r\n"
try:
    s.sendmail("scanner@contoso.com", ["ops@fabrikam.example"], bad)
except smtplib.SMTPDataError as e:
    print("from refused", e.smtp_code, e.smtp_error.decode())
s.quit()
PY
check "smtplib implicit TLS: wrong password 535" 1 "$(grep -c '^badpw 535' "$T/py4.log")"
check "smtplib implicit TLS: login and send" 1 "$(grep -c '^sent {}' "$T/py4.log")"
check "envelope sender not allowed: 550 5.7.60" 1 "$(grep -c '^sender refused 550 5.7.60' "$T/py4.log")"
check "From: not allowed: 550 5.7.60" 1 "$(grep -c '^from refused 550 5.7.60' "$T/py4.log")"
check "two jobs on the stream" 2 "$(dump_jobs)"
check "smtplib job: recipients" "to ops@fabrikam.example" "$(grep '^to ' "$T/jobs/2.meta")"

# 5. Relay: curl from an allowed network and sender, no AUTH.
printf 'From: printer@contoso.com\r\nTo: bob@fabrikam.example\r\nSubject: relay\r\n\r\nscan\r\n' \
  >"$T/msg5.eml"
curl -sS --url "smtp://127.0.0.1:$RELAY_PORT" --mail-from printer@contoso.com \
  --mail-rcpt bob@fabrikam.example --upload-file "$T/msg5.eml" >"$T/curl5.log" 2>&1 && rc=0 ||
  rc=$?
check "curl relay: exit 0" 0 "$rc"
check "three jobs on the stream" 3 "$(dump_jobs)"
check "relay job: sender" "sender printer@contoso.com" "$(grep '^sender ' "$T/jobs/3.meta")"
swaks --server 127.0.0.1 --port "$RELAY_PORT" --from intruder@evil.example \
  --to bob@fabrikam.example >"$T/swaks5.log" 2>&1 || true
check "relay: sender outside relay_senders 550 5.7.1" 1 "$(grep -c '<\*\* 550 5.7.1' "$T/swaks5.log")"

# 5b. A client that pipelines 8,000 HELPs (under smtp.max_commands) with a
# 4 KB receive buffer and reads only after sending them all: 750 KB of
# replies wait in smtpd's socket meanwhile. Every reply comes once and in
# order. (A write the socket takes only in part is test_tlsconn's
# backpressure case: the same sg_stream_write.)
python3 - "$RELAY_PORT" >"$T/noop.log" 2>&1 <<'PY' && rc=0 || rc=$?
import socket, sys
n = 8000
help = b"214 2.0.0 See RFC 5321; commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT STARTTLS AUTH VRFY HELP"
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.settimeout(60)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"EHLO pipeline.test\r\n" + b"HELP\r\n" * n + b"QUIT\r\n")
data = bytearray()
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
lines = bytes(data).split(b"\r\n")
assert lines[-1] == b"", "no CRLF at the end"
lines = lines[:-1]
assert lines[0].startswith(b"220 "), lines[0]
i = 1
while lines[i].startswith(b"250-"):
    i += 1
assert lines[i].startswith(b"250 "), lines[i]
helps = lines[i + 1:-1]
assert len(helps) == n, "%d HELP replies for %d" % (len(helps), n)
assert all(l == help for l in helps), "a HELP reply differs"
assert lines[-1] == b"221 2.0.0 Bye", lines[-1]
print("ok", len(helps))
PY
check "8,000 pipelined HELPs, read late: every reply once, in order" 0 "$rc"
[ "$rc" = 0 ] || cat "$T/noop.log"

# 6. Relay from outside relay_networks: 554, nothing accepted. (The client
# connects from 127.0.0.1; a second smtpd allows only 10.0.0.0/8.)
stop_smtpd && rc=0 || rc=$?
check "SIGTERM: exit 0" 0 "$rc"
start_smtpd SENDGATE_SMTP_RELAY_NETWORKS=10.0.0.0/8 SENDGATE_SMTP_RELAY_SENDERS=printer@contoso.com
swaks --server 127.0.0.1 --port "$RELAY_PORT" --from printer@contoso.com \
  --to bob@fabrikam.example >"$T/swaks6.log" 2>&1 || true
check "relay outside relay_networks: 554 greeting" 1 "$(grep -c '<\*\* 554 5.7.1' "$T/swaks6.log")"
check "still three jobs" 3 "$(dump_jobs)"

# 7. 250 only after the XADD: with Redis stopped the message gets 451.
stop_redis
swaks --server 127.0.0.1 --port "$SUB_PORT" --tls "${TLSARGS[@]}" --auth LOGIN \
  --auth-user scanner --auth-password 'correct horse battery' --from scanner@contoso.com \
  --to a@fabrikam.example >"$T/swaks7.log" 2>&1 || true
check "Redis down: 451 4.3.0" 1 "$(grep -c '<.\* 451 4.3.0' "$T/swaks7.log")"
check "Redis down: no 250 for the message" 0 "$(grep -c 'queued as' "$T/swaks7.log")"
check "metrics: accepted counted" 1 "$([ "$(metric sendgate_smtp_messages_accepted_total)" = 0 ] && echo 1 || echo 0)"
restart_redis
check "nothing was added while Redis was down" 3 "$(dump_jobs)"
check "metrics: queue_unavailable counted" 1 \
  "$(metric 'sendgate_smtp_refused_total{reason="queue_unavailable"}')"
stop_smtpd && rc=0 || rc=$?
check "SIGTERM: exit 0 again" 0 "$rc"
check "no password in the logs" 0 "$(grep -c 'correct horse' "$T/smtpd.log" "$T/smtpd.out" | awk -F: '{s+=$2} END {print s}')"
finish
