#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Sends every sample delivery of tests/fixtures to a running fiskil-gateway,
as the provider would, and prints what the gateway answered to each.

    python3 examples/send_samples.py PORT FIXTURES_DIR

The samples' own publish_times are long past the gateway's --max-age, so
each one is re-stamped with the current time and signed again with the
sample secret (HMAC-SHA256, Python's hmac: independent of the library).
Among them: a retry of a delivery (same bytes again), a duplicate (same
message_id, published again), a tampered body, and one sample sent with its
original, old publish_time. Exits 1 if any answer is not the expected one.
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import pathlib
import sys
import time


def main():
    port, fixtures = int(sys.argv[1]), pathlib.Path(sys.argv[2])
    secret = base64.b64decode((fixtures / "secret.b64").read_text().strip())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    unexpected = 0

    def sign(body):
        return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()

    def send(label, body, signature, expected):
        nonlocal unexpected
        conn.request("POST", "/webhooks/fiskil", body, {"X-Fiskil-Signature": signature,
                                                          "Content-Type": "application/json"})
        response = conn.getresponse()
        answer = response.read().decode().strip()
        outcome = json.loads(answer).get("outcome")
        mark = "" if outcome == expected else f"   <-- expected {expected}"
        unexpected += outcome != expected
        print(f"  {label:<48} {response.status} {answer}{mark}")

    def now():
        return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    rows = (fixtures / "manifest.tsv").read_text().splitlines()
    header = rows[0].split("\t")
    first = None
    for line in rows[1:]:
        row = dict(zip(header, line.split("\t")))
        path = fixtures / (row["name"] + ".json")
        if row["name"] == "rotated_secret" or not path.exists():
            continue
        doc = json.loads(path.read_bytes())
        doc["publish_time"] = now()
        body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        send(row["name"], body, sign(body), "accepted")
        if first is None:
            first = (row["name"], doc, body)

    name, doc, body = first
    print()
    send(f"{name} again (a retry: same bytes)", body, sign(body), "duplicate")
    time.sleep(0.01)
    doc["publish_time"] = now()
    republished = json.dumps(doc, separators=(",", ":")).encode()
    send(f"{name} published again (same message_id)", republished, sign(republished), "duplicate")
    tampered = body.replace(b'"consent.', b'"consent.x', 1) if b'"consent.' in body else body + b" "
    send(f"{name} altered in transit", tampered, sign(body), "bad_signature")
    original = (fixtures / "consent_revoked.json").read_bytes()
    send("consent_revoked as signed in 2026-11 (old)", original, sign(original), "stale")
    conn.close()
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
