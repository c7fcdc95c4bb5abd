#!/usr/bin/env bash
# `sendgate dlq` against a private redis-server: dead letters are set up with
# redis-cli (binary job bytes via -x), then listed (columns, --limit, --reason,
# undecodable jobs, the config file's dead stream) and requeued (--id, --reason,
# --all: the job bytes come back unchanged, each entry once), with the usage
# and Redis errors and their exit codes.
. "$(dirname "$0")/lib.sh"
start_redis

DLQ=("$SENDGATE" dlq)
# A MailJob with only its id set (field 1): decodes, not valid, but has an id.
job() { printf "\\x0a\\x$(printf %02x "${#1}")%s" "$1" >"$T/$1.bin"; }
dead() { # dead REASON JOBFILE -> entry id
  rcli -x XADD sendgate:dead '*' reason "$1" job <"$2"
}
job job-a; job job-b; job job-c
printf '\xff\xff\xff' >"$T/garbage.bin"
D1=$(dead max_deliveries "$T/job-a.bin")
D2=$(dead undecodable "$T/job-b.bin")
D3=$(dead undecodable "$T/garbage.bin")
D4=$(rcli XADD sendgate:dead '*' reason weird other x)
D5=$(dead max_deliveries "$T/job-c.bin")

rfc3339() { python3 -c 'import sys,datetime; ms=int(sys.argv[1].split("-")[0]); print(datetime.datetime.fromtimestamp(ms/1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.")+"%03dZ"%(ms%1000))' "$1"; }
rc() { "$@" >"$T/out" 2>"$T/err"; echo $?; }

echo "# usage"
check "--help exit 0" "0" "$(rc "${DLQ[@]}" --help)"
check "--help text" "1" "$(grep -c '^usage: sendgate dlq list' "$T/out")"
check "list --help" "0" "$(rc "${DLQ[@]}" list --help)"
check "no subcommand" "2" "$(rc "${DLQ[@]}")"
check "bad subcommand" "2" "$(rc "${DLQ[@]}" bogus)"
check "bad subcommand one line" "1" "$(wc -l <"$T/err")"
check "requeue without a mode" "2" "$(rc "${DLQ[@]}" requeue)"
check "requeue two modes" "2" "$(rc "${DLQ[@]}" requeue --all --reason x)"
check "requeue bad id" "2" "$(rc "${DLQ[@]}" requeue --id nonsense)"
check "list --all refused" "2" "$(rc "${DLQ[@]}" list --all)"
check "bad limit" "2" "$(rc "${DLQ[@]}" list --limit x)"
check "unknown option" "2" "$(rc "${DLQ[@]}" list --frob)"

echo "# list"
check "list exit" "0" "$(rc "${DLQ[@]}" list)"
check "list lines" "5" "$(wc -l <"$T/out")"
check "list line 1" "$(printf '%s\tmax_deliveries\tjob-a\t%s' "$D1" "$(rfc3339 "$D1")")" "$(sed -n 1p "$T/out")"
check "list undecodable job" "$(printf '%s\tundecodable\t-' "$D3")" "$(sed -n 3p "$T/out" | cut -f1-3)"
check "list no job field" "$(printf '%s\tweird\t-' "$D4")" "$(sed -n 4p "$T/out" | cut -f1-3)"
check "list order" "$D1 $D2 $D3 $D4 $D5" "$(cut -f1 "$T/out" | tr '\n' ' ' | sed 's/ $//')"
rc "${DLQ[@]}" list --limit 2 >/dev/null
check "list --limit 2" "$D1 $D2" "$(cut -f1 "$T/out" | tr '\n' ' ' | sed 's/ $//')"
rc "${DLQ[@]}" list --reason undecodable >/dev/null
check "list --reason" "$D2 $D3" "$(cut -f1 "$T/out" | tr '\n' ' ' | sed 's/ $//')"
rc "${DLQ[@]}" list --reason undecodable --limit 1 >/dev/null
check "list --reason --limit" "$D2" "$(cut -f1 "$T/out")"
rc "${DLQ[@]}" list --limit 0 >/dev/null
check "list --limit 0 = all" "5" "$(wc -l <"$T/out")"

echo "# requeue"
check "requeue --id" "0" "$(rc "${DLQ[@]}" requeue --id "$D1")"
check "requeue --id output" "requeued 1" "$(cat "$T/out")"
check "jobs stream" "1" "$(rcli XLEN sendgate:jobs)"
check "dead stream" "4" "$(rcli XLEN sendgate:dead)"
same_job() { # same_job INDEX FILE: the jobs entry INDEX (1-based) holds FILE's bytes
  rcli -x EVAL "local e = redis.call('XRANGE', KEYS[1], '-', '+')[tonumber(ARGV[1])]
    return (e[2][1] == 'job' and e[2][2] == ARGV[2]) and 1 or 0" 1 sendgate:jobs "$1" <"$2"
}
check "job bytes unchanged" "1" "$(same_job 1 "$T/job-a.bin")"
check "requeued_from" "requeued_from $D1" \
  "$(rcli EVAL "local f = redis.call('XRANGE', KEYS[1], '-', '+')[1][2]
    return f[3] .. ' ' .. f[4]" 1 sendgate:jobs)"
check "requeue same id again" "1" "$(rc "${DLQ[@]}" requeue --id "$D1")"
check "missing id message" "sendgate dlq: no dead letter $D1" "$(cat "$T/err")"
check "requeue no job field" "1" "$(rc "${DLQ[@]}" requeue --id "$D4")"
check "no job field left in place" "4" "$(rcli XLEN sendgate:dead)"
check "requeue --reason" "0" "$(rc "${DLQ[@]}" requeue --reason undecodable)"
check "requeue --reason output" "requeued 2" "$(cat "$T/out")"
check "jobs after --reason" "3" "$(rcli XLEN sendgate:jobs)"
check "garbage bytes unchanged" "1" "$(same_job 3 "$T/garbage.bin")"
check "requeue --all (one without job)" "1" "$(rc "${DLQ[@]}" requeue --all)"
check "requeue --all output" "requeued 1" "$(cat "$T/out")"
check "requeue --all left" "$D4" "$(rcli XRANGE sendgate:dead - + | head -1)"
check "jobs after --all" "4" "$(rcli XLEN sendgate:jobs)"
check "job-c unchanged" "1" "$(same_job 4 "$T/job-c.bin")"
check "requeue --reason none" "0" "$(rc "${DLQ[@]}" requeue --reason nothing)"
check "requeue none output" "requeued 0" "$(cat "$T/out")"

echo "# config and Redis"
printf '[gateway]\ndead_stream = custom:dead\njobs_stream = custom:jobs\n' >"$T/gw.ini"
C1=$(dead max_deliveries "$T/job-a.bin")
rcli -x XADD custom:dead '*' reason other job <"$T/job-b.bin" >/dev/null
rc "${DLQ[@]}" list --config "$T/gw.ini" >/dev/null
check "config dead stream" "other job-b" "$(cut -f2,3 "$T/out" | tr '\t' ' ')"
check "config requeue" "0" "$(rc "${DLQ[@]}" requeue --all --config "$T/gw.ini")"
check "config jobs stream" "1 0" "$(rcli XLEN custom:jobs) $(rcli XLEN custom:dead)"
check "default streams untouched" "2 4" "$(rcli XLEN sendgate:dead) $(rcli XLEN sendgate:jobs)"
check "env dead stream" "0" "$(SENDGATE_GATEWAY_DEAD_STREAM=sendgate:dead rc "${DLQ[@]}" list --config "$T/gw.ini")"
check "env wins" "$D4 $C1" "$(cut -f1 "$T/out" | tr '\n' ' ' | sed 's/ $//')"
check "redis down" "3" "$(rc "${DLQ[@]}" list --redis-url "redis://127.0.0.1:$(free_port)/0")"
check "redis down one line" "1" "$(wc -l <"$T/err")"
check "bad redis url" "3" "$(rc "${DLQ[@]}" list --redis-url "http://x")"
finish
