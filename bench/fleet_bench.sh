#!/usr/bin/env bash
# A fleet on one broker: HOSTS aurelay processes (default 20) each replay the same records into
# one private RabbitMQ node (publisher confirms, persistent messages, one durable queue as
# MozDef's eventtask) all at once, far past what the broker confirms: each spools what the broker
# has not taken yet, and nothing may be lost. Prints per host: confirmed documents/s (documents
# over the time from start to its last confirm), seconds, the spool's peak, its CPU; then the
# broker's ceiling (all documents over the time until the last confirm), aurelay's CPU per
# document, the broker's CPU, and the loss check (every host: confirmed = documents, spool empty
# at the end, no drop, no dead letter, and the queue holds every document).
#
# Usage: bench/fleet_bench.sh [build-dir] [hosts] [records-per-host] [confirm-window]
# Needs rabbitmq-server (tools/setup.sh); the broker is private (bench/private_rabbitmq.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
hosts=${2:-20}
records_per_host=${3:-60000}
window=${4:-1000}
aurelay=$build/aurelay
publisher=$build/amqp_min_publisher
for program in "$aurelay" "$publisher"; do
  [ -x "$program" ] || { echo "fleet_bench: build $(basename "$program") first" >&2; exit 1; }
done
work=$(mktemp -d /tmp/aurelay-fleet-bench-XXXXXX)
# shellcheck source=bench/private_rabbitmq.sh
source "$root/bench/private_rabbitmq.sh"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  stop_private_rabbitmq
  rm -rf "$work"
}
trap cleanup EXIT
start_private_rabbitmq aurelay-fleet

prepare_replay "$aurelay" "$records_per_host"
wait_for_private_rabbitmq "$publisher"
ticks=$(getconf CLK_TCK)
cpu_of() { awk -v t="$ticks" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
field() { awk -F' = ' -v k="$2" '$1 == k {print $2}' "$1" 2>/dev/null | head -1; }
now() { date +%s.%N; }
echo "fleet_bench: $hosts hosts x $(wc -l <"$work/replay.log") records -> $documents documents each, broker 127.0.0.1:$port (pid $beam), confirm window $window, $(nproc) cores"

broker_before=$(rabbitmq_cpu_seconds)
start=$(now)
for i in $(seq "$hosts"); do
  mkfifo "$work/input-$i"
  "$aurelay" --config "$work/empty.conf" --input stdin \
    --output "amqp://guest:guest@127.0.0.1:$port/" --amqp_exchange fleet --amqp_queue fleet \
    --amqp_routing_key fleet --amqp_confirm_window "$window" --hostname "host-$i" \
    --spool_dir "$work/spool-$i" --state_file "$work/state-$i" --report_interval 0 \
    --log_level warn <"$work/input-$i" 2>"$work/aurelay-$i.log" &
  pids+=($!)
done
# Each input stays open until its host has confirmed everything (the end of a replay would
# leave what is unconfirmed after the shutdown flush in the spool for a next start).
writers=()
for i in $(seq "$hosts"); do
  exec {fd}>"$work/input-$i"
  writers+=("$fd")
  cat "$work/replay.log" >&"$fd" &
done
declare -A done_at peak_spool cpu_at_end
pending=$hosts
while [ "$pending" -gt 0 ]; do
  sleep 0.5
  for i in $(seq "$hosts"); do
    [ -n "${done_at[$i]:-}" ] && continue
    pid=${pids[$((i - 1))]}
    kill -0 "$pid" 2>/dev/null || { echo "fleet_bench: host $i exited" >&2; cat "$work/aurelay-$i.log" >&2; exit 1; }
    kill -CONT "$pid"
  done
  sleep 0.05
  for i in $(seq "$hosts"); do
    [ -n "${done_at[$i]:-}" ] && continue
    spool=$(field "$work/state-$i" "spool bytes")
    [ "${spool:-0}" -gt "${peak_spool[$i]:-0}" ] && peak_spool[$i]=$spool
    confirmed=$(field "$work/state-$i" "amqp messages confirmed")
    if [ "${confirmed:-0}" -ge "$documents" ]; then
      done_at[$i]=$(now)
      cpu_at_end[$i]=$(cpu_of "${pids[$((i - 1))]}")
      pending=$((pending - 1))
    fi
  done
done
end=$(now)
broker_after=$(rabbitmq_cpu_seconds)
for fd in "${writers[@]}"; do exec {fd}>&-; done
failures=0
for i in $(seq "$hosts"); do
  wait "${pids[$((i - 1))]}" || { echo "host $i: exit status $?" >&2; failures=$((failures + 1)); }
done
pids=()

printf '%-8s %12s %8s %16s %8s\n' host confirmed/s seconds "peak spool MiB" cpu_s
total_cpu=0
for i in $(seq "$hosts"); do
  seconds=$(echo "${done_at[$i]} - $start" | bc -l)
  printf '%-8s %12.0f %8.1f %16.1f %8.2f\n' "host-$i" "$(echo "$documents / $seconds" | bc -l)" \
    "$seconds" "$(echo "${peak_spool[$i]:-0} / 1048576" | bc -l)" "${cpu_at_end[$i]}"
  total_cpu=$(echo "$total_cpu + ${cpu_at_end[$i]}" | bc -l)
  state=$work/state-$i
  for key in "documents dropped spool full" "documents dropped queue full" "documents dropped output" \
    "documents dead-lettered" "amqp messages nacked"; do
    value=$(field "$state" "$key")
    [ "${value:-0}" = 0 ] || { echo "host $i: $key = $value" >&2; failures=$((failures + 1)); }
  done
  [ "$(field "$state" "spool bytes")" = 0 ] || { echo "host $i: spool not empty at the end" >&2; failures=$((failures + 1)); }
  [ "$(field "$state" "amqp messages confirmed")" -ge "$documents" ] || failures=$((failures + 1))
done
seconds=$(echo "$end - $start" | bc -l)
total=$((hosts * documents))
printf 'broker ceiling: %.0f confirmed documents/s (%d documents in %.1f s); broker CPU %.2f cores\n' \
  "$(echo "$total / $seconds" | bc -l)" "$total" "$seconds" "$(echo "($broker_after - $broker_before) / $seconds" | bc -l)"
printf 'aurelay: %.1f us CPU per document (all hosts), %.2f cores together\n' \
  "$(echo "$total_cpu * 1000000 / $total" | bc -l)" "$(echo "$total_cpu / $seconds" | bc -l)"
queued=$(rabbitmq_queue_messages fleet)
if [ -z "$queued" ]; then
  echo "queue fleet: rabbitmqctl did not answer (the check rests on the publisher confirms)"
else
  echo "queue fleet holds $queued messages (expected $total)"
  [ "$queued" -ge "$total" ] || { echo "the queue holds fewer messages than were confirmed" >&2; failures=$((failures + 1)); }
fi
if [ "$failures" -eq 0 ]; then echo "nothing lost: every host confirmed all $documents documents, spools empty, no drop"; else echo "LOSS CHECK FAILED ($failures)"; exit 1; fi
