#!/usr/bin/env bash
# Checks systemd/aurelay.service with `systemd-analyze verify`. The unit's ExecStart points at
# /usr/sbin/aurelay; before installation a copy pointing at the built binary is verified instead.
# Skips (exit 0, with a message) where systemd-analyze is absent.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${1:-/usr/sbin/aurelay}"
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "verify_unit.sh: systemd-analyze not installed, skipping"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sed "s|^ExecStart=/usr/sbin/aurelay |ExecStart=$binary |" "$root/systemd/aurelay.service" \
  >"$work/aurelay.service"
# The man page check needs the installed page; everything else must be clean.
out="$(systemd-analyze verify --man=no "$work/aurelay.service" 2>&1 || true)"
if [ -n "$out" ]; then
  echo "$out" >&2
  echo "verify_unit.sh: aurelay.service has problems" >&2
  exit 1
fi
echo "verify_unit.sh: aurelay.service OK"
