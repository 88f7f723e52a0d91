// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// make_storage: the one place that chooses the durable store from the flags.
#pragma once

#include <memory>
#include <string>

#include "config.hpp"
#include "forwarder.hpp"
#include "storage.hpp"

namespace fiskil::gateway {

// make_storage opens the store the flags ask for: the SQLite journal
// (--journal, the default) or, with --nats, NATS JetStream when this build
// has it. Returns null and says why in error.
std::unique_ptr<storage> make_storage(const config& flags, std::string& error);

// start_jetstream_forwarder starts --forward from the JetStream stream
// (--nats, --stream): a durable consumer per destination
// (forward_jetstream.hpp). Returns null and says why in error.
std::unique_ptr<forwarder> start_jetstream_forwarder(const config& flags, std::string& error);

}  // namespace fiskil::gateway
