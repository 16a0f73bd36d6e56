#!/usr/bin/env bash
# Installs everything aurelay needs to build, test and benchmark on Debian 12, as root.
# Idempotent. Never leaves an auditd running that it started (it would take the audit pid), nor
# the system RabbitMQ (the tests start a private broker of their own).
set -euo pipefail
# Everything it prints goes to stderr: stdout stays for the documents of a command that follows.
exec 1>&2

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (apt-get install)" >&2
  exit 1
fi

packages=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev clang-format clang-tidy
  libmnl-dev libaudit-dev libauparse-dev libcurl4-openssl-dev rapidjson-dev libspdlog-dev
  libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libcap-ng-dev libsystemd-dev
  auditd laurel python3 openssl procps iproute2 curl strace
  zlib1g-dev nginx-light time bc
  prometheus-node-exporter librabbitmq-dev rabbitmq-server
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

rabbitmq_was_installed=0
dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -q 'install ok installed' &&
  rabbitmq_was_installed=1
auditd_was_installed=0
dpkg-query -W -f='${Status}' auditd 2>/dev/null | grep -q 'install ok installed' && auditd_was_installed=1
# node_exporter is only run by the metrics test (on its own port); the system service stays off.
node_exporter_was_installed=0
dpkg-query -W -f='${Status}' prometheus-node-exporter 2>/dev/null | grep -q 'install ok installed' &&
  node_exporter_was_installed=1

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  # Keep package scripts from starting services (auditd would register as the audit daemon,
  # rabbitmq-server would start the system broker and its epmd).
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$made_policy" = 1 ] && rm -f "$policy"
fi

if [ "$auditd_was_installed" = 0 ]; then
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now auditd.service >/dev/null 2>&1 || true
  fi
  pkill -x auditd 2>/dev/null || true
fi
if [ "$node_exporter_was_installed" = 0 ] && command -v systemctl >/dev/null 2>&1 &&
  [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus-node-exporter.service >/dev/null 2>&1 || true
fi
if [ "$rabbitmq_was_installed" = 0 ]; then
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now rabbitmq-server.service >/dev/null 2>&1 || true
  fi
  # Whatever still runs as the system user rabbitmq (broker, epmd) came from the package: stop it.
  if id rabbitmq >/dev/null 2>&1; then
    for pid in $(pgrep -u rabbitmq 2>/dev/null || true); do kill "$pid" 2>/dev/null || true; done
  fi
fi
echo "setup.sh: ready"
