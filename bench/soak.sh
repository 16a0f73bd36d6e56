#!/usr/bin/env bash
# Soak: aurelay collecting live for MINUTES under a paced exec storm (RATE events/s), its output
# down for OUTAGE seconds every EVERY seconds, over HTTP (tests/mozdef_server.py, which answers as
# MozDef's loginput does; an outage: it stops listening and cuts its connections) or AMQP (a
# private RabbitMQ node, bench/private_rabbitmq.sh; an outage: the node is stopped, then started
# again on its data). Prints, per window of EVERY seconds: events (documents encoded), aurelay's
# CPU per event, VmRSS, the spool's peak and how long it took to drain after the outage; then VmRSS
# at minutes 5, 15 and 30 (when the run is that long) and the growth from minute 5 to the end, and
# the loss: the kernel's lost counter over the run plus every drop aurelay counted, and the
# documents the receiver has against those aurelay encoded.
#
# Usage (root): bench/soak.sh [-t http|amqp] [-m MINUTES | -s SECONDS] [-r RATE] [-e EVERY_S]
#                             [-o OUTAGE_S] [-b BUILD_DIR] [-k KEY] [-R RETRY_MAX_MS]
# (tests/kernel/soak_test.cpp runs a short one: -s 60 -e 30 -o 10 -R 2000: a window that short
# must see the drain, and with the default retry_max_ms the first retry after the server is back
# may come up to 30 s later.)
# Defaults: http, 30 minutes, 2000 events/s, an outage of 60 s every 300 s. The audit rule (key
# KEY, default aurelay-soak) is deleted, aurelay stopped (the audit pid given back) and the kernel
# settings put back at exit, also on INT, TERM and HUP (bench/kernel_bench.sh).
set -euo pipefail
SRC_DIR="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="$SRC_DIR/build"
TRANSPORT=http
MINUTES=30
RATE=2000
EVERY=300
OUTAGE=60
SECONDS_TOTAL=
KEY=aurelay-soak
RETRY_MAX_MS=  # empty: aurelay's default
while getopts "t:m:s:r:e:o:b:k:R:" opt; do
  case "$opt" in
    t) TRANSPORT=$OPTARG ;;
    m) MINUTES=$OPTARG ;;
    s) SECONDS_TOTAL=$OPTARG ;;
    r) RATE=$OPTARG ;;
    e) EVERY=$OPTARG ;;
    o) OUTAGE=$OPTARG ;;
    b) BUILD_DIR=$OPTARG ;;
    k) KEY=$OPTARG ;;
    R) RETRY_MAX_MS=$OPTARG ;;
    *) echo "usage: $0 [-t http|amqp] [-m MINUTES | -s SECONDS] [-r RATE] [-e EVERY_S] [-o OUTAGE_S] [-b BUILD_DIR] [-k KEY] [-R RETRY_MAX_MS]" >&2; exit 2 ;;
  esac
done
BACKLOG=65536
die() { echo "soak: $*" >&2; exit 1; }
# shellcheck source=bench/kernel_bench.sh
. "$SRC_DIR/bench/kernel_bench.sh"
# shellcheck source=bench/private_config.sh
. "$SRC_DIR/bench/private_config.sh"
kernel_bench_check
for program in aurelay audit_storm amqp_min_publisher; do
  [ -x "$BUILD_DIR/$program" ] || die "$BUILD_DIR/$program missing"
done
work=$(mktemp -d /tmp/aurelay-soak-XXXXXX)
chmod 750 "$work"
# shellcheck source=bench/private_rabbitmq.sh
source "$SRC_DIR/bench/private_rabbitmq.sh"
aurelay_pid=
server_pid_http=
storm_pid=
restore() {
  set +e  # every step runs, whatever the one before returned
  [ -n "$storm_pid" ] && kill "$storm_pid" 2>/dev/null && wait "$storm_pid" 2>/dev/null
  [ -n "$aurelay_pid" ] && stop_pid "$aurelay_pid"
  if [ -n "$server_pid_http" ]; then
    echo quit >&7 2>/dev/null || true
    wait "$server_pid_http" 2>/dev/null || true
  fi
  [ "$TRANSPORT" = amqp ] && stop_private_rabbitmq
  kernel_bench_restore >/dev/null
  rm -rf "$work"
}
trap restore EXIT
trap 'exit 130' INT TERM HUP
kernel_bench_apply

# --- the receiver, with an outage switch: down() and up()
case "$TRANSPORT" in
  http)
    mkfifo "$work/server.in"
    python3 "$SRC_DIR/tests/mozdef_server.py" --record "$work/received.ndjson" \
      <"$work/server.in" >"$work/server.out" 2>"$work/server.err" &
    server_pid_http=$!
    exec 7>"$work/server.in"
    for _ in $(seq 50); do grep -q '^port ' "$work/server.out" 2>/dev/null && break; sleep 0.1; done
    output="http://127.0.0.1:$(awk '/^port / {print $2; exit}' "$work/server.out")/_bulk"
    down() { echo refuse >&7; }
    up() { echo accept >&7; }
    received() { echo count >&7; sleep 0.2; awk '/^ok [0-9]+$/ {n = $2} END {print n + 0}' "$work/server.out"; }
    ;;
  amqp)
    start_private_rabbitmq aurelay-soak
    wait_for_private_rabbitmq "$BUILD_DIR/amqp_min_publisher"
    output="amqp://guest:guest@127.0.0.1:$port/"
    down() { stop_private_rabbitmq; }
    up() {
      start_private_rabbitmq aurelay-soak  # the same ports and node: it keeps its queue
      wait_for_private_rabbitmq "$BUILD_DIR/amqp_min_publisher"
    }
    received() { rabbitmq_queue_messages soak; }
    ;;
  *) die "transport is http or amqp" ;;
esac

write_private_config "$work/aurelay.conf" "$work"
"$BUILD_DIR/aurelay" --config "$work/aurelay.conf" --input netlink --output "$output" \
  --amqp_exchange soak --amqp_queue soak --amqp_routing_key soak \
  --rules_file "" --backlog_limit -1 --enabled keep --state_file "$work/state" \
  --report_interval 0 --log_level warn \
  ${RETRY_MAX_MS:+--retry_max_ms "$RETRY_MAX_MS"} 2>"$work/aurelay.err" &
aurelay_pid=$!
for _ in $(seq 50); do [ "$(status_field pid)" = "$aurelay_pid" ] && break; sleep 0.1; done
[ "$(status_field pid)" = "$aurelay_pid" ] || die "aurelay did not register: $(tail -3 "$work/aurelay.err")"
auditctl -a always,exit -F arch=b64 -S execve -k "$KEY" >/dev/null
lost0=$(status_field lost)

state() {  # the state file as of now
  kill -CONT "$aurelay_pid"
  sleep 0.1
  awk -F' = ' -v k="$1" '$1 == k {print $2}' "$work/state" | head -1
}
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$aurelay_pid/status"; }
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$aurelay_pid/stat"; }

total=${SECONDS_TOTAL:-$((MINUTES * 60))}
"$BUILD_DIR/audit_storm" exec "$total" 4 "$RATE" >"$work/storm.out" &
storm_pid=$!
echo "soak: $TRANSPORT, $total s, $RATE exec/s, output down ${OUTAGE}s every ${EVERY}s, aurelay pid $aurelay_pid"
printf '%-7s %9s %8s %9s %9s %15s %10s\n' window events us/event rss_kb spool_max "drained_after_s" lost
start=$(date +%s)
window_start=$start
events0=0
cpu0=$(cpu_s)
declare -A rss_at
window=0
while [ $(($(date +%s) - start)) -lt "$total" ]; do
  window=$((window + 1))
  spool_max=0
  drained=-
  # the outage, at the start of the window
  down
  outage_end=$(($(date +%s) + OUTAGE))
  while [ "$(date +%s)" -lt "$outage_end" ]; do
    sleep 1
    s=$(state "spool bytes"); [ "${s:-0}" -gt "$spool_max" ] && spool_max=$s
  done
  up
  up_at=$(date +%s)
  window_end=$((window_start + EVERY))
  [ "$window_end" -gt $((start + total)) ] && window_end=$((start + total))
  while [ "$(date +%s)" -lt "$window_end" ]; do
    sleep 1
    s=$(state "spool bytes")
    [ "${s:-0}" -gt "$spool_max" ] && spool_max=$s
    if [ "$drained" = - ] && [ "${s:-1}" = 0 ]; then drained=$(($(date +%s) - up_at)); fi
    minute=$((($(date +%s) - start) / 60))
    for m in 5 15 30; do
      [ "$minute" -ge "$m" ] && [ -z "${rss_at[$m]:-}" ] && rss_at[$m]=$(rss_kb)
    done
  done
  events=$(state "documents encoded")
  cpu=$(cpu_s)
  lost=$(($(status_field lost) - lost0))
  printf '%-7s %9s %8.1f %9s %9s %15s %10s\n' "$window" "$((events - events0))" \
    "$(echo "($cpu - $cpu0) * 1000000 / ($events - $events0 + 1)" | bc -l)" "$(rss_kb)" \
    "$spool_max" "$drained" "$lost"
  events0=$events
  cpu0=$cpu
  window_start=$window_end
done
wait "$storm_pid" || true
storm_pid=
sleep 5  # the last events through
for _ in $(seq 120); do [ "$(state "spool bytes")" = 0 ] && [ "$(state "output queued documents")" = 0 ] && break; sleep 1; done
encoded=$(state "documents encoded")
delivered=$(state "documents delivered")
drops=0
for key in "documents dropped spool full" "documents dropped queue full" "documents dropped output" \
  "documents dead-lettered" "ring full records dropped" "record parse errors"; do
  value=$(state "$key")
  [ "${value:-0}" = 0 ] || echo "  $key = $value"
  drops=$((drops + ${value:-0}))
done
kernel_lost=$(($(status_field lost) - lost0))
echo "storm: $(cat "$work/storm.out")"
for m in 5 15 30; do [ -n "${rss_at[$m]:-}" ] && echo "VmRSS at minute $m: ${rss_at[$m]} kB"; done
first=${rss_at[5]:-}
[ -n "$first" ] && echo "VmRSS growth from minute 5 to the end: $(echo "($(rss_kb) - $first) * 100 / $first" | bc -l | xargs printf '%.1f')%"
echo "documents encoded $encoded, delivered $delivered, receiver has $(received)"
echo "lost: kernel $kernel_lost + counted drops $drops = $((kernel_lost + drops))"
