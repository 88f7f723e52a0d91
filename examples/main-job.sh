#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
#
# The main job, run by the README's first command:
#
#   bash examples/main-job.sh BUILD_DIR
#
# 1. the library (examples/verify_samples) verifies, parses and dispatches
#    every sample delivery in tests/fixtures, and refuses a tampered one;
# 2. the command-line tool (tools/fiskil-webhook) signs, verifies and inspects
#    a few of them, and refuses a tampered and a stale delivery.
#
# Each command is shown before its output, with its exit status when that is
# not 0. Exits non-zero as soon as a command's status is not the expected one.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: bash examples/main-job.sh BUILD_DIR   (a meson build directory, compiled)" >&2
  exit 64
fi
build=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
shown_build=$(realpath --relative-to=. "$build")
# On PATH, so that the commands read as a user would type them.
PATH=$build/tools:$PATH

heading() { printf '\n== %s\n' "$*"; }

# show STATUS 'COMMAND LINE': prints the command line, runs it (stderr merged
# into stdout, so the two stay in order) and checks its exit status.
show() {
  local expected=$1 command=$2 status=0
  printf '\n$ %s\n' "$command"
  eval "$command" 2>&1 || status=$?
  if [ "$status" -ne "$expected" ]; then
    echo "main-job: FAILED: expected exit status $expected, got $status" >&2
    exit 1
  fi
  if [ "$status" -ne 0 ]; then echo "(exit status $status, as expected)"; fi
}

heading "1. The library: verify, parse and dispatch every sample delivery"
show 0 "$shown_build/examples/verify_samples tests/fixtures"

heading "2. The command-line tool: $shown_build/tools/fiskil-webhook"
echo "The signature that belongs in X-Fiskil-Signature for a body:"
show 0 "fiskil-webhook sign --secret-file tests/fixtures/secret.b64 tests/fixtures/consent_revoked.json"
sig=$(fiskil-webhook sign --secret-file tests/fixtures/secret.b64 tests/fixtures/consent_revoked.json)
if ! grep -q "^consent_revoked	consent.revoked	$sig	" tests/fixtures/manifest.tsv; then
  echo "main-job: FAILED: the signature differs from tests/fixtures/manifest.tsv" >&2
  exit 1
fi

echo
echo "Verify it, then read the event as one line of JSON (messages go to stderr):"
show 0 "fiskil-webhook verify --secret-file tests/fixtures/secret.b64 --signature $sig tests/fixtures/consent_revoked.json"

echo
echo "A delivery altered in transit (the revocation turned into a new consent) is refused:"
show 1 "sed s/consent.revoked/consent.received/ tests/fixtures/consent_revoked.json | fiskil-webhook verify --secret-file tests/fixtures/secret.b64 --signature $sig"

echo
echo "Secret rotation: two secrets accepted; the output says which one matched:"
rotated_sig=TK/HPvVowtwub7TsYh1bELLvsBbsZjwJEvlEz46oFHY=
show 0 "fiskil-webhook verify --secret-file tests/fixtures/secret.b64 --secret-file tests/fixtures/secret_rotated.b64 --signature $rotated_sig tests/fixtures/rotated_secret.json"

echo
echo "The same delivery, checked 20 minutes after it was published, with a limit of 10 minutes:"
show 3 "fiskil-webhook verify --secret-file tests/fixtures/secret_rotated.b64 --signature $rotated_sig --max-age 10m --now 2026-11-20T09:35:00Z tests/fixtures/rotated_secret.json"

echo
echo "inspect parses without checking anything, and says so:"
show 0 "fiskil-webhook inspect tests/fixtures/escapes_and_extra_fields.json"

heading "main job: every command above gave the exit status it should"
