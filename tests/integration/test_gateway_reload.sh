#!/usr/bin/env bash
# Credential rotation without a restart: the gateway reads its config file
# again on SIGHUP and takes the new credentials (here: from a client secret to
# the app's certificate) for every token fetch from then on; jobs go on. A
# config that does not load (a missing certificate) or changes what needs a
# restart (the client id) is refused with a log line and the old one stays.
. "$(dirname "$0")/lib.sh"
start_redis
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/app-key.pem" -out "$T/app-cert.pem" \
  -subj "/CN=sendgate-app" -days 2 2>/dev/null
cat "$T/app-cert.pem" "$T/app-key.pem" >"$T/app.pem"
start_sandbox --set entra.client_certificate_file="$T/app-cert.pem"

write_conf() { # write_conf CREDENTIAL-LINE [CLIENT_ID]
  cat >"$T/gw.conf" <<CONF
[graph]
tenant_id = $SENDGATE_GRAPH_TENANT_ID
client_id = ${2:-$SENDGATE_GRAPH_CLIENT_ID}
$1
CONF
}
write_conf "client_secret = $SENDGATE_GRAPH_CLIENT_SECRET"
env -u SENDGATE_GRAPH_CLIENT_SECRET -u SENDGATE_GRAPH_CLIENT_ID -u SENDGATE_GRAPH_TENANT_ID \
  SENDGATE_HTTP_LISTEN= SENDGATE_GATEWAY_CONSUMER=test-gw \
  "$SENDGATE" run --config "$T/gw.conf" >>"$T/gateway.out" 2>>"$T/gateway.log" &
GATEWAY_PID=$!
PIDS+=("$GATEWAY_PID")

queue_jobs 50 --senders 2 --prefix before
wait_results 50 60
check "with the secret: SENT" 50 "$(summary SENT)"
check "tokens from the secret" 1 "$(grep -c '"credential":"secret"' "$T/gateway.log" | awk '{print ($1>0)}')"

# A certificate that does not exist: refused, the secret stays.
write_conf "client_certificate_file = $T/missing.pem"
kill -HUP "$GATEWAY_PID"
wait_for grep -q "reload refused" "$T/gateway.log"
check "bad certificate: refused, says why" 1 "$(grep 'reload refused' "$T/gateway.log" | grep -c missing.pem)"
queue_jobs 20 --senders 2 --prefix refused
wait_results 70 60
check "still sending" 70 "$(summary SENT)"

# The certificate: taken; the cached token is dropped, so the next jobs fetch
# one with a client assertion.
write_conf "client_certificate_file = $T/app.pem"
kill -HUP "$GATEWAY_PID"
wait_for grep -q '"msg":"credentials reloaded"' "$T/gateway.log"
check "says other settings wait for a restart" 1 "$(grep '"msg":"credentials reloaded"' "$T/gateway.log" | grep -c 'take effect at the next restart')"
queue_jobs 20 --senders 2 --prefix after
wait_results 90 60
check "a token from the certificate" 1 "$(grep -c '"credential":"certificate"' "$T/gateway.log" | awk '{print ($1>0)}')"
check "after the reload: SENT" 90 "$(summary SENT)"
check "no token request refused" 0 "$(sbx_stat '[.rejected | to_entries[] | select(.key | startswith("AADSTS")) | .value] | add // 0')"

# Another client id needs a restart: refused.
write_conf "client_certificate_file = $T/app.pem" "99999999-0000-0000-0000-000000000000"
kill -HUP "$GATEWAY_PID"
wait_for grep -q "restart to apply" "$T/gateway.log"
check "client id change: refused" 1 "$(grep -c 'a tenant or client id changed: restart to apply' "$T/gateway.log")"
check "still running" 0 "$(kill -0 "$GATEWAY_PID"; echo $?)"
stop_gateway >/dev/null
finish
