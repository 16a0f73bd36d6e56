#!/usr/bin/env python3
"""Receiving end of bench/latency_bench.sh: an HTTP server on 127.0.0.1 that answers every POST
with 200 and, for each document in the body, records (receive time - the kernel's event time).

The kernel's event time is the event id's "SECONDS.MILLIS" (details.eventid, from
msg=audit(SECONDS.MILLIS:SERIAL)); the receive time is the wall clock once the whole body is read.
Documents are counted when they hold --key (the bench rule's key) and name getppid; the latency
of those only.

Prints "port <n>" once listening. On SIGTERM prints one line:
  documents=N posts=P p50_ms=.. p99_ms=.. max_ms=.. first_event=.. last_event=..
"""
import argparse
import http.server
import re
import signal
import sys
import threading
import time

EVENT = re.compile(rb'"eventid":"(\d+)\.(\d+):\d+"')


class State:
    def __init__(self, key):
        self.key = key.encode()
        self.lock = threading.Lock()
        self.latencies = []
        self.posts = 0


def make_handler(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # The answer's headers and body are two writes: without this the body waits for the
        # client's delayed ACK (40 ms and more), which is not aurelay's latency.
        disable_nagle_algorithm = True

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            received_ms = time.time() * 1000.0
            latencies = []
            # One document per match: split the body at each event id and look for the key in
            # the document around it (documents are separated by "},{" or newlines).
            for document in re.split(rb'\n|\},\{"category"', body):
                # The rule's CONFIG_CHANGE events name the key too: only the getppid events.
                if state.key not in document or b'"summary":"Getppid by ' not in document:
                    continue
                match = EVENT.search(document)
                if match:
                    event_ms = int(match.group(1)) * 1000 + int(match.group(2))
                    latencies.append(received_ms - event_ms)
            with state.lock:
                state.latencies.extend(latencies)
                state.posts += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    return Handler


def percentile(values, p):
    if not values:
        return float("nan")
    index = min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))
    return values[index]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", default="aurelay-test-latency")
    args = parser.parse_args()
    state = State(args.key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True

    def stop(*_):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    print("port", server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except SystemExit:
        pass
    with state.lock:
        values = sorted(state.latencies)
        posts = state.posts
    print("documents=%d posts=%d p50_ms=%.0f p99_ms=%.0f max_ms=%.0f" %
          (len(values), posts, percentile(values, 50), percentile(values, 99),
           values[-1] if values else float("nan")), flush=True)


if __name__ == "__main__":
    main()
