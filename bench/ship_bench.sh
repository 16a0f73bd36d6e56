#!/usr/bin/env bash
# Documents/s shipped by HttpSink to a local nginx that answers `return 200;` and discards bodies,
# and the CPU seconds the shipper used. Target: >= 200k documents/s on at most one core.
# Usage: bench/ship_bench.sh [build-dir] [documents]   (runs nginx from a temp config on 127.0.0.1,
# never touching the system nginx; needs nginx-light from tools/setup.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
documents=${2:-2000000}
driver=$build/ship_driver
[ -x "$driver" ] || { echo "ship_bench: build ship_driver first (ninja -C $build ship_driver)" >&2; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "ship_bench: nginx not installed (tools/setup.sh)" >&2; exit 1; }

work=$(mktemp -d /tmp/aurelay-ship-bench-XXXXXX)
# shellcheck source=bench/private_config.sh
. "$root/bench/private_config.sh"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    client_max_body_size 64m;
    client_body_buffer_size 8m;
    location / {
      # Read and drop the body, then answer 200 like MozDef's loginput.
      client_body_in_single_buffer on;
      return 200 "ok";
    }
  }
}
CONF
"$nginx" -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
cleanup() { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done

echo "ship_bench: nginx on 127.0.0.1:$port, $documents documents"
for format in array ndjson; do
  "$driver" "http://127.0.0.1:$port/_bulk" "$documents" "$format" 4 500
done
"$driver" "http://127.0.0.1:$port/_bulk" "$documents" array 2 2000
"$driver" "http://127.0.0.1:$port/events" $((documents / 20)) single 8 1

# The whole aurelay process: read, group, encode and ship single-record events to nginx.
aurelay=$build/aurelay
if [ -x "$aurelay" ]; then
  events=$((documents / 4))
  python3 - "$work/logins.log" "$events" <<'PY'
import sys
path, count = sys.argv[1], int(sys.argv[2])
with open(path, "w") as out:
    for serial in range(1, count + 1):
        out.write(f"type=USER_LOGIN msg=audit(1700000000.{serial % 1000:03d}:{serial}): pid=1 uid=0 "
                  f"auid=0 ses=1 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? "
                  f"addr=10.0.0.1 terminal=ssh res=success'\n")
PY
  write_private_config "$work/empty.conf" "$work"
  # Unpinned, then pinned to one core (the target: 200k documents/s on at most one core).
  for pin in "" "taskset -c 0"; do
    /usr/bin/time -f '%e %U %S %M' -o "$work/time" $pin "$aurelay" --config "$work/empty.conf" \
      --input "$work/logins.log" --output "http://127.0.0.1:$port/_bulk" --log_level warn \
      --state_file ""
    read -r wall user sys rss <"$work/time"
    awk -v n="$events" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v p="${pin:-unpinned}" 'BEGIN {
      printf "aurelay end to end (%s): %d documents in %.2f s = %.0f documents/s, CPU %.2f s (%.2f cores), peak RSS %.1f MiB\n",
        p, n, w, n / w, u + s, (u + s) / w, r / 1024 }'
  done
fi
