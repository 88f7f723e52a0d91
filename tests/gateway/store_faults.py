#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Never acknowledge what was not kept (issue 17): the gateway under store
faults injected from outside.

    FISKIL_GATEWAY=build/gateway/fiskil-gateway python3 tests/gateway/store_faults.py GROUP

GROUP is one of: inflight, consent, deadline, identity, retention, readiness.
Each fault comes from another process or the file system: a write lock held
by a Python sqlite3 connection, the journal file removed or replaced, a
signal. meson runs each group as one test of the suite `gateway`.
"""
import atexit
import concurrent.futures
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import Gateway, check, delivery, expect, journal_rows  # noqa: E402

_holders = []




@atexit.register
def _release_all():
    for p in _holders:
        if p.poll() is None:
            p.kill()
            p.wait()


def hold_write_lock(path, seconds):
    """Another process takes the journal's write lock (BEGIN EXCLUSIVE) and
    holds it for seconds. Returns once the lock is held."""
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(float(sys.argv[2]))\n"
            "c.execute('COMMIT')\n")
    p = subprocess.Popen([sys.executable, "-c", code, str(path), str(seconds)], stdout=subprocess.PIPE)
    _holders.append(p)
    line = p.stdout.readline()
    if line.strip() != b"locked":
        raise AssertionError(f"the lock holder did not take the lock: {line!r}")
    return p


def timed_post(g, body, signature):
    started = time.monotonic()
    answer = g.post(body, signature)
    return answer, started, time.monotonic()


def rows_for(g, message_id):
    return journal_rows(g.journal, f"SELECT count(*) FROM deliveries WHERE message_id = '{message_id}'")[0][0]


def wait_until(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


# --- a copy of a delivery in flight --------------------------------------------

def test_inflight(tmp):
    """Issue 17, case 1: a copy sent while the first is waiting on a locked
    journal must not be answered 200 before the first is kept."""
    g = Gateway(tmp, "--journal-busy-timeout", "1500ms")
    pool = concurrent.futures.ThreadPoolExecutor(4)
    try:
        # The first copy fails: the lock outlasts the busy timeout.
        a = delivery("9600000000000001")
        holder = hold_write_lock(g.journal, 3.0)
        first = pool.submit(timed_post, g, *a)
        time.sleep(0.5)
        copy = pool.submit(timed_post, g, *a)
        (first_answer, _, first_done), (copy_answer, _, copy_done) = first.result(30), copy.result(30)
        expect(first_answer, 503, "unavailable", "the first copy, journal locked past the busy timeout")
        expect(copy_answer, 503, "unavailable", "a copy of it sent 0.5 s later (never 200 duplicate)")
        check(copy_done >= first_done - 0.05, "the copy is answered only once the first is")
        check(g.metric("fiskil_gateway_copies_waited_total") >= 1, "the copy waited for the first's answer")
        holder.wait(30)
        check(rows_for(g, "9600000000000001") == 0, "nothing was kept")
        expect(g.post(*a), 200, "accepted", "the provider's retry, once the lock is released: accepted afresh")
        expect(g.post(*a), 200, "duplicate", "a copy after it was kept: duplicate")
        check(rows_for(g, "9600000000000001") == 1, "kept once")

        # The first copy is kept slowly: the copy waits and is a duplicate.
        b = delivery("9600000000000002")
        holder = hold_write_lock(g.journal, 0.8)
        released_at = time.monotonic() + 0.8
        first = pool.submit(timed_post, g, *b)
        time.sleep(0.3)
        copy = pool.submit(timed_post, g, *b)
        (first_answer, _, _), (copy_answer, _, copy_done) = first.result(30), copy.result(30)
        expect(first_answer, 200, "accepted", "the first copy, kept once the lock is released")
        expect(copy_answer, 200, "duplicate", "its copy, answered from the first's result")
        check(copy_done >= released_at - 0.1, "the copy's 200 came after the first was kept, not before")
        holder.wait(30)
        check(rows_for(g, "9600000000000002") == 1, "kept once, never written twice")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        pool.shutdown(wait=False)
        g.kill()


# --- two consent events of one consent in a failing batch ------------------------

def test_consent(tmp):
    """Issue 17, case 2: two consent events of one consent fail; each retry
    must be judged against what was kept, never against the other's state."""
    g = Gateway(tmp, "--journal-busy-timeout", "1s")
    pool = concurrent.futures.ThreadPoolExecutor(4)
    try:
        consent = "c0a5e5e0-0000-4000-8000-00000000c017"
        now = time.time()
        received = delivery("9610000000000001", "consent.received", consent, publish=now - 2)
        updated = delivery("9610000000000002", "consent.updated", consent, publish=now - 1)
        holder = hold_write_lock(g.journal, 3.5)
        first = pool.submit(g.post, *received)
        time.sleep(0.3)
        second = pool.submit(g.post, *updated)
        first_answer, second_answer = first.result(30), second.result(30)
        expect(first_answer, 503, "unavailable", "consent.received, journal locked")
        check(second_answer[0] == 503, f"consent.updated of the same consent, meanwhile: 503, got {second_answer}")
        check(g.metric("fiskil_gateway_consent_waits_total") >= 1,
              "the second event waited for the first instead of being judged against it")
        holder.wait(30)
        # The provider retries the older one first: it was never kept, so it
        # is accepted and written (1.x answered it 200 duplicate, unwritten).
        expect(g.post(*received), 200, "accepted", "consent.received's retry")
        expect(g.post(*updated), 200, "accepted", "consent.updated's retry")
        kept = journal_rows(g.journal, "SELECT message_id FROM deliveries ORDER BY seq")
        check([r[0] for r in kept] == ["9610000000000001", "9610000000000002"], f"both kept, in order: {kept}")
        state = journal_rows(g.journal, f"SELECT change FROM consents WHERE consent_id = '{consent}'")
        check(state == [(2,)], f"the consent's state is the update: {state}")
        # Out of order after a failure: an older event is superseded only by
        # what was kept.
        older = delivery("9610000000000003", "consent.received", consent, publish=now - 10)
        expect(g.post(*older), 200, "superseded", "an older event, judged against kept state")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        pool.shutdown(wait=False)
        g.kill()


# --- the store deadline ------------------------------------------------------------

def test_deadline(tmp):
    """--store-timeout: a delivery not kept in time is answered 503; the write
    that lands after it is harmless (the retry is a duplicate, one row)."""
    g = Gateway(tmp, "--store-timeout", "1s", "--journal-busy-timeout", "10s")
    pool = concurrent.futures.ThreadPoolExecutor(4)
    try:
        a = delivery("9620000000000001")
        holder = hold_write_lock(g.journal, 2.5)
        first = pool.submit(timed_post, g, *a)
        time.sleep(0.3)
        copy = pool.submit(timed_post, g, *a)
        (first_answer, first_start, first_done), (copy_answer, _, _) = first.result(30), copy.result(30)
        expect(first_answer, 503, "unavailable", "not kept within --store-timeout")
        check("store-timeout" in first_answer[1].get("error", ""), f"the error names the deadline: {first_answer}")
        check(first_done - first_start < 2.0, f"answered at the deadline ({first_done - first_start:.2f} s), "
                                              "not when the lock was released")
        expect(copy_answer, 503, "unavailable", "its copy, meanwhile")
        check(g.metric("fiskil_gateway_store_timeouts_total") >= 1, "the timeout is counted")
        holder.wait(30)
        # The write was still queued: it lands after its 503.
        check(wait_until(lambda: rows_for(g, "9620000000000001") == 1), "the late write landed")
        check(wait_until(lambda: g.metric("fiskil_gateway_store_late_answers_total") >= 1), "the late answer is counted")
        expect(g.post(*a), 200, "duplicate", "the provider's retry: duplicate, from the store")
        check(rows_for(g, "9620000000000001") == 1, "one row")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        pool.shutdown(wait=False)
        g.kill()


# --- the journal's identity ----------------------------------------------------------

def test_identity(tmp):
    """A journal removed, then replaced, at run time is never re-created or
    adopted: 503 and not ready until the gateway restarts."""
    g = Gateway(tmp)
    try:
        expect(g.post(*delivery("9630000000000001")), 200, "accepted", "before the journal is removed")
        journal_id = journal_rows(g.journal, "SELECT value FROM gateway_meta WHERE key = 'journal_id'")
        check(len(journal_id) == 1 and len(journal_id[0][0]) == 32, f"the journal has an identity: {journal_id}")
        os.remove(g.journal)
        expect(g.post(*delivery("9630000000000002")), 503, "unavailable", "journal removed")
        check(not os.path.exists(g.journal), "the journal is not re-created at run time")
        check(g.get("/readyz")[0] == 503, "/readyz 503 once the journal is gone")
        check(g.logged("journal_file_replaced"), "logged")
        check(g.metric("fiskil_gateway_journal_identity_lost") == 1, "shown in /metrics")
        # Another file appears at the path: not adopted.
        other = sqlite3.connect(g.journal)
        other.execute("CREATE TABLE unrelated (x)")
        other.commit()
        other.close()
        time.sleep(1.2)  # a probe or two
        expect(g.post(*delivery("9630000000000003")), 503, "unavailable", "a different file at the path")
        check(g.get("/readyz")[0] == 503, "/readyz still 503")
        tables = journal_rows(g.journal, "SELECT name FROM sqlite_master WHERE type = 'table'")
        check(tables == [("unrelated",)], f"the other file was not written to: {tables}")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


# --- retention and consumers ----------------------------------------------------------

def test_retention(tmp):
    tmp = pathlib.Path(tmp)
    r = subprocess.run([harness.GATEWAY, "--listen", "127.0.0.1:0", "--secret-file", str(harness.SECRET_FILE),
                        "--journal", str(tmp / "j.sqlite"), "--keep", "1s"],
                       capture_output=True, text=True, timeout=30, cwd=tmp)
    check(r.returncode == 64 and "--keep 1s" in r.stderr and "71m" in r.stderr,
          f"--keep below the retention is refused at start: {r.returncode} {r.stderr}")

    # Rows older than --keep, a consumer at the third: the rows after it stay.
    g = Gateway(tmp)
    try:
        for i in range(6):
            expect(g.post(*delivery(f"964000000000000{i}")), 200, "accepted", "to be aged")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()
    db = sqlite3.connect(tmp / "journal.sqlite")
    week_ago_ns = int((time.time() - 8 * 86400) * 1e9)
    db.execute("UPDATE deliveries SET received_time_ns = ?", (week_ago_ns,))
    third = db.execute("SELECT seq FROM deliveries ORDER BY seq LIMIT 1 OFFSET 2").fetchone()[0]
    db.execute("INSERT INTO consumer_cursor (name, seq) VALUES ('billing', ?)", (third,))
    db.commit()
    db.close()
    g = Gateway(tmp)
    try:
        check(wait_until(lambda: g.metric("fiskil_gateway_journal_pruned_total") == 3),
              "rows the consumer has passed are pruned")
        time.sleep(1.5)
        left = [r[0] for r in journal_rows(g.journal)]
        check(left == [f"964000000000000{i}" for i in range(3, 6)], f"rows the consumer has not passed stay: {left}")
        check(g.metric('fiskil_gateway_journal_consumer_lag{consumer="billing"}') == 3, "the consumer's lag in rows")
        check(g.metric('fiskil_gateway_journal_consumer_lag_seconds{consumer="billing"}') > 7 * 86400,
              "the consumer's lag in seconds")
        # The documented way to deregister a consumer.
        db = sqlite3.connect(tmp / "journal.sqlite", timeout=10)
        db.execute("DELETE FROM consumer_cursor WHERE name = 'billing'")
        db.commit()
        db.close()
        check(wait_until(lambda: g.metric("fiskil_gateway_journal_pruned_total") == 6), "then the rest is pruned")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()

    # Issue 17, case 3: a delivery kept, the gateway restarted on the same
    # journal, the provider's retry within the freshness window: duplicate.
    g = Gateway(tmp)
    b = delivery("9640000000000100")
    try:
        expect(g.post(*b), 200, "accepted", "before the restart")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()
    g = Gateway(tmp)
    try:
        expect(g.post(*b), 200, "duplicate", "the retry after a restart")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


# --- readiness -----------------------------------------------------------------------

def test_readiness(tmp):
    tmp = pathlib.Path(tmp)
    g = Gateway(tmp, "--ready-pending-age", "300ms", "--journal-busy-timeout", "2s")
    pool = concurrent.futures.ThreadPoolExecutor(2)
    try:
        check(g.get("/readyz")[0] == 200, "ready at first")
        holder = hold_write_lock(g.journal, 1.5)
        pending = pool.submit(g.post, *delivery("9650000000000001"))
        check(wait_until(lambda: g.get("/readyz")[0] == 503, 1.2), "/readyz 503 while the writer is stuck")
        check(g.metric("fiskil_gateway_store_pending") >= 1, "the delivery waiting is shown")
        holder.wait(30)
        expect(pending.result(30), 200, "accepted", "kept once the lock is released")
        check(wait_until(lambda: g.get("/readyz")[0] == 200, 3), "/readyz 200 again")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        pool.shutdown(wait=False)
        g.kill()

    g = Gateway(tmp, "--shutdown-delay", "1500ms")
    try:
        g.signal(signal.SIGTERM)
        check(wait_until(lambda: g.get("/readyz")[0] == 503, 1.0), "/readyz 503 at once on SIGTERM")
        check(g.get("/healthz")[0] == 200, "while the listener still serves")
        expect(g.post(*delivery("9650000000000002")), 200, "accepted", "and deliveries are still kept")
        g.proc.wait(20)
        check(g.proc.returncode == 0, f"exits 0 after the delay: {g.proc.returncode}")
    finally:
        g.kill()


def test_batches(tmp):
    """Group commit (issue 19): deliveries that arrive while a batch waits for
    the write lock share the next transaction, and
    fiskil_gateway_journal_batch_size counts every batch and every delivery."""
    g = Gateway(tmp)
    pool = concurrent.futures.ThreadPoolExecutor(20)
    try:
        expect(g.post(*delivery("9700000000000000")), 200, "accepted", "a first delivery, alone in its batch")
        holder = hold_write_lock(g.journal, 1.0)
        futures = [pool.submit(timed_post, g, *delivery(f"97000000000000{i:02d}")) for i in range(1, 21)]
        answers = [f.result(30)[0] for f in futures]
        holder.wait(30)
        for i, answer in enumerate(answers, 1):
            expect(answer, 200, "accepted", f"delivery {i} of 20 sent while the lock was held (under the busy timeout)")
        count = g.metric("fiskil_gateway_journal_batch_size_count")
        check(count == g.metric("fiskil_gateway_journal_batches_total"), f"one observation per batch ({count})")
        check(g.metric("fiskil_gateway_journal_batch_size_sum") == 21, "every delivery written is counted once")
        check(g.metric('fiskil_gateway_journal_batch_size_bucket{le="+Inf"}') == count, "+Inf is the count")
        check(g.metric('fiskil_gateway_journal_batch_size_bucket{le="1"}') >= 1, "the first delivery's batch of 1")
        check(g.metric('fiskil_gateway_journal_batch_size_bucket{le="8"}') < count,
              "a batch of more than 8: the deliveries queued behind the lock share one transaction")
        check(journal_rows(g.journal, "SELECT count(*) FROM deliveries")[0][0] == 21, "all 21 kept")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        pool.shutdown(wait=False)
        g.kill()


def test_wal(tmp):
    """--journal-wal-limit (issue 19): checkpoints run beside the writer once
    a sixteenth of the limit waits for one, not after every commit, and the
    WAL file stays near the limit."""
    limit = 1 << 20
    g = Gateway(tmp, "--journal-wal-limit", "1MiB")
    pool = concurrent.futures.ThreadPoolExecutor(4)
    wal = pathlib.Path(str(g.journal) + "-wal")
    sizes = []
    sending = [True]

    def sample():
        while sending[0]:
            try:
                sizes.append(wal.stat().st_size)
            except FileNotFoundError:
                pass
            time.sleep(0.01)

    def send(first):
        return [g.post(*delivery(f"98{i:014d}"))[0] for i in range(first, 1200, 4)]

    try:
        sampler = pool.submit(sample)
        statuses = [s for f in [pool.submit(send, w) for w in range(3)] for s in f.result(120)] + send(3)
        sending[0] = False
        sampler.result(10)
        check(statuses.count(200) == 1200, f"every delivery accepted ({statuses.count(200)} of 1200)")
        batches = g.metric("fiskil_gateway_journal_batches_total")
        background = g.metric("fiskil_gateway_journal_checkpoints_total")
        bound = g.metric("fiskil_gateway_journal_bound_checkpoints_total")
        written = journal_rows(g.journal, "SELECT count(*) FROM deliveries")[0][0]
        print(f"wal: {int(batches)} batches, {int(background)} checkpoints beside the writer, {int(bound)} at the "
              f"limit; largest WAL file {max(sizes, default=0)} bytes", flush=True)
        check(written == 1200, "all 1200 kept")
        check(background + bound >= 1, "the WAL was checkpointed")
        check(background * 3 < batches, "checkpoints beside the writer run once a sixteenth of the limit waits, "
              "not after every commit")
        check(max(sizes, default=0) <= 1.5 * limit, "the WAL file stays near --journal-wal-limit")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        sending[0] = False
        pool.shutdown(wait=False)
        g.kill()


GROUPS = {
    "inflight": test_inflight,
    "consent": test_consent,
    "deadline": test_deadline,
    "identity": test_identity,
    "retention": test_retention,
    "readiness": test_readiness,
    "batches": test_batches,
    "wal": test_wal,
}



if __name__ == "__main__":
    sys.exit(harness.run_group(GROUPS, __doc__, "fiskil-store-faults-"))
