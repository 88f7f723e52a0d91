// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// jetstream_command: fiskil-gateway jetstream status | list [--dead] |
// redrive (--id ID | --all) | replay (--id ID | --since TIME) [--event
// NAME] | resume, each with --nats URL --forward URL [--stream NAME]: the
// journal commands' equivalents for forwarding from JetStream
// (docs/forward.md, "Commands"). Safe while gateways run.
#pragma once

namespace fiskil::gateway {

// run_jetstream_command runs "jetstream ..." (argv[0] is "jetstream") and
// returns the exit status: 0, 1 on a NATS error, 64 on a usage error.
int run_jetstream_command(int argc, char** argv);

}  // namespace fiskil::gateway
