#!/usr/bin/env bash
# Secrets stay in the process: `sendgate run` makes itself non-dumpable (no
# core dump, no /proc/<pid>/environ or mem for other processes of its user)
# and has no core-size limit above 0; the Entra client secret never reaches
# the logs.
. "$(dirname "$0")/lib.sh"
start_redis
start_sandbox

# Run as an unprivileged user: for a dumpable process /proc/<pid>/environ
# belongs to that user, for a non-dumpable one to root (root itself cannot
# tell the difference, so as root the gateway runs as nobody).
as_user=()
if [ "$(id -u)" = 0 ]; then
  as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  chmod -R a+rX "$T"
fi
MPORT=$(free_port)
env SENDGATE_HTTP_LISTEN="127.0.0.1:$MPORT" SENDGATE_LOG_LEVEL=debug \
  "${as_user[@]}" "$SENDGATE" run >"$T/gateway.out" 2>"$T/gateway.log" &
GW=$!
PIDS+=("$GW")
wait_for curl -sf "http://127.0.0.1:$MPORT/readyz"
user=$(stat -c %U "/proc/$GW/environ")
me=$(id -un)
[ "$(id -u)" = 0 ] && me=nobody
check "running as $me" "$me" "$(ps -o user= -p "$GW" | tr -d ' ')"
check "non-dumpable: /proc/<pid>/environ belongs to root" "root" "$user"
check "core size limit 0" "0 0" "$(awk '/^Max core file size/ {print $5, $6}' "/proc/$GW/limits")"
# A message goes through (a token was fetched with the secret), and the
# secret is in no log line.
env SENDGATE_REDIS_URL="$SENDGATE_REDIS_URL" "$SENDGATE" send --wait --timeout 20 \
  --from a@contoso.com --to b@example.com --subject s --text t >"$T/send.out" 2>&1 || true
check "sent" 1 "$(grep -c ' SENT ' "$T/send.out")"
check "secret not logged" 0 "$(grep -cF "$SENDGATE_GRAPH_CLIENT_SECRET" "$T/gateway.log" || true)"
kill -TERM "$GW"
wait "$GW" && rc=0 || rc=$?
check "SIGTERM exit code" 0 "$rc"
finish
