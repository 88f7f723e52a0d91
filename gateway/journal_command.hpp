// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// journal_command: fiskil-gateway journal status | list [--dead] |
// redrive (--id ID | --all) | replay (--id ID | --since TIME) [--event NAME] |
// resume, each with --journal PATH (docs/forward.md, "Commands"). Safe while
// the gateway runs: the journal is in WAL mode, and each command is one
// short transaction.
#pragma once

namespace fiskil::gateway {

// run_journal_command runs "journal ..." (argv[0] is "journal") and returns
// the exit status: 0, 1 on a journal error, 64 on a usage error.
int run_journal_command(int argc, char** argv);

}  // namespace fiskil::gateway
