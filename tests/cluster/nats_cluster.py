# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Start nats-server nodes with JetStream (file storage) on free loopback
ports in a temporary directory, clustered when there are several, and stop
them all at the end, even on failure (each node in its own process group,
killed from a finally block and from atexit)."""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

_live = set()


def _kill_all():
    for proc in list(_live):
        _kill(proc)


atexit.register(_kill_all)


def _kill(proc):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.kill(proc.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        proc.wait()
    _live.discard(proc)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_process(args, **kwargs):
    """Popen in a process group of its own, tracked for cleanup."""
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    _live.add(proc)
    return proc


def stop_process(proc):
    _kill(proc)


class Node:
    def __init__(self, cluster, index):
        self.cluster = cluster
        self.index = index
        self.name = "n%d" % index
        self.port = free_port()
        self.cluster_port = free_port()
        self.http_port = free_port()
        self.dir = os.path.join(cluster.dir, self.name)
        self.conf = os.path.join(cluster.dir, self.name + ".conf")
        self.log = os.path.join(cluster.dir, self.name + ".log")
        self.proc = None

    @property
    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    def write_conf(self, peers):
        lines = [
            'server_name: "%s"' % self.name,
            "listen: 127.0.0.1:%d" % self.port,
            "http: 127.0.0.1:%d" % self.http_port,
            "jetstream {",
            '  store_dir: "%s"' % self.dir,
            "  max_memory_store: 64MB",
            "  max_file_store: 1GB",
            "}",
        ]
        if len(peers) > 1:
            routes = ", ".join("nats-route://127.0.0.1:%d" % p.cluster_port for p in peers if p is not self)
            lines += [
                "cluster {",
                '  name: "fiskil-test"',
                "  listen: 127.0.0.1:%d" % self.cluster_port,
                "  routes: [%s]" % routes,
                "}",
            ]
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        log = open(self.log, "ab")
        self.proc = start_process([self.cluster.binary, "-c", self.conf], stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def kill(self):
        """SIGKILL, as a crash."""
        if self.proc is not None:
            _kill(self.proc)

    def jsz(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/jsz" % self.http_port, timeout=2) as r:
            return json.loads(r.read())

    def healthy(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.http_port, timeout=2) as r:
                return r.status == 200
        except Exception:
            return False


class Cluster:
    def __init__(self, nodes=3, binary="nats-server"):
        self.binary = shutil.which(binary) or binary
        self.dir = tempfile.mkdtemp(prefix="fiskil-nats-")
        self.nodes = [Node(self, i + 1) for i in range(nodes)]
        for n in self.nodes:
            n.write_conf(self.nodes)

    @property
    def urls(self):
        return ",".join(n.url for n in self.nodes)

    def __enter__(self):
        try:
            for n in self.nodes:
                n.start()
            self.wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self, keep_dir_on_failure=False):
        for n in self.nodes:
            n.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def wait_ready(self, timeout=30.0):
        """Every running node answers, and (clustered) every one sees the
        same JetStream meta leader."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                running = [n for n in self.nodes if n.proc is not None and n.proc.poll() is None]
                leaders = set()
                for n in running:
                    info = n.jsz()
                    if len(self.nodes) > 1:
                        leaders.add((info.get("meta_cluster") or {}).get("leader"))
                if len(self.nodes) == 1 or (len(leaders) == 1 and None not in leaders and "" not in leaders):
                    if all(n.healthy() for n in running):
                        return
                last = leaders
            except Exception as e:  # not listening yet
                last = e
            time.sleep(0.1)
        raise RuntimeError("nats cluster not ready: %r; logs in %s" % (last, self.dir))

    def logs(self):
        out = []
        for n in self.nodes:
            try:
                with open(n.log, errors="replace") as f:
                    out.append("--- %s ---\n%s" % (n.name, f.read()[-4000:]))
            except OSError:
                pass
        return "\n".join(out)
