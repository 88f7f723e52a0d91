#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Benchmarks fiskil-gateway --forward (docs/forward.md) over loopback.

    python3 bench/forward_bench.py --build-dir build [--seconds 10] [--rate 2000]

The application is a trivial keep-alive one: fiskil-gateway --empty-server
(the same Beast server answering every POST 200 without looking at it). The
provider is wrk with bench/gateway.lua and pre-signed distinct deliveries
(5,000 consents), as in bench/gateway_bench.py. Two rows, one gateway each,
SQLite journal on disk (synchronous=FULL):

  max     wrk as fast as it goes for --seconds: the intake rate, the
          forwarded rate meanwhile, and the rate over intake plus drain
  rate    fiskil-webhook send --rate (open loop: a request every 1/rate s,
          whether or not answers come back) for --seconds: the backlog
          sampled every half second (flat or growing), and the latency from
          the delivery's receipt to the application's 2xx, read from
          fiskil_gateway_forward_delivery_duration_seconds and interpolated
          within its buckets as Prometheus' histogram_quantile does

Prints a Markdown table with the machine. Needs wrk. Timings only report;
the exit status is 1 only when something fails to run.
"""
import argparse
import base64
import os
import pathlib
import platform
import signal
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gateway_bench as gb  # noqa: E402

SOURCE = gb.SOURCE


def metrics(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def accepted(scraped):
    """fiskil_gateway_deliveries_total{outcome="accepted"}, summed over its event and key labels."""
    prefix = 'fiskil_gateway_deliveries_total{outcome="accepted",'
    return sum(value for name, value in scraped.items() if name.startswith(prefix))


def latency_quantile(before, after, q):
    """The q-quantile of the histogram's increase, interpolated linearly
    within the bucket that holds it (Prometheus' histogram_quantile)."""
    name = "fiskil_gateway_forward_delivery_duration_seconds"
    buckets = []
    for key, value in after.items():
        if key.startswith(name + '_bucket{le="'):
            bound = key[len(name) + 12:-2]
            buckets.append((float("inf") if bound == "+Inf" else float(bound), value - before.get(key, 0)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    lower, below = 0.0, 0
    for bound, cumulative in buckets:
        if total and cumulative >= q * total:
            if bound == float("inf"):
                return bound
            inside = cumulative - below
            return lower + (bound - lower) * ((q * total - below) / inside if inside else 1)
        lower, below = bound, cumulative
    return float("nan")


def fmt_bound(seconds):
    if seconds != seconds:
        return "-"
    if seconds == float("inf"):
        return "> 10 s"
    return f"{seconds * 1000:.1f} ms"


def wait_drained(port, timeout):
    """Waits for the backlog to reach 0; gives up after timeout, or after 30 s
    without a delivery."""
    deadline = time.monotonic() + timeout
    last, progress = -1, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - progress < 30:
        m = metrics(port)
        if m.get("fiskil_gateway_forward_backlog", 1) == 0:
            return m
        if m.get("fiskil_gateway_forward_delivered", 0) != last:
            last, progress = m.get("fiskil_gateway_forward_delivered", 0), time.monotonic()
        time.sleep(0.2)
    raise SystemExit("the backlog did not drain (see the gateway.log of the row)")


def main():
    # SIGTERM (a timeout) runs the finally blocks, which stop the gateways.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default="build")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--concurrency", type=int, default=8, help="--forward-concurrency")
    args = parser.parse_args()
    build = pathlib.Path(args.build_dir).resolve()
    binary = str(build / "gateway" / "fiskil-gateway")
    tool = build / "tools" / "fiskil-webhook"
    secret = (SOURCE / "tests" / "fixtures" / "secret.b64").read_text().strip()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fiskil-forward-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        forward_secret = tmp / "forward.secret"
        forward_secret.write_text("whsec_" + base64.b64encode(os.urandom(32)).decode() + "\n")
        forward_secret.chmod(0o600)  # the gateway refuses secret files others can read
        secret_file = tmp / "secret.b64"
        secret_file.write_text(secret + "\n")
        secret_file.chmod(0o600)
        app = gb.Gateway(binary, tmp, ["--empty-server", "--threads", "1"])
        try:
            for row in ("max", "rate"):
                work = tmp / row
                work.mkdir()
                count = int(max(args.rate, 20000) * args.seconds * 2)
                deliveries = work / "deliveries.txt"
                if row == "max":  # the rate row's deliveries are made by fiskil-webhook send
                    gb.write_deliveries(deliveries, count, f"{row[0]}{int(time.time())}", secret)
                g = gb.Gateway(binary, work, [
                    "--secret-file", str(secret_file),
                    "--journal", str(work / "journal.sqlite"), "--keep", "0",
                    "--forward", f"http://127.0.0.1:{app.port}/webhooks/fiskil", "--forward-secret-file", str(forward_secret),
                    "--forward-concurrency", str(args.concurrency)])
                try:
                    before = metrics(g.port)
                    samples = []
                    started = time.monotonic()
                    if row == "max":
                        result = gb.run_wrk(g.port, deliveries, int(args.seconds), args.connections, 1)
                    else:
                        import threading
                        done = threading.Event()

                        def sample():
                            while not done.wait(0.5):
                                samples.append(metrics(g.port).get("fiskil_gateway_forward_backlog", 0))
                        sampler = threading.Thread(target=sample, daemon=True)
                        sampler.start()
                        result = gb.run_send(tool, g.port, secret_file, int(args.seconds), args.rate, 64, work)
                        done.set()
                        sampler.join()
                    window = time.monotonic() - started
                    during = metrics(g.port)
                    after = wait_drained(g.port, 600)
                    total = time.monotonic() - started
                    kept = accepted(after) - accepted(before)
                    delivered = after.get("fiskil_gateway_forward_delivered", 0)
                    rows.append({
                        "row": row,
                        "intake": kept / window,
                        "forwarded_during": during.get("fiskil_gateway_forward_delivered", 0) / window,
                        "forwarded_overall": delivered / total,
                        "drain_s": total - window,
                        "p50": latency_quantile(before, after, 0.5),
                        "p99": latency_quantile(before, after, 0.99),
                        "backlog": samples,
                        "non_2xx": result.get("non_2xx", 0),
                        "attempts_non_2xx": sum(v for k, v in after.items()
                                                if k.startswith("fiskil_gateway_forward_attempts_total")
                                                and '"2xx"' not in k),
                    })
                finally:
                    g.stop()
        finally:
            app.stop()
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"load average before the run {os.getloadavg()[0]:.2f}")
    print(f"--forward-concurrency {args.concurrency}, {args.seconds:g} s per row, app: fiskil-gateway --empty-server\n")
    print("| row | intake/s | forwarded/s meanwhile | forwarded/s with drain | drain | latency p50 | p99 | "
          "failed attempts |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['row'] if r['row'] == 'max' else f'{args.rate}/s'} | {r['intake']:.0f} | "
              f"{r['forwarded_during']:.0f} | {r['forwarded_overall']:.0f} | {r['drain_s']:.1f} s | "
              f"{fmt_bound(r['p50'])} | {fmt_bound(r['p99'])} | {r['attempts_non_2xx']:.0f} |")
    for r in rows:
        if r["backlog"]:
            b = [int(x) for x in r["backlog"]]
            print(f"\nbacklog every 0.5 s at {args.rate}/s: {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
