# shellcheck shell=bash
# A private RabbitMQ node for the AMQP benchmarks (sourced by bench/amqp_bench.sh and
# bench/fleet_bench.sh): its own node name, ports, epmd and data directory under $work, never the
# system service (needs rabbitmq-server from tools/setup.sh); stopped by pid.
#
#   work=$(mktemp -d ...); source bench/private_rabbitmq.sh
#   start_private_rabbitmq NAME        # sets port (AMQP) and server_pid
#   wait_for_private_rabbitmq PUBLISHER  # waits until it answers; sets beam (its pid)
#   stop_private_rabbitmq              # from the caller's EXIT trap
#   rabbitmq_cpu_seconds               # the broker's CPU so far
#   rabbitmq_queue_messages QUEUE      # messages in QUEUE (rabbitmqctl), empty when it cannot tell
# and the input both AMQP benchmarks publish:
#   prepare_replay AURELAY RECORDS     # $work/replay.log (about RECORDS records) and the documents
#                                      # aurelay makes of it in $work/documents.ndjson; sets
#                                      # documents (their count)
# shellcheck source=bench/private_config.sh
. "$(dirname "${BASH_SOURCE[0]}")/private_config.sh"
rabbitmq_server=/usr/lib/rabbitmq/bin/rabbitmq-server
# Not /usr/sbin/rabbitmqctl: Debian's wrapper switches to the rabbitmq user and its home, whose
# Erlang cookie is not the private node's ($work/.erlang.cookie).
rabbitmq_ctl=/usr/lib/rabbitmq/bin/rabbitmqctl
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
epmd_pid=
server_pid=
beam=
port=
epmd_port=
dist_port=

start_private_rabbitmq() {
  [ -x "$rabbitmq_server" ] || { echo "$1: rabbitmq-server not installed (tools/setup.sh)" >&2; exit 1; }
  # Ports kept from an earlier start: a restart comes back where its clients look for it.
  port=${port:-$(free_port)}
  epmd_port=${epmd_port:-$(free_port)}
  dist_port=${dist_port:-$(free_port)}
  rabbitmq_node="$1-$$@localhost"
  # Classic queues version 2 (RabbitMQ 3.10's faster store for persistent messages).
  cat >"$work/rabbitmq.conf" <<CONF
loopback_users.guest = true
classic_queue.default_version = 2
CONF
  echo '[].' >"$work/enabled_plugins"
  : >"$work/rabbitmq-env.conf"
  /usr/bin/epmd -port "$epmd_port" -address 127.0.0.1 >"$work/epmd.log" 2>&1 &
  epmd_pid=$!
  env -i HOME="$work" PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    RABBITMQ_NODENAME="$rabbitmq_node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$port" RABBITMQ_DIST_PORT="$dist_port" \
    RABBITMQ_MNESIA_BASE="$work/mnesia" RABBITMQ_LOG_BASE="$work/log" \
    RABBITMQ_PID_FILE="$work/rabbit.pid" RABBITMQ_CONFIG_FILE="$work/rabbitmq.conf" \
    RABBITMQ_CONF_ENV_FILE="$work/rabbitmq-env.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$work/enabled_plugins" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    ERL_EPMD_PORT="$epmd_port" ERL_EPMD_ADDRESS=127.0.0.1 \
    "$rabbitmq_server" >"$work/server.log" 2>&1 &
  server_pid=$!
}

wait_for_private_rabbitmq() {  # the minimal publisher: it answers once the broker takes AMQP
  for _ in $(seq 120); do
    [ -s "$work/rabbit.pid" ] && "$1" "$port" --delete-queue aurelay-bench-none >/dev/null 2>&1 && break
    sleep 0.5
  done
  beam=$(cat "$work/rabbit.pid")
}

stop_private_rabbitmq() {
  if [ -s "$work/rabbit.pid" ]; then kill "$(cat "$work/rabbit.pid")" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$epmd_pid" ]; then kill "$epmd_pid" 2>/dev/null || true; wait "$epmd_pid" 2>/dev/null || true; fi
  rm -f "$work/rabbit.pid"
  server_pid=
  epmd_pid=
}

rabbitmq_cpu_seconds() {
  awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$beam/stat"
}

rabbitmq_queue_messages() {
  env -i HOME="$work" PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 ERL_EPMD_PORT="$epmd_port" \
    "$rabbitmq_ctl" -q -n "$rabbitmq_node" list_queues name messages 2>/dev/null |
    awk -v q="$1" '$1 == q {print $2}' || true
}

prepare_replay() {  # the shared corpus when present, else the project's fixtures
  local corpus=$root/../shared/corpus/real-small.log
  if [ ! -f "$corpus" ]; then
    corpus=$work/fixtures.log
    cat "$root/tests/fixtures/kernel-capture-mozdef.log" "$root/tests/fixtures/kernel-capture-enriched.log" >"$corpus"
  fi
  python3 "$root/bench/make_replay_input.py" "$corpus" "$work/replay.log" "$2" >/dev/null
  write_private_config "$work/empty.conf" "$work"
  "$1" --config "$work/empty.conf" --input "$work/replay.log" --output "$work/documents.ndjson" 2>/dev/null
  documents=$(wc -l <"$work/documents.ndjson")
}
