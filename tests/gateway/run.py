#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""The gateway suite: runs the built fiskil-gateway and talks HTTP to it.

    FISKIL_GATEWAY=build/gateway/fiskil-gateway python3 tests/gateway/run.py GROUP

GROUP is one of: outcomes, http, slow, crash, term, fault, sighup, consumer, tls, forwarded,
early, head, timers, limits, refusals, admin, process.
meson runs each group as one test of the suite `gateway`.
"""
import concurrent.futures
import http.client
import os
import pathlib
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import Gateway, check, delivery, expect, journal_rows  # noqa: E402





# --- outcomes ---------------------------------------------------------------

def test_outcomes(tmp):
    g = Gateway(tmp, "--max-body-size", "16KiB")
    try:
        # Every signed sample, re-stamped: accepted, kept in the journal.
        names = []
        for name, event, body, sig in harness.fixture_deliveries():
            expect(g.post(body, sig), 200, "accepted", f"sample {name}")
            names.append(name)
        check(len(names) >= 20, f"only {len(names)} samples found")

        body, sig = delivery("9000000000000001")
        expect(g.post(body, sig), 200, "accepted", "first delivery")
        expect(g.post(body, sig), 200, "duplicate", "the same delivery again")

        # Consent ordering: a newer update, then an older one is superseded.
        now = time.time()
        consent = "c0a5e5e0-0000-4000-8000-00000000aaaa"
        b1, s1 = delivery("9000000000000010", "consent.updated", consent, publish=now - 10)
        b2, s2 = delivery("9000000000000011", "consent.updated", consent, publish=now - 20)
        expect(g.post(b1, s1), 200, "accepted", "consent.updated")
        expect(g.post(b2, s2), 200, "superseded", "an older consent.updated")
        b3, s3 = delivery("9000000000000012", "consent.revoked", consent, publish=now - 5)
        b4, s4 = delivery("9000000000000013", "consent.updated", consent, publish=now - 1)
        expect(g.post(b3, s3), 200, "accepted", "consent.revoked")
        expect(g.post(b4, s4), 200, "after_revocation", "an update after the revocation")

        b, s = delivery("9000000000000020", publish=time.time() - 3 * 3600)
        expect(g.post(b, s), 422, "stale", "a delivery published 3 hours ago", "publish_time")
        b, s = delivery("9000000000000021", publish=time.time() + 3600)
        expect(g.post(b, s), 422, "too_early", "a delivery published an hour ahead")
        b, s = delivery("9000000000000022")
        wrong = ("B" if s[0] == "A" else "A") + s[1:]
        expect(g.post(b, wrong), 401, "bad_signature", "a wrong signature")
        expect(g.post(b.replace(b"accounts", b"balances"), s), 401, "bad_signature", "a tampered body")
        expect(g.post(b, ""), 401, "bad_signature", "no signature")
        junk = b'{"not":"an envelope"}'
        expect(g.post(junk, harness.sign(junk)), 400, "bad_envelope", "an authentic non-envelope")
        big = b'{"publish_time":"x","pad":"' + b"a" * 20000 + b'"}'
        expect(g.post(big, harness.sign(big)), 413, "too_large", "a body over --max-body-size")

        # A body signed with the second (older) secret: accepted, counted under key 1.
        b, s = delivery("9000000000000030", secret=harness.SECRET_ROTATED)
        expect(g.post(b, s), 200, "accepted", "signed with the rotated-out secret")
        check(g.metric('fiskil_gateway_deliveries_total{key="1"}') == 1, "metrics count key 1 once")
        check(g.metric('fiskil_gateway_deliveries_total{outcome="accepted",key="1"}') == 1,
              "key 1's delivery counted as accepted")
        check(g.metric('fiskil_gateway_deliveries_total{outcome="bad_signature",event="none",key="none"}') == 3,
              "a refused delivery has no event and no key")
        check(g.metric('fiskil_gateway_deliveries_total{outcome="accepted"}') == len(names) + 4,
              "metrics count the accepted deliveries")
        check(g.metric('fiskil_gateway_deliveries_total{event="consent.revoked"}') >= 2,
              "metrics count by event type")
        _, text = g.get("/metrics")
        for name in ["fiskil_gateway_request_duration_seconds_bucket", "fiskil_gateway_journal_commit_duration_seconds_count",
                     "fiskil_gateway_open_connections", "fiskil_gateway_message_store_evictions_total",
                     "fiskil_gateway_consent_tracker_evictions_total"]:
            check(name in text, f"/metrics has {name}")

        # Routes.
        check(g.get("/healthz")[0] == 200, "/healthz 200")
        check(g.get("/readyz")[0] == 200, "/readyz 200")
        check(g.get("/nowhere")[0] == 404, "unknown path 404")
        check(g.get("/webhooks/fiskil")[0] == 405, "GET on the delivery path 405")
        conn = g.connect()
        conn.request("DELETE", "/healthz")
        r = conn.getresponse()
        r.read()
        check(r.status == 405 and "GET" in (r.getheader("Allow") or ""), "DELETE /healthz 405 with Allow")
        conn.close()

        # Keep-alive: several deliveries on one connection.
        conn = g.connect()
        for i in range(5):
            b, s = delivery(f"90000000000001{i:02d}")
            expect(g.post(b, s, conn=conn), 200, "accepted", f"keep-alive request {i}")
        conn.close()
        check(g.stop() == 0, "SIGTERM exits 0")

        rows = journal_rows(g.journal, "SELECT message_id, event, consent_id, key_index FROM deliveries")
        ids = [r[0] for r in rows]
        check(len(ids) == len(set(ids)), "no message_id twice in the journal")
        check("9000000000000001" in ids and "9000000000000011" not in ids and "9000000000000013" not in ids,
              "the journal keeps accepted deliveries only")
        check(len(rows) == len(names) + 4 + 5, f"journal rows: {len(rows)}")
        consents = dict(journal_rows(g.journal, "SELECT consent_id, change FROM consents"))
        check(consents.get(consent) == 3, "the consents table has the revocation")

        # Restart on the same journal: ids and revocations are remembered.
        g = Gateway(tmp)
        b, s = delivery("9000000000000001")
        expect(g.post(b, s), 200, "duplicate", "after a restart, a delivery kept before")
        expect(g.post(b4, s4), 200, "after_revocation", "after a restart, an update after the revocation")
        b5, s5 = delivery("9000000000000014", "consent.updated", consent, publish=time.time())
        expect(g.post(b5, s5), 200, "after_revocation", "after a restart, a new update of a revoked consent")
        check(g.stop() == 0, "SIGTERM exits 0 (second run)")
    finally:
        g.kill()

    # Source allowlist and the trusted proxy.
    g = Gateway(tmp, "--allow", "10.0.0.0/8", "--trusted-proxy", "127.0.0.1/32", journal="allow.sqlite")
    try:
        b, s = delivery("9000000000000040")
        expect(g.post(b, s), 403, "forbidden_source", "a source outside --allow")
        expect(g.post(b, s, headers={"X-Forwarded-For": "192.0.2.1, 10.1.2.3"}), 200, "accepted",
               "the last X-Forwarded-For hop, from a trusted proxy")
        b, s = delivery("9000000000000041")
        expect(g.post(b, s, headers={"X-Forwarded-For": "10.1.2.3, 192.0.2.1"}), 403, "forbidden_source",
               "only the hop the proxy added counts")
    finally:
        g.kill()

    g = Gateway(tmp, "--allow", "10.0.0.0/8", journal="noproxy.sqlite")
    try:
        b, s = delivery("9000000000000042")
        expect(g.post(b, s, headers={"X-Forwarded-For": "10.1.2.3"}), 403, "forbidden_source",
               "X-Forwarded-For ignored without --trusted-proxy")
    finally:
        g.kill()


# --- HTTP limits ------------------------------------------------------------

def status_of(raw):
    line = raw.split(b"\r\n", 1)[0]
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def test_flags(tmp):
    run = lambda *a: subprocess.run([harness.GATEWAY, *a], capture_output=True, text=True, timeout=30, cwd=tmp)
    r = run("--help")
    check(r.returncode == 0 and "--listen HOST:PORT" in r.stdout and "--max-body-size" in r.stdout, "--help")
    r = run("--secret-file", str(harness.SECRET_FILE), "--bogus", "1")
    check(r.returncode == 64 and "--bogus" in r.stderr, f"an unknown flag exits 64: {r.returncode} {r.stderr}")
    r = run("--secret-file", str(harness.SECRET_FILE), "--read-timeout", "soon")
    check(r.returncode == 64 and "--read-timeout" in r.stderr, f"a bad duration exits 64: {r.stderr}")
    r = run("--listen", "127.0.0.1:0")
    check(r.returncode == 64 and "--secret-file" in r.stderr, "no secret file exits 64")
    r = run("--listen", "127.0.0.1:0", "--secret-file", str(pathlib.Path(tmp) / "missing.b64"))
    check(r.returncode == 1 and "missing.b64" in r.stderr, f"a missing secret file exits 1: {r.stderr}")
    bad = pathlib.Path(tmp) / "bad.b64"
    harness.write_private(bad, "c2hvcnQ*not-base64\n")
    r = run("--listen", "127.0.0.1:0", "--secret-file", str(bad))
    check(r.returncode == 1 and "bad.b64" in r.stderr and "c2hvcnQ" not in r.stderr,
          f"an unusable secret exits 1 without printing it: {r.stderr}")
    r = run("--listen", "127.0.0.1:0", "--secret-file", str(harness.SECRET_FILE), "--allow", "10.0.0.0/33")
    check(r.returncode == 1 and "allowlist" in r.stderr, f"a bad allowlist exits 1: {r.stderr}")
    r = run("--listen", "127.0.0.1:0", "--secret-file", str(harness.SECRET_FILE),
            "--tls-cert", "c.pem", "--tls-key", "k.pem")
    check(r.returncode == 1 and "c.pem" in r.stderr, f"a missing --tls-cert file exits 1: {r.stderr}")


def test_http(tmp):
    test_flags(tmp)
    g = Gateway(tmp, "--max-body-size", "64KiB", "--max-connections", "8")
    try:
        # A Content-Length over the limit: 413 at once, the body never sent.
        s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        started = time.time()
        s.sendall(b"POST /webhooks/fiskil HTTP/1.1\r\nHost: x\r\nContent-Length: 2147483648\r\n"
                  b"X-Fiskil-Signature: x\r\n\r\n")
        raw = harness.read_all(s)
        s.close()
        check(status_of(raw) == 413 and b'"too_large"' in raw, f"2 GiB Content-Length: 413, got {raw[:80]!r}")
        check(time.time() - started < 3, "the 413 came before any body byte was sent, at once")

        # A chunked body that grows past the limit.
        s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        s.sendall(b"POST /webhooks/fiskil HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  b"X-Fiskil-Signature: x\r\n\r\n")
        chunk = b"a" * 8192
        try:
            for _ in range(16):
                s.sendall(b"2000\r\n" + chunk + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = harness.read_all(s)
        s.close()
        check(status_of(raw) == 413, f"a chunked body growing past the limit: 413, got {raw[:80]!r}")

        raw = g.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n")
        check(status_of(raw) == 431, f"headers over 8 KiB: 431, got {raw[:80]!r}")
        raw = g.raw(b"GARBAGE\r\n\r\n")
        check(status_of(raw) == 400, f"a malformed request line: 400, got {raw[:80]!r}")
        raw = g.raw(b"POST /webhooks/fiskil HTTP/1.0\r\nX-Fiskil-Signature: x\r\n\r\n{}")
        check(status_of(raw) == 411, f"HTTP/1.0 POST without a length: 411, got {raw[:80]!r}")
        raw = g.raw(b"GET /healthz HTTP/1.0\r\n\r\n")
        check(status_of(raw) == 200, "HTTP/1.0 GET answered and closed")

        # More connections than --max-connections: the extra one gets 503.
        time.sleep(0.5)
        open_before = g.metric("fiskil_gateway_open_connections")
        check(open_before == 1, f"only the metrics request's connection is open ({open_before})")
        time.sleep(0.2)
        held = [socket.create_connection(("127.0.0.1", g.port), timeout=5) for _ in range(8)]
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", g.port), timeout=5)
        raw = harness.read_all(extra)
        extra.close()
        check(status_of(raw) == 503 and b"too many open connections" in raw, f"connection 9 of 8: 503, got {raw[:80]!r}")
        held.pop().close()
        time.sleep(0.3)
        check(g.metric("fiskil_gateway_open_connections") == 8, "8 connections open (7 held and this one)")
        for h in held:
            h.close()
        time.sleep(0.3)
        b, sig = delivery("9100000000000001")
        expect(g.post(b, sig), 200, "accepted", "a delivery once connections were freed")
        check(g.get("/healthz")[0] == 200, "the gateway is fine after the bad requests")
        check(g.metric("fiskil_gateway_refused_connections_total") == 1, "one refused connection counted")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


def test_slow(tmp):
    g = Gateway(tmp, "--read-timeout", "2s")
    try:
        results = {}

        def slow_client(kind):
            s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
            started = time.time()
            request = (b"POST /webhooks/fiskil HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\nX-Fiskil-Signature: x\r\n\r\n")
            data = request if kind == "body" else request[:-4]
            closed_after = None
            try:
                if kind == "body":
                    s.sendall(data)
                    data = b"{" * 50
                for byte in data:
                    s.sendall(bytes([byte]))
                    time.sleep(0.5)
                    if time.time() - started > 8:
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass
            raw = harness.read_all(s)
            closed_after = time.time() - started
            s.close()
            results[kind] = (closed_after, raw)

        threads = [threading.Thread(target=slow_client, args=(k,)) for k in ("headers", "body")]
        for t in threads:
            t.start()
        served = 0
        deadline = time.time() + 2.5
        i = 0
        while time.time() < deadline:
            b, s = delivery(f"92000000000{i:05d}")
            expect(g.post(b, s), 200, "accepted", "a delivery while slow clients trickle")
            served += 1
            i += 1
        for t in threads:
            t.join(20)
        check(served >= 5, f"deliveries served while slow clients wait ({served})")
        for kind in ("headers", "body"):
            closed_after, raw = results.get(kind, (99, b""))
            check(closed_after < 6, f"a slow client ({kind} one byte every 0.5 s) closed after ~2 s: {closed_after:.1f} s")
            check(status_of(raw) is None, f"no answer to a timed-out request ({raw[:40]!r})")
        check(g.metric("fiskil_gateway_read_timeouts_total") == 2, "two read timeouts counted")
    finally:
        g.kill()


# --- kill -9 under load -----------------------------------------------------

def message_id(prepared):
    return prepared[0].split(b'"message_id":"')[1].split(b'"')[0].decode()


def test_crash(tmp):
    total = int(os.environ.get("FISKIL_GATEWAY_CRASH_DELIVERIES", "3000"))
    prepared = [delivery(f"93{i:014d}") for i in range(total)]
    answers = {}  # message index -> (status, outcome) or None when lost
    g = Gateway(tmp)
    killed = threading.Event()
    lock = threading.Lock()

    def sender(indices):
        conn = None
        for i in indices:
            if conn is None:
                conn = g.connect(timeout=10)
            b, s = prepared[i]
            try:
                status, body = g.post(b, s, conn=conn)
                with lock:
                    answers[i] = (status, body.get("outcome"))
            except Exception:
                with lock:
                    answers[i] = None
                conn.close()
                conn = None
                if killed.is_set():
                    time.sleep(0.01)
        if conn is not None:
            conn.close()

    try:
        workers = 16
        threads = [threading.Thread(target=sender, args=(range(w, total, workers),)) for w in range(workers)]
        for t in threads:
            t.start()
        while True:
            with lock:
                ok = sum(1 for a in answers.values() if a and a[0] == 200)
            if ok >= total // 3:
                break
            time.sleep(0.005)
        g.kill()  # SIGKILL the whole process group
        killed.set()
        for t in threads:
            t.join(60)
        accepted = {i for i, a in answers.items() if a == (200, "accepted")}
        others = {i: a for i, a in answers.items() if a is not None and a[0] != 200}
        lost = [i for i in range(total) if answers.get(i) is None]
        check(not others, f"no non-200 answer before the kill: {list(others.items())[:3]}")
        check(len(accepted) >= total // 3, f"{len(accepted)} accepted before the kill")
        check(len(lost) > 0, "some deliveries lost their answer")

        rows = [r[0] for r in journal_rows(g.journal)]
        check(len(rows) == len(set(rows)), "no message_id twice in the journal after the kill")
        in_journal = set(rows)
        missing = [i for i in accepted if message_id(prepared[i]) not in in_journal]
        check(not missing, f"every 200 is in the journal ({len(missing)} missing)")

        # Restart on the same journal; the sender retries what it did not
        # hear back. A lost answer whose delivery the journal kept must be a
        # duplicate; one it did not keep is accepted now.
        g = Gateway(tmp)
        retried = {"accepted": 0, "duplicate": 0}
        conn = g.connect()
        for i in lost:
            status, body = g.post(*prepared[i], conn=conn)
            kept = message_id(prepared[i]) in in_journal
            want = "duplicate" if kept else "accepted"
            check((status, body.get("outcome")) == (200, want),
                  f"retry of a lost answer (kept before the kill: {kept}): {status} {body}")
            retried[body.get("outcome", "?")] = retried.get(body.get("outcome", "?"), 0) + 1
        for i in list(accepted)[:200]:
            status, body = g.post(*prepared[i], conn=conn)
            check((status, body.get("outcome")) == (200, "duplicate"), f"a retry of a 200: duplicate, got {status} {body}")
        conn.close()
        print(f"crash: {len(accepted)} accepted before SIGKILL, {len(lost)} answers lost; "
              f"their retries: {retried}", flush=True)
        check(g.stop() == 0, "SIGTERM exits 0")
        rows = [r[0] for r in journal_rows(g.journal)]
        check(len(rows) == len(set(rows)), "no message_id twice in the journal at the end")
        expected = {message_id(prepared[i]) for i in list(accepted) + lost}
        check(expected <= set(rows), "every delivery acknowledged at the end is in the journal")
    finally:
        g.kill()


def test_term(tmp):
    """SIGTERM under load: the gateway stops accepting, answers what is in
    flight, commits, exits 0; every 200 is in the journal."""
    prepared = [delivery(f"93500000{i:08d}") for i in range(3000)]
    answers = {}
    lock = threading.Lock()
    g = Gateway(tmp)

    def sender(indices):
        conn = None
        for i in indices:
            try:
                conn = conn or g.connect(timeout=10)
                status, body = g.post(*prepared[i], conn=conn)
                with lock:
                    answers[i] = (status, body.get("outcome"))
            except Exception:
                if conn is not None:
                    conn.close()
                conn = None
                with lock:
                    answers[i] = None
        if conn is not None:
            conn.close()

    try:
        threads = [threading.Thread(target=sender, args=(range(w, len(prepared), 8),)) for w in range(8)]
        for t in threads:
            t.start()
        while True:
            with lock:
                if sum(1 for a in answers.values() if a) >= 500:
                    break
            time.sleep(0.005)
        g.signal(signal.SIGTERM)
        stopping = time.time()
        try:
            status = g.proc.wait(60)
        except subprocess.TimeoutExpired:
            status = None
            print("gateway still running 60 s after SIGTERM; its stderr ends with:\n" + g.stderr()[-3000:], flush=True)
        took = time.time() - stopping
        print(f"term: exited {status} {took:.1f} s after SIGTERM", flush=True)
        check(took < 10, "the requests in flight were answered at once: " +
              "".join(l for l in g.stderr_lines if "stop" in l))
        for t in threads:
            t.join(60)
        check(status == 0, f"SIGTERM under load exits 0 (got {status})")
        ok = [i for i, a in answers.items() if a == (200, "accepted")]
        bad = [a for a in answers.values() if a is not None and a[0] != 200]
        check(not bad, f"no error answer while stopping: {bad[:3]}")
        rows = {r[0] for r in journal_rows(g.journal)}
        missing = [i for i in ok if message_id(prepared[i]) not in rows]
        check(not missing, f"every 200 is in the journal after SIGTERM ({len(missing)} of {len(ok)} missing)")
        check(g.logged("stopped"), "the stop is logged")
    finally:
        g.kill()


# --- journal unwritable ------------------------------------------------------

def test_fault(tmp):
    """Makes the journal unwritable under the running gateway with a real
    fault: its file size limit (RLIMIT_FSIZE, set from outside with
    prlimit(2)) drops to 1 byte, so every write past the first byte of the
    database and its WAL fails with EFBIG, as on a full disk. Works as root,
    for which chmod would not."""
    g = Gateway(tmp)
    try:
        b, s = delivery("9400000000000001")
        expect(g.post(b, s), 200, "accepted", "before the fault")
        soft, hard = resource.prlimit(g.proc.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(g.proc.pid, resource.RLIMIT_FSIZE, (1, hard))
        faulted = [delivery(f"94000000000001{i:02d}") for i in range(5)]
        for b, s in faulted:
            expect(g.post(b, s), 503, "unavailable", "while the journal cannot be written")
        check(g.get("/readyz")[0] == 503, "/readyz 503 while the journal cannot be written")
        check(g.get("/healthz")[0] == 200, "/healthz still 200")
        check(g.logged("journal_write_failed"), "the failure is logged: " + g.stderr()[-1500:])
        b, s = delivery("9400000000000001")
        expect(g.post(b, s), 200, "duplicate", "a delivery kept before the fault is still a duplicate")

        resource.prlimit(g.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
        deadline = time.time() + 10
        while time.time() < deadline and g.get("/readyz")[0] != 200:
            time.sleep(0.1)
        check(g.get("/readyz")[0] == 200, "/readyz 200 again once the journal is writable")
        for b, s in faulted:
            expect(g.post(b, s), 200, "accepted", "the provider's retry after recovery: accepted afresh")
        check(g.stop() == 0, "SIGTERM exits 0")
        rows = [r[0] for r in journal_rows(g.journal)]
        check(sorted(rows) == sorted(["9400000000000001"] + [f"94000000000001{i:02d}" for i in range(5)]),
              f"the journal has each delivery once: {rows}")
    finally:
        g.kill()


# --- SIGHUP rotation ---------------------------------------------------------

def test_sighup(tmp):
    tmp = pathlib.Path(tmp)
    current, previous = tmp / "current.b64", tmp / "previous.b64"
    harness.write_private(current, harness.SECRET + "\n")
    harness.write_private(previous, harness.SECRET + "\n")
    g = Gateway(tmp, secrets=[current, previous])
    try:
        before, sb = delivery("9500000000000001")
        expect(g.post(before, sb), 200, "accepted", "before the rotation")
        stop = threading.Event()
        failed = []
        sent = [0]

        def flow():
            i = 0
            conn = g.connect()
            while not stop.is_set():
                b, s = delivery(f"95100000{i:08d}")
                status, body = g.post(b, s, conn=conn)
                if status != 200:
                    failed.append((status, body))
                i += 1
                sent[0] = i
            conn.close()

        t = threading.Thread(target=flow)
        t.start()
        time.sleep(0.5)
        current.write_text(harness.SECRET_ROTATED + "\n")
        g.signal(signal.SIGHUP)
        time.sleep(1.0)
        # A bad new file keeps the configuration in service.
        current.write_text("not base64 at all!\n")
        g.signal(signal.SIGHUP)
        time.sleep(0.5)
        stop.set()
        t.join(30)
        check(not failed, f"no delivery failed during the rotation: {failed[:3]}")
        check(sent[0] > 20, f"deliveries flowed during the rotation ({sent[0]})")
        check(g.logged("configuration_reloaded"), "the reload is logged")
        check(g.logged("configuration_reload_failed"), "a bad secret file is logged")
        check(harness.SECRET not in g.stderr() and harness.SECRET_ROTATED not in g.stderr(), "no secret in the logs")
        b, s = delivery("9500000000000002", secret=harness.SECRET_ROTATED)
        expect(g.post(b, s), 200, "accepted", "signed with the new secret after SIGHUP")
        b, s = delivery("9500000000000003")
        expect(g.post(b, s), 200, "accepted", "signed with the previous secret, still configured")
        expect(g.post(before, sb), 200, "duplicate", "deduplication survives the rotation")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


# --- the journal consumer -----------------------------------------------------

def test_consumer(tmp):
    consumer = os.environ.get("FISKIL_JOURNAL_CONSUMER", "")
    if not consumer:
        print("SKIP: FISKIL_JOURNAL_CONSUMER not set (built with -Dexamples=true)")
        return
    g = Gateway(tmp)
    ids = [f"96{i:014d}" for i in range(400)]
    try:
        conn = g.connect()
        for i in ids:
            expect(g.post(*delivery(i), conn=conn), 200, "accepted", "a delivery for the consumer")
        conn.close()
        # The consumer is killed mid-stream (SIGKILL) again and again, then
        # runs to the end; each event must come out exactly once.
        seen = []
        env = dict(os.environ, FISKIL_CONSUMER_DELAY_US="2000")
        for _ in range(4):
            p = subprocess.Popen([consumer, str(g.journal)], stdout=subprocess.PIPE, env=env, start_new_session=True)
            time.sleep(0.25)
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            seen += out.decode().splitlines()
        out = subprocess.run([consumer, str(g.journal)], capture_output=True, check=True, timeout=60).stdout
        seen += out.decode().splitlines()
        effects = [r[0] for r in journal_rows(g.journal, "SELECT message_id FROM consumer_effects ORDER BY seq")]
        check(sorted(effects) == sorted(ids), f"each event's effect exactly once: {len(effects)} effects for "
                                              f"{len(ids)} ids, {len(set(effects))} distinct")
        got = [line.split()[1] for line in seen if line.strip()]
        check(len(got) == len(set(got)) and set(got) <= set(ids),
              f"no event printed twice ({len(got)} lines, {len(set(got))} distinct)")
        check(len(got) >= len(ids) - 4, "at most one line lost per kill (printed after the commit)")
        check(all(line.split()[2] == "banking.accounts.sync.completed" for line in seen if line.strip()),
              "the consumer names each event")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


# Pruning, retention and consumers: tests/gateway/store_faults.py, group retention.


# --- HTTPS ----------------------------------------------------------------------

def test_tls(tmp):
    import http.client
    import ssl
    tmp = pathlib.Path(tmp)
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    r = subprocess.run([harness.GATEWAY, "--listen", "127.0.0.1:0", "--secret-file", str(harness.SECRET_FILE),
                        "--tls-cert", str(tmp / "missing.pem"), "--tls-key", str(key)],
                       capture_output=True, text=True, timeout=30, cwd=tmp)
    check(r.returncode == 1 and "missing.pem" in r.stderr, f"a missing certificate exits 1: {r.stderr}")
    g = Gateway(tmp, "--tls-cert", str(cert), "--tls-key", str(key), "--read-timeout", "2s",
                "--admin-listen", "127.0.0.1:0")
    try:
        context = ssl.create_default_context(cafile=str(cert))
        conn = http.client.HTTPSConnection("127.0.0.1", g.port, context=context, timeout=10)
        b, s = delivery("9800000000000001")
        expect(g.post(b, s, conn=conn), 200, "accepted", "a delivery over HTTPS")
        expect(g.post(b, s, conn=conn), 200, "duplicate", "again, on the same TLS connection")
        conn.close()
        raw = g.raw(b"POST /webhooks/fiskil HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        check(status_of(raw) is None, "plain HTTP on the TLS port gets no HTTP answer")
        started = time.time()
        idle = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        harness.read_all(idle)  # a client that never starts the handshake
        idle.close()
        check(time.time() - started < 6, "a connection that never handshakes is closed after --read-timeout")
        # The admin listener is plain HTTP (g.metric reads it).
        # The timeout closes the socket before the handshake's handler counts it.
        deadline = time.time() + 3
        while g.metric("fiskil_gateway_tls_handshake_failures_total") < 2 and time.time() < deadline:
            time.sleep(0.05)
        failures = g.metric("fiskil_gateway_tls_handshake_failures_total")
        check(failures == 2, f"the plain-HTTP client and the silent one: two handshake failures ({failures})")
        check(g.metric("fiskil_gateway_read_timeouts_total") == 0, "handshake failures are not read timeouts")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


# --- the edge (issue 20) --------------------------------------------------------

def raw_post(body, signature, extra_headers=b"", path=b"/webhooks/fiskil"):
    """A POST as bytes, with extra header lines (each ending in CRLF)."""
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
            b"X-Fiskil-Signature: " + signature.encode() + b"\r\n" + extra_headers +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def test_forwarded(tmp):
    """X-Forwarded-For from a trusted proxy: every line counts, only the last
    hop (the one the proxy added) is the client, in both shapes."""
    g = Gateway(tmp, "--allow", "10.0.0.0/8", "--trusted-proxy", "127.0.0.1/32")
    try:
        shapes = {
            "one line": lambda forged, real: b"X-Forwarded-For: " + forged + b", " + real + b"\r\n",
            "two lines": lambda forged, real: b"X-Forwarded-For: " + forged + b"\r\nX-Forwarded-For: " + real + b"\r\n",
        }
        n = 0
        for shape, header in shapes.items():
            # A client forges an allowed address; the proxy appends the real one.
            n += 1
            b, s = delivery(f"99100000000000{n:02d}")
            raw = g.raw(raw_post(b, s, header(b"10.6.6.6", b"192.0.2.1")))
            check(status_of(raw) == 403 and b'"forbidden_source"' in raw,
                  f"{shape}: a forged allowed address before the real one does not pass: {raw[:60]!r}")
            # The real (last) hop is allowed, whatever the client put first.
            n += 1
            b, s = delivery(f"99100000000000{n:02d}")
            raw = g.raw(raw_post(b, s, header(b"192.0.2.1", b"10.1.2.3")))
            check(status_of(raw) == 200 and b'"accepted"' in raw, f"{shape}: the proxy's hop is allowed: {raw[:60]!r}")
        # Three lines: still the last.
        b, s = delivery("9910000000000099")
        raw = g.raw(raw_post(b, s, b"X-Forwarded-For: 10.6.6.6\r\nX-Forwarded-For: 10.7.7.7, 192.0.2.5\r\n"
                                   b"X-Forwarded-For: 192.0.2.9\r\n"))
        check(status_of(raw) == 403, f"three lines, the last one outside --allow: 403: {raw[:60]!r}")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


def test_early(tmp):
    """A source outside --allow (and not a trusted proxy) is refused on its
    headers: 403 before any body byte, the connection closed."""
    g = Gateway(tmp, "--allow", "10.0.0.0/8", "--read-timeout", "10s")
    try:
        s = socket.create_connection(("127.0.0.1", g.port), timeout=8)
        started = time.time()
        s.sendall(b"POST /webhooks/fiskil HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n"
                  b"X-Fiskil-Signature: x\r\n\r\n")
        raw = harness.read_all(s)  # until the gateway closes
        elapsed = time.time() - started
        s.close()
        check(status_of(raw) == 403 and b'"forbidden_source"' in raw and b"Connection: close" in raw,
              f"a refused source gets 403 forbidden_source on its headers: {raw[:80]!r}")
        check(elapsed < 3, f"the 403 and the close came at once, not after --read-timeout ({elapsed:.1f} s)")
        check(g.metric('fiskil_gateway_deliveries_total{outcome="forbidden_source"}') == 1,
              "the early refusal is counted as forbidden_source")
        check(g.logged("delivery_refused") and "forbidden_source" in g.stderr(), "the early refusal is logged")
        # Other routes are not the allowlist's business.
        check(g.get("/healthz")[0] == 200, "/healthz from the same address: 200")

        # After SIGHUP loads an allowlist that has the client, it may deliver.
        allow = pathlib.Path(tmp) / "allow.txt"
        allow.write_text("10.0.0.0/8\n")
        g.stop()
        g = Gateway(tmp, "--allow-file", str(allow))
        b, sig = delivery("9920000000000001")
        expect(g.post(b, sig), 403, "forbidden_source", "outside the allow file")
        allow.write_text("10.0.0.0/8\n127.0.0.1/32\n")
        g.signal(signal.SIGHUP)
        check(g.logged("configuration_reloaded"), "the reload is logged")
        expect(g.post(b, sig), 200, "accepted", "inside the reloaded allow file")
        allow.write_text("10.0.0.0/8\n")
        g.signal(signal.SIGHUP)
        deadline = time.time() + 5
        while g.stderr().count("configuration_reloaded") < 2 and time.time() < deadline:
            time.sleep(0.05)
        raw = g.raw(b"POST /webhooks/fiskil HTTP/1.1\r\nHost: x\r\nContent-Length: 900000\r\n\r\n")
        check(status_of(raw) == 403, f"refused early again once the reload removed the client: {raw[:60]!r}")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()

    # A trusted proxy is not refused on its address: its client is in the header.
    g = Gateway(tmp, "--allow", "10.0.0.0/8", "--trusted-proxy", "127.0.0.1/32", journal="proxy.sqlite")
    try:
        b, sig = delivery("9920000000000002")
        expect(g.post(b, sig, headers={"X-Forwarded-For": "10.1.2.3"}), 200, "accepted",
               "a trusted proxy's delivery from an allowed client")
    finally:
        g.kill()


def test_head(tmp):
    """HEAD gets headers only: HEAD then GET on one keep-alive connection are
    exactly two responses."""
    g = Gateway(tmp)
    try:
        _, get_body = g.get("/healthz")
        for pipelined in (True, False):
            s = socket.create_connection(("127.0.0.1", g.port), timeout=5)
            head = b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            get = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            if pipelined:
                s.sendall(head + get)
            else:
                s.sendall(head)
                time.sleep(0.3)
                s.sendall(get)
            raw = harness.read_all(s)
            s.close()
            how = "pipelined" if pipelined else "one after the other"
            check(raw.count(b"HTTP/1.1 ") == 2, f"{how}: two responses ({raw!r})")
            first, _, rest = raw.partition(b"\r\n\r\n")
            check(status_of(first) == 200 and rest.startswith(b"HTTP/1.1 200"),
                  f"{how}: the HEAD response has no body; the GET's follows it at once ({raw!r})")
            check(f"Content-Length: {len(get_body)}".encode() in first,
                  f"{how}: HEAD's Content-Length is GET's ({first!r})")
            check(rest.endswith(get_body.encode()), f"{how}: the GET has its body ({rest!r})")
        # HEAD /metrics too, on a keep-alive http.client connection.
        conn = g.connect()
        conn.request("HEAD", "/metrics")
        r = conn.getresponse()
        check(r.status == 200 and r.read() == b"" and int(r.getheader("Content-Length")) > 0, "HEAD /metrics")
        conn.request("GET", "/healthz")
        r = conn.getresponse()
        check(r.status == 200 and r.read().decode() == get_body, "GET after HEAD on the same connection")
        conn.close()
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


def test_timers(tmp):
    """--idle-timeout (between requests) and --read-timeout (one request from
    its first byte) are two timers, counted apart."""
    g = Gateway(tmp, "--idle-timeout", "3s", "--read-timeout", "2s")
    try:
        # A request that starts late in the idle window is not cut off mid-body.
        s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = s.recv(65536)
        check(status_of(first) == 200, f"the first request on the connection: {first[:40]!r}")
        time.sleep(2.5)  # past --read-timeout, inside --idle-timeout
        b, sig = delivery("9930000000000001")
        request = raw_post(b, sig)
        head, _, body = request.partition(b"\r\n\r\n")
        try:
            s.sendall(head + b"\r\n\r\n")
            time.sleep(1.0)  # 3.5 s after the last answer: past --idle-timeout, inside --read-timeout
            s.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        raw = harness.read_all(s)
        s.close()
        check(status_of(raw) == 200 and b'"accepted"' in raw,
              f"a request begun 2.5 s into the idle window, its body 1 s later: accepted ({raw[:60]!r})")

        # An idle keep-alive connection is closed after --idle-timeout.
        s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        s.recv(65536)
        started = time.time()
        rest = harness.read_all(s)
        idle = time.time() - started
        s.close()
        check(rest == b"" and 2.7 < idle < 5, f"an idle keep-alive connection closed after ~3 s ({idle:.1f} s)")

        # A request that stalls is closed after --read-timeout.
        s = socket.create_connection(("127.0.0.1", g.port), timeout=10)
        started = time.time()
        s.sendall(b"POST /webhooks/fiskil HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{")
        raw = harness.read_all(s)
        stalled = time.time() - started
        s.close()
        check(status_of(raw) is None and 1.7 < stalled < 3, f"a stalled request closed after ~2 s ({stalled:.1f} s)")

        check(g.metric("fiskil_gateway_idle_closes_total") == 1, "one idle close counted")
        check(g.metric("fiskil_gateway_read_timeouts_total") == 1, "one read timeout counted, the idle close not")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()
    r = subprocess.run([harness.GATEWAY, "--secret-file", str(harness.SECRET_FILE), "--idle-timeout", "0"],
                       capture_output=True, text=True, timeout=30, cwd=tmp)
    check(r.returncode == 64 and "--idle-timeout" in r.stderr, f"--idle-timeout 0 exits 64: {r.stderr}")


def cpu_seconds(pid):
    """The process's user + system CPU time so far."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_limits(tmp):
    """RLIMIT_NOFILE against --max-connections at start; EMFILE on accept
    backs off instead of spinning, and serving resumes once fds are back."""
    secret = str(harness.SECRET_FILE)

    def limited(soft, hard):
        return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    r = subprocess.run([harness.GATEWAY, "--listen", "127.0.0.1:0", "--secret-file", secret, "--max-connections", "1000"],
                       capture_output=True, text=True, timeout=30, cwd=tmp, preexec_fn=limited(100, 100))
    check(r.returncode == 64 and "1064" in r.stderr and "100" in r.stderr and "--max-connections" in r.stderr
          and "RLIMIT_NOFILE" in r.stderr, f"a hard limit under --max-connections + 64 exits 64: {r.returncode} {r.stderr}")
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 1064:
        print(f"SKIP: the raise (the hard limit here is {hard})")
    else:
        g = Gateway(tmp, "--max-connections", "1000", preexec_fn=limited(100, 1064 if hard != resource.RLIM_INFINITY else 4096))
        try:
            limits = pathlib.Path(f"/proc/{g.proc.pid}/limits").read_text()
            soft = int(next(line for line in limits.splitlines() if line.startswith("Max open files")).split()[3])
            check(soft == 1064, f"the soft limit raised to --max-connections + 64 ({soft})")
            check(g.logged("file_limit_raised") and "100->1064" in g.stderr(), "the raise is logged")
        finally:
            g.kill()

    if b"__ubsan_handle_dynamic_type_cache_miss" in pathlib.Path(harness.GATEWAY).read_bytes():
        # UBSan's vptr check tests memory with a pipe: with no descriptor
        # left, every virtual call is reported, and halt_on_error stops it.
        print("SKIP: EMFILE under -fsanitize=undefined (its vptr check needs file descriptors)")
        return
    g = Gateway(tmp, "--max-connections", "100", "--threads", "1", journal="emfile.sqlite")
    held = []
    try:
        pid = g.proc.pid
        open_fds = len(os.listdir(f"/proc/{pid}/fd"))
        original = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (open_fds + 2, original[1]))
        for _ in range(12):
            held.append(socket.create_connection(("127.0.0.1", g.port), timeout=5))
        check(g.logged("accept_failed"), "the failing accept is logged")
        time.sleep(0.5)
        cpu_before = cpu_seconds(pid)
        time.sleep(3)
        cpu = cpu_seconds(pid) - cpu_before
        check(cpu < 0.5, f"no busy loop while accept fails with EMFILE ({cpu:.2f} s of CPU in 3 s)")
        lines = g.stderr().count("accept_failed")
        check(1 <= lines <= 6, f"accept_failed logged at most once per second ({lines} lines in ~4 s)")
        check("failures=" in g.stderr(), "the line counts the failures since the last one")
        resource.prlimit(pid, resource.RLIMIT_NOFILE, original)
        for h in held:
            h.close()
        held = []
        time.sleep(1.5)  # the backoff is at most 1 s
        b, sig = delivery("9940000000000001")
        expect(g.post(b, sig), 200, "accepted", "served again once descriptors are free")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        for h in held:
            h.close()
        g.kill()


def test_refusals(tmp):
    """A burst of refusals writes a few log lines per second, each with the
    peer; the rest are counted in the next line's suppressed=."""
    g = Gateway(tmp, "--refusal-log-rate", "10")
    try:
        body, sig = delivery("9950000000000001")
        wrong = ("B" if sig[0] == "A" else "A") + sig[1:]
        started = time.time()

        def burst(n):
            conn = g.connect()
            statuses = [g.post(body, wrong, conn=conn)[0] for _ in range(n)]
            conn.close()
            return statuses

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            statuses = sum(pool.map(burst, [125] * 4), [])
        elapsed = time.time() - started
        check(statuses == [401] * 500, "500 bad signatures answered 401")
        time.sleep(1.1)
        expect(g.post(body, wrong), 401, "bad_signature", "one more, a second later")
        check(g.logged("suppressed="), "a line says how many were suppressed")

        def counted():
            lines = [line for line in g.stderr().splitlines() if "event=delivery_refused" in line]
            return lines, sum(int(word.split("=", 1)[1]) for line in lines for word in line.split()
                              if word.startswith("suppressed="))

        deadline = time.time() + 5  # the last line may still be on its way through the pipe
        lines, suppressed = counted()
        while len(lines) + suppressed < 501 and time.time() < deadline:
            time.sleep(0.05)
            lines, suppressed = counted()
        limit = 10 * (int(elapsed) + 2) + 1
        check(len(lines) <= limit, f"500 refusals in {elapsed:.1f} s wrote {len(lines)} lines (at most {limit})")
        check(all("peer=127.0.0.1" in line for line in lines), f"every line has the peer: {lines[:2]}")
        check(len(lines) + suppressed == 501, f"lines + suppressed = every refusal ({len(lines)} + {suppressed})")
        check(g.metric('fiskil_gateway_deliveries_total{outcome="bad_signature"}') == 501, "every refusal counted")
        # Another kind has its own budget.
        junk = b'{"not":"an envelope"}'
        expect(g.post(junk, harness.sign(junk)), 400, "bad_envelope", "a refusal of another kind")
        check(g.logged("outcome=bad_envelope"), "logged at once: its own budget")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


def test_admin(tmp):
    """--admin-listen: /metrics, /healthz, /readyz there; the delivery
    listener serves only the deliveries' path and /healthz."""
    g = Gateway(tmp, "--admin-listen", "127.0.0.1:0")
    try:
        check(g.admin_port not in (None, g.port), f"a second port ({g.admin_port}, {g.port})")
        check(g.logged(f"admin=127.0.0.1:{g.admin_port}"), "the admin address is logged")
        b, sig = delivery("9960000000000001")
        expect(g.post(b, sig), 200, "accepted", "a delivery on the delivery listener")
        check(g.get("/healthz")[0] == 200, "/healthz on the delivery listener")
        for path in ("/metrics", "/readyz"):
            status, body = g.get(path)
            check(status == 404 and "not_found" in body, f"{path} on the delivery listener: 404 ({status})")
        status, text = g.get("/metrics", g.admin_port)
        check(status == 200 and harness.metric_sum(text, 'fiskil_gateway_deliveries_total{outcome="accepted"}') == 1,
              f"/metrics on the admin listener counts the delivery ({status})")
        check(g.get("/readyz", g.admin_port)[0] == 200, "/readyz on the admin listener")
        check(g.get("/healthz", g.admin_port)[0] == 200, "/healthz on the admin listener")
        check(g.get("/nowhere", g.admin_port)[0] == 404, "an unknown path on the admin listener: 404")
        b, sig = delivery("9960000000000002")
        status, body = g.post(b, sig, conn=http.client.HTTPConnection("127.0.0.1", g.admin_port, timeout=10))
        check(status == 404, f"no deliveries on the admin listener ({status})")
        check(g.metric('fiskil_gateway_deliveries_total{outcome="accepted"}') == 1, "nothing delivered through it")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()
    # Without --admin-listen, everything on the one listener (as before).
    g = Gateway(tmp, journal="one.sqlite")
    try:
        check(g.get("/metrics")[0] == 200 and g.get("/readyz")[0] == 200, "without --admin-listen: one listener")
        r = subprocess.run([harness.GATEWAY, "--secret-file", str(harness.SECRET_FILE),
                            "--admin-listen", "nowhere"], capture_output=True, text=True, timeout=30, cwd=tmp)
        check(r.returncode == 64 and "--admin-listen" in r.stderr, f"a bad --admin-listen exits 64: {r.stderr}")
        r = subprocess.run([harness.GATEWAY, "--listen", "127.0.0.1:0", "--secret-file",
                            str(harness.SECRET_FILE), "--admin-listen", f"127.0.0.1:{g.port}"],
                           capture_output=True, text=True, timeout=30, cwd=tmp)
        check(r.returncode == 1 and "--admin-listen" in r.stderr, f"a taken admin port exits 1: {r.stderr}")
    finally:
        g.kill()


def test_process(tmp):
    """build_info, process_open_fds, process_start_time_seconds."""
    launched = time.time()
    g = Gateway(tmp)
    try:
        _, text = g.get("/metrics")
        info = [line for line in text.splitlines() if line.startswith("fiskil_gateway_build_info{")]
        crypto = os.environ.get("FISKIL_GATEWAY_CRYPTO", "boringssl")
        version_header = pathlib.Path(__file__).resolve().parents[2] / "include/fiskil/webhooks/version.hpp"
        version = version_header.read_text().split('FISKIL_WEBHOOKS_VERSION_STRING "', 1)[1].split('"', 1)[0]
        check(len(info) == 1 and info[0].endswith(" 1") and f'version="{version}"' in info[0] and
              f'crypto="{crypto}"' in info[0],
              f"build_info with the version and crypto {crypto}: {info}")
        check("# TYPE fiskil_gateway_build_info gauge" in text, "build_info is a gauge")
        time.sleep(0.5)  # the connections of the requests above are closed on both sides
        fds = g.metric("process_open_fds")
        actual = len(os.listdir(f"/proc/{g.proc.pid}/fd"))
        check(3 <= fds and abs(fds - actual) <= 3, f"process_open_fds {fds} near /proc's {actual}")
        held = [socket.create_connection(("127.0.0.1", g.port), timeout=5) for _ in range(10)]
        deadline = time.time() + 5  # until the gateway has accepted them all
        more = g.metric("process_open_fds")
        while more < fds + 10 and time.time() < deadline:
            time.sleep(0.1)
            more = g.metric("process_open_fds")
        check(more >= fds + 10, f"10 more connections, 10 more fds ({fds} -> {more})")
        for h in held:
            h.close()
        started = g.metric("process_start_time_seconds")
        check(abs(started - launched) < 3, f"process_start_time_seconds {started:.2f} is when it started ({launched:.2f})")
        check(g.metric("process_start_time_seconds") == started, "the start time does not move")
        check(g.metric("process_max_fds") == resource.getrlimit(resource.RLIMIT_NOFILE)[0] or
              g.metric("process_max_fds") >= 1024 + 64, "process_max_fds is the soft limit")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


def test_promtool(tmp):
    """promtool check metrics accepts a live /metrics scrape (journal and
    forwarder metrics included) and refuses a misnamed counter. Skips (77)
    without promtool (Debian package prometheus)."""
    import base64
    import shutil
    promtool = shutil.which("promtool")
    if promtool is None:
        print("SKIP: promtool is absent (Debian package prometheus)")
        sys.exit(77)

    def lint(text):
        done = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout + done.stderr

    status, said = lint("# HELP fiskil_gateway_misnamed A counter without _total.\n"
                        "# TYPE fiskil_gateway_misnamed counter\nfiskil_gateway_misnamed 1\n")
    check(status != 0 and "_total" in said, f"promtool refuses a counter without _total ({status}: {said.strip()})")
    secret = pathlib.Path(tmp) / "forward.secret"
    secret.write_text("whsec_" + base64.b64encode(bytes(range(1, 33))).decode() + "\n")
    secret.chmod(0o600)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    app_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: forwarding attempts fail, and are counted
    g = Gateway(tmp, "--admin-listen", "127.0.0.1:0", "--forward", f"http://127.0.0.1:{app_port}/hook",
                "--forward-secret-file", str(secret))
    try:
        b, sig = delivery("9970000000000001")
        expect(g.post(b, sig), 200, "accepted", "a delivery")
        expect(g.post(b, sig), 200, "duplicate", "its copy")
        b2, sig2 = delivery("9970000000000002", secret=harness.SECRET_ROTATED)
        expect(g.post(b2, sig2), 200, "accepted", "a delivery signed with the older secret")
        expect(g.post(b2, ""), 401, "bad_signature", "no signature")
        status, text = g.get("/metrics", g.admin_port)
        check(status == 200, f"/metrics answers 200 ({status})")
        for name in ("fiskil_gateway_deliveries_total", "fiskil_gateway_forward_backlog",
                     "fiskil_gateway_journal_commit_duration_seconds_count", "process_start_time_seconds"):
            check(f"\n{name}" in text, f"the scrape has {name}")
        check(harness.metric_sum(text, 'fiskil_gateway_deliveries_total{outcome="accepted",'
                                       'event="banking.accounts.sync.completed",key="1"}') == 1,
              "one sample per outcome, event and key")
        status, said = lint(text)
        check(status == 0, f"promtool check metrics accepts the scrape ({status}): {said.strip()}")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


GROUPS = {
    "outcomes": test_outcomes,
    "http": test_http,
    "slow": test_slow,
    "crash": test_crash,
    "term": test_term,
    "fault": test_fault,
    "sighup": test_sighup,
    "consumer": test_consumer,
    "tls": test_tls,
    "forwarded": test_forwarded,
    "early": test_early,
    "head": test_head,
    "timers": test_timers,
    "limits": test_limits,
    "refusals": test_refusals,
    "admin": test_admin,
    "process": test_process,
    "promtool": test_promtool,
}



if __name__ == "__main__":
    sys.exit(harness.run_group(GROUPS, __doc__, "fiskil-gateway-test-"))
