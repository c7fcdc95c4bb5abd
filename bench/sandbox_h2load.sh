#!/usr/bin/env bash
# Raw throughput of sendgate-sandbox's Graph sendMail route, measured with
# h2load (package nghttp2-client): starts a private sandbox with every limit
# off and no message file, gets a Graph token with curl, then runs h2load
# against POST /v1.0/users/<mailbox>/sendMail with a ~1.5 KB JSON body (one
# recipient) over TLS + HTTP/2. Prints h2load's summary, the sandbox's
# accepted count (must equal the requests; exit 1 otherwise) and the sandbox
# process's CPU time per request (utime + stime from /proc/<pid>/stat).
#
# h2load does not verify the server certificate (it has no option to); that
# is acceptable for a load tool aimed at our own loopback sandbox. curl, used
# for the token, verifies against the sandbox's CA as everything else does.
#
# Usage: bench/sandbox_h2load.sh [BIN_DIR]      (default: build/gateway)
# Environment: N (requests, 200000), C (clients, 4), M (streams per client,
#   64), T (threads, 1), MAILBOX (sender@contoso.com), KEEP=1 keeps the temp dir.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BIN_DIR=${1:-${SG_BIN_DIR:-$here/../build/gateway}}
SANDBOX=$BIN_DIR/sendgate-sandbox
N=${N:-200000}
C=${C:-4}
M=${M:-64}
T=${T:-1}
MAILBOX=${MAILBOX:-sender@contoso.com}

for tool in h2load curl jq python3; do
  command -v "$tool" >/dev/null || { echo "sandbox_h2load: $tool not found" >&2; exit 2; }
done
[ -x "$SANDBOX" ] || { echo "sandbox_h2load: no $SANDBOX (build first, or pass BIN_DIR)" >&2; exit 2; }

TMP=$(mktemp -d /tmp/sg-h2load.XXXXXX)
SBX_PID=
cleanup() {
  if [ -n "$SBX_PID" ]; then
    kill "$SBX_PID" 2>/dev/null || true
    wait "$SBX_PID" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

"$SANDBOX" --listen 127.0.0.1:0 --state-dir "$TMP/state" --env-file "$TMP/sandbox.env" \
  --log-level warn \
  --set graph.mailbox_concurrency=0 --set graph.mailbox_requests=0 \
  --set graph.mailbox_recipients_per_day=0 --set record.file=off \
  >"$TMP/sandbox.out" 2>"$TMP/sandbox.log" &
SBX_PID=$!
for _ in $(seq 1 200); do # up to 20 s
  [ -s "$TMP/sandbox.env" ] && break
  kill -0 "$SBX_PID" 2>/dev/null || { cat "$TMP/sandbox.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$TMP/sandbox.env" ] || { echo "sandbox did not start" >&2; exit 1; }
set -a
. "$TMP/sandbox.env"
set +a
CA=$SENDGATE_TLS_CA_FILE
PORT=${SENDGATE_SANDBOX_URL##*:}

stats() { curl -sf --cacert "$CA" "$SENDGATE_SANDBOX_URL/sandbox/stats"; }
cpu_ticks() { # utime + stime of the sandbox (fields 14 and 15; comm has no spaces)
  awk '{print $14 + $15}' "/proc/$SBX_PID/stat"
}

TOKEN=$(curl -sf --cacert "$CA" \
  -d "grant_type=client_credentials&client_id=$SENDGATE_GRAPH_CLIENT_ID" \
  -d "client_secret=$SENDGATE_GRAPH_CLIENT_SECRET" \
  -d "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" \
  "$SENDGATE_LOGIN_URL/$SENDGATE_GRAPH_TENANT_ID/oauth2/v2.0/token" | jq -r .access_token)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || { echo "no token" >&2; exit 1; }

# What the gateway sends for a typical transactional mail: HTML body, one
# recipient, a reply-to and two custom headers; about 1.5 KB.
python3 - "$TMP/body.json" <<'EOF'
import json, sys
html = ("<html><body><p>Hello Ann,</p><p>Your order <b>#104-2231-77</b> has shipped and "
        "should arrive within three business days. You can follow the parcel with the "
        "tracking link below.</p><p><a href=\"https://shop.example.com/track/104-2231-77\">"
        "Track my parcel</a>. Parcels left with a neighbour are listed on the same page.</p><table><tr><td>1 x Ceramic mug, blue</td><td>12.90 EUR</td></tr>"
        "<tr><td>2 x Espresso beans 250 g</td><td>17.80 EUR</td></tr>"
        "<tr><td>1 x Gift wrapping, recycled paper</td><td>0.00 EUR</td></tr>"
        "<tr><td>1 x Greeting card, handwritten message</td><td>0.00 EUR</td></tr><tr><td>Shipping</td>"
        "<td>4.90 EUR</td></tr><tr><td><b>Total</b></td><td><b>35.60 EUR</b></td></tr></table>"
        "<p>If anything is wrong with your order, reply to this message or call us on "
        "+33 1 23 45 67 89, Monday to Friday, 9:00 to 18:00.</p><p>Thank you for shopping "
        "with us,<br>The Example Shop team</p><p style=\"font-size:11px;color:#888\">You "
        "receive this message because you placed an order at shop.example.com. This is a "
        "transactional message; it is not sent for marketing.</p></body></html>")
body = {"message": {
    "subject": "Your order #104-2231-77 has shipped",
    "body": {"contentType": "html", "content": html},
    "toRecipients": [{"emailAddress": {"address": "ann.customer@fabrikam.com",
                                       "name": "Ann Customer"}}],
    "replyTo": [{"emailAddress": {"address": "support@contoso.com", "name": "Support"}}],
    "internetMessageHeaders": [{"name": "X-Order-Id", "value": "104-2231-77"},
                               {"name": "X-Campaign", "value": "shipping-notice"}]},
    "saveToSentItems": False}
open(sys.argv[1], "w").write(json.dumps(body, separators=(",", ":")))
EOF
BODY_BYTES=$(wc -c <"$TMP/body.json")
ENC_MAILBOX=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="@"))' "$MAILBOX")
URL="https://127.0.0.1:$PORT/v1.0/users/$ENC_MAILBOX/sendMail"

before_acc=$(stats | jq .graph_accepted)
before_cpu=$(cpu_ticks)
h2load -n "$N" -c "$C" -m "$M" -t "$T" -d "$TMP/body.json" \
  -H "authorization: Bearer $TOKEN" -H "content-type: application/json" \
  "$URL" >"$TMP/h2load.out" 2>&1 || { cat "$TMP/h2load.out" >&2; exit 1; }
after_cpu=$(cpu_ticks)
after_acc=$(stats | jq .graph_accepted)

echo "sandbox_h2load: N=$N C=$C M=$M T=$T body=${BODY_BYTES}B url=$URL"
grep -E '^(finished in|requests:|status codes:|traffic:|time for request:|time for connect:|req/s)' \
  "$TMP/h2load.out" | sed 's/^/h2load: /'
accepted=$((after_acc - before_acc))
hz=$(getconf CLK_TCK)
awk -v t=$((after_cpu - before_cpu)) -v hz="$hz" -v n="$N" 'BEGIN {
  ms = t * 1000 / hz
  printf "sandbox cpu: %.0f ms (user+sys) for %d requests = %.1f us/request\n", ms, n, ms * 1000 / n
}'
echo "sandbox accepted: $accepted (expected $N)"
if [ "$accepted" != "$N" ]; then
  echo "FAIL: accepted count differs from requests" >&2
  cat "$TMP/h2load.out" >&2
  exit 1
fi
