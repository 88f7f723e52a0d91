#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""A small application that receives what `fiskil-gateway --forward` sends
(docs/forward.md): it checks the Standard Webhooks signature, acts on each
event once (by webhook-id), and prints one line per request.

    python3 examples/app.py --secret-file FILE [--listen 127.0.0.1:0]

The first line of standard output is "listening on HOST:PORT". Python's
standard library only.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import sys
import threading
import time

TOLERANCE = 5 * 60  # seconds: a webhook-timestamp further off is refused (replay protection)


def load_secret(path):
    text = open(path, encoding="ascii").read().strip()
    if text.startswith("whsec_"):
        text = text[len("whsec_"):]
    return base64.b64decode(text, validate=True)


def verify(secret, headers, body):
    """Returns None when the request is authentic, else why not."""
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not msg_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        if abs(time.time() - int(timestamp)) > TOLERANCE:
            return "webhook-timestamp too far from now"
    except ValueError:
        return "webhook-timestamp is not a number"
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(secret, signed, hashlib.sha256).digest()).decode()
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return None
    return "no signature matches"


_print_lock = threading.Lock()


def say(line):
    """Prints one line, whole, from any thread."""
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--listen", default="127.0.0.1:0")
    args = parser.parse_args()
    secret = load_secret(args.secret_file)
    host, _, port = args.listen.rpartition(":")
    handled = set()  # webhook-ids acted on: a real app keeps these in its own database
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the gateway's connections are

        def log_message(self, *a):
            pass

        def answer(self, status, text):
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            why = verify(secret, headers, body)
            if why:
                say(f"refused: {why}")
                return self.answer(401, why)
            msg_id = headers["webhook-id"]
            with lock:
                first = msg_id not in handled
                handled.add(msg_id)
            if not first:
                say(f"{msg_id} again (attempt {headers.get('x-fiskil-delivery-attempt')}): already handled")
                return self.answer(200, "duplicate")
            data = json.loads(body).get("data", {})
            say(f"{msg_id} {headers.get('x-fiskil-event')} consent={data.get('consent_id', '-')} "
                f"attempt={headers.get('x-fiskil-delivery-attempt')} signature ok")
            self.answer(200, "ok")

    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    say(f"listening on {server.server_address[0]}:{server.server_address[1]}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
