// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "storage_factory.hpp"

#include "journal.hpp"

namespace fiskil::gateway {

std::unique_ptr<storage> make_storage(const config& flags, std::string& error) {
  if (flags.storage == "sqlite") {
    journal_options options;
    options.path = flags.journal;
    options.keep = flags.keep;
    options.queue_limit = flags.journal_queue;
    return open_journal(options, error);
  }
  // A second backend is one more branch here (and its flags in config.cpp).
  error = "--nats: this build of fiskil-gateway has no NATS JetStream store";
  return nullptr;
}

}  // namespace fiskil::gateway
