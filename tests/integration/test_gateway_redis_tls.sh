#!/usr/bin/env bash
# TLS to Redis (rediss://, as Azure Cache for Redis requires): a redis-server
# that listens on TLS only (--port 0), with a certificate from a CA made here,
# an ACL user with a password and the default user switched off. Jobs go end
# to end with the gateway on rediss://user:pass@localhost (the name checked),
# `sendgate send --wait` and `dlq` work over it, and what must be refused is:
# a server certificate for another name (TLS verify error in the log, nothing
# sent, reconnect with backoff rather than a spin) and a wrong password (the
# server's refusal in the log, nothing sent).
. "$(dirname "$0")/lib.sh"
start_sandbox

# The test's CA, a certificate for localhost/127.0.0.1 and one for another name.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/rca-key.pem" \
  -out "$T/rca.pem" -days 2 -subj "/CN=sendgate redis test CA" 2>/dev/null
mk_cert() { # mk_cert NAME SUBJECT_ALT_NAMES
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1-key.pem" \
    -out "$T/$1.csr" -subj "/CN=$1" 2>/dev/null
  printf 'subjectAltName=%s\n' "$2" >"$T/$1.ext"
  openssl x509 -req -in "$T/$1.csr" -CA "$T/rca.pem" -CAkey "$T/rca-key.pem" -CAcreateserial \
    -out "$T/$1.pem" -days 2 -extfile "$T/$1.ext" 2>/dev/null
}
mk_cert localhost DNS:localhost,IP:127.0.0.1
mk_cert other DNS:redis.other.example
# One trust file for every TLS connection: the sandbox's CA and Redis's.
cat "$CA" "$T/rca.pem" >"$T/trust.pem"
export SENDGATE_TLS_CA_FILE="$T/trust.pem"

# start_tls_redis CERT: a TLS-only redis-server; sets REDIS_PORT and REDIS_PID.
start_tls_redis() {
  REDIS_PORT=$(free_port)
  mkdir -p "$T/redis-$1"
  redis-server --port 0 --tls-port "$REDIS_PORT" --bind 127.0.0.1 \
    --tls-cert-file "$T/$1.pem" --tls-key-file "$T/$1-key.pem" --tls-ca-cert-file "$T/rca.pem" \
    --tls-auth-clients no --dir "$T/redis-$1" --save '' --appendonly no --daemonize no \
    --user sendgate on '>s3cret' '~*' '&*' '+@all' --user default off >"$T/redis-$1.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
  wait_for redis_ours
}
# lib.sh's helpers speak plain TCP; these speak TLS as the ACL user (the
# certificate is checked against the CA; redis-cli sends SNI "localhost").
rcli() {
  redis-cli --tls --cacert "$T/rca.pem" -h localhost -p "$REDIS_PORT" --user sendgate \
    --pass s3cret --no-auth-warning "$@"
}
redis_ours() {
  local info
  info=$(rcli info 2>/dev/null | tr -d '\r')
  grep -qx "process_id:$REDIS_PID" <<<"$info" && grep -qx "loading:0" <<<"$info"
}
queue_jobs() { "$TOOLS/sg_testjobs" gen "$@" | rcli --pipe >/dev/null; }
rc() { "$@" >"$T/out" 2>"$T/err"; echo $?; }
# attempts PATTERN: gateway log lines matching PATTERN.
attempts() { grep -c -- "$1" "$T/gateway.log" || true; }

echo "# end to end over rediss://, host name checked"
start_tls_redis localhost
GOOD="rediss://sendgate:s3cret@localhost:$REDIS_PORT/0"
export SENDGATE_REDIS_URL="$GOOD"
queue_jobs 20 --prefix rtls
start_gateway
wait_results 20 60
check "rediss: all SENT" 20 "$(summary SENT)"
check "rediss: one result per job" 20 "$(summary distinct_ids)"
check "rediss: the sandbox got them" 20 "$(sbx_stat .graph_accepted)"
check_ge "rediss: the gateway's connections are TLS" 2 "$(attempts '"msg":"connected".*"tls":"yes"')"
check "rediss: no plain connection" 0 "$(attempts '"tls":"no"')"
check "rediss: job stream drained" 0 "$(jobs_drained)"

echo "# sendgate send --wait and dlq over rediss://"
check "send --wait" SENT "$("$SENDGATE" send --wait --timeout 20 --from sender-1@contoso.com \
  --to r@example.com --subject tls --text b 2>"$T/send.err" | awk '{print $2}')"
rcli XADD sendgate:dead '*' reason weird other x >/dev/null
check "dlq list" 0 "$(rc "$SENDGATE" dlq list)"
check "dlq list shows the entry" 1 "$(grep -c weird "$T/out")"
# A password in --redis-url stays refused (ps shows it), rediss:// or not.
check "password on the command line refused" 2 \
  "$(rc "$SENDGATE" send --redis-url "$GOOD" --from a@contoso.com --to r@example.com --text b)"
stop_gateway
accepted=$(sbx_stat .graph_accepted)

echo "# wrong password: refused, nothing sent, backoff"
rcli DEL sendgate:results >/dev/null
queue_jobs 3 --prefix wrongpw
check "send: wrong password fails" 3 "$(rc env SENDGATE_REDIS_URL="rediss://sendgate:nope@localhost:$REDIS_PORT/0" \
  "$SENDGATE" send --from a@contoso.com --to r@example.com --text b)"
check "send: says why, in one line" 1 "$(grep -c 'WRONGPASS' "$T/err")"
: >"$T/gateway.log"
start_gateway SENDGATE_REDIS_URL="rediss://sendgate:nope@localhost:$REDIS_PORT/0"
wait_for grep -q '"handshake refused".*WRONGPASS' "$T/gateway.log"
t0=$(attempts '"handshake refused"')
sleep 3 # a measurement window: how often it retries
t1=$(attempts '"handshake refused"')
check "wrong password: nothing sent" "$accepted" "$(sbx_stat .graph_accepted)"
check "wrong password: jobs stay queued" 3 "$(rcli XLEN sendgate:jobs)"
check "wrong password: no results" 0 "$(rcli XLEN sendgate:results)"
# Backoff (100 ms doubling to 5 s, full jitter) allows some tens of attempts
# in 3 s at most; a reconnect spin would make thousands.
check_ge "wrong password: retries with backoff (<= 40 in 3 s)" "$((t1 - t0))" 40
check "wrong password: the password is not logged" 0 "$(attempts nope)"
stop_gateway || true

echo "# a certificate for another name: TLS verify error, nothing sent, backoff"
GOOD_PORT=$REDIS_PORT
start_tls_redis other
check "send: wrong name fails" 3 "$(rc env SENDGATE_REDIS_URL="rediss://sendgate:s3cret@localhost:$REDIS_PORT/0" \
  "$SENDGATE" send --from a@contoso.com --to r@example.com --text b)"
check "send: names the certificate problem" 1 "$(grep -ci 'certificate' "$T/err")"
: >"$T/gateway.log"
start_gateway SENDGATE_REDIS_URL="rediss://sendgate:s3cret@localhost:$REDIS_PORT/0"
wait_for grep -q '"TLS certificate not accepted"' "$T/gateway.log"
t0=$(attempts '"TLS certificate not accepted"')
sleep 3 # a measurement window, as above
t1=$(attempts '"TLS certificate not accepted"')
check_ge "wrong name: hostname mismatch logged" 1 "$(attempts 'hostname mismatch')"
check_ge "wrong name: retries with backoff (<= 40 in 3 s)" "$((t1 - t0))" 40
check "wrong name: never connected" 0 "$(attempts '"msg":"connected"')"
check "wrong name: nothing sent" "$accepted" "$(sbx_stat .graph_accepted)"
stop_gateway || true
REDIS_PORT=$GOOD_PORT
check "wrong name: the jobs wait in the real Redis" 3 "$(rcli XLEN sendgate:jobs)"
finish
