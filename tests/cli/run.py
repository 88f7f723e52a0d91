#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Tests fiskil-webhook as a user or a script runs it: real processes, real
files and pipes, exit statuses, stdout and stderr.

Python's hmac, base64 and json are the independent references: every
signature the tool prints is recomputed here, and every line of JSON is
parsed here and compared with the fixtures' manifest.

Every run also checks that nothing printed holds a secret (as base64 or as
hex key bytes), and each refused verification that nothing printed holds the
MAC the body would have needed.

    FISKIL_WEBHOOK_TOOL=build/tools/fiskil-webhook FISKIL_FIXTURES=tests/fixtures \\
    FISKIL_CLI_FIXTURES=tests/cli FISKIL_CLI_DOC=docs/cli.md \\
    [FISKIL_SHARED_CORPUS=../shared/corpus] python3 tests/cli/run.py [GROUP...]

GROUP is a test class (RoundTrip, ExitCodes, Secrets, Output, Help,
Install); meson runs one test per group. Install needs FISKIL_BUILD_ROOT (and
FISKIL_MESON, the meson command, when meson is not on PATH).
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

TOOL = os.environ["FISKIL_WEBHOOK_TOOL"]
FIXTURES = pathlib.Path(os.environ["FISKIL_FIXTURES"])
CLI_FIXTURES = pathlib.Path(os.environ["FISKIL_CLI_FIXTURES"])
# docs/cli.md, the tool's documentation, whose statuses and example are checked.
CLI_DOC = pathlib.Path(os.environ["FISKIL_CLI_DOC"])
SOURCE_ROOT = CLI_DOC.resolve().parent.parent
SHARED_CORPUS = pathlib.Path(os.environ.get("FISKIL_SHARED_CORPUS") or "/nonexistent")

EXIT_OK, EXIT_NOT_AUTHENTIC, EXIT_NOT_ENVELOPE, EXIT_TOO_OLD, EXIT_USAGE, EXIT_NO_INPUT = 0, 1, 2, 3, 64, 66
ALL_EXIT_STATUSES = {0, 1, 2, 3, 64, 66}
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
LIMIT = 1 << 20  # the library's parser_options::max_body_size

SECRET_FILE = FIXTURES / "secret.b64"
ROTATED_FILE = FIXTURES / "secret_rotated.b64"
# The provider guide's worked example: the same bytes as guide_body and
# guide_secret in tests/unit-verify.cpp (test_provider_guide_example checks).
GUIDE_BODY_FILE = CLI_FIXTURES / "guide_example.json"
GUIDE_SECRET_FILE = CLI_FIXTURES / "guide_secret.b64"
GUIDE_SIGNATURE = "6YnYaA0i/bBWrmH2tzZNBBNGXqUpbrAxQudFvU2UtQ4="

# Every secret the tests use, as text; run() checks none is ever printed.
KNOWN_SECRETS = set()


def secret_text(path):
    text = pathlib.Path(path).read_text().strip()
    KNOWN_SECRETS.add(text)
    return text


def mac(secret_b64, body):
    return hmac.new(base64.b64decode(secret_b64), body, hashlib.sha256).digest()


def signature(secret_b64, body):
    return base64.b64encode(mac(secret_b64, body)).decode()


class Run:
    def __init__(self, args, status, stdout, stderr):
        self.args, self.status, self.stdout, self.stderr = args, status, stdout, stderr

    def json(self):
        return json.loads(self.stdout.decode("utf-8"))

    def __repr__(self):
        return (f"fiskil-webhook {' '.join(map(str, self.args))}\n  exit {self.status}\n"
                f"  stdout: {self.stdout[:400]!r}\n  stderr: {self.stderr[:600]}")


def run(*args, stdin=b"", env=None, cwd=None):
    """Runs the tool. FISKIL_WEBHOOK_SECRET is unset unless env sets it."""
    full_env = {k: v for k, v in os.environ.items() if k != "FISKIL_WEBHOOK_SECRET"}
    full_env.update(env or {})
    done = subprocess.run([TOOL, *map(os.fsencode, args)], input=stdin, capture_output=True,
                          env=full_env, cwd=cwd, timeout=60)
    result = Run(args, done.returncode, done.stdout, done.stderr.decode("utf-8", "replace"))
    printed = done.stdout + done.stderr
    for secret in KNOWN_SECRETS | set((env or {}).values()) - {""}:
        if len(secret) < 16:
            continue
        assert secret.encode() not in printed, f"a secret was printed:\n{result!r}"
        try:
            key_hex = base64.b64decode(secret, validate=True).hex().encode()
        except ValueError:
            continue
        assert key_hex not in printed.lower(), f"a secret's key bytes were printed (hex):\n{result!r}"
    return result


def assert_no_mac(case, result, secrets, body):
    """The MAC body would need under any of secrets appears nowhere."""
    printed = result.stdout + result.stderr.encode()
    for secret in secrets:
        good = mac(secret, body)
        for form in (base64.b64encode(good), good.hex().encode(), base64.b64encode(good)[:20]):
            case.assertNotIn(form, printed, f"the correct MAC was printed:\n{result!r}")


def load_manifest(directory):
    lines = (directory / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    samples = []
    for line in lines[1:]:
        if not line:
            continue
        row = dict(zip(header, line.split("\t")))
        row["path"] = directory / (row["name"] + ".json")
        row["body"] = row["path"].read_bytes()
        row["secret_file"] = directory / ("secret_rotated.b64" if row["name"] == "rotated_secret" else "secret.b64")
        row["secret"] = secret_text(row["secret_file"])
        samples.append(row)
    return samples


def rfc3339_from_ns(ns):
    """UTC, with all nine fraction digits."""
    seconds, fraction = divmod(ns, 10**9)
    text = (datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{fraction:09d}Z"


def ns_from_rfc3339(text):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d\d):(\d\d))", text)
    assert m, text
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    seconds = int((datetime.datetime(y, mo, d, h, mi, s) - datetime.datetime(1970, 1, 1)).total_seconds())
    if m.group(8):
        offset = (int(m.group(9)) * 60 + int(m.group(10))) * 60
        seconds -= offset if m.group(8) == "+" else -offset
    return seconds * 10**9 + int((m.group(7) or "").ljust(9, "0"))


def expected_from_manifest(row):
    """The fields the JSON line must hold, from the fixtures' manifest (itself
    written by generate.py with Python's json)."""
    expected = {
        "event": row["event"],
        "message_id": row["message_id"],
        "publish_time": rfc3339_from_ns(int(row["publish_time_ns"])),
        "consent_id": row["consent_id"],
        "end_user_id": row["end_user_id"],
        "client_id": row["client_id"],
        "institution_id": row["institution_id"],
    }
    for column in ("account_ids", "payee_ids"):
        if row[column]:
            expected[column] = row[column].split(",")
    return expected


def expected_from_body(body):
    """The same fields, read here with Python's json (for ../shared/corpus,
    whose manifest lists only the event)."""
    envelope = json.loads(body)
    data = envelope["data"]

    def first(*names):
        for name in names:
            if data.get(name) is not None:
                return data[name]
        return ""

    expected = {
        "event": data.get("event") or "",
        "message_id": envelope["message_id"],
        "publish_time": rfc3339_from_ns(ns_from_rfc3339(envelope["publish_time"])),
        "consent_id": first("consent_id", "arrangementId"),
        "end_user_id": first("end_user_id", "endUserId"),
        "client_id": first("client_id", "clientId"),
        "institution_id": first("institution_id", "institutionId"),
    }
    for column in ("account_ids", "payee_ids"):
        if data.get(column):
            expected[column] = data[column]
    return expected


def check_event_json(case, result, expected, verified=True):
    case.assertEqual(result.status, EXIT_OK, result)
    case.assertTrue(result.stdout.endswith(b"\n"), result)
    case.assertEqual(result.stdout.count(b"\n"), 1, f"not one line:\n{result!r}")
    got = result.json()
    for field, value in expected.items():
        case.assertEqual(got.get(field), value, f"{field}:\n{result!r}")
    case.assertIs(got["verified"], verified)
    case.assertEqual("key" in got, verified)
    return got


def temp_file(directory, name, content):
    path = pathlib.Path(directory) / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


FIXTURE_SAMPLES = load_manifest(FIXTURES)
SECRET = secret_text(SECRET_FILE)
ROTATED = secret_text(ROTATED_FILE)
GUIDE_SECRET = secret_text(GUIDE_SECRET_FILE)
SAMPLE = {row["name"]: row for row in FIXTURE_SAMPLES}


class RoundTrip(unittest.TestCase):
    def test_sign_then_verify_every_fixture(self):
        self.assertGreaterEqual(len(FIXTURE_SAMPLES), 29)
        for row in FIXTURE_SAMPLES:
            with self.subTest(sample=row["name"]):
                signed = run("sign", "--secret-file", row["secret_file"], row["path"])
                self.assertEqual(signed.status, EXIT_OK, signed)
                sig = signed.stdout.decode().strip()
                self.assertEqual(signed.stdout.decode(), sig + "\n")
                self.assertEqual(sig, signature(row["secret"], row["body"]), "differs from Python's hmac")
                self.assertEqual(sig, row["signature"], "differs from the manifest")
                verified = run("verify", "--signature", sig, "--secret-file", row["secret_file"], row["path"])
                got = check_event_json(self, verified, expected_from_manifest(row))
                self.assertEqual(got["key"], {"index": 0, "secret_file": str(row["secret_file"])})
                self.assertIs(got["documented"], row["name"] not in ("legacy_camel_case", "unknown_event_type"))

    def test_sign_then_verify_shared_corpus(self):
        if not (SHARED_CORPUS / "manifest.tsv").exists():
            self.skipTest(f"{SHARED_CORPUS} not present")
        samples = load_manifest(SHARED_CORPUS)
        self.assertGreaterEqual(len(samples), 27)
        for row in samples:
            with self.subTest(sample=row["name"]):
                signed = run("sign", "--secret-file", row["secret_file"], row["path"])
                sig = signed.stdout.decode().strip()
                self.assertEqual(sig, signature(row["secret"], row["body"]), signed)
                self.assertEqual(sig, row["signature"])
                # Rotation as a receiver runs it: both secrets, newest first.
                verified = run("verify", "--signature", sig, "--secret-file", SHARED_CORPUS / "secret.b64",
                               "--secret-file", SHARED_CORPUS / "secret_rotated.b64", row["path"])
                got = check_event_json(self, verified, expected_from_body(row["body"]))
                self.assertEqual(got["event"], row["event"])
                self.assertEqual(got["key"]["index"], 1 if row["name"] == "rotated_secret" else 0)

    def test_provider_guide_example(self):
        unit_test = (CLI_FIXTURES.parent / "unit-verify.cpp").read_text(encoding="utf-8")
        body = re.search(r'guide_body =\s*R"json\((.*?)\)json"', unit_test, flags=re.S).group(1)
        secret = re.search(r'guide_secret =\s*"(.*?)"', unit_test).group(1)
        self.assertEqual(GUIDE_BODY_FILE.read_bytes(), body.encode(), "differs from tests/unit-verify.cpp")
        self.assertEqual(GUIDE_SECRET, secret, "differs from tests/unit-verify.cpp")
        signed = run("sign", "--secret-file", GUIDE_SECRET_FILE, GUIDE_BODY_FILE)
        self.assertEqual(signed.stdout, (GUIDE_SIGNATURE + "\n").encode(), signed)
        verified = run("verify", "--signature", GUIDE_SIGNATURE, "--secret-file", GUIDE_SECRET_FILE, GUIDE_BODY_FILE)
        check_event_json(self, verified, {
            "event": "", "documented": False, "message_id": "9790112556309026",
            "publish_time": "2023-11-23T03:03:30.792000000Z",
            "consent_id": "4a726862-6b39-4cd5-92c0-3d20fe96a202", "client_id": "2XbIYazvJeBwaJx1xCaFar64uVk",
            "end_user_id": "2YPr9YiWLNj3KZt9ycjbvy4bRx5", "institution_id": "1",
        })

    def test_signs_the_exact_bytes(self):
        # NUL, every byte value, CRLF and no final newline: nothing is translated.
        body = bytes(range(256)) * 3 + b"\r\n\x00 tail \r"
        from_stdin = run("sign", "--secret-file", SECRET_FILE, stdin=body)
        self.assertEqual(from_stdin.stdout.decode().strip(), signature(SECRET, body), from_stdin)
        with tempfile.TemporaryDirectory() as tmp:
            from_file = run("sign", "--secret-file", SECRET_FILE, temp_file(tmp, "body.bin", body))
        self.assertEqual(from_file.stdout, from_stdin.stdout)
        for cut in (body[:-1], body + b"\n", b""):
            self.assertEqual(run("sign", "--secret-file", SECRET_FILE, stdin=cut).stdout.decode().strip(),
                             signature(SECRET, cut))

    def test_body_size_limit_is_the_librarys(self):
        at_limit = b"x" * LIMIT
        signed = run("sign", "--secret-file", SECRET_FILE, "-", stdin=at_limit)
        self.assertEqual(signed.status, EXIT_OK, signed)
        self.assertEqual(signed.stdout.decode().strip(), signature(SECRET, at_limit))
        for command in (["sign"], ["verify", "--signature", signature(SECRET, at_limit + b"x")], ["inspect"]):
            with self.subTest(command=command[0]):
                over = run(*command, "--secret-file", SECRET_FILE, stdin=at_limit + b"x") if command[0] != "inspect" \
                    else run(*command, stdin=at_limit + b"x")
                self.assertEqual(over.status, EXIT_NOT_ENVELOPE, over)
                self.assertIn("larger than 1048576 bytes", over.stderr)
                self.assertEqual(over.stdout, b"")

    def test_large_body_through_a_pipe(self):
        row = SAMPLE["large_200_accounts"]
        for file_args in ([], ["-"]):
            got = check_event_json(self, run("verify", "--signature", row["signature"], "--secret-file", SECRET_FILE,
                                             *file_args, stdin=row["body"]), expected_from_manifest(row))
            self.assertEqual(len(got["account_ids"]), 200)


class ExitCodes(unittest.TestCase):
    def refused(self, expected_status, *args, stdin=b"", env=None, says=()):
        result = run(*args, stdin=stdin, env=env)
        self.assertEqual(result.status, expected_status, result)
        self.assertEqual(result.stdout, b"", f"stdout must be empty on failure:\n{result!r}")
        self.assertTrue(result.stderr.strip(), result)
        for words in says:
            self.assertIn(words, result.stderr, result)
        return result

    def test_tampered_body_is_not_authentic(self):
        row = SAMPLE["consent_revoked"]
        tampered = {
            "revoked turned into received": row["body"].replace(b"consent.revoked", b"consent.received"),
            "one byte flipped": row["body"][:40] + bytes([row["body"][40] ^ 1]) + row["body"][41:],
            "a trailing newline added": row["body"] + b"\n",
            "a byte dropped": row["body"][:-1],
        }
        for what, body in tampered.items():
            with self.subTest(what=what):
                result = self.refused(EXIT_NOT_AUTHENTIC, "verify", "--signature", row["signature"],
                                      "--secret-file", SECRET_FILE, stdin=body, says=["NOT AUTHENTIC", "does not match"])
                assert_no_mac(self, result, [SECRET], body)
        newline = run("verify", "--signature", row["signature"], "--secret-file", SECRET_FILE,
                      stdin=row["body"] + b"\n")
        self.assertIn("ends with a newline", newline.stderr)

    def test_wrong_secret_is_not_authentic(self):
        row = SAMPLE["consent_revoked"]
        result = self.refused(EXIT_NOT_AUTHENTIC, "verify", "--signature", row["signature"],
                              "--secret-file", ROTATED_FILE, row["path"], says=["does not match", str(ROTATED_FILE)])
        assert_no_mac(self, result, [SECRET, ROTATED], row["body"])
        # The guide's openssl line keys the HMAC with the literal "secret.key".
        literal = base64.b64encode(hmac.new(b"secret.key", GUIDE_BODY_FILE.read_bytes(), hashlib.sha256).digest())
        self.refused(EXIT_NOT_AUTHENTIC, "verify", "--signature", literal.decode(), "--secret-file",
                     GUIDE_SECRET_FILE, GUIDE_BODY_FILE)

    def test_malformed_signature_is_not_authentic(self):
        row = SAMPLE["consent_revoked"]
        good = row["signature"]
        hex_digest = mac(SECRET, row["body"]).hex()
        cases = {
            "": "missing or empty",
            "sha256=" + good: "not 44 base64 characters",
            good[:-2] + "=": "not 44 base64 characters",
            good.replace("+", "-"): "URL-safe",
            good[:10] + " " + good[11:]: "whitespace",
            good[:10] + "*" + good[11:]: "outside the base64 alphabet",
            good[:43]: "lacks its trailing '=' padding",
            good[:42] + ALPHABET[ALPHABET.index(good[42]) + 1] + "=": "not canonical",
            hex_digest: "hex digest",
        }
        self.assertEqual(ALPHABET.index(good[42]) % 4, 0)  # so that +1 sets one of the 2 unused bits
        for bad, words in cases.items():
            with self.subTest(signature=bad):
                result = self.refused(EXIT_NOT_AUTHENTIC, "verify", "--signature", bad, "--secret-file", SECRET_FILE,
                                      row["path"], says=["NOT AUTHENTIC", words])
                assert_no_mac(self, result, [SECRET], row["body"])  # SIG itself is never echoed

    def test_authentic_but_not_an_envelope(self):
        bodies = {
            b'{"publish_time":"2026-11-20T09:15:00Z","message_id":"1","data":{}': "not valid JSON",
            b'{"publish_time":"2026-11-20T09:15:00Z","data":{}}': '"message_id"',
            b'{"publish_time":"2026-11-20 09:15","message_id":"1","data":{}}': '"publish_time" is not an RFC 3339',
            b'{"publish_time":"2026-02-30T09:15:00Z","message_id":"1","data":{}}': '"publish_time" names a date',
            b'{"publish_time":"2026-11-20T09:15:00Z","message_id":"1","data":{}} {}': "after the end",
            b'[1,2]': "not an object",
            b'{"publish_time":"2026-11-20T09:15:00Z","message_id":"1","data":{"account_ids":"a"}}': '"data.account_ids"',
            b'{"publish_time":"2026-11-20T09:15:00Z","message_id":"1","message_id":"2","data":{}}': "twice",
            b'': "empty",
        }
        for body, words in bodies.items():
            with self.subTest(body=body):
                sig = run("sign", "--secret-file", SECRET_FILE, stdin=body).stdout.decode().strip()
                self.assertEqual(sig, signature(SECRET, body))
                self.refused(EXIT_NOT_ENVELOPE, "verify", "--signature", sig, "--secret-file", SECRET_FILE,
                             stdin=body, says=["authentic, but not a valid Fiskil envelope", words])
                self.refused(EXIT_NOT_ENVELOPE, "inspect", stdin=body, says=["not a valid Fiskil envelope", words])

    def test_stale_delivery_with_max_age(self):
        row = SAMPLE["rotated_secret"]  # published 2026-11-20T09:15:00.123Z
        verify = ["verify", "--signature", row["signature"], "--secret-file", ROTATED_FILE, row["path"]]
        self.assertEqual(run(*verify, "--max-age", "5m", "--now", "2026-11-20T09:20:00.123Z").status, EXIT_OK)
        self.assertEqual(run(*verify, "--max-age", "5m", "--now", "2026-11-20T19:20:00.123+10:00").status, EXIT_OK)
        self.assertEqual(run(*verify, "--max-age=1h", "--now=2026-11-20T09:00:00Z").status, EXIT_OK)  # from the future
        for max_age, now in [("5m", "2026-11-20T09:20:00.124Z"), ("300s", "2026-11-20T09:20:00.123000001Z"),
                             ("1d", "2026-11-21T10:15:00.124+01:00"), ("1h30m", "2026-11-20T10:45:01Z")]:
            with self.subTest(max_age=max_age, now=now):
                self.refused(EXIT_TOO_OLD, *verify, "--max-age", max_age, "--now", now,
                             says=["TOO OLD", "2026-11-20T09:15:00.123Z", "more than --max-age"])
        # A wrong signature is reported as such, before the age.
        self.refused(EXIT_NOT_AUTHENTIC, "verify", "--signature", SAMPLE["consent_revoked"]["signature"],
                     "--secret-file", ROTATED_FILE, row["path"], "--max-age", "5m", "--now", "2030-01-01T00:00:00Z")

    def test_max_age_at_the_ends_of_time(self):
        # Ages of 583 years overflow 64-bit nanoseconds: they must saturate.
        for published, now, status in [("1678-01-01T00:00:00Z", "2261-12-31T23:59:59Z", EXIT_TOO_OLD),
                                       ("2261-12-31T23:59:59Z", "1678-01-01T00:00:00Z", EXIT_OK)]:
            body = json.dumps({"publish_time": published, "message_id": "1", "data": {}}).encode()
            result = run("verify", "--signature", signature(SECRET, body), "--secret-file", SECRET_FILE,
                         "--max-age", "365d", "--now", now, stdin=body)
            self.assertEqual(result.status, status, result)

    def test_max_age_against_the_system_clock(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        for published, status in [(now - datetime.timedelta(seconds=30), EXIT_OK),
                                  (now - datetime.timedelta(hours=2), EXIT_TOO_OLD)]:
            body = json.dumps({"publish_time": published.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "message_id": "1",
                               "data": {"event": "consent.received"}}).encode()
            result = run("verify", "--signature", signature(SECRET, body), "--secret-file", SECRET_FILE,
                         "--max-age", "1h", stdin=body)
            self.assertEqual(result.status, status, result)

    def test_usage_errors(self):
        sig = SAMPLE["consent_revoked"]["signature"]
        path = SAMPLE["consent_revoked"]["path"]
        cases = [
            ((), "Usage:"),
            (("frobnicate",), "unknown command 'frobnicate'"),
            (("--frobnicate",), "unknown option '--frobnicate'"),
            (("sign", "--frobnicate", path), "unknown option '--frobnicate'"),
            (("verify", "--signature", sig, "--frobnicate", path), "unknown option '--frobnicate'"),
            (("verify", "--signature", sig, "-x", path), "unknown option '-x'"),
            (("inspect", "--secret-file", SECRET_FILE, path), "unknown option '--secret-file'"),
            (("inspect", "--frobnicate=1", path), "unknown option '--frobnicate'"),
            (("verify", "--secret-file", SECRET_FILE, path), "needs --signature"),
            (("verify", "--secret-file", SECRET_FILE, path, "--signature"), "needs a value"),
            (("verify", "--signature", sig, "--signature", sig, "--secret-file", SECRET_FILE, path), "only once"),
            (("verify", "--signature", sig, "--secret-file", SECRET_FILE, path, path), "one FILE"),
            (("sign", "--secret-file", SECRET_FILE, "--secret-file", ROTATED_FILE, path), "one secret"),
            (("verify", "--signature", sig, *["--secret-file", SECRET_FILE] * 9, path), "at most 8 secrets"),
            (("verify", "--signature", sig, "--secret-file", SECRET_FILE, "--now", "2026-11-20T09:20:00Z", path),
             "give --max-age too"),
            (("verify", "--signature", sig, "--secret-file", SECRET_FILE, "--max-age", "5m", "--now", "yesterday",
              path), "not an RFC 3339 timestamp"),
            (("verify", "--signature", sig, "--secret-file", SECRET_FILE, "--max-age", "5m", "--max-age", "6m",
              path), "only once"),
            (("sign", "--secret-file"), "needs a value"),
            (("sign", path), "FISKIL_WEBHOOK_SECRET is not set"),
            (("sign", "--secret-env", "FISKIL_CLI_TEST_UNSET", path), "FISKIL_CLI_TEST_UNSET is not set"),
            (("help", "frobnicate"), "no help on 'frobnicate'"),
        ]
        for args, words in cases:
            with self.subTest(args=args):
                self.refused(EXIT_USAGE, *args, says=[words])
        for duration, words in [("10", "lacks a unit"), ("1x", "unknown unit 'x'"), ("m", "not a DURATION"),
                                ("30m1h", "out of order"), ("1h1h", "out of order"), ("0s", "zero"), ("", "empty"),
                                ("1.5h", "unknown unit '.'"), ("-5m", "not a DURATION"), ("366d", "365d"),
                                ("99999999999s", "too long"), ("5 m", "unknown unit ' '")]:
            with self.subTest(duration=duration):
                self.refused(EXIT_USAGE, "verify", "--signature", sig, "--secret-file", SECRET_FILE,
                             "--max-age", duration, path, says=["--max-age", words])

    def test_unusable_secret_is_a_usage_error(self):
        path = SAMPLE["consent_revoked"]["path"]
        with tempfile.TemporaryDirectory() as tmp:
            for content, words in [(b"not*base64", "outside the base64 alphabet"), (b"two words", "whitespace"), (b"\n", "empty"),
                                   (b"YWJj-Q==", "URL-safe"), (b"A" * 5000, "larger than 4096 bytes")]:
                with self.subTest(content=content[:20]):
                    bad = temp_file(tmp, "bad.b64", content)
                    self.refused(EXIT_USAGE, "sign", "--secret-file", bad, path, says=[str(bad), words])
                    # The second of two secrets is named when it is the bad one.
                    self.refused(EXIT_USAGE, "verify", "--signature", SAMPLE["consent_revoked"]["signature"],
                                 "--secret-file", SECRET_FILE, "--secret-file", bad, path, says=[str(bad)])
        self.refused(EXIT_USAGE, "sign", "--secret-env", "EMPTY_SECRET", path, env={"EMPTY_SECRET": ""},
                     says=["--secret-env EMPTY_SECRET", "empty"])

    def test_missing_input_files(self):
        row = SAMPLE["consent_revoked"]
        with tempfile.TemporaryDirectory() as tmp:
            missing = pathlib.Path(tmp) / "no-such-file.json"
            self.refused(EXIT_NO_INPUT, "sign", "--secret-file", SECRET_FILE, missing,
                         says=[f"cannot read body file '{missing}'", "No such file"])
            self.refused(EXIT_NO_INPUT, "verify", "--signature", row["signature"], "--secret-file", SECRET_FILE,
                         missing, says=["No such file"])
            self.refused(EXIT_NO_INPUT, "inspect", missing, says=["No such file"])
            self.refused(EXIT_NO_INPUT, "verify", "--signature", row["signature"], "--secret-file", missing,
                         row["path"], says=[f"cannot read secret file '{missing}'"])
            self.refused(EXIT_NO_INPUT, "inspect", tmp, says=["Is a directory"])


class Secrets(unittest.TestCase):
    def test_rotation_with_two_secret_files(self):
        for row in (SAMPLE["rotated_secret"], SAMPLE["consent_revoked"]):
            for order in ((SECRET_FILE, ROTATED_FILE), (ROTATED_FILE, SECRET_FILE)):
                with self.subTest(sample=row["name"], first=order[0].name):
                    result = run("verify", "--signature", row["signature"], "--secret-file", order[0],
                                 "--secret-file", order[1], row["path"])
                    got = check_event_json(self, result, expected_from_manifest(row))
                    index = order.index(row["secret_file"])
                    self.assertEqual(got["key"], {"index": index, "secret_file": str(row["secret_file"])})
                    self.assertIn(f"secret {index + 1} of 2, from --secret-file {row['secret_file']}", result.stderr)
        # Neither secret: refused, naming both.
        body = SAMPLE["consent_revoked"]["body"]
        result = run("verify", "--signature", signature(GUIDE_SECRET, body), "--secret-file", SECRET_FILE,
                     "--secret-file", ROTATED_FILE, stdin=body)
        self.assertEqual(result.status, EXIT_NOT_AUTHENTIC, result)
        self.assertIn(f"tried 2 secrets: --secret-file {SECRET_FILE}, --secret-file {ROTATED_FILE}", result.stderr)
        assert_no_mac(self, result, [SECRET, ROTATED, GUIDE_SECRET], body)

    def test_secret_from_environment(self):
        row = SAMPLE["rotated_secret"]
        # The default variable, when no secret option is given.
        signed = run("sign", row["path"], env={"FISKIL_WEBHOOK_SECRET": ROTATED})
        self.assertEqual(signed.stdout.decode().strip(), row["signature"], signed)
        got = check_event_json(self, run("verify", "--signature", row["signature"], row["path"],
                                         env={"FISKIL_WEBHOOK_SECRET": ROTATED + "\n"}), expected_from_manifest(row))
        self.assertEqual(got["key"], {"index": 0, "secret_env": "FISKIL_WEBHOOK_SECRET"})
        # A named variable; the default is then not read.
        env = {"NEW_SECRET": SECRET, "OLD_SECRET": ROTATED, "FISKIL_WEBHOOK_SECRET": "garbage!"}
        got = check_event_json(self, run("verify", "--signature", row["signature"], "--secret-env", "NEW_SECRET",
                                         "--secret-env", "OLD_SECRET", row["path"], env=env),
                               expected_from_manifest(row))
        self.assertEqual(got["key"], {"index": 1, "secret_env": "OLD_SECRET"})
        # Files and variables mixed: numbered in command-line order.
        got = check_event_json(self, run("verify", "--signature", row["signature"], "--secret-env", "NEW_SECRET",
                                         "--secret-file", ROTATED_FILE, row["path"], env=env),
                               expected_from_manifest(row))
        self.assertEqual(got["key"], {"index": 1, "secret_file": str(ROTATED_FILE)})
        signed = run("sign", "--secret-env", "OLD_SECRET", row["path"], env=env)
        self.assertEqual(signed.stdout.decode().strip(), row["signature"], signed)

    def test_secret_file_layouts(self):
        row = SAMPLE["consent_revoked"]
        with tempfile.TemporaryDirectory() as tmp:
            for name, content in [("plain", SECRET), ("newline", SECRET + "\n"), ("crlf", SECRET + "\r\n"),
                                  ("blank lines", "\n\n  " + SECRET + "\t\n\n")]:
                with self.subTest(layout=name):
                    path = temp_file(tmp, "secret", content)
                    signed = run("sign", "--secret-file", path, row["path"])
                    self.assertEqual(signed.stdout.decode().strip(), row["signature"], signed)

    def test_nothing_printed_holds_a_secret_or_the_mac(self):
        # run() checks every secret on every run; here also the MACs, over a
        # sweep of refusals with several secrets at once.
        row = SAMPLE["escapes_and_extra_fields"]
        env = {"A_SECRET": GUIDE_SECRET}
        secrets = [SECRET, ROTATED, GUIDE_SECRET]
        wrong = signature(GUIDE_SECRET, row["body"] + b" ")
        for extra in ([], ["--max-age", "1s", "--now", "2030-01-01T00:00:00Z"]):
            for sig in (wrong, wrong[:-2] + "==", "", wrong.replace("/", "_")):
                with self.subTest(signature=sig, extra=extra):
                    result = run("verify", "--signature", sig, "--secret-file", ROTATED_FILE, "--secret-env",
                                 "A_SECRET", *extra, row["path"], env=env)
                    self.assertEqual(result.status, EXIT_NOT_AUTHENTIC, result)
                    assert_no_mac(self, result, secrets, row["body"])


class Output(unittest.TestCase):
    def test_every_documented_key_is_present(self):
        row = SAMPLE["banking_payees_sync_completed"]
        got = check_event_json(self, run("verify", "--signature", row["signature"], "--secret-file", SECRET_FILE,
                                         row["path"]), expected_from_manifest(row))
        self.assertEqual(list(got), ["event", "documented", "message_id", "publish_time", "consent_id",
                                     "end_user_id", "client_id", "institution_id", "payee_ids", "verified", "key"])
        row = SAMPLE["null_optional_fields"]
        got = check_event_json(self, run("inspect", row["path"]), expected_from_manifest(row), verified=False)
        self.assertEqual((got["account_ids"], got["end_user_id"], got["institution_id"]), ([], "", ""))
        self.assertNotIn("payee_ids", got)

    def test_publish_time_in_utc_to_the_nanosecond(self):
        for name, text in [("offset_timestamp", "2026-11-07T03:47:46.123456789Z"),
                           ("null_optional_fields", "2026-11-06T00:00:00.000000000Z"),
                           ("consent_received", "2026-11-02T01:01:07.001000000Z")]:
            with self.subTest(sample=name):
                self.assertEqual(run("inspect", SAMPLE[name]["path"]).json()["publish_time"], text)
        # Fixed width, so that the texts sort as the instants do.
        times = []
        for when in ("2026-11-20T09:15:00.79Z", "2026-11-20T09:15:00.792Z", "2026-11-20T09:15:00Z",
                     "1678-01-01T00:00:00.000000001Z", "2261-12-31T23:59:59.999999999Z", "2026-11-20T19:15:00.5+10:00"):
            body = json.dumps({"publish_time": when, "message_id": "1", "data": {}}).encode()
            text = run("inspect", stdin=body).json()["publish_time"]
            self.assertEqual(text, rfc3339_from_ns(ns_from_rfc3339(when)))
            times.append((ns_from_rfc3339(when), text))
        self.assertEqual(sorted(times), sorted(times, key=lambda t: t[1]))

    def test_json_escaping(self):
        row = SAMPLE["escapes_and_extra_fields"]
        got = check_event_json(self, run("verify", "--signature", row["signature"], "--secret-file", SECRET_FILE,
                                         row["path"]), expected_from_manifest(row))
        self.assertEqual(got["end_user_id"], '2fw\u00e9"quoted"\\slash')
        # Control characters, quotes, backslashes, non-ASCII, astral-plane
        # characters, a JSON-special slash: all come back intact.
        awkward = "\u0001\u001f\t\n\r\b\f\"\\/\u007f\u00e9\u2028\U0001F600 end"
        body = json.dumps({"publish_time": "2026-11-20T09:15:00Z", "message_id": "m\"1\\",
                           "data": {"event": "consent.new\"type", "end_user_id": awkward,
                                    "payee_ids": [awkward, "", "\u0000"]}}).encode()
        result = run("verify", "--signature", signature(SECRET, body), "--secret-file", SECRET_FILE, stdin=body)
        got = check_event_json(self, result, {"end_user_id": awkward, "message_id": "m\"1\\",
                                              "event": "consent.new\"type", "documented": False,
                                              "payee_ids": [awkward, "", "\u0000"]})
        self.assertNotIn(b"\n", result.stdout[:-1])
        self.assertNotIn("account_ids", got)

    def test_file_names_that_are_not_utf8_stay_valid_json(self):
        row = SAMPLE["consent_revoked"]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.fsencode(tmp) + b"/s\xffcr\"et.b64"
            pathlib.Path(os.fsdecode(path)).write_text(SECRET)
            result = run("verify", "--signature", row["signature"], "--secret-file", os.fsdecode(path), row["path"])
            got = check_event_json(self, result, expected_from_manifest(row))
            self.assertEqual(got["key"]["secret_file"], tmp + "/s\ufffdcr\"et.b64")

    def test_inspect_prints_the_same_json_unverified(self):
        for row in FIXTURE_SAMPLES:
            with self.subTest(sample=row["name"]):
                verified = run("verify", "--signature", row["signature"], "--secret-file", row["secret_file"],
                               row["path"]).json()
                inspected = run("inspect", row["path"])
                self.assertIn("NOT VERIFIED", inspected.stderr)
                got = check_event_json(self, inspected, expected_from_manifest(row), verified=False)
                del verified["key"]
                verified["verified"] = False
                self.assertEqual(got, verified)
        # It parses what it is given, signature or not: a forged body is shown, and flagged.
        forged = SAMPLE["consent_revoked"]["body"].replace(b"consent.revoked", b"consent.received")
        result = run("inspect", "-", stdin=forged)
        self.assertEqual(result.json()["event"], "consent.received")
        self.assertIn("NOT VERIFIED", result.stderr)

    def test_messages_go_to_stderr(self):
        row = SAMPLE["consent_revoked"]
        result = run("verify", "--signature", row["signature"], "--secret-file", SECRET_FILE, "--max-age", "365d",
                     "--now", "2026-11-05T00:00:00Z", row["path"])
        self.assertEqual(result.status, EXIT_OK, result)
        self.assertIn(f"authentic: signed with the secret from --secret-file {SECRET_FILE}", result.stderr)
        self.assertIn("published 20h56m52.997s before 2026-11-05T00:00:00Z, within --max-age 365d", result.stderr)
        result.json()  # stdout is the JSON alone


class Help(unittest.TestCase):
    def help_text(self, *args):
        result = run(*args)
        self.assertEqual(result.status, EXIT_OK, result)
        self.assertEqual(result.stderr, "")
        text = result.stdout.decode()
        self.assertIn("Usage:", text)
        self.assertIn("Examples:", text)
        self.assertTrue(all(len(line) <= 100 for line in text.splitlines()), "lines too long for a terminal")
        return text

    def test_help_for_the_tool_and_each_command(self):
        top = self.help_text("--help")
        self.assertEqual(self.help_text("-h"), top)
        self.assertEqual(self.help_text("help"), top)
        for command in ("sign", "verify", "inspect"):
            with self.subTest(command=command):
                text = self.help_text(command, "--help")
                self.assertEqual(self.help_text(command, "-h"), text)
                self.assertEqual(self.help_text("help", command), text)
                self.assertTrue(text.startswith(f"fiskil-webhook {command} - "))
                self.assertIn("Exit status:", text)
                self.assertIn(f"fiskil-webhook {command} ", text.split("Examples:")[1])
        # --help wins over everything else on the line.
        self.assertEqual(self.help_text("verify", "--max-age", "bogus", "--help"), self.help_text("verify", "--help"))

    def exit_statuses_in_help(self):
        text = self.help_text("--help")
        block = text.split("Exit status:\n")[1].split("\n\n")[0]
        return {int(m) for m in re.findall(r"^  (\d+) ", block, flags=re.M)}

    def test_help_lists_every_exit_status(self):
        self.assertEqual(self.exit_statuses_in_help(), ALL_EXIT_STATUSES)

    def doc_section(self, title):
        doc = CLI_DOC.read_text(encoding="utf-8")
        start = doc.index(f"\n## {title}\n")
        end = doc.find("\n## ", start + 1)
        return doc[start:end if end >= 0 else len(doc)]

    def test_doc_documents_the_tool(self):
        doc = CLI_DOC.read_text(encoding="utf-8")
        rows = {int(m) for m in re.findall(r"^\| `(\d+)` \|", self.doc_section("Exit statuses"), flags=re.M)}
        self.assertEqual(rows, self.exit_statuses_in_help(), "docs/cli.md's exit statuses differ from --help's")
        for words in ("--secret-file", "--secret-env", "FISKIL_WEBHOOK_SECRET", "--max-age", "--now", "DURATION",
                      "inspect", "1 MiB"):
            self.assertIn(words, doc)
        self.assertIn(GUIDE_SIGNATURE, self.doc_section("Checking a signature by hand"))

    def test_doc_openssl_command_reproduces_the_header(self):
        # The shell block of "Checking a signature by hand", run as written
        # on the provider guide's example.
        if shutil.which("openssl") is None:
            self.skipTest("no openssl command")
        block = re.search(r"^```sh\n(.*?)^```", self.doc_section("Checking a signature by hand"),
                          flags=re.S | re.M).group(1)
        with tempfile.TemporaryDirectory() as work:
            shutil.copy(GUIDE_SECRET_FILE, pathlib.Path(work) / "secret.b64")
            shutil.copy(GUIDE_BODY_FILE, pathlib.Path(work) / "body.json")
            result = subprocess.run(["bash", "-c", "set -euo pipefail\n" + block], cwd=work, capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), GUIDE_SIGNATURE)

    def test_doc_example_output_is_real(self):
        doc = CLI_DOC.read_text(encoding="utf-8")
        block = re.search(r"^```text\n(.*?)^```", doc, flags=re.S | re.M).group(1)
        command, *shown = block.splitlines()
        self.assertTrue(command.startswith("$ fiskil-webhook "), command)
        result = run(*shlex.split(command)[2:], cwd=SOURCE_ROOT)
        self.assertEqual(result.status, EXIT_OK, result)
        self.assertEqual(result.stdout.decode().splitlines() + result.stderr.splitlines(), shown)

    def test_version(self):
        result = run("--version")
        self.assertEqual(result.status, EXIT_OK, result)
        self.assertRegex(result.stdout.decode(), r"^fiskil-webhook \d+\.\d+\.\d+ ")


class Install(unittest.TestCase):
    def test_installed_tool_runs(self):
        # meson install drops the build tree's rpath; the installed tool must
        # still find its crypto library (Debian's BoringSSL is off the path).
        build_root = os.environ.get("FISKIL_BUILD_ROOT")
        if not build_root:
            self.skipTest("FISKIL_BUILD_ROOT not set")
        with tempfile.TemporaryDirectory() as destdir:
            subprocess.run([os.environ.get("FISKIL_MESON", "meson"), "install", "-C", build_root, "--no-rebuild",
                            "--quiet", "--destdir", destdir], check=True, capture_output=True, timeout=120)
            installed = [p for p in pathlib.Path(destdir).rglob("fiskil-webhook") if p.is_file()]
            self.assertEqual(len(installed), 1, installed)
            self.assertEqual(installed[0].parent.name, "bin")
            done = subprocess.run([installed[0], "sign", "--secret-file", GUIDE_SECRET_FILE, GUIDE_BODY_FILE],
                                  capture_output=True, timeout=60)
            self.assertEqual((done.returncode, done.stdout), (0, (GUIDE_SIGNATURE + "\n").encode()), done.stderr)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[1:]])
