#!/usr/bin/env bash
# The C client library (proto/c, libsendgate_client) against a real gateway
# and the sandbox: the same cases as test_client_python.sh, driven by
# tests/integration/clients/check_c.c (built as proto/c/sgc_check), then what
# the sandbox received, and the example program proto/c/examples/sgc_send.c.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/client_lib.sh"

CDIR="$SG_BIN_DIR/../proto/c"
for b in sgc_check sgc_send; do
  [ -x "$CDIR/$b" ] || { echo "FAIL $CDIR/$b not built" >&2; exit 1; }
done

start_client_env
OUT="$T/c.jsonl"
if ! timeout 120 "$CDIR/sgc_check" >"$OUT" 2>"$T/c.log"; then
  echo "FAIL the C driver exited non-zero" >&2
  cat "$T/c.log" >&2
  FAILS=$((FAILS + 1))
fi
client_checks c
echo "# the example program"
check "example: SENT" 0 "$(timeout 60 "$CDIR/sgc_send" sender-1@contoso.com r@example.com \
  >"$T/example.out" 2>&1; echo $?)"
check "example: prints the result" SENT "$(awk '{print $2}' "$T/example.out")"
check "example: Redis down is an error" 2 "$(SENDGATE_REDIS_URL=redis://127.0.0.1:1/0 \
  timeout 20 "$CDIR/sgc_send" a@contoso.com b@example.com >/dev/null 2>&1; echo $?)"
finish
