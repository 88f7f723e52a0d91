#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""gateway_durability_test.py STREAM_CHECK: fiskil-gateway --nats on one
nats-server: no silent volatile default, and never a 200 for a delivery
the stream did not keep.

1. Without --stream-replicas, a lone server is refused: the gateway exits
   non-zero and its error names --stream-replicas 1.
2. --keep (the stream's max age) below --max-age + --max-future-skew + 1m is
   refused.
3. With --stream-replicas 1 it runs, logs NOT DURABLE, and /metrics says
   fiskil_gateway_store_durable 0; --stream-storage memory likewise.
4. The server is paused (SIGSTOP) past the publish timeout: a delivery is
   answered 503, a copy sent 0.5 s later while the first is in flight is
   answered 503 too (never 200 duplicate); after SIGCONT the retry is
   answered 200 and the stream holds the message exactly once.
Every process is stopped at the end, even on failure."""

import os
import signal
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


def wait_for(predicate, what, timeout=30.0):
    harness.wait_for(predicate, what, timeout)


def ready(g):
    try:
        return g.get("/readyz")[0] == 200
    except OSError:
        return False


def refused(workdir, *args):
    """Runs the gateway expecting it to refuse to start: (exit code, stderr)."""
    command = [harness.GATEWAY, "--listen", "127.0.0.1:0", "--journal", os.path.join(workdir, "unused.sqlite"),
               "--secret-file", str(harness.SECRET_FILE)] + list(args)
    proc = subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError("the gateway did not refuse to start: %r" % (args,))
    assert not out.decode().startswith("listening"), out
    return proc.returncode, err.decode()


def stream_ids(stream_check, url, stream):
    out = subprocess.run([stream_check, url, stream], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return [line.split("\t")[2] for line in out.stdout.splitlines()]


def main():
    stream_check = sys.argv[1]
    cluster = nats_cluster.Cluster(1)
    node = cluster.nodes[0]
    gateways = []
    paused = [False]
    try:
        workdir = tempfile.mkdtemp(prefix="fiskil-gw-durability-")
        node.start()
        cluster.wait_ready()

        # 1. A lone server without an explicit replica count.
        code, err = refused(workdir, "--nats", node.url)
        assert code != 0, (code, err)
        assert "--stream-replicas 1" in err and "alone" in err, err
        print("lone server, default replicas: refused (exit %d): %s" % (code, err.strip()))

        # 2. The stream's max age below the retention.
        code, err = refused(workdir, "--nats", node.url, "--stream-replicas", "1", "--keep", "70m")
        assert code != 0 and "--keep" in err and "--max-age + --max-future-skew + 1m" in err, (code, err)
        print("--keep 70m with --nats: refused: %s" % err.strip())

        # 3. Explicit one replica, and memory storage: run, not durable.
        g = harness.Gateway(workdir, "--nats", node.url, "--stream-replicas", "1", "--stream", "DURA")
        gateways.append(g)
        wait_for(lambda: ready(g), "/readyz 200")
        assert g.metric("fiskil_gateway_store_durable") == 0
        assert g.logged("NOT DURABLE"), g.stderr()
        mem_dir = os.path.join(workdir, "mem")
        os.makedirs(mem_dir)
        m = harness.Gateway(mem_dir, "--nats", node.url, "--stream-storage", "memory", "--stream-replicas", "1",
                            "--stream", "DURAMEM", "--consent-bucket", "duramem")
        gateways.append(m)
        assert m.metric("fiskil_gateway_store_durable") == 0
        assert m.stop() == 0
        print("--stream-replicas 1 / --stream-storage memory: running, fiskil_gateway_store_durable 0")

        # 4. The server paused past the publish timeout (5 s).
        body, sig = harness.delivery("paused-1")
        answers = {}

        def send(name):
            answers[name] = g.post(body, sig)

        os.kill(node.proc.pid, signal.SIGSTOP)
        paused[0] = True
        first = threading.Thread(target=send, args=("first",))
        first.start()
        time.sleep(0.5)
        copy = threading.Thread(target=send, args=("copy",))
        copy.start()
        copy.join(30)
        first.join(30)
        assert not first.is_alive() and not copy.is_alive(), "no answer while paused"
        os.kill(node.proc.pid, signal.SIGCONT)
        paused[0] = False
        assert answers["first"][0] == 503, answers
        assert answers["copy"][0] == 503, answers
        wait_for(lambda: ready(g), "/readyz 200 after SIGCONT")
        status, doc = g.post(body, sig)
        assert status == 200 and doc["outcome"] in ("accepted", "duplicate"), (status, doc)
        ids = stream_ids(stream_check, node.url, "DURA")
        assert ids.count("paused-1") == 1, ids
        print("paused past the publish timeout: first %d %s, copy %d %s, retry %d %s; stream holds it once" %
              (answers["first"][0], answers["first"][1]["outcome"], answers["copy"][0], answers["copy"][1]["outcome"],
               status, doc["outcome"]))
        assert g.stop() == 0
        return 0
    except BaseException:
        for g in gateways:
            print(g.stderr()[-3000:], file=sys.stderr)
        print(cluster.logs()[-3000:], file=sys.stderr)
        raise
    finally:
        if paused[0]:
            os.kill(node.proc.pid, signal.SIGCONT)
        for g in gateways:
            g.kill()
        cluster.close()
        harness.stop_all()


if __name__ == "__main__":
    sys.exit(main())
