#!/usr/bin/env python3
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
"""Writes the seed corpora of the fuzz harnesses into fuzz/corpus/<harness>/.

Seeds come from the project's signed samples (tests/fixtures) and from small
hand-made cases, one per class of bad input. Output is deterministic; rerun
after adding a case and commit the result. Inputs that fuzzing found and
that reproduced a bug are added under their own names (regression-*), and
this script leaves them alone.

    python3 fuzz/make_corpus.py
"""
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT / "fuzz" / "corpus"


def samples():
    lines = (FIXTURES / "manifest.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        if line:
            row = dict(zip(header, line.split("\t")))
            yield row, (FIXTURES / (row["name"] + ".json")).read_bytes()


def write(harness, name, data):
    if isinstance(data, str):
        data = data.encode()
    folder = CORPUS / harness
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def main():
    for folder in CORPUS.glob("*"):
        for seed in folder.glob("seed-*"):
            seed.unlink()
    rows = list(samples())
    signature = rows[0][0]["signature"]

    # Signature headers and secrets (one harness decodes both).
    for row, _ in rows:
        write("signature", "seed-" + row["name"], row["signature"])
    for name, text in {
        "empty": "", "blank": " \t ", "ows": " " + signature + "\t",
        "secret": (FIXTURES / "secret.b64").read_text(),
        "secret-rotated": (FIXTURES / "secret_rotated.b64").read_text(),
        "whitespace-inside": signature[:20] + " " + signature[21:],
        "url-safe": signature.replace("+", "-").replace("/", "_") + "-_",
        "invalid-character": signature[:10] + "*" + signature[11:],
        "padding-missing": signature.rstrip("="),
        "padding-extra": signature + "=",
        "padding-misplaced": signature[:-1] + "=A",
        "non-canonical": signature[:42] + "B=",
        "prefixed": "sha256=" + signature,
        "hex": "e989d8680d22fdb056ae61f6b7364d0413465ea5296eb03142e745bd4d94b50e",
        "short": "Zg==", "long": signature * 3,
    }.items():
        write("signature", "seed-" + name, text)

    # verify: one length byte, the header, then the body.
    for row, body in rows:
        header = row["signature"].encode()
        write("verify", "seed-" + row["name"], bytes([len(header)]) + header + body)
    body = rows[0][1]
    write("verify", "seed-empty", b"")
    write("verify", "seed-empty-body", bytes([len(signature)]) + signature.encode())
    write("verify", "seed-ows", bytes([len(signature) + 2]) + b" " + signature.encode() + b"\t" + body)
    write("verify", "seed-wrong-length", bytes([4]) + b"Zg==" + body)
    write("verify", "seed-tampered", bytes([len(signature)]) + signature.encode() + body + b" ")

    # Bodies: parse and end_to_end.
    good = {"publish_time": "2026-11-20T09:15:00.123Z", "message_id": "7000000000000001",
            "data": {"event": "consent.received", "consent_id": "c-1"}}
    compact = json.dumps(good, separators=(",", ":"))
    bodies = {
        "empty": "", "blank": " \n", "not-json": "hello", "trailing": compact + " x",
        "bad-utf8": compact[:-2] + ',"x":"\xff"}}', "bad-string": compact[:-2] + ',"x":"\\q"}}',
        "bad-number": compact[:-2] + ',"x":01}}', "deep": compact[:-2] + ',"x":' + "[" * 40 + "]" * 40 + "}}",
        "not-object": "[1,2,3]",
        "missing-publish-time": '{"message_id":"m","data":{}}',
        "missing-message-id": '{"publish_time":"2026-11-20T09:15:00Z","data":{}}',
        "missing-data": '{"publish_time":"2026-11-20T09:15:00Z","message_id":"m"}',
        "mistyped": '{"publish_time":1,"message_id":2,"data":[]}',
        "duplicate": compact[:-1] + ',"message\\u005fid":"other"}',
        "bad-time": compact.replace("2026-11-20", "2026-02-30"),
        "empty-message-id": compact.replace("7000000000000001", ""),
        "unknown-event": compact.replace("consent.received", "banking.loans.sync.completed"),
        "no-event": '{"publish_time":"2023-11-23T03:03:30.792Z","message_id":"9790112556309026",'
                    '"data":{"arrangementId":"a","clientId":"c","endUserId":"e","institutionId":"1"}}',
        "ids": compact.replace('"consent.received"', '"banking.payees.sync.completed","payee_ids":["p\\u00e9",null]'),
        "null-fields": compact.replace('"c-1"', 'null,"account_ids":null,"event":null'),
    }
    for row, body in rows:
        write("parse", "seed-" + row["name"], body)
        write("end_to_end", "seed-" + row["name"], body)
    for name, text in bodies.items():
        data = text.encode("latin-1") if name == "bad-utf8" else text.encode()
        write("parse", "seed-" + name, data)
        write("end_to_end", "seed-" + name, data)

    # Timestamps.
    for name, text in {
        "utc": "2023-11-23T03:03:30.792Z", "plain": "2026-11-04T20:15:53Z", "lower": "2026-11-04t20:15:53z",
        "offset": "2026-11-07T13:47:46+10:00", "negative-offset": "2026-11-06T21:17:46-06:30",
        "nanoseconds": "2026-01-01T00:00:00.123456789Z", "ten-digits": "2026-01-01T00:00:00.1234567891Z",
        "leap-day": "2024-02-29T12:00:00Z", "not-leap": "1900-02-29T12:00:00Z", "second-60": "2026-12-31T23:59:60Z",
        "first": "1678-01-01T00:00:00Z", "last": "2261-12-31T23:59:59.999999999Z", "before": "1677-12-31T23:59:59Z",
        "after": "2262-01-01T00:00:00Z", "bad-offset": "2026-11-07T03:47:46+24:00", "date-only": "2026-11-04",
        "space": "2026-11-04 20:15:53Z", "epoch": "1700000000",
    }.items():
        write("rfc3339", "seed-" + name, text)


if __name__ == "__main__":
    main()
