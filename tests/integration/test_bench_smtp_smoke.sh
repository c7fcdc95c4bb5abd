#!/usr/bin/env bash
# bench/smtp_egress.sh (and bench/run.sh --backend smtp) in a tiny mode: 2,000
# jobs of 5 KB through an exchange_smtp account and through Graph; both lines
# must say every job SENT, with positive rates and CPU figures, and the SMTP
# line the sessions the lanes allow (3 mailboxes x 2 sessions: at most 6 open,
# at least one per mailbox opened). 2,000 jobs, not fewer: the CPU figures
# come in clock ticks of 10 ms, and 600 Graph jobs at about 13 us each could
# fall inside one tick and read 0.
. "$(dirname "$0")/lib.sh"
BUILD=$(cd "$SG_BIN_DIR/.." && pwd)
"$SG_SOURCE_DIR/bench/run.sh" --build "$BUILD" --count 2000 --backend smtp --senders 3 \
  --sessions 2 >"$T/bench.out" 2>"$T/bench.log" && rc=0 || rc=$?
cat "$T/bench.out"
check "exit" 0 "$rc"
line() { grep "^$1 " "$T/bench.out"; }
check "SMTP: all SENT" 1 "$(line smtp | grep -c 'jobs of 5120 B: *[1-9][0-9]* messages/s, SENT 2000;')"
check "Graph: all SENT" 1 "$(line graph | grep -c 'jobs of 5120 B: *[1-9][0-9]* messages/s, SENT 2000;')"
check "CPU figures are positive" 2 "$(grep -cE 'gateway CPU +[0-9]*[1-9][0-9.]* us/message' "$T/bench.out")"
open=$(line smtp | sed -nE 's/.*SMTP sessions open at most ([0-9]+), opened ([0-9]+)$/\1 \2/p')
check "sessions reported" 1 "$([ -n "$open" ] && echo 1 || echo 0)"
check_ge "sessions open: at least one a mailbox" 3 "${open% *}"
check_ge "sessions open: at most 3 x 2" "${open% *}" 6
check_ge "sessions opened: at least one a mailbox" 3 "${open#* }"
check_ge "sessions opened: at most 3 x 2" "${open#* }" 6
finish
