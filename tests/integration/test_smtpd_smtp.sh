#!/usr/bin/env bash
# SMTP in, SMTP out: a device submits over STARTTLS with AUTH to `sendgate
# smtpd` as a user whose account is of type exchange_smtp; the gateway sends
# the message on with XOAUTH2 to the sandbox's Exchange SMTP host. The bytes
# arrive as the device sent them (after smtpd's Received: line), the
# envelope as given (the Bcc recipient only there), from the device's
# sender; a user of an hve account whose recipient is outside the tenant is
# INVALID and nothing is sent for it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtpd_lib.sh"
. "$(dirname "$0")/smtp_egress_lib.sh"
start_redis
mkdir -p "$T/save"
start_sandbox --set smtp.exchange_listen=127.0.0.1:0 --set smtp.hve_listen=127.0.0.1:0 \
  --set "smtp.save_dir=$T/save"
make_certs
smtp_ports
printf '%s\n' 'correct horse battery' | "$SENDGATE" smtp-user add scanner --users-file "$T/users" \
  --allow-from scanner@contoso.com --account exch
printf '%s\n' 'battery staple' | "$SENDGATE" smtp-user add notifier --users-file "$T/users" \
  --allow-from hve@contoso.com --account hve
start_smtpd SENDGATE_SMTP_LISTEN_RELAY=off
smtp_accounts "$T/gw.conf"
start_gateway "${SMTP_ENV[@]}" --config "$T/gw.conf"

# submit USER PASSWORD FROM FILE RCPT...: through smtpd (STARTTLS, AUTH, the
# test CA); prints the job id of the 250 reply.
submit() {
  python3 - "$SUB_PORT" "$T/ca.pem" "$@" <<'PY'
import smtplib, ssl, sys
port, ca, user, pw, frm, path = int(sys.argv[1]), sys.argv[2], *sys.argv[3:7]
rcpts = sys.argv[7:]
data = open(path, "rb").read()
s = smtplib.SMTP("127.0.0.1", port, timeout=30)
s.starttls(context=ssl.create_default_context(cafile=ca))
s.login(user, pw)
s.mail(frm)
for r in rcpts:
    s.rcpt(r)
code, resp = s.data(data)
s.quit()
print(resp.decode().split("queued as ")[-1] if code == 250 else "refused %d" % code)
PY
}
printf 'From: Scanner <scanner@contoso.com>\r\nTo: alice@fabrikam.example\r\nSubject: scan\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9fe\r\n.a dot line\r\n' >"$T/msg.eml"
ID=$(submit scanner 'correct horse battery' scanner@contoso.com "$T/msg.eml" \
  alice@fabrikam.example bob@fabrikam.example)
check "smtpd took it" 1 "$([[ $ID == smtp-* ]] && echo 1 || echo 0)"
wait_results 1 30
check "SENT through SMTP" 1 "$(summary SENT)"
check "the result says backend smtp" 1 "$(summary backend_smtp)"
check "on the Exchange host, from the device's sender" \
  "host exchange|mailbox scanner@contoso.com|from scanner@contoso.com" \
  "$(head -3 "$T/save/1.env" | paste -sd'|')"
check "the envelope as given (bob only there)" "alice@fabrikam.example bob@fabrikam.example" \
  "$(awk '$1 == "rcpt" {print $2}' "$T/save/1.env" | paste -sd' ')"
check "8-bit body: BODY=8BITMIME" 1 "$(grep -c '^params .*BODY=8BITMIME' "$T/save/1.env")"
check "the device's bytes after smtpd's Received: line" "" \
  "$(cmp <(tail -c "$(wc -c <"$T/msg.eml")" "$T/save/1.eml") "$T/msg.eml" 2>&1)"
check "smtpd's Received: line first" 1 "$(head -1 "$T/save/1.eml" | grep -c '^Received: ')"

printf 'From: hve@contoso.com\r\nTo: all@contoso.com\r\nSubject: notice\r\n\r\nnotice\r\n' >"$T/n.eml"
ID2=$(submit notifier 'battery staple' hve@contoso.com "$T/n.eml" all@contoso.com)
ID3=$(submit notifier 'battery staple' hve@contoso.com "$T/n.eml" all@contoso.com x@fabrikam.example)
wait_results 3 30
check "HVE: the internal one SENT" 2 "$(summary SENT)"
check "HVE: the external recipient INVALID" 1 "$(summary code:SENDGATE_RECIPIENT_NOT_ACCEPTED)"
check "two messages at the sandbox" 2 "$(ls "$T/save"/*.eml | wc -l)"
check "the second on the HVE host" "host hve" "$(head -1 "$T/save/2.env")"
check "both taken by smtpd" 1 "$([[ $ID2 == smtp-* && $ID3 == smtp-* ]] && echo 1 || echo 0)"
stop_gateway
stop_smtpd
finish
