#!/usr/bin/env bash
# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
#
# The main job, run by the README's first command:
#
#   bash examples/main-job.sh BUILD_DIR
#
# 1. the gateway (gateway/fiskil-gateway) runs on a free port with the sample
#    secrets and a fresh journal in a temporary directory; every sample
#    delivery is sent to it (with a retry, a duplicate, a tampered and a stale
#    one) and each answer printed; the gateway forwards each kept delivery
#    to examples/app.py (--forward, docs/forward.md), which verifies its
#    Standard Webhooks signature and prints it; then the journal's rows, the
#    journal consumer's output, and a clean stop (SIGTERM, exit status 0);
# 2. the library (examples/verify_samples) verifies, parses and dispatches
#    every sample delivery in tests/fixtures, and refuses a tampered one;
# 3. the command-line tool (tools/fiskil-webhook) signs, verifies and inspects
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

heading "1. The gateway: $shown_build/gateway/fiskil-gateway, its journal and a consumer"
if [ ! -x "$build/gateway/fiskil-gateway" ]; then
  echo "(not built: configure with -Dgateway=true, the default)"
else
  work=$(mktemp -d)
  gateway_pid=
  app_pid=
  stop_gateway() {
    if [ -n "$gateway_pid" ] && kill -0 "$gateway_pid" 2>/dev/null; then kill -KILL "$gateway_pid" 2>/dev/null || true; fi
    if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then kill -KILL "$app_pid" 2>/dev/null || true; fi
    rm -rf "$work"
  }
  trap stop_gateway EXIT
  TMP=$work  # as shown in the commands below
  journal=$TMP/journal.sqlite

  echo "The application the gateway forwards to (examples/app.py, Python's standard library), with"
  echo "a forwarding secret of its own (its output goes to \$TMP/app.log):"
  echo "\$ echo \"whsec_\$(head -c 32 /dev/urandom | base64)\" > \$TMP/forward.secret && chmod 600 \$TMP/forward.secret"
  echo "whsec_$(head -c 32 /dev/urandom | base64)" > "$TMP/forward.secret" && chmod 600 "$TMP/forward.secret"
  echo "\$ python3 examples/app.py --secret-file \$TMP/forward.secret --listen 127.0.0.1:0"
  python3 examples/app.py --secret-file "$TMP/forward.secret" --listen 127.0.0.1:0 >"$work/app.log" 2>&1 &
  app_pid=$!
  for _ in $(seq 100); do grep -q '^listening on' "$work/app.log" && break; sleep 0.1; done
  if ! grep -q '^listening on' "$work/app.log"; then
    echo "main-job: FAILED: examples/app.py did not start:" >&2
    cat "$work/app.log" >&2
    exit 1
  fi
  head -1 "$work/app.log"
  app_port=$(head -1 "$work/app.log" | sed 's/.*://')
  forward_url=http://127.0.0.1:$app_port/fiskil

  echo
  echo "The sample secrets, copied private (the gateway refuses a secret file others can read):"
  echo "\$ install -m 600 tests/fixtures/secret.b64 tests/fixtures/secret_rotated.b64 \$TMP/"
  install -m 600 tests/fixtures/secret.b64 tests/fixtures/secret_rotated.b64 "$TMP/"
  echo "The gateway, started as (its log goes to $work/gateway.log; here its first line, the address):"
  echo "\$ fiskil-gateway --listen 127.0.0.1:0 --secret-file \$TMP/secret.b64 --secret-file \$TMP/secret_rotated.b64 --journal \$TMP/journal.sqlite --forward $forward_url --forward-secret-file \$TMP/forward.secret"
  coproc GATEWAY { exec "$build/gateway/fiskil-gateway" --listen 127.0.0.1:0 \
      --secret-file "$TMP/secret.b64" --secret-file "$TMP/secret_rotated.b64" \
      --journal "$journal" --forward "$forward_url" --forward-secret-file "$TMP/forward.secret" \
      2>"$work/gateway.log"; }
  gateway_pid=$GATEWAY_PID
  if ! read -r -t 20 first_line <&"${GATEWAY[0]}"; then
    echo "main-job: FAILED: the gateway did not start:" >&2
    cat "$work/gateway.log" >&2
    exit 1
  fi
  echo "$first_line"
  port=${first_line##*:}

  echo
  echo "Every sample delivery, re-stamped now and signed with the sample secret, then a retry,"
  echo "a duplicate, a tampered and a stale one; each with the gateway's answer:"
  show 0 "python3 examples/send_samples.py $port tests/fixtures"

  echo
  echo "The gateway forwarded each kept delivery to the application, which checked its signature"
  echo "(webhook-signature, Standard Webhooks) and printed it (docs/forward.md):"
  for _ in $(seq 100); do
    "$build/gateway/fiskil-gateway" journal status --journal "$journal" | grep -q '^  backlog 0$' && break
    sleep 0.1
  done
  show 0 "$shown_build/gateway/fiskil-gateway journal status --journal \$TMP/journal.sqlite"
  show 0 "sed 1d \$TMP/app.log | sed 's/^/  /'"
  kept=$(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT COUNT(*) FROM deliveries').fetchone()[0])" "$journal")
  verified=$(grep -c 'signature ok$' "$work/app.log" || true)
  if [ "$kept" -eq 0 ] || [ "$verified" -ne "$kept" ]; then
    echo "main-job: FAILED: $kept deliveries kept, $verified reached the application verified" >&2
    exit 1
  fi
  echo "($kept kept, $kept verified by the application)"

  echo
  echo "The journal's rows (python3's sqlite3 module; the schema is in docs/gateway.md):"
  show 0 "python3 -c \"import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); [print(*row, sep='  ') for row in db.execute('SELECT seq, message_id, event, consent_id, key_index, length(body) FROM deliveries ORDER BY seq')]\" \$TMP/journal.sqlite | sed 's/^/  /'"

  echo
  echo "The journal consumer acts on each kept delivery exactly once (its cursor is in the journal):"
  show 0 "$shown_build/gateway/journal_consumer \$TMP/journal.sqlite | sed 's/^/  /'"
  echo "Run again, it has nothing left to do:"
  show 0 "$shown_build/gateway/journal_consumer \$TMP/journal.sqlite | wc -l"

  echo
  echo "Stopped with SIGTERM: it finishes what is in flight, commits, and exits 0:"
  kill -TERM "$gateway_pid"
  status=0
  wait "$gateway_pid" || status=$?
  gateway_pid=
  echo "exit status $status; its log (one structured line per event, never a secret):"
  sed 's/^/  /' "$work/gateway.log"
  if [ "$status" -ne 0 ]; then
    echo "main-job: FAILED: the gateway exited with $status" >&2
    exit 1
  fi
  kill -TERM "$app_pid" 2>/dev/null || true
  wait "$app_pid" 2>/dev/null || true
  app_pid=
fi

heading "2. The library: verify, parse and dispatch every sample delivery"
show 0 "$shown_build/examples/verify_samples tests/fixtures"

heading "3. The command-line tool: $shown_build/tools/fiskil-webhook"
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
