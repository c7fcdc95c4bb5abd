#!/usr/bin/env bash
# Issue 4: requests made by Microsoft's own ACS Email client for JavaScript
# (@azure/communication-email, installed from npm here) and by the gateway's
# svc/sg_acs code for the same message carry the same body fields and both
# verify. The SDK sends the message in tests/integration/acs_sdk/message.json
# to the sandbox; the gateway's builder and signer (test_acs --acs-request)
# build the same message, curl carries it, and the gateway's classifier judges
# the answers while it polls the operation to the end. The sandbox's records
# of the two must agree field for field, and the two bodies byte for byte.
# No npm or node, or no registry: the test fails (it never skips).
. "$(dirname "$0")/lib.sh"

API=2025-09-01
SDK_DIR="$SG_SOURCE_DIR/tests/integration/acs_sdk"
SPEC="$SDK_DIR/message.json"
ACS_TOOL="${SG_TOOLS_DIR:-$SG_BIN_DIR/../tests}/test_acs"

for tool in node npm jq curl; do
  if ! command -v "$tool" >/dev/null; then
    echo "FAIL $tool is not installed (deploy/setup-debian.sh installs nodejs and npm)" >&2
    exit 1
  fi
done
[ -x "$ACS_TOOL" ] || { echo "FAIL $ACS_TOOL not built" >&2; exit 1; }

echo "# npm install @azure/communication-email (pinned by package-lock.json)"
mkdir -p "$T/sdk"
cp "$SDK_DIR/package.json" "$SDK_DIR/package-lock.json" "$SDK_DIR/send.mjs" "$T/sdk/"
if ! (cd "$T/sdk" && timeout 300 npm ci --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1); then
  echo "FAIL npm ci of @azure/communication-email failed:" >&2
  tail -n 20 "$T/npm.log" >&2
  exit 1
fi
check "SDK version" "1.1.0" "$(jq -r .version "$T/sdk/node_modules/@azure/communication-email/package.json")"

start_sandbox --set acs.op_step_ms=100
C=(curl -s --cacert "$CA" --max-time 20)

echo "# the SDK sends"
if ! NODE_EXTRA_CA_CERTS="$CA" timeout 90 node "$T/sdk/send.mjs" "$SPEC" "$T/sdk.json" \
  >"$T/sdk.log" 2>&1; then
  echo "FAIL the SDK could not send:" >&2
  cat "$T/sdk.log" >&2
  exit 1
fi
check "SDK send status" "202" "$(jq -r .status "$T/sdk.json")"
check "SDK operation Succeeded" "Succeeded" "$(jq -r .resultStatus "$T/sdk.json")"
check "SDK api-version" "$API" "$(jq -r '.url | capture("api-version=(?<v>[^&]*)").v' "$T/sdk.json")"
SDK_OP=$(jq -r .operationId "$T/sdk.json")
jq -r .body "$T/sdk.json" >"$T/sdk_body.json"

echo "# the gateway's code sends"
mkdir -p "$T/gw"
OP=$("$ACS_TOOL" --acs-request "$SPEC" "$SENDGATE_ACS_CONNECTION_STRING" "$API" "$T/gw")
check "Operation-Id is the job's" "$OP" "$("$ACS_TOOL" --acs-request "$SPEC" "$SENDGATE_ACS_CONNECTION_STRING" "$API" "$T/gw")"
gw_send() { # -> http status; response in $T/gw/resp.{h,json}
  "${C[@]}" --http2 -X POST -H @"$T/gw/headers.txt" --data-binary @"$T/gw/body.json" \
    -D "$T/gw/resp.h" -o "$T/gw/resp.json" -w '%{http_code}' "$SBX$(cat "$T/gw/path.txt")"
}
cp "$T/gw/headers.txt" "$T/gw/send_headers.txt"
check "gateway send status" "202" "$(gw_send)"
CL=$("$ACS_TOOL" --acs-classify send "$T/gw/resp.h" "$T/gw/resp.json")
echo "     classify: $CL"
check "send classified" "ACCEPTED http=202 op=$OP" "$(echo "$CL" | cut -d' ' -f1-3)"
check "Operation-Location kept" "1" "$(echo "$CL" | grep -c "location=https://localhost:[0-9]*/emails/operations/$OP?api-version=$API$")"

# Poll the operation to its end with the gateway's signer and classifier,
# waiting what the service's retry-after says (bounded: 50 polls, 1 s each).
final=""
for i in $(seq 1 50); do
  "$ACS_TOOL" --acs-poll-request "$SENDGATE_ACS_CONNECTION_STRING" "$API" "$OP" "$T/gw" || break
  "${C[@]}" --http2 -H @"$T/gw/headers.txt" -D "$T/gw/poll.h" -o "$T/gw/poll.json" \
    "$SBX$(cat "$T/gw/path.txt")" >/dev/null || break
  PL=$("$ACS_TOOL" --acs-classify poll "$T/gw/poll.h" "$T/gw/poll.json")
  kind=${PL%% *}
  if [ "$kind" != "POLL_AGAIN" ]; then final=$kind; break; fi
  ms=$(echo "$PL" | sed -n 's/.* retry_ms=\([0-9]*\).*/\1/p')
  [ "${ms:-1000}" -gt 1000 ] && ms=1000
  sleep "$(awk -v m="${ms:-100}" 'BEGIN{printf "%.3f", m/1000}')"
done
check "poll classified" "SENT" "$final"

echo "# the two requests"
curl -sf --cacert "$CA" "$SBX/sandbox/messages?limit=100" >"$T/messages.json"
rec() { jq --arg op "$1" '[.[] | select(.operation_id == $op)]' "$T/messages.json"; }
check "one SDK record" "1" "$(rec "$SDK_OP" | jq length)"
check "one gateway record" "1" "$(rec "$OP" | jq length)"
FIELDS='.[0].message | {mailbox, to, cc, bcc, reply_to, recipients, subject, body_kind, body_len, attachments, headers, tracking_disabled}'
rec "$SDK_OP" | jq -S "$FIELDS" >"$T/sdk_rec.json"
rec "$OP" | jq -S "$FIELDS" >"$T/gw_rec.json"
check "records have the same fields" "" "$(diff "$T/sdk_rec.json" "$T/gw_rec.json")"
check "record: 4 recipients, 2 attachments, 2 headers" "4 2 2 true" \
  "$(jq -r '"\(.recipients) \(.attachments | length) \(.headers | length) \(.tracking_disabled)"' "$T/gw_rec.json")"
check "record: inline part has its contentId" "logo1 true" \
  "$(jq -r '.attachments[] | select(.name == "logo.png") | "\(.content_id) \(.inline)"' "$T/gw_rec.json")"
check "bodies: same JSON" "" "$(diff <(jq -S . "$T/sdk_body.json") <(jq -S . "$T/gw/body.json"))"
check "bodies: same bytes (same message key)" "$(rec "$SDK_OP" | jq -r '.[0].message.key')" \
  "$(rec "$OP" | jq -r '.[0].message.key')"
sdk_auth=$(jq -r '[.headerNames[] | select(. == "x-ms-date" or . == "x-ms-content-sha256" or . == "authorization" or . == "content-type" or . == "x-ms-client-request-id")] | join(",")' "$T/sdk.json")
gw_auth=$(cut -d: -f1 "$T/gw/send_headers.txt" | grep -xE 'x-ms-date|x-ms-content-sha256|authorization|content-type|x-ms-client-request-id' | sort | paste -sd, -)
check "same auth headers" "$sdk_auth" "$gw_auth"

echo "# a resend with the same Operation-Id is not sent again"
before=$(sbx_stat .acs_accepted)
"$ACS_TOOL" --acs-request "$SPEC" "$SENDGATE_ACS_CONNECTION_STRING" "$API" "$T/gw" >/dev/null
check "resend status" "202" "$(gw_send)"
check "resend classified" "ACCEPTED op=$OP" "$("$ACS_TOOL" --acs-classify send "$T/gw/resp.h" "$T/gw/resp.json" | cut -d' ' -f1,3)"
check "resend: nothing new accepted" "$before" "$(sbx_stat .acs_accepted)"
check_ge "resend counted as a repeat" 1 "$(sbx_stat .acs_repeats)"

echo "# GA 2023-03-31: no contentId member, still accepted"
jq '.id = "sdk-compare-2023"' "$SPEC" >"$T/spec2023.json"
"$ACS_TOOL" --acs-request "$T/spec2023.json" "$SENDGATE_ACS_CONNECTION_STRING" 2023-03-31 "$T/gw" >/dev/null
check "2023-03-31 body has no contentId" "0" "$(grep -c contentId "$T/gw/body.json" || true)"
check "2023-03-31 send status" "202" "$(gw_send)"

echo "# a tampered body does not verify"
"$ACS_TOOL" --acs-request "$SPEC" "$SENDGATE_ACS_CONNECTION_STRING" "$API" "$T/gw" >/dev/null
sed -i 's/spring-2026/spring-2027/' "$T/gw/body.json"
check "tampered body refused" "401" "$(gw_send)"
check "tampered body classified" "AUTH_REFRESH http=401" "$("$ACS_TOOL" --acs-classify send "$T/gw/resp.h" "$T/gw/resp.json" | cut -d' ' -f1-2)"

finish
