#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""The alert rules: promtool check rules on
contrib/prometheus/fiskil-gateway-rules.yml, then promtool test rules on its
unit tests (fiskil-gateway-rules.test.yml). Exits 77 (skipped) without
promtool (Debian package prometheus)."""
import pathlib
import shutil
import subprocess
import sys

RULES = pathlib.Path(__file__).resolve().parents[2] / "contrib" / "prometheus"


def main():
    promtool = shutil.which("promtool")
    if promtool is None:
        print("SKIP: promtool is absent (Debian package prometheus)")
        return 77
    failed = 0
    for args in (["check", "rules", "fiskil-gateway-rules.yml"], ["test", "rules", "fiskil-gateway-rules.test.yml"]):
        done = subprocess.run([promtool, *args], cwd=RULES, capture_output=True, text=True, timeout=120)
        print(f"promtool {' '.join(args)}: exit {done.returncode}\n{done.stdout}{done.stderr}")
        failed += done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
