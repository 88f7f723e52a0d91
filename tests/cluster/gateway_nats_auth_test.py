#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""gateway_nats_auth_test.py: fiskil-gateway --nats against a nats-server
that requires a token (docs/jetstream.md, "Credentials").

1. --nats-token-file (0600): connects, a delivery is kept (200).
2. Without credentials, or with a wrong token: exit 1 at start, saying that
   NATS refused the credentials.
3. The token inside the --nats URL works, with a warning that it shows in ps.
4. A 0644 token or .creds file exits 64; a missing .creds file exits 1.
The token never appears on the gateway's standard error. Every process is
stopped at the end, even on failure."""

import os
import secrets
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "gateway"))
import nats_cluster  # noqa: E402
import harness  # noqa: E402
from harness import check  # noqa: E402


def main():
    token = "tok" + secrets.token_hex(16)
    wrong = "tok" + secrets.token_hex(16)
    cluster = nats_cluster.Cluster(1)
    node = cluster.nodes[0]
    with open(node.conf, "a") as f:
        f.write('authorization { token: "%s" }\n' % token)
    workdir = tempfile.mkdtemp(prefix="fiskil-gw-nats-auth-")
    common = ["--stream", "AUTH", "--stream-replicas", "1"]

    def start_fails(*args):
        return subprocess.run([harness.GATEWAY, "--listen", "127.0.0.1:0", "--secret-file", str(harness.SECRET_FILE),
                               "--journal", os.path.join(workdir, "unused.sqlite"), *args],
                              capture_output=True, text=True, timeout=60, cwd=workdir)

    try:
        node.start()
        cluster.wait_ready()
        token_file = harness.write_private(os.path.join(workdir, "nats.token"), token + "\n")
        g = harness.Gateway(workdir, "--nats", node.url, "--nats-token-file", str(token_file), *common)
        try:
            body, sig = harness.delivery("auth-1")
            harness.expect(g.post(body, sig), 200, "accepted", "kept through a token-authenticated connection")
            check(g.stop() == 0, "SIGTERM exits 0")
            check(token not in g.stderr(), "the token is in the log (token file)")
        finally:
            g.kill()

        r = start_fails("--nats", node.url, *common)
        check(r.returncode == 1 and "NATS refused the credentials" in r.stderr and "Authorization Violation" in r.stderr,
              f"without credentials: exit 1 saying why: {r.returncode} {r.stderr[-600:]}")
        wrong_file = harness.write_private(os.path.join(workdir, "wrong.token"), wrong)
        r = start_fails("--nats", node.url, "--nats-token-file", str(wrong_file), *common)
        check(r.returncode == 1 and "NATS refused the credentials" in r.stderr and wrong not in r.stderr,
              f"a wrong token file: exit 1 without the token: {r.returncode} {r.stderr[-600:]}")
        in_url = node.url.replace("nats://", "nats://%s@" % wrong)
        r = start_fails("--nats", in_url, *common)
        check(r.returncode == 1 and wrong not in r.stderr and "nats://***@127.0.0.1" in r.stderr,
              f"a wrong token in the URL: exit 1, the URL redacted: {r.returncode} {r.stderr[-600:]}")

        g = harness.Gateway(workdir, "--nats", node.url.replace("nats://", "nats://%s@" % token), *common)
        try:
            body, sig = harness.delivery("auth-2")
            harness.expect(g.post(body, sig), 200, "accepted", "kept with the token in the URL")
            check(g.logged("nats_url_credentials") and g.logged("ps"), "no warning about credentials in the URL")
            check(g.stop() == 0, "SIGTERM exits 0")
            check(token not in g.stderr(), "the token is in the log (URL)")
        finally:
            g.kill()

        os.chmod(token_file, 0o644)
        r = start_fails("--nats", node.url, "--nats-token-file", str(token_file), *common)
        check(r.returncode == 64 and str(token_file) in r.stderr and "chmod 600" in r.stderr and token not in r.stderr,
              f"a 0644 token file exits 64: {r.returncode} {r.stderr[-600:]}")
        creds = harness.write_private(os.path.join(workdir, "user.creds"), "not a creds file\n")
        os.chmod(creds, 0o640)
        r = start_fails("--nats", node.url, "--nats-creds", str(creds), *common)
        check(r.returncode == 64 and str(creds) in r.stderr and "0640" in r.stderr,
              f"a 0640 .creds file exits 64: {r.returncode} {r.stderr[-600:]}")
        r = start_fails("--nats", node.url, "--nats-creds", os.path.join(workdir, "missing.creds"), *common)
        check(r.returncode == 1 and "missing.creds" in r.stderr, f"a missing .creds file exits 1: {r.stderr[-600:]}")
    finally:
        harness.stop_all()
        cluster.close()
    if harness.failures:
        print(f"{len(harness.failures)} check(s) failed", file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
