// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "help.hpp"

namespace cli {

const std::string_view tool_help = R"help(fiskil-webhook - sign, verify, inspect and send Fiskil webhook deliveries

Usage:
  fiskil-webhook sign    [--secret-file F | --secret-env VAR] [FILE|-]
  fiskil-webhook verify  --signature SIG [--secret-file F]... [--secret-env VAR]...
                         [--max-age DURATION [--now RFC3339]] [FILE|-]
  fiskil-webhook inspect [FILE|-]
  fiskil-webhook send    URL... [--secret-file F | --secret-env VAR]
                         [FILE... | --event NAME... [--count N]] [options]
  fiskil-webhook COMMAND --help
  fiskil-webhook --version

Commands:
  sign     print the X-Fiskil-Signature value for the exact bytes of FILE
  verify   check the signature, then parse; print the event as one line of JSON
  inspect  parse WITHOUT checking any signature; print the same JSON
  send     POST signed deliveries to an endpoint as Fiskil does: retries,
           duplicates, reordering, faults, load (see send --help)

FILE is the body exactly as delivered: the signature covers every byte,
whitespace and final newline included. Without FILE, or with -, the body is
read from standard input. A body over 1048576 bytes (1 MiB, the library's
limit) is refused.

Secrets never come from the command line, where ps and shell history would
show them. --secret-file F reads one from a file, --secret-env VAR from an
environment variable; with neither, FISKIL_WEBHOOK_SECRET is read. A secret is
the base64 text the Fiskil dashboard shows; a trailing newline is fine. verify
takes several while a secret is being rotated: any of them is accepted and
the output says which one matched. Nothing printed contains a secret, or the
MAC a refused body would have needed.

verify and inspect print JSON on standard output, and only on success. Every
message goes to standard error.

Exit status:
  0   authentic and well-formed (sign: the signature was printed)
  1   not authentic: the signature matches under no secret, or is malformed;
      send: some delivery was given up on (or accepted while tampered)
  2   not a valid Fiskil envelope (verify: authentic, but the message names
      the field); also a body over 1 MiB, refused before anything else
  3   authentic and well-formed, but older than --max-age
  64  usage error: unknown option, missing or bad argument, unusable secret
  66  a body or secret file is missing or unreadable, or output cannot be written

Examples:
  fiskil-webhook sign --secret-file secret.b64 body.json
  fiskil-webhook verify --secret-file secret.b64 --signature "$SIG" body.json
  fiskil-webhook verify --secret-file new.b64 --secret-file old.b64 \
      --signature "$SIG" --max-age 15m body.json
  fiskil-webhook inspect < body.json
)help";

const std::string_view sign_help = R"help(fiskil-webhook sign - print the X-Fiskil-Signature value for a body

Usage:
  fiskil-webhook sign [--secret-file F | --secret-env VAR] [FILE|-]

Prints base64(HMAC-SHA256(key, body)), the key being the base64-decoded
secret, for the exact bytes of FILE (or of standard input): the
X-Fiskil-Signature header Fiskil sends with that body. Use it to make
fixtures, or to replay a body to your own endpoint. The body is not parsed,
so any bytes can be signed.

Options:
  --secret-file F    read the secret from file F
  --secret-env VAR   read the secret from environment variable VAR
                     (with neither: FISKIL_WEBHOOK_SECRET)
  -h, --help         show this help

Exit status: 0 signed; 2 body over 1 MiB; 64 usage error or unusable
secret; 66 FILE or F missing or unreadable.

Examples:
  fiskil-webhook sign --secret-file secret.b64 body.json
  SIG=$(fiskil-webhook sign --secret-file secret.b64 body.json)
  curl -H "X-Fiskil-Signature: $SIG" --data-binary @body.json http://localhost:8080/webhook
  export FISKIL_WEBHOOK_SECRET="$(cat secret.b64)"
  printf '%s' "$BODY" | fiskil-webhook sign
)help";

const std::string_view verify_help = R"help(fiskil-webhook verify - check a delivery's signature, then parse it

Usage:
  fiskil-webhook verify --signature SIG [--secret-file F]... [--secret-env VAR]...
                        [--max-age DURATION [--now RFC3339]] [FILE|-]

Checks that SIG, the X-Fiskil-Signature header, is the HMAC-SHA256 of the
exact bytes of FILE (or of standard input) under one of the secrets, and only
then parses the body as a Fiskil envelope. On success it prints one line:

  {"event":"consent.revoked","documented":true,"message_id":"7000000000000003",
   "publish_time":"2026-11-04T03:03:07.003000000Z","consent_id":"...",
   "end_user_id":"...","client_id":"...","institution_id":"3",
   "verified":true,"key":{"index":0,"secret_file":"secret.b64"}}

"account_ids" and "payee_ids" (arrays) are there for the events that carry
them; an id the delivery omits is "". "documented" is false for an event type
this version does not know. "key" says which secret matched: its position
among the secrets given, counting from 0, and where it came from
("secret_file" or "secret_env"). publish_time is in UTC with nine fraction
digits, so that the texts sort as the times do.

Options:
  --signature SIG      the X-Fiskil-Signature header value (required)
  --secret-file F      a secret in file F; repeat it while rotating secrets
  --secret-env VAR     a secret in environment variable VAR; repeatable
                       (with no secret option: FISKIL_WEBHOOK_SECRET);
                       8 secrets at most
  --max-age DURATION   refuse, with exit status 3, a delivery published more
                       than DURATION before now. DURATION is NUMBER UNIT pairs,
                       units d, h, m, s in that order: 90s, 10m, 1h30m, 2d
                       (more than zero, at most 365d)
  --now RFC3339        measure the age from this instant instead of the
                       system clock, e.g. 2026-11-05T17:30:00Z (needs --max-age)
  -h, --help           show this help

Exit status: 0 authentic and well-formed (and recent enough); 1 signature
does not match, or is malformed; 2 authentic but not a valid envelope, or
body over 1 MiB; 3 older than --max-age; 64 usage error or unusable secret;
66 FILE or F missing or unreadable.

Examples:
  fiskil-webhook verify --secret-file secret.b64 --signature "$SIG" body.json
  fiskil-webhook verify --secret-file new.b64 --secret-file old.b64 \
      --signature "$SIG" body.json
  fiskil-webhook verify --secret-env PROD_SECRET --signature "$SIG" \
      --max-age 15m - < body.json
  fiskil-webhook verify --signature "$SIG" body.json | jq -r .message_id
)help";

const std::string_view inspect_help = R"help(fiskil-webhook inspect - parse a delivery WITHOUT checking its signature

Usage:
  fiskil-webhook inspect [FILE|-]

Parses FILE (or standard input) as verify does and prints the same line of
JSON, with "verified":false and no "key". Nothing is authenticated, and a
warning on standard error says so: use it to look at a body whose secret you
do not have, never to decide whether to trust one.

Options:
  -h, --help   show this help

Exit status: 0 well-formed; 2 not a valid envelope (the message names the
field), or body over 1 MiB; 64 usage error; 66 FILE missing or unreadable.

Examples:
  fiskil-webhook inspect body.json
  fiskil-webhook inspect < body.json | jq .account_ids
)help";

}  // namespace cli
