#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""The journal audit under chaos (issue 17): fiskil-webhook send delivers
like the provider (duplicates, reordering, retries compressed in time,
consent chains; a 1 s timeout per attempt, shorter than a stalled store, as
the provider's HTTP timeout can be) from several processes at once, while
faults are injected at random from outside, one at a time, every kind at
least once: the journal's write lock held by another process (0.5-3 s, and
4-6 s: past several --journal-busy-timeout), journal-disk errors
(RLIMIT_FSIZE 1 for 0.3-2 s), and the gateway SIGKILLed and restarted on the
same journal and port. Then the journal and the senders' logs are read back
and checked:

  (a) every delivery that got any 2xx is in the journal exactly once, or its
      2xx is a verdict that does not write (`superseded`, `after_revocation`,
      a consent `duplicate` by change) resting on its consent's kept events;
  (b) every delivery whose retries did not run out got a 2xx (and none was
      refused with a 4xx: each one is authentic and fresh);
  (c) no consent event is kept after (by seq) its consent's revocation.

    FISKIL_GATEWAY=build/gateway/fiskil-gateway FISKIL_WEBHOOK=build/tools/fiskil-webhook \\
        python3 tests/gateway/chaos_audit.py

FISKIL_CHAOS_SEED replays the audit's choices (the fault schedule, the
senders' plan and consent ids); the sender's own draws (which deliveries are
duplicated, the shuffles, the retry delays) come from the kernel and are not
replayed. FISKIL_CHAOS_SECONDS sets how long deliveries are generated
(default 25). Every process started here is stopped at the end, also on
failure. Exit status 0 when every check holds, 1 otherwise.
"""
import atexit
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import faults  # noqa: E402
import harness  # noqa: E402

TOOL = os.environ.get("FISKIL_WEBHOOK", "")
RETRIES = 5
# Shorter than a stalled store: a retry can meet its first attempt still in
# flight, as the provider's does when its HTTP timeout passes first.
SENDER_TIMEOUT = "1s"
TIME_SCALE = 0.002  # the provider's 1-10 minutes between attempts become 0.12-1.2 s
PLAIN_EVENTS = ["banking.accounts.sync.completed", "banking.transactions.sync.completed",
                "energy.usage.sync.completed", "banking.balances.sync.completed"]
# One consent's life, played by one sender process: shuffled (--reorder),
# with an update after the revocation and copies (--duplicate).
CONSENT_CHAIN = ["consent.received", "consent.updated", "consent.updated", "consent.revoked", "consent.updated"]

_senders = []


@atexit.register
def _stop_senders():
    for p in list(_senders):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()


def say(*args):
    print(*args, flush=True)


class Senders:
    """fiskil-webhook send processes, each with its --log on a file of its own;
    `consent` records which consent a sender's deliveries belong to."""

    def __init__(self, workdir, urls, secret_file):
        self.workdir = pathlib.Path(workdir)
        self.urls = list(urls)
        self.secret_file = str(secret_file)
        self.lock = threading.Lock()
        self.runs = []  # (name, consent or None, log path, Popen)
        self.closed = False

    def close(self):
        """No sender starts after this; every running one is killed."""
        with self.lock:
            self.closed = True
        _stop_senders()

    def start(self, name, args, consent=None):
        """Starts a sender; None once closed."""
        log = self.workdir / f"{name}.jsonl"
        err = self.workdir / f"{name}.stderr"
        command = [TOOL, "send", *self.urls, "--secret-file", self.secret_file, "--log", "--retries", str(RETRIES),
                   "--time-scale", str(TIME_SCALE), "--timeout", SENDER_TIMEOUT, *args]
        if consent is not None:
            command += ["--consent", consent]
        with self.lock:
            if self.closed:
                return None
            with open(log, "wb") as out, open(err, "wb") as error:
                p = subprocess.Popen(command, stdout=out, stderr=error, start_new_session=True)
            _senders.append(p)
            self.runs.append((name, consent, log, p))
        return p

    def wait_all(self, deadline):
        """Waits for every sender until deadline (time.monotonic()); kills
        the ones still running then. Returns the names of those killed."""
        killed = []
        with self.lock:
            runs = list(self.runs)
        for name, _, _, p in runs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
                killed.append(name)
        return killed

    def attempts(self):
        """Every logged attempt: dicts with message_id, event, attempt,
        status, outcome, duplicate, error, plus consent and sender."""
        rows = []
        with self.lock:
            runs = list(self.runs)
        for name, consent, log, _ in runs:
            for line in log.read_text(errors="replace").splitlines():
                try:
                    a = json.loads(line)
                except ValueError:
                    continue  # a line cut by a kill
                a["consent"] = consent
                a["sender"] = name
                rows.append(a)
        return rows


def drive(senders, rng, seconds, plain_senders=3, rate=45, consent_workers=4):
    """Starts the plain senders (--rate for --duration each) and consent
    workers that play one consent chain after another until seconds have
    passed. Returns the consent workers' threads."""
    for i in range(plain_senders):
        events = rng.sample(PLAIN_EVENTS, 2)
        args = ["--duration", f"{seconds}s", "--rate", str(rate), "--concurrency", "8", "--duplicate", "0.25",
                "--reorder"]
        for e in events:
            args += ["--event", e]
        senders.start(f"plain{i}", args)
    end = time.monotonic() + seconds
    consent_rng = random.Random(rng.random())

    def chains(worker):
        n = 0
        while time.monotonic() < end:
            consent = str(uuid.UUID(int=consent_rng.getrandbits(128), version=4))
            args = ["--count", str(len(CONSENT_CHAIN)), "--concurrency", "4", "--duplicate", "0.4", "--reorder"]
            for e in CONSENT_CHAIN:
                args += ["--event", e]
            p = senders.start(f"consent{worker}-{n:03d}", args, consent=consent)
            if p is None:
                return
            p.wait()
            n += 1

    threads = [threading.Thread(target=chains, args=(w,), daemon=True) for w in range(consent_workers)]
    for t in threads:
        t.start()
    return threads


def audit(attempts, kept, killed_senders=()):
    """The checks. attempts: the senders' logged attempts; kept: the store's
    records in order, dicts with seq, message_id, event, consent (None when
    unknown). Returns (violations by check, counts)."""
    by_id = {}
    copies = {}
    for a in attempts:
        by_id.setdefault(a["message_id"], []).append(a)
        copies.setdefault((a["message_id"], a["duplicate"], a["sender"]), []).append(a)
    consent_of = {mid: answers[0]["consent"] for mid, answers in by_id.items()}
    event_of = {mid: answers[0]["event"] for mid, answers in by_id.items()}

    rows_of = {}
    for r in kept:
        rows_of.setdefault(r["message_id"], []).append(r)
    kept_by_consent = {}
    for r in kept:
        consent = r.get("consent") or consent_of.get(r["message_id"])
        if consent:
            kept_by_consent.setdefault(consent, []).append(r)

    violations = {"a": [], "b": [], "c": [], "store": []}
    for mid, rows in rows_of.items():
        if len(rows) > 1:
            violations["store"].append(f"{mid} kept {len(rows)} times")
        if mid not in by_id:
            violations["store"].append(f"{mid} kept but never sent")

    ok_ids = 0
    for mid, answers in by_id.items():
        ok = [a for a in answers if a["status"] is not None and 200 <= a["status"] < 300]
        if not ok:
            continue
        ok_ids += 1
        n = len(rows_of.get(mid, []))
        consent = consent_of[mid]
        theirs = kept_by_consent.get(consent, []) if consent else []
        for a in ok:
            outcome = a["outcome"]
            if outcome == "accepted" or (outcome == "duplicate" and consent is None):
                if n != 1:
                    violations["a"].append(f"{mid} ({event_of[mid]}) answered {a['status']} {outcome} "
                                           f"(attempt {a['attempt']}) but kept {n} times")
                    break
            elif outcome == "duplicate":
                # A consent event: its own row; or the same change kept under
                # another id; or a copy of one judged superseded or
                # after_revocation, which settles the id without a row. The
                # first attempt's verdict may never have reached the sender
                # (its 1 s timeout passed while the journal was locked), so
                # a settled id shows only as the retry's duplicate: then
                # another event of its consent must be kept, as for
                # superseded below.
                settled = {x["outcome"] for x in ok} & {"superseded", "after_revocation"}
                if n != 1 and not settled and not any(r["message_id"] != mid for r in theirs):
                    violations["a"].append(f"{mid} ({event_of[mid]}) answered duplicate but neither it, nor the "
                                           f"same change of consent {consent}, nor its revocation is kept")
                    break
            elif outcome == "after_revocation":
                if not any(r["event"] == "consent.revoked" for r in theirs):
                    violations["a"].append(f"{mid} ({event_of[mid]}) answered after_revocation but consent "
                                           f"{consent} has no revocation kept")
                    break
            elif outcome == "superseded":
                if not any(r["message_id"] != mid for r in theirs):
                    violations["a"].append(f"{mid} ({event_of[mid]}) answered superseded but no other event "
                                           f"of consent {consent} is kept")
                    break
            else:
                violations["a"].append(f"{mid} answered {a['status']} with outcome {outcome!r}")
                break

    gave_up = 0
    for (mid, duplicate, sender), tries in copies.items():
        got = any(a["status"] is not None and 200 <= a["status"] < 300 for a in by_id[mid])
        last = max(a["attempt"] for a in tries)
        if last > RETRIES and not any(a["status"] is not None and 200 <= a["status"] < 300 for a in tries):
            gave_up += 1
        if not got and last <= RETRIES:
            violations["b"].append(f"{mid} ({event_of[mid]}{', copy' if duplicate else ''}) got no 2xx "
                                   f"after {last} of {RETRIES + 1} attempts"
                                   + (" (its sender was killed at the audit's deadline)" if sender in killed_senders
                                      else ""))
    refused = [a for a in attempts if a["status"] is not None and 400 <= a["status"] < 500]
    for a in refused[:50]:
        violations["b"].append(f"{a['message_id']} ({a['event']}) refused {a['status']} {a['outcome']} "
                               f"(attempt {a['attempt']}): an authentic, fresh delivery")

    for consent, rows in kept_by_consent.items():
        revoked = [r["seq"] for r in rows if r["event"] == "consent.revoked"]
        if not revoked:
            continue
        after = [r for r in rows if r["seq"] > min(revoked)]
        for r in after:
            violations["c"].append(f"consent {consent}: {r['message_id']} ({r['event']}) kept at seq {r['seq']}, "
                                   f"after its revocation at seq {min(revoked)}")

    statuses = {}
    for a in attempts:
        key = str(a["status"]) if a["status"] is not None else (a["error"] or "no answer")
        statuses[key] = statuses.get(key, 0) + 1
    counts = {
        "deliveries": len(by_id),
        "copies": len(copies),
        "consents": len({c for c in consent_of.values() if c}),
        "attempts": len(attempts),
        "2xx": sum(v for k, v in statuses.items() if k.startswith("2")),
        "503": statuses.get("503", 0),
        "statuses": statuses,
        "ids with a 2xx": ok_ids,
        "gave up": gave_up,
        "kept": len(kept),
        "outcomes": {},
    }
    for a in attempts:
        if a["outcome"]:
            counts["outcomes"][a["outcome"]] = counts["outcomes"].get(a["outcome"], 0) + 1
    return violations, counts


def report(violations, counts, injected, started, seed_name, seed):
    say(f"deliveries {counts['deliveries']} ({counts['copies']} copies sent, {counts['consents']} consent chains), "
        f"attempts {counts['attempts']}; faults injected: "
        + ", ".join(f"{k} {v}" for k, v in injected.items())
        + f"; 2xx {counts['2xx']}, 503 {counts['503']}, kept {counts['kept']}; gave up on {counts['gave up']} copies; "
        f"{time.monotonic() - started:.1f} s")
    say("answers: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts["statuses"].items())))
    say("outcomes: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts["outcomes"].items())))
    names = {"a": "(a) every 2xx kept exactly once", "b": "(b) not given up => 2xx, never 4xx",
             "c": "(c) nothing kept after its consent's revocation", "store": "the store holds only sent ids, once"}
    failed = 0
    for key, name in names.items():
        v = violations[key]
        say(f"{name}: {'ok' if not v else f'{len(v)} violation(s)'}")
        if key == "a" and v:
            by = {}
            for line in v:
                word = next((w for w in ("accepted", "after_revocation", "superseded", "duplicate") if w in line), "?")
                kind = "consent" if "(consent." in line else "other"
                by[f"{kind} events answered {word}"] = by.get(f"{kind} events answered {word}", 0) + 1
            say("    by kind: " + ", ".join(f"{k}: {n}" for k, n in sorted(by.items())))
        for line in v[:15]:
            say("   ", line)
        failed += len(v)
    if failed:
        say(f"FAILED; replay the fault schedule with {seed_name}={seed}")
    return failed


def refusal_reasons(restartables):
    """Why deliveries were refused: the gateways' delivery_refused log lines
    (every start of each), counted by status and error."""
    reasons = {}
    for r in restartables:
        for g in r.history:
            for line in g.stderr().splitlines():
                if "event=delivery_refused" not in line:
                    continue
                status = line.split(" status=", 1)[1].split(" ", 1)[0] if " status=" in line else "?"
                error = line.split(' error="', 1)[1].split('"', 1)[0] if ' error="' in line else "?"
                key = f"{status} {error}"
                reasons[key] = reasons.get(key, 0) + 1
    say("refusals logged by the gateways: " + ("; ".join(f"{k}: {v}" for k, v in
                                                       sorted(reasons.items(), key=lambda kv: -kv[1])[:8]) or "none"))


def journal_records(path):
    rows = harness.journal_rows(path, "SELECT seq, message_id, event, consent_id FROM deliveries ORDER BY seq")
    return [{"seq": s, "message_id": m, "event": e, "consent": c} for s, m, e, c in rows]


def main():
    if not harness.GATEWAY or not TOOL:
        print("FISKIL_GATEWAY and FISKIL_WEBHOOK must name the gateway and the tool", file=sys.stderr)
        return 2
    # meson's timeout sends SIGTERM: unwind, so that every process started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seed = int(os.environ.get("FISKIL_CHAOS_SEED", str(random.SystemRandom().randrange(1 << 32))))
    seconds = float(os.environ.get("FISKIL_CHAOS_SECONDS", "25"))
    say(f"FISKIL_CHAOS_SEED={seed} (set it to replay the fault schedule); gateway {harness.GATEWAY}")
    rng = random.Random(seed)
    started = time.monotonic()
    gateway_args = ["--journal-busy-timeout", "1s", "--store-timeout", "5s"]
    with tempfile.TemporaryDirectory(prefix="fiskil-chaos-") as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "logs").mkdir()
        gateway = faults.Restartable(
            lambda port: harness.Gateway(tmp, *gateway_args,
                                         listen="127.0.0.1:%d" % (port or 0)))
        injector = None
        senders = None
        try:
            def lock(r, stop, shortest=0.5, longest=3.0):
                seconds = round(r.uniform(shortest, longest), 2)
                faults.hold_write_lock(gateway.get().journal, seconds, stop)
                return f"journal write lock held {seconds} s"

            def long_lock(r, stop):
                # Past several busy timeouts: a retry sent after the sender's
                # timeout meets its first attempt still in flight.
                return lock(r, stop, 4.0, 6.0)

            def disk(r, stop):
                seconds = round(r.uniform(0.3, 2.0), 2)
                if not faults.file_size_fault(gateway.get().proc.pid, seconds, stop):
                    return None
                return f"RLIMIT_FSIZE 1 for {seconds} s"

            def kill(r, stop):
                down = round(r.uniform(0.0, 1.0), 2)
                gateway.kill_and_restart(down)
                return f"SIGKILL, restarted after {down} s on port {gateway.port}"

            url = f"http://127.0.0.1:{gateway.port}/webhooks/fiskil"
            senders = Senders(tmp / "logs", [url], harness.FIXTURES / "secret.b64")
            injector = faults.Injector(rng, [("lock", 2, lock), ("long-lock", 1, long_lock), ("disk", 2, disk),
                                             ("kill", 2, kill)])
            injector.start()
            workers = drive(senders, rng, seconds)
            time.sleep(seconds)
            injector.stop()
            for t in workers:
                t.join(60)
            killed = senders.wait_all(time.monotonic() + 30)
            if injector.error:
                raise injector.error
            if gateway.get().stop() != 0:
                say("the gateway's SIGTERM exit was not 0")
            kept = journal_records(gateway.get().journal)
            violations, counts = audit(senders.attempts(), kept, killed)
            if killed:
                say(f"{len(killed)} sender(s) still running at the deadline, killed: {killed[:5]}")
            failed = report(violations, counts, injector.counts, started, "FISKIL_CHAOS_SEED", seed)
            refusal_reasons([gateway])
            if failed:
                say("--- gateway stderr (tail) ---\n" + gateway.get().stderr()[-3000:])
            return 1 if failed else 0
        finally:
            if senders is not None:
                senders.close()
            if injector is not None and injector.is_alive():
                injector.stop()
            gateway.kill()
            harness.stop_all()


if __name__ == "__main__":
    sys.exit(main())
