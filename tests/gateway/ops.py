#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""The gateway as operators run it (issue 20): the config file, logs,
SIGHUP reload, systemd's notify protocol and unit file.

    FISKIL_GATEWAY=build/gateway/fiskil-gateway python3 tests/gateway/ops.py GROUP

GROUP is one of: ops-config, ops-logs, ops-reload, ops-systemd, ops-unit.
meson runs each group as one test of the suite `gateway` (gateway-ops-GROUP).
"""
import base64
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import harness  # noqa: E402
from harness import Gateway, check, delivery, expect  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "contrib" / "fiskil-gateway.toml"
SECRET_FILE = harness.SECRET_FILE  # an owner-only copy: the gateway refuses secret files others can read


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
secret-file = ["{SECRET_FILE}", "{harness.SECRET_ROTATED_FILE}"]
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
                           ("[listen]\nhost = 1", "listen"), ('empty-server = "yes"', "empty-server")]:
        bad = tmp / "bad.toml"
        bad.write_text(f'secret-file = "{SECRET_FILE}"\n{line_text}\n')
        code, err = refused(tmp, "--config", str(bad))
        check(code == 64, f"{line_text!r} exits 64 (got {code}: {err})")
        check(f"{bad}:2:" in err and f"'{key}'" in err, f"{line_text!r}: the message names file:line and key: {err!r}")

    bad.write_text(f'secret-file = "{SECRET_FILE}"\nempty-server = "yes"\n')
    code, err = refused(tmp, "--config", str(bad))
    check("expected true or false" in err, f"a valueless flag given a string says so: {err!r}")

    # Not TOML at all: the parser's position.
    broken = tmp / "broken.toml"
    broken.write_text('secret-file = "x"\nlisten = \n')
    code, err = refused(tmp, "--config", str(broken))
    check(code == 64 and f"{broken}:2:" in err, f"a TOML syntax error exits 64 with file:line ({code}: {err!r})")
    code, err = refused(tmp, "--config", str(tmp / "absent.toml"))
    check(code == 64 and "absent.toml" in err, f"a missing file exits 64, named ({code}: {err!r})")


# --- logs -----------------------------------------------------------------------

def test_logs(tmp):
    tmp = pathlib.Path(tmp)
    # JSON lines at debug level: every line is one JSON object, a hostile
    # X-Forwarded-For (quotes, a backslash, a control byte, bytes that are
    # not UTF-8) included; no secret, MAC or signature in any line.
    g = Gateway(tmp, "--log-level", "debug", "--log-format", "json")
    try:
        good, good_sig = delivery("9710000000000001")
        expect(g.post(good, good_sig), 200, "accepted", "a good delivery")
        bad, _ = delivery("9710000000000002")
        forged = harness.sign(bad, harness.SECRET_ROTATED)[:-4] + "AAA="
        expect(g.post(bad, forged, headers={"X-Forwarded-For": 'a"b\\c'}), 401, "bad_signature",
               "a bad signature")
        hostile = b'x"y\\z\tw\xff\xc3'  # a tab: HTTP allows no other control byte in a header
        request = (b"POST /webhooks/fiskil HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Fiskil-Signature: " +
                   forged.encode() + b"\r\nX-Forwarded-For: " + hostile + b"\r\nContent-Length: " +
                   str(len(bad)).encode() + b"\r\n\r\n" + bad)
        check(b" 401 " in g.raw(request).split(b"\r\n", 1)[0], "a raw bad delivery is refused")
        check(g.logged('"event":"delivery_refused"'), "the refusal is logged")
        check(g.logged('"event":"delivery_answered"'), "the accepted delivery is logged at debug level")
        check(g.stop() == 0, "SIGTERM exits 0")
        lines = [line for line in g.stderr().splitlines() if line.strip()]
        check(len(lines) >= 5, f"lines were logged ({len(lines)})")
        parsed = []
        for line in lines:
            try:
                parsed.append(json.loads(line))
            except ValueError as e:
                check(False, f"not JSON ({e}): {line!r}")
        check(all(isinstance(o, dict) and {"time", "level", "event"} <= o.keys() and
                  all(isinstance(v, str) for v in o.values()) for o in parsed),
              "every line has time, level, event, and string values")
        levels = {o.get("level") for o in parsed}
        check("debug" in levels and "info" in levels and "warn" in levels, f"levels logged: {levels}")
        check(any(o.get("event") == "delivery_refused" and o.get("forwarded_for") == 'a"b\\c' for o in parsed),
              "quotes and backslashes round-trip through JSON")
        check(any(o.get("event") == "delivery_refused" and o.get("forwarded_for", "").startswith('x"y\\z\tw')
                  and "\ufffd" in o.get("forwarded_for", "") for o in parsed),
              "control bytes escaped, bytes that are not UTF-8 replaced")
        text = g.stderr()
        # The harness decodes stderr with errors="replace": a raw U+FFFD means the gateway wrote bytes that are not UTF-8.
        check("\ufffd" not in text, "the log is valid UTF-8 (bad bytes escaped as \\ufffd, not written raw)")
        raw_key = base64.b64decode(harness.SECRET)
        for what, needle in [("the secret's base64", harness.SECRET), ("the rotated secret", harness.SECRET_ROTATED),
                             ("the good signature", good_sig), ("the forged signature", forged),
                             ("the secret's hex", raw_key.hex()),
                             ("the secret's urlsafe base64", base64.urlsafe_b64encode(raw_key).decode().rstrip("="))]:
            check(needle not in text, f"{what} is in no log line")
        check(raw_key.decode("latin-1") not in g.stderr(), "the secret's raw bytes are in no log line")
    finally:
        g.kill()

    # logfmt stays the default format; --log-level warn drops info lines.
    g = Gateway(tmp, "--log-level", "warn", journal="warn.sqlite")
    try:
        bad, _ = delivery("9710000000000003")
        expect(g.post(bad, "AAAA"), 401, "bad_signature", "a bad signature")
        check(g.logged("level=warn event=delivery_refused"), "warn lines are logged, logfmt")
        check(g.stop() == 0, "SIGTERM exits 0")
        check("level=info" not in g.stderr(), "no info line at --log-level warn")
    finally:
        g.kill()
    code, err = refused(tmp, "--secret-file", str(SECRET_FILE), "--log-level", "loud")
    check(code == 64 and "--log-level" in err, f"a bad --log-level exits 64 ({code}: {err!r})")
    code, err = refused(tmp, "--secret-file", str(SECRET_FILE), "--log-format", "xml")
    check(code == 64 and "--log-format" in err, f"a bad --log-format exits 64 ({code}: {err!r})")


# --- SIGHUP reload ------------------------------------------------------------------

def reload_and_wait(g, event, count):
    """Sends SIGHUP and waits for the count-th line with event (True when seen)."""
    g.signal(signal.SIGHUP)
    deadline = time.time() + 10
    while g.stderr().count(f"event={event}") < count:
        if time.time() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_reload(tmp):
    tmp = pathlib.Path(tmp)
    rotated = harness.SECRET_ROTATED_FILE
    conf = tmp / "gateway.toml"

    def write(secret, level="info", connections=64, extra=""):
        conf.write_text(f'secret-file = ["{secret}"]\nlog-level = "{level}"\nmax-connections = {connections}\n{extra}')

    write(SECRET_FILE)
    g = Gateway(tmp, "--config", str(conf), secrets=[])
    try:
        check(g.metric("fiskil_gateway_reload_success") == 1, "reload_success is 1 at start")
        started = g.metric("fiskil_gateway_reload_timestamp_seconds")
        check(abs(started - time.time()) < 60, f"reload_timestamp_seconds is the start ({started})")
        b, s = delivery("9720000000000001", secret=harness.SECRET_ROTATED)
        expect(g.post(b, s), 401, "bad_signature", "the rotated secret before the reload")

        # A good reload: the secret and the log level applied, max-connections
        # needs a restart (logged, not applied).
        time.sleep(1.1)  # the timestamp has whole seconds
        write(rotated, level="debug", connections=128)
        check(reload_and_wait(g, "configuration_file_reloaded", 1), "the reload is logged")
        check(g.logged("event=configuration_restart_needed keys=max-connections"),
              "a changed max-connections is logged as needing a restart")
        check("restart_needed=max-connections" in g.stderr() and "changed=log-level,max-connections,secret-file"
              in g.stderr(), "the changed keys are logged")
        expect(g.post(b, s), 200, "accepted", "the file's new secret-file is in service after SIGHUP")
        b2, s2 = delivery("9720000000000002")
        expect(g.post(b2, s2), 401, "bad_signature", "the file's old secret is out of service")
        check(g.logged("event=delivery_answered"), "log-level debug is in service after SIGHUP")
        check(g.metric("fiskil_gateway_reload_success") == 1, "reload_success 1 after a good reload")
        check(g.metric("fiskil_gateway_reload_timestamp_seconds") > started, "the timestamp moved")

        # Failed reloads keep the old state: an unknown key, then a secret
        # file that is not base64.
        write(SECRET_FILE, level="warn", connections=128, extra='colour = "blue"\n')
        check(reload_and_wait(g, "configuration_reload_failed", 1), "an unknown key fails the reload")
        check(f"{conf}:4:" in g.stderr() and "colour" in g.stderr(), "the failure names file:line and key")
        check(g.metric("fiskil_gateway_reload_success") == 0, "reload_success 0 after a failed reload")
        b3, s3 = delivery("9720000000000003", secret=harness.SECRET_ROTATED)
        expect(g.post(b3, s3), 200, "accepted", "the previous secret kept after a failed reload")
        check(g.logged("message_id=9720000000000003"), "the previous log level (debug) kept")
        bad_secret = tmp / "bad.b64"
        bad_secret.write_text("not base64 at all!\n")
        write(bad_secret, level="warn", connections=128)
        check(reload_and_wait(g, "configuration_reload_failed", 2), "a bad secret file fails the reload")
        check(g.metric("fiskil_gateway_reload_success") == 0, "reload_success still 0")
        b4, s4 = delivery("9720000000000004", secret=harness.SECRET_ROTATED)
        expect(g.post(b4, s4), 200, "accepted", "the previous secret kept after a bad secret file")
        check(g.logged("message_id=9720000000000004"), "the log level not changed by a failed reload")

        # Fixed: the reload succeeds again (and max-connections still warns).
        write(SECRET_FILE, level="info", connections=128)
        check(reload_and_wait(g, "configuration_file_reloaded", 2), "a fixed file reloads")
        check(g.stderr().count("event=configuration_restart_needed") == 2, "the restart warning repeats")
        check(g.metric("fiskil_gateway_reload_success") == 1, "reload_success back to 1")
        expect(g.post(b2, s2), 200, "accepted", "the file's secret-file back in service")
        check(secret_free(g.stderr()), "no secret in the log")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()


# --- systemd ------------------------------------------------------------------------

class NotifySocket:
    """systemd's side of the notify protocol: an AF_UNIX datagram socket
    collecting the gateway's messages (each a list of lines)."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.path = path
        self.messages = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.done.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.append(data.decode().split("\n"))

    def states(self):
        """The messages' first lines, watchdog pets left out."""
        return [m[0] for m in list(self.messages) if m[0] != "WATCHDOG=1"]

    def pets(self):
        return sum(1 for m in list(self.messages) if m[0] == "WATCHDOG=1")

    def wait(self, condition, timeout=10):
        deadline = time.time() + timeout
        while not condition():
            if time.time() > deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self):
        self.done.set()
        self.thread.join(5)
        self.sock.close()


def test_systemd(tmp):
    if os.environ.get("FISKIL_GATEWAY_SYSTEMD") != "1":
        print("SKIP: this build has no libsystemd (install libsystemd-dev): the notify calls are no-ops")
        return
    tmp = pathlib.Path(tmp)
    notify = NotifySocket(tmp / "notify.sock")
    # WATCHDOG_USEC without WATCHDOG_PID: sd_watchdog_enabled accepts it for
    # any process; 400 ms makes the gateway pet every 200 ms.
    env = dict(os.environ, NOTIFY_SOCKET=str(notify.path), WATCHDOG_USEC="400000")
    g = Gateway(tmp, env=env)
    try:
        check(notify.wait(lambda: "READY=1" in notify.states()), f"READY=1 once listening ({notify.messages})")
        ready = [m for m in notify.messages if m[0] == "READY=1"]
        check(ready and f"STATUS=listening on 127.0.0.1:{g.port}" in ready[0], f"READY=1 with its status: {ready}")
        b, s = delivery("9730000000000001")
        expect(g.post(b, s), 200, "accepted", "serving when READY=1 came")
        check(notify.wait(lambda: notify.pets() >= 3, 5), f"WATCHDOG=1 every WATCHDOG_USEC/2 ({notify.pets()} pets)")
        g.signal(signal.SIGHUP)
        check(notify.wait(lambda: notify.states().count("READY=1") >= 2), "READY=1 again after the reload")
        reloading = [m for m in notify.messages if m[0] == "RELOADING=1"]
        check(reloading and any(line.startswith("MONOTONIC_USEC=") for line in reloading[0]),
              f"RELOADING=1 with MONOTONIC_USEC: {reloading}")
        check(g.stop() == 0, "SIGTERM exits 0")
        pets_at_exit = notify.pets()
        time.sleep(0.5)
        check(notify.pets() == pets_at_exit, "no WATCHDOG=1 after the process exited")
        check(notify.states() == ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"],
              f"READY, RELOADING, READY, STOPPING in order: {notify.states()}")
    finally:
        g.kill()
        notify.close()

    # Without WATCHDOG_USEC: no WATCHDOG=1.
    notify = NotifySocket(tmp / "notify2.sock")
    g = Gateway(tmp, env=dict(os.environ, NOTIFY_SOCKET=str(notify.path)), journal="two.sqlite")
    try:
        check(notify.wait(lambda: "READY=1" in notify.states()), "READY=1")
        time.sleep(0.6)
        check(notify.pets() == 0, f"no WATCHDOG=1 when the watchdog is off ({notify.pets()})")
        check(g.stop() == 0, "SIGTERM exits 0")
    finally:
        g.kill()
        notify.close()


def test_unit(tmp):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("SKIP: systemd-analyze is absent (install systemd; bash .ci/setup does): the unit is not verified")
        return
    unit = pathlib.Path(os.environ["FISKIL_GATEWAY_UNIT"]).read_text()
    for needed in ["Type=notify", "DynamicUser=yes", "StateDirectory=fiskil-gateway", "ProtectSystem=strict",
                   "NoNewPrivileges=yes", "\nCapabilityBoundingSet=\n", "ExecReload=/bin/kill -HUP $MAINPID",
                   "LimitNOFILE=", "WatchdogSec=", "--config /etc/fiskil-gateway/fiskil-gateway.toml"]:
        check(needed in unit, f"the unit has {needed.strip()}")
    # verify needs ExecStart's binary to exist: a copy runs the built one.
    copy = pathlib.Path(tmp) / "fiskil-gateway.service"
    copy.write_text(re.sub(r"^ExecStart=\S+", f"ExecStart={harness.GATEWAY}", unit, flags=re.M))
    p = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and p.stderr.strip() == "", f"systemd-analyze verify: {p.returncode} {p.stderr!r}")
    # The check can fail: a unit with a bad Type is reported.
    broken = pathlib.Path(tmp) / "broken" / "fiskil-gateway.service"
    broken.parent.mkdir()
    broken.write_text(copy.read_text().replace("Type=notify", "Type=notfy"))
    p = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True, timeout=60)
    check("notfy" in p.stderr, f"verify reports a bad unit: {p.stderr!r}")


def secret_free(text):
    return harness.SECRET not in text and harness.SECRET_ROTATED not in text


GROUPS = {
    "ops-config": test_config,
    "ops-logs": test_logs,
    "ops-reload": test_reload,
    "ops-systemd": test_systemd,
    "ops-unit": test_unit,
}

if __name__ == "__main__":
    sys.exit(harness.run_group(GROUPS, __doc__, "fiskil-gateway-ops-"))
