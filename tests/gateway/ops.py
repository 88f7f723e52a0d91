#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""The gateway as operators run it (issue 20): the config file, logs,
SIGHUP reload, systemd's notify protocol and unit file.

    FISKIL_GATEWAY=build/gateway/fiskil-gateway python3 tests/gateway/ops.py GROUP

GROUP is one of: ops-config.
meson runs each group as one test of the suite `gateway` (gateway-ops-GROUP).
"""
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import Gateway, check, delivery, expect  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "contrib" / "fiskil-gateway.toml"
SECRET_FILE = harness.FIXTURES / "secret.b64"


def refused(tmp, *args):
    """Runs a gateway that must refuse to start; returns (exit status, stderr)."""
    p = subprocess.run([harness.GATEWAY, *args], cwd=tmp, capture_output=True, timeout=30)
    return p.returncode, p.stderr.decode(errors="replace")


# --- the config file ------------------------------------------------------------

def test_config(tmp):
    tmp = pathlib.Path(tmp)
    # The shipped example parses; the command line's --listen, --journal and
    # --secret-file (the harness's) override its /etc and /var/lib paths.
    g = Gateway(tmp, "--config", str(EXAMPLE))
    try:
        b, s = delivery("9700000000000001")
        expect(g.post(b, s), 200, "accepted", "a gateway started with the example config")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()

    # Everything from the file: listen, path, repeatable secret-file, a size.
    good = tmp / "good.toml"
    good.write_text(f'''# a comment
listen = "127.0.0.1:0"
path = "/from/file"
secret-file = ["{SECRET_FILE}", "{harness.FIXTURES / 'secret_rotated.b64'}"]
journal = "{tmp / 'file.sqlite'}"
max-body-size = "2KiB"
max-connections = 64
''')
    g = Gateway(tmp, "--config", str(good), secrets=[])
    try:
        b, s = delivery("9700000000000002")
        expect(g.post(b, s, path="/from/file"), 200, "accepted", "path and secret-file from the file")
        b, s = delivery("9700000000000003", secret=harness.SECRET_ROTATED)
        expect(g.post(b, s, path="/from/file"), 200, "accepted", "the file's second secret-file")
        big = b"{" + b" " * 4096 + b"}"
        status, _ = g.post(big, harness.sign(big), path="/from/file")
        check(status == 413, f"max-body-size from the file: 413 for 4 KiB (got {status})")
        # The harness always gives --journal journal.sqlite: it overrides the file's.
        check((tmp / "journal.sqlite").exists() and not (tmp / "file.sqlite").exists(),
              "--journal on the command line overrides the file's journal")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()

    # A flag on the command line overrides the file: --path here, and the
    # repeatable --secret-file replaces the file's list (the rotated secret
    # no longer verifies).
    g = Gateway(tmp, "--config", str(good), "--path", "/from/flag", journal="flag.sqlite", secrets=[SECRET_FILE])
    try:
        b, s = delivery("9700000000000004")
        expect(g.post(b, s, path="/from/flag"), 200, "accepted", "--path on the command line overrides the file")
        status, _ = g.post(b, s, path="/from/file")
        check(status == 404, f"the file's path is not served once overridden (got {status})")
        b, s = delivery("9700000000000005", secret=harness.SECRET_ROTATED)
        expect(g.post(b, s, path="/from/flag"), 401, "bad_signature",
               "--secret-file on the command line replaces the file's secret-file list")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()

    # Unknown key: exit 64, the file, line and key named.
    unknown = tmp / "unknown.toml"
    unknown.write_text(f'secret-file = "{SECRET_FILE}"\n\nlisten-adress = "127.0.0.1:0"\n')
    code, err = refused(tmp, "--config", str(unknown))
    check(code == 64, f"an unknown key exits 64 (got {code}: {err})")
    check(f"{unknown}:3:" in err and "listen-adress" in err, f"the message names file:line and key: {err!r}")

    # Bad values: a size, a duration, a boolean for a flag that takes a
    # value, a float, a table.
    for line_text, key in [('max-body-size = "lots"', "max-body-size"), ('read-timeout = "soon"', "read-timeout"),
                           ("listen = true", "listen"), ("max-connections = 1.5", "max-connections"),
                           ("[listen]\nhost = 1", "listen")]:
        bad = tmp / "bad.toml"
        bad.write_text(f'secret-file = "{SECRET_FILE}"\n{line_text}\n')
        code, err = refused(tmp, "--config", str(bad))
        check(code == 64, f"{line_text!r} exits 64 (got {code}: {err})")
        check(f"{bad}:2:" in err and f"'{key}'" in err, f"{line_text!r}: the message names file:line and key: {err!r}")

    # Not TOML at all: the parser's position.
    broken = tmp / "broken.toml"
    broken.write_text('secret-file = "x"\nlisten = \n')
    code, err = refused(tmp, "--config", str(broken))
    check(code == 64 and f"{broken}:2:" in err, f"a TOML syntax error exits 64 with file:line ({code}: {err!r})")
    code, err = refused(tmp, "--config", str(tmp / "absent.toml"))
    check(code == 64 and "absent.toml" in err, f"a missing file exits 64, named ({code}: {err!r})")


GROUPS = {
    "ops-config": test_config,
}

if __name__ == "__main__":
    sys.exit(harness.run_group(GROUPS, __doc__, "fiskil-gateway-ops-"))
