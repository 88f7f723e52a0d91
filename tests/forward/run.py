#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""fiskil-gateway --forward against a scripted app (app_double.py).

    FISKIL_GATEWAY=build/gateway/fiskil-gateway python3 tests/forward/run.py GROUP

GROUP is one of: headers, retries, order, pause, dead, crash, commands, limits, https.
Python's standard library only; every gateway and app started here is
stopped when the test ends, also on failure.
"""
import base64
import os
import pathlib
import random
import signal
import subprocess
import sys
import time
import uuid

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "gateway"))
sys.path.insert(0, str(HERE))
import harness  # noqa: E402
from harness import Gateway, check, delivery, expect, journal_rows  # noqa: E402
from app_double import App  # noqa: E402

SECRET = bytes(range(1, 33))  # the forwarding secret's bytes



def write_secret(tmp, whsec=True):
    path = pathlib.Path(tmp) / "forward.secret"
    text = base64.b64encode(SECRET).decode()
    harness.write_private(path, ("whsec_" + text if whsec else text) + "\n")
    return path


def forwarding(tmp, app, *extra, secret=None, journal="journal.sqlite"):
    secret = secret or write_secret(tmp)
    return Gateway(tmp, "--forward", app.url, "--forward-secret-file", str(secret),
                   "--forward-backoff-base", "50ms", "--forward-backoff-max", "400ms", *extra, journal=journal)


def journal_command(g_or_path, *args):
    path = g_or_path.journal if isinstance(g_or_path, Gateway) else g_or_path
    return subprocess.run([harness.GATEWAY, "journal", *args, "--journal", str(path)], capture_output=True,
                          text=True, timeout=30)


def kept(g):
    """(seq, message_id, event, body) of every journal row."""
    return journal_rows(g.journal, "SELECT seq, message_id, event, body FROM deliveries ORDER BY seq")


def forward_rows(g, state=None):
    sql = "SELECT seq, message_id, state, attempts, last_status, last_error FROM forward_state"
    if state:
        sql += f" WHERE state = '{state}'"
    return journal_rows(g.journal, sql + " ORDER BY seq")


def consent_chain(consent, n, start):
    """n deliveries of one consent: consent.received, then sync events and
    consent.updated in turn, then consent.revoked last; publish times rise."""
    out = []
    for i in range(n):
        if i == 0:
            event = "consent.received"
        elif i == n - 1:
            event = "consent.revoked"
        elif i % 2:
            event = "banking.accounts.sync.completed"
        else:
            event = "consent.updated"
        body, sig = delivery(uuid.uuid4(), event=event, consent_id=consent, publish=start + i * 0.001)
        out.append((body, sig))
    return out


# --- headers ----------------------------------------------------------------

def test_headers(tmp):
    app = App(SECRET)
    g = forwarding(tmp, app)
    try:
        sent = 0
        for name, event, body, sig in harness.fixture_deliveries():
            status, answer = g.post(body, sig)
            check(status == 200, f"sample {name}: {status} {answer}")
            sent += 1
        rows = kept(g)
        check(len(rows) >= 20, f"only {len(rows)} rows kept of {sent}")
        ids = {r[1] for r in rows}
        check(app.wait_for(lambda: ids <= set(app.delivered_ids()), 20),
              f"not every kept delivery reached the app: {len(ids - set(app.delivered_ids()))} missing")
        by_id = {r[1]: r for r in rows}
        now = time.time()
        for r in app.snapshot():
            row = by_id.get(r.id)
            if not check(row is not None, f"the app got an unknown webhook-id {r.id}"):
                continue
            _, message_id, event, body = row
            h = r.headers
            check(r.valid, f"{message_id}: the Standard Webhooks signature does not verify")
            check(r.body == bytes(body), f"{message_id}: the body differs from the journal's, byte for byte")
            check(h.get("idempotency-key") == message_id, f"{message_id}: Idempotency-Key {h.get('idempotency-key')}")
            check(h.get("x-fiskil-event") == event, f"{message_id}: X-Fiskil-Event {h.get('x-fiskil-event')} != {event}")
            check(h.get("x-fiskil-delivery-attempt") == "1", f"{message_id}: attempt {h.get('x-fiskil-delivery-attempt')}")
            check(h.get("content-type") == "application/json", f"{message_id}: Content-Type {h.get('content-type')}")
            check(abs(int(h.get("webhook-timestamp", "0")) - now) < 60, f"{message_id}: webhook-timestamp far off")
            check(h.get("webhook-signature", "").startswith("v1,"), f"{message_id}: webhook-signature not v1,")
        check(len(app.snapshot()) == len(rows), f"{len(app.snapshot())} requests for {len(rows)} deliveries")
        # Metrics match the store (the gauges refresh within a second).
        time.sleep(1.5)
        check(g.metric("fiskil_gateway_forward_backlog") == 0, "backlog not 0")
        check(g.metric("fiskil_gateway_forward_delivered") == len(rows), "delivered gauge != kept rows")
        check(g.metric('fiskil_gateway_forward_attempts_total{result="2xx"}') == len(rows), "2xx attempts != rows")
        check(g.metric("fiskil_gateway_forward_paused") == 0, "paused")
        check(g.metric("fiskil_gateway_forward_delivery_duration_seconds_count") == len(rows), "latency histogram count")
        check(len(forward_rows(g, "delivered")) == len(rows), "forward_state rows not all delivered")
        cursor = journal_rows(g.journal, f"SELECT seq FROM consumer_cursor WHERE name = 'forward:{app.url}'")
        check(cursor and cursor[0][0] == rows[-1][0], f"cursor {cursor} not at the last row {rows[-1][0]}")
        # /readyz does not depend on forwarding: the app down changes nothing.
        app.down()
        body, sig = delivery(uuid.uuid4())
        check(g.post(body, sig)[0] == 200, "a delivery with the app down not accepted")
        check(g.get("/readyz")[0] == 200, "/readyz not 200 with the app down")
        check("webhook-signature" not in g.stderr() and base64.b64encode(SECRET).decode() not in g.stderr(),
              "the log shows the secret or a signature")
        # A plain base64 secret works as well.
        check(g.stop() == 0, "gateway did not stop cleanly")
        app.up()
        g = forwarding(tmp, app, secret=write_secret(tmp, whsec=False))
        check(app.wait_for(lambda: body.decode() in [r.body.decode() for r in app.snapshot() if r.valid], 10),
              "with a plain base64 secret, the delivery kept while the app was down did not arrive verified")
    finally:
        g.kill()
        app.close()


# --- retries ----------------------------------------------------------------

def test_retries(tmp):
    app = App(SECRET)
    g = forwarding(tmp, app, "--forward-timeout", "500ms")
    try:
        plan = {}  # message_id -> list of actions for its attempts, then 200

        def script(r):
            actions = plan.get(r.id, [])
            n = int(r.headers.get("x-fiskil-delivery-attempt", "1"))
            return actions[n - 1] if n <= len(actions) else None
        app.script = script
        date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 3))
        cases = {
            "500 twice": [("status", 500, {}), ("status", 500, {})],
            "429 Retry-After 2": [("status", 429, {"Retry-After": "2"})],
            "503 Retry-After date": [("status", 503, {"Retry-After": date})],
            "slow past the timeout": [("slow", 1.5)],
            "reset": [("reset",)],
            "404": [("status", 404, {})],
        }
        ids = {}
        for name, actions in cases.items():
            body, sig = delivery(uuid.uuid4(), consent_id=str(uuid.uuid4()))
            mid = body.decode().split('"message_id":"')[1].split('"')[0]
            plan[mid] = actions
            ids[name] = mid
            check(g.post(body, sig)[0] == 200, f"{name}: not accepted")
        check(app.wait_for(lambda: set(ids.values()) <= set(app.delivered_ids()), 30),
              f"not all delivered after retries: {set(ids.values()) - set(app.delivered_ids())}")

        def attempts(mid):
            return [r for r in app.snapshot() if r.id == mid]
        for name, actions in cases.items():
            got = attempts(ids[name])
            numbers = [r.headers.get("x-fiskil-delivery-attempt") for r in got]
            check(numbers[:len(actions) + 1] == [str(i) for i in range(1, len(actions) + 2)],
                  f"{name}: attempt numbers {numbers}")
            check(len({r.headers.get("webhook-id") for r in got}) == 1, f"{name}: webhook-id changed between attempts")
        gap = lambda name: attempts(ids[name])[1].arrived - attempts(ids[name])[0].arrived  # noqa: E731
        check(1.9 <= gap("429 Retry-After 2") <= 3.5, f"429 Retry-After 2: measured gap {gap('429 Retry-After 2'):.2f}s")
        check(1.5 <= gap("503 Retry-After date") <= 4.5, f"503 Retry-After date: gap {gap('503 Retry-After date'):.2f}s")
        check(gap("500 twice") < 1.0, f"500: backoff 50ms..400ms, gap {gap('500 twice'):.2f}s")
        check(gap("slow past the timeout") < 1.4, f"timeout not enforced: gap {gap('slow past the timeout'):.2f}s")
        check(g.metric('fiskil_gateway_forward_attempts_total{result="timeout"}') >= 1, "no timeout counted")
        check(g.metric('fiskil_gateway_forward_attempts_total{result="connection"}') >= 1, "no reset counted")
        check(g.metric('fiskil_gateway_forward_attempts_total{result="5xx"}') >= 3, "5xx not counted")
        check(g.metric('fiskil_gateway_forward_attempts_total{result="4xx"}') >= 2, "4xx not counted")
        # Down for a while, then back: what was kept meanwhile arrives.
        app.script = None
        app.down()
        body, sig = delivery(uuid.uuid4())
        mid = body.decode().split('"message_id":"')[1].split('"')[0]
        check(g.post(body, sig)[0] == 200, "not accepted while the app is down")
        time.sleep(2)
        check(mid not in app.delivered_ids(), "delivered while down?")
        app.up()
        check(app.wait_for(lambda: mid in app.delivered_ids(), 10), "not delivered after the app came back")
        check(g.metric('fiskil_gateway_forward_attempts_total{result="connection"}') >= 2,
              "connection refused not counted")
    finally:
        g.kill()
        app.close()


# --- order ------------------------------------------------------------------

def test_order(tmp):
    app = App(SECRET)
    rng = random.Random(7)
    app.script = lambda r: ("status", 500, {}) if rng.random() < 0.3 else None
    consent_of = {}
    app.order_key = lambda r: consent_of.get(r.id)
    g = forwarding(tmp, app, "--forward-concurrency", "8")
    try:
        chains = {}
        start = time.time() - 5
        for c in range(12):
            consent = str(uuid.uuid4())
            chains[consent] = consent_chain(consent, 8, start)
        # Interleave the chains, each in its own order.
        cursors = {c: 0 for c in chains}
        while cursors:
            c = rng.choice(list(cursors))
            body, sig = chains[c][cursors[c]]
            mid = body.decode().split('"message_id":"')[1].split('"')[0]
            consent_of[mid] = c
            status, answer = g.post(body, sig)
            check(status == 200 and answer.get("outcome") == "accepted", f"chain delivery: {status} {answer}")
            cursors[c] += 1
            if cursors[c] == len(chains[c]):
                del cursors[c]
        rows = kept(g)
        check(len(rows) == 96, f"{len(rows)} rows kept of 96")
        ids = [r[1] for r in rows]
        check(app.wait_for(lambda: set(ids) <= set(app.delivered_ids()), 60), "not all delivered")
        delivered = app.delivered_ids()
        for c in chains:
            expected = [m for m in ids if consent_of.get(m) == c]
            got = [m for m in delivered if consent_of.get(m) == c]
            check(got == expected, f"consent {c}: order at the app (first 2xx) differs from the journal's")
        check(not app.overlaps, f"two requests of one consent at once: {app.overlaps[:3]}")
        # Other consents did go in parallel.
        check(max(len(chains), 1) > 1 and g.metric('fiskil_gateway_forward_attempts_total{result="5xx"}') > 0,
              "no failures injected")
    finally:
        g.kill()
        app.close()


# --- pause ------------------------------------------------------------------

def test_pause(tmp):
    app = App(SECRET)
    gone = {"on": True}
    app.script = lambda r: ("status", 410, {}) if gone["on"] else None
    g = forwarding(tmp, app)
    try:
        body, sig = delivery(uuid.uuid4())
        g.post(body, sig)
        check(g.logged("forward_paused", 10), "no forward_paused logged after a 410")
        time.sleep(1.2)
        check(g.metric("fiskil_gateway_forward_paused") == 1, "paused metric not 1")
        n = len(app.snapshot())
        for _ in range(3):
            b, s = delivery(uuid.uuid4())
            g.post(b, s)
        time.sleep(1)
        check(len(app.snapshot()) == n, f"requests sent while paused: {len(app.snapshot()) - n}")
        out = journal_command(g, "status")
        check("paused yes" in out.stdout and "backlog 4" in out.stdout, f"journal status while paused: {out.stdout}")
        gone["on"] = False
        out = journal_command(g, "resume")
        check(out.returncode == 0 and "resumed" in out.stdout, f"journal resume: {out.returncode} {out.stdout}")
        check(app.wait_for(lambda: len(app.delivered_ids()) == 4, 10), "not delivered after journal resume")
        check(g.logged("forward_resumed", 5), "no forward_resumed logged")
        time.sleep(1.2)
        check(g.metric("fiskil_gateway_forward_paused") == 0, "paused metric not 0 after resume")
        # Paused again; SIGHUP resumes.
        gone["on"] = True
        b, s = delivery(uuid.uuid4())
        g.post(b, s)
        check(app.wait_for(lambda: "paused yes" in journal_command(g, "status").stdout, 10), "not paused again")
        gone["on"] = False
        g.signal(signal.SIGHUP)
        check(app.wait_for(lambda: len(app.delivered_ids()) == 5, 10), "not delivered after SIGHUP")
        check("paused no" in journal_command(g, "status").stdout, "still paused after SIGHUP")
    finally:
        g.kill()
        app.close()


# --- dead letters, redrive, replay -------------------------------------------

def test_dead(tmp):
    app = App(SECRET)
    failing = set()
    app.script = lambda r: ("status", 500, {}) if r.id in failing else None
    g = forwarding(tmp, app, "--forward-max-attempts", "3")
    try:
        body, sig = delivery(uuid.uuid4(), consent_id="c-dead")
        dead_id = body.decode().split('"message_id":"')[1].split('"')[0]
        failing.add(dead_id)
        g.post(body, sig)
        b2, s2 = delivery(uuid.uuid4(), consent_id="c-dead")  # same consent: waits, then goes after the dead letter
        next_id = b2.decode().split('"message_id":"')[1].split('"')[0]
        g.post(b2, s2)
        check(g.logged("forward_dead_letter", 10), "no forward_dead_letter logged")
        check(app.wait_for(lambda: next_id in app.delivered_ids(), 10), "the next of the consent did not go")
        attempts = [r.headers["x-fiskil-delivery-attempt"] for r in app.snapshot() if r.id == dead_id]
        check(attempts == ["1", "2", "3"], f"attempts before the dead letter: {attempts}")
        time.sleep(1.2)
        check(g.metric("fiskil_gateway_forward_dead_letters") == 1, "dead_letters metric not 1")
        dead = forward_rows(g, "dead")
        check(len(dead) == 1 and dead[0][1] == dead_id and dead[0][4] == 500 and dead[0][5] == "HTTP 500",
              f"the dead letter in the journal: {dead}")
        out = journal_command(g, "list", "--dead")
        check(dead_id in out.stdout and "last_status=500" in out.stdout, f"journal list --dead: {out.stdout}")
        check("dead_letters 1" in journal_command(g, "status").stdout, "journal status: dead_letters")
        # The dead letter keeps a copy of its delivery: pruning the journal
        # row (as --keep would) does not stop a redrive.
        import sqlite3
        copy = journal_rows(g.journal, f"SELECT body FROM forward_state WHERE message_id = '{dead_id}'")
        check(copy and bytes(copy[0][0]) == body, "the dead letter has no copy of its body")
        db = sqlite3.connect(str(g.journal), timeout=10)
        db.execute("DELETE FROM deliveries WHERE message_id = ?", (dead_id,))
        db.commit()
        db.close()
        # Redrive: a new series of attempts; delivered now.
        failing.clear()
        out = journal_command(g, "redrive", "--id", dead_id)
        check(out.returncode == 0 and "redriven 1" in out.stdout, f"redrive: {out.returncode} {out.stdout}")
        check(app.wait_for(lambda: dead_id in app.delivered_ids(), 10), "redriven dead letter not delivered")
        last = [r for r in app.snapshot() if r.id == dead_id][-1]
        check(last.headers["x-fiskil-delivery-attempt"] == "1" and last.valid, "redrive: attempt 1 again, verified")
        check(last.body == body and last.headers.get("x-fiskil-event") == "banking.accounts.sync.completed",
              "redrive of a pruned dead letter: not the same body and event")
        check(journal_command(g, "redrive", "--id", dead_id).returncode == 1, "redrive of a non-dead id: not 1")
        # Replay: the same webhook-id again.
        n = len([r for r in app.snapshot() if r.id == next_id])
        out = journal_command(g, "replay", "--id", next_id)
        check(out.returncode == 0 and "replaying 1" in out.stdout, f"replay: {out.stdout} {out.stderr}")
        check(app.wait_for(lambda: len([r for r in app.snapshot() if r.id == next_id]) == n + 1, 10),
              "replay did not re-send")
        # Replay by time and event: of the journal's rows (the pruned dead
        # letter's is gone), those of that event.
        b3, s3 = delivery(uuid.uuid4(), event="energy.usage.sync.completed", consent_id="c-other")
        g.post(b3, s3)
        check(app.wait_for(lambda: len(app.delivered_ids()) == 3, 10), "the third delivery did not arrive")
        before = len(app.snapshot())
        out = journal_command(g, "replay", "--since", "1h", "--event", "banking.accounts.sync.completed")
        check(out.returncode == 0 and "replaying 1" in out.stdout, f"replay --since --event: {out.stdout}")
        check(app.wait_for(lambda: len(app.snapshot()) == before + 1, 10), "replay --since did not re-send 1")
        check(app.snapshot()[-1].id == next_id, "replay --since --event re-sent the wrong delivery")
        before = len(app.snapshot())
        out = journal_command(g, "replay", "--since", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 600)))
        check(out.returncode == 0 and "replaying 2" in out.stdout, f"replay --since RFC 3339: {out.stdout}")
        check(app.wait_for(lambda: len(app.snapshot()) == before + 2, 10), "replay --since RFC 3339 did not re-send 2")
        time.sleep(1.2)
        check(g.metric("fiskil_gateway_forward_dead_letters") == 0, "dead_letters metric not 0 after redrive")
        check(g.metric("fiskil_gateway_forward_backlog") == 0, "backlog not 0")
    finally:
        g.kill()
        app.close()


# --- commands ---------------------------------------------------------------

def test_commands(tmp):
    app = App(SECRET)
    g = forwarding(tmp, app)
    try:
        for _ in range(3):
            b, s = delivery(uuid.uuid4())
            g.post(b, s)
        check(app.wait_for(lambda: len(app.delivered_ids()) == 3, 10), "not delivered")
        time.sleep(0.3)
        out = journal_command(g, "status")
        check(out.returncode == 0 and f"destination {app.url}" in out.stdout and "backlog 0" in out.stdout
              and "delivered 3" in out.stdout, f"status: {out.stdout}")
        check(journal_command(g, "list").stdout == "", "list: pending rows when none")
        for args, code in [(("frobnicate",), 64), (("redrive",), 64), (("replay",), 64),
                           (("replay", "--since", "yesterday"), 64), (("list", "--all"), 0),
                           (("status", "--event", "x"), 64), (("redrive", "--all"), 0),
                           (("replay", "--id", "no-such-id"), 1)]:
            out = journal_command(g, *args)
            check(out.returncode == code, f"journal {' '.join(args)}: exit {out.returncode}, expected {code}")
        out = subprocess.run([harness.GATEWAY, "journal", "status", "--journal", str(pathlib.Path(tmp) / "none")],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 1, f"status of a missing journal: {out.returncode}")
        out = subprocess.run([harness.GATEWAY, "--secret-file", str(harness.SECRET_FILE), "--forward",
                              app.url, "--listen", "127.0.0.1:0", "--journal", str(pathlib.Path(tmp) / "j2")],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode != 0 and "forward-secret-file" in out.stderr, "--forward without a secret file started")
        out = subprocess.run([harness.GATEWAY, "--secret-file", str(harness.SECRET_FILE), "--forward",
                              "https://x/", "--forward-secret-file", str(write_secret(tmp)), "--forward-ca-file",
                              str(pathlib.Path(tmp) / "missing.pem"), "--listen", "127.0.0.1:0", "--journal",
                              str(pathlib.Path(tmp) / "j3")],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode != 0 and "--forward-ca-file" in out.stderr, "--forward-ca-file missing.pem accepted")
        out = subprocess.run([harness.GATEWAY, "--secret-file", str(harness.SECRET_FILE), "--forward",
                              "ftp://x/", "--forward-secret-file", str(write_secret(tmp)), "--listen",
                              "127.0.0.1:0", "--journal", str(pathlib.Path(tmp) / "j3")],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode != 0 and "https://" in out.stderr, "--forward ftp:// accepted")
        out = subprocess.run([harness.GATEWAY, "--empty-server", "--forward", app.url, "--forward-secret-file",
                              str(write_secret(tmp)), "--listen", "127.0.0.1:0"],
                             capture_output=True, text=True, timeout=30)
        check(out.returncode == 64 and "needs a store" in out.stderr,
              f"--forward with --empty-server: {out.returncode} {out.stderr}")
        other = pathlib.Path(tmp) / "other.sqlite"
        import sqlite3
        sqlite3.connect(str(other)).execute("CREATE TABLE t (x)").connection.commit()
        out = journal_command(other, "status")
        tables = {r[0] for r in journal_rows(other, "SELECT name FROM sqlite_master WHERE type = 'table'")}
        check(out.returncode == 1 and tables == {"t"}, f"status of a database that is not a journal: {out.returncode} {tables}")
    finally:
        g.kill()
        app.close()


# --- limits: rate, the secret reloaded, receiving while the app is slow ---

def test_limits(tmp):
    app = App(SECRET)
    secret = write_secret(tmp)
    g = forwarding(tmp, app, "--forward-rate", "5", "--forward-timeout", "3s", secret=secret)
    try:
        ids = []
        for _ in range(15):
            b, s = delivery(uuid.uuid4(), consent_id=str(uuid.uuid4()))
            g.post(b, s)
        check(app.wait_for(lambda: len(app.delivered_ids()) == 15, 15), "not all 15 delivered")
        # One every 200 ms, no burst.
        times = sorted(r.arrived for r in app.snapshot())
        spread = times[-1] - times[0]
        check(spread >= 2.5, f"--forward-rate 5: 15 requests within {spread:.2f}s")
        busiest = max(sum(1 for t in times if t0 <= t < t0 + 1.0) for t0 in times)
        check(busiest <= 6, f"--forward-rate 5: {busiest} requests within one second")
        # SIGHUP re-reads the secret: the app, given the new one, verifies the next request.
        new_secret = bytes(range(100, 132))
        secret.write_text("whsec_" + base64.b64encode(new_secret).decode() + "\n")
        g.signal(signal.SIGHUP)
        time.sleep(0.5)
        app.secret = new_secret
        b, s = delivery(uuid.uuid4())
        g.post(b, s)
        check(app.wait_for(lambda: len(app.delivered_ids()) == 16, 10), "not delivered after SIGHUP")
        check(app.snapshot()[-1].valid, "not signed with the reloaded secret")
        # An unusable secret file keeps the previous secret.
        secret.write_text("not a secret\n")
        g.signal(signal.SIGHUP)
        check(g.logged("forward_secret_reload_failed", 5), "no forward_secret_reload_failed logged")
        check("not a secret" not in g.stderr(), "the secret file's text is in the log")
        b, s = delivery(uuid.uuid4())
        g.post(b, s)
        check(app.wait_for(lambda: len(app.delivered_ids()) == 17, 10), "not delivered after a failed reload")
        check(app.snapshot()[-1].valid, "the previous secret was not kept")
        # A slow app does not slow receiving.
        app.script = lambda r: ("slow", 2.5)
        b, s = delivery(uuid.uuid4())
        g.post(b, s)
        time.sleep(0.3)
        started = time.monotonic()
        for _ in range(20):
            b, s = delivery(uuid.uuid4())
            check(g.post(b, s)[0] == 200, "not accepted while the app is slow")
        elapsed = time.monotonic() - started
        check(elapsed < 2.0, f"20 deliveries took {elapsed:.2f}s while the app was slow")
        check(g.get("/readyz")[0] == 200, "/readyz not 200 while the app is slow")
    finally:
        g.kill()
        app.close()


# --- https ------------------------------------------------------------------

def make_certificates(tmp):
    """A CA and a certificate for 127.0.0.1 it signed, made now with the
    openssl command (never committed): (ca.pem, (cert.pem, key.pem))."""
    d = pathlib.Path(tmp)
    run = lambda *a: subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True, timeout=60)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=fiskil test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "app.key", "-out", "app.csr", "-subj", "/CN=127.0.0.1")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "app.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
        "app.pem", "-days", "1", "-extfile", "san.ext")
    return d / "ca.pem", (str(d / "app.pem"), str(d / "app.key"))


def test_https(tmp):
    ca, cert = make_certificates(tmp)
    app = App(SECRET, tls=cert)
    g = None
    try:
        # Without the private CA, the certificate does not verify: nothing
        # reaches the app, the attempts fail as connection errors.
        g = forwarding(tmp, app, journal="untrusted.sqlite")
        body, sig = delivery(uuid.uuid4())
        check(g.post(body, sig)[0] == 200, "delivery not accepted")
        check(app.wait_for(lambda: g.metric('fiskil_gateway_forward_attempts_total{result="connection"}') >= 2, 10),
              "no failed attempt against an untrusted certificate")
        check(not app.snapshot(), "a request reached the app over an unverified certificate")
        g.kill()
        # With --forward-ca-file: delivered, verified, over TLS.
        g = forwarding(tmp, app, "--forward-ca-file", str(ca))
        sent = [delivery(uuid.uuid4()) for _ in range(5)]
        for b, s in sent:
            check(g.post(b, s)[0] == 200, "delivery not accepted")
        ids = {r[1] for r in kept(g)}
        check(app.wait_for(lambda: ids <= set(app.delivered_ids()), 10), "not delivered over https")
        check(all(r.valid for r in app.snapshot()), "a request with an invalid signature over https")
        g.kill()
        # The certificate must name the host: localhost is not 127.0.0.1.
        g = Gateway(tmp, "--forward", app.url.replace("127.0.0.1", "localhost"), "--forward-secret-file",
                    str(write_secret(tmp)), "--forward-ca-file", str(ca), journal="wrong-host.sqlite")
        before = len(app.snapshot())
        body, sig = delivery(uuid.uuid4())
        check(g.post(body, sig)[0] == 200, "delivery not accepted")
        check(app.wait_for(lambda: g.metric('fiskil_gateway_forward_attempts_total{result="connection"}') >= 1, 10),
              "no failed attempt against a certificate for another host")
        check(len(app.snapshot()) == before, "a request reached the app with a certificate for another host")
    finally:
        if g:
            g.kill()
        app.close()


# --- crash ------------------------------------------------------------------

def test_crash(tmp):
    app = App(SECRET)
    rng = random.Random(11)
    app.script = lambda r: ("status", 500, {}) if rng.random() < 0.2 else None
    consent_of = {}
    app.order_key = lambda r: consent_of.get(r.id)
    chains = {}
    start = time.time() - 5
    for c in range(40):
        consent = str(uuid.uuid4())
        chains[consent] = consent_chain(consent, 10, start)
    singles = [delivery(uuid.uuid4(), consent_id=str(uuid.uuid4())) for _ in range(1600)]
    queue = []
    cursors = {c: 0 for c in chains}
    while cursors or singles:
        if cursors and (not singles or rng.random() < 0.2):
            c = rng.choice(list(cursors))
            queue.append(chains[c][cursors[c]])
            mid = chains[c][cursors[c]][0].decode().split('"message_id":"')[1].split('"')[0]
            consent_of[mid] = c
            cursors[c] += 1
            if cursors[c] == len(chains[c]):
                del cursors[c]
        else:
            queue.append(singles.pop())
    g = None
    kills = 0
    posted = 0
    try:
        g = forwarding(tmp, app, "--forward-concurrency", "16")
        per_round = len(queue) // 6 + 1
        while posted < len(queue) or kills < 5:
            batch = queue[posted:posted + per_round]
            conn = g.connect()
            for body, sig in batch:
                status, _ = g.post(body, sig, conn=conn)
                check(status == 200, f"delivery answered {status}")
            conn.close()
            posted += len(batch)
            time.sleep(rng.uniform(0.1, 0.5))  # mid-stream
            if kills < 5:
                g.kill()  # kill -9, the process group
                kills += 1
                g = forwarding(tmp, app, "--forward-concurrency", "16")
        rows = kept(g)
        check(len(rows) == len(queue), f"{len(rows)} rows kept of {len(queue)}")
        ids = [r[1] for r in rows]
        check(app.wait_for(lambda: set(ids) <= set(app.delivered_ids()), 120),
              f"after {kills} kills, {len(set(ids) - set(app.delivered_ids()))} kept deliveries never reached the app")
        delivered = app.delivered_ids()
        for c in chains:
            expected = [m for m in ids if consent_of.get(m) == c]
            got = [m for m in delivered if consent_of.get(m) == c]
            check(got == expected, f"consent {c}: order at the app differs from the journal's after crashes")
        check(all(r.valid for r in app.snapshot()), "a request with an invalid signature")
        known = set(ids)
        check(all(r.id in known for r in app.snapshot()), "a webhook-id the journal does not have")
        time.sleep(1.5)
        check(g.metric("fiskil_gateway_forward_backlog") == 0, "backlog not 0 at the end")
        check(len(forward_rows(g, "delivered")) == len(rows), "not every forward_state row delivered")
        check(g.metric("fiskil_gateway_forward_delivered") == len(rows), "delivered gauge != the store's")
        check(g.metric("fiskil_gateway_forward_dead_letters") == 0, "dead letters after the crashes")
        check(g.metric("fiskil_gateway_forward_oldest_pending_seconds") == 0, "oldest pending not 0 at the end")
        repeats = len(app.snapshot()) - len(app.delivered_ids())
        print(f"crash: {len(rows)} deliveries, {kills} kills, {len(app.snapshot())} requests "
              f"({repeats} repeats or failures)", flush=True)
        check(kills >= 5, "fewer than 5 kills")
    finally:
        if g:
            g.kill()
        app.close()


GROUPS = {
    "headers": test_headers,
    "retries": test_retries,
    "order": test_order,
    "pause": test_pause,
    "dead": test_dead,
    "crash": test_crash,
    "commands": test_commands,
    "limits": test_limits,
    "https": test_https,
}



if __name__ == "__main__":
    sys.exit(harness.run_group(GROUPS, __doc__, "fiskil-forward-test-"))
