#!/usr/bin/env bash
# Certificate credentials and workload identity end to end: the sandbox's
# Entra has the app's certificate registered (as uploaded to Entra) and
# verifies every client assertion exactly. The gateway signs them with the
# certificate's key (PEM made here with the openssl CLI; PS256 and RS256,
# key in clear and encrypted), and sends. A certificate that is not
# registered gets FAILED with Entra's AADSTS700027 and nothing is sent; a
# broken certificate file stops the gateway at start with a clear message.
# A workload identity token file (AZURE_FEDERATED_TOKEN_FILE) is read for
# every token request.
. "$(dirname "$0")/lib.sh"
start_redis

mk_cert() { # mk_cert NAME: $T/NAME-key.pem, $T/NAME-cert.pem, $T/NAME.pem (both)
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$1-key.pem" -out "$T/$1-cert.pem" \
    -subj "/CN=sendgate-$1" -days 2 2>/dev/null
  cat "$T/$1-cert.pem" "$T/$1-key.pem" >"$T/$1.pem"
}
mk_cert app
mk_cert other
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:s3cret -in "$T/app-key.pem" -out "$T/app-enc-key.pem"
cat "$T/app-enc-key.pem" "$T/app-cert.pem" >"$T/app-enc.pem"

start_sandbox --set entra.client_certificate_file="$T/app-cert.pem"
CERT_ENV=(SENDGATE_GRAPH_CLIENT_SECRET= SENDGATE_GRAPH_CLIENT_CERTIFICATE_FILE="$T/app.pem")

queue_jobs 200 --senders 4 --prefix cert
start_gateway "${CERT_ENV[@]}"
wait_results 200 60
check "PS256: SENT" 200 "$(summary SENT)"
check "PS256: one token" 1 "$(sbx_stat .tokens_issued)"
check "no assertion refused" 0 "$(sbx_stat '[.rejected | to_entries[] | select(.key | startswith("AADSTS")) | .value] | add // 0')"
stop_gateway >/dev/null

# The older form (RS256, x5t), from an encrypted key.
queue_jobs 50 --senders 4 --prefix rs
start_gateway SENDGATE_GRAPH_CLIENT_SECRET= SENDGATE_GRAPH_CLIENT_CERTIFICATE_FILE="$T/app-enc.pem" \
  SENDGATE_GRAPH_CLIENT_CERTIFICATE_PASSWORD=s3cret SENDGATE_GRAPH_CLIENT_ASSERTION_ALG=rs256
wait_results 250 60
check "RS256, encrypted key: SENT" 250 "$(summary SENT)"
check "a second token (a new process)" 2 "$(sbx_stat .tokens_issued)"
stop_gateway >/dev/null

# A certificate the app does not have: FAILED with Entra's number, nothing sent.
accepted=$(sbx_stat .graph_accepted)
queue_jobs 5 --senders 1 --prefix wrong
start_gateway SENDGATE_GRAPH_CLIENT_SECRET= SENDGATE_GRAPH_CLIENT_CERTIFICATE_FILE="$T/other.pem"
wait_results 255 60
check "unregistered certificate: FAILED" 5 "$(summary FAILED)"
check "code AADSTS700027" 5 "$(summary code:AADSTS700027)"
check "nothing sent" "$accepted" "$(sbx_stat .graph_accepted)"
stop_gateway >/dev/null

# Broken files stop the gateway at start, saying why (no secret in the log).
set +e
env SENDGATE_GRAPH_CLIENT_SECRET= SENDGATE_GRAPH_CLIENT_CERTIFICATE_FILE="$T/app-enc.pem" \
  SENDGATE_GRAPH_CLIENT_CERTIFICATE_PASSWORD=wrong timeout 20 "$SENDGATE" run >"$T/bad.out" 2>"$T/bad.log"
rc=$?
set -e
check "wrong key password: does not start (exit 1)" 1 "$rc"
check "says why" 1 "$(grep -c 'no private key could be read' "$T/bad.log")"
check "password not logged" 0 "$(grep -c wrong "$T/bad.log" || true)"
set +e
env SENDGATE_GRAPH_CLIENT_CERTIFICATE_FILE="$T/app.pem" timeout 20 "$SENDGATE" run --check >"$T/two.out" 2>"$T/two.log"
rc=$?
set -e
check "secret and certificate: refused" "1 1" "$([ "$rc" -ne 0 ] && echo 1) $(cat "$T/two.log" "$T/two.out" | grep -c 'not several')"

# Workload identity: a token file in AZURE_FEDERATED_TOKEN_FILE that someone
# else writes; here an assertion made by the openssl CLI with the registered
# certificate (an independent check of the sandbox's PS256 verification).
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
mk_assertion() { # mk_assertion JTI -> a PS256 assertion for the sandbox's token URL
  local now aud h c
  now=$(date +%s)
  aud="${SENDGATE_LOGIN_URL%/}/$SENDGATE_GRAPH_TENANT_ID/oauth2/v2.0/token"
  local thumb
  thumb=$(openssl x509 -in "$T/app-cert.pem" -outform DER | openssl dgst -sha256 -binary | b64url)
  h=$(printf '{"alg":"PS256","typ":"JWT","x5t#S256":"%s"}' "$thumb" | b64url)
  c=$(printf '{"aud":"%s","iss":"%s","sub":"%s","jti":"%s","nbf":%s,"iat":%s,"exp":%s}' \
    "$aud" "$SENDGATE_GRAPH_CLIENT_ID" "$SENDGATE_GRAPH_CLIENT_ID" "$1" "$now" "$now" $((now + 600)) | b64url)
  printf '%s.%s' "$h" "$c" >"$T/signing-input"
  local sig
  sig=$(openssl dgst -sha256 -sign "$T/app-key.pem" -sigopt rsa_padding_mode:pss \
    -sigopt rsa_pss_saltlen:digest "$T/signing-input" | b64url)
  printf '%s.%s.%s\n' "$h" "$c" "$sig"
}
mk_assertion wi-1 >"$T/federated-token"
queue_jobs 20 --senders 2 --prefix wi
tokens=$(sbx_stat .tokens_issued)
start_gateway SENDGATE_GRAPH_CLIENT_SECRET= SENDGATE_GRAPH_CLIENT_ID= SENDGATE_GRAPH_TENANT_ID= \
  AZURE_CLIENT_ID="$SENDGATE_GRAPH_CLIENT_ID" AZURE_TENANT_ID="$SENDGATE_GRAPH_TENANT_ID" \
  AZURE_FEDERATED_TOKEN_FILE="$T/federated-token"
wait_results 275 60
check "workload identity: SENT" 270 "$(summary SENT)"
check "workload identity: a token" $((tokens + 1)) "$(sbx_stat .tokens_issued)"
stop_gateway >/dev/null
finish
