#!/usr/bin/env bash
# The sandbox's web inbox (/inbox) in a real browser: Debian's chromium,
# headless, driven by puppeteer-core (npm, pinned by
# tests/integration/inbox/package-lock.json, installed into <build>/inbox-browser;
# it never downloads a browser). With redis, the sandbox and the gateway
# running, tests/integration/inbox/check_inbox.js sends jobs over Graph and
# ACS and a message to the sandbox's HVE SMTP host, and checks that the list
# fills without a reload, the filters, one message (headers, text, the
# attachment download), and that a hostile HTML body runs no script: it would
# mark window.top, change document.title or fetch a loopback counter the test
# runs. The browser trusts the sandbox's CA through a private NSS database
# (certutil); TLS is verified as everywhere. The JSON API is checked with
# curl first. A screenshot goes to <build>/artefacts/inbox.png.
# Skips (exit 77) only when chromium is not installed or npm cannot install
# puppeteer-core.
. "$(dirname "$0")/lib.sh"

SKIP=77
CHROMIUM=${SG_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "SKIP $CHROMIUM is not installed (Debian package chromium; deploy/setup-debian.sh)"
  exit $SKIP
fi
for tool in node npm certutil python3; do
  command -v "$tool" >/dev/null || { echo "FAIL $tool is not installed (deploy/setup-debian.sh)" >&2; exit 1; }
done
PKG="$SG_SOURCE_DIR/tests/integration/inbox"
DEPS="$SG_BIN_DIR/../inbox-browser"
mkdir -p "$DEPS"
if ! cmp -s "$PKG/package-lock.json" "$DEPS/package-lock.json" || [ ! -d "$DEPS/node_modules/puppeteer-core" ]; then
  echo "# npm ci (puppeteer-core) into $DEPS"
  cp "$PKG/package.json" "$PKG/package-lock.json" "$DEPS/"
  if ! (cd "$DEPS" && PUPPETEER_SKIP_DOWNLOAD=1 timeout 300 npm ci --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1); then
    rm -f "$DEPS/package-lock.json"
    echo "SKIP npm ci of puppeteer-core failed (no registry?):"
    tail -n 20 "$T/npm.log"
    exit $SKIP
  fi
fi

start_redis
# slow@contoso.com: one request per 3 s, so its second message meets a 429 first.
start_sandbox --set smtp.hve_listen=127.0.0.1:0 --set inbox.max_messages=50 \
  --set graph.slow_mailboxes=slow@contoso.com --set graph.slow_requests=1 --set graph.slow_window_ms=3000
start_gateway

# The JSON API and the headers, without a browser.
hdr() { # hdr PATH NAME: the value of response header NAME for GET PATH
  curl -s -o /dev/null -D - --cacert "$CA" "$SBX$1" | tr -d '\r' |
    awk -v n="$(tr 'A-Z' 'a-z' <<<"$2")" 'BEGIN{FS=": "} tolower($1) == n {print $2}'
}
check "page content type" "text/html; charset=utf-8" "$(hdr /inbox content-type)"
check "page nosniff" "nosniff" "$(hdr /inbox x-content-type-options)"
check "page CSP: own script only" "yes" "$(hdr /inbox content-security-policy | grep -q "script-src 'self';" && echo yes)"
check "script content type" "text/javascript; charset=utf-8" "$(hdr /inbox/app.js content-type)"
check "style content type" "text/css; charset=utf-8" "$(hdr /inbox/app.css content-type)"
check "empty list" "0 0" "$(curl -sf --cacert "$CA" "$SBX/inbox/api/messages" | jq -r '"\(.total) \(.messages | length)"')"
check "unknown message" "404" "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$SBX/inbox/api/messages/99")"
check "bad id" "404" "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$SBX/inbox/messages/1x/html")"
check "POST refused" "405" "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" -d x "$SBX/inbox/api/messages")"
check "inbox requests are not provider requests" "0" "$(sbx_stat .requests)"

# The browser: a private NSS database that trusts the sandbox's CA, in the
# home directory chromium alone is given.
BROWSER_HOME="$T/home"
mkdir -p "$BROWSER_HOME/.pki/nssdb"
certutil -N -d "sql:$BROWSER_HOME/.pki/nssdb" --empty-password
certutil -A -d "sql:$BROWSER_HOME/.pki/nssdb" -n sendgate-sandbox -t "C,," -i "$CA"
mkdir -p "$SG_BIN_DIR/../artefacts"
export NODE_PATH="$DEPS/node_modules" SG_CHROMIUM="$CHROMIUM" SG_SANDBOX_URL="$SBX" SG_CA="$CA" \
  SG_SENDGATE="$SENDGATE" SG_BROWSER_HOME="$BROWSER_HOME" SG_ARTEFACTS="$(cd "$SG_BIN_DIR/.." && pwd)/artefacts" SG_TMP="$T"
if ! timeout 240 node "$PKG/check_inbox.js" >"$T/browser.out" 2>"$T/browser.log"; then
  echo "FAIL the browser driver exited non-zero"
  FAILS=$((FAILS + 1))
  tail -n 30 "$T/browser.log"
fi
cat "$T/browser.out"
n_ok=$(grep -c '^ok ' "$T/browser.out" || true)
n_fail=$(grep -c '^FAIL' "$T/browser.out" || true)
CHECKS=$((CHECKS + n_ok + n_fail))
FAILS=$((FAILS + n_fail))
check_ge "browser checks ran" 37 "$n_ok"
check "screenshot kept" "yes" "$([ -s "$SG_ARTEFACTS/inbox.png" ] && echo yes)"
echo "# screenshot: $SG_ARTEFACTS/inbox.png"

# What the page showed came from what the sandbox accepted.
check "sandbox: graph accepted" "true" "$(sbx_stat '.graph_accepted >= 2')"
check "sandbox: acs accepted" "true" "$(sbx_stat '.acs_accepted >= 1')"
check "inbox bounded by inbox.max_messages" "true" \
  "$(curl -sf --cacert "$CA" "$SBX/inbox/api/messages" | jq '.total <= 50')"
# The bound changes at run time: the oldest go with the next message.
sbx_config "inbox.max_messages=2"
oldest=$(curl -sf --cacert "$CA" "$SBX/inbox/api/messages" | jq '.messages[-1].id')
check "one more message sent" "SENT" "$("$SENDGATE" send --wait --timeout 30 --from sender-9@contoso.com \
  --to z@example.com --subject 'Inbox bound' --text x 2>&1 | awk '{print $2}')"
check "inbox.max_messages=2 keeps two" "2 Inbox bound" \
  "$(curl -sf --cacert "$CA" "$SBX/inbox/api/messages" | jq -r '"\(.total) \(.messages[0].subject)"')"
check "the oldest is gone" "404" "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$SBX/inbox/api/messages/$oldest")"
check "DELETE empties it" "0" "$(curl -sf --cacert "$CA" -X DELETE "$SBX/inbox/api/messages" >/dev/null &&
  curl -sf --cacert "$CA" "$SBX/inbox/api/messages" | jq .total)"
finish
