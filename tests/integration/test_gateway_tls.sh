#!/usr/bin/env bash
# No request ever goes to a server whose certificate does not verify: an
# untrusted CA, and a certificate for another host name. Nothing reaches the
# sandbox, jobs end EXPIRED with a TLS error, and the log says why.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox
queue_jobs 5 --prefix tls

# A CA the gateway does not trust: make one with openssl at test time.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/other-key.pem" \
  -out "$T/other-ca.pem" -days 2 -subj "/CN=other test CA" 2>/dev/null
start_gateway SENDGATE_TLS_CA_FILE="$T/other-ca.pem" SENDGATE_GATEWAY_MAX_ATTEMPTS=2
wait_results 5 60
check "untrusted CA: all EXPIRED" 5 "$(summary EXPIRED)"
check "untrusted CA: nothing sent" 0 "$(sbx_stat .graph_accepted)"
check "untrusted CA: no token request reached the sandbox" 0 "$(sbx_stat .token_requests)"
check "untrusted CA: result names the TLS failure" 5 "$(summary code:SG_ERR_TLS_VERIFY)"
check_ge "untrusted CA: error logged" 1 "$(grep -c 'certificate verify failed' "$T/gateway.log")"
stop_gateway

# The right CA but the wrong name: the certificate is for localhost and
# 127.0.0.1, the gateway connects to 127.0.0.2.
rcli del sendgate:results >/dev/null
queue_jobs 5 --prefix host
PORT=${SENDGATE_GRAPH_URL##*:}
"$SANDBOX" --listen 127.0.0.2:0 --state-dir "$T/sandbox" --env-file "$T/sandbox2.env" \
  >/dev/null 2>"$T/sandbox2.log" &
PIDS+=($!)
wait_for test -s "$T/sandbox2.env"
P2=$(sed -n "s/^SENDGATE_GRAPH_URL='https:\/\/localhost:\([0-9]*\)'/\1/p" "$T/sandbox2.env")
start_gateway SENDGATE_GRAPH_URL="https://127.0.0.2:$P2" SENDGATE_LOGIN_URL="https://127.0.0.2:$P2" \
  SENDGATE_GATEWAY_MAX_ATTEMPTS=2
wait_results 5 60
check "wrong host: all EXPIRED" 5 "$(summary EXPIRED)"
check "wrong host: result names the TLS failure" 5 "$(summary code:SG_ERR_TLS_VERIFY)"
check_ge "wrong host: mismatch logged" 1 "$(grep -ci 'mismatch' "$T/gateway.log")"
stop_gateway
finish
