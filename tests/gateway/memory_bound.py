#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""--max-pending-bytes (docs/gateway.md): the body bytes of deliveries waiting
for the store are bounded. With a 64 KiB bound and the journal's write lock
held by another process, two ~30 KB deliveries wait for the journal and the
next ones are answered 503 with Retry-After at once, counted and logged; once
the lock is released the two are kept and the refused ones' retries accepted.

usage: memory_bound.py GROUP   (GROUP: pending-bytes)
"""
import concurrent.futures
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import store_faults  # noqa: E402
from harness import Gateway, check, expect  # noqa: E402


def large_delivery(message_id, size):
    """A signed delivery whose body is about size bytes (an extra field)."""
    envelope = {
        "publish_time": harness.rfc3339(time.time()),
        "message_id": message_id,
        "data": {"event": "banking.accounts.sync.completed", "consent_id": "c0a5e5e0-0000-4000-8000-0000000000aa",
                 "client_id": "2fwTestClient00000000000001", "end_user_id": "2fwEndUser00000000000000001",
                 "institution_id": "1", "padding": "x" * size},
    }
    body = json.dumps(envelope, separators=(",", ":")).encode()
    return body, harness.sign(body)


def post(g, body, signature):
    """Returns (status, outcome, error, Retry-After, seconds taken)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=30)
    try:
        conn.request("POST", "/webhooks/fiskil", body, {"X-Fiskil-Signature": signature})
        r = conn.getresponse()
        doc = json.loads(r.read())
        return r.status, doc.get("outcome"), doc.get("error", ""), r.getheader("Retry-After"), time.monotonic() - started
    finally:
        conn.close()


def test_pending_bytes(tmp):
    g = Gateway(tmp, "--max-pending-bytes", "64KiB", "--journal-busy-timeout", "5s", "--admin-listen", "127.0.0.1:0")
    pool = concurrent.futures.ThreadPoolExecutor(6)
    try:
        deliveries = [large_delivery(f"97100000000000{i:02d}", 30000) for i in range(6)]
        holder = store_faults.hold_write_lock(g.journal, 2.0)
        answers = list(pool.map(lambda d: post(g, *d), deliveries))
        holder.wait(30)
        kept = [a for a in answers if a[0] == 200]
        refused = [a for a in answers if a[0] == 503]
        check(len(kept) == 2 and all(a[1] == "accepted" for a in kept),
              f"two ~30 KB deliveries fit 64 KiB and are kept after the lock: {[a[:2] for a in answers]}")
        check(len(refused) == 4, f"the other four are answered 503: {[a[:3] for a in answers]}")
        check(all(a[1] == "unavailable" and "--max-pending-bytes" in a[2] and a[3] == "1" for a in refused),
              f"each with the bound named and Retry-After: 1: {refused[:1]}")
        check(all(a[4] < 1.5 for a in refused), f"refused at once, not after the lock: {[round(a[4], 2) for a in refused]}")
        check(g.metric("fiskil_gateway_pending_bytes_refusals_total") == 4, "the refusals are counted")
        check(g.metric("fiskil_gateway_store_pending_bytes") == 0, "nothing is held once the store answered")
        check(g.logged("--max-pending-bytes"), "the refusal is logged")
        for i, a in enumerate(answers):
            if a[0] == 503:
                expect(g.post(*deliveries[i]), 200, "accepted", "a refused delivery's retry, the journal free")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        pool.shutdown(wait=False)
        g.kill()
    r = harness.subprocess.run([harness.GATEWAY, "--secret-file", str(harness.SECRET_FILE), "--max-pending-bytes", "lots"],
                               capture_output=True, text=True, timeout=30, cwd=tmp)
    check(r.returncode == 64 and "--max-pending-bytes" in r.stderr, f"a bad --max-pending-bytes exits 64: {r.stderr}")


GROUPS = {
    "pending-bytes": test_pending_bytes,
}

if __name__ == "__main__":
    sys.exit(harness.run_group(GROUPS, __doc__, "fiskil-gateway-memory-"))
