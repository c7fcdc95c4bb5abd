#!/usr/bin/env bash
# The gateway behind an HTTPS proxy: Debian's tinyproxy with Basic
# authentication, on loopback. Every connection to Entra and Graph (the
# sandbox) goes through the proxy's CONNECT tunnel and TLS is still checked
# against the sandbox's name; a wrong proxy password sends nothing and says
# why; NO_PROXY takes the sandbox out of it again.
. "$(dirname "$0")/lib.sh"
command -v tinyproxy >/dev/null || { echo "FAIL: tinyproxy is not installed (apt-get install tinyproxy)" >&2; exit 1; }
start_redis
start_sandbox
SBX_PORT=${SBX##*:}

PPORT=$(free_port)
cat >"$T/tinyproxy.conf" <<CONF
Port $PPORT
Listen 127.0.0.1
Timeout 60
MaxClients 50
Allow 127.0.0.1
BasicAuth sendgate s3cret
ConnectPort $SBX_PORT
LogFile "$T/tinyproxy.log"
LogLevel Connect
PidFile "$T/tinyproxy.pid"
CONF
tinyproxy -d -c "$T/tinyproxy.conf" >"$T/tinyproxy.out" 2>&1 &
PIDS+=($!)
wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$PPORT" 2>/dev/null
tunnels() { grep -c "Established connection to host \"localhost\"" "$T/tinyproxy.log" 2>/dev/null || true; }

queue_jobs 200 --senders 4 --prefix viaproxy
conns_before=$(sbx_stat .connections)
start_gateway HTTPS_PROXY="http://sendgate:s3cret@127.0.0.1:$PPORT"
wait_results 200 60
check "through the proxy: SENT" 200 "$(summary SENT)"
conns=$(( $(sbx_stat .connections) - conns_before - 1 )) # minus this curl's own
check_ge "tunnels made" 1 "$(tunnels)"
check "every connection to the sandbox came through the proxy" "$conns" "$(tunnels)"
check "logged" 1 "$(grep -c '"msg":"through the HTTPS proxy"' "$T/gateway.log" | awk '{print ($1>0)}')"
stop_gateway >/dev/null

# Wrong password: refused (tinyproxy answers 401, others 407), nothing sent, the reason in the log.
accepted=$(sbx_stat .graph_accepted)
queue_jobs 5 --senders 1 --prefix badauth
start_gateway SENDGATE_NETWORK_HTTPS_PROXY="http://sendgate:wrong@127.0.0.1:$PPORT" SENDGATE_GATEWAY_MAX_ATTEMPTS=1
wait_for grep -q "refused the tunnel" "$T/gateway.log"
check "the proxy's refusal named in the log" 1 "$(grep -c 'proxy: HTTP/1.[01] 40[17]' "$T/gateway.log" | awk '{print ($1>0)}')"
check "nothing sent" "$accepted" "$(sbx_stat .graph_accepted)"
check "password not logged" 0 "$(grep -c wrong "$T/gateway.log" || true)"
stop_gateway >/dev/null
rcli del sendgate:jobs >/dev/null

# NO_PROXY: direct again (the proxy sees no new tunnel).
t0=$(tunnels)
queue_jobs 20 --senders 1 --prefix direct
before=$(summary SENT)
start_gateway HTTPS_PROXY="http://sendgate:s3cret@127.0.0.1:$PPORT" NO_PROXY="localhost,127.0.0.0/8"
wait_for bash -c "[ \$($TOOLS/sg_testjobs summary $SENDGATE_REDIS_URL sendgate:results | awk '\$1==\"SENT\"{print \$2}') -ge $((before + 20)) ]"
check "NO_PROXY: SENT" $((before + 20)) "$(summary SENT)"
check "NO_PROXY: no tunnel" "$t0" "$(tunnels)"
stop_gateway >/dev/null
finish
