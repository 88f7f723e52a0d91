#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Benchmarks fiskil-gateway over loopback with wrk, against the HTTP floor.

    python3 bench/gateway_bench.py --build-dir build          # prints the table
    python3 bench/gateway_bench.py --build-dir build --out docs/bench
    python3 bench/gateway_bench.py --build-dir build --smoke  # CI: brief, checks it runs

Needs a built gateway/fiskil-gateway (release build advised: buildtype=release)
and wrk (Debian package wrk). In one run, one after the other, with keep-alive
connections and many distinct deliveries pre-signed with Python's hmac:

  floor       fiskil-gateway --empty-server: the same Beast server answering
              every POST 200 without looking at it (the HTTP floor)
  memory      the gateway with --journal :memory: (the library's cost)
  durable     the gateway with the SQLite journal on disk (synchronous=FULL)
  durable, 4x connections: the same with four times the connections (a
              group commit's batch is at most one delivery per connection)
  duplicates  every delivery already seen (the idempotent fast path)
  durable@2000/s  the durable gateway at a fixed rate (wrk's delay(): 64
              connections each pause between requests, the pause calibrated
              so that connections / (pause + latency) is the rate)

and with --jetstream (needs nats-server; docs/jetstream.md), the gateway
with --nats on JetStream started for the row (file storage, temporary dir):

  jetstream-1     one nats-server node, stream replicas 1
  jetstream-3     a three-node cluster on this machine, stream replicas 3
  jetstream-N@2000/s  the same at the fixed rate

and reports deliveries/s, latency p50/p99/p99.9 (wrk's), and the CPU time
wrk and the gateway used (from getrusage and /proc), which says whether the
load generator could be the bottleneck: see the notes written with the table.
Ratios compare rows of the same run. Exit status 1 only when something fails
to run or answers other than 2xx; never because of a timing.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import pathlib
import platform
import resource
import shutil
import statistics
import signal
import subprocess
import sys
import tempfile
import time

SOURCE = pathlib.Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def write_deliveries(path, count, prefix, secret):
    key = base64.b64decode(secret)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    with open(path, "w") as out:
        for i in range(count):
            body = ('{"publish_time":"%s","message_id":"%s%012d","data":{"event":"banking.accounts.sync.completed",'
                    '"consent_id":"c0a5e5e0-0000-4000-8000-%012d","client_id":"2fwTestClient00000000000001",'
                    '"end_user_id":"2fwEndUser%017d","institution_id":"1","account_ids":["acc-%d"]}}'
                    % (now, prefix, i, i % 5000, i % 5000, i))
            sig = base64.b64encode(hmac.new(key, body.encode(), hashlib.sha256).digest()).decode()
            out.write(f"{sig} {body}\n")


def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Gateway:
    def __init__(self, binary, workdir, args):
        self.proc = subprocess.Popen([binary, "--listen", "127.0.0.1:0"] + args, cwd=workdir,
                                     stdout=subprocess.PIPE, stderr=open(workdir / "gateway.log", "ab"),
                                     start_new_session=True)
        first = self.proc.stdout.readline().decode()
        if not first.startswith("listening on"):
            self.stop()
            raise SystemExit(f"gateway did not start: {first!r}")
        self.port = int(first.strip().rsplit(":", 1)[1])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def outcome_counts(port):
    """The gateway's accepted and duplicate counters (whole run)."""
    import urllib.request
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    counts = {}
    for outcome in ("accepted", "duplicate"):
        prefix = 'fiskil_gateway_deliveries_total{outcome="%s",' % outcome  # summed over event and key
        counts[outcome] = int(sum(float(l.rpartition(" ")[2]) for l in text.splitlines() if l.startswith(prefix)))
    return counts


def run_wrk(port, deliveries, seconds, connections, threads, pause_ms=0):
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
               "-s", str(SOURCE / "bench" / "gateway.lua"), f"http://127.0.0.1:{port}/webhooks/fiskil",
               "--", str(deliveries), str(pause_ms), str(threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    result = json.loads(line)
    result["wrk_cpu_s"] = (after_children.ru_utime + after_children.ru_stime) - (
        before_children.ru_utime + before_children.ru_stime)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--gateway-threads", type=int, default=0, help="--threads of the gateway (0: its default)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="run every row this many times, interleaved; the table has each row's median")
    parser.add_argument("--rate", type=int, default=2000, help="the fixed-rate row's deliveries per second")
    parser.add_argument("--out", help="directory for gateway.md and gateway.json")
    parser.add_argument("--smoke", action="store_true", help="brief runs: checks that everything works")
    parser.add_argument("--jetstream", action="store_true", help="also the JetStream rows (needs nats-server)")
    args = parser.parse_args()
    if args.smoke:
        args.seconds = 1
        args.rounds = 1
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk (bash .ci/setup does)")
    binary = pathlib.Path(args.build_dir).resolve() / "gateway" / "fiskil-gateway"
    if not binary.exists():
        raise SystemExit(f"{binary} not found: build the gateway first")
    secret_file = SOURCE / "tests" / "fixtures" / "secret.b64"
    secret = secret_file.read_text().strip()
    seconds = int(args.seconds) if args.seconds >= 1 else 1
    # Enough distinct deliveries for every row at up to 40,000 per second
    # (the table says when a row ran out: its duplicates are counted).
    distinct = 2000 if args.smoke else int(40000 * seconds)
    common = ["--secret-file", str(secret_file), "--message-capacity", str(max(1 << 16, 2 * distinct)),
              "--consent-capacity", "65536", "--max-connections", "4096"]
    if args.gateway_threads:
        common += ["--threads", str(args.gateway_threads)]

    runs = []
    failed = False
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="fiskil-gateway-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        plan = [
            ("floor", ["--empty-server"], 0),
            ("memory", ["--journal", ":memory:"], 0),
            ("durable", ["--journal", "durable"], 0),
            (f"durable, {4 * args.connections} connections", ["--journal", "durable4"], 4),
            ("duplicates", ["--journal", ":memory:"], 0),
            (f"durable@{args.rate}/s", ["--journal", "fixed"], 1),
        ]
        if args.jetstream:
            sys.path.insert(0, str(SOURCE / "tests" / "cluster"))
            plan += [("jetstream-1", ["nats:1"], 0), ("jetstream-3", ["nats:3"], 0),
                     (f"jetstream-1@{args.rate}/s", ["nats:1"], 1), (f"jetstream-3@{args.rate}/s", ["nats:3"], 1)]
        for round_number in range(args.rounds):
            for index, (name, extra, fixed) in enumerate(plan):
                prefix = f"8{index}{round_number}"
                deliveries = tmp / "deliveries.txt"
                count = 1000 if name == "duplicates" else distinct
                write_deliveries(deliveries, count, prefix, secret)
                extra = [str(tmp / f"{a}-{round_number}.sqlite") if a in ("durable", "durable4", "fixed") else a
                         for a in extra]
                cluster = None
                if extra and extra[0].startswith("nats:"):
                    import nats_cluster  # tests/cluster: nodes on free ports, always stopped
                    nodes = int(extra[0].split(":")[1])
                    cluster = nats_cluster.Cluster(nodes).__enter__()
                    extra = ["--nats", cluster.urls, "--stream-replicas", str(nodes)]
                try:
                    g = Gateway(binary, tmp, common + extra)
                except BaseException:
                    if cluster is not None:
                        cluster.close()
                    raise
                try:
                    if name == "duplicates":  # seen once before the measured run
                        run_wrk(g.port, deliveries, 1, 4, 1)
                    connections, pause = args.connections, 0
                    if fixed == 4:
                        connections = 4 * args.connections
                    elif fixed:
                        # A connection sends, waits for the answer, then
                        # pauses: calibrate the pause on other deliveries so
                        # that connections / (pause + latency) is the rate.
                        probe_file = tmp / "probe.txt"
                        write_deliveries(probe_file, 40000, prefix + "9", secret)
                        connections = 64
                        pause = int(1000 * connections / args.rate)
                        for _ in range(2):  # the first probe also warms the journal up
                            probe = run_wrk(g.port, probe_file, 2, connections, 1, pause)
                            achieved = probe["requests"] / (probe["duration_us"] / 1e6)
                            latency_ms = 1000 * connections / achieved - pause
                            pause = max(1, round(1000 * connections / args.rate - latency_ms))
                        before = outcome_counts(g.port)
                    else:
                        before = {"accepted": 0, "duplicate": 0} if name != "duplicates" else outcome_counts(g.port)
                    cpu_before = cpu_seconds(g.proc.pid)
                    result = run_wrk(g.port, deliveries, seconds, connections, args.wrk_threads, pause)
                    result["gateway_cpu_s"] = cpu_seconds(g.proc.pid) - cpu_before
                    after = outcome_counts(g.port)
                    result.update({k: after[k] - before[k] for k in after})
                finally:
                    g.stop()
                    if cluster is not None:
                        cluster.close()
                result["name"] = name
                result["round"] = round_number
                result["per_second"] = result["requests"] / (result["duration_us"] / 1e6)
                errors = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx"))
                if errors:
                    failed = True
                    print(f"{name}: {errors} errors or non-2xx answers: {result}", file=sys.stderr)
                runs.append(result)
                print(f"{name:<16} {result['per_second']:>9.0f}/s  p50 {result['p50_us'] / 1000:.2f} ms  "
                      f"p99 {result['p99_us'] / 1000:.2f} ms  p99.9 {result['p999_us'] / 1000:.2f} ms  "
                      f"CPU: wrk {result['wrk_cpu_s']:.1f} s, gateway {result['gateway_cpu_s']:.1f} s; "
                      f"accepted {result['accepted']}, duplicate {result['duplicate']}", flush=True)
    load_after = os.getloadavg()

    rows = []
    for name, _, _ in plan:
        mine = [r for r in runs if r["name"] == name]
        median = {"name": name}
        for key in mine[0]:
            if key not in ("name", "round"):
                median[key] = statistics.median(r[key] for r in mine)
        rows.append(median)
    by = {r["name"]: r for r in rows}
    floor = by["floor"]["per_second"]
    ratios = {
        "memory / floor": by["memory"]["per_second"] / floor,
        "duplicates / floor": by["duplicates"]["per_second"] / floor,
    }
    print(f"medians of {args.rounds} round(s); load average before {load_before[0]:.1f}, after {load_after[0]:.1f}")
    for name in [r["name"] for r in rows]:
        r = next(x for x in rows if x["name"] == name)
        print(f"  {name:<16} {r['per_second']:>9.0f}/s  p50 {r['p50_us'] / 1000:.2f} ms  p99 {r['p99_us'] / 1000:.2f} ms  "
              f"p99.9 {r['p999_us'] / 1000:.2f} ms")
    for k, v in ratios.items():
        print(f"{k}: {v:.2f}")
    if args.out:
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"
        (out / "gateway.json").write_text(json.dumps({"machine": machine, "seconds": seconds,
                                                      "connections": args.connections, "rounds": args.rounds,
                                                      "load_average_before_after": [load_before, load_after],
                                                      "rows": rows, "runs": runs, "ratios": ratios}, indent=2) + "\n")
        lines = ["| row | deliveries/s | p50 ms | p99 ms | p99.9 ms | wrk CPU s | gateway CPU s | accepted | duplicate |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            lines.append(f"| {r['name']} | {r['per_second']:.0f} | {r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | "
                         f"{r['p999_us'] / 1000:.2f} | {r['wrk_cpu_s']:.1f} | {r['gateway_cpu_s']:.1f} | {r['accepted']} | {r['duplicate']} |")
        (out / "gateway-table.md").write_text("\n".join(lines) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
