#!/usr/bin/env bash
# The Python client library (proto/python/sendgate_client) against a real
# gateway and the sandbox: plain, HTML, attachments, MIME, ACS, a bounce, an
# invalid job, an unknown account, a passed deadline, generated ids, a reply
# stream read with the results iterator, a timeout and locally refused calls
# (tests/integration/clients/check_python.py); then what the sandbox received.
# Debian's python3 with python3-redis and python3-protobuf, and protoc
# (protobuf-compiler), which generates the schema's module into the temp dir.
# A missing one fails the test, naming the package.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/client_lib.sh"

PY=${SG_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || { echo "FAIL $PY missing (Debian package python3)" >&2; exit 1; }
for mod in redis:python3-redis google.protobuf:python3-protobuf; do
  "$PY" -c "import ${mod%%:*}" 2>/dev/null || { echo "FAIL $PY cannot import ${mod%%:*} (Debian package ${mod#*:})" >&2; exit 1; }
done
command -v protoc >/dev/null || { echo "FAIL protoc missing (Debian package protobuf-compiler)" >&2; exit 1; }

start_client_env
export SENDGATE_PROTO_PY_DIR="$T/pygen" PYTHONPATH="$SG_SOURCE_DIR/proto/python"
OUT="$T/python.jsonl"
if ! timeout 120 "$PY" "$SG_SOURCE_DIR/tests/integration/clients/check_python.py" >"$OUT" 2>"$T/python.log"; then
  echo "FAIL the Python driver exited non-zero" >&2
  cat "$T/python.log" >&2
  FAILS=$((FAILS + 1))
fi
check "schema generated into the temp dir" true "$([ -f "$T/pygen/sendgate/v1/mail_pb2.py" ] && echo true)"
client_checks py
echo "# the example script"
check "example: SENT" 0 "$(timeout 60 "$PY" "$SG_SOURCE_DIR/proto/python/examples/send.py" \
  --from sender-1@contoso.com --to r@example.com >"$T/example.out" 2>&1; echo $?)"
finish
