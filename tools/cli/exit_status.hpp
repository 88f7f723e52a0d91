// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The exit statuses of fiskil-webhook. Scripts branch on them, so they are
// stable: never renumber one, only add. 64 and 66 are sysexits.h's EX_USAGE
// and EX_NOINPUT.
#pragma once

namespace cli {

enum exit_status : int {
  exit_ok = 0,             // authentic and well-formed (sign: signature printed)
  exit_not_authentic = 1,  // the signature does not match, or is malformed
  exit_not_delivered = 1,  // send: a delivery was given up on, or accepted while tampered
  exit_not_envelope = 2,   // not a valid Fiskil envelope; or a body over the size limit
  exit_too_old = 3,        // older than --max-age
  exit_usage = 64,         // bad command line, or an unusable secret
  exit_no_input = 66,      // an input file (body or secret) is missing or unreadable
};

}  // namespace cli
