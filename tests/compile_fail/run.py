#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Checks that a misuse of the API does not compile, for the intended reason.

Each case file marks the misuse with `#ifdef FW_EXPECT_FAIL` and names the
diagnostic it must produce in a `// expect-error: REGEX` line. The file is
compiled twice: without FW_EXPECT_FAIL it must compile (so a typo cannot pass
as a failure), with it it must fail with a diagnostic matching REGEX.

    run.py CASE.cpp -- COMPILER [FLAGS...]
"""
import re
import subprocess
import sys


def main(argv):
    split = argv.index("--")
    case, command = argv[1], argv[split + 1:]
    source = open(case, encoding="utf-8").read()
    match = re.search(r"//\s*expect-error:\s*(.+)", source)
    if not match:
        sys.exit(f"{case}: no '// expect-error:' line")
    expected = re.compile(match.group(1).strip())
    base = command + ["-fsyntax-only", "-x", "c++", case]

    control = subprocess.run(base, capture_output=True, text=True)
    if control.returncode != 0:
        print(f"{case}: the control build (without FW_EXPECT_FAIL) does not compile:\n{control.stderr}")
        return 1
    misuse = subprocess.run(base + ["-DFW_EXPECT_FAIL"], capture_output=True, text=True)
    if misuse.returncode == 0:
        print(f"{case}: the misuse compiled, but it must not")
        return 1
    if not expected.search(misuse.stderr):
        print(f"{case}: failed to compile, but not with /{expected.pattern}/:\n{misuse.stderr[:4000]}")
        return 1
    print(f"{case}: refused as expected (/{expected.pattern}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
