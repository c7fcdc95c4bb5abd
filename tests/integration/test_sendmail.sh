#!/usr/bin/env bash
# `sendgate sendmail` against a private redis-server: messages piped in as
# cron, PHP mail() and mailx do land as one MIME job each on sendgate:jobs,
# with the envelope recipients in `to` (arguments, and To/Cc/Bcc with -t),
# Bcc removed from the bytes, the sender from -f, From: or [sendmail] sender,
# CRLF line ends, and the dot rule with and without -i; failures give
# sendmail's exit codes (64, 65, 75 with Redis down).
. "$(dirname "$0")/lib.sh"
start_redis

SM=("$SENDGATE" sendmail)
rc() { "$@" >"$T/out" 2>"$T/err"; echo $?; }

# job N: the N-th job (1-based) decoded as JSON: id, account, sender, to, mime.
job() {
  python3 - "$REDIS_PORT" "$1" <<'PY'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = s.makefile("rb")
def cmd(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    s.sendall(out)
    return read()
def read():
    line = f.readline()[:-2]
    t, rest = line[:1], line[1:]
    if t == b"*":
        n = int(rest)
        return None if n < 0 else [read() for _ in range(n)]
    if t == b"$":
        n = int(rest)
        if n < 0: return None
        data = f.read(n + 2)[:-2]
        return data
    return rest
def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]; i += 1
        v |= (c & 0x7f) << shift; shift += 7
        if c < 0x80: return v, i
def fields(b):
    i, out = 0, []
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i); v = b[i:i + n]; i += n
        else:
            raise SystemExit("wire type %d" % wt)
        out.append((num, v))
    return out
entries = cmd("XRANGE", "sendgate:jobs", "-", "+")
e = entries[int(sys.argv[2]) - 1]
kv = dict(zip(e[1][::2], e[1][1::2]))
job = {"id": "", "account": "", "sender": "", "to": [], "to_names": [], "mime": "", "other": []}
for num, v in fields(kv[b"job"]):
    if num == 1: job["id"] = v.decode()
    elif num == 3: job["account"] = v.decode()
    elif num == 4: job["sender"] = v.decode()
    elif num == 5:
        a = dict(fields(v)); job["to"].append(a.get(1, b"").decode()); job["to_names"].append(a.get(2, b"").decode())
    elif num == 14: job["mime"] = v.decode("latin-1")
    elif num not in (15, 21): job["other"].append(num)
print(json.dumps(job))
PY
}
jq_job() { job "$1" | jq -r "$2"; }

echo "# usage"
check "--help exit 0" "0" "$(rc "${SM[@]}" --help)"
check "--help text" "1" "$(grep -c '^usage: sendgate sendmail' "$T/out")"
check "unknown option" "64" "$(rc "${SM[@]}" -Z a@b.com </dev/null)"
check "unknown option one line" "1" "$(wc -l <"$T/err")"
check "-bs refused" "64" "$(rc "${SM[@]}" -bs </dev/null)"
check "-f without value" "64" "$(rc "${SM[@]}" -f)"
check "no recipients" "64" "$(printf 'Subject: x\n\nhi\n' | "${SM[@]}" -f a@contoso.com >/dev/null 2>&1; echo $?)"
check "bad recipient" "65" "$(printf 'Subject: x\n\nhi\n' | "${SM[@]}" -f a@contoso.com 'not an address' >/dev/null 2>"$T/err"; echo $?)"
check "bad recipient message" "sendgate sendmail: bad recipient address 'notanaddress'" "$(cat "$T/err")"
check "no sender" "65" "$(printf 'Subject: x\n\nhi\n' | env -u SENDGATE_SENDMAIL_SENDER "${SM[@]}" b@fabrikam.com >/dev/null 2>&1; echo $?)"
check "empty message" "65" "$("${SM[@]}" -f a@contoso.com b@fabrikam.com </dev/null >/dev/null 2>&1; echo $?)"
check "nothing queued by refusals" "0" "$(rcli XLEN sendgate:jobs)"

echo "# -t: envelope from To/Cc/Bcc, Bcc removed (as PHP mail() calls it)"
cat >"$T/m1" <<'MSG'
From: "Web Shop" <shop@contoso.com>
To: "Doe, Jane" <jane@fabrikam.com>, bob@fabrikam.com (Bob)
Cc: team: carol@fabrikam.com, Dave <DAVE@fabrikam.com>;
Bcc: audit@contoso.com,
 secret@contoso.com
Subject: Order 42
X-Note: bcc: is mentioned here

Thanks for your order.
Bcc: this line is body, not a header
MSG
check "-t -i queued" "0" "$(rc "${SM[@]}" -t -i <"$T/m1")"
check "silent on success" "" "$(cat "$T/out" "$T/err")"
check "one job" "1" "$(rcli XLEN sendgate:jobs)"
check "envelope" "jane@fabrikam.com bob@fabrikam.com carol@fabrikam.com DAVE@fabrikam.com audit@contoso.com secret@contoso.com" "$(jq_job 1 '.to | join(" ")')"
check "sender from From:" "shop@contoso.com" "$(jq_job 1 .sender)"
check "only id, sender, to, mime set" "[]" "$(jq_job 1 '.other | tostring')"
check "id" "1" "$(jq_job 1 .id | grep -c '^sendmail-[0-9a-f]\{24\}$')"
job 1 | jq -j .mime >"$T/mime1"
check "no Bcc header in the bytes" "0" "$(grep -ci '^bcc:' <(sed '/^\r$/q' "$T/mime1"))"
check "no Bcc continuation" "0" "$(grep -c 'secret@contoso.com' "$T/mime1")"
check "other headers kept" "1" "$(grep -c '^X-Note: bcc: is mentioned here' "$T/mime1")"
check "body line kept" "1" "$(grep -c '^Bcc: this line is body' "$T/mime1")"
check "CRLF line ends" "$(wc -l <"$T/mime1")" "$(grep -c $'\r$' "$T/mime1")"
check "Date added" "1" "$(grep -c '^Date: ' "$T/mime1")"

echo "# arguments, -f, -F, and the dot"
printf 'Subject: cron\n\nline 1\n.\nnot sent\n' >"$T/m2"
check "args + -f" "0" "$(rc "${SM[@]}" -odi -oem -FCronDaemon -f '<cron@contoso.com>' 'a@fabrikam.com, b@fabrikam.com' c@fabrikam.com <"$T/m2")"
check "envelope from args" "a@fabrikam.com b@fabrikam.com c@fabrikam.com" "$(jq_job 2 '.to | join(" ")')"
check "sender from -f" "cron@contoso.com" "$(jq_job 2 .sender)"
job 2 | jq -j .mime >"$T/mime2"
check "From: added with -F name" "1" "$(grep -c '^From: "CronDaemon" <cron@contoso.com>' "$T/mime2")"
check "a lone dot ends the message" "0" "$(grep -c 'not sent' "$T/mime2")"
check "line before the dot" "1" "$(grep -c '^line 1' "$T/mime2")"
check "-oi keeps the dot" "0" "$(rc "${SM[@]}" -oi -f cron@contoso.com a@fabrikam.com <"$T/m2")"
check "dot and after kept" "2" "$(job 3 | jq -r .mime | grep -c '^\.\|^not sent')"
check "-f wins over From:" "0" "$(rc "${SM[@]}" -t -f other@contoso.com <"$T/m1")"
check "-f sender" "other@contoso.com" "$(jq_job 4 .sender)"
check "-t adds to argument recipients" "0" "$(rc "${SM[@]}" -ti zed@fabrikam.com <"$T/m1")"
check "args first, then headers, no duplicates" "zed@fabrikam.com jane@fabrikam.com" "$(jq_job 5 '.to[0:2] | join(" ")')"
check "duplicates merged" "7" "$(jq_job 5 '.to | length')"
check "-t without recipient headers" "64" "$(printf 'Subject: x\n\nhi\n' | "${SM[@]}" -t -f a@contoso.com >/dev/null 2>&1; echo $?)"

echo "# [sendmail] sender and account from the config file and the environment"
printf '[sendmail]\nsender = noreply@contoso.com\naccount = alerts\n' >"$T/sm.conf"
printf 'Subject: no from\n\nbody\n' >"$T/m3"
check "config sender" "0" "$(rc "${SM[@]}" -C "$T/sm.conf" ops@fabrikam.com <"$T/m3")"
check "sender from config" "noreply@contoso.com" "$(jq_job 6 .sender)"
check "account from config" "alerts" "$(jq_job 6 .account)"
check "env sender" "0" "$(SENDGATE_SENDMAIL_SENDER=env@contoso.com "${SM[@]}" ops@fabrikam.com <"$T/m3" >/dev/null 2>&1; echo $?)"
check "sender from env" "env@contoso.com" "$(jq_job 7 .sender)"
printf 'just a body line\nand another\n' | "${SM[@]}" -f a@contoso.com ops@fabrikam.com || true
check "body-only message gets headers before it" "From: a@contoso.com||just a body line" \
  "$(job 8 | jq -j .mime | tr -d '\r' | sed -n '1p;3,4p' | paste -sd'|')"

echo "# as /usr/sbin/sendmail (argv[0])"
ln -s "$SENDGATE" "$T/sendmail"
check "called as sendmail" "0" "$(rc "$T/sendmail" -t -i <"$T/m1")"
check "queued by the link" "9" "$(rcli XLEN sendgate:jobs)"

echo "# Redis down: EX_TEMPFAIL"
stop_redis
check "exit 75" "75" "$(rc "${SM[@]}" -t -i <"$T/m1")"
check "reason on stderr" "1" "$(wc -l <"$T/err")"
finish
