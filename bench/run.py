#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Builds and runs the benchmarks, then reports them.

    python3 bench/run.py                 # build-bench/: benchmark.json, benchmark.svg, benchmark.md
    python3 bench/run.py --out docs/bench   # the figures docs/performance.md links to
    python3 bench/run.py --smoke         # CI: one short run, checks that everything works

Configures a release build (-O2) with -Dbench=true in --build-dir (once),
builds it, and runs bench_webhooks_<backend> for every crypto backend
installed (openssl-no-deprecated: OpenSSL 3 on the library's path for
builds without OpenSSL's deprecated API), pinned to one CPU, with
--repetitions runs of every row interleaved at random (Google Benchmark's
--benchmark_enable_random_interleaving), so that slow phases of a noisy
machine spread over all rows alike. Times are CPU time per delivery (a
shared machine's descheduling is not counted).
Every ratio is taken between rows of the same run and process.

Writes OUT/benchmark.json (every figure: per-row median, minimum, mean and
CV of the time per delivery, throughput, allocations, the ratios, the
targets, the machine, and Google Benchmark's raw output), OUT/benchmark.md
(the tables) and OUT/benchmark.svg (bench/plot.py, with Debian's
/usr/bin/python3, which has matplotlib), and prints the tables.

Exit status: 1 if a build, a benchmark program or the chart fails, or a
library row allocates; never because of a timing.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent
WORKLOADS = ["guide", "mix", "large", "rejected"]
ROWS = ["floor", "verify", "parse", "simdjson_dom", "simdjson_ondemand", "end_to_end", "end_to_end_key", "baseline"]
LIBRARY_ROWS = ["verify", "parse", "end_to_end", "end_to_end_key"]

# The targets: (key, description, comparison, bound).
TARGETS = [
    ("guide_end_to_end_over_floor", "guide: end to end / floor", "<=", 2.0),
    ("guide_verify_over_floor", "guide: verify / floor", "<=", 1.25),
    ("mix_baseline_over_end_to_end", "mix: baseline / end to end", ">=", 8.0),
    ("library_heap_allocs_per_delivery", "heap allocations per delivery (library rows)", "<=", 0.0),
    ("large_end_to_end_over_bulk_throughput", "large: end-to-end bytes/s / SHA-256 bulk bytes/s", ">=", 0.5),
]


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(command, **kwargs):
    log("+ " + " ".join(str(c) for c in command))
    return subprocess.run(command, check=True, **kwargs)


def configure_and_build(build_dir: Path, reconfigure: bool):
    if not (build_dir / "build.ninja").exists():
        run(["meson", "setup", str(build_dir), "-Dbench=true", "-Dtests=false", "-Dexamples=false", "-Dtools=false",
             "--buildtype=release", "-Doptimization=2"], cwd=SOURCE)
    elif reconfigure:
        run(["meson", "configure", str(build_dir), "-Dbench=true"], cwd=SOURCE)
    run(["meson", "compile", "-C", str(build_dir)], cwd=SOURCE)


def benchmark_programs(build_dir: Path):
    """bench_webhooks_<backend> as meson registered them: {backend: (cmd, env)}."""
    out = subprocess.run(["meson", "introspect", str(build_dir), "--benchmarks"], check=True,
                         capture_output=True, text=True, cwd=SOURCE).stdout
    programs = {}
    for entry in json.loads(out):
        if entry["name"].startswith("bench_webhooks_"):
            programs[entry["name"][len("bench_webhooks_"):]] = (entry["cmd"], entry.get("env") or {})
    if not programs:
        sys.exit("bench/run.py: no bench_webhooks_* benchmark in %s (configured with -Dbench=true?)" % build_dir)
    return programs


def run_program(cmd, env, out_file: Path, args, cpu):
    flags = [
        "--benchmark_out=%s" % out_file,
        "--benchmark_out_format=json",
        "--benchmark_repetitions=%d" % args.repetitions,
        "--benchmark_min_time=%g" % args.min_time,
        "--benchmark_enable_random_interleaving=true",
        "--benchmark_report_aggregates_only=false",
    ]
    if args.filter:
        flags.append("--benchmark_filter=%s" % args.filter)
    full_env = dict(os.environ)
    full_env.update(env)

    def pin():
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    log("+ " + " ".join(cmd + flags) + ("  (pinned to CPU %d)" % cpu if cpu is not None else ""))
    result = subprocess.run(cmd + flags, env=full_env, preexec_fn=pin, stdout=subprocess.PIPE, text=True)
    if args.verbose:
        print(result.stdout)
    if result.returncode != 0:
        print(result.stdout)
        sys.exit("bench/run.py: %s exited with status %d" % (cmd[0], result.returncode))
    return json.loads(out_file.read_text())


def summarise(raw):
    """Per row: statistics over the repetitions (iteration runs only)."""
    runs = {}
    for b in raw["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        assert b["time_unit"] == "ns", b["time_unit"]
        runs.setdefault(b["run_name"], []).append(b)
    rows = {}
    for name, rs in runs.items():
        # CPU time: on a shared machine, wall-clock time also counts the
        # time the benchmark spent descheduled.
        times = [r["cpu_time"] for r in rs]
        row = {
            "repetitions": len(rs),
            "iterations": [r["iterations"] for r in rs],
            "ns_median": statistics.median(times),
            "ns_min": min(times),
            "ns_mean": statistics.fmean(times),
            "ns_cv": statistics.pstdev(times) / statistics.fmean(times) if len(times) > 1 else 0.0,
            "ns_all": times,
            "ns_real_median": statistics.median(r["real_time"] for r in rs),
        }
        for counter in ("bytes_per_second", "items_per_second", "heap_allocs", "operator_new", "sha256_blocks"):
            if counter in rs[0]:
                row[counter] = statistics.median(r[counter] for r in rs)
        rows[name] = row
    return rows


def ratio(a, b):
    return a / b if a is not None and b else None


def analyse(rows):
    """Ratios and target checks for one backend."""
    def ns(workload, row, stat="ns_median"):
        r = rows.get("%s/%s" % (workload, row))
        return r[stat] if r else None

    ratios = {}
    for w in WORKLOADS:
        for stat, suffix in (("ns_median", ""), ("ns_min", "_min")):
            ratios["%s_end_to_end_over_floor%s" % (w, suffix)] = ratio(ns(w, "end_to_end", stat), ns(w, "floor", stat))
            ratios["%s_end_to_end_key_over_floor%s" % (w, suffix)] = ratio(ns(w, "end_to_end_key", stat), ns(w, "floor", stat))
            ratios["%s_verify_over_floor%s" % (w, suffix)] = ratio(ns(w, "verify", stat), ns(w, "floor", stat))
            ratios["%s_baseline_over_end_to_end%s" % (w, suffix)] = ratio(ns(w, "baseline", stat), ns(w, "end_to_end", stat))
            ratios["%s_parse_over_simdjson_dom%s" % (w, suffix)] = ratio(ns(w, "parse", stat), ns(w, "simdjson_dom", stat))
        parse, dom = ns(w, "parse"), ns(w, "simdjson_dom")
        ratios["%s_library_parse_overhead_ns" % w] = parse - dom if parse is not None and dom is not None else None
    bulk = rows.get("sha256_bulk/64KiB", {}).get("bytes_per_second")
    for row in ("end_to_end", "verify", "floor"):
        r = rows.get("large/%s" % row)
        ratios["large_%s_over_bulk_throughput" % row] = ratio(r["bytes_per_second"], bulk) if r else None
    allocs = [rows[k]["heap_allocs"] for k in rows
              if k.split("/")[-1] in LIBRARY_ROWS and "heap_allocs" in rows[k]]
    news = [rows[k]["operator_new"] for k in rows
            if k.split("/")[-1] in LIBRARY_ROWS and "operator_new" in rows[k]]
    ratios["library_heap_allocs_per_delivery"] = max(allocs + news) if allocs else None

    targets = []
    for key, description, op, bound in TARGETS:
        value = ratios.get(key)
        met = None if value is None else (value <= bound if op == "<=" else value >= bound)
        targets.append({"key": key, "description": description, "target": "%s %g" % (op, bound),
                        "value": value, "met": met})
    return ratios, targets


def machine_info(raw_by_backend):
    context = next(iter(raw_by_backend.values()))["context"]
    info = {
        "cpu_model": None,
        "num_cpus": context.get("num_cpus"),
        "mhz_per_cpu": context.get("mhz_per_cpu"),
        "caches": context.get("caches"),
        "kernel": platform.release(),
        "os": None,
        "date": context.get("date"),
        "host_name": context.get("host_name"),
        "cpu_scaling_enabled": context.get("cpu_scaling_enabled"),
        "benchmark_library_build_type": context.get("library_build_type"),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        flags = next((l for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("flags")), "")
        info["sha_ni"] = " sha_ni" in flags
    except OSError:
        pass
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                info["os"] = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return info


def fmt_ns(value):
    if value is None:
        return "-"
    return "%.0f" % value if value >= 100 else "%.1f" % value


def fmt_ratio(value):
    return "-" if value is None else "%.2fx" % value


def tables(report):
    """The human tables, as markdown."""
    lines = []
    m = report["machine"]
    lines.append("Machine: %s, %s CPUs, %s; %s; kernel %s. Pinned to one CPU; %d repetitions of every row, "
                 "interleaved; median CPU time (minima in the JSON)."
                 % (m.get("cpu_model"), m.get("num_cpus"), "SHA-NI" if m.get("sha_ni") else "no SHA-NI",
                    m.get("os"), m.get("kernel"), report["config"]["repetitions"]))
    for backend, b in report["backends"].items():
        rows, ratios = b["rows"], b["ratios"]
        lines.append("")
        lines.append("**%s** (%s, simdjson %s `%s`): ns per delivery"
                     % (b["context"].get("crypto_backend", backend), b["context"].get("compiler", "?"),
                        b["context"].get("simdjson_version", "?"), b["context"].get("simdjson_implementation", "?")))
        lines.append("")
        lines.append("| workload | bytes | floor | verify | parse | simdjson DOM | end to end | end to end, 1 key | baseline |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for w in WORKLOADS:
            def get(row, key="ns_median"):
                r = rows.get("%s/%s" % (w, row))
                return r.get(key) if r else None
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                w, b["mean_body_bytes"].get(w, "?"),
                fmt_ns(get("floor")), fmt_ns(get("verify")), fmt_ns(get("parse")), fmt_ns(get("simdjson_dom")),
                fmt_ns(get("end_to_end")), fmt_ns(get("end_to_end_key")), fmt_ns(get("baseline"))))
        lines.append("")
        lines.append("| workload | e2e / floor | e2e, 1 key / floor | verify / floor | baseline / e2e | parse - DOM "
                     "| heap allocs per delivery: library / baseline | e2e deliveries/s | e2e MB/s |")
        lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for w in WORKLOADS:
            def get(row, key="ns_median"):
                r = rows.get("%s/%s" % (w, row))
                return r.get(key) if r else None
            e2e_items = get("end_to_end", "items_per_second")
            e2e_bytes = get("end_to_end", "bytes_per_second")
            lib_allocs = max((get(r, "heap_allocs") or 0) for r in LIBRARY_ROWS)
            overhead = ratios.get(w + "_library_parse_overhead_ns")
            lines.append("| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |" % (
                w,
                fmt_ratio(ratios.get(w + "_end_to_end_over_floor")),
                fmt_ratio(ratios.get(w + "_end_to_end_key_over_floor")),
                fmt_ratio(ratios.get(w + "_verify_over_floor")),
                fmt_ratio(ratios.get(w + "_baseline_over_end_to_end")),
                "-" if overhead is None else "%.0f ns" % overhead,
                "%g" % lib_allocs, "%g" % (get("baseline", "heap_allocs") or 0),
                "-" if e2e_items is None else "%.2fM" % (e2e_items / 1e6),
                "-" if e2e_bytes is None else "%.0f" % (e2e_bytes / 1e6)))
        bulk = rows.get("sha256_bulk/64KiB", {}).get("bytes_per_second")
        if bulk:
            lines.append("")
            lines.append("SHA-256 bulk: %.0f MB/s; the large delivery end to end runs at %.0f%% of it, verify alone at %.0f%%."
                         % (bulk / 1e6, 100 * (ratios.get("large_end_to_end_over_bulk_throughput") or 0),
                            100 * (ratios.get("large_verify_over_bulk_throughput") or 0)))
        lines.append("")
        lines.append("| target | measured | met |")
        lines.append("| --- | ---: | --- |")
        for t in b["targets"]:
            value = t["value"]
            shown = "-" if value is None else ("%g" % value if t["key"].startswith("library_heap")
                                               else "%.2f" % value)
            lines.append("| %s %s | %s | %s |" % (t["description"], t["target"], shown,
                                                  "-" if t["met"] is None else ("yes" if t["met"] else "**no**")))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default="build-bench", help="meson build directory (default: build-bench)")
    parser.add_argument("--out", help="where to write benchmark.json/.md/.svg (default: the build directory)")
    parser.add_argument("--repetitions", type=int, default=15, help="runs of every row (default: 15)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per run of a row (default: 0.2)")
    parser.add_argument("--cpu", type=int, default=None,
                        help="CPU to pin to (default: the last one allowed; -1: do not pin)")
    parser.add_argument("--filter", help="--benchmark_filter regex, to run some rows only")
    parser.add_argument("--smoke", action="store_true", help="one short run of every row (CI)")
    parser.add_argument("--no-build", action="store_true", help="use the build directory as it is")
    parser.add_argument("--verbose", action="store_true", help="show Google Benchmark's own output")
    args = parser.parse_args()
    if args.smoke:
        args.repetitions, args.min_time = 1, 0.001

    build_dir = (SOURCE / args.build_dir) if not os.path.isabs(args.build_dir) else Path(args.build_dir)
    out_dir = Path(args.out).resolve() if args.out else build_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    if not args.no_build:
        configure_and_build(build_dir, reconfigure=False)

    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    cpu = args.cpu if args.cpu is not None else (allowed[-1] if allowed else None)
    if cpu is not None and cpu < 0:
        cpu = None

    raw_by_backend = {}
    for backend, (cmd, env) in sorted(benchmark_programs(build_dir).items()):
        raw_by_backend[backend] = run_program(cmd, env, build_dir / ("bench_webhooks_%s.json" % backend), args, cpu)

    report = {
        "command": "python3 bench/run.py " + " ".join(sys.argv[1:]),
        "config": {"repetitions": args.repetitions, "min_time_s": args.min_time, "pinned_cpu": cpu,
                   "statistic": "CPU time per delivery, median over repetitions (minimum, mean, CV and wall-clock median also given)",
                   "build": "meson --buildtype=release -Doptimization=2 (-O2, NDEBUG)"},
        "machine": machine_info(raw_by_backend),
        "backends": {},
    }
    failed = False
    for backend, raw in raw_by_backend.items():
        rows = summarise(raw)
        ratios, targets = analyse(rows)
        context = {k: v for k, v in raw["context"].items() if isinstance(v, str)}
        mean_bytes = dict(item.split(":") for item in context.get("mean_body_bytes", "").split(",") if ":" in item)
        report["backends"][backend] = {"context": context, "mean_body_bytes": mean_bytes, "rows": rows,
                                       "ratios": ratios, "targets": targets, "raw": raw}
        # Allocation in the library is a bug, not a timing: it fails the run.
        if ratios.get("library_heap_allocs_per_delivery") not in (None, 0, 0.0):
            log("bench/run.py: %s: the library allocated on the hot path" % backend)
            failed = True

    # The hand-written baseline is usually written against the system's
    # OpenSSL, while the library defaults to BoringSSL: that comparison
    # spans the two programs of this run.
    backends = report["backends"]
    if "boringssl" in backends and "openssl" in backends:
        cross = {}
        for w in WORKLOADS:
            lib = backends["boringssl"]["rows"].get("%s/end_to_end" % w)
            base = backends["openssl"]["rows"].get("%s/baseline" % w)
            if lib and base:
                cross["%s_openssl_baseline_over_boringssl_end_to_end" % w] = base["ns_median"] / lib["ns_median"]
        report["cross_backend"] = cross
        markdown_cross = ("\nAcross the two programs: the OpenSSL 3 baseline over the BoringSSL end to end is "
                          + ", ".join("%.1fx (%s)" % (cross["%s_openssl_baseline_over_boringssl_end_to_end" % w], w)
                                      for w in WORKLOADS if "%s_openssl_baseline_over_boringssl_end_to_end" % w in cross)
                          + ".\n")
    else:
        markdown_cross = ""

    # The library's path for builds without OpenSSL's deprecated API, beside
    # its SHA256_CTX fast path: both OpenSSL 3, two programs of this run.
    markdown_fallback = ""
    if "openssl" in backends and "openssl-no-deprecated" in backends:
        fallback = {}
        for w in WORKLOADS:
            for row in ("verify", "end_to_end"):
                fast = backends["openssl"]["rows"].get("%s/%s" % (w, row))
                other = backends["openssl-no-deprecated"]["rows"].get("%s/%s" % (w, row))
                if fast and other:
                    fallback["%s/%s" % (w, row)] = {"fast_ns": fast["ns_median"], "no_deprecated_ns": other["ns_median"],
                                                    "ratio": other["ns_median"] / fast["ns_median"]}
        report["openssl_no_deprecated_over_fast"] = fallback
        if fallback:
            markdown_fallback = ("\nOpenSSL 3 without its deprecated API (provider digest) against the SHA256_CTX fast "
                                 "path, fw::verify: "
                                 + ", ".join("%s %s ns vs %s ns (%.2fx)" % (w, fmt_ns(f["no_deprecated_ns"]),
                                                                           fmt_ns(f["fast_ns"]), f["ratio"])
                                             for w in WORKLOADS for f in [fallback.get("%s/verify" % w)] if f)
                                 + ".\n")

    (out_dir / "benchmark.json").write_text(json.dumps(report, indent=1) + "\n")
    markdown = tables(report) + markdown_cross + markdown_fallback
    (out_dir / "benchmark.md").write_text(markdown)
    print(markdown)

    plotter = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    plot = subprocess.run([plotter, str(SOURCE / "bench" / "plot.py"), str(out_dir / "benchmark.json"),
                           str(out_dir / "benchmark.svg")])
    if plot.returncode != 0:
        log("bench/run.py: the chart failed (needs matplotlib: Debian's python3-matplotlib, in /usr/bin/python3)")
        failed = True
    log("wrote %s, %s and %s" % (out_dir / "benchmark.json", out_dir / "benchmark.md", out_dir / "benchmark.svg"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
