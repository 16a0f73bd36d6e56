#!/usr/bin/env bash
# Live storm benchmark: how fast each collector drains the kernel audit stream, and what the kernel
# loses meanwhile. Runs, one after another:
#   aurelay      build/aurelay --input netlink --output FILE (a file output, never flushed)
#   auditd       auditd in its lightest honest setting: flush = NONE, no plugins, writing its
#                (ENRICHED, like aurelay's documents) log, like aurelay's file never flushed
#   auditd-inc   auditd as Debian ships it: flush = INCREMENTAL_ASYNC, freq = 50, no plugins
#   aurelay-log  aurelay as shipped: the same, plus the local audit log written as Debian's auditd
#                writes its own (write_logs, ENRICHED, flush = INCREMENTAL_ASYNC, freq = 50)
#   aurelay-nocontext  aurelay with process_context = no: no /proc lookups by the reader (no
#                containerid, systemdunit, processstarttime); `aurelay` has them (the default)
#   aurelay-filter  aurelay with filter_syscalls set to the storm's syscall: every event is read,
#                grouped and counted, none encoded or shipped
#   counter      build/nl_count_reader: registers, drains with recvmmsg, counts (the ceiling)
# each under two storms:
#   exec      fork+exec of /bin/true on 2 workers, rule: -S execve
#   getppid   tight getppid() loop (1 worker), rule: -S getppid
# and prints per case: records received, records/s (over the storm duration), events, kernel
# `lost` delta, CPU seconds of the collector, CPU per event (µs; per record for the counter),
# VmRSS in the storm's second half (median of 1 s samples), VmRSS after the drain, peak RSS
# (VmHWM), context switches (voluntary + involuntary, all threads).
# aurelay also gets a state file: its reader counters (reads, records per read, wake-ups) are
# printed below its line.
#
# Usage (root): bench/live_storm.sh [-d SECONDS] [-b BUILD_DIR]
#                 [-c "aurelay aurelay-log auditd auditd-inc counter"] [-s "exec getppid"]
# During the runs: audit enabled=1, backlog_limit 65536, backlog_wait_time 0; everything is
# restored on exit (also on Ctrl-C), the bench rules (key aurelay-bench) are deleted.
set -u

SRC_DIR="$(cd "$(dirname "$0")/.." && pwd)"
DURATION=10
BUILD_DIR="$SRC_DIR/build"
CASES="aurelay aurelay-log auditd auditd-inc counter"
STORMS="exec getppid"
EXEC_WORKERS=2
GETPPID_WORKERS=1
BACKLOG=65536
KEY=aurelay-bench

while getopts "d:b:c:s:h" opt; do
  case "$opt" in
    d) DURATION="$OPTARG" ;;
    b) BUILD_DIR="$OPTARG" ;;
    c) CASES="$OPTARG" ;;
    s) STORMS="$OPTARG" ;;
    *) sed -n '2,21p' "$0"; exit 2 ;;
  esac
done

die() { echo "live_storm: $*" >&2; exit 1; }
# shellcheck source=bench/kernel_bench.sh
. "$SRC_DIR/bench/kernel_bench.sh"
# shellcheck source=bench/private_config.sh
. "$SRC_DIR/bench/private_config.sh"
kernel_bench_check
[ -x "$BUILD_DIR/audit_storm" ] || die "$BUILD_DIR/audit_storm missing (ninja -C $BUILD_DIR audit_storm nl_count_reader aurelay)"

TMP="$(mktemp -d /tmp/aurelay-storm-XXXXXX)"
chmod 750 "$TMP"
COLLECTOR_PID=""

restore() {
  stop_collector
  rm -rf "$TMP"
  kernel_bench_restore
}
trap restore EXIT
trap 'exit 130' INT TERM

kernel_bench_apply

write_auditd_conf() {  # $1: flush mode
  mkdir -p "$TMP/auditd/plugins.d"
  chmod 750 "$TMP/auditd"
  cat >"$TMP/auditd/auditd.conf" <<EOF
local_events = yes
write_logs = yes
log_file = $TMP/auditd/audit.log
log_format = ENRICHED
flush = $1
freq = 50
max_log_file = 4096
num_logs = 2
max_log_file_action = IGNORE
space_left = 2
space_left_action = IGNORE
admin_space_left = 1
admin_space_left_action = IGNORE
disk_full_action = IGNORE
disk_error_action = IGNORE
name_format = NONE
priority_boost = 4
q_depth = 2000
overflow_action = IGNORE
end_of_event_timeout = 2
plugin_dir = $TMP/auditd/plugins.d
EOF
  chmod 640 "$TMP/auditd/auditd.conf"
  rm -f "$TMP/auditd/audit.log"
}

# Starts a collector; sets COLLECTOR_PID. Returns non-zero if it does not register in 5 s.
start_collector() {
  local name="$1"
  case "$name" in
    counter)
      "$BUILD_DIR/nl_count_reader" >"$TMP/counter.out" 2>"$TMP/counter.err" &
      COLLECTOR_PID=$! ;;
    auditd | auditd-inc)
      command -v auditd >/dev/null || { echo "auditd not installed" >"$TMP/why"; return 1; }
      if [ "$name" = auditd ]; then write_auditd_conf NONE; else write_auditd_conf INCREMENTAL_ASYNC; fi
      auditd -n -s nochange -c "$TMP/auditd" >"$TMP/$name.err" 2>&1 &
      COLLECTOR_PID=$! ;;
    aurelay | aurelay-log | aurelay-filter | aurelay-nocontext)
      [ -x "$BUILD_DIR/aurelay" ] || { echo "$BUILD_DIR/aurelay missing" >"$TMP/why"; return 1; }
      rm -rf "$TMP/aurelay.json" "$TMP/aurelay.state" "$TMP/aurelay-log"
      write_private_config "$TMP/aurelay.conf" "$TMP"
      local log_args=()
      if [ "$name" = aurelay-filter ]; then
        log_args=(--filter_syscalls "$STORM_SYSCALL")
      fi
      if [ "$name" = aurelay-nocontext ]; then
        log_args=(--process_context no)
      fi
      if [ "$name" = aurelay-log ]; then
        log_args=(--write_logs yes --log_file "$TMP/aurelay-log/audit.log" --log_format enriched
          --flush incremental_async --freq 50 --max_log_file 4096)
      fi
      # The script owns the kernel settings and the rules: aurelay leaves them as found.
      "$BUILD_DIR/aurelay" --config "$TMP/aurelay.conf" --input netlink --output "$TMP/aurelay.json" \
        --rules_file "" --backlog_limit -1 --enabled keep --state_file "$TMP/aurelay.state" \
        "${log_args[@]}" >"$TMP/$name.err" 2>&1 &
      COLLECTOR_PID=$! ;;
  esac
  for _ in $(seq 50); do
    [ "$(status_field pid)" = "$COLLECTOR_PID" ] && return 0
    kill -0 "$COLLECTOR_PID" 2>/dev/null || break
    sleep 0.1
  done
  { echo "did not register as the audit daemon:"; tail -3 "$TMP/$name.err" 2>/dev/null; } >"$TMP/why"
  kill -KILL "$COLLECTOR_PID" 2>/dev/null
  wait "$COLLECTOR_PID" 2>/dev/null
  COLLECTOR_PID=""
  return 1
}

cpu_seconds() {  # utime + stime of a process (all its threads)
  local ticks
  ticks=$(getconf CLK_TCK)
  sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$ticks" '{ printf "%.2f", ($12 + $13) / t }'
}
peak_rss_kb() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
context_switches() {  # voluntary + involuntary, summed over the live threads
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '$1 ~ /_ctxt_switches:$/ { n += $2 } END { print n + 0 }'
}
cpu_busy_idle() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }
kauditd_ticks() {
  local pid
  pid=$(pgrep -x kauditd | head -1)
  [ -n "$pid" ] && sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }' || echo 0
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "?"; else print v[int((NR + 1) / 2)] }'; }

stop_collector() {  # stop_pid (bench/kernel_bench.sh), then forget the pid
  stop_pid "$COLLECTOR_PID"
  COLLECTOR_PID=""
}

records_of() {
  case "$1" in
    counter) sed -n 's/.*records=\([0-9]*\).*/\1/p' "$TMP/counter.out" ;;
    auditd | auditd-inc)
      local n; n=$(grep -vc '^type=DAEMON_' "$TMP/auditd/audit.log" 2>/dev/null); echo "${n:-0}" ;;
    aurelay | aurelay-log | aurelay-filter | aurelay-nocontext)  # records as counted by aurelay in its closing log line
      local n
      n=$(sed -n 's/.*stopped: \([0-9]*\) records.*/\1/p' "$TMP/$1.err" 2>/dev/null | tail -1)
      echo "${n:-?}" ;;
  esac
}
events_of() {
  case "$1" in
    aurelay-filter)  # events completed (all filtered): from the exit summary
      local n
      n=$(sed -n 's/.*stopped: [0-9]* records, \([0-9]*\) events.*/\1/p' "$TMP/aurelay-filter.err" 2>/dev/null | tail -1)
      echo "${n:-0}" ;;
    aurelay | aurelay-log | aurelay-nocontext) if [ -f "$TMP/aurelay.json" ]; then wc -l <"$TMP/aurelay.json"; else echo 0; fi ;;
    auditd | auditd-inc)  # auditd writes no EOE: count distinct event ids
      grep -v '^type=DAEMON_' "$TMP/auditd/audit.log" 2>/dev/null | grep -o 'msg=audit([^)]*)' |
        sort -u | wc -l ;;
    *) echo - ;;
  esac
}

run_case() {
  local name="$1" storm="$2" rule workers
  case "$storm" in
    exec) rule="execve"; workers=$EXEC_WORKERS ;;
    getppid) rule="getppid"; workers=$GETPPID_WORKERS ;;
    *) echo "unknown storm $storm" >&2; return ;;
  esac
  STORM_SYSCALL="$rule"
  if ! start_collector "$name"; then
    printf "%-10s %-8s %s\n" "$name" "$storm" "n/a: $(tr '\n' ' ' <"$TMP/why")"
    return
  fi
  sleep 0.5
  local lost0 lost1 storm_out
  lost0=$(status_field lost)
  auditctl -a always,exit -F arch=b64 -S "$rule" -k "$KEY" >/dev/null
  local perf_pid=""
  if [ -n "${PERF_DIR:-}" ] && [ "$name" = aurelay ]; then  # PERF_DIR=dir: profile aurelay
    perf record -q -g -o "$PERF_DIR/perf-$name-$storm.data" -p "$COLLECTOR_PID" 2>/dev/null &
    perf_pid=$!
  fi
  local busy0 kauditd0
  busy0=$(cpu_busy_idle)
  kauditd0=$(kauditd_ticks)
  "$BUILD_DIR/audit_storm" "$storm" "$DURATION" "$workers" >"$TMP/storm.out" &
  local storm_pid=$! second=0 samples=""
  while kill -0 "$storm_pid" 2>/dev/null; do
    sleep 1
    second=$((second + 1))
    # steady state: the second half of the storm
    if [ $((second * 2)) -gt "$DURATION" ]; then samples="$samples $(rss_kb "$COLLECTOR_PID")"; fi
  done
  wait "$storm_pid"
  local busy1 kauditd1
  busy1=$(cpu_busy_idle)
  kauditd1=$(kauditd_ticks)
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid"; fi
  storm_out=$(cat "$TMP/storm.out")
  auditctl -D -k "$KEY" >/dev/null
  # drain: until the kernel backlog is empty, then give the collector a moment to write
  for _ in $(seq 300); do
    [ "$(status_field backlog)" = 0 ] && break
    sleep 0.1
  done
  sleep 2
  lost1=$(status_field lost)
  local cpu rss rss_steady rss_after switches
  cpu=$(cpu_seconds "$COLLECTOR_PID")
  rss=$(peak_rss_kb "$COLLECTOR_PID")
  rss_steady=$(echo "$samples" | tr ' ' '\n' | grep . | median)
  rss_after=$(rss_kb "$COLLECTOR_PID")
  switches=$(context_switches "$COLLECTOR_PID")
  local threads=""
  if [[ "$name" == aurelay* ]]; then  # per thread: CPU seconds/minor faults/context switches
    threads=$(for task in /proc/"$COLLECTOR_PID"/task/*; do
      printf "%s=%s/%s/%s " "$(cat "$task/comm")" "$(cpu_seconds "$COLLECTOR_PID/task/${task##*/}")" \
        "$(sed 's/^.*) //' "$task/stat" | awk '{ print $8 }')" "$(awk '$1 == "voluntary_ctxt_switches:" { v = $2 } $1 == "nonvoluntary_ctxt_switches:" { n = $2 } END { print v "+" n }' "$task/status")"
    done)
  fi
  stop_collector
  local reader_stats=""
  if [[ "$name" == aurelay* ]] && [ -f "$TMP/aurelay.state" ]; then  # written at exit
    reader_stats=$(grep -E '^(netlink reads|netlink empty reads|reader waits|correlator waits|record batches|ring max depth|process context)' \
      "$TMP/aurelay.state" | tr '\n' ';')
  fi
  local records events rate lost per_event
  records=$(records_of "$name")
  events=$(events_of "$name")
  if [[ "$records" =~ ^[0-9]+$ ]]; then
    rate=$(awk -v r="$records" -v d="$DURATION" 'BEGIN { printf "%.0f", r / d }')
  else
    rate="?"
  fi
  if [ "$lost1" -ge "$lost0" ]; then lost=$((lost1 - lost0)); else lost="$lost1(reset)"; fi
  # the counter makes no events: one storm operation is one event when nothing was lost
  local units="$events"
  if ! [[ "$units" =~ ^[0-9]+$ ]]; then
    units="?"
    [ "$lost" = 0 ] && units=$(echo "$storm_out" | sed -n 's/.*operations=\([0-9]*\).*/\1/p')
  fi
  per_event=$(awk -v c="$cpu" -v n="$units" 'BEGIN { if (n > 0) printf "%.1f", c * 1e6 / n; else print "?" }')
  printf "%-10s %-8s %9s %9s %8s %6s %6s %7s %8s %8s %8s %8s   %s\n" "$name" "$storm" "$records" \
    "$rate" "$events" "$lost" "$cpu" "$per_event" "$rss_steady" "$rss_after" "$rss" "$switches" \
    "$storm_out"
  [ -n "$threads" ] && echo "#   threads (cpu_s/minflt/voluntary+involuntary ctxsw): $threads"
  # where the machine's CPU went during the storm: all CPUs busy (of $(nproc)), kauditd
  echo "$busy0 $busy1 $kauditd0 $kauditd1 $(getconf CLK_TCK) $DURATION" | awk '{
    busy = $3 - $1; idle = $4 - $2
    printf "#   machine: %.0f%% of the CPUs busy during the storm, kauditd %.2f cpu_s\n",
      100 * busy / (busy + idle), ($6 - $5) / $7 }'
  [ -n "$reader_stats" ] && echo "#   $reader_stats"
  local log=""
  case "$name" in
    aurelay-log) log="$TMP/aurelay-log/audit.log" ;;
    auditd | auditd-inc) log="$TMP/auditd/audit.log" ;;
  esac
  if [ -n "$log" ] && [ -f "$log" ]; then  # the local log: lines and bytes (DAEMON_* left out)
    grep -v '^type=DAEMON_' "$log" | wc -lc | awk '{ printf "#   log: %d lines, %d bytes, %.1f bytes/line\n", $1, $2, ($1 ? $2 / $1 : 0) }'
  fi
}

echo "# live storm: ${DURATION}s per storm, backlog_limit $BACKLOG, backlog_wait_time 0, $(nproc) cpus, kernel $(uname -r)"
printf "%-10s %-8s %9s %9s %8s %6s %6s %7s %8s %8s %8s %8s   %s\n" collector storm records "rec/s" \
  events lost cpu_s "us/ev" rss_kb after_kb hwm_kb ctxsw "storm"
for name in $CASES; do
  for storm in $STORMS; do
    run_case "$name" "$storm"
  done
done
