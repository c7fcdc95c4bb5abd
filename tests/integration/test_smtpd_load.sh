#!/usr/bin/env bash
# `sendgate smtpd` under Postfix's smtp-source (a load client that is not
# ours): 20 sessions with PIPELINING send 400 messages of 5 KB to the relay
# listener; every message gets its job on sendgate:jobs, none twice, and the
# accepted counter agrees. Not a benchmark: no rate is checked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtpd_lib.sh"
if ! command -v smtp-source >/dev/null 2>&1; then
  echo "smtp-source missing (postfix; deploy/setup-debian.sh installs it)" >&2
  exit 1
fi
start_redis
make_certs
smtp_ports
add_user nobody 'unused password' nobody@contoso.com
start_smtpd SENDGATE_SMTP_RELAY_NETWORKS=127.0.0.1/32 SENDGATE_SMTP_RELAY_SENDERS=@devices.contoso.com

timeout 120 smtp-source -s 20 -m 400 -l 5120 -f load@devices.contoso.com -t sink@fabrikam.example \
  -M smtp.test "127.0.0.1:$RELAY_PORT" >"$T/smtp-source.log" 2>&1 && rc=0 || rc=$?
check "smtp-source: exit 0" 0 "$rc"
check "400 jobs on the stream" 400 "$(rcli xlen sendgate:jobs)"
check "accepted counter" 400 "$(metric sendgate_smtp_messages_accepted_total)"
check "no refusals" 0 "$(grep -c '"refused"' "$T/smtpd.log")"
check "distinct queue ids" 400 "$(grep -o '"job_id":"smtp-[0-9a-f]*"' "$T/smtpd.log" | sort -u | wc -l)"
stop_smtpd && rc=0 || rc=$?
check "SIGTERM: exit 0" 0 "$rc"
finish
