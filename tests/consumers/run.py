#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Builds tests/consumers/consumer.cpp each way README.md's "Use it in your
project" says, running the README's own blocks (marked with
<!-- consumer: NAME -->), and checks that every build verifies and parses a
signed sample and refuses a forged one.

    tests/consumers/run.py [--work DIR]

The pkg-config and CMake ways consume an install made with
`meson install --destdir`; since the installed files name their final
prefix, pkg-config is pointed at the staged prefix with --define-variable
and CMake with CMAKE_PREFIX_PATH.
"""
import argparse
import csv
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
PREFIX = "/usr/local"


def readme_blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"<!-- consumer: (\S+) -->\s*\n```\w+\n(.*?)^```", text, flags=re.S | re.M))
    expected = {"single-header", "single-header-openssl", "meson-subproject", "pkg-config", "cmake"}
    if set(blocks) != expected:
        sys.exit(f"README.md consumer blocks: found {sorted(blocks)}, expected {sorted(expected)}")
    return blocks


def run(command, cwd, env=None, shell=False):
    print(f"$ {command if shell else ' '.join(map(str, command))}   (in {cwd})", flush=True)
    result = subprocess.run(command, cwd=cwd, env=env, shell=shell, executable="/bin/bash" if shell else None,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def sample():
    with open(FIXTURES / "manifest.tsv", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["name"] == "consent_revoked":
                return row
    sys.exit("no consent_revoked sample")


def check_consumer(binary, way):
    row = sample()
    args = [str(binary), str(FIXTURES / "consent_revoked.json"), str(FIXTURES / "secret.b64")]
    good = subprocess.run(args + [row["signature"]], capture_output=True, text=True)
    expected = f"consent.revoked {row['message_id']}"
    if good.returncode != 0 or good.stdout.strip() != expected:
        sys.exit(f"{way}: expected '{expected}', got {good.returncode}: {good.stdout}{good.stderr}")
    forged = subprocess.run(args + ["A" * 43 + "="], capture_output=True, text=True)
    if forged.returncode != 1 or "does not match" not in forged.stdout:
        sys.exit(f"{way}: a forged signature was not refused: {forged.returncode}: {forged.stdout}{forged.stderr}")
    print(f"ok: {way}", flush=True)


def fresh_dir(path):
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "consumers" / "consumer.cpp", path)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=pathlib.Path, default=ROOT / "build-ci" / "consumers")
    work = parser.parse_args().work.resolve()
    blocks = readme_blocks()

    # 1. The single header alone, with each backend: no -I include/.
    for way in ("single-header", "single-header-openssl"):
        ws = fresh_dir(work / way)
        (ws / "fiskil-webhooks").symlink_to(ROOT)
        run(blocks[way], ws, shell=True)
        check_consumer(ws / "consumer", way)

    # 2. A meson project with this one as a subproject.
    ws = fresh_dir(work / "meson-subproject")
    (ws / "meson.build").write_text(blocks["meson-subproject"])
    (ws / "subprojects").mkdir()
    (ws / "subprojects" / "fiskil-webhooks").symlink_to(ROOT)
    run(["meson", "setup", "build"], ws)
    run(["meson", "compile", "-C", "build"], ws)
    check_consumer(ws / "build" / "consumer", "meson-subproject")

    # 3 and 4 consume an installed copy, staged with --destdir.
    build, destdir = work / "install-build", work / "destdir"
    shutil.rmtree(build, ignore_errors=True)
    shutil.rmtree(destdir, ignore_errors=True)
    run(["meson", "setup", str(build), str(ROOT), f"--prefix={PREFIX}", "-Dtests=false", "-Dexamples=false", "-Dtools=false",
         "-Dgateway=false"], ROOT)
    run(["meson", "install", "-C", str(build), "--destdir", str(destdir)], ROOT)
    staged = destdir / PREFIX.lstrip("/")
    pc_dirs = sorted(str(p.parent) for p in staged.rglob("fiskil-webhooks.pc"))
    if not pc_dirs:
        sys.exit("meson install did not install fiskil-webhooks.pc")

    ws = fresh_dir(work / "pkg-config")
    shim = ws / "bin"
    shim.mkdir()
    (shim / "pkg-config").write_text(
        "#!/bin/sh\n"
        f"exec /usr/bin/pkg-config --define-variable=prefix={staged} \"$@\"\n")
    (shim / "pkg-config").chmod(0o755)
    env = dict(os.environ, PATH=f"{shim}:{os.environ['PATH']}", PKG_CONFIG_PATH=":".join(pc_dirs))
    run(blocks["pkg-config"], ws, env=env, shell=True)
    check_consumer(ws / "consumer", "pkg-config")

    ws = fresh_dir(work / "cmake")
    (ws / "CMakeLists.txt").write_text(blocks["cmake"])
    run(["cmake", "-S", ".", "-B", "build", f"-DCMAKE_PREFIX_PATH={staged}"], ws)
    run(["cmake", "--build", "build"], ws)
    check_consumer(ws / "build" / "consumer", "cmake")
    print("every consumption path works")
    return 0


if __name__ == "__main__":
    sys.exit(main())
