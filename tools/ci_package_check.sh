#!/usr/bin/env bash
# CI check of the Debian package on this machine: verifies the systemd unit, builds the .deb
# (tools/package.sh), installs it with apt-get (so its dependencies resolve), checks the installed
# files, `aurelay --version`, `aurelay --check-config` with the installed
# /etc/aurelay/aurelay.conf and the unit's ExecStart line as written (its --check-config form:
# as written it would start collecting), then purges the package again (and removes the aurelay
# user and directories the package created; directories it found get their owner and mode
# back), so the rest of a test run does not see /etc/aurelay/aurelay.conf.
#
# Usage: tools/ci_package_check.sh [build-dir]   (default build-package; the .deb is built there)
# Needs root (apt-get). Prints PASS/FAIL per check; exits 1 when any check failed. Skips (exit 0,
# with a SKIP line) when not root, without apt-get, or when aurelay is already installed (an
# installation this script did not make is never touched).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-package}"
case "$build" in /*) ;; *) build="$root/$build" ;; esac

failures=0
pass() { echo "PASS: $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
skip() {
  echo "SKIP: $*"
  exit 0
}
# check "<what>" command...: runs the command, PASS or FAIL by its exit status.
check() {
  local what="$1"
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

[ "$(id -u)" = 0 ] || skip "ci_package_check.sh needs root (apt-get install)"
command -v apt-get >/dev/null 2>&1 || skip "apt-get not available"
command -v dpkg-query >/dev/null 2>&1 || skip "dpkg-query not available"
package_installed() {
  dpkg-query -W -f='${Status}' aurelay 2>/dev/null | grep -q 'install ok installed'
}
package_known() { dpkg-query -W aurelay >/dev/null 2>&1; }
if package_known; then
  skip "an aurelay package is already known to dpkg on this machine: not touching it"
fi

# What the package may create and the purge must take away again.
user_existed=no
getent passwd aurelay >/dev/null && user_existed=yes
group_existed=no
getent group aurelay >/dev/null && group_existed=yes
created_dirs=()
existing_dirs=()
snapshots=$(mktemp -d)
# One file name per directory: /var/lib/aurelay -> _var_lib_aurelay (the basenames are all alike).
snapshot_name() { printf '%s' "${1//\//_}"; }
for dir in /run/aurelay /var/lib/aurelay /var/log/aurelay /etc/aurelay /var/log/audit; do
  if [ -e "$dir" ]; then
    # Found here (an earlier run, another package): the purge gives back its owner and mode and,
    # in aurelay's own directories, removes what appeared inside it meanwhile (the postinst
    # chowns /var/lib/aurelay and makes spool/ there). /var/log/audit's content is never touched.
    existing_dirs+=("$dir")
    stat -c '%u:%g %a' "$dir" >"$snapshots/$(snapshot_name "$dir").mode"
    find "$dir" -mindepth 1 -print0 | sort -z >"$snapshots/$(snapshot_name "$dir").entries"
  else
    created_dirs+=("$dir")
  fi
done

installed=no
cleanup() {
  if [ "$installed" = yes ] || package_known; then
    if apt-get purge -y aurelay >/tmp/ci_package_check.purge.$$ 2>&1; then
      pass "apt-get purge -y aurelay"
    else
      cat /tmp/ci_package_check.purge.$$
      fail "apt-get purge -y aurelay"
    fi
    rm -f /tmp/ci_package_check.purge.$$
    installed=no
  fi
  if [ "$user_existed" = no ] && getent passwd aurelay >/dev/null; then
    userdel aurelay || fail "userdel aurelay"
  fi
  if [ "$group_existed" = no ] && getent group aurelay >/dev/null; then
    groupdel aurelay || fail "groupdel aurelay"
  fi
  for dir in "${created_dirs[@]}"; do
    [ -e "$dir" ] && rm -rf -- "$dir"
  done
  local name owner mode
  for dir in "${existing_dirs[@]}"; do
    [ -d "$dir" ] && [ -d "$snapshots" ] || continue
    name=$(snapshot_name "$dir")
    if [ "$dir" != /var/log/audit ]; then
      find "$dir" -mindepth 1 -print0 | sort -z |
        comm -z -13 "$snapshots/$name.entries" - | xargs -0 -r rm -rf --
    fi
    read -r owner mode <"$snapshots/$name.mode"
    chown "$owner" "$dir" && chmod "$mode" "$dir"
  done
  rm -rf "$snapshots"
}
trap 'cleanup; exit 1' INT TERM

echo "== building the package in $build"
deb="$("$root/tools/package.sh" "$build" | tail -n1)"
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
  fail "tools/package.sh built no .deb"
  rm -rf "$snapshots"
  exit 1
fi
pass "tools/package.sh built $(basename "$deb")"
version="$(dpkg-deb -f "$deb" Version)"

echo "== systemd unit"
check "tools/verify_unit.sh (systemd-analyze verify of systemd/aurelay.service)" \
  "$root/tools/verify_unit.sh" "$build/aurelay"

echo "== installing $deb"
installed=yes
trap 'cleanup' EXIT
if DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" >/tmp/ci_package_check.install.$$ 2>&1 &&
  package_installed; then
  pass "apt-get install -y $(basename "$deb")"
else
  cat /tmp/ci_package_check.install.$$
  rm -f /tmp/ci_package_check.install.$$
  fail "apt-get install -y $(basename "$deb")"
  exit 1
fi
rm -f /tmp/ci_package_check.install.$$

echo "== installed files"
for file in /usr/sbin/aurelay /etc/aurelay/aurelay.conf /etc/aurelay/audit.rules \
  /usr/share/aurelay/example_audit.rules /usr/lib/systemd/system/aurelay.service \
  /usr/lib/tmpfiles.d/aurelay.conf /usr/lib/sysusers.d/aurelay.conf \
  /usr/share/man/man8/aurelay.8; do
  check "installed: $file" test -e "$file"
done
check "/usr/sbin/aurelay is executable" test -x /usr/sbin/aurelay
conf_mode="$(stat -c '%a %U' /etc/aurelay/aurelay.conf 2>/dev/null)"
check "/etc/aurelay/aurelay.conf is 640 and owned by root (found: $conf_mode)" \
  test "$conf_mode" = "640 root"
check "the config is a conffile" \
  sh -c "dpkg-query -W -f='\${Conffiles}' aurelay | grep -q /etc/aurelay/aurelay.conf"
check "postinst created the aurelay user" sh -c "getent passwd aurelay >/dev/null"
log_dir_mode="$(stat -c '%a %U %G' /var/log/audit 2>/dev/null)"
check "the local audit log's directory /var/log/audit has auditd's modes (found: $log_dir_mode)" \
  sh -c "test '$log_dir_mode' = '750 root adm' || test '$log_dir_mode' = '2750 aurelay adm'"
check "the shipped config writes the local audit log" \
  grep -qx 'write_logs = yes' /etc/aurelay/aurelay.conf

echo "== installed binary"
out="$(/usr/sbin/aurelay --version 2>&1)"
rc=$?
check "aurelay --version exits 0 (got $rc)" test "$rc" = 0
check "aurelay --version prints 'aurelay $version' (got '$out')" test "$out" = "aurelay $version"
check "aurelay found in PATH is the installed one" \
  test "$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v aurelay)" = /usr/sbin/aurelay

out="$(aurelay --check-config 2>&1)"
rc=$?
check "aurelay --check-config exits 0 with the installed config (got $rc: $out)" test "$rc" = 0
check "aurelay --check-config names /etc/aurelay/aurelay.conf" \
  grep -q "configuration OK (/etc/aurelay/aurelay.conf)" <<<"$out"

# A broken copy of the installed config: exit status 2 and the file and line named.
work="$(mktemp -d)"
cp /etc/aurelay/aurelay.conf "$work/bad.conf"
echo "no_such_key = 1" >>"$work/bad.conf"
chmod 0600 "$work/bad.conf"
bad_line="$(wc -l <"$work/bad.conf")"
out="$(aurelay --config "$work/bad.conf" --check-config 2>&1)"
rc=$?
check "an unknown key makes --check-config exit 2 (got $rc)" test "$rc" = 2
check "the error names file and line ($out)" grep -q "$work/bad.conf:$bad_line" <<<"$out"
cp /etc/aurelay/aurelay.conf "$work/open.conf"
chmod 0646 "$work/open.conf"
out="$(aurelay --config "$work/open.conf" --check-config 2>&1)"
rc=$?
check "a world-writable config makes --check-config exit 2 (got $rc: $out)" test "$rc" = 2
rm -rf "$work"

echo "== the unit's ExecStart line as written"
unit=/usr/lib/systemd/system/aurelay.service
exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
check "the installed unit has one ExecStart line ($exec_start)" \
  test "$(grep -c '^ExecStart=' "$unit")" = 1
# As written it would start collecting: run it with --check-config appended. Word splitting as
# systemd does for a line without quotes or specifiers (checked).
if grep -q '[%"'"'"'$\\]' <<<"$exec_start"; then
  fail "ExecStart uses quoting or specifiers this check does not expand: $exec_start"
else
  read -r -a exec_argv <<<"$exec_start"
  out="$("${exec_argv[@]}" --check-config 2>&1)"
  rc=$?
  check "ExecStart --check-config exits 0 (got $rc: $out)" test "$rc" = 0
fi
if command -v systemd-analyze >/dev/null 2>&1; then
  out="$(systemd-analyze verify "$unit" 2>&1)"
  if [ -z "$out" ]; then
    pass "systemd-analyze verify of the installed unit (with its man page)"
  else
    echo "$out"
    fail "systemd-analyze verify of the installed unit"
  fi
fi

echo "== purging"
trap - EXIT
cleanup
check "the package is gone after the purge" sh -c '! dpkg-query -W aurelay >/dev/null 2>&1'
check "/etc/aurelay is gone after the purge" test ! -e /etc/aurelay
check "/usr/sbin/aurelay is gone after the purge" test ! -e /usr/sbin/aurelay
if [ "$user_existed" = no ]; then
  check "the aurelay user is gone" sh -c '! getent passwd aurelay >/dev/null'
fi

if [ "$failures" -gt 0 ]; then
  echo "ci_package_check.sh: $failures check(s) FAILED"
  exit 1
fi
echo "ci_package_check.sh: all checks PASSED"
