#!/usr/bin/env bash
# The SMTP client (gateway/smtpc/, driven by `sendgate smtp-send`) against
# real servers that are not ours and against the sandbox's SMTP stand-ins:
#  1. aiosmtpd (python3-aiosmtpd) with STARTTLS required and verified
#     against a test CA, AUTH PLAIN and LOGIN: the bytes it received equal
#     the message (CRLF, dots unstuffed), two messages on one session (RSET),
#     a wrong password 535, an untrusted CA fails before any byte of mail,
#     a line over 998 octets is refused before sending;
#  2. Postfix's smtp-sink in plaintext without AUTH (pipelining): the dump
#     holds the envelope and the message;
#  3. the sandbox's Exchange host: XOAUTH2 (one-line and two-step) with a
#     token of the sandbox's Entra for outlook.office365.com, the saved bytes
#     and the record's key; a bad token 535 5.7.3 (AUTH_REFRESH); Basic gets
#     550 5.7.30; the 30-a-minute limit (set to 3) gives 450 4.7.0;
#  4. the sandbox's HVE host: its account's password, external recipients
#     550 5.7.54.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtpd_lib.sh"
PY=/usr/bin/python3 # Debian's python3, where python3-aiosmtpd is installed
make_certs

send() { "$SENDGATE" smtp-send --timeout-ms 10000 "$@"; }

printf 'From: alice@contoso.com\nTo: bob@contoso.com\nSubject: smtpc test\n\n.a line that starts with a dot\n..two dots\nlast line without newline' \
  >"$T/msg1.eml"
# What a server must receive: CRLF line ends, the dots as written, a final CRLF.
printf 'From: alice@contoso.com\r\nTo: bob@contoso.com\r\nSubject: smtpc test\r\n\r\n.a line that starts with a dot\r\n..two dots\r\nlast line without newline\r\n' \
  >"$T/want1.eml"

# ---- 1. aiosmtpd ----
AIO_PORT=$(free_port)
mkdir -p "$T/aio"
"$PY" "$SG_SOURCE_DIR/tests/integration/smtpc/aiosmtpd_server.py" "$AIO_PORT" "$T/server.pem" \
  "$T/server-key.pem" alice 'pass word' "$T/aio" >"$T/aiosmtpd.log" 2>&1 &
PIDS+=($!)
wait_for grep -q ready "$T/aiosmtpd.log"
printf 'pass word\n' >"$T/alice.pw"
send --host "localhost:$AIO_PORT" --ca-file "$T/ca.pem" --auth plain --user alice \
  --secret-file "$T/alice.pw" --from alice@contoso.com --to bob@contoso.com \
  --to carol@contoso.com --message "$T/msg1.eml" --count 2 >"$T/aio1.out" 2>&1 && rc=0 || rc=$?
check "aiosmtpd PLAIN: exit 0" 0 "$rc"
check "aiosmtpd PLAIN: two messages SENT on one session" 2 "$(grep -c '^message [12]: SENT' "$T/aio1.out")"
check "aiosmtpd: bytes received = the message in CRLF form" "" "$(cmp "$T/want1.eml" "$T/aio/1.eml" 2>&1)"
check "aiosmtpd: second message identical" "" "$(cmp "$T/want1.eml" "$T/aio/2.eml" 2>&1)"
check "aiosmtpd: envelope" "from alice@contoso.com|rcpt bob@contoso.com|rcpt carol@contoso.com" \
  "$(grep -v '^options' "$T/aio/1.env" | paste -sd'|')"
check "aiosmtpd: SIZE= is the dot-stuffed size" "options SIZE=$(($(wc -c <"$T/want1.eml") + 2 + 3))" \
  "$(cat "$T/aio/1.env" | grep '^options')"

printf 'From: alice@contoso.com\nTo: bob@contoso.com\nSubject: caf\xc3\xa9 body\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\ncaf\xc3\xa9\n' \
  >"$T/msg8.eml"
sed 's/Subject: .*/Subject: eight bit body/' "$T/msg8.eml" >"$T/msg8b.eml"
send --host "localhost:$AIO_PORT" --ca-file "$T/ca.pem" --auth login --user alice \
  --secret-file "$T/alice.pw" --from alice@contoso.com --to bob@contoso.com \
  --message "$T/msg8b.eml" >"$T/aio2.out" 2>&1 && rc=0 || rc=$?
check "aiosmtpd LOGIN, 8-bit body: SENT" 0 "$rc"
check "8-bit body: BODY=8BITMIME" 1 "$(grep -c 'BODY=8BITMIME' "$T/aio/3.env")"

printf 'wrong\n' >"$T/bad.pw"
send --host "localhost:$AIO_PORT" --ca-file "$T/ca.pem" --auth plain --user alice \
  --secret-file "$T/bad.pw" --from alice@contoso.com --to bob@contoso.com \
  --message "$T/msg1.eml" >"$T/aio3.out" 2>&1 && rc=0 || rc=$?
check "aiosmtpd wrong password: exit 1" 1 "$rc"
check "aiosmtpd wrong password: FAILED 535" 1 "$(grep -c '^session: FAILED .*smtp=535' "$T/aio3.out")"

# An untrusted CA: the TLS handshake fails; no AUTH, no message.
send --host "localhost:$AIO_PORT" --auth plain --user alice --secret-file "$T/alice.pw" \
  --from alice@contoso.com --to bob@contoso.com --message "$T/msg1.eml" >"$T/aio4.out" 2>&1 &&
  rc=0 || rc=$?
check "untrusted certificate: exit 1" 1 "$rc"
check "untrusted certificate: TLS verification failed" 1 "$(grep -c 'SG_ERR_TLS_VERIFY' "$T/aio4.out")"
{ printf 'Subject: long\n\n'; head -c 1200 /dev/zero | tr '\0' x; printf '\n'; } >"$T/long.eml"
send --host "localhost:$AIO_PORT" --ca-file "$T/ca.pem" --auth plain --user alice \
  --secret-file "$T/alice.pw" --from alice@contoso.com --to bob@contoso.com \
  --message "$T/long.eml" >"$T/aio6.out" 2>&1 && rc=0 || rc=$?
check "998-octet limit: refused before sending" 1 \
  "$(grep -c 'line 3 of the message is 1200 octets; SMTP allows 998' "$T/aio6.out")"
check "aiosmtpd received 3 messages in all" 3 "$(ls "$T/aio"/*.eml | wc -l)"

# ---- 2. Postfix smtp-sink: plaintext, no AUTH ----
SINK_PORT=$(free_port)
mkdir -p "$T/sink"
chmod 711 "$T" # smtp-sink writes as nobody
chmod 777 "$T/sink"
smtp-sink -u nobody -d "$T/sink/%Y%m%d%H%M%S." "127.0.0.1:$SINK_PORT" 10 >"$T/sink.log" 2>&1 &
PIDS+=($!)
wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$SINK_PORT"
send --host "127.0.0.1:$SINK_PORT" --plaintext --auth none --from alice@contoso.com \
  --to bob@contoso.com --to carol@contoso.com --message "$T/msg1.eml" --count 3 \
  >"$T/sink1.out" 2>&1 && rc=0 || rc=$?
check "smtp-sink: three messages SENT" "0 3" "$rc $(grep -c ': SENT' "$T/sink1.out")"
three_dumps() { [ "$(ls "$T/sink" | wc -l)" -ge 3 ]; }
wait_for three_dumps
f=$(ls "$T/sink" | head -1)
check "smtp-sink: MAIL FROM" 1 "$(grep -c '^X-Mail-Args: <alice@contoso.com>$' "$T/sink/$f")"
check "smtp-sink: both RCPTs" 2 "$(grep -c '^X-Rcpt-Args: <\(bob\|carol\)@contoso.com>$' "$T/sink/$f")"
# The dump: X- lines, a 3-line Received:, the message (LF ends), one empty line.
sed -n '/^Received:/,$p' "$T/sink/$f" | tail -n +4 | sed '$d' >"$T/sink-got.eml"
tr -d '\r' <"$T/want1.eml" >"$T/want1-lf.eml"
check "smtp-sink: message as sent" "" "$(cmp "$T/want1-lf.eml" "$T/sink-got.eml" 2>&1)"
send --host "127.0.0.1:$SINK_PORT" --plaintext --auth plain --user a --secret-file "$T/alice.pw" \
  --from alice@contoso.com --to bob@contoso.com --message "$T/msg1.eml" >"$T/sink2.out" 2>&1 &&
  rc=0 || rc=$?
check "AUTH without TLS is refused by the client" 2 "$rc"

# ---- 3. the sandbox's Exchange host ----
mkdir -p "$T/sbxsave"
start_sandbox --set smtp.exchange_listen=127.0.0.1:0 --set smtp.hve_listen=127.0.0.1:0 \
  --set "smtp.save_dir=$T/sbxsave" --set smtp.messages_per_minute=3
token() {
  curl -sS --cacert "$CA" -d "grant_type=client_credentials&client_id=$SENDGATE_GRAPH_CLIENT_ID" \
    -d "client_secret=$SENDGATE_GRAPH_CLIENT_SECRET&scope=$1" \
    "$SENDGATE_LOGIN_URL/$SENDGATE_GRAPH_TENANT_ID/oauth2/v2.0/token" | jq -r .access_token
}
token https://outlook.office365.com/.default >"$T/outlook.tok"
token https://graph.microsoft.com/.default >"$T/graph.tok"
# Entra's size: the one-line XOAUTH2 below is then about 1,800 octets, far past
# SMTP's 512 for a command line, as it is against Exchange Online.
check "sandbox Entra issues an outlook.office365.com token" 1300 "$(tr -d '\n' <"$T/outlook.tok" | wc -c)"
printf 'From: mbx@contoso.com\r\nTo: bob@fabrikam.com\r\nSubject: oauth\r\n\r\n.dot\r\nhello\r\n' \
  >"$T/msg3.eml"
send --host "$SENDGATE_SANDBOX_SMTP_EXCHANGE" --ca-file "$CA" --auth xoauth2 \
  --user mbx@contoso.com --xoauth2-token-file "$T/outlook.tok" --from mbx@contoso.com \
  --to bob@fabrikam.com --message "$T/msg3.eml" >"$T/ex1.out" 2>&1 && rc=0 || rc=$?
check "Exchange XOAUTH2 one-line: SENT" "0 1" "$rc $(grep -c '^message 1: SENT' "$T/ex1.out")"
send --host "$SENDGATE_SANDBOX_SMTP_EXCHANGE" --ca-file "$CA" --auth xoauth2-two-step \
  --user mbx@contoso.com --xoauth2-token-file "$T/outlook.tok" --from mbx@contoso.com \
  --to bob@fabrikam.com --message "$T/msg3.eml" >"$T/ex2.out" 2>&1 && rc=0 || rc=$?
check "Exchange XOAUTH2 two-step: SENT" 0 "$rc"
check "sandbox saved the bytes sent" "" "$(cmp "$T/msg3.eml" "$T/sbxsave/1.eml" 2>&1)"
check "sandbox saved the envelope" "host exchange|mailbox mbx@contoso.com|from mbx@contoso.com" \
  "$(head -3 "$T/sbxsave/1.env" | paste -sd'|')"
key=$( { printf 'smtp\0mbx@contoso.com\0'; cat "$T/msg3.eml"; } | sha256sum | cut -d' ' -f1)
keys() { grep -c "\"key\":\"$key\"" "$T/sandbox/messages.jsonl" || true; }
two_keys() { [ "$(keys)" -ge 2 ]; }
wait_for two_keys || true
check "the record's key is SHA-256 over the bytes" 2 "$(keys)"
send --host "$SENDGATE_SANDBOX_SMTP_EXCHANGE" --ca-file "$CA" --auth xoauth2 \
  --user mbx@contoso.com --xoauth2-token-file "$T/graph.tok" --from mbx@contoso.com \
  --to bob@fabrikam.com --message "$T/msg3.eml" >"$T/ex3.out" 2>&1 && rc=0 || rc=$?
check "a Graph token: 535 5.7.3 (AUTH_REFRESH)" 1 \
  "$(grep -c '^session: AUTH_REFRESH code=5.7.3 smtp=535' "$T/ex3.out")"
printf '%s\n' "$SENDGATE_GRAPH_CLIENT_SECRET" >"$T/basic.pw"
send --host "$SENDGATE_SANDBOX_SMTP_EXCHANGE" --ca-file "$CA" --auth login \
  --user mbx@contoso.com --secret-file "$T/basic.pw" --from mbx@contoso.com \
  --to bob@fabrikam.com --message "$T/msg3.eml" >"$T/ex4.out" 2>&1 && rc=0 || rc=$?
check "Exchange Basic: 550 5.7.30" 1 "$(grep -c '^session: FAILED code=5.7.30 smtp=550 AUTH: 550 5.7.30 Basic authentication is not supported for Client Submission' "$T/ex4.out")"
send --host "$SENDGATE_SANDBOX_SMTP_EXCHANGE" --ca-file "$CA" --auth xoauth2 \
  --user mbx@contoso.com --xoauth2-token-file "$T/outlook.tok" --from mbx@contoso.com \
  --to bob@fabrikam.com --message "$T/msg3.eml" --count 3 >"$T/ex5.out" 2>&1 && rc=0 || rc=$?
check "Exchange minute limit (3): the 2nd of 3 gets 450 4.7.0, throttled" 1 \
  "$(grep -c '^message 2: RETRY code=4.7.0 smtp=450 throttled' "$T/ex5.out")"

# ---- 4. the sandbox's HVE host ----
printf 'sandbox-hve-password\n' >"$T/hve.pw"
printf 'From: hve@contoso.com\r\nTo: all@contoso.com\r\nSubject: hve\r\n\r\nnotice\r\n' >"$T/msg4.eml"
send --host "$SENDGATE_SANDBOX_SMTP_HVE" --ca-file "$CA" --auth login --user hve@contoso.com \
  --secret-file "$T/hve.pw" --from hve@contoso.com --to all@contoso.com --to ops@contoso.com \
  --message "$T/msg4.eml" >"$T/hve1.out" 2>&1 && rc=0 || rc=$?
check "HVE Basic (LOGIN): SENT" "0 1" "$rc $(grep -c '^message 1: SENT' "$T/hve1.out")"
last=$(ls "$T/sbxsave"/*.env | sort -V | tail -1)
check "HVE: saved on the HVE host" "host hve" "$(head -1 "$last")"
send --host "$SENDGATE_SANDBOX_SMTP_HVE" --ca-file "$CA" --auth plain --user hve@contoso.com \
  --secret-file "$T/hve.pw" --from hve@contoso.com --to all@contoso.com \
  --to someone@fabrikam.com --message "$T/msg4.eml" >"$T/hve2.out" 2>&1 && rc=0 || rc=$?
check "HVE external recipient: FAILED 5.7.54, nothing sent" 1 \
  "$(grep -c '^message 1: FAILED code=5.7.54 smtp=550 .*(recipient 2 of 2)' "$T/hve2.out")"
# Settings change at run time, for sessions already open too.
sbx_config "smtp.accepted_domains=contoso.com, fabrikam.com" >/dev/null
send --host "$SENDGATE_SANDBOX_SMTP_HVE" --ca-file "$CA" --auth plain --user hve@contoso.com \
  --secret-file "$T/hve.pw" --from hve@contoso.com --to all@contoso.com \
  --to someone@fabrikam.com --message "$T/msg4.eml" >"$T/hve3.out" 2>&1 && rc=0 || rc=$?
check "HVE after POST /sandbox/config accepted_domains: SENT" 0 "$rc"
finish
