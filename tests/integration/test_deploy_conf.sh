#!/usr/bin/env bash
# The deployment files stay in step with the gateway: deploy/sendgate.conf.sample
# and the config embedded in deploy/k8s/configmap.yaml parse with the real
# `sendgate run --check` (with the account secrets given in the environment,
# as deploy/README.md says) and name the example accounts; without the
# secrets they are refused; the sample lists every setting of
# gateway/conf/sg_config.c's table; no deploy file carries a secret value;
# the KEDA ScaledObject scales the Deployment on the consumer group's lag and
# the PodDisruptionBudget selects its pods without ever blocking a drain.
. "$(dirname "$0")/lib.sh"

SAMPLE=$SG_SOURCE_DIR/deploy/sendgate.conf.sample
DEPLOY=$SG_SOURCE_DIR/deploy

[ -x "$SENDGATE" ] || { echo "FAIL: no $SENDGATE (set SG_BIN_DIR)" >&2; exit 1; }
if ! "$SENDGATE" run --help 2>&1 | grep -q -- '--check'; then
  echo "FAIL: '$SENDGATE run --help' does not mention --check; this test needs" \
    "'sendgate run --config FILE --check' (parse the config, print the accounts, exit 0)" >&2
  exit 1
fi

# A clean environment: only what the test gives, never the caller's SENDGATE_*.
secrets=(SENDGATE_ACCOUNT_MARKETING_CLIENT_SECRET=test-secret
  "SENDGATE_ACCOUNT_TRANSACTIONAL_CONNECTION_STRING=endpoint=https://acs.example.communication.azure.com/;accesskey=dGVzdA==")
sg_check() { # sg_check FILE [VAR=value ...] -> output, exit code in $T/rc
  local file=$1
  shift
  set +e
  env -i PATH="$PATH" HOME="$T" "$@" "$SENDGATE" run --config "$file" --check >"$T/check.out" 2>&1
  echo $? >"$T/rc"
  set -e
}

echo "# sendgate.conf.sample"
sg_check "$SAMPLE" "${secrets[@]}"
cat "$T/check.out"
check "sample parses" "0" "$(cat "$T/rc")"
check "sample: graph account" "1" "$(grep -c '^account marketing *graph tenant=00000000-0000-0000-0000-000000000001 ' "$T/check.out")"
check "sample: acs account" "1" "$(grep -c '^account transactional *acs access key' "$T/check.out")"
check "sample: two accounts" "2" "$(grep -c '^account ' "$T/check.out")"

sg_check "$SAMPLE" "${secrets[1]}"
check "sample without the Graph secret refused" "2" "$(cat "$T/rc")"
check "message names the account" "1" "$(grep -c 'account.marketing' "$T/check.out")"
printf 'from-file' >"$T/secret"
sg_check "$SAMPLE" SENDGATE_ACCOUNT_MARKETING_CLIENT_SECRET_FILE="$T/secret" "${secrets[1]}"
check "secret from _FILE" "0" "$(cat "$T/rc")"

# Every key of the gateway's settings table appears in the sample, in its section.
keys=$(grep -oE '^ *\{"[a-z_]+", "[a-z0-9_]+", SG_SET_' "$SG_SOURCE_DIR/gateway/conf/sg_config.c" |
  sed -E 's/^ *\{"([a-z_]+)", "([a-z0-9_]+)".*/\1.\2/')
check_ge "settings found in sg_config.c" 30 "$(echo "$keys" | wc -l)"
missing=$(python3 - "$SAMPLE" $keys <<'EOF'
import sys
section, have = None, set()
for line in open(sys.argv[1]):
    s = line.strip()
    if s.startswith("[") and s.endswith("]"):
        section = s[1:-1]
    elif s and not s.startswith(("#", ";")) and "=" in s:
        have.add(section + "." + s.split("=", 1)[0].strip())
print(" ".join(k for k in sys.argv[2:] if k not in have))
EOF
)
check "sample lists every setting" "" "$missing"

echo "# k8s/configmap.yaml"
# The sendgate.conf block of the ConfigMap, de-indented.
python3 - "$DEPLOY/k8s/configmap.yaml" >"$T/k8s.conf" <<'EOF'
import sys
lines, out, inside, indent = open(sys.argv[1]).read().split("\n"), [], False, None
for line in lines:
    if not inside:
        inside = line.strip() == "sendgate.conf: |"
        continue
    if line.strip() == "":
        out.append("")
        continue
    cur = len(line) - len(line.lstrip())
    if indent is None:
        indent = cur
    if cur < indent:
        break
    out.append(line[indent:])
print("\n".join(out))
EOF
check_ge "configmap holds a config" 5 "$(grep -c = "$T/k8s.conf")"
sg_check "$T/k8s.conf" "${secrets[@]}"
cat "$T/check.out"
check "configmap config parses" "0" "$(cat "$T/rc")"
check "configmap: two accounts" "2" "$(grep -c '^account ' "$T/check.out")"
# The Deployment passes exactly those secrets from the Secret.
for v in SENDGATE_ACCOUNT_MARKETING_CLIENT_SECRET SENDGATE_ACCOUNT_TRANSACTIONAL_CONNECTION_STRING; do
  check "deployment sets $v from a secret" "1" \
    "$(grep -A3 "name: $v\$" "$DEPLOY/k8s/deployment.yaml" | grep -c 'secretKeyRef:')"
done

echo "# k8s: autoscaling, disruption budget, any replica count"
python3 - "$DEPLOY/k8s" >"$T/k8s.txt" <<'EOF'
import sys, yaml
d = sys.argv[1]
def load(name):
    return [x for x in yaml.safe_load_all(open(d + "/" + name)) if x]
dep = load("deployment.yaml")[0]
so = load("keda-scaledobject.yaml")[0]
pdb = load("pdb.yaml")[0]
labels = dep["spec"]["template"]["metadata"]["labels"]
trig = so["spec"]["triggers"][0]
m = trig["metadata"]
print("scaledobject_kind", so["kind"])
print("scaledobject_target", so["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"])
print("trigger_type", trig["type"])
print("trigger_stream", m.get("stream"))
print("trigger_group", m.get("consumerGroup"))
print("trigger_lag", int(m.get("lagCount", "0")) > 0)
print("replicas_bounds", 1 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"])
print("pdb_kind", pdb["kind"])
print("pdb_selects_pods", all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items()))
# minAvailable would block every drain of a single replica: maxUnavailable only.
print("pdb_never_blocks", "minAvailable" not in pdb["spec"] and pdb["spec"].get("maxUnavailable", 0) >= 1)
print("deployment_rolls_one_more", dep["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0)
EOF
kv() { awk -v k="$1" '$1 == k {print $2}' "$T/k8s.txt"; }
check "keda: a ScaledObject" ScaledObject "$(kv scaledobject_kind)"
check "keda: scales the sendgate Deployment" True "$(kv scaledobject_target)"
check "keda: redis-streams scaler" redis-streams "$(kv trigger_type)"
check "keda: on the jobs stream" sendgate:jobs "$(kv trigger_stream)"
check "keda: on the consumer group" sendgate "$(kv trigger_group)"
check "keda: by the group's lag" True "$(kv trigger_lag)"
check "keda: replica bounds" True "$(kv replicas_bounds)"
check "pdb: a PodDisruptionBudget" PodDisruptionBudget "$(kv pdb_kind)"
check "pdb: selects the gateway's pods" True "$(kv pdb_selects_pods)"
check "pdb: never blocks a drain (maxUnavailable)" True "$(kv pdb_never_blocks)"
check "deployment: rolling update adds before it removes" True "$(kv deployment_rolls_one_more)"
# Any replica count is safe only with the budgets shared: the ConfigMap must not turn them off.
check "configmap: shared budgets on" "0" \
  "$(grep -ciE '^shared_budgets *= *(false|off|no|0)' "$T/k8s.conf" || true)"

echo "# no secrets in the deploy files"
check "unit sets no secret" "0" \
  "$(grep -ciE '^Environment=.*(SECRET|CONNECTION_STRING|PASSWORD)=' "$DEPLOY/sendgate.service" || true)"
check "sample: secret keys empty" "0" \
  "$(grep -cE '^(client_secret|connection_string) *= *[^ ]' "$SAMPLE" || true)"
check "configmap: secret keys empty" "0" \
  "$(grep -cE '^(client_secret|connection_string) *= *[^ ]' "$T/k8s.conf" || true)"

finish
