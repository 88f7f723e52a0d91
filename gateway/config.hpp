// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The gateway's command line: flags, their defaults and their checks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "forward_options.hpp"

namespace fiskil::gateway {

// config is every flag of fiskil-gateway, with its default.
struct config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string path = "/webhooks/fiskil";
  std::vector<std::string> secret_files;  // newest first
  std::string allow;                      // --allow CIDR[,CIDR...] (may be repeated: joined by ',')
  std::vector<std::string> allow_files;
  std::string trusted_proxy;              // CIDR list; empty: X-Forwarded-For is ignored
  std::string journal = "fiskil-journal.sqlite";  // ":memory:" keeps nothing across restarts
  std::string storage = "sqlite";                 // which storage backend (see storage_factory.hpp)
  std::string nats_url;                           // --nats URL selects the JetStream backend
  std::string nats_creds;                         // --nats-creds: a NATS .creds file (JWT and seed)
  std::string nats_token_file;                    // --nats-token-file: a file holding the NATS token
  std::string stream = "FISKIL";                  // --stream: the JetStream stream
  int consent_bucket_replicas = 1;               // --consent-bucket-replicas (0: as the stream)
  int stream_replicas = 0;                        // --stream-replicas: of the stream and the consent bucket (0: 3 on a cluster of 3+, else refuse)
  std::string stream_storage = "file";            // --stream-storage file|memory
  std::string consent_bucket = "fiskil-consents"; // --consent-bucket: the consent states' key-value bucket
  std::chrono::nanoseconds max_age = std::chrono::minutes{65};
  std::chrono::nanoseconds max_future_skew = std::chrono::minutes{5};
  std::size_t message_capacity = std::size_t{1} << 16;
  std::size_t consent_capacity = std::size_t{1} << 14;
  std::size_t max_body_size = std::size_t{1} << 20;
  std::size_t max_connections = 1024;
  std::chrono::nanoseconds read_timeout = std::chrono::seconds{10};
  std::chrono::nanoseconds keep = std::chrono::hours{24 * 7};
  // The store deadline and readiness (docs/gateway.md, "In flight").
  std::chrono::nanoseconds store_timeout = std::chrono::seconds{10};        // --store-timeout
  std::chrono::nanoseconds ready_pending_age = std::chrono::seconds{3};     // --ready-pending-age
  std::chrono::nanoseconds shutdown_delay = std::chrono::seconds{0};        // --shutdown-delay
  std::chrono::nanoseconds journal_busy_timeout = std::chrono::seconds{2};  // --journal-busy-timeout
  std::size_t journal_queue = 65536;  // appends waiting for the writer thread
  std::size_t journal_wal_limit = std::size_t{64} << 20;  // --journal-wal-limit
  std::size_t max_pending_bytes = std::size_t{64} << 20;  // --max-pending-bytes: bodies waiting for the store
  unsigned threads = 0;               // 0: one per core
  std::string tls_cert, tls_key;
  bool empty_server = false;          // benchmark floor: answer 200 to every POST, no receiver, no journal
  // The edge (issue 20).
  std::chrono::nanoseconds idle_timeout = std::chrono::seconds{60};  // keep-alive idle between requests
  std::size_t refusal_log_rate = 10;  // delivery_refused lines per second per outcome
  std::string admin_host;             // --admin-listen HOST:PORT; empty: /metrics on --listen
  std::uint16_t admin_port = 0;
  forward_options forward;            // --forward and its flags (docs/forward.md)
  // Operations (issue 20, docs/operations.md).
  std::string config_file;            // --config FILE (config_file.hpp); empty: none
  std::string log_level = "info";     // --log-level debug|info|warn|error (SIGHUP re-reads it from --config)
  std::string log_format = "logfmt";  // --log-format logfmt|json
};

// parse_result says what parse_command_line found.
enum class parse_result { run, help, error };

// parse_command_line fills out from argv. On error, message says which flag
// and why. Secrets are never taken from the command line, only file names.
parse_result parse_command_line(int argc, char** argv, config& out, std::string& message);

// parse_flags applies args (flags and their values, no program name) to out
// in order, without the checks across flags. On error, message says which
// flag and why, and failed_at is the index in args of that flag.
parse_result parse_flags(const std::vector<std::string>& args, config& out, std::string& message,
                         std::size_t& failed_at);

// finish_config fills the defaults that depend on the machine and checks the
// flags against each other (secrets present, TLS pairs, --keep floor).
parse_result finish_config(config& out, std::string& message);

// help_text is the --help output.
const char* help_text();

// parse_duration reads "250ms", "10s", "5m", "2h", "7d" (a bare number is
// seconds). Returns false on anything else or a negative or overflowing value.
bool parse_duration(const std::string& text, std::chrono::nanoseconds& out);

// keep_floor is the shortest --keep that a restart survives: the receiver's
// retention (max_age + max_future_skew) and a minute's margin, so that warm
// start reloads every id a provider may still retry.
std::chrono::nanoseconds keep_floor(const config& c);

// secret_paths lists every secret file flag's file name (--secret-file,
// --forward-secret-file, --nats-creds, --nats-token-file), each read with
// read_secret_file. The pointers live
// as long as c.
std::vector<const std::string*> secret_paths(const config& c);

// format_duration writes a duration the way the flags take it (7d, 71m, 10s).
std::string format_duration(std::chrono::nanoseconds d);

}  // namespace fiskil::gateway
