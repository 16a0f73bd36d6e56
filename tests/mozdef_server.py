#!/usr/bin/env python3
"""A MozDef loginput stand-in for tests, with scriptable faults (Python 3 standard library only).

Protocol (as MozDef's loginput): POST /events takes one JSON object; POST /_bulk takes a JSON
array or one JSON object per line. 200 on success, 500 on bad JSON. Every document received is
appended to --record as one compact JSON line (and counted).

Prints "port <n>" on stdout once listening (bind port 0 by default). Then reads commands on stdin,
one per line, and answers each with "ok ..." on stdout:
  mode ok | mode 500 | mode hang | mode close     how to answer POSTs from now on
  slow <ms>                                        delay every answer (0 = off)
  marker <text> | marker                          answer 400 to requests holding <text> (or off)
  refuse                                           stop listening and cut open connections
  accept                                           listen again on the same port
  count                                            "ok <documents received>"
  quit
The same faults exist as flags: --mode, --slow-ms, --reject-marker. TLS with --cert/--key.
"""
import argparse
import http.server
import json
import socket
import socketserver
import ssl
import sys
import threading
import time


class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.mode = args.mode
        self.slow_ms = args.slow_ms
        self.marker = args.reject_marker
        self.received = 0
        self.requests = 0
        self.record = open(args.record, "a", encoding="utf-8") if args.record else None
        self.connections = set()

    def store(self, documents):
        lines = "".join(json.dumps(d, separators=(",", ":")) + "\n" for d in documents)
        with self.lock:
            self.received += len(documents)
            if self.record:
                self.record.write(lines)
                self.record.flush()


STATE = None


def parse_documents(path, body):
    text = body.decode("utf-8")
    if path.startswith("/events"):
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("not an object")
        return [document]
    stripped = text.strip()
    if stripped.startswith("["):
        documents = json.loads(stripped)
        if not all(isinstance(d, dict) for d in documents):
            raise ValueError("not objects")
        return documents
    documents = [json.loads(line) for line in stripped.split("\n") if line.strip()]
    if not all(isinstance(d, dict) for d in documents):
        raise ValueError("not objects")
    return documents


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with STATE.lock:
            STATE.connections.add(self.connection)

    def finish(self):
        with STATE.lock:
            STATE.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/received":
            with STATE.lock:
                self.answer(200, str(STATE.received))
        else:
            self.answer(200, "aurelay test server")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        with STATE.lock:
            mode, slow_ms, marker = STATE.mode, STATE.slow_ms, STATE.marker
            STATE.requests += 1
        if mode == "close":
            # Close mid-request: read part of the body, then drop the connection without answering.
            self.rfile.read(min(length, 16))
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        body = self.rfile.read(length)
        if mode == "hang":
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with STATE.lock:
                    if STATE.mode != "hang":
                        break
                time.sleep(0.05)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if slow_ms > 0:
            time.sleep(slow_ms / 1000.0)
        if mode == "500":
            self.answer(500, "broker unavailable")
            return
        if self.path not in ("/events", "/events/", "/_bulk", "/_bulk/"):
            self.answer(404, "no such endpoint")
            return
        try:
            documents = parse_documents(self.path, body)
        except (ValueError, UnicodeDecodeError):
            self.answer(500, "bad json")
            return
        if marker and marker.encode() in body:
            self.answer(400, "rejected by marker")
            return
        STATE.store(documents)
        self.answer(200, "ok")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    tls = None

    def process_request_thread(self, request, client_address):
        if self.tls is not None:
            try:
                request.settimeout(10)
                request = self.tls.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (ssl.SSLError, OSError):
                try:
                    request.close()
                except OSError:
                    pass
                return
        super().process_request_thread(request, client_address)


class Listener:
    def __init__(self, port, tls):
        self.port = port
        self.tls = tls
        self.server = None
        self.thread = None

    def start(self):
        self.server = Server(("127.0.0.1", self.port), Handler)
        self.server.tls = self.tls
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.server = None
        with STATE.lock:
            connections = list(STATE.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    global STATE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", help="append every received document here (NDJSON)")
    parser.add_argument("--mode", default="ok", choices=["ok", "500", "hang", "close"])
    parser.add_argument("--slow-ms", type=int, default=0)
    parser.add_argument("--reject-marker", default="")
    parser.add_argument("--cert", help="serve TLS with this certificate (PEM)")
    parser.add_argument("--key", help="private key of --cert (PEM)")
    args = parser.parse_args()
    STATE = State(args)
    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
    listener = Listener(args.port, tls)
    listener.start()
    print(f"port {listener.port}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        command, rest = words[0], words[1:]
        reply = "ok"
        with STATE.lock:
            if command == "mode" and rest and rest[0] in ("ok", "500", "hang", "close"):
                STATE.mode = rest[0]
            elif command == "slow" and rest:
                STATE.slow_ms = int(rest[0])
            elif command == "marker":
                STATE.marker = rest[0] if rest else ""
            elif command == "count":
                reply = f"ok {STATE.received}"
            elif command in ("refuse", "accept", "quit"):
                pass
            else:
                reply = "error unknown command"
        if command == "refuse":
            listener.stop()
        elif command == "accept" and listener.server is None:
            listener.start()
        print(reply, flush=True)
        if command == "quit":
            break
    listener.stop()


if __name__ == "__main__":
    main()
