#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""run_store_test.py --nodes N -- PROGRAM [ARGS]: starts N nats-server nodes
(JetStream, file storage, clustered when N > 1), runs PROGRAM with
FISKIL_NATS_URL (all nodes), FISKIL_NATS_REPLICAS (N) and, with one node,
FISKIL_NATS_PID, then stops every node whatever happened."""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nats_cluster  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=1)
    ap.add_argument("program", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    program = [a for a in args.program if a != "--"]
    with nats_cluster.Cluster(args.nodes) as cluster:
        env = dict(os.environ)
        env["FISKIL_NATS_URL"] = cluster.urls
        env["FISKIL_NATS_REPLICAS"] = str(args.nodes)
        env["FISKIL_NATS_DEAD_URL"] = "nats://127.0.0.1:%d" % nats_cluster.free_port()
        if args.nodes == 1:
            env["FISKIL_NATS_PID"] = str(cluster.nodes[0].proc.pid)
        proc = nats_cluster.start_process(program, env=env)
        try:
            rc = proc.wait(timeout=150)
        except subprocess.TimeoutExpired:
            print("test program timed out", file=sys.stderr)
            rc = 1
        finally:
            nats_cluster.stop_process(proc)
        if rc != 0:
            print(cluster.logs(), file=sys.stderr)
        return rc


if __name__ == "__main__":
    sys.exit(main())
