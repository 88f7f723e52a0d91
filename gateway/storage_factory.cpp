// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "storage_factory.hpp"

#include <algorithm>

#include "journal.hpp"
#include "log.hpp"
#include "secret_file.hpp"
#include "url_redaction.hpp"
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
  if (url_has_credentials(flags.nats_url))
    log("warn", "nats_url_credentials",
        {{"nats", redact_url_credentials(flags.nats_url)},
         {"detail", "credentials inside --nats URLs show up in ps and /proc; use --nats-creds or --nats-token-file"}});
  // Both files through the one secret reader: refused when others can read
  // them. The .creds file is read again by the client at each connect.
  if (!flags.nats_creds.empty()) {
    std::string text;
    if (!read_secret_file(flags.nats_creds, text, error)) {
      error = "--nats-creds " + error;
      return nullptr;
    }
    const bool empty = text.find_first_not_of(" \t\r\n") == std::string::npos;
    wipe_secret(text);
    if (empty) {
      error = "--nats-creds " + flags.nats_creds + ": empty";
      return nullptr;
    }
    options.creds_file = flags.nats_creds;
  }
  if (!flags.nats_token_file.empty()) {
    if (!read_secret_file(flags.nats_token_file, options.token, error)) {
      error = "--nats-token-file " + error;
      return nullptr;
    }
    while (!options.token.empty() && (options.token.back() == '\n' || options.token.back() == '\r' ||
                                      options.token.back() == ' ' || options.token.back() == '\t'))
      options.token.pop_back();
    if (options.token.empty()) {
      error = "--nats-token-file " + flags.nats_token_file + ": empty";
      return nullptr;
    }
  }
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
  options.log = [](const std::string& line) { log("info", "jetstream", {{"detail", redact_url_credentials(line)}}); };
  std::unique_ptr<storage> store = jetstream_store::open(options, error);
  wipe_secret(options.token);
  if (!store) error = redact_url_credentials(error);
  return store;
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
