// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "storage_factory.hpp"

#include <algorithm>

#include "journal.hpp"
#include "log.hpp"
#if FISKIL_GATEWAY_NATS
#include "forward_client.hpp"
#include "forward_jetstream.hpp"
#include "jetstream_store.hpp"
#endif

namespace fiskil::gateway {

std::unique_ptr<storage> make_storage(const config& flags, std::string& error) {
  if (flags.storage == "sqlite") {
    journal_options options;
    options.path = flags.journal;
    options.keep = flags.keep;
    options.queue_limit = flags.journal_queue;
    options.busy_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(flags.journal_busy_timeout);
    options.wal_limit = flags.journal_wal_limit;
    return open_journal(options, error);
  }
#if FISKIL_GATEWAY_NATS
  jetstream_options options;
  options.servers = flags.nats_url;
  options.stream = flags.stream;
  options.replicas = flags.stream_replicas;
  options.consent_bucket_replicas = flags.consent_bucket_replicas;
  options.memory_storage = flags.stream_storage == "memory";
  options.consent_bucket = flags.consent_bucket;
  // The stream's duplicate window is the receiver's retention, so that every
  // retry the freshness window lets through is deduplicated cluster-wide.
  options.duplicate_window = flags.max_age + flags.max_future_skew;
  // --keep is the stream's max age: refused below the retention and a
  // minute's margin (a retry still admitted would find its message expired).
  if (flags.keep < options.duplicate_window + std::chrono::minutes{1}) {
    error = "--keep " + std::to_string(flags.keep.count() / 1000000000) +
            "s is the stream's max age with --nats and must be at least --max-age + --max-future-skew + 1m (" +
            std::to_string((options.duplicate_window + std::chrono::minutes{1}).count() / 1000000000) + "s)";
    return nullptr;
  }
  options.max_age = flags.keep;
  options.log = [](const std::string& line) { log("info", "jetstream", {{"detail", line}}); };
  return jetstream_store::open(options, error);
#else
  error = "--nats: this build of fiskil-gateway has no NATS JetStream store (libnats-dev was not found)";
  return nullptr;
#endif
}

std::unique_ptr<forwarder> start_jetstream_forwarder(const config& flags, std::string& error) {
#if FISKIL_GATEWAY_NATS
  forward_url url;
  if (!forwarder::check(flags.forward, url, error)) return nullptr;
  forward_jetstream_options options;
  options.servers = flags.nats_url;
  options.stream = flags.stream;
  options.url = flags.forward.url;
  options.timeout = flags.forward.timeout;
  options.concurrency = flags.forward.concurrency;
  std::unique_ptr<forward_source> source = make_forward_jetstream(options, error);
  if (!source) return nullptr;
  return forwarder::start(flags.forward, std::move(source), error);
#else
  (void)flags;
  error = "--nats: this build of fiskil-gateway has no NATS JetStream store (libnats-dev was not found)";
  return nullptr;
#endif
}

}  // namespace fiskil::gateway
