#!/usr/bin/env python3
"""A MozDef loginput stand-in for tests, with scriptable faults (Python 3 standard library only).

It answers POSTs exactly as MozDef's loginput (loginput/index.py) does, quirks included, and
records what loginput would publish to RabbitMQ: one compact JSON line per published message in
--record (and counts them). Every request can also be logged to --requests, one JSON line each:
{"method","path","content_type","body","status","published"}.

  POST /_bulk  The whole body is parsed as JSON first. If that works, the value is iterated and
               each item not containing "index" is published, then 200: an array publishes its
               elements (a dict with a top-level key "index", a bulk action line, is skipped);
               ONE OBJECT PUBLISHES ITS KEY NAMES ("category", "summary", ...) and the document
               is lost; a string publishes its characters; a number, true, false or null answers
               500. If the body is not JSON: a body of 10 bytes or less answers 200 publishing
               nothing; otherwise each line is parsed as JSON and published (same "index" test)
               and the first bad line answers 500, after the lines before it were published.
  POST /events One JSON value; loginput sets its key "endpoint" to "events" and publishes it.
               Not JSON answers 500, and so does any value but an object (an array, a string,
               a number: setting the key fails). Also /nxlog, and PUT, as in loginput.

Prints "port <n>" on stdout once listening (bind port 0 by default). Then reads commands on stdin,
one per line, and answers each with "ok ..." on stdout:
  mode ok | mode 500 | mode hang | mode close     how to answer POSTs from now on
  slow <ms>                                        delay every answer (0 = off)
  marker <text> | marker                          answer 400 to requests holding <text> (or off)
  refuse                                           stop listening and cut open connections
  accept                                           listen again on the same port
  count                                            "ok <messages published>"
  quit
The same faults exist as flags: --mode, --slow-ms, --reject-marker. TLS with --cert/--key.
The faults are not loginput's: a marked request answers 400 before anything is published.
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
        self.record = open(args.record, "a", encoding="utf-8") if args.record else None
        self.requests = open(args.requests, "a", encoding="utf-8") if args.requests else None
        self.connections = set()
        # Set by "refuse": a connection accepted just before the listener stopped, whose handler
        # starts only after the open connections were cut, is cut as it starts (else it would
        # stay open, keep-alive, and serve the whole outage).
        self.refusing = False

    def publish(self, message):
        """What loginput's ensurePublish(message, ...) hands to RabbitMQ (kombu's json)."""
        line = json.dumps(message, separators=(",", ":")) + "\n"
        with self.lock:
            self.received += 1
            if self.record:
                self.record.write(line)
                self.record.flush()

    def log_request(self, method, path, content_type, body, status, published):
        if not self.requests:
            return
        entry = {"method": method, "path": path, "content_type": content_type,
                 "body": body.decode("utf-8", errors="replace"), "status": status,
                 "published": published}
        with self.lock:
            self.requests.write(json.dumps(entry, separators=(",", ":")) + "\n")
            self.requests.flush()


STATE = None


class Publisher:
    """Counts what one request publishes."""

    def __init__(self):
        self.count = 0

    def __call__(self, message):
        STATE.publish(message)
        self.count += 1


def loginput_bulk(body, publish):
    """loginput's bulkindex(): returns the HTTP status. Python's TypeError (iterating or testing
    "index" in a number or null) is an uncaught exception there: bottle answers 500."""
    try:
        try:
            messages = json.loads(body)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
            pass
        else:
            for event in messages:
                if "index" not in event:
                    publish(event)
            return 200
        if len(body) > 10:
            for line in body.splitlines():
                try:
                    event = json.loads(line)
                except ValueError:
                    return 500
                if "index" not in event:
                    publish(event)
        return 200
    except TypeError:
        return 500


def loginput_events(body, publish):
    """loginput's eventsindex(): returns the HTTP status."""
    try:
        event = json.loads(body)
    except ValueError:
        return 500
    try:
        event["endpoint"] = "events"
    except TypeError:
        return 500
    publish(event)
    return 200


ENDPOINTS = {
    "/_bulk": (loginput_bulk, ("POST",)),
    "/_bulk/": (loginput_bulk, ("POST",)),
    "/events": (loginput_events, ("POST", "PUT")),
    "/events/": (loginput_events, ("POST", "PUT")),
    "/nxlog": (loginput_events, ("POST", "PUT")),
    "/nxlog/": (loginput_events, ("POST", "PUT")),
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with STATE.lock:
            refusing = STATE.refusing
            if not refusing:
                STATE.connections.add(self.connection)
        if refusing:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

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
        self.handle_body("POST")

    def do_PUT(self):
        self.handle_body("PUT")

    def handle_body(self, method):
        length = int(self.headers.get("Content-Length", "0"))
        with STATE.lock:
            mode, slow_ms, marker = STATE.mode, STATE.slow_ms, STATE.marker
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
        path = self.path.split("?", 1)[0]
        publish = Publisher()
        if mode == "500":
            status = 500
        elif path not in ENDPOINTS:
            status = 404
        elif method not in ENDPOINTS[path][1]:
            status = 405
        elif marker and marker.encode() in body:
            status = 400
        else:
            status = ENDPOINTS[path][0](body, publish)
        STATE.log_request(method, path, self.headers.get("Content-Type", ""), body, status,
                          publish.count)
        self.answer(status, "" if status == 200 else "error")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    tls = None

    def handle_error(self, request, client_address):
        # A connection cut by "refuse" (or dropped by the client) while a handler answers on it
        # is the fault being tested, not an error of the server.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)

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
        with STATE.lock:
            STATE.refusing = False
        self.server = Server(("127.0.0.1", self.port), Handler)
        self.server.tls = self.tls
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is None:
            return
        with STATE.lock:
            STATE.refusing = True
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
    parser.add_argument("--record", help="append every published message here (NDJSON)")
    parser.add_argument("--requests", help="append every request here (NDJSON)")
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
