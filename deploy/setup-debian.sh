#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and the demo need.
# Runs apt-get as root, or through sudo when not root. Safe to run again.
set -euo pipefail

pkgs=(
  # build (clang-format: the format check of tests/check_format.sh)
  build-essential cmake pkg-config clang-format
  libuv1-dev libnghttp2-dev libssl-dev libhiredis-dev
  libprotobuf-c-dev protobuf-c-compiler libinih-dev libcrypt-dev
  # MIME parsing (MIME jobs to ACS, large MIME to Graph)
  libgmime-3.0-dev
  # tests, demo and benchmark
  redis-server redis-tools nghttp2-client nghttp2-server curl openssl jq python3 procps
  gnuplot-nox
  # tests/integration/test_smtpd*.sh: SMTP clients that are not ours (swaks;
  # smtp-source from postfix, installed unconfigured and never left running)
  swaks libnet-ssleay-perl postfix
  # tests/integration/test_gateway_proxy.sh: a real HTTPS proxy (CONNECT)
  tinyproxy
  # tests/integration/test_smtpc.sh: a real SMTP server with STARTTLS and AUTH
  # for the SMTP client (postfix above also brings smtp-sink)
  python3-aiosmtpd
  # tests/integration/test_client_python.sh: the Python client library
  # (proto/python) and protoc, which compiles the schema for it
  python3-redis python3-protobuf protobuf-compiler
  # tests/integration/test_deploy_conf.sh: the Kubernetes manifests are parsed
  python3-yaml
  # tests/integration/test_deploy_monitoring.sh: promtool (installed for the
  # tool only; its Prometheus server is stopped and disabled below)
  prometheus
  # tests/integration/test_sandbox_inbox.sh: the web inbox in a real browser
  # (puppeteer-core from npm drives it) and certutil for the sandbox's CA
  chromium libnss3-tools
)
# tests/integration/test_acs_sdk.sh and test_client_node.sh: Node.js and npm
# (Microsoft's ACS client for JavaScript; ioredis and protobufjs). A Node.js
# that brings its own npm (NodeSource's nodejs provides and conflicts with
# Debian's npm) is kept as it is.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# postfix only for its smtp-source tool: no configuration, so it does not
# take port 25; stop and disable it in case a service manager started it.
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Packages installed for a tool or a test that starts its own instance: the
# packaged services (postfix on port 25, tinyproxy, the Prometheus server) are
# not wanted.
stop_service() {
  printf '%s\n' "${missing[@]}" | grep -qx "$1" || return 0
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now "$1" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$1" ]; then
    $SUDO "/etc/init.d/$1" stop >/dev/null 2>&1 || true
  fi
}
stop_service postfix
if printf '%s\n' "${missing[@]}" | grep -qx postfix; then
  $SUDO postfix stop >/dev/null 2>&1 || true
fi
stop_service tinyproxy
stop_service prometheus
