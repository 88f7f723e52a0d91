#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""forward_jetstream_test.py GROUP: fiskil-gateway --nats --forward against
nats-server (one node; three for crash) and a scripted app
(tests/forward/app_double.py).

GROUP is one of:
  deliver  every kept delivery reaches the app with valid headers; consent
           chains arrive in stream order, one at a time, over the first 2xx
           of each, with 500s injected (retried); the metrics match.
  dead     --forward-max-attempts dead-letters into <stream>_DEAD;
           `jetstream list --dead` shows it, `jetstream redrive` delivers it;
           a 410 pauses (metric, KV flag) until `jetstream resume`.
  replicas two gateways on one stream and one destination: one lease
           holder forwards everything, in order; when it stops, the other
           takes over.
  crash    on a 3-node cluster (stream replicas 3), thousands of deliveries
           with consent chains, an app failing 1 request in 5, and the
           gateway killed with kill -9 five times mid-stream and restarted:
           every kept delivery reaches the app at least once, with the same
           webhook-id and a valid signature, consent order holds over the
           first 2xx of each (a restarted gateway does not let a later event
           overtake one its killed predecessor held), no dead letter, and the
           backlog ends at 0.
Every process started here (nats-server, gateways, app) is stopped at the
end, also on failure."""

import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "gateway"))
sys.path.insert(0, os.path.join(HERE, "..", "forward"))
import nats_cluster  # noqa: E402
import harness  # noqa: E402
from harness import wait_for  # noqa: E402
from app_double import App  # noqa: E402
from run import SECRET, consent_chain, write_secret  # noqa: E402


def message_id(body):
    return body.decode().split('"message_id":"')[1].split('"')[0]


class Setup:
    def __init__(self, workdir, urls, replicas, app, stream):
        self.workdir, self.urls, self.replicas, self.app, self.stream = workdir, urls, replicas, app, stream
        self.secret = write_secret(workdir)

    def gateway(self, *extra):
        return harness.Gateway(self.workdir, "--nats", self.urls, "--stream-replicas", str(self.replicas), "--stream",
                               self.stream, "--consent-bucket", self.stream.lower() + "-consents",
                               "--forward", self.app.url, "--forward-secret-file", str(self.secret),
                               "--forward-timeout", "1s", "--forward-backoff-base", "50ms",
                               "--forward-backoff-max", "300ms", *extra)

    def command(self, *args):
        return subprocess.run([harness.GATEWAY, "jetstream", *args, "--nats", self.urls, "--stream", self.stream,
                               "--forward", self.app.url], capture_output=True, text=True, timeout=30)


def post_all(g, deliveries):
    """Each delivery until it is kept, as the provider does: a 503 (a stream
    of three replicas still electing its leader right after it was made)
    is retried, a few times; anything else fails."""
    conn = g.connect()
    for body, sig in deliveries:
        for attempt in range(20):
            status, answer = g.post(body, sig, conn=conn)
            if status != 503:
                break
            conn.close()
            time.sleep(0.25)
            conn = g.connect()
        # After a 503 the store may have kept it after all: then the retry is a duplicate.
        assert status == 200 and answer.get("outcome") in (("accepted", "duplicate") if attempt else ("accepted",)), \
            (status, answer)
    conn.close()


def interleaved_chains(rng, chains, consent_of, singles=()):
    out = list(singles)
    cursors = {c: 0 for c in chains}
    while cursors:
        c = rng.choice(list(cursors))
        body, sig = chains[c][cursors[c]]
        consent_of[message_id(body)] = c
        out.insert(rng.randrange(len(out) + 1) if not cursors[c] else len(out), (body, sig))
        cursors[c] += 1
        if cursors[c] == len(chains[c]):
            del cursors[c]
    return out


def plan(s, rng, consents, singles):
    """consents chains of 6 consent events, interleaved at random with
    singles (each chain in order); s.app orders its requests by consent.
    Returns (chains, consent_of, queue, posted ids)."""
    consent_of = {}
    s.app.order_key = lambda r: consent_of.get(r.id)
    start = time.time() - 5
    chains = {c: consent_chain(c, 6, start) for c in (str(uuid.uuid4()) for _ in range(consents))}
    queue = interleaved_chains(rng, chains, consent_of, singles)
    return chains, consent_of, queue, [message_id(b) for b, _ in queue]


def check_order(app, chains, consent_of, posted_ids):
    delivered = app.delivered_ids()
    for c in chains:
        expected = [m for m in posted_ids if consent_of.get(m) == c]
        got = [m for m in delivered if consent_of.get(m) == c]
        assert got == expected, "consent %s: order at the app %s != stream order %s" % (c, got, expected)
    assert not app.overlaps, "two requests of one consent at once: %r" % app.overlaps[:3]


def test_deliver(s):
    rng = random.Random(5)
    fail_once = set()
    s.app.script = lambda r: ("status", 500, {}) if r.id in fail_once and r.headers.get(
        "x-fiskil-delivery-attempt") == "1" else None
    fixtures = list(harness.fixture_deliveries())
    samples = [(body, sig) for _, _, body, sig in fixtures]
    event_of = {message_id(body): event for _, event, body, _ in fixtures}
    chains, consent_of, queue, posted = plan(s, rng, 6, samples)
    fail_once.update(rng.sample(posted, 10))
    g = s.gateway("--forward-concurrency", "4")
    try:
        post_all(g, queue)
        wait_for(lambda: set(posted) <= set(s.app.delivered_ids()), "every delivery at the app")
        bodies = {message_id(b): (b, None) for b, _ in queue}
        for r in s.app.snapshot():
            assert r.id in bodies, "unknown webhook-id %s" % r.id
            assert r.valid, "%s: the signature does not verify" % r.id
            assert r.body == bodies[r.id][0], "%s: body differs" % r.id
            assert r.headers.get("idempotency-key") == r.id
            assert r.headers.get("x-fiskil-event") == event_of.get(r.id, json.loads(r.body)["data"].get("event")), r.headers
            want = "2" if r.id in fail_once and r.answer == 200 else None
            if want:
                assert r.headers.get("x-fiskil-delivery-attempt") == want, r.headers
        check_order(s.app, chains, consent_of, posted)
        time.sleep(1.5)
        assert g.metric("fiskil_gateway_forward_backlog") == 0, "backlog not 0"
        assert g.metric('fiskil_gateway_forward_attempts_total{result="2xx"}') == len(posted)
        assert g.metric('fiskil_gateway_forward_attempts_total{result="5xx"}') == len(fail_once)
        assert g.metric("fiskil_gateway_forward_dead_letters") == 0
        out = s.command("status")
        assert out.returncode == 0 and "backlog 0" in out.stdout and "dead_letters 0" in out.stdout, out
        print("deliver: %d deliveries, %d retried once, %d consent chains in order" %
              (len(posted), len(fail_once), len(chains)))
    finally:
        g.kill()


def test_dead(s):
    state = {"fail": None, "gone": False}

    def script(r):
        if state["gone"]:
            return ("status", 410, {})
        return ("status", 500, {}) if r.id == state["fail"] else None
    s.app.script = script
    body, sig = harness.delivery(uuid.uuid4(), consent_id=str(uuid.uuid4()))
    state["fail"] = message_id(body)
    other, other_sig = harness.delivery(uuid.uuid4(), consent_id=str(uuid.uuid4()))
    g = s.gateway("--forward-max-attempts", "3")
    try:
        post_all(g, [(body, sig), (other, other_sig)])
        wait_for(lambda: g.metric("fiskil_gateway_forward_dead_letters") == 1, "a dead letter")
        assert message_id(other) in s.app.delivered_ids()
        attempts = [r for r in s.app.snapshot() if r.id == state["fail"]]
        assert len(attempts) == 3, "%d attempts, not --forward-max-attempts 3" % len(attempts)
        assert g.logged("forward_dead_letter")
        out = s.command("list", "--dead")
        assert out.returncode == 0 and state["fail"] in out.stdout and "last_status=500" in out.stdout, out
        state["fail"] = None
        out = s.command("redrive", "--id", message_id(body))
        assert out.returncode == 0 and "redriven 1" in out.stdout, out
        wait_for(lambda: message_id(body) in s.app.delivered_ids(), "the redriven delivery at the app")
        wait_for(lambda: g.metric("fiskil_gateway_forward_dead_letters") == 0, "no dead letter left")
        assert s.command("list", "--dead").stdout.strip() == ""
        # 410: paused for every replica (KV flag) until jetstream resume.
        state["gone"] = True
        later, later_sig = harness.delivery(uuid.uuid4(), consent_id=str(uuid.uuid4()))
        post_all(g, [(later, later_sig)])
        wait_for(lambda: g.metric("fiskil_gateway_forward_paused") == 1, "paused after a 410")
        out = s.command("status")
        assert "paused yes" in out.stdout, out
        state["gone"] = False
        out = s.command("resume")
        assert out.returncode == 0 and "resumed" in out.stdout, out
        wait_for(lambda: message_id(later) in s.app.delivered_ids(), "delivered after jetstream resume")
        wait_for(lambda: g.metric("fiskil_gateway_forward_paused") == 0, "the paused gauge back to 0")
        print("dead: dead letter after 3 attempts, redriven, 410 paused and resumed")
    finally:
        g.kill()


def spread_chains(rng, chains, consent_of, singles):
    """The chains' events at random places over the whole queue, each chain
    in order, so that a chain's later events arrive rounds after its first."""
    placed = [(rng.random(), d) for d in singles]
    for c, chain in chains.items():
        for place, (body, sig) in zip(sorted(rng.random() for _ in chain), chain):
            consent_of[message_id(body)] = c
            placed.append((place, (body, sig)))
    return [d for _, d in sorted(placed, key=lambda x: x[0])]


def test_crash(s):
    rng = random.Random(13)
    # 1 request in 5 fails; until the last kill the others take 20 ms, so
    # that the gateway holds deliveries it has not acknowledged yet when it
    # is killed.
    killing = [True]
    s.app.script = lambda r: ("status", 500, {}) if rng.random() < 0.2 else ("slow", 0.02) if killing[0] else None
    chains, consent_of, _, _ = plan(s, rng, 100, [])
    singles = [harness.delivery(uuid.uuid4(), consent_id=str(uuid.uuid4())) for _ in range(1400)]
    queue = spread_chains(rng, chains, consent_of, singles)
    posted = [message_id(b) for b, _ in queue]
    gateway = lambda: s.gateway("--forward-concurrency", "4")
    g = gateway()
    kills = takeovers = 0
    try:
        rounds = 6
        per_round = len(queue) // rounds + 1
        for r in range(rounds):
            # Posted at once, while the killed gateway's lease runs out: the
            # next holder finds these in the stream beside what the killed
            # one held without acknowledging.
            post_all(g, queue[r * per_round:(r + 1) * per_round])
            if kills < 5:
                assert g.logged("forward_lease_taken", timeout=30), "the restarted gateway never took the lease"
                # Mid-stream, after the holder has refreshed the AckWait of
                # what it holds (every AckWait/3 = 2 s) and before its next
                # lease renewal (every AckWait/4): what it held comes back
                # after its lease runs out, and the next holder must wait
                # for it before sending a later event of the same consent.
                time.sleep(rng.uniform(2.05, 2.95))
                takeovers += "event=forward_takeover" in g.stderr()
                g.kill()  # kill -9
                kills += 1
                g = gateway()
            else:
                killing[0] = False
        wait_for(lambda: set(posted) <= set(s.app.delivered_ids()),
                 "every kept delivery at the app after %d kills" % kills, timeout=150)
        requests = s.app.snapshot()
        known = set(posted)
        assert all(r.id in known for r in requests), "a webhook-id the stream does not have"
        assert all(r.valid for r in requests), "a request with an invalid signature"
        check_order(s.app, chains, consent_of, posted)
        wait_for(lambda: g.metric("fiskil_gateway_forward_backlog") == 0, "backlog 0 at the end", timeout=30)
        assert g.metric("fiskil_gateway_forward_dead_letters") == 0, "dead letters after the kills"
        # The case this test is for happened: a restarted gateway took over
        # deliveries its killed predecessor held unacknowledged.
        assert takeovers > 0, "no restarted gateway found unacknowledged deliveries: the kills missed the stream"
        print("crash: %d deliveries (%d in consent chains), %d kills on a 3-node cluster (%d take-overs of "
              "unacknowledged deliveries), %d requests" % (len(posted), len(consent_of), kills, takeovers, len(requests)))
    finally:
        g.kill()


def test_replicas(s):
    rng = random.Random(17)
    chains, consent_of, queue, posted = plan(s, rng, 6, [harness.delivery(uuid.uuid4(), consent_id=str(uuid.uuid4())) for _ in range(40)])
    a = s.gateway()
    b = s.gateway()
    try:
        # Each delivery to either replica: one of them holds the lease and
        # forwards them all.
        for i, (body, sig) in enumerate(queue):
            post_all(a if i % 2 else b, [(body, sig)])
        wait_for(lambda: set(posted) <= set(s.app.delivered_ids()), "every delivery at the app")
        check_order(s.app, chains, consent_of, posted)
        count = lambda: [g.metric('fiskil_gateway_forward_attempts_total{result="2xx"}') for g in (a, b)]
        wait_for(lambda: sum(count()) >= len(posted), "the 2xx attempts counted")
        ok = count()
        assert sorted(ok) == [0, len(posted)], "2xx attempts per replica %r: not one forwarder" % ok
        leader, other = (a, b) if ok[0] else (b, a)
        # The lease holder stops: the other takes over.
        assert leader.stop() == 0
        more = [harness.delivery(uuid.uuid4(), consent_id=str(uuid.uuid4())) for _ in range(5)]
        post_all(other, more)
        wait_for(lambda: {message_id(m) for m, _ in more} <= set(s.app.delivered_ids()),
                 "delivered by the other replica after the lease holder stopped")
        assert other.logged("forward_lease_taken")
        print("replicas: %d deliveries through one lease holder, then %d after it stopped" % (len(posted), len(more)))
    finally:
        a.kill()
        b.kill()


GROUPS = {"deliver": test_deliver, "dead": test_dead, "crash": test_crash, "replicas": test_replicas}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in GROUPS:
        print(__doc__)
        return 64
    group = sys.argv[1]
    nodes = 3 if group == "crash" else 1
    cluster = nats_cluster.Cluster(nodes)
    app = App(SECRET)
    workdir = tempfile.mkdtemp(prefix="fiskil-forward-js-")
    try:
        for node in cluster.nodes:
            node.start()
        cluster.wait_ready()
        GROUPS[group](Setup(workdir, cluster.urls, nodes, app, "FWD" + group.upper()))
        return 0
    finally:
        harness.stop_all()
        app.close()
        cluster.close()


if __name__ == "__main__":
    sys.exit(main())
