#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""forward_jetstream_commands_test.py GROUP: `fiskil-gateway jetstream
replay` and `jetstream list` against one nats-server, a gateway forwarding
from it and a scripted app (tests/forward/app_double.py).

GROUP is one of:
  replay  replay --id sends one delivery again: same webhook-id and body,
          attempt 1, a new valid signature, nothing else sent (an id kept
          as hex: found by itself and in that form); replay
          --since (RFC 3339 and a duration) sends again those received
          since, --event keeps one event's; an unknown --id exits 1, usage
          errors 64.
  list    while the app answers 500, `list` shows the fetched deliveries as
          held, those the forwarder has not fetched as pending, a replayed
          copy as redriven-held, and --limit cuts the list; a delivery not
          fetched yet is not replayed (exit 1); once the app
          answers 200 and everything is delivered, the list is empty.
Every process started here (nats-server, gateways, app) is stopped at the
end, also on failure."""

import os
import shutil
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
from run import SECRET, write_secret  # noqa: E402

BANKING = "banking.accounts.sync.completed"
ENERGY = "energy.usage.sync.completed"


def message_id(body):
    return body.decode().split('"message_id":"')[1].split('"')[0]


class Setup:
    def __init__(self, workdir, node, app, stream):
        self.workdir, self.node, self.app, self.stream = workdir, node, app, stream
        self.secret = write_secret(workdir)

    def store_args(self):
        return ["--nats", self.node.url, "--stream-replicas", "1", "--stream", self.stream,
                "--consent-bucket", self.stream.lower() + "-consents"]

    def gateway(self, *extra):
        """A gateway forwarding to the app."""
        return harness.Gateway(self.workdir, *self.store_args(), "--forward", self.app.url, "--forward-secret-file",
                               str(self.secret), "--forward-timeout", "1s", "--forward-backoff-base", "50ms",
                               "--forward-backoff-max", "300ms", *extra)

    def receiver(self):
        """A gateway that keeps deliveries in the stream without forwarding."""
        return harness.Gateway(self.workdir, *self.store_args())

    def command(self, *args):
        return subprocess.run([harness.GATEWAY, "jetstream", *args, "--nats", self.node.url, "--stream", self.stream,
                               "--forward", self.app.url], capture_output=True, text=True, timeout=60)


def post(g, event=BANKING):
    body, sig = harness.delivery(uuid.uuid4(), event=event, consent_id=str(uuid.uuid4()))
    status, answer = g.post(body, sig)
    assert status == 200 and answer.get("outcome") == "accepted", (status, answer)
    return message_id(body), body


def requests_of(app, mid):
    return [r for r in app.snapshot() if r.id == mid]


def expect_replayed(out, n):
    assert out.returncode == 0 and out.stdout.strip() == "replaying %d delivery(ies)" % n, \
        "expected %d replayed: exit %d, %r %r" % (n, out.returncode, out.stdout, out.stderr)


def rfc3339_second(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_replay(s):
    g = s.gateway()
    try:
        a, a_body = post(g)
        b, _ = post(g, ENERGY)
        c, _ = post(g)
        first = [a, b, c]
        wait_for(lambda: set(first) <= set(s.app.delivered_ids()), "the first three at the app")
        time.sleep(1.1)  # the replay's webhook-timestamp is a later second: a new signature

        # --id: that delivery once more, as a new series; nothing else.
        before = len(s.app.snapshot())
        expect_replayed(s.command("replay", "--id", a), 1)
        wait_for(lambda: len(requests_of(s.app, a)) == 2, "the replayed delivery at the app")
        original, again = requests_of(s.app, a)
        assert again.valid, "the replay's signature does not verify"
        assert again.body == a_body == original.body, "the replay's body differs"
        assert again.headers.get("webhook-signature") != original.headers.get("webhook-signature"), \
            "the replay's signature is the original's"
        assert int(again.headers["webhook-timestamp"]) > int(original.headers["webhook-timestamp"])
        assert again.headers.get("x-fiskil-delivery-attempt") == "1", again.headers
        assert again.headers.get("x-fiskil-event") == BANKING, again.headers
        assert again.answer == 200
        time.sleep(0.5)
        assert len(s.app.snapshot()) == before + 1, "replay --id sent more than one request"

        # An id a header cannot hold as is (Nats-Msg-Id "hex:..."): by
        # itself or in that form.
        odd = "odd id " + str(uuid.uuid4())
        odd_body, odd_sig = harness.delivery(odd, consent_id=str(uuid.uuid4()))
        status, answer = g.post(odd_body, odd_sig)
        assert status == 200 and answer.get("outcome") == "accepted", (status, answer)
        wait_for(lambda: odd in s.app.delivered_ids(), "the odd id at the app")
        for form in (odd, "hex:" + odd.encode().hex()):
            expect_replayed(s.command("replay", "--id", form), 1)
        wait_for(lambda: len(requests_of(s.app, odd)) == 3, "the odd id replayed twice")
        assert all(r.valid and r.body == odd_body for r in requests_of(s.app, odd))
        first.append(odd)

        # Unknown --id: exit 1, nothing sent; usage errors: 64.
        out = s.command("replay", "--id", "no-such-" + str(uuid.uuid4()))
        assert out.returncode == 1 and "no such forwarded delivery" in out.stderr, out
        for args in (("replay",), ("replay", "--id", a, "--since", "1h"), ("replay", "--since", "yesterday"),
                     ("status", "--since", "1h"), ("list", "--limit", "0"), ("list", "--dead", "--limit", "3")):
            out = s.command(*args)
            assert out.returncode == 64, "jetstream %s: exit %d, not 64" % (" ".join(args), out.returncode)

        # --since TIME: only those received from TIME on (whole seconds).
        since = int(time.time()) + 1
        while time.time() < since + 0.05:
            time.sleep(0.05)
        d, _ = post(g)
        e, _ = post(g, ENERGY)
        wait_for(lambda: {d, e} <= set(s.app.delivered_ids()), "the later two at the app")
        counts = lambda: {m: len(requests_of(s.app, m)) for m in first + [d, e]}
        want = counts()
        expect_replayed(s.command("replay", "--since", rfc3339_second(since)), 2)
        want[d] += 1
        want[e] += 1
        wait_for(lambda: counts() == want, "replay --since RFC 3339: %r" % want)
        # ... with --event: of that event only.
        expect_replayed(s.command("replay", "--since", rfc3339_second(since), "--event", ENERGY), 1)
        want[e] += 1
        wait_for(lambda: counts() == want, "replay --since --event: %r" % want)
        # A duration: the banking ones of the last hour (a, c, the odd one, d).
        expect_replayed(s.command("replay", "--since", "1h", "--event", BANKING), 4)
        for m in (a, c, odd, d):
            want[m] += 1
        wait_for(lambda: counts() == want, "replay --since 1h --event: %r" % want)
        # A time after every delivery: none.
        expect_replayed(s.command("replay", "--since", rfc3339_second(time.time() + 3600)), 0)
        time.sleep(0.5)
        assert counts() == want, "requests after the last replays: %r, expected %r" % (counts(), want)
        assert all(r.valid and r.answer == 200 for r in s.app.snapshot())
        out = s.command("status")
        assert out.returncode == 0 and "dead_letters 0" in out.stdout, out
        wait_for(lambda: "backlog 0" in s.command("status").stdout, "backlog 0 after the replays")
        print("replay: --id once (and a hex: id both ways), --since %s 2, with --event 1, --since 1h --event 4, "
              "unknown id exit 1" %
              rfc3339_second(since))
    finally:
        g.kill()


def listed(out):
    assert out.returncode == 0, out
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    for row in rows:
        assert len(row) == 8, "not 8 columns: %r" % row
    return rows


def test_list(s):
    state = {"fail": True}
    s.app.script = lambda r: ("status", 500, {}) if state["fail"] else None
    g = s.gateway("--forward-max-attempts", "1000")
    receiver = None
    try:
        # The forwarder makes its consumers on its first scan.
        wait_for(lambda: s.command("status").returncode == 0, "the destination's consumers")
        assert listed(s.command("list")) == [], "a list before any delivery"
        held = [post(g)[0] for _ in range(3)]
        wait_for(lambda: {r.id for r in s.app.snapshot()} >= set(held), "an attempt of each delivery")
        rows = listed(s.command("list"))
        assert [r[1] for r in rows] == held, "list while the app fails: %r" % rows
        assert all(r[3] == "held" and r[7] == s.app.url for r in rows), rows
        assert [int(r[0]) for r in rows] == sorted(int(r[0]) for r in rows)
        assert all(r[2] == BANKING for r in rows), rows

        # The forwarder stops (its held deliveries go back to the stream);
        # a gateway that does not forward keeps two more: not fetched yet.
        assert g.stop() == 0
        receiver = s.receiver()
        waiting = [post(receiver, ENERGY)[0] for _ in range(2)]
        rows = listed(s.command("list"))
        assert [r[1] for r in rows] == held + waiting, "list with a stopped forwarder: %r" % rows
        assert [r[3] for r in rows] == ["held"] * 3 + ["pending"] * 2, rows
        assert [r[2] for r in rows[3:]] == [ENERGY, ENERGY], rows
        out = s.command("list", "--limit", "2")
        assert [r[1] for r in listed(out)] == held[:2] and "--limit" in out.stderr, out
        out = s.command("status")
        assert "backlog 5" in out.stdout, out
        # Not fetched yet: the forwarder will send it anyway, so no replay
        # (as the journal's).
        out = s.command("replay", "--id", waiting[0])
        assert out.returncode == 1 and "no such forwarded delivery" in out.stderr, out

        # A replayed copy, still failing: listed from <stream>_DEAD.
        g = s.gateway("--forward-max-attempts", "1000")
        wait_for(lambda: {r.id for r in s.app.snapshot()} >= set(held + waiting), "attempts of all five")
        expect_replayed(s.command("replay", "--id", held[1]), 1)
        wait_for(lambda: any(r[3] == "redriven-held" for r in listed(s.command("list"))), "the replayed copy held")
        rows = listed(s.command("list"))
        assert [r[1] for r in rows] == held + waiting + [held[1]], rows
        assert [r[3] for r in rows] == ["held"] * 5 + ["redriven-held"], rows
        assert rows[5][2] == BANKING, rows

        # The app answers 200: everything is delivered and acked.
        state["fail"] = False
        wait_for(lambda: set(held + waiting) <= set(s.app.delivered_ids()), "all five delivered")
        wait_for(lambda: len([r for r in requests_of(s.app, held[1]) if r.answer == 200]) == 2,
                 "the replayed copy delivered")
        wait_for(lambda: listed(s.command("list")) == [], "an empty list once delivered")
        assert s.command("list", "--dead").stdout == ""
        print("list: 3 held, 2 pending, a replayed copy held, then empty once delivered")
    finally:
        g.kill()
        if receiver:
            receiver.kill()


GROUPS = {"replay": test_replay, "list": test_list}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in GROUPS:
        print(__doc__)
        return 64
    group = sys.argv[1]
    cluster = nats_cluster.Cluster(1)
    app = App(SECRET)
    workdir = tempfile.mkdtemp(prefix="fiskil-forward-js-commands-")
    try:
        cluster.nodes[0].start()
        cluster.wait_ready()
        GROUPS[group](Setup(workdir, cluster.nodes[0], app, "FWDCMD" + group.upper()))
        return 0
    finally:
        harness.stop_all()
        app.close()
        cluster.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
