# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""A scripted application for the forwarding tests: an HTTP/1.1 keep-alive
server on a free port (Python's standard library only) that records every
request it gets, checks its Standard Webhooks signature, and answers what
the test scripted: a status (with headers), a slow answer, a reset
connection; it can also go down (connection refused) and come back, and
serve https (App(secret, tls=(certfile, keyfile))).

    app = App(secret_bytes)
    app.script = lambda request: ("status", 500, {})     # or None: 200
    ...
    app.close()   # also at exit
"""
import atexit
import base64
import hashlib
import hmac
import http.server
import socket
import ssl
import struct
import threading
import time

_apps = []


def _close_all():
    for a in list(_apps):
        a.close()


atexit.register(_close_all)


class Request:
    def __init__(self, headers, body, arrived, valid):
        self.headers = headers   # dict, lower-case names
        self.body = body         # bytes, as received
        self.arrived = arrived   # time.monotonic()
        self.valid = valid       # the Standard Webhooks signature verified
        self.answer = None       # what the app answered: a status, "slow", "reset"

    @property
    def id(self):
        return self.headers.get("webhook-id")


def standard_signature(secret, msg_id, timestamp, body):
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()


class App:
    def __init__(self, secret, tls=None):
        """tls: (certfile, keyfile) to serve https."""
        self.secret = secret
        self.tls = tls
        self.requests = []
        self.lock = threading.Lock()
        self.script = None  # request -> None (200) | ("status", code, headers) | ("slow", seconds) | ("reset",)
        self.in_flight = {}  # order key -> requests being answered
        self.overlaps = []   # order keys seen with two requests at once
        self.order_key = None  # request -> key whose requests must not overlap
        self.server = None
        self.connections = set()  # open connections, closed by down()
        self.port = 0
        self._thread = None
        self.up()
        _apps.append(self)

    def up(self):
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                with app.lock:
                    app.connections.add(self.connection)

            def finish(self):
                try:
                    super().finish()
                finally:
                    with app.lock:
                        app.connections.discard(self.connection)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                sig = headers.get("webhook-signature", "")
                expected = standard_signature(app.secret, headers.get("webhook-id", ""),
                                              headers.get("webhook-timestamp", ""), body)
                valid = any(hmac.compare_digest(s, expected) for s in sig.split(" "))
                r = Request(headers, body, time.monotonic(), valid)
                key = app.order_key(r) if app.order_key else None
                with app.lock:
                    app.requests.append(r)
                    if key is not None:
                        if app.in_flight.get(key, 0) > 0:
                            app.overlaps.append(key)
                        app.in_flight[key] = app.in_flight.get(key, 0) + 1
                    script = app.script
                settled = [False]

                def settle():
                    # Before the answer leaves: the gateway may send the
                    # consent's next request as soon as it has the answer.
                    if key is not None and not settled[0]:
                        settled[0] = True
                        with app.lock:
                            app.in_flight[key] -= 1

                try:
                    action = script(r) if script else None
                    if action is None:
                        action = ("status", 200, {})
                    if action[0] == "slow":
                        r.answer = "slow"
                        time.sleep(action[1])
                        action = ("status", 200, {})
                    if action[0] == "reset":
                        r.answer = "reset"
                        settle()
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        self.close_connection = True
                        self.connection.close()
                        return
                    _, code, extra = action
                    r.answer = code
                    payload = b'{"ok":true}' if 200 <= code < 300 else b'{"ok":false}'
                    settle()
                    try:
                        self.send_response(code)
                        for k, v in extra.items():
                            self.send_header(k, v)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        self.wfile.write(payload)
                    except OSError:
                        pass
                finally:
                    settle()

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a gateway killed mid-request resets its connections: expected here

        server = Server(("127.0.0.1", self.port), Handler)
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        self.server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def down(self):
        """Stops listening: connections are refused until up()."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        with self.lock:
            open_connections = list(self.connections)
        for c in open_connections:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.down()
        if self in _apps:
            _apps.remove(self)

    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/hooks"

    def snapshot(self):
        with self.lock:
            return list(self.requests)

    def delivered_ids(self):
        """webhook-ids answered 2xx, in the order their first 2xx came."""
        seen, order = set(), []
        for r in self.snapshot():
            if isinstance(r.answer, int) and 200 <= r.answer < 300:
                if r.id not in seen:
                    seen.add(r.id)
                    order.append(r.id)
        return order

    def wait_for(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.05)
        return predicate()
