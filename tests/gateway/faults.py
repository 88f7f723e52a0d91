# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Faults injected from outside a running gateway, for the chaos audits
(tests/gateway/chaos_audit.py, tests/cluster/cluster_chaos.py).

Python's standard library only. Every process started here (lock holders)
is killed when the test ends, also on failure (atexit, and each fault's
finally).

- hold_write_lock: another process holds the SQLite journal's write lock
  (BEGIN EXCLUSIVE) for a while;
- file_size_fault: the gateway's RLIMIT_FSIZE drops to 1 byte (prlimit(2) on
  its pid), so every journal write fails with EFBIG as on a full disk, then is
  restored;
- Restartable: a gateway (or any process) SIGKILLed and started again on the
  same port and store;
- Injector: a thread that picks faults at random (a seeded random.Random)
  until told to stop, one at a time, and counts them by kind.
"""
import atexit
import resource
import signal
import subprocess
import sys
import threading
import time

_holders = []


@atexit.register
def _release_all():
    for p in list(_holders):
        if p.poll() is None:
            p.kill()
            p.wait()


def _pause(seconds, stop):
    """Waits seconds, or less once stop (a threading.Event) is set."""
    if stop is not None:
        stop.wait(seconds)
    else:
        time.sleep(seconds)


def hold_write_lock(path, seconds, stop=None):
    """Another process takes the journal's write lock (BEGIN EXCLUSIVE),
    holds it for seconds (less if stop is set meanwhile), then commits."""
    code = ("import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "c.execute('COMMIT')\n")
    p = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    _holders.append(p)
    try:
        line = p.stdout.readline()
        if line.strip() != b"locked":
            raise AssertionError(f"the lock holder did not take the lock: {line!r}")
        _pause(seconds, stop)
        p.stdin.write(b"release\n")
        p.stdin.flush()
        p.wait(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        _holders.remove(p)


def file_size_fault(pid, seconds, stop=None):
    """The process's file size limit drops to 1 byte for seconds, then is
    restored: every write past the first byte of its files fails (EFBIG).
    Returns False if the process was gone."""
    try:
        soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))
    except ProcessLookupError:
        return False
    try:
        _pause(seconds, stop)
    finally:
        try:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))
        except ProcessLookupError:
            pass
    return True


class Restartable:
    """Something that can be SIGKILLed and started again: start() returns a
    fresh object with .kill() (harness.Gateway, or a NATS node's wrapper);
    the first start's port is passed to every later one."""

    def __init__(self, start):
        self._start = start
        self._lock = threading.Lock()
        self.current = start(None)
        self.port = getattr(self.current, "port", None)
        self.history = [self.current]  # every start, for their logs

    def get(self):
        with self._lock:
            return self.current

    def kill_and_restart(self, down_for=0.0, attempts=20):
        with self._lock:
            self.current.kill()
            if down_for:
                time.sleep(down_for)
            last = None
            for _ in range(attempts):  # the port may still be held for a moment
                try:
                    self.current = self._start(self.port)
                    self.history.append(self.current)
                    return
                except AssertionError as e:
                    last = e
                    time.sleep(0.1)
            raise AssertionError(f"could not restart on port {self.port}: {last}")

    def kill(self):
        with self._lock:
            self.current.kill()


class Injector(threading.Thread):
    """Injects faults at random until stop() is called: after a pause drawn
    from gap seconds, one fault drawn (by weight) from kinds, each a
    (name, weight, function(rng, stop_event) -> description or None); the
    first ones are each kind once, in a random order, so that every run
    meets every kind. Faults run one at a time, so a restart never meets a
    file size limit half set. Counts and a timeline are kept; an exception
    stops it and is kept."""

    def __init__(self, rng, kinds, gap=(0.3, 1.2), start_after=1.0, log=print):
        super().__init__(daemon=True)
        self.rng = rng
        self.kinds = kinds
        self.gap = gap
        self.start_after = start_after
        self.log = log
        self.counts = {name: 0 for name, _, _ in kinds}
        self.timeline = []
        self.error = None
        self._halt = threading.Event()
        self._started_at = time.monotonic()

    def stop(self, timeout=60):
        self._halt.set()
        self.join(timeout)
        if self.is_alive():
            raise AssertionError("the fault injector did not stop")

    def run(self):
        try:
            if self._halt.wait(self.start_after):
                return
            names = [k[0] for k in self.kinds]
            weights = [k[1] for k in self.kinds]
            functions = {k[0]: k[2] for k in self.kinds}
            first = list(names)
            self.rng.shuffle(first)
            while not self._halt.is_set():
                name = first.pop() if first else self.rng.choices(names, weights)[0]
                at = time.monotonic() - self._started_at
                what = functions[name](self.rng, self._halt)
                if what is not None:
                    self.counts[name] += 1
                    self.timeline.append((at, name, what))
                    self.log(f"fault +{at:5.1f}s {name}: {what}")
                if self._halt.wait(self.rng.uniform(*self.gap)):
                    return
        except BaseException as e:  # noqa: BLE001 -- reported by the audit
            self.error = e
            self.log(f"fault injector stopped: {e!r}")


def sigstop_for(proc, seconds, stop=None):
    """SIGSTOP the process for seconds, then SIGCONT (always)."""
    try:
        proc.send_signal(signal.SIGSTOP)
    except ProcessLookupError:
        return False
    try:
        _pause(seconds, stop)
    finally:
        try:
            proc.send_signal(signal.SIGCONT)
        except ProcessLookupError:
            pass
    return True
