#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""gateway_cluster_test.py STREAM_CHECK: two fiskil-gateway replicas on a
three-node NATS cluster (JetStream, file storage, stream at 3 replicas),
with faults, then the stream read back through the C client.

A sender posts distinct deliveries, each to a random replica, retrying a
failed one on the other replica (up to 5 retries, compressed in time);
some accepted deliveries are posted again to the other replica (a lost
answer) and to the same one (a duplicate). Consent chains spread across both
replicas: received, a newer update, an older update sent after it, a
revocation, then (after the revocation is acknowledged) a late update
published before the revocation and one published after it. During the run
one NATS node is killed with SIGKILL and restarted, and one gateway replica
is killed with SIGKILL and restarted.

Checked afterwards, reading the stream with stream-check (libnats):
- every delivery answered 200 "accepted" is in the stream exactly once;
- no message_id appears twice, and none the sender never sent;
- no delivery is answered "accepted" twice;
- no update sent after its consent's revocation was acknowledged is
  answered "accepted" or found in the stream; an older update sent after a
  newer one was accepted is not in the stream either;
- every delivery the sender gave up on was answered non-2xx every time.
Every process is stopped at the end, even on failure.
"""

import concurrent.futures
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "gateway"))
import nats_cluster  # noqa: E402
import harness  # noqa: E402

PLAIN = int(os.environ.get("FISKIL_CLUSTER_DELIVERIES", "2000"))
CONSENTS = int(os.environ.get("FISKIL_CLUSTER_CONSENTS", "40"))
RETRY_WAITS = [0.3, 0.6, 1.2, 2.4, 4.8]  # the provider's 5 retries, compressed
STREAM = "FISKIL"


class Replicas:
    """The two gateway replicas; one may be down and replaced."""

    def __init__(self, workdir, urls):
        self.workdir = workdir
        self.urls = urls
        self.lock = threading.Lock()
        self.gateways = [self.start(i) for i in range(2)]

    def start(self, i):
        d = os.path.join(self.workdir, "gw%d" % i)
        os.makedirs(d, exist_ok=True)
        # No --stream-replicas: three servers, so three replicas by default.
        return harness.Gateway(d, "--nats", self.urls, "--stream", STREAM)

    def get(self, i):
        with self.lock:
            return self.gateways[i]

    def restart(self, i, pause=1.0):
        with self.lock:
            g = self.gateways[i]
        g.kill()
        time.sleep(pause)
        fresh = self.start(i)
        with self.lock:
            self.gateways[i] = fresh

    def stop_all(self):
        with self.lock:
            for g in self.gateways:
                g.kill()


class Log:
    """Every answer, per message_id."""

    def __init__(self):
        self.lock = threading.Lock()
        self.answers = {}  # message_id -> [(replica, status, outcome)]
        self.gave_up = set()
        self.late = set()  # updates sent after their consent's revocation was acknowledged
        self.superseded_by_order = set()  # older updates sent after a newer one was accepted
        self.sent = set()

    def add(self, mid, replica, status, outcome):
        with self.lock:
            self.answers.setdefault(mid, []).append((replica, status, outcome))


def post(replicas, log, mid, body, sig, replica):
    g = replicas.get(replica)
    try:
        status, doc = g.post(body, sig)
        outcome = doc.get("outcome", "")
    except Exception as e:  # refused, reset, timed out: no answer
        status, outcome = 0, type(e).__name__
    log.add(mid, replica, status, outcome)
    return status, outcome


def deliver(replicas, log, mid, body, sig, first=None):
    """Posts like the provider: the first attempt to a random replica, each
    retry to the other one. Returns the final (status, outcome), or None
    after giving up."""
    with log.lock:
        log.sent.add(mid)
    replica = random.randrange(2) if first is None else first
    for attempt in range(len(RETRY_WAITS) + 1):
        status, outcome = post(replicas, log, mid, body, sig, replica)
        if 200 <= status < 300:
            return status, outcome
        if attempt < len(RETRY_WAITS):
            time.sleep(RETRY_WAITS[attempt])
        replica = 1 - replica
    with log.lock:
        log.gave_up.add(mid)
    return None


def plain_task(replicas, log, i):
    mid = "plain-%06d" % i
    body, sig = harness.delivery(mid)
    got = deliver(replicas, log, mid, body, sig)
    if got is not None and i % 10 == 0:
        # The answer was lost: the provider retries on the other replica.
        last_replica = log.answers[mid][-1][0]
        post(replicas, log, mid, body, sig, 1 - last_replica)
    if got is not None and i % 15 == 0:
        last_replica = log.answers[mid][-1][0]
        post(replicas, log, mid, body, sig, last_replica)


def consent_task(replicas, log, c):
    consent_id = "5c0a5e5e-0000-4000-8000-%012d" % c
    t0 = time.time() - 120

    def send(name, event, dt):
        mid = "consent-%03d-%s" % (c, name)
        body, sig = harness.delivery(mid, event=event, consent_id=consent_id, publish=t0 + dt)
        return mid, deliver(replicas, log, mid, body, sig)

    send("received", "consent.received", 0)
    _, newer = send("updated-2", "consent.updated", 2)
    if newer is not None and newer[1] in ("accepted", "duplicate"):
        mid, _ = send("updated-1-older", "consent.updated", 1)
        with log.lock:
            log.superseded_by_order.add(mid)
    _, revoked = send("revoked", "consent.revoked", 3)
    if revoked is not None and revoked[1] in ("accepted", "duplicate"):
        for name, dt in (("late-before", 2.5), ("late-after", 4)):
            mid = "consent-%03d-%s" % (c, name)
            with log.lock:
                log.late.add(mid)
            send(name, "consent.updated", dt)


def faults(cluster, replicas, progress, total, errors, nats_back):
    """At 30% of the tasks, SIGKILL a NATS node and restart it (the sender
    does not pass 60% before it is back, so both faults happen under load);
    at 60%, SIGKILL a gateway replica and restart it."""
    try:
        while progress[0] < total * 0.3:
            time.sleep(0.05)
        node = random.choice(cluster.nodes)
        print("fault: SIGKILL nats node %s at %d/%d" % (node.name, progress[0], total), flush=True)
        node.kill()
        time.sleep(2)
        node.start()
        cluster.wait_ready(timeout=60)
        print("fault: nats node %s back at %d/%d" % (node.name, progress[0], total), flush=True)
        nats_back.set()
        while progress[0] < total * 0.6:
            time.sleep(0.05)
        victim = random.randrange(2)
        print("fault: SIGKILL gateway replica %d at %d/%d" % (victim, progress[0], total), flush=True)
        replicas.restart(victim)
        print("fault: gateway replica %d back at %d/%d" % (victim, progress[0], total), flush=True)
    except Exception as e:
        errors.append(e)
        nats_back.set()


def read_stream(stream_check, urls):
    out = subprocess.run([stream_check, urls, STREAM], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError("stream-check failed: %s" % out.stderr)
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    return [r[2] for r in rows]


def check(log, ids):
    failures = []
    counts = {}
    for mid in ids:
        counts[mid] = counts.get(mid, 0) + 1
    twice = [m for m, n in counts.items() if n > 1]
    if twice:
        failures.append("message ids twice in the stream: %r" % twice[:10])
    unknown = [m for m in counts if m not in log.sent]
    if unknown:
        failures.append("stream holds ids never sent: %r" % unknown[:10])
    for mid, answers in log.answers.items():
        accepted = [a for a in answers if a[1] == 200 and a[2] == "accepted"]
        if accepted and mid not in counts:
            failures.append("%s answered accepted but not in the stream: %r" % (mid, answers))
        if len(accepted) > 1:
            failures.append("%s answered accepted twice: %r" % (mid, answers))
        if mid.startswith("plain-") and any(a[1] == 200 for a in answers) and mid not in counts:
            failures.append("%s answered 200 but not in the stream: %r" % (mid, answers))
    for mid in log.late:
        answers = log.answers.get(mid, [])
        if any(a[2] == "accepted" for a in answers):
            failures.append("update after revocation accepted: %s %r" % (mid, answers))
        if mid in counts:
            failures.append("update after revocation in the stream: %s %r" % (mid, answers))
    for mid in log.superseded_by_order:
        if mid in counts:
            failures.append("older update in the stream after a newer was accepted: %s %r" % (mid, log.answers[mid]))
    for mid in log.gave_up:
        answers = log.answers.get(mid, [])
        if any(200 <= a[1] < 300 for a in answers):
            failures.append("gave up on %s though it was answered 2xx: %r" % (mid, answers))
    return failures


def main():
    stream_check = sys.argv[1]
    seed = int(os.environ.get("FISKIL_CLUSTER_SEED", str(int(time.time()))))
    print("FISKIL_CLUSTER_SEED=%d (set it to replay the same choices)" % seed, flush=True)
    random.seed(seed)
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="fiskil-gw-cluster-")
    replicas = None
    with nats_cluster.Cluster(3) as cluster:
        try:
            replicas = Replicas(workdir, cluster.urls)
            durable = replicas.get(0).metric("fiskil_gateway_store_durable")
            assert durable == 1, "three servers, default replicas: store_durable %r" % durable
            log = Log()
            tasks = [("plain", i) for i in range(PLAIN)] + [("consent", c) for c in range(CONSENTS)]
            random.shuffle(tasks)
            progress = [0]
            errors = []
            nats_back = threading.Event()
            fault_thread = threading.Thread(target=faults,
                                            args=(cluster, replicas, progress, len(tasks), errors, nats_back))
            fault_thread.start()
            gate = int(len(tasks) * 0.55)

            def run(index, task):
                if index >= gate:
                    nats_back.wait(90)
                kind, n = task
                (plain_task if kind == "plain" else consent_task)(replicas, log, n)
                progress[0] += 1

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                for f in [pool.submit(run, i, t) for i, t in enumerate(tasks)]:
                    f.result()
            fault_thread.join()
            if errors:
                raise errors[0]
            ids = read_stream(stream_check, cluster.urls)
            failures = check(log, ids)
            outcomes = {}
            for answers in log.answers.values():
                for a in answers:
                    key = "%d %s" % (a[1], a[2])
                    outcomes[key] = outcomes.get(key, 0) + 1
            print("sent %d deliveries (%d consent chains), %d posts; stream holds %d; gave up on %d; %.1f s"
                  % (len(log.sent), CONSENTS, sum(outcomes.values()), len(ids), len(log.gave_up),
                     time.monotonic() - started))
            print("answers: " + ", ".join("%s: %d" % kv for kv in sorted(outcomes.items())))
            if failures:
                print("\n".join(failures[:40]))
                for i in range(2):
                    print("--- gateway %d stderr (tail) ---\n%s" % (i, replicas.get(i).stderr()[-3000:]))
                return 1
            return 0
        except BaseException:
            print(cluster.logs()[-6000:], file=sys.stderr)
            raise
        finally:
            if replicas is not None:
                replicas.stop_all()
            harness.stop_all()


if __name__ == "__main__":
    sys.exit(main())
