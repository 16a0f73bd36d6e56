#!/usr/bin/env bash
# Confirmed documents/s published to a local RabbitMQ, aurelay against the ceiling the broker
# allows on this machine: the same messages from a minimal rabbitmq-c publisher with confirms
# (bench/amqp_min_publisher.cpp). Prints both rates, aurelay's CPU, the broker's CPU and the ratio.
# Targets: aurelay >= 80% of the minimal publisher and >= 15k confirmed documents/s, aurelay's
# own CPU under one core.
#
# Usage: bench/amqp_bench.sh [build-dir] [min-records] [confirm-window]
# (AURELAY_BENCH_ARGS: more aurelay options, e.g. "--spool_fsync never")
# Runs a private broker (its own node name, ports, epmd and data directory in a temp directory,
# never the system service; needs rabbitmq-server from tools/setup.sh) and stops it by pid.
#
# aurelay reads the replay on stdin, kept open until the broker has confirmed every document (a
# replay ending earlier would leave what the broker has not confirmed within the shutdown flush in
# the spool for the next start). Its rate is documents / time from start to the last confirm,
# read from the state file (SIGCONT every 100 ms); its CPU is the whole process (read, group,
# encode, publish) over that time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
min_records=${2:-600000}
window=${3:-1000}
aurelay=$build/aurelay
publisher=$build/amqp_min_publisher
for program in "$aurelay" "$publisher"; do
  [ -x "$program" ] || { echo "amqp_bench: build $(basename "$program") first" >&2; exit 1; }
done
work=$(mktemp -d /tmp/aurelay-amqp-bench-XXXXXX)
# shellcheck source=bench/private_rabbitmq.sh
source "$root/bench/private_rabbitmq.sh"
cleanup() {
  stop_private_rabbitmq
  rm -rf "$work" "/dev/shm/$(basename "$work")-spool"
}
trap cleanup EXIT
start_private_rabbitmq aurelay-bench

prepare_replay "$aurelay" "$min_records"
records=$(wc -l <"$work/replay.log")

wait_for_private_rabbitmq "$publisher"
ticks=$(getconf CLK_TCK)
cpu_seconds() { awk -v t="$ticks" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
now() { date +%s.%N; }
echo "amqp_bench: $records records -> $documents documents ($(du -m "$work/documents.ndjson" | cut -f1) MB), broker 127.0.0.1:$port (pid $beam), confirm window $window, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- aurelay, with its spool on disk (the default: on this machine the same disk as the broker's
# message store, so spool writes while the replay outruns the broker slow the broker's fsyncs)
# and in /dev/shm (as when the broker runs on another host)
run_aurelay() {  # label spool-dir
  local state=$work/state
  rm -rf "$2" "$work/input"
  mkfifo "$work/input"
  local broker_before start end confirmed
  broker_before=$(cpu_seconds "$beam")
  start=$(now)
  "$aurelay" --config "$work/empty.conf" --input stdin --output "amqp://guest:guest@127.0.0.1:$port/" \
    --amqp_exchange bench --amqp_queue bench-aurelay --amqp_routing_key bench \
    --amqp_confirm_window "$window" --spool_dir "$2" --state_file "$state" \
    --report_interval 0 --log_level warn ${AURELAY_BENCH_ARGS:-} <"$work/input" 2>"$work/aurelay.log" &
  local aurelay_pid=$!
  exec 3>"$work/input"
  cat "$work/replay.log" >&3 &
  local cat_pid=$!
  confirmed=0
  while [ "$confirmed" -lt "$documents" ]; do
    sleep 0.1
    kill -CONT "$aurelay_pid"
    sleep 0.02
    confirmed=$(awk -F' = ' '$1 == "amqp messages confirmed" {print $2}' "$state" 2>/dev/null || echo 0)
    confirmed=${confirmed:-0}
    kill -0 "$aurelay_pid" 2>/dev/null || { echo "amqp_bench: aurelay exited" >&2; cat "$work/aurelay.log" >&2; exit 1; }
  done
  end=$(now)
  local aurelay_cpu broker_after seconds
  aurelay_cpu=$(cpu_seconds "$aurelay_pid")
  broker_after=$(cpu_seconds "$beam")
  wait "$cat_pid"
  exec 3>&-
  wait "$aurelay_pid" || true
  rm -rf "$2"
  seconds=$(echo "$end - $start" | bc -l)
  "$publisher" "$port" --delete-queue bench-aurelay >/dev/null
  results+=("$1|$(echo "$documents / $seconds" | bc -l)|$seconds|$aurelay_cpu|$(echo "$broker_after - $broker_before" | bc -l)")
  grep -E '^amqp messages (published|confirmed|nacked|returned)|^amqp reconnects' "$state" | sed "s/^/  $1: /"
}
results=()
run_aurelay "aurelay, spool on disk" "$work/spool"
run_aurelay "aurelay, spool in shm" "/dev/shm/$(basename "$work")-spool"

# --- minimal publisher (the ceiling)
broker_before=$(cpu_seconds "$beam")
line=$("$publisher" "$port" "$work/documents.ndjson" bench bench-minimal bench "$window")
broker_after=$(cpu_seconds "$beam")
"$publisher" "$port" --delete-queue bench-minimal >/dev/null
minimal_seconds=$(echo "$line" | sed 's/.* seconds=\([0-9.]*\).*/\1/')
minimal_rate=$(echo "$line" | sed 's/.*docs_per_s=\([0-9.]*\).*/\1/')
minimal_cpu=$(echo "$line" | sed 's/.*cpu_seconds=\([0-9.]*\).*/\1/')
minimal_broker_cpu=$(echo "$broker_after - $broker_before" | bc -l)

printf '%-26s %12s %9s %16s %19s %7s\n' "" "confirmed/s" "seconds" "own CPU (cores)" "broker CPU (cores)" "ratio"
row() {  # label rate seconds cpu broker-cpu
  printf '%-26s %12.0f %9.2f %8.2f (%4.2f) %10.2f (%4.2f) %7.2f\n' "$1" "$2" "$3" "$4" \
    "$(echo "$4 / $3" | bc -l)" "$5" "$(echo "$5 / $3" | bc -l)" "$(echo "$2 / $minimal_rate" | bc -l)"
}
for result in "${results[@]}"; do
  IFS='|' read -r label rate seconds cpu broker_cpu <<<"$result"
  row "$label" "$rate" "$seconds" "$cpu" "$broker_cpu"
done
row "minimal publisher" "$minimal_rate" "$minimal_seconds" "$minimal_cpu" "$minimal_broker_cpu"
echo "targets: ratio >= 0.80, >= 15000 confirmed/s, aurelay's CPU < 1 core"
