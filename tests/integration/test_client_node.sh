#!/usr/bin/env bash
# The Node.js client library (proto/node, sendgate-client) against a real
# gateway and the sandbox: the same cases as test_client_python.sh
# (tests/integration/clients/check_node.js), then what the sandbox received.
# ioredis and protobufjs come from npm (`npm ci`, pinned by proto/node's
# package-lock.json) into <build>/node-client, kept there between runs.
# No node or npm, or no registry: the test fails (it never skips).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/client_lib.sh"

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool is not installed (Debian packages nodejs and npm; deploy/setup-debian.sh)" >&2; exit 1; }
done
PKG="$SG_SOURCE_DIR/proto/node"
DEPS="$SG_BIN_DIR/../node-client"
mkdir -p "$DEPS"
if ! cmp -s "$PKG/package-lock.json" "$DEPS/package-lock.json" || [ ! -d "$DEPS/node_modules" ]; then
  echo "# npm ci (ioredis, protobufjs) into $DEPS"
  cp "$PKG/package.json" "$PKG/package-lock.json" "$DEPS/"
  if ! (cd "$DEPS" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1); then
    rm -f "$DEPS/package-lock.json"
    echo "FAIL npm ci of ioredis and protobufjs failed:" >&2
    tail -n 20 "$T/npm.log" >&2
    exit 1
  fi
fi
export NODE_PATH="$DEPS/node_modules" SG_NODE_CLIENT="$PKG/lib/index.js"

start_client_env
OUT="$T/node.jsonl"
if ! timeout 120 node "$SG_SOURCE_DIR/tests/integration/clients/check_node.js" >"$OUT" 2>"$T/node.log"; then
  echo "FAIL the Node.js driver exited non-zero" >&2
  cat "$T/node.log" >&2
  FAILS=$((FAILS + 1))
fi
client_checks node
echo "# the example script"
check "example: SENT" 0 "$(timeout 60 node "$PKG/examples/send.js" \
  --from sender-1@contoso.com --to r@example.com >"$T/example.out" 2>&1; echo $?)"
finish
