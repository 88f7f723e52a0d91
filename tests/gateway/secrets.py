# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""fiskil-gateway's secret files (docs/gateway.md, "Secrets and TLS"): every
secret file is read by one reader that refuses a file its group or others can
read, at start (exit 64) and on SIGHUP (logged, the old secret kept).

usage: secrets.py GROUP   (GROUP: secrets)
"""
import os
import pathlib
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Gateway, check, delivery, expect  # noqa: E402


def test_secrets(tmp):
    tmp = pathlib.Path(tmp)
    run = lambda *a: subprocess.run([harness.GATEWAY, "--listen", "127.0.0.1:0", "--journal", str(tmp / "r.sqlite"), *a],
                                    capture_output=True, text=True, timeout=30, cwd=tmp)
    exposed = harness.write_private(tmp / "exposed.b64", harness.SECRET + "\n")
    for mode in (0o644, 0o640, 0o604, 0o660):
        os.chmod(exposed, mode)
        r = run("--secret-file", str(exposed))
        check(r.returncode == 64 and str(exposed) in r.stderr and f"{mode:04o}" in r.stderr
              and f"chmod 600 {exposed}" in r.stderr and harness.SECRET not in r.stderr,
              f"a {mode:04o} --secret-file exits 64 naming the file, its mode and the fix: {r.returncode} {r.stderr}")
    # The second of two secret files, and the forwarding secret, too.
    r = run("--secret-file", str(harness.SECRET_FILE), "--secret-file", str(exposed))
    check(r.returncode == 64 and str(exposed) in r.stderr, f"an exposed second --secret-file exits 64: {r.stderr}")
    forward = harness.write_private(tmp / "forward.secret", "whsec_" + harness.SECRET + "\n")
    os.chmod(forward, 0o644)
    r = run("--secret-file", str(harness.SECRET_FILE), "--forward", "http://127.0.0.1:9/", "--forward-secret-file",
            str(forward))
    check(r.returncode == 64 and str(forward) in r.stderr and "chmod 600" in r.stderr,
          f"an exposed --forward-secret-file exits 64: {r.returncode} {r.stderr}")

    # 0600 (and 0400) are accepted; SIGHUP refuses a file made readable and
    # keeps the secret in service.
    current = harness.write_private(tmp / "current.b64", harness.SECRET + "\n")
    os.chmod(current, 0o400)
    g = Gateway(tmp, secrets=[current])
    try:
        b, s = delivery("9600000000000001")
        expect(g.post(b, s), 200, "accepted", "a 0400 secret file is accepted")
        os.chmod(current, 0o600)
        harness.write_private(current, harness.SECRET_ROTATED + "\n")
        os.chmod(current, 0o644)
        g.signal(signal.SIGHUP)
        check(g.logged("configuration_reload_failed") and g.logged("chmod 600"),
              f"SIGHUP with a 0644 secret file logs the refusal and the fix: {g.stderr()[-800:]}")
        b, s = delivery("9600000000000002")
        expect(g.post(b, s), 200, "accepted", "the old secret is kept after a refused reload")
        b, s = delivery("9600000000000003", secret=harness.SECRET_ROTATED)
        check(g.post(b, s)[0] == 401, "the exposed file's new secret was not taken")
        os.chmod(current, 0o600)
        g.signal(signal.SIGHUP)
        check(g.logged("configuration_reloaded"), "SIGHUP with the file back at 0600 reloads")
        b, s = delivery("9600000000000004", secret=harness.SECRET_ROTATED)
        expect(g.post(b, s), 200, "accepted", "the new secret after chmod 600 and SIGHUP")
        check(harness.SECRET not in g.stderr() and harness.SECRET_ROTATED not in g.stderr(), "no secret in the logs")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


GROUPS = {
    "secrets": test_secrets,
}

if __name__ == "__main__":
    sys.exit(harness.run_group(GROUPS, __doc__, "fiskil-gateway-secrets-"))
