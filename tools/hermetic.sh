#!/usr/bin/env bash
# Runs a command (the tests) so that what an installed package or an earlier run left in
# aurelay's default system paths can neither help nor hurt it, and proves that it wrote nothing
# there.
#
# As root, in a private mount namespace, each default path that exists is covered by an empty
# tmpfs for the command's lifetime (the host's content is untouched and the mounts vanish with
# the namespace). Afterwards it fails, naming the path, when the command wrote into one of those
# paths or created one that was missing (which it then removes: it was not there before).
# Usage: tools/hermetic.sh command [args...]
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 command [args...]" >&2; exit 2; }

paths=(/etc/aurelay /var/lib/aurelay /var/log/aurelay /run/aurelay /var/log/audit)

if [ "${AURELAY_HERMETIC_INSIDE:-}" != 1 ]; then
  missing=()
  for path in "${paths[@]}"; do [ -e "$path" ] || missing+=("$path"); done
  status=0
  if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
    AURELAY_HERMETIC_INSIDE=1 unshare --mount --propagation private "$0" "$@" || status=$?
  else
    echo "hermetic.sh: no private mount namespace here (not root?): running without covers" >&2
    "$@" || status=$?
  fi
  for path in "${missing[@]}"; do
    if [ -e "$path" ]; then
      echo "hermetic.sh: the tests created $path, a default system path; removed it" >&2
      rm -rf -- "$path"
      [ "$status" = 0 ] && status=1
    fi
  done
  exit "$status"
fi

# Inside the namespace: cover what exists with an empty tmpfs.
covered=()
for path in "${paths[@]}"; do
  if [ -d "$path" ]; then
    mount -t tmpfs -o mode=0755,size=64m aurelay-hermetic "$path"
    covered+=("$path")
    echo "hermetic.sh: $path exists on this host: covered by an empty tmpfs for the tests" >&2
  elif [ -e "$path" ]; then
    echo "hermetic.sh: $path exists and is not a directory: the tests cannot run beside it" >&2
    exit 1
  fi
done
status=0
"$@" || status=$?
for path in "${covered[@]}"; do
  written=$(find "$path" -mindepth 1 -print -quit 2>/dev/null || true)
  if [ -n "$written" ]; then
    echo "hermetic.sh: the tests wrote into $path, a default system path ($written)" >&2
    [ "$status" = 0 ] && status=1
  fi
done
exit "$status"
