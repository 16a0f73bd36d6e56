#!/usr/bin/env bash
# Delivery latency through the live kernel: a steady RATE getppid() calls a second (one audit
# event each, rule restricted to the generator's pid) read by `aurelay --input netlink`, shipped
# over HTTP to bench/latency_server.py on 127.0.0.1, which takes (its receive time - the event's
# kernel timestamp, msg=audit(SECONDS.MILLIS:SERIAL)) for every document. Prints p50/p99/max of
# that, events sent, received and lost (by the kernel and on the way).
#
# Usage (root): bench/latency_bench.sh [-r RATE] [-d SECONDS] [-b BUILD_DIR] [-a AURELAY]
#                                      [-- extra aurelay options]
#   defaults: 10000 events/s for 10 s, build/aurelay.
# Takes the machine-wide kernel lock (/tmp/aurelay-kernel.lock) itself. During the run: audit
# enabled=1, backlog_limit 65536, backlog_wait_time 0, one rule keyed aurelay-test-latency;
# everything is restored on exit (also on Ctrl-C): the rule deleted, the audit pid given back
# (aurelay stopped), enabled/backlog settings put back as found.
set -u

SRC_DIR="$(cd "$(dirname "$0")/.." && pwd)"
LOCK=/tmp/aurelay-kernel.lock
if [ "${AURELAY_LATENCY_LOCKED:-}" != 1 ]; then
  export AURELAY_LATENCY_LOCKED=1
  exec flock "$LOCK" "$0" "$@"
fi

RATE=10000
DURATION=10
BUILD_DIR="$SRC_DIR/build"
AURELAY=""
BACKLOG=65536
KEY=aurelay-test-latency

while getopts "r:d:b:a:h" opt; do
  case "$opt" in
    r) RATE="$OPTARG" ;;
    d) DURATION="$OPTARG" ;;
    b) BUILD_DIR="$OPTARG" ;;
    a) AURELAY="$OPTARG" ;;
    *) sed -n '2,16p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$AURELAY" ] || AURELAY="$BUILD_DIR/aurelay"

die() { echo "latency_bench: $*" >&2; exit 1; }
# shellcheck source=bench/kernel_bench.sh
. "$SRC_DIR/bench/kernel_bench.sh"
# shellcheck source=bench/private_config.sh
. "$SRC_DIR/bench/private_config.sh"
kernel_bench_check
[ -x "$AURELAY" ] || die "$AURELAY missing"
[ -x "$BUILD_DIR/latency_gen" ] || die "$BUILD_DIR/latency_gen missing (ninja -C $BUILD_DIR latency_gen aurelay)"

TMP="$(mktemp -d /tmp/aurelay-latency-XXXXXX)"
chmod 750 "$TMP"
AURELAY_PID=""
SERVER_PID=""
GEN_PID=""

restore() {
  [ -n "$GEN_PID" ] && kill -KILL "$GEN_PID" 2>/dev/null
  auditctl -D -k "$KEY" >/dev/null 2>&1
  stop_pid "$AURELAY_PID"
  stop_pid "$SERVER_PID"
  rm -rf "$TMP"
  kernel_bench_restore
}
trap restore EXIT
trap 'exit 130' INT TERM

kernel_bench_apply

# The receiving server.
python3 "$SRC_DIR/bench/latency_server.py" --key "$KEY" >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
PORT=""
for _ in $(seq 100); do
  PORT=$(sed -n 's/^port //p' "$TMP/server.out")
  [ -n "$PORT" ] && break
  sleep 0.05
done
[ -n "$PORT" ] || die "latency server did not start: $(cat "$TMP/server.err")"

# aurelay as the audit daemon; the script owns the kernel settings and the rule.
write_private_config "$TMP/aurelay.conf" "$TMP"
"$AURELAY" --config "$TMP/aurelay.conf" --input netlink --output "http://127.0.0.1:$PORT/_bulk" \
  --rules_file "" --backlog_limit -1 --enabled keep --state_file "" \
  "$@" >"$TMP/aurelay.out" 2>"$TMP/aurelay.err" &
AURELAY_PID=$!
for _ in $(seq 50); do
  [ "$(status_field pid)" = "$AURELAY_PID" ] && break
  kill -0 "$AURELAY_PID" 2>/dev/null || break
  sleep 0.1
done
[ "$(status_field pid)" = "$AURELAY_PID" ] || die "aurelay did not register: $(tail -3 "$TMP/aurelay.err")"

# The generator waits 1 s before its first call: the rule for its pid goes in meanwhile.
"$BUILD_DIR/latency_gen" "$RATE" "$DURATION" 1000 >"$TMP/gen.out" &
GEN_PID=$!
auditctl -a always,exit -F arch=b64 -S getppid -F pid="$GEN_PID" -k "$KEY" >/dev/null ||
  die "auditctl -a failed"
LOST0=$(status_field lost)
wait "$GEN_PID"
GEN_PID=""
auditctl -D -k "$KEY" >/dev/null
for _ in $(seq 100); do  # until the kernel backlog is empty, then let the documents arrive
  [ "$(status_field backlog)" = 0 ] && break
  sleep 0.1
done
sleep 2
LOST1=$(status_field lost)
stop_pid "$AURELAY_PID"
AURELAY_PID=""
stop_pid "$SERVER_PID"
SERVER_PID=""

CALLS=$(sed -n 's/.*calls=\([0-9]*\).*/\1/p' "$TMP/gen.out")
SUMMARY=$(grep '^documents=' "$TMP/server.out")
RECEIVED=$(echo "$SUMMARY" | sed -n 's/.*documents=\([0-9]*\).*/\1/p')
KERNEL_LOST=$((LOST1 - LOST0))
echo "# latency: $RATE events/s for ${DURATION}s, $(nproc) cpus, kernel $(uname -r), $(date -u +%FT%TZ)"
echo "# aurelay: $AURELAY $*"
echo "sent=$CALLS received=${RECEIVED:-0} missing=$((CALLS - ${RECEIVED:-0})) kernel_lost=$KERNEL_LOST $SUMMARY"
