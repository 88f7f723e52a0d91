# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Starts fiskil-gateway for the tests, signs deliveries, talks HTTP.

Python's standard library only. Every gateway started here is killed when
the test ends, also on failure (stop_all at exit, and each test's finally).
"""
import atexit
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import pathlib
import shutil
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time

GATEWAY = os.environ.get("FISKIL_GATEWAY", "")
FIXTURES = pathlib.Path(os.environ.get("FISKIL_FIXTURES", pathlib.Path(__file__).resolve().parents[1] / "fixtures"))
SECRET = (FIXTURES / "secret.b64").read_text().strip()
SECRET_ROTATED = (FIXTURES / "secret_rotated.b64").read_text().strip()


def write_private(path, text):
    """Writes a secret file as an operator must: mode 0600 (the gateway
    refuses a secret file that its group or others can read). Returns path."""
    path = pathlib.Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)  # an existing file keeps its mode otherwise
    return path


# The fixture secrets as 0600 copies (git checks files out 0644), in a
# directory removed at exit.
_secret_dir = tempfile.mkdtemp(prefix="fiskil-secrets-")
atexit.register(shutil.rmtree, _secret_dir, True)
SECRET_FILE = write_private(pathlib.Path(_secret_dir) / "secret.b64", SECRET + "\n")
SECRET_ROTATED_FILE = write_private(pathlib.Path(_secret_dir) / "secret_rotated.b64", SECRET_ROTATED + "\n")

_running = []


def stop_all():
    for g in list(_running):
        g.kill()


atexit.register(stop_all)


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sign(body, secret=SECRET):
    return base64.b64encode(hmac.new(base64.b64decode(secret), body, hashlib.sha256).digest()).decode()


def wait_for(predicate, what, timeout=20.0):
    """Polls predicate every 50 ms until it is true; raises AssertionError
    naming what after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def delivery(message_id, event="banking.accounts.sync.completed", consent_id="c0a5e5e0-0000-4000-8000-000000000001",
             publish=None, secret=SECRET):
    """Returns (body, signature) for a fresh delivery."""
    envelope = {
        "publish_time": rfc3339(time.time() if publish is None else publish),
        "message_id": str(message_id),
        "data": {"event": event, "consent_id": consent_id, "client_id": "2fwTestClient00000000000001",
                 "end_user_id": "2fwEndUser00000000000000001", "institution_id": "1"},
    }
    body = json.dumps(envelope, separators=(",", ":")).encode()
    return body, sign(body, secret)


def fixture_deliveries(secret=SECRET):
    """Every signed sample of tests/fixtures/manifest.tsv, re-stamped now and
    re-signed (the samples' own publish_times are long past --max-age).
    Yields (name, event, body, signature)."""
    lines = (FIXTURES / "manifest.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        row = dict(zip(header, line.split("\t")))
        path = FIXTURES / (row["name"] + ".json")
        if not path.exists():
            continue
        raw = path.read_bytes()
        try:
            doc = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(doc, dict) or "publish_time" not in doc:
            continue
        if row["name"] == "rotated_secret":
            continue
        doc["publish_time"] = rfc3339(time.time())
        body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        yield row["name"], row["event"], body, sign(body, secret)


# --- checks and the suite scripts' main ------------------------------------------

failures = []


def metric_sum(text, name_with_labels):
    """The sum of the samples in the Prometheus text whose name is NAME and
    whose labels include the LABELS of NAME{LABELS}; AssertionError when none."""
    name, _, wanted = name_with_labels.partition("{")
    wanted = set(re.findall(r'(\w+)="([^"]*)"', wanted))
    total, found = 0.0, False
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        series_name, _, labels = series.partition("{")
        if series_name == name and wanted <= set(re.findall(r'(\w+)="([^"]*)"', labels)):
            total += float(value)
            found = True
    if not found:
        raise AssertionError(f"no metric {name_with_labels}")
    return total


def check(condition, what):
    """Records a failed check (the script goes on, and fails at the end)."""
    if not condition:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return condition


def expect(answer, status, outcome, what, error_contains=None):
    """Checks an answer (status, JSON body): the outcome, and an "error" on
    refusals only."""
    got_status, body = answer
    ok = got_status == status and body.get("outcome") == outcome
    if status >= 400:
        ok = ok and isinstance(body.get("error"), str) and body["error"] != ""
        if error_contains:
            ok = ok and error_contains in body["error"]
    else:
        ok = ok and "error" not in body
    return check(ok, f"{what}: expected {status} {outcome}, got {got_status} {body}")


def run_group(groups, usage, prefix):
    """A suite script's main: runs the group named by argv[1] in a temporary
    directory, stops every gateway it started, and returns the exit status
    (1 if any check failed or the group raised)."""
    import shutil
    import sys
    import tempfile
    import traceback
    if len(sys.argv) != 2 or sys.argv[1] not in groups:
        print(usage, file=sys.stderr)
        return 2
    if not GATEWAY:
        print("FISKIL_GATEWAY is not set", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        groups[sys.argv[1]](tmp)
    except Exception as e:  # an unexpected error is a failure too
        traceback.print_exc()
        failures.append(repr(e))
    finally:
        stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print("ok")
    return 0


class Gateway:
    def __init__(self, workdir, *args, journal="journal.sqlite", secrets=None, env=None, listen="127.0.0.1:0",
                 preexec_fn=None):
        """listen: another HOST:PORT, for a restart on the port an earlier
        start got (a sender's URL is fixed)."""
        self.workdir = pathlib.Path(workdir)
        self.journal = self.workdir / journal if journal != ":memory:" else journal
        if secrets is None:
            secrets = [SECRET_FILE, SECRET_ROTATED_FILE]
        command = [GATEWAY, "--listen", listen, "--journal", str(self.journal)]
        for s in secrets:
            command += ["--secret-file", str(s)]
        command += list(args)
        self.stderr_lines = []
        self.proc = subprocess.Popen(command, cwd=self.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, start_new_session=True, preexec_fn=preexec_fn)
        _running.append(self)
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        first = self.proc.stdout.readline().decode()
        if not first.startswith("listening on 127.0.0.1:"):
            self.kill()
            raise AssertionError(f"gateway did not start: {first!r}; stderr: {self.stderr()}")
        self.port = int(first.strip().rsplit(":", 1)[1])
        self.admin_port = None
        if "--admin-listen" in args:
            second = self.proc.stdout.readline().decode()
            if not second.startswith("admin listening on 127.0.0.1:"):
                self.kill()
                raise AssertionError(f"no admin listener: {second!r}; stderr: {self.stderr()}")
            self.admin_port = int(second.strip().rsplit(":", 1)[1])

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line.decode(errors="replace"))

    def logged(self, text, timeout=5.0):
        """Whether text appears on the gateway's stderr within timeout."""
        deadline = time.time() + timeout
        while text not in self.stderr():
            if time.time() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stderr(self):
        return "".join(self.stderr_lines)

    def connect(self, timeout=30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def post(self, body, signature, conn=None, headers=None, path="/webhooks/fiskil"):
        """Returns (status, parsed JSON body)."""
        own = conn is None
        conn = conn or self.connect()
        h = {"X-Fiskil-Signature": signature, "Content-Type": "application/json"}
        h.update(headers or {})
        try:
            conn.request("POST", path, body, h)
            r = conn.getresponse()
            data = r.read()
            return r.status, json.loads(data)
        finally:
            if own:
                conn.close()

    def get(self, path, port=None):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port, timeout=30)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()

    def metric(self, name_with_labels):
        """The sum of the samples of NAME{LABELS} whose labels include LABELS
        (every sample of NAME when no labels are given); fails when none is
        there. fiskil_gateway_deliveries_total{outcome="accepted"} sums over
        its event and key labels."""
        _, text = self.get("/metrics", self.admin_port)
        return metric_sum(text, name_with_labels)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        """SIGTERM, then wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("gateway did not stop within %ss of SIGTERM" % timeout)
        self._drain.join(5)
        if self in _running:
            _running.remove(self)
        if self.proc.returncode != 0:  # a sanitizer's report, for one
            print(f"gateway exited {self.proc.returncode}; its stderr ends with:\n{self.stderr()[-6000:]}", flush=True)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        if self in _running:
            _running.remove(self)

    def raw(self, data, read_timeout=5.0):
        """Sends data on a fresh socket and returns everything read until the
        gateway closes the connection (or read_timeout passes)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout)
        try:
            s.sendall(data)
            return read_all(s)
        finally:
            s.close()


def read_all(s):
    chunks = []
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks)


def journal_rows(path, sql="SELECT message_id FROM deliveries ORDER BY seq"):
    import sqlite3
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
