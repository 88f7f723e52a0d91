#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""gateway_outage_test.py STREAM_CHECK: fiskil-gateway --nats through
start-up without a server and an outage of its only server.

1. The gateway starts while no NATS server answers: it listens, /readyz is
   503, a delivery is 503 (retracted: its retry is not a duplicate).
2. The server starts: the gateway connects by itself, creates the stream,
   /readyz turns 200, the retry is accepted.
3. The server is killed with SIGKILL: /readyz 503, deliveries 503.
4. It restarts on the same storage: /readyz 200 again, the retries are
   accepted (or duplicate), and the stream, read back through libnats,
   holds each accepted delivery once and nothing else.
Every process is stopped at the end, even on failure."""

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "gateway"))
import nats_cluster  # noqa: E402
import harness  # noqa: E402
from harness import wait_for  # noqa: E402


def ready(g):
    try:
        return g.get("/readyz")[0] == 200
    except OSError:
        return False


def main():
    stream_check = sys.argv[1]
    cluster = nats_cluster.Cluster(1)
    node = cluster.nodes[0]
    gateway = None
    try:
        workdir = tempfile.mkdtemp(prefix="fiskil-gw-outage-")
        gateway = harness.Gateway(workdir, "--nats", node.url, "--stream-replicas", "1")
        assert gateway.get("/readyz")[0] == 503, "ready without a server"
        body1, sig1 = harness.delivery("outage-1")
        status, doc = gateway.post(body1, sig1)
        assert (status, doc["outcome"]) == (503, "unavailable"), (status, doc)

        node.start()
        cluster.wait_ready()
        wait_for(lambda: ready(gateway), "/readyz 200 after the server started")
        status, doc = gateway.post(body1, sig1)
        assert (status, doc["outcome"]) == (200, "accepted"), (status, doc)

        node.kill()
        wait_for(lambda: not ready(gateway), "/readyz 503 after the server died")
        body2, sig2 = harness.delivery("outage-2")
        status, doc = gateway.post(body2, sig2)
        assert status == 503, (status, doc)
        status, doc = gateway.post(body1, sig1)  # the in-memory store still knows it
        assert (status, doc["outcome"]) == (200, "duplicate"), (status, doc)

        node.start()
        cluster.wait_ready()
        wait_for(lambda: ready(gateway), "/readyz 200 after the server came back", timeout=30)
        status, doc = gateway.post(body2, sig2)
        assert (status, doc["outcome"]) == (200, "accepted"), (status, doc)
        status, doc = gateway.post(body2, sig2)
        assert (status, doc["outcome"]) == (200, "duplicate"), (status, doc)

        out = subprocess.run([stream_check, node.url, "FISKIL"], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        ids = [line.split("\t")[2] for line in out.stdout.splitlines()]
        assert ids == ["outage-1", "outage-2"], ids
        assert gateway.stop() == 0, "gateway did not exit 0 on SIGTERM"
        print("start-up without a server, outage and recovery: stream holds %r" % ids)
        return 0
    except BaseException:
        if gateway is not None:
            print(gateway.stderr()[-3000:], file=sys.stderr)
        print(cluster.logs()[-3000:], file=sys.stderr)
        raise
    finally:
        if gateway is not None:
            gateway.kill()
        cluster.close()
        harness.stop_all()


if __name__ == "__main__":
    sys.exit(main())
