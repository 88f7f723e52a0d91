#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""cluster_chaos.py STREAM_CHECK: the audit under chaos (issue 17) on a
three-node NATS cluster: the same senders and checks as the journal audit
(tests/gateway/chaos_audit.py), with two gateways (--nats, the stream at
three replicas) and every sender spreading its deliveries and retries over
both. Faults injected at random, one at a time:

- a NATS node SIGSTOPped for 1-4 s, then SIGCONTed;
- a NATS node SIGKILLed and restarted on its storage;
- a gateway SIGKILLed and restarted on the same port.

The store is the stream, read back through libnats (stream-check): (a)
every delivery that got any 2xx is in the stream exactly once (or rests on
its consent's kept events), (b) every delivery whose retries did not run out
got a 2xx, (c) no consent event is in the stream after (by sequence) its
consent's revocation. FISKIL_CHAOS_SEED replays the fault schedule;
FISKIL_CHAOS_SECONDS sets how long deliveries are generated (default 25).
Every process is stopped at the end, even on failure.
"""
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "gateway"))
import nats_cluster  # noqa: E402
import harness  # noqa: E402
import faults  # noqa: E402
import chaos_audit  # noqa: E402
from chaos_audit import say  # noqa: E402

STREAM = "FISKIL"
SUBJECT_PREFIX = "fiskil.events."
GATEWAYS = 2


def stream_records(stream_check, urls):
    out = subprocess.run([stream_check, urls, STREAM], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise AssertionError("stream-check failed: %s" % out.stderr)
    records = []
    for line in out.stdout.splitlines():
        seq, subject, msg_id = line.split("\t")[:3]
        event = subject[len(SUBJECT_PREFIX):] if subject.startswith(SUBJECT_PREFIX) else subject
        records.append({"seq": int(seq), "message_id": msg_id, "event": event, "consent": None})
    return records


def main():
    if len(sys.argv) != 2 or not harness.GATEWAY or not chaos_audit.TOOL:
        print("usage: FISKIL_GATEWAY=... FISKIL_WEBHOOK=... cluster_chaos.py STREAM_CHECK", file=sys.stderr)
        return 2
    # meson's timeout sends SIGTERM: unwind, so that every process started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stream_check = sys.argv[1]
    seed = int(os.environ.get("FISKIL_CHAOS_SEED", str(random.SystemRandom().randrange(1 << 32))))
    seconds = float(os.environ.get("FISKIL_CHAOS_SECONDS", "25"))
    say(f"FISKIL_CHAOS_SEED={seed} (set it to replay the fault schedule); gateway {harness.GATEWAY}")
    rng = random.Random(seed)
    started = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="dbg-chaos-")
    print("TMPDIR", tmp)
    with nats_cluster.Cluster(3) as cluster:
        tmp = pathlib.Path(tmp)
        (tmp / "logs").mkdir()
        gateways = []
        injector = None
        senders = None
        try:
            def starter(i):
                workdir = tmp / f"gw{i}"
                workdir.mkdir()
                return lambda port: harness.Gateway(workdir, "--nats", cluster.urls, "--stream", STREAM,
                                                    "--stream-replicas", "3", listen="127.0.0.1:%d" % (port or 0))

            for i in range(GATEWAYS):
                gateways.append(faults.Restartable(starter(i)))

            def pause(r, stop):
                node = r.choice(cluster.nodes)
                seconds = round(r.uniform(1.0, 4.0), 2)
                if not faults.sigstop_for(node.proc, seconds, stop):
                    return None
                return f"nats node {node.name} SIGSTOPped for {seconds} s"

            def node_kill(r, stop):
                node = r.choice(cluster.nodes)
                down = round(r.uniform(0.2, 2.0), 2)
                node.kill()
                stop.wait(down)
                node.start()
                if not stop.is_set():
                    cluster.wait_ready(timeout=60)
                return f"nats node {node.name} SIGKILLed, restarted after {down} s"

            def gateway_kill(r, stop):
                i = r.randrange(len(gateways))
                down = round(r.uniform(0.0, 1.0), 2)
                gateways[i].kill_and_restart(down)
                return f"gateway {i} SIGKILLed, restarted after {down} s on port {gateways[i].port}"

            urls = [f"http://127.0.0.1:{g.port}/webhooks/fiskil" for g in gateways]
            senders = chaos_audit.Senders(tmp / "logs", urls, harness.FIXTURES / "secret.b64")
            injector = faults.Injector(rng, [("nats-pause", 3, pause), ("nats-kill", 2, node_kill),
                                             ("gateway-kill", 2, gateway_kill)])
            injector.start()
            workers = chaos_audit.drive(senders, rng, seconds)
            time.sleep(seconds)
            injector.stop()
            for t in workers:
                t.join(60)
            killed = senders.wait_all(time.monotonic() + 30)
            if injector.error:
                raise injector.error
            cluster.wait_ready(timeout=60)
            kept = stream_records(stream_check, cluster.urls)
            violations, counts = chaos_audit.audit(senders.attempts(), kept, killed)
            if killed:
                say(f"{len(killed)} sender(s) still running at the deadline, killed: {killed[:5]}")
            failed = chaos_audit.report(violations, counts, injector.counts, started, "FISKIL_CHAOS_SEED", seed)
            chaos_audit.refusal_reasons(gateways)
            for i, g in enumerate(gateways):
                for j, inst in enumerate(g.history):
                    open(f"{tmp}/gw{i}-{j}.log", "w").write(inst.stderr())
            if failed:
                for i, g in enumerate(gateways):
                    say(f"--- gateway {i} stderr (tail) ---\n" + g.get().stderr()[-2000:])
            return 1 if failed else 0
        except BaseException:
            print(cluster.logs()[-6000:], file=sys.stderr)
            raise
        finally:
            if senders is not None:
                senders.close()
            if injector is not None and injector.is_alive():
                injector.stop()
            for g in gateways:
                g.kill()
            harness.stop_all()


if __name__ == "__main__":
    sys.exit(main())
