#!/usr/bin/env bash
# The sandbox over real TLS with real clients (curl over HTTP/2 and HTTP/1.1,
# nghttp): Entra tokens, Graph sendMail and ACS Email, every rejection path,
# limits with Retry-After, injected faults, and the counters.
. "$(dirname "$0")/lib.sh"
start_sandbox --set acs.op_step_ms=100 --set record.violation_grace_ms=0

C=(curl -s --cacert "$CA")
TENANT=$SENDGATE_GRAPH_TENANT_ID CLIENT=$SENDGATE_GRAPH_CLIENT_ID SECRET=$SENDGATE_GRAPH_CLIENT_SECRET
GSCOPE=https%3A%2F%2Fgraph.microsoft.com%2F.default
TOKEN_URL=$SENDGATE_LOGIN_URL/$TENANT/oauth2/v2.0/token

token_status() { # form -> "status error_code"
  "${C[@]}" -o "$T/tok.json" -w '%{http_code}' -d "$1" "${2:-$TOKEN_URL}"
  echo " $(jq -r '(.error_codes // [0])[0]' "$T/tok.json")"
}

echo "# Entra"
check "token ok" "200 0" "$(token_status "grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=$GSCOPE")"
check "token has expires_in" "true" "$(jq '.expires_in >= 3600 and .expires_in <= 5400 and .token_type == "Bearer"' "$T/tok.json")"
# Entra's size and a JWT's three segments (entra.token_length, default 1,300).
check "token is JWT-sized" "1300 3" "$(jq -r '.access_token | "\(length) \(split(".") | length)"' "$T/tok.json")"
GTOKEN=$(jq -r .access_token "$T/tok.json")
check "wrong tenant" "400 90002" "$(token_status "grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=$GSCOPE" "$SENDGATE_LOGIN_URL/nope/oauth2/v2.0/token")"
check "wrong client" "400 700016" "$(token_status "grant_type=client_credentials&client_id=bad&client_secret=$SECRET&scope=$GSCOPE")"
check "wrong secret" "401 7000215" "$(token_status "grant_type=client_credentials&client_id=$CLIENT&client_secret=bad&scope=$GSCOPE")"
check "no secret" "400 7000218" "$(token_status "grant_type=client_credentials&client_id=$CLIENT&scope=$GSCOPE")"
check "bad scope" "400 70011" "$(token_status "grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=https%3A%2F%2Fexample.com%2F.default")"
check "error shape" "invalid_scope" "$(jq -r .error "$T/tok.json")"
check "acs scope //.default" "200 0" "$(token_status "grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=https%3A%2F%2Fcommunication.azure.com%2F%2F.default")"
ATOKEN=$(jq -r .access_token "$T/tok.json")
check "acs scope /.default" "200 0" "$(token_status "grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=https%3A%2F%2Fcommunication.azure.com%2F.default")"
check "HTTP Basic client auth" "200" "$("${C[@]}" -o /dev/null -w '%{http_code}' -u "$CLIENT:$SECRET" -d "grant_type=client_credentials&scope=$GSCOPE" "$TOKEN_URL")"

echo "# Graph"
SEND_URL=$SENDGATE_GRAPH_URL/v1.0/users/sender%40contoso.com/sendMail
gsend() { # body [extra curl args] -> "status code"
  local body=$1; shift
  printf '%s' "$body" >"$T/body.$BASHPID.json"
  local out="$T/resp.$BASHPID.json"
  "${C[@]}" --http2 -o "$out" -w '%{http_code}' -H "Authorization: ${AUTH:-Bearer $GTOKEN}" \
    -H 'Content-Type: application/json' --data-binary @"$T/body.$BASHPID.json" "$@" "$SEND_URL"
  echo " $(jq -r '.error.code // ""' "$out" 2>/dev/null)"
}
msg() { echo "{\"message\":{\"subject\":\"s\",\"body\":{\"contentType\":\"Text\",\"content\":\"b\"},\"toRecipients\":[{\"emailAddress\":{\"address\":\"a@b.example\",\"name\":\"A\"}}]$1},\"saveToSentItems\":false}"; }
check "sendMail h2" "202 " "$(gsend "$(msg '')")"
check "sendMail http/1.1" "202 " "$(gsend "$(msg ',"ccRecipients":[{"emailAddress":{"address":"c@b.example"}}]')" --http1.1)"
check "request-id header" "1" "$("${C[@]}" -D - -o /dev/null -H "Authorization: Bearer $GTOKEN" -H 'Content-Type: application/json' -d "$(msg ',"importance":"high"')" "$SEND_URL" | grep -ci '^request-id:')"
check "no bearer" "401" "$("${C[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$(msg '')" "$SEND_URL")"
# Graph's common response headers (microsoft-apis.md), on an answer and on an error.
hdr() { awk -v n="$1:" 'tolower($1) == n {sub(/^[^:]*: */, ""); sub(/\r$/, ""); print}' "$2"; }
"${C[@]}" -D "$T/h202" -o /dev/null -H "Authorization: Bearer $GTOKEN" -H 'Content-Type: application/json' -d "$(msg '')" "$SEND_URL"
"${C[@]}" -D "$T/h401" -o /dev/null -H 'Content-Type: application/json' -d "$(msg '')" "$SEND_URL"
for h in h202 h401; do
  check "$h: Date is an IMF-fixdate within a minute" true "$(hdr date "$T/$h" | grep -qE '^[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$' &&
    d=$(date -d "$(hdr date "$T/$h")" +%s) && [ $((d - $(date +%s))) -le 60 ] && [ $(($(date +%s) - d)) -le 60 ] && echo true)"
  check "$h: x-ms-ags-diagnostic names the server" true "$(hdr x-ms-ags-diagnostic "$T/$h" | jq '.ServerInfo | has("DataCenter") and has("RoleInstance")')"
done
check "unknown token" "401 InvalidAuthenticationToken" "$(AUTH='Bearer forged' gsend "$(msg '')")"
GT=$GTOKEN; GTOKEN=$ATOKEN
check "ACS token on Graph" "401 InvalidAuthenticationToken" "$(gsend "$(msg '')")"
GTOKEN=$GT
check "unknown property" "400 RequestBodyRead" "$(gsend "$(msg ',"bogus":1')")"
check "no recipients" "400 ErrorInvalidRecipients" "$(gsend '{"message":{"subject":"s","body":{"contentType":"text","content":"b"}}}')"
many=$(python3 -c 'import json; print(json.dumps([{"emailAddress":{"address":"r%d@b.example"%i}} for i in range(501)]))')
check "501 recipients" "400 ErrorInvalidRecipients" "$(gsend "{\"message\":{\"subject\":\"s\",\"toRecipients\":$many}}")"
check "bad address" "400 ErrorInvalidRecipients" "$(gsend '{"message":{"subject":"s","toRecipients":[{"emailAddress":{"address":"not an address"}}]}}')"
check "non-x header" "400 InvalidInternetMessageHeader" "$(gsend "$(msg ',"internetMessageHeaders":[{"name":"Subject","value":"v"}]')")"
six=$(python3 -c 'import json; print(json.dumps([{"name":"x-h%d"%i,"value":"v"} for i in range(6)]))')
check "6 headers" "400 InvalidInternetMessageHeaderCollection" "$(gsend "$(msg ",\"internetMessageHeaders\":$six")")"
check "empty headers" "400 InvalidInternetMessageHeaderCollection" "$(gsend "$(msg ',"internetMessageHeaders":[]')")"
check "CRLF in header" "400" "$(gsend "$(msg ',"internetMessageHeaders":[{"name":"x-a","value":"v\r\nBcc: e@vil.example"}]')" | cut -d' ' -f1)"
check "attachment ok" "202 " "$(gsend "$(msg ',"attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","name":"a.txt","contentType":"text/plain","contentBytes":"aGVsbG8=","isInline":true,"contentId":"c1"}]')")"
check "attachment bad type" "400" "$(gsend "$(msg ',"attachments":[{"@odata.type":"#microsoft.graph.itemAttachment","name":"a.txt","contentBytes":"aGVsbG8="}]')" | cut -d' ' -f1)"
check "attachment bad base64" "400" "$(gsend "$(msg ',"attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","name":"a.txt","contentBytes":"!!"}]')" | cut -d' ' -f1)"
big=$(head -c 3200000 /dev/zero | base64 -w0)
check "over 4 MB" "413" "$(gsend "$(msg ",\"attachments\":[{\"@odata.type\":\"#microsoft.graph.fileAttachment\",\"name\":\"a.bin\",\"contentBytes\":\"$big\"}]")" | cut -d' ' -f1)"
mime=$(printf 'From: sender@contoso.com\r\nTo: a@b.example\r\nSubject: mime\r\n\r\nhello\r\n' | base64 -w 76)
check "MIME ok" "202" "$("${C[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $GTOKEN" -H 'Content-Type: text/plain' --data-binary "$mime" "$SEND_URL")"
check "MIME bad base64" "400 ErrorMimeContentInvalidBase64String" "$("${C[@]}" -o "$T/resp.json" -w '%{http_code}' -H "Authorization: Bearer $GTOKEN" -H 'Content-Type: text/plain' --data-binary 'not base64 !!' "$SEND_URL") $(jq -r .error.code "$T/resp.json")"
# nghttp, the nghttp2 project's client.
printf '%s' "$(msg '')" >"$T/ng.json"
check "nghttp client" "202" "$(nghttp -v --cert= --header="authorization: Bearer $GTOKEN" --header='content-type: application/json' -d "$T/ng.json" "$SEND_URL" 2>&1 | grep -o ':status: [0-9]*' | head -1 | cut -d' ' -f2)" || true

echo "# Graph limits"
sbx_config graph.mailbox_requests=3 graph.mailbox_window_ms=3000
for i in 1 2 3; do gsend "$(msg '')" >/dev/null; done
check "4th request in window" "429 TooManyRequests" "$(gsend "$(msg '')")"
ra=$("${C[@]}" -D - -o /dev/null -H "Authorization: Bearer $GTOKEN" -H 'Content-Type: application/json' -d "$(msg '')" "$SEND_URL" | tr -d '\r' | awk -F': ' 'tolower($1)=="retry-after"{print $2}')
check "Retry-After given" "1" "$([ -n "$ra" ] && [ "$ra" -ge 1 ] && echo 1 || echo 0)"
check_ge "early retries counted" 1 "$(sbx_stat .retry_after_violations)"
sbx_config graph.mailbox_requests=10000 graph.mailbox_window_ms=600000 faults.latency_ms=400
cpids=()
for i in 1 2 3 4 5 6; do gsend "$(msg '')" >"$T/conc.$i" & cpids+=($!); done
wait "${cpids[@]}"
check "5th and 6th concurrent requests throttled" "2 4" "$(cat "$T"/conc.* | grep -c '^429 ApplicationThrottled') $(cat "$T"/conc.* | grep -c '^202')"
check "most in flight per mailbox" "true" "$(sbx_stat '.max_inflight_per_mailbox >= 5')"
sbx_config faults.latency_ms=0

echo "# faults"
sbx_config faults.rate_503=1
check "503 with Retry-After" "503 ErrorServerBusy" "$(gsend "$(msg '')")"
sbx_config faults.rate_503=0 faults.rate_reset=1
check_ge "reset -> REFUSED_STREAM" 1 "$("${C[@]}" -v --http2 -o /dev/null -H "Authorization: Bearer $GTOKEN" -H 'Content-Type: application/json' -d "$(msg '')" "$SEND_URL" 2>&1 | grep -c 'REFUSED_STREAM, retrying' || true)"
sbx_config faults.rate_reset=0 faults.rate_drop=1
"${C[@]}" --http2 -o /dev/null -H "Authorization: Bearer $GTOKEN" -H 'Content-Type: application/json' -d "$(msg '')" "$SEND_URL" && rc=0 || rc=$?
check "drop -> no response" "true" "$([ "$rc" -ne 0 ] && echo true)"
sbx_config faults.rate_drop=0 faults.goaway_every=1
check "goaway still answers" "202 " "$(gsend "$(msg '')")"
check_ge "goaway counted" 1 "$(sbx_stat '.faults.goaway')"
sbx_config faults.goaway_every=0 entra.fault_429_rate=1
check "token endpoint 429" "429" "$("${C[@]}" -o /dev/null -w '%{http_code}' -d "grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=$GSCOPE" "$TOKEN_URL")"
sbx_config entra.fault_429_rate=0 entra.token_length=43
token_status "grant_type=client_credentials&client_id=$CLIENT&client_secret=$SECRET&scope=$GSCOPE" >/dev/null
check "entra.token_length=43: one opaque segment" "43 1" "$(jq -r '.access_token | "\(length) \(split(".") | length)"' "$T/tok.json")"
AUTH="Bearer $(jq -r .access_token "$T/tok.json")"
check "a short token sends too" "202 " "$(gsend "$(msg '')")"
AUTH=
sbx_config entra.token_length=1300

echo "# ACS"
KEY=${SENDGATE_ACS_CONNECTION_STRING##*accesskey=}
HOSTPORT=${SBX#https://}
KEYHEX=$(printf '%s' "$KEY" | base64 -d | od -An -tx1 | tr -d ' \n')
acs() { # method pathq bodyfile [extra curl args] -> status; response in $T/acs.json
  local m=$1 pq=$2 bf=$3; shift 3
  local date hash sig
  date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
  hash=$(openssl dgst -sha256 -binary <"$bf" | base64 -w0)
  sig=$(printf '%s\n%s\n%s;%s;%s' "$m" "$pq" "$date" "$HOSTPORT" "$hash" |
    openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEYHEX" -binary | base64 -w0)
  "${C[@]}" --http2 -X "$m" -o "$T/acs.json" -D "$T/acs.h" -w '%{http_code}' \
    -H "x-ms-date: $date" -H "x-ms-content-sha256: $hash" \
    -H "Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=$sig" \
    -H 'Content-Type: application/json' "$@" --data-binary @"$bf" "$SBX$pq"
}
acsmsg() { echo "{\"senderAddress\":\"DoNotReply@contoso.com\",\"content\":{\"subject\":\"s\",\"plainText\":\"b\",\"html\":\"<p>b</p>\"},\"recipients\":{\"to\":[{\"address\":\"$1\",\"displayName\":\"R\"}]}$2}"; }
acsmsg r@b.example '' >"$T/a1.json"
check "ACS send" "202" "$(acs POST '/emails:send?api-version=2023-03-31' "$T/a1.json")"
OP=$(jq -r .id "$T/acs.json")
check "ACS status Running" "Running" "$(jq -r .status "$T/acs.json")"
LOC=$(tr -d '\r' <"$T/acs.h" | awk -F': ' 'tolower($1)=="operation-location"{print $2}')
check "Operation-Location" "$SBX/emails/operations/$OP?api-version=2023-03-31" "$LOC"
: >"$T/empty"
sleep 0.3 # the operation walks NotStarted -> Running -> Succeeded in 2 x 100 ms
check "ACS poll Succeeded" "200 Succeeded" "$(acs GET "/emails/operations/$OP?api-version=2023-03-31" "$T/empty") $(jq -r .status "$T/acs.json")"
acsmsg r@bounce.example '' >"$T/a2.json"
acs POST '/emails:send?api-version=2025-09-01' "$T/a2.json" >/dev/null
OP2=$(jq -r .id "$T/acs.json")
sleep 0.3
check "ACS bounce Failed" "Failed EmailDropped" "$(acs GET "/emails/operations/$OP2?api-version=2025-09-01" "$T/empty" >/dev/null; jq -r '.status + " " + .error.code' "$T/acs.json")"
before=$(sbx_stat .acs_accepted)
acsmsg r2@b.example '' >"$T/a3.json"
acs POST '/emails:send?api-version=2025-09-01' "$T/a3.json" -H 'Operation-Id: 3f2e7c7a-0000-4000-8000-000000000001' >/dev/null
acs POST '/emails:send?api-version=2025-09-01' "$T/a3.json" -H 'Operation-Id: 3f2e7c7a-0000-4000-8000-000000000001' >/dev/null
check "Operation-Id repeat: one message" "$((before + 1)) 1 3f2e7c7a-0000-4000-8000-000000000001" "$(sbx_stat .acs_accepted) $(sbx_stat .acs_repeats) $(jq -r .id "$T/acs.json")"
cp "$T/a1.json" "$T/a4.json"
date=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S GMT')
check "ACS bad signature" "401 Denied" "$("${C[@]}" -o "$T/acs.json" -w '%{http_code}' -H "x-ms-date: $date" -H "x-ms-content-sha256: $(openssl dgst -sha256 -binary <"$T/a4.json" | base64 -w0)" -H 'Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=AAAA' -H 'Content-Type: application/json' --data-binary @"$T/a4.json" "$SBX/emails:send?api-version=2023-03-31") $(jq -r .error.code "$T/acs.json")"
check "ACS content hash mismatch" "401" "$("${C[@]}" -o "$T/acs.json" -w '%{http_code}' -H "x-ms-date: $date" -H 'x-ms-content-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' -H 'Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=AAAA' -H 'Content-Type: application/json' --data-binary @"$T/a4.json" "$SBX/emails:send?api-version=2023-03-31")"
check "ACS hash message" "Request 'x-ms-content-sha256' differs from generated content hash." "$(jq -r .error.message "$T/acs.json")"
check "ACS bearer token" "202" "$("${C[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ATOKEN" -H 'Content-Type: application/json' --data-binary @"$T/a1.json" "$SBX/emails:send?api-version=2023-03-31")"
rcpts=$(python3 -c 'import json; print(json.dumps([{"address":"r%d@b.example"%i} for i in range(51)]))')
echo "{\"senderAddress\":\"a@contoso.com\",\"content\":{\"subject\":\"s\",\"plainText\":\"b\"},\"recipients\":{\"to\":$rcpts}}" >"$T/a5.json"
check "ACS 51 recipients" "400" "$(acs POST '/emails:send?api-version=2023-03-31' "$T/a5.json")"
echo '{"senderAddress":"a@contoso.com","content":{"plainText":"b"},"recipients":{"to":[{"address":"r@b.example"}]}}' >"$T/a6.json"
check "ACS no subject" "400" "$(acs POST '/emails:send?api-version=2023-03-31' "$T/a6.json")"
big=$(head -c 8000000 /dev/zero | base64 -w0)
acsmsg r@b.example ",\"attachments\":[{\"name\":\"a.pdf\",\"contentType\":\"application/pdf\",\"contentInBase64\":\"$big\"}]" >"$T/a7.json"
check "ACS over 10 MB" "413" "$(acs POST '/emails:send?api-version=2023-03-31' "$T/a7.json")"
check "ACS no api-version" "400" "$(acs POST '/emails:send' "$T/a1.json")"
sbx_config acs.sends_per_minute=1 acs.minute_window_ms=60000
acs POST '/emails:send?api-version=2023-03-31' "$T/a1.json" >/dev/null || true
check "ACS quota 429" "429" "$(acs POST '/emails:send?api-version=2023-03-31' "$T/a1.json")"
check "ACS 429 has Retry-After" "1" "$(grep -ci '^retry-after:' "$T/acs.h")"

echo "# record and counters"
check "duplicates seen" "true" "$(sbx_stat '.duplicates >= 1')"
check "messages file" "true" "$([ "$(wc -l <"$T/sandbox/messages.jsonl" 2>/dev/null || echo 0)" -ge 0 ] && echo true)"
n_api=$(curl -s --cacert "$CA" "$SBX/sandbox/messages?limit=1000" | jq length)
check "messages endpoint = accepted" "$(sbx_stat .messages)" "$n_api"
check_ge "rejections by code" 1 "$(sbx_stat '.rejected.RequestBodyRead')"
curl -sf --cacert "$CA" -X POST "$SBX/sandbox/reset" >/dev/null
check "reset" "0" "$(sbx_stat .messages)"
finish
