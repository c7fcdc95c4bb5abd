#!/usr/bin/env bash
# Managed identity end to end: the sandbox plays Azure's instance metadata
# service and App Service's identity endpoint (plain HTTP on loopback; nothing
# here goes to the real 169.254.169.254). The gateway gets its tokens there,
# with no app credential at all, and sends: system-assigned and
# user-assigned identities, IMDS and App Service style. An identity that does
# not exist and a wrong identity header end in FAILED with a clear code.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox --set imds.listen=127.0.0.1:0
IMDS=$SENDGATE_SANDBOX_IMDS_URL
USER_ID=88888888-aaaa-bbbb-cccc-000000000002
NO_APP=(SENDGATE_GRAPH_CLIENT_SECRET= SENDGATE_GRAPH_CLIENT_ID= SENDGATE_GRAPH_TENANT_ID=)

# The stand-in, asked with curl as the Azure docs do.
TOKEN_PATH="/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fgraph.microsoft.com%2F"
check "IMDS: token" "Bearer" "$(curl -s -H 'Metadata: true' "$IMDS$TOKEN_PATH" | jq -r .token_type)"
check "IMDS: expires_in is a string" "string" "$(curl -s -H 'Metadata: true' "$IMDS$TOKEN_PATH" | jq -r '.expires_in | type')"
check "IMDS: Metadata header required" "400" "$(curl -s -o /dev/null -w '%{http_code}' "$IMDS$TOKEN_PATH")"
check "IMDS: unknown identity" "Identity not found" "$(curl -s -H 'Metadata: true' "$IMDS$TOKEN_PATH&client_id=nobody" | jq -r .error_description)"

queue_jobs 100 --senders 4 --prefix sys
start_gateway "${NO_APP[@]}" SENDGATE_GRAPH_MANAGED_IDENTITY=system SENDGATE_LOGIN_IDENTITY_ENDPOINT="$IMDS"
wait_results 100 60
check "system-assigned (IMDS): SENT" 100 "$(summary SENT)"
check "tokens from the identity endpoint" 1 "$(grep -c '"msg":"token obtained","account":"(default)","credential":"managed_identity"' "$T/gateway.log")"
stop_gateway >/dev/null

queue_jobs 50 --senders 2 --prefix user
start_gateway "${NO_APP[@]}" SENDGATE_GRAPH_MANAGED_IDENTITY=$USER_ID SENDGATE_LOGIN_IDENTITY_ENDPOINT="$IMDS"
wait_results 150 60
check "user-assigned (IMDS): SENT" 150 "$(summary SENT)"
stop_gateway >/dev/null

# App Service: the platform's IDENTITY_ENDPOINT and IDENTITY_HEADER.
queue_jobs 50 --senders 2 --prefix appsvc
start_gateway "${NO_APP[@]}" SENDGATE_GRAPH_MANAGED_IDENTITY=system \
  IDENTITY_ENDPOINT="$IMDS/msi/token" IDENTITY_HEADER=sandbox-identity-header
wait_results 200 60
check "App Service: SENT" 200 "$(summary SENT)"
stop_gateway >/dev/null

accepted=$(sbx_stat .graph_accepted)
queue_jobs 3 --senders 1 --prefix wrongid
start_gateway "${NO_APP[@]}" SENDGATE_GRAPH_MANAGED_IDENTITY=99999999-0000-0000-0000-000000000000 \
  SENDGATE_LOGIN_IDENTITY_ENDPOINT="$IMDS"
wait_results 203 60
check "unknown identity: FAILED" 3 "$(summary code:SENDGATE_MANAGED_IDENTITY_invalid_request)"
stop_gateway >/dev/null
queue_jobs 3 --senders 1 --prefix wronghdr
start_gateway "${NO_APP[@]}" SENDGATE_GRAPH_MANAGED_IDENTITY=system \
  IDENTITY_ENDPOINT="$IMDS/msi/token" IDENTITY_HEADER=not-the-header
wait_results 206 60
check "wrong identity header: FAILED" 3 "$(summary code:SENDGATE_MANAGED_IDENTITY_unauthorized)"
check "nothing sent for them" "$accepted" "$(sbx_stat .graph_accepted)"
stop_gateway >/dev/null
finish
