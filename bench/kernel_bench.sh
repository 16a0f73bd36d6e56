# Sourced by the benches that drive the live kernel (live_storm.sh, latency_bench.sh): the checks
# before a run, the storm settings, and putting the kernel back as found. The caller defines
# die(), KEY (the key of its rules) and BACKLOG, and calls kernel_bench_restore from its EXIT
# trap after stopping its own processes.

status_field() { auditctl -s | awk -v f="$1" '$1 == f { print $2 }'; }

stop_pid() {  # TERM, wait up to 10 s, then KILL
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

# Root, auditctl, no audit daemon, configuration not locked; remembers the settings it changes.
kernel_bench_check() {
  [ "$(id -u)" = 0 ] || die "needs root"
  command -v auditctl >/dev/null || die "auditctl not installed"
  [ "$(status_field pid)" = 0 ] || die "the audit pid is held by $(status_field pid): stop that daemon first"
  ORIG_ENABLED="$(status_field enabled)"
  ORIG_BACKLOG="$(status_field backlog_limit)"
  ORIG_WAIT="$(status_field backlog_wait_time)"
  [ "$ORIG_ENABLED" = 2 ] && die "audit configuration is locked (enabled 2)"
  return 0
}

# Storm settings: a large backlog that never blocks the audited tasks (a slow reader shows as
# kernel lost), audit enabled.
kernel_bench_apply() {
  auditctl -b "$BACKLOG" >/dev/null || die "auditctl -b failed"
  auditctl --backlog_wait_time 0 >/dev/null || die "auditctl --backlog_wait_time failed"
  auditctl -e 1 >/dev/null || die "auditctl -e 1 failed"
}

# Deletes the rules keyed $KEY and puts the settings back; prints what the kernel now says.
kernel_bench_restore() {
  auditctl -D -k "$KEY" >/dev/null 2>&1
  auditctl -b "$ORIG_BACKLOG" >/dev/null
  auditctl --backlog_wait_time "$ORIG_WAIT" >/dev/null
  auditctl -e "$ORIG_ENABLED" >/dev/null
  echo "# restored: enabled=$(status_field enabled) pid=$(status_field pid)" \
    "backlog_limit=$(status_field backlog_limit) backlog_wait_time=$(status_field backlog_wait_time)" \
    "rules=$(auditctl -l | grep -c "$KEY")"
}
