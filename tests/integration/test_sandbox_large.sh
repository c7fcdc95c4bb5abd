#!/usr/bin/env bash
# The sandbox's large-message route over real TLS and HTTP/2 (curl): drafts,
# small attachments, upload sessions with ranges checked (order, gaps,
# overlap, chunk size, total), expiry, cancel, send recorded byte-exact like
# sendMail, GET/DELETE after send, 403 without Mail.ReadWrite, and 429 on the
# upload byte budget.
. "$(dirname "$0")/lib.sh"
start_sandbox --set record.violation_grace_ms=0 --set graph.upload_max_chunk=1048576

C=(curl -s --cacert "$CA" --http2)
TOKEN_URL=$SENDGATE_LOGIN_URL/$SENDGATE_GRAPH_TENANT_ID/oauth2/v2.0/token
GTOKEN=$("${C[@]}" -d "grant_type=client_credentials&client_id=$SENDGATE_GRAPH_CLIENT_ID&client_secret=$SENDGATE_GRAPH_CLIENT_SECRET&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" "$TOKEN_URL" | jq -r .access_token)
MB=$SENDGATE_GRAPH_URL/v1.0/users/big%40contoso.com
AUTH=(-H "Authorization: Bearer $GTOKEN")

# call METHOD URL [curl args] -> "status code"; the body in $T/r.json
call() {
  local m=$1 u=$2; shift 2
  local st
  st=$("${C[@]}" -X "$m" -o "$T/r.json" -w '%{http_code}' "$@" "$u")
  echo "$st $(jq -r '.error.code // ""' "$T/r.json" 2>/dev/null)"
}
json() { call POST "$1" "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary "$2"; }
DRAFT='{"subject":"big","body":{"contentType":"text","content":"see attached"},"toRecipients":[{"emailAddress":{"address":"r@b.example"}}],"attachments":[{"@odata.type":"#microsoft.graph.fileAttachment","name":"inline.txt","contentBytes":"aGVsbG8="}]}'

echo "# drafts"
check "create draft" "201 " "$(json "$MB/messages" "$DRAFT")"
ID=$(jq -r .id "$T/r.json")
check "draft id" "true" "$([ -n "$ID" ] && [ "$ID" != null ] && echo true)"
check "no bearer" "401 InvalidAuthenticationToken" "$(call POST "$MB/messages" -H 'Content-Type: application/json' --data-binary "$DRAFT")"
check "bad draft" "400 RequestBodyRead" "$(json "$MB/messages" '{"bogus":1}')"
check "get draft" "200 " "$(call GET "$MB/messages/$ID" "${AUTH[@]}")"
check "unknown draft" "404 ErrorItemNotFound" "$(call GET "$MB/messages/AAMkADnope" "${AUTH[@]}")"

echo "# small attachment by POST"
head -c 2000000 /dev/urandom >"$T/small.bin"
printf '{"@odata.type":"#microsoft.graph.fileAttachment","name":"small.bin","contentType":"application/octet-stream","contentBytes":"%s"}' "$(base64 -w0 "$T/small.bin")" >"$T/small.json"
check "add attachment" "201 " "$(call POST "$MB/messages/$ID/attachments" "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary @"$T/small.json")"
head -c 3200000 /dev/urandom >"$T/toobig.bin"
printf '{"@odata.type":"#microsoft.graph.fileAttachment","name":"big.bin","contentBytes":"%s"}' "$(base64 -w0 "$T/toobig.bin")" >"$T/toobig.json"
check "3 MB by POST refused" "413" "$(call POST "$MB/messages/$ID/attachments" "${AUTH[@]}" -H 'Content-Type: application/json' --data-binary @"$T/toobig.json" | cut -d' ' -f1)"

echo "# upload session"
head -c 2500000 /dev/urandom >"$T/large.bin"
SIZE=$(stat -c %s "$T/large.bin")
session() {
  json "$MB/messages/$ID/attachments/createUploadSession" "{\"AttachmentItem\":{\"attachmentType\":\"file\",\"name\":\"$1\",\"size\":$2,\"contentType\":\"application/pdf\",\"isInline\":false}}"
}
check "create session" "201 " "$(session large.pdf "$SIZE")"
UP=$(jq -r .uploadUrl "$T/r.json")
check "uploadUrl on the sandbox" "true" "$([[ $UP == "$SBX"/up/* ]] && echo true)"
check "expirationDateTime" "true" "$(jq '.expirationDateTime | test("^[0-9]{4}-")' "$T/r.json")"
put() { # from to [file] -> status
  dd if="${3:-$T/large.bin}" of="$T/chunk" bs=1 skip="$1" count=$(($2 - $1 + 1)) iflag=skip_bytes,count_bytes status=none
  call PUT "$UP" -H "Content-Range: bytes $1-$2/$SIZE" -H 'Content-Type: application/octet-stream' --data-binary @"$T/chunk"
}
check "first range" "200 " "$(put 0 999999)"
check "nextExpectedRanges" "1000000" "$(jq -r '.nextExpectedRanges[0]' "$T/r.json")"
check "gap refused" "416 InvalidRange" "$(put 1000001 1500000)"
check "overlap refused" "416 InvalidRange" "$(put 999000 1500000)"
check "repeat refused" "416 InvalidRange" "$(put 0 999999)"
check "chunk over the maximum" "413 RequestEntityTooLarge" "$(put 1000000 2099999)"
dd if="$T/large.bin" of="$T/chunk" bs=1 skip=1000000 count=1000 iflag=skip_bytes,count_bytes status=none
check "length differs" "400 InvalidRange" "$(call PUT "$UP" -H "Content-Range: bytes 1000000-1999999/$SIZE" --data-binary @"$T/chunk")"
check "wrong total" "400 InvalidRange" "$(call PUT "$UP" -H "Content-Range: bytes 1000000-1000999/9" --data-binary @"$T/chunk")"
check "second range" "200 " "$(put 1000000 1999999)"
check "last range" "201 " "$(put 2000000 $((SIZE - 1)))"
check "session gone after the last" "404 ErrorItemNotFound" "$(put 2000000 $((SIZE - 1)))"

echo "# cancel and expiry"
check "session to cancel" "201 " "$(session cancel.bin 10)"
UP=$(jq -r .uploadUrl "$T/r.json")
check "cancel" "204" "$(call DELETE "$UP" | cut -d' ' -f1)"
check "cancelled" "404 ErrorItemNotFound" "$(call PUT "$UP" -H 'Content-Range: bytes 0-9/10' --data-binary 0123456789)"
sbx_config graph.upload_ttl_ms=1
check "session to expire" "201 " "$(session expire.bin 10)"
UP=$(jq -r .uploadUrl "$T/r.json")
check "expired" "404 ErrorItemNotFound" "$(call PUT "$UP" -H 'Content-Range: bytes 0-9/10' --data-binary 0123456789)"
sbx_config graph.upload_ttl_ms=900000

echo "# send"
check "send" "202" "$(call POST "$MB/messages/$ID/send" "${AUTH[@]}" -d '' | cut -d' ' -f1)"
check "sent draft gone" "404 ErrorItemNotFound" "$(call GET "$MB/messages/$ID" "${AUTH[@]}")"
check "second send" "404 ErrorItemNotFound" "$(call POST "$MB/messages/$ID/send" "${AUTH[@]}" -d '')"
"${C[@]}" "$SBX/sandbox/messages?limit=1" >"$T/msgs.json"
check "recorded as graph" "graph big@contoso.com" "$(jq -r '.[0].message | "\(.api) \(.mailbox)"' "$T/msgs.json")"
check "attachments" "inline.txt small.bin large.pdf" "$(jq -r '[.[0].message.attachments[].name] | join(" ")' "$T/msgs.json")"
check "small bytes" "$(sha256sum "$T/small.bin" | cut -d' ' -f1)" "$(jq -r '.[0].message.attachments[1].sha256' "$T/msgs.json")"
check "large bytes" "$(sha256sum "$T/large.bin" | cut -d' ' -f1)" "$(jq -r '.[0].message.attachments[2].sha256' "$T/msgs.json")"
check "large size" "$SIZE" "$(jq -r '.[0].message.attachments[2].size' "$T/msgs.json")"
check "counted" "1 1 1 1" "$(sbx_stat '"\(.drafts_sent) \(.graph_accepted) \(.uploads_completed) \(.attachments_added)"')"

echo "# delete"
check "draft to delete" "201 " "$(json "$MB/messages" "$DRAFT")"
ID=$(jq -r .id "$T/r.json")
check "delete" "204" "$(call DELETE "$MB/messages/$ID" "${AUTH[@]}" | cut -d' ' -f1)"
check "deleted" "404 ErrorItemNotFound" "$(call GET "$MB/messages/$ID" "${AUTH[@]}")"

echo "# Mail.Send without Mail.ReadWrite"
sbx_config graph.mail_readwrite=false
check "draft refused" "403 ErrorAccessDenied" "$(json "$MB/messages" "$DRAFT")"
sbx_config graph.mail_readwrite=true

echo "# upload budget in bytes"
sbx_config graph.upload_bytes=1500000 graph.upload_window_ms=60000
check "draft under the budget" "201 " "$(json "$MB/messages" "$DRAFT")"
ID=$(jq -r .id "$T/r.json")
check "session" "201 " "$(session budget.bin "$SIZE")"
UP=$(jq -r .uploadUrl "$T/r.json")
check "range within" "200 " "$(put 0 999999)"
check "range over the budget" "429 ApplicationThrottled" "$(put 1000000 1999999)"
"${C[@]}" -D "$T/h.txt" -o /dev/null -X PUT -H "Content-Range: bytes 1000000-1000009/$SIZE" --data-binary 0123456789 "$UP"
check "Retry-After" "1" "$(grep -ci '^retry-after:' "$T/h.txt")"
check "other mailbox unaffected" "201 " "$(json "$SENDGATE_GRAPH_URL/v1.0/users/other%40contoso.com/messages" "$DRAFT")"
check_ge "throttled_upload" 1 "$(sbx_stat .throttled_upload)"

finish
