#!/usr/bin/python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Draws bench/run.py's benchmark.json as a chart: ns per delivery of the
SHA-256 floor, fw::verify, the library end to end and the hand-written
baseline, per workload, one panel per crypto backend (log scale: the
baseline is an order of magnitude away).

    /usr/bin/python3 bench/plot.py benchmark.json benchmark.svg

Needs matplotlib (Debian: python3-matplotlib, for /usr/bin/python3). The
output format follows the extension (.svg or .png); SVG output is made
reproducible (fixed hash salt, no date), so an unchanged run gives an
unchanged file.
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

WORKLOADS = ["guide", "mix", "large", "rejected"]
SERIES = [
    ("floor", "SHA-256 floor", "#9e9e9e"),
    ("verify", "fw::verify", "#64b5f6"),
    ("end_to_end", "fiskil-webhooks end to end", "#1565c0"),
    ("baseline", "hand-written baseline", "#e65100"),
]


def label_ns(ns):
    return "%.0f ns" % ns if ns < 10000 else "%.1f µs" % (ns / 1000)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    report = json.load(open(argv[1]))
    backends = report["backends"]
    plt.rcParams["svg.hashsalt"] = "fiskil-webhooks"
    plt.rcParams["font.size"] = 9
    fig, axes = plt.subplots(1, len(backends), figsize=(5.2 * len(backends), 4.2), sharex=True, squeeze=False)
    bar = 0.2
    for ax, (backend, data) in zip(axes[0], backends.items()):
        rows = data["rows"]
        for s, (row, label, colour) in enumerate(SERIES):
            for w, workload in enumerate(WORKLOADS):
                r = rows.get("%s/%s" % (workload, row))
                if r is None:
                    continue
                y = w + (s - (len(SERIES) - 1) / 2) * bar
                ax.barh(y, r["ns_median"], height=bar, color=colour, label=label if w == 0 else None)
                ax.text(r["ns_median"] * 1.08, y, label_ns(r["ns_median"]), va="center", fontsize=7)
        ax.set_yticks(range(len(WORKLOADS)))
        ax.set_yticklabels(["%s\n%s B" % (w, data["mean_body_bytes"].get(w, "?")) for w in WORKLOADS])
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("ns per delivery (median, log scale)")
        ratios = data["ratios"]
        ax.set_title("%s: guide e2e %.2fx floor, mix %.1fx faster than baseline"
                     % (data["context"].get("crypto_backend", backend),
                        ratios.get("guide_end_to_end_over_floor") or 0,
                        ratios.get("mix_baseline_over_end_to_end") or 0), fontsize=9)
        ax.grid(axis="x", which="both", alpha=0.25)
        ax.set_axisbelow(True)
    axes[0][0].legend(loc="lower right", fontsize=7, framealpha=0.9)
    ax_right = axes[0][-1]
    ax_right.set_xlim(right=ax_right.get_xlim()[1] * 3)
    m = report["machine"]
    fig.suptitle("fiskil-webhooks: ns per delivery, %s, %s CPUs (%s)"
                 % (m.get("cpu_model"), m.get("num_cpus"), m.get("os")), fontsize=10)
    fig.tight_layout()
    fig.savefig(argv[2], metadata={"Date": None} if argv[2].endswith(".svg") else None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
