# Helpers for tests/integration/test_smtpd*.sh (sourced after lib.sh): a test
# CA and server certificate made at test time, a users file, and smtpd itself.

# make_certs: $T/ca.pem (the test CA, also in $T/ca/ for --tls-ca-path) and
# $T/server.pem / $T/server-key.pem for localhost and 127.0.0.1.
make_certs() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca-key.pem" \
    -out "$T/ca.pem" -days 2 -subj "/CN=sendgate smtpd test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/server-key.pem" \
    -out "$T/server.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/ext.cnf"
  openssl x509 -req -in "$T/server.csr" -CA "$T/ca.pem" -CAkey "$T/ca-key.pem" -CAcreateserial \
    -days 2 -extfile "$T/ext.cnf" -out "$T/server.pem" 2>/dev/null
  mkdir -p "$T/ca"
  cp "$T/ca.pem" "$T/ca/"
  openssl rehash "$T/ca" 2>/dev/null || c_rehash "$T/ca" >/dev/null 2>&1
}

# add_user NAME PASSWORD ALLOW_FROM...: a user in $T/users (sendgate smtp-user
# when this build has it, else a crypt(3) SHA-512 line in the same format).
add_user() {
  local name=$1 pw=$2
  shift 2
  if "$SENDGATE" smtp-user --help >/dev/null 2>&1; then
    local args=()
    for a in "$@"; do args+=(--allow-from "$a"); done
    printf '%s\n' "$pw" | "$SENDGATE" smtp-user add "$name" --users-file "$T/users" "${args[@]}"
  else
    local hash allow
    hash=$(openssl passwd -6 "$pw")
    allow=$(IFS=,; echo "$*")
    echo "$name:$hash:$allow:" >>"$T/users"
  fi
}

# start_smtpd [VAR=value ...]: runs `sendgate smtpd` with the test's ports,
# certificate and users file; waits until /readyz says ready.
start_smtpd() {
  env SENDGATE_SMTP_LISTEN="127.0.0.1:$SUB_PORT" SENDGATE_SMTP_LISTEN_TLS="127.0.0.1:$TLS_PORT" \
    SENDGATE_SMTP_LISTEN_RELAY="127.0.0.1:$RELAY_PORT" SENDGATE_SMTP_TLS_CERT_FILE="$T/server.pem" \
    SENDGATE_SMTP_TLS_KEY_FILE="$T/server-key.pem" SENDGATE_SMTP_USERS_FILE="$T/users" \
    SENDGATE_SMTP_HOSTNAME=smtp.test SENDGATE_HTTP_LISTEN="127.0.0.1:$ADMIN_PORT" \
    SENDGATE_SMTP_AUTH_FAIL_DELAY_MS=10 "$@" \
    "$SENDGATE" smtpd >>"$T/smtpd.out" 2>>"$T/smtpd.log" &
  SMTPD_PID=$!
  PIDS+=("$SMTPD_PID")
  wait_for curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz"
}

# stop_smtpd: SIGTERM, bounded wait; returns smtpd's exit code.
stop_smtpd() {
  kill -TERM "$SMTPD_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 200); do
    kill -0 "$SMTPD_PID" 2>/dev/null || break
    sleep 0.05
  done
  wait "$SMTPD_PID"
}

smtp_ports() {
  SUB_PORT=$(free_port)
  TLS_PORT=$(free_port)
  RELAY_PORT=$(free_port)
  ADMIN_PORT=$(free_port)
}

# dump_jobs: the jobs on sendgate:jobs into $T/jobs/N.{meta,mime}; prints the count.
dump_jobs() {
  rm -rf "$T/jobs"
  mkdir -p "$T/jobs"
  "$TOOLS/sg_smtpjobs" dump "$SENDGATE_REDIS_URL" sendgate:jobs "$T/jobs"
}
metric() { curl -sf "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
