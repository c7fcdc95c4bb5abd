#!/usr/bin/env bash
# Every command's --help: exits 0, lists every long option the command's own
# option table accepts (read from its source, so a new option without help
# text fails here), and states the default of each option that has one.
# Also: configuration errors name the setting, as file key and variable.
. "$(dirname "$0")/lib.sh"

LOADGEN=${SG_LOADGEN:-$SG_BIN_DIR/../bench/sendgate-loadgen}
SRC=$SG_SOURCE_DIR

# options_of FILE...: the long option names of the tables in FILE (getopt
# {"name", has_arg, ...} rows, the send options' {"name", bool, SETTER} rows,
# and the load generator's name lists).
options_of() {
  python3 - "$@" <<'PY'
import re, sys
names = set()
for path in sys.argv[1:]:
    src = open(path).read()
    names.update(re.findall(r'\{"([a-z][a-z0-9-]+)",\s*(?:[0-9]|true|false|no_argument|required_argument|optional_argument)', src))
    for block in re.findall(r'(?:flags|names)\[\]\s*=\s*\{([^}]*)\}', src):
        names.update(re.findall(r'"([a-z][a-z0-9-]+)"', block))
names.discard("help")
print("\n".join(sorted(names)))
PY
}

# check_help NAME "CMD..." SOURCES...: --help exits 0 and names every option.
check_help() {
  local name=$1 cmd=$2 out rc opt missing=""
  shift 2
  rc=0
  out=$($cmd --help 2>&1) || rc=$?
  check "$name --help: exit 0" 0 "$rc"
  check "$name --help: on stdout" true "$([ -n "$($cmd --help 2>/dev/null)" ] && echo true || echo false)"
  [ $# -gt 0 ] || return 0
  local opts
  opts=$(options_of "$@")
  check_ge "$name: options found in the source" 1 "$(grep -c . <<<"$opts")"
  for opt in $opts; do
    grep -q -- "--$opt\b" <<<"$out" || missing="$missing --$opt"
  done
  check "$name --help: lists every option" "" "$missing"
}

# check_default NAME "CMD..." OPTION TEXT: the help's entry for OPTION (its line
# and the indented lines that continue it) says "default" and TEXT.
check_default() {
  local name=$1 cmd=$2 opt=$3 want=$4 entry
  entry=$($cmd --help 2>&1 | awk -v o="$opt" '
    !f && match($0, "^ +" o "([ ,/=]|$)") { f = 1; print; next }
    f && /^ *--|^ *-[a-zA-Z] |^[A-Za-z]/ { exit }
    f { print }')
  check "$name $opt: default $want" true \
    "$(grep -qi 'default' <<<"$entry" && grep -qF -- "$want" <<<"$entry" && echo true || echo false)"
}

SG="$SENDGATE"
echo "# sendgate and its commands"
check "sendgate --help: exit 0" 0 "$("$SG" --help >/dev/null 2>&1; echo $?)"
for c in run send dlq smtpd smtp-user smtp-send sendmail status explain; do
  grep -q "^  $c " <<<"$("$SG" --help)" || check "sendgate --help lists $c" yes no
done
check_help "run" "$SG run" "$SRC/gateway/cli/sg_cmd_opts.c"
check_help "smtpd" "$SG smtpd" "$SRC/gateway/cli/sg_cmd_opts.c"
check_help "send" "$SG send" "$SRC/gateway/cli/sg_send_opts.c"
check_help "dlq" "$SG dlq" "$SRC/gateway/cli/sg_cmd_dlq.c"
check_help "smtp-user" "$SG smtp-user" "$SRC/gateway/cli/sg_cmd_smtp_user.c"
check_help "smtp-send" "$SG smtp-send" "$SRC/gateway/cli/sg_cmd_smtp_send.c"
check_help "status" "$SG status" "$SRC/gateway/cli/sg_cmd_status.c"
check_help "explain" "$SG explain" "$SRC/gateway/cli/sg_cmd_explain.c"
check_help "sendmail" "$SG sendmail"
for o in -t -i -f -F -C; do
  grep -q -- "^ *$o" <<<"$("$SG" sendmail --help)" || check "sendmail --help lists $o" yes no
done
check_help "sandbox" "$SANDBOX" "$SRC/gateway/sandbox/main.c"
check_help "loadgen" "$LOADGEN" "$SRC/bench/loadgen/sg_lg_opts.c"

echo "# defaults"
check_default send "$SG send" --timeout 120
check_default send "$SG send" --backend "gateway's default"
check_default send "$SG send" --id random
check_default send "$SG send" --max-attempts gateway.max_attempts
check_default send "$SG send" --redis-url redis://127.0.0.1:6379/0
check_default dlq "$SG dlq" --limit 100
check_default dlq "$SG dlq" --redis-url redis://127.0.0.1:6379/0
check_default smtp-user "$SG smtp-user" --users-file SENDGATE_SMTP_USERS_FILE
check_default smtp-user "$SG smtp-user" --account "the default one"
check_default smtp-send "$SG smtp-send" --host 587
check_default smtp-send "$SG smtp-send" --auth xoauth2
check_default smtp-send "$SG smtp-send" --secret-file SENDGATE_SMTP_SEND_SECRET
check_default smtp-send "$SG smtp-send" --message "standard input"
check_default smtp-send "$SG smtp-send" --ca-file SENDGATE_TLS_CA_FILE
check_default smtp-send "$SG smtp-send" --helo localhost
check_default smtp-send "$SG smtp-send" --count 1
check_default smtp-send "$SG smtp-send" --timeout-ms "RFC 5321"
check_default status "$SG status" --url 127.0.0.1:9464
check_default status "$SG status" --watch 2
check_default status "$SG status" --lanes 50
check_default explain "$SG explain" --redis-url redis://127.0.0.1:6379/0
check_default explain "$SG explain" --url 127.0.0.1:9464
check_default explain "$SG explain" --scan 10000
check_default explain "$SG explain" --account "from the job"
check_default sandbox "$SANDBOX" --listen 127.0.0.1:8443
check_default sandbox "$SANDBOX" --state-dir ./sendgate-sandbox-state
check_default sandbox "$SANDBOX" --log-level info
for o in "--count 1000" "--senders 10" "--recipients 1" "--domain example.com" "--acs 0" \
  "--invalid 0" "--size 1024" "--attachments 0" "--attachment-size 1024" \
  "--jobs-stream sendgate:jobs" "--results-stream sendgate:results" "--producers 4" \
  "--pipeline 64" "--timeout 60" "--connect-timeout 5" "--rate as fast as possible" \
  "--run-id random" "--redis-url redis://127.0.0.1:6379/0"; do
  check_default loadgen "$LOADGEN" "${o%% *}" "${o#* }"
done

echo "# configuration errors name the setting"
A=(SENDGATE_GRAPH_TENANT_ID=t SENDGATE_GRAPH_CLIENT_ID=c SENDGATE_GRAPH_CLIENT_SECRET=s)
err() { env -i "$@" "$SG" run --check 2>&1 >/dev/null || true; }
check "a bad number" "sendgate run: gateway.ledger_slots (SENDGATE_GATEWAY_LEDGER_SLOTS): 'abc' is not a whole number" \
  "$(err "${A[@]}" SENDGATE_GATEWAY_LEDGER_SLOTS=abc)"
check "out of range" "sendgate run: gateway.max_attempts (SENDGATE_GATEWAY_MAX_ATTEMPTS): 0 is out of range [1, 1000]" \
  "$(err "${A[@]}" SENDGATE_GATEWAY_MAX_ATTEMPTS=0)"
check "a missing credential" "sendgate run: default Graph account: SENDGATE_GRAPH_CLIENT_ID is missing" \
  "$(err SENDGATE_GRAPH_TENANT_ID=t)"
check "--check: the admin address" "sendgate run: SENDGATE_HTTP_LISTEN (http.listen) \"nope\": expected IP:PORT" \
  "$(err "${A[@]}" SENDGATE_HTTP_LISTEN=nope)"
check "--check: the Redis URL, without echoing it" true \
  "$(err "${A[@]}" SENDGATE_REDIS_URL=secret-ish | grep -q '^sendgate run: SENDGATE_REDIS_URL (redis.url): ' && echo true || echo false)"
check "--check: exit 2 on a bad address" 2 "$(env -i "${A[@]}" SENDGATE_HTTP_LISTEN=nope "$SG" run --check >/dev/null 2>&1; echo $?)"
sbx_err=$("$SANDBOX" --state-dir "$T/sbx" --set graph.mailbox_requests=x 2>&1 || true)
check "sandbox: a bad number" true \
  "$(grep -q 'graph.mailbox_requests (SENDGATE_SANDBOX_GRAPH_MAILBOX_REQUESTS)' <<<"$sbx_err" && echo true || echo false)"
finish
