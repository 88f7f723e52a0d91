#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""consumer_test.py PUBLISHER CONSUMER FIXTURES: the stream consumer example
against a real node. Publishes every fixture delivery through the JetStream
store, then runs examples/stream_consumer twice on one durable consumer:
first stopping after 5 acknowledged events, then until idle. Checks that
every published delivery is handled, in stream order, that nothing the first
run acknowledged comes back, and that each line's event matches the
manifest. Every process is stopped at the end, even on failure."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nats_cluster  # noqa: E402


def run(args, timeout=60):
    proc = nats_cluster.start_process(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        nats_cluster.stop_process(proc)
    if proc.returncode != 0:
        raise SystemExit("%s failed (%s):\n%s\n%s" % (args[0], proc.returncode, out, err))
    return out


def main():
    publisher, consumer, fixtures = sys.argv[1:4]
    manifest = {}
    with open(os.path.join(fixtures, "manifest.tsv")) as f:
        next(f)
        for line in f:
            cells = line.rstrip("\n").split("\t")
            manifest[cells[4]] = cells[1]
    with nats_cluster.Cluster(1) as cluster:
        published = run([publisher, cluster.urls, "FISKIL", fixtures]).split()
        outcomes = dict(zip(published[0::2], published[1::2]))
        assert set(outcomes) == set(manifest), "publisher did not publish every fixture"
        kept = [i for i, o in outcomes.items() if o == "kept"]
        assert len(kept) == len(manifest), outcomes
        args = [consumer, "--nats", cluster.urls, "--durable", "test-consumer"]
        first = run(args + ["--max", "5"]).splitlines()
        rest = run(args + ["--idle-exit", "2"]).splitlines()
        assert len(first) == 5, first
        lines = [l.split(" ") for l in first + rest]
        seqs = [int(l[0]) for l in lines]
        ids = [l[2] for l in lines]
        assert seqs == sorted(seqs), "not in stream order: %r" % seqs
        assert sorted(ids) == sorted(kept), "handled %r, published %r" % (ids, kept)
        first_ids = {l.split(" ")[2] for l in first}
        rest_ids = {l.split(" ")[2] for l in rest}
        assert not first_ids & rest_ids, "an acknowledged event came back: %r" % (first_ids & rest_ids)
        for seq, event, mid, what in lines:
            assert event == manifest[mid], (mid, event, manifest[mid])
        print("consumer handled %d events (%d in the first run), each once, in order" % (len(lines), len(first)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
