#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Benchmarks fiskil-gateway over loopback against the HTTP floor, and writes docs/bench/gateway.md.

    python3 bench/gateway_bench.py --build-dir build-release                 # prints the tables
    python3 bench/gateway_bench.py --build-dir build-release --before-build-dir OLD --profile --out docs/bench
    python3 bench/gateway_bench.py --build-dir build --smoke                 # CI: brief, checks it runs

Needs a built gateway/fiskil-gateway and tools/fiskil-webhook (a release
build: buildtype=release; for --profile, with -fno-omit-frame-pointer), wrk
(Debian package wrk) and, for --profile, perf (linux-perf). Rows, one after
the other, each with a new gateway (and a new journal):

  floor       fiskil-gateway --empty-server: the same Beast server answering
              every POST 200 without looking at it (the HTTP floor)
  memory      the gateway with --journal :memory: (the library's cost)
  durable     the SQLite journal on disk (WAL, synchronous=FULL)
  durable, 4x connections: the same with four times the connections (a
              group commit's batch is at most one delivery per connection)
  duplicates  every delivery already seen (the idempotent fast path)
  consent mix durable, one delivery in ten a consent event: chains of
              consent.received, consent.updated, consent.revoked per consent,
              spread through the run (consent order, in-flight waits)
  durable@R/s the durable gateway at a fixed rate, open loop: fiskil-webhook
              send --rate R --concurrency 64 (a slow answer shows as latency,
              not as a lower rate)

and with --jetstream (needs nats-server; docs/jetstream.md), the gateway with
--nats on JetStream started for the row: jetstream-1 (one node), jetstream-3
(a three-node cluster), and each at the fixed rate.

The wrk rows cycle through a pool of distinct deliveries pre-signed with
Python's hmac, large enough for 100,000 deliveries per second; the run fails
if any distinct-delivery row saw a duplicate (the pool ran out), or any answer
was not 2xx. Never because of a timing: the targets (issue 19) are reported
met or missed. Per row: deliveries/s, latency p50/p99/p99.9, and per request
the gateway's CPU, the load generator's CPU, and the gateway's context
switches (all its threads, voluntary and not).

--before-build-dir runs every row on a second build too, interleaved in the
same rounds ("before" and "after" in one run). --profile records the durable
row once per build with perf (call graphs by frame pointer) and puts the top
entries in the report. --out DIR writes DIR/gateway.md (the whole page: the
machine, the tables, the targets, the profiles) and DIR/gateway.json (every
round).
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
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE = pathlib.Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CLIENT = "2fwTestClient00000000000001"
OUTCOMES = ("accepted", "duplicate", "superseded", "after_revocation", "in_progress")
CONSENT_CHAIN = ("consent.received", "consent.updated", "consent.revoked")


def _stamp(base, offset_ms):
    t = base + datetime.timedelta(milliseconds=offset_ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def write_deliveries(path, count, prefix, secret, consent_mix=False, consents=5000):
    """Writes count "SIGNATURE BODY" lines with distinct message ids.

    With consent_mix, every tenth line is a consent event: consent k's chain
    (received, updated, revoked, then received again) is spread through the
    file, each step a later publish_time than the one before.
    """
    key = base64.b64decode(secret)
    base = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=60)
    now = _stamp(base, 0)
    with open(path, "w") as out:
        for i in range(count):
            if consent_mix and i % 10 == 0:
                n = i // 10
                consent, step = n % consents, n // consents
                event = CONSENT_CHAIN[step % len(CONSENT_CHAIN)]
                body = ('{"publish_time":"%s","message_id":"%s%012d","data":{"event":"%s",'
                        '"consent_id":"c0a5e5e0-0000-4000-8000-%012d","client_id":"%s",'
                        '"end_user_id":"2fwEndUser%017d","institution_id":"1"}}'
                        % (_stamp(base, step), prefix, i, event, consent, CLIENT, consent))
            else:
                body = ('{"publish_time":"%s","message_id":"%s%012d","data":{"event":"banking.accounts.sync.completed",'
                        '"consent_id":"c0a5e5e0-0000-4000-8000-%012d","client_id":"%s",'
                        '"end_user_id":"2fwEndUser%017d","institution_id":"1","account_ids":["acc-%d"]}}'
                        % (now, prefix, i, i % consents, CLIENT, i % consents, i))
            sig = base64.b64encode(hmac.new(key, body.encode(), hashlib.sha256).digest()).decode()
            out.write(f"{sig} {body}\n")


def cpu_seconds(pid, system_only=False):
    """User + system (or system only) CPU seconds of the process (all its threads)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[12]) if system_only else int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def context_switches(pid):
    """Voluntary + involuntary context switches of every thread of pid."""
    total = 0
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if "ctxt_switches:" in line:
                    total += int(line.split(":")[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


class Gateway:
    def __init__(self, binary, workdir, args):
        self.proc = subprocess.Popen([str(binary), "--listen", "127.0.0.1:0"] + args, cwd=workdir,
                                     stdout=subprocess.PIPE, stderr=open(pathlib.Path(workdir) / "gateway.log", "ab"),
                                     start_new_session=True)
        first = self.proc.stdout.readline().decode()
        if not first.startswith("listening on"):
            self.stop()
            raise SystemExit(f"gateway did not start: {first!r} (see {workdir}/gateway.log)")
        self.port = int(first.strip().rsplit(":", 1)[1])
        # It listens before its store can keep deliveries (a JetStream stream
        # still electing its leader answers 503): measure only once /readyz says so.
        deadline = time.monotonic() + 60
        while not self.ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SystemExit(f"gateway not ready within 60 s (see {workdir}/gateway.log)")
            time.sleep(0.05)

    def ready(self):
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=5).status == 200
        except OSError:  # urllib's HTTPError (a 503) is an OSError too
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def outcome_counts(port):
    """The gateway's deliveries_total counters by outcome (since it started)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    counts = {o: 0 for o in OUTCOMES}
    counts["batches"] = counts["batched"] = 0
    for line in text.splitlines():
        if line.startswith("fiskil_gateway_journal_batch_size_count "):
            counts["batches"] = int(float(line.split()[-1]))
        elif line.startswith("fiskil_gateway_journal_batch_size_sum "):
            counts["batched"] = int(float(line.split()[-1]))
        if not line.startswith("fiskil_gateway_deliveries_total{"):
            continue
        labels, value = line.rsplit(" ", 1)
        for outcome in OUTCOMES:
            if f'outcome="{outcome}"' in labels:
                counts[outcome] += int(float(value))
    return counts


def run_wrk(port, deliveries, seconds, connections, threads, pause_ms=0):
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency",
               "-s", str(SOURCE / "bench" / "gateway.lua"), f"http://127.0.0.1:{port}/webhooks/fiskil",
               "--", str(deliveries), str(pause_ms), str(threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 300).stdout
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    result = json.loads(line)
    # Less the CPU spent loading the pool (gateway.lua's init_cpu_s).
    result["loadgen_cpu_s"] = (after_children.ru_utime + after_children.ru_stime) - (
        before_children.ru_utime + before_children.ru_stime) - result.get("init_cpu_s", 0)
    result["wrk_cpu_s"] = result["loadgen_cpu_s"]  # the name bench/forward_bench.py reads
    return result


def run_send(tool, port, secret_file, seconds, rate, concurrency, workdir):
    """fiskil-webhook send at a fixed rate (open loop), as a wrk-like result."""
    summary = pathlib.Path(workdir) / "send-summary.json"
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    command = [str(tool), "send", f"http://127.0.0.1:{port}/webhooks/fiskil", "--secret-file", str(secret_file),
               "--event", "banking.accounts.sync.completed", "--event", "energy.usage.sync.completed",
               "--concurrency", str(concurrency), "--rate", str(rate), "--duration", f"{seconds}s",
               "--timeout", "10s", "--retries", "0", "--summary-json", str(summary)]
    subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    s = json.loads(summary.read_text())
    latency = s["latency_ms"]
    non_2xx = sum(n for status, n in s["statuses"].items() if not status.startswith("2"))
    return {"requests": s["attempts"], "duration_us": s["seconds"] * 1e6, "p50_us": latency.get("p50", 0) * 1000,
            "p99_us": latency.get("p99", 0) * 1000, "p999_us": latency.get("p99.9", 0) * 1000,
            "max_us": latency.get("max", 0) * 1000, "connect_errors": sum(s["failures"].values()),
            "read_errors": 0, "write_errors": 0, "timeouts": 0, "non_2xx": non_2xx,
            "loadgen_cpu_s": (after_children.ru_utime + after_children.ru_stime) - (
                before_children.ru_utime + before_children.ru_stime)}


def profile_top(perf_data, limit):
    """The top self-time symbols of a perf recording, as (percent, symbol, dso)."""
    out = subprocess.run(["perf", "report", "-i", str(perf_data), "--no-children", "--stdio", "-q",
                          "-F", "overhead,sym,dso", "-t", "|", "-g", "none", "--percent-limit", "0.5"],
                         capture_output=True, text=True, timeout=300).stdout
    return parse_profile(out, limit)


def parse_profile(text, limit):
    """perf report -F overhead,sym,dso -t '|' lines: "  23.5%|[k] name  |dso"."""
    top = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 3 or not parts[0].endswith("%"):
            continue
        symbol = parts[1]
        if symbol[:1] == "[" and "] " in symbol:  # "[k] " kernel, "[.] " user
            symbol = symbol.split("] ", 1)[1]
        top.append((parts[0], symbol.strip()[:110], parts[2]))
        if len(top) >= limit:
            break
    return top


def fsync_latency_ms(directory, samples=200):
    """The median and p99 of fdatasync after a 4 KiB append, in directory: the
    durable rows' floor (a batch waits for one)."""
    path = pathlib.Path(directory) / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    try:
        for _ in range(samples):
            os.write(fd, b"x" * 4096)
            start = time.perf_counter()
            os.fdatasync(fd)
            times.append(1000 * (time.perf_counter() - start))
    finally:
        os.close(fd)
        path.unlink()
    times.sort()
    return times[len(times) // 2], times[int(len(times) * 0.99) - 1]


def machine_text():
    model = next((l.split(":", 1)[1].strip() for l in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), platform.machine())
    memory_kib = next((int(l.split()[1]) for l in pathlib.Path("/proc/meminfo").read_text().splitlines()
                       if l.startswith("MemTotal:")), 0)
    os_name = "Linux"
    try:
        os_name = next(l.split("=", 1)[1].strip('"') for l in pathlib.Path("/etc/os-release").read_text().splitlines()
                       if l.startswith("PRETTY_NAME="))
    except (FileNotFoundError, StopIteration):
        pass
    return f"{os.cpu_count()} x {model}, {memory_kib / 1048576:.0f} GiB, {os_name}, kernel {platform.release()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--before-build-dir", help="also run every row on this build, labelled 'before'")
    parser.add_argument("--seconds", type=float, default=6)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--gateway-threads", type=int, default=0, help="--threads of the gateway (0: its default)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="run every row this many times, interleaved; the tables have each row's median")
    parser.add_argument("--rate", type=int, default=2000, help="the fixed-rate rows' deliveries per second")
    parser.add_argument("--profile", action="store_true", help="record the durable row with perf, once per build")
    parser.add_argument("--out", help="directory for gateway.md and gateway.json")
    parser.add_argument("--smoke", action="store_true", help="brief runs: checks that everything works")
    parser.add_argument("--jetstream", action="store_true", help="also the JetStream rows (needs nats-server)")
    args = parser.parse_args()
    if args.smoke:
        args.seconds = 1
        args.rounds = 1
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk (bash .ci/setup does)")
    if args.profile and shutil.which("perf") is None:
        raise SystemExit("perf not found: apt-get install linux-perf (bash .ci/setup does)")
    builds = [("after" if args.before_build_dir else "", pathlib.Path(args.build_dir).resolve())]
    if args.before_build_dir:
        builds.insert(0, ("before", pathlib.Path(args.before_build_dir).resolve()))
    for _, build in builds:
        if not (build / "gateway" / "fiskil-gateway").exists():
            raise SystemExit(f"{build}/gateway/fiskil-gateway not found: build the gateway first")
    # One load generator for every build: the newest.
    tool = builds[-1][1] / "tools" / "fiskil-webhook"
    if not tool.exists():
        raise SystemExit(f"{tool} not found: build tools/fiskil-webhook too")
    secret_file = SOURCE / "tests" / "fixtures" / "secret.b64"
    secret = secret_file.read_text().strip()
    seconds = int(args.seconds) if args.seconds >= 1 else 1
    # A pool for 100,000 distinct deliveries per second: more than any row
    # reaches on a small machine. A row that runs out fails the run (below).
    distinct = 100000 * seconds
    common = ["--message-capacity", str(max(1 << 16, 2 * distinct)), "--consent-capacity", "65536",
              "--max-connections", "4096"]
    if args.gateway_threads:
        common += ["--threads", str(args.gateway_threads)]

    plan = [  # name, gateway args, how: wrk / wrk4 (4x connections) / dup / mix / rate
        ("floor", ["--empty-server"], "wrk"),
        ("memory", ["--journal", ":memory:"], "wrk"),
        ("durable", ["--journal", "@"], "wrk"),
        (f"durable, {4 * args.connections} connections", ["--journal", "@"], "wrk4"),
        ("duplicates", ["--journal", ":memory:"], "dup"),
        ("consent mix", ["--journal", "@"], "mix"),
        (f"durable@{args.rate}/s", ["--journal", "@"], "rate"),
    ]
    if args.jetstream:
        sys.path.insert(0, str(SOURCE / "tests" / "cluster"))
        plan += [("jetstream-1", ["nats:1"], "wrk"), ("jetstream-3", ["nats:3"], "wrk"),
                 (f"jetstream-1@{args.rate}/s", ["nats:1"], "rate"), (f"jetstream-3@{args.rate}/s", ["nats:3"], "rate")]

    runs, failures, profiles = [], [], {}
    load_before = os.getloadavg()
    started = datetime.datetime.now(datetime.timezone.utc)
    with tempfile.TemporaryDirectory(prefix="fiskil-gateway-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        secret_copy = tmp / "secret.b64"  # owner-only, as a secret file should be
        secret_copy.write_text(secret + "\n")
        secret_copy.chmod(0o600)
        common = ["--secret-file", str(secret_copy)] + common
        pool, mix_pool, dup_pool = tmp / "pool.txt", tmp / "mix.txt", tmp / "dup.txt"
        # Every row has a new gateway and journal: one pool serves them all.
        write_deliveries(pool, distinct, "81", secret)
        write_deliveries(mix_pool, distinct, "82", secret, consent_mix=True)
        write_deliveries(dup_pool, 1000, "83", secret)
        fsync_before = fsync_latency_ms(tmp, 50 if args.smoke else 200)
        print(f"fdatasync in {tmp}: p50 {fsync_before[0]:.2f} ms, p99 {fsync_before[1]:.2f} ms", flush=True)

        def one_row(label, binary, name, extra, how, round_number, perf_data=None):
            journal = tmp / f"{label or 'x'}-{round_number}-{len(runs)}.sqlite"
            extra = [str(journal) if a == "@" else a for a in extra]
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
            recorder = None
            try:
                deliveries = {"mix": mix_pool, "dup": dup_pool}.get(how, pool)
                if how == "dup":  # seen once before the measured run
                    run_wrk(g.port, deliveries, 1, 4, 1)
                before = outcome_counts(g.port)
                cpu_before, switches_before = cpu_seconds(g.proc.pid), context_switches(g.proc.pid)
                system_before = cpu_seconds(g.proc.pid, system_only=True)
                if perf_data is not None:
                    recorder = subprocess.Popen(["perf", "record", "-q", "-F", "1999", "--call-graph", "fp", "-p",
                                                 str(g.proc.pid), "-o", str(perf_data)],
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                if how == "rate":
                    result = run_send(tool, g.port, secret_copy, seconds, args.rate, 64, tmp)
                else:
                    connections = 4 * args.connections if how == "wrk4" else args.connections
                    result = run_wrk(g.port, deliveries, seconds, connections, args.wrk_threads)
                if recorder is not None:
                    recorder.send_signal(signal.SIGINT)
                    recorder.wait(60)
                result["gateway_cpu_s"] = cpu_seconds(g.proc.pid) - cpu_before
                result["gateway_system_cpu_s"] = cpu_seconds(g.proc.pid, system_only=True) - system_before
                result["gateway_switches"] = context_switches(g.proc.pid) - switches_before
                after = outcome_counts(g.port)
                result.update({k: after[k] - before[k] for k in after})
            finally:
                if recorder is not None and recorder.poll() is None:
                    recorder.kill()
                g.stop()
                if cluster is not None:
                    cluster.close()
            result.update({"name": name, "build": label, "round": round_number})
            result["per_second"] = result["requests"] / (result["duration_us"] / 1e6)
            requests = max(1, result["requests"])
            result["gateway_cpu_us_per_request"] = 1e6 * result["gateway_cpu_s"] / requests
            result["gateway_system_share"] = result["gateway_system_cpu_s"] / max(result["gateway_cpu_s"], 1e-9)
            result["loadgen_cpu_us_per_request"] = 1e6 * result["loadgen_cpu_s"] / requests
            result["switches_per_request"] = result["gateway_switches"] / requests
            # Deliveries per journal transaction (one fsync each): the durable rows' batch.
            result["batch_mean"] = result["batched"] / result["batches"] if result["batches"] else 0
            title = f"{name} [{label}]" if label else name
            errors = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx"))
            if errors:
                failures.append(f"{title}: {errors} errors or non-2xx answers: {result}")
            if how not in ("dup",) and name != "floor" and result["duplicate"]:
                failures.append(f"{title}: {result['duplicate']} duplicates in a distinct-delivery row: "
                                "the pool of deliveries ran out (raise it in write_deliveries' caller)")
            print(f"{title:<30} {result['per_second']:>8.0f}/s  p50 {result['p50_us'] / 1000:.2f}  "
                  f"p99 {result['p99_us'] / 1000:.2f}  p99.9 {result['p999_us'] / 1000:.2f} ms  "
                  f"CPU/req: gateway {result['gateway_cpu_us_per_request']:.1f} us "
                  f"({100 * result['gateway_system_share']:.0f}% kernel), "
                  f"load {result['loadgen_cpu_us_per_request']:.1f} us; "
                  f"switches/req {result['switches_per_request']:.2f}; "
                  + (f"batch {result['batch_mean']:.1f}; " if result["batch_mean"] else "")
                  + ", ".join(f"{k} {result[k]}" for k in OUTCOMES if result[k]), flush=True)
            return result

        for round_number in range(args.rounds):
            for name, extra, how in plan:
                for label, build in builds:
                    runs.append(one_row(label, build / "gateway" / "fiskil-gateway", name, extra, how, round_number))
        if args.profile:
            for label, build in builds:
                data = tmp / f"perf-{label or 'x'}.data"
                one_row(label, build / "gateway" / "fiskil-gateway", "durable", ["--journal", "@"], "wrk", -1, data)
                profiles[label] = profile_top(data, 15)
                print(f"profile of the durable row{(' [' + label + ']') if label else ''}:")
                for percent, symbol, dso in profiles[label]:
                    print(f"  {percent:>7}  {symbol}  ({dso})")
        fsync_after = fsync_latency_ms(tmp, 50 if args.smoke else 200)
    load_after = os.getloadavg()

    rows = []
    for name, _, _ in plan:
        for label, _ in builds:
            mine = [r for r in runs if r["name"] == name and r["build"] == label]
            median = {"name": name, "build": label}
            for key in mine[0]:
                if key not in ("name", "build", "round"):
                    median[key] = statistics.median(r[key] for r in mine)
            rows.append(median)

    def row(name, label):
        return next(r for r in rows if r["name"] == name and r["build"] == label)

    targets = {}
    for label, _ in builds:
        floor = row("floor", label)
        durable = row("durable", label)
        fixed = row(f"durable@{args.rate}/s", label)
        floor_cpu = floor["gateway_cpu_us_per_request"]
        durable_cpu = 1e6 * durable["gateway_cpu_s"] / max(1, durable["accepted"])
        targets[label] = [
            ("memory >= 0.85 x the floor", row("memory", label)["per_second"] / floor["per_second"], 0.85, ">="),
            ("durable >= 0.7 x the floor", durable["per_second"] / floor["per_second"], 0.7, ">="),
            ("duplicates >= 0.9 x the floor", row("duplicates", label)["per_second"] / floor["per_second"], 0.9, ">="),
            (f"durable p99 at {args.rate}/s <= 5 ms", fixed["p99_us"] / 1000, 5.0, "<="),
            ("gateway CPU per accepted durable delivery <= the floor's + 8 us", durable_cpu - floor_cpu, 8.0, "<="),
        ]

    def met(value, bound, sense):
        return value >= bound if sense == ">=" else value <= bound

    print(f"medians of {args.rounds} round(s) of {seconds} s; load average before {load_before[0]:.1f}, "
          f"after {load_after[0]:.1f}")
    for label, items in targets.items():
        for text, value, bound, sense in items:
            print(f"  {('[' + label + '] ') if label else ''}{text}: {value:.2f} "
                  f"{'met' if met(value, bound, sense) else 'missed'}")
    for f in failures:
        print(f, file=sys.stderr)

    if args.out:
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        machine = machine_text()
        command = "python3 bench/gateway_bench.py " + " ".join(sys.argv[1:])
        (out / "gateway.json").write_text(json.dumps({
            "machine": machine, "started": started.isoformat(timespec="seconds"), "command": command,
            "seconds": seconds, "connections": args.connections, "rounds": args.rounds,
            "load_average_before_after": [load_before, load_after],
            "fdatasync_ms_p50_p99_before_after": [fsync_before, fsync_after], "rows": rows, "runs": runs,
            "targets": {k: [list(t) for t in v] for k, v in targets.items()},
            "profiles": profiles}, indent=1) + "\n")
        (out / "gateway.md").write_text(report(args, seconds, machine, started, command, load_before, load_after,
                                               fsync_before, fsync_after,
                                               builds, plan, rows, targets, profiles, met))
    return 1 if failures else 0


def report(args, seconds, machine, started, command, load_before, load_after, fsync_before, fsync_after, builds, plan,
           rows, targets, profiles, met):
    """docs/bench/gateway.md, whole."""
    lines = [
        "# fiskil-gateway benchmark",
        "",
        "Written by `bench/gateway_bench.py` (its docstring says what each row does); do not edit by hand.",
        "",
        f"- **When:** {started.strftime('%Y-%m-%d %H:%M UTC')}; medians of {args.rounds} interleaved round(s) of "
        f"{seconds} s per row.",
        f"- **Machine:** {machine}; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after.",
        f"- **Disk:** fdatasync after a 4 KiB append in the journal's directory: p50 {fsync_before[0]:.2f} ms, "
        f"p99 {fsync_before[1]:.2f} ms before the rows, p50 {fsync_after[0]:.2f} ms, p99 {fsync_after[1]:.2f} ms after. "
        f"A durable batch waits for one: with {args.connections} connections (a batch holds at most one delivery per "
        f"connection) the durable row cannot pass {args.connections} / p50 = "
        f"{args.connections / max(fsync_before[0], 1e-3) * 1000:.0f} deliveries/s.",
        f"- **Load:** wrk with {args.wrk_threads} thread(s) and {args.connections} keep-alive connections "
        f"(the fixed-rate rows: `fiskil-webhook send --rate {args.rate} --concurrency 64`, open loop), on the same "
        "cores as the gateway.",
        f"- **Command:** `{command}`",
        "",
        "Rows: **floor** is the same Beast server answering every POST 200 unread (`--empty-server`); **memory** the "
        "gateway with `--journal :memory:`; **durable** the SQLite journal on disk (WAL, `synchronous=FULL`, group "
        "commit); **duplicates** deliveries already seen; **consent mix** the durable gateway with one delivery in ten "
        "a consent event, chains of received, updated and revoked per consent; **durable@R/s** an open-loop fixed rate. "
        "Each distinct-delivery row saw no duplicate (the script checks). Per request: the gateway's CPU (user + "
        "system, all threads; **kernel share** is the system part), the load generator's, and the gateway's context "
        "switches; **batch** is the mean "
        "deliveries per journal transaction (one fsync each; the before build may not report it: 0).",
        "",
        "| row | build | deliveries/s | p50 ms | p99 ms | p99.9 ms | gateway CPU µs/req | load CPU µs/req | "
        "kernel share | switches/req | batch | accepted | other outcomes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        other = ", ".join(f"{k} {int(r[k])}" for k in OUTCOMES if k != "accepted" and r[k])
        lines.append(f"| {r['name']} | {r['build'] or '-'} | {r['per_second']:.0f} | {r['p50_us'] / 1000:.2f} | "
                     f"{r['p99_us'] / 1000:.2f} | {r['p999_us'] / 1000:.2f} | {r['gateway_cpu_us_per_request']:.1f} | "
                     f"{r['loadgen_cpu_us_per_request']:.1f} | {100 * r['gateway_system_share']:.0f} % | "
                     f"{r['switches_per_request']:.2f} | "
                     f"{r['batch_mean']:.1f} | {int(r['accepted'])} | "
                     f"{other} |")
    lines += ["", "## Targets (issue 19)", "",
              "| target | " + " | ".join(label or "measured" for label, _ in builds) + " |",
              "|---|" + "---|" * len(builds)]
    labels = [label for label, _ in builds]
    for i, (text, _, _, _) in enumerate(targets[labels[0]]):
        cells = []
        for label in labels:
            _, value, bound, sense = targets[label][i]
            cells.append(f"{value:.2f} {'met' if met(value, bound, sense) else '**missed**'}")
        lines.append(f"| {text} | " + " | ".join(cells) + " |")
    lines += ["", "(The CPU target's figure is the durable row's gateway CPU per accepted delivery minus the floor's "
              "per request, in µs.)"]
    if profiles:
        lines += ["", "## Profiles of the durable row", "",
                  "`perf record -F 1999 --call-graph fp` on the gateway during one durable run per build; self time, "
                  "the entries above 0.5 %, at most 15."]
        for label in labels:
            if label not in profiles:
                continue
            lines += ["", f"### {label or 'this build'}", "", "| self | symbol | object |", "|---:|---|---|"]
            for percent, symbol, dso in profiles[label]:
                lines.append(f"| {percent} | `{symbol.replace('|', '/')}` | {dso} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
