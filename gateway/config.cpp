// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "config.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <thread>

namespace fiskil::gateway {

namespace {

bool parse_unsigned(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

// parse_size reads a byte count: a number with an optional k/K/KiB, m/M/MiB
// or g/G/GiB suffix (powers of 1024).
bool parse_size(std::string_view text, std::size_t& out) {
  std::uint64_t scale = 1;
  const auto strip = [&](std::string_view suffix, std::uint64_t s) {
    if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
      text.remove_suffix(suffix.size());
      scale = s;
      return true;
    }
    return false;
  };
  (void)(strip("KiB", 1024) || strip("MiB", 1024 * 1024) || strip("GiB", 1024ull * 1024 * 1024) ||
         strip("k", 1024) || strip("K", 1024) || strip("m", 1024 * 1024) || strip("M", 1024 * 1024) ||
         strip("g", 1024ull * 1024 * 1024) || strip("G", 1024ull * 1024 * 1024));
  std::uint64_t value = 0;
  if (!parse_unsigned(text, value) || value > (std::uint64_t{1} << 40) / scale) return false;
  out = static_cast<std::size_t>(value * scale);
  return true;
}

bool parse_listen(std::string_view text, std::string& out_host, std::uint16_t& out_port) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view host = text.substr(0, colon);
  if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::uint64_t port = 0;
  if (!parse_unsigned(text.substr(colon + 1), port) || port > 65535) return false;
  out_host = std::string(host);
  out_port = static_cast<std::uint16_t>(port);
  return true;
}

}  // namespace

bool parse_duration(const std::string& text, std::chrono::nanoseconds& out) {
  std::string_view number = text;
  std::int64_t unit_ns = 1'000'000'000;
  const auto strip = [&](std::string_view suffix, std::int64_t ns) {
    if (number.size() > suffix.size() && number.substr(number.size() - suffix.size()) == suffix) {
      number.remove_suffix(suffix.size());
      unit_ns = ns;
      return true;
    }
    return false;
  };
  (void)(strip("ms", 1'000'000) || strip("s", 1'000'000'000) || strip("m", 60'000'000'000) ||
         strip("h", 3'600'000'000'000) || strip("d", 86'400'000'000'000));
  std::uint64_t value = 0;
  if (!parse_unsigned(number, value)) return false;
  if (value > static_cast<std::uint64_t>(INT64_MAX / unit_ns)) return false;
  out = std::chrono::nanoseconds{static_cast<std::int64_t>(value) * unit_ns};
  return true;
}

const char* help_text() {
  return R"(fiskil-gateway: receive signed Fiskil webhook deliveries, keep them durably, answer.

usage: fiskil-gateway --secret-file F [--secret-file F2 ...] [options]

  --listen HOST:PORT       address to listen on (default 127.0.0.1:8080); port 0 picks
                           a free port. The first line of standard output is
                           "listening on HOST:PORT".
  --path PATH              the deliveries' route (default /webhooks/fiskil)
  --secret-file F          a file holding one base64 webhook secret; repeat for
                           rotation, newest first (secrets never on the command line)
  --allow CIDR[,CIDR...]   source addresses allowed to deliver (repeatable)
  --allow-file F           the same, read from a file ('#' comments); without --allow
                           or --allow-file every source is allowed (a warning is logged)
  --trusted-proxy CIDR[,..] take the client address from X-Forwarded-For (the last
                           hop) only on connections from these addresses
  --journal PATH           the SQLite journal (default fiskil-journal.sqlite);
                           ":memory:" keeps nothing (benchmarks only)
  --keep DURATION          prune journal rows received longer ago (default 7d; 0: never);
                           at least --max-age + --max-future-skew + 1m, and never rows
                           a registered consumer has not passed; with --nats, the
                           stream's max age, refused when shorter than that
  --nats URL[,URL...]      keep deliveries in NATS JetStream instead of the journal,
                           shared by every gateway replica (docs/jetstream.md); put
                           no credentials in it (they show in ps), use:
  --nats-creds F           a NATS .creds file (user JWT and NKey seed), mode 0600
  --nats-token-file F      a file holding the NATS token, mode 0600
  --stream NAME            the JetStream stream (default FISKIL), subjects fiskil.events.>
  --stream-replicas N      replicas of the stream and the consent bucket: 1, 3 or 5
                           (default 3 when the server's cluster has three or more
                           servers; on a lone server the gateway refuses to start
                           unless --stream-replicas 1 is given: not durable)
  --stream-storage KIND    file (default) or memory (not durable)
  --consent-bucket NAME    the key-value bucket of consent states (default fiskil-consents)
  --consent-bucket-replicas N  replicas of the consent bucket when it is created: 1, 3, 5,
                           or 0 for the stream's (default 1: on nats-server before
                           2.9.21 a replicated bucket's compare-and-set can let two
                           gateways both win; docs/jetstream.md)
  --max-age DURATION       oldest publish_time accepted (default 65m)
  --max-future-skew DURATION  furthest-ahead publish_time accepted (default 5m)
  --message-capacity N     message ids held in memory (default 65536)
  --consent-capacity N     consents held in memory (default 16384)
  --max-body-size SIZE     larger bodies are answered 413 before being read (default 1MiB)
  --max-connections N      open connections; more are answered 503 and closed (default 1024);
                           needs RLIMIT_NOFILE >= N + 64 (the soft limit is raised, or exit 64)
  --read-timeout DURATION  a request (headers and body) must arrive within this of its
                           first byte, and a new connection send one (default 10s)
  --journal-queue N        deliveries waiting for the journal writer; more get 503 (default 65536)
  --max-pending-bytes SIZE body bytes of deliveries waiting for the store (journal or
                           JetStream); one more gets 503 + Retry-After (default 64MiB; 0: none)
  --journal-busy-timeout DURATION  wait this long for another process's write lock on
                           the journal before answering 503 (default 2s)
  --journal-wal-limit SIZE the journal's WAL stays under about this: checkpoints run beside
                           the writer from a sixteenth of it, the writer runs one at it
                           (default 64MiB; at least 256KiB)
  --store-timeout DURATION a delivery the store has not kept within this is answered 503
                           and retracted (default 10s; keep it under the provider's timeout)
  --ready-pending-age DURATION  /readyz fails while a delivery has waited for the store
                           longer than this (default 3s)
  --shutdown-delay DURATION  on SIGTERM, /readyz fails for this long before the listener
                           closes (default 0s)
  --threads N              I/O threads (default: one per core)
  --tls-cert F --tls-key F serve HTTPS (TLS 1.2 and later) with this PEM certificate
                           chain and key (SIGHUP re-reads them)
  --idle-timeout DURATION  a keep-alive connection idle this long between requests is
                           closed (default 60s)
  --refusal-log-rate N     delivery_refused log lines per second per outcome; the rest are
                           counted in the next line's suppressed= (default 10)
  --admin-listen HOST:PORT serve /metrics, /healthz and /readyz on this address (plain
                           HTTP; port 0 picks one: the second line of standard output
                           is "admin listening on HOST:PORT"); --listen then serves
                           only the deliveries' path and /healthz
  --forward URL            forward each kept delivery to the application at this http(s) URL,
                           signed the Standard Webhooks way (docs/forward.md)
  --forward-secret-file F  the forwarding signing secret, whsec_<base64> or base64 (SIGHUP re-reads)
  --forward-ca-file FILE   PEM CA certificates trusted for an https --forward, besides the system's
  --forward-timeout DURATION  one attempt, connect to response (default 15s)
  --forward-concurrency N  keep-alive connections to the application (default 8)
  --forward-rate N         attempts per second at most (default: no limit)
  --forward-max-attempts N then the delivery is a dead letter (default 20)
  --forward-max-age DURATION  or once its series of attempts is this old (default 24h)
  --forward-backoff-base DURATION  the first retry's delay, doubling each time (default 1s)
  --forward-backoff-max DURATION  the longest delay between attempts (default 1h)
  --forward-poll DURATION  how often new journal rows are looked for (default 50ms)
  --log-level LEVEL        debug, info (default), warn or error: the lowest level logged
  --log-format FORMAT      logfmt (default) or json: one JSON object per line
  --empty-server           benchmark floor: answer every POST 200 without looking at it
  --config FILE            read flags from this TOML file first: keys are the flags' names
                           (listen = "127.0.0.1:8080", secret-file = ["/a", "/b"],
                           empty-server = true); flags on the command line override it
  --help                   this text

Durations: 250ms, 10s, 5m, 2h, 7d (a bare number is seconds). Sizes: bytes, or with
k/KiB, m/MiB, g/GiB. Signals: SIGHUP re-reads the --config file (secret-file, allow,
allow-file and log-level apply; other changes need a restart) and the secret and allow files;
SIGTERM/SIGINT stop accepting, finish requests in flight, commit and exit 0.
)";
}

// format_duration writes a duration as the flags take it: 7d, 2h, 71m, 10s, 250ms.
std::string format_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  const auto whole = [&](auto unit, const char* suffix) -> std::string {
    return d.count() % duration_cast<nanoseconds>(unit).count() == 0
               ? std::to_string(d.count() / duration_cast<nanoseconds>(unit).count()) + suffix
               : std::string();
  };
  if (d.count() == 0) return "0s";
  for (const auto& text : {whole(hours{24}, "d"), whole(hours{1}, "h"), whole(minutes{1}, "m"), whole(seconds{1}, "s"),
                           whole(milliseconds{1}, "ms")})
    if (!text.empty()) return text;
  return std::to_string(d.count()) + "ns";
}

std::chrono::nanoseconds keep_floor(const config& c) { return c.max_age + c.max_future_skew + std::chrono::minutes{1}; }

parse_result parse_command_line(int argc, char** argv, config& out, std::string& message) {
  const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  std::size_t failed_at = 0;
  const parse_result flags = parse_flags(args, out, message, failed_at);
  return flags == parse_result::run ? finish_config(out, message) : flags;
}

parse_result parse_flags(const std::vector<std::string>& args, config& out, std::string& message,
                         std::size_t& failed_at) {
  const std::size_t argc = args.size();
  for (std::size_t i = 0; i < argc; ++i) {
    failed_at = i;
    const std::string_view flag = args[i];
    if (flag == "--help" || flag == "-h") return parse_result::help;
    if (flag == "--empty-server") {
      out.empty_server = true;
      continue;
    }
    if (flag.substr(0, 2) != "--") {
      message = "unexpected argument '" + std::string(flag) + "'";
      return parse_result::error;
    }
    std::string value;
    std::string_view name = flag;
    if (const std::size_t eq = flag.find('='); eq != std::string_view::npos) {
      name = flag.substr(0, eq);
      value = std::string(flag.substr(eq + 1));
    } else {
      if (i + 1 >= argc) {
        message = std::string(flag) + " needs a value";
        return parse_result::error;
      }
      value = args[++i];
    }
    const auto bad = [&](std::string_view why) {
      message = std::string(name) + ": " + std::string(why) + " (got '" + value + "')";
      return parse_result::error;
    };
    std::chrono::nanoseconds duration{};
    std::uint64_t number = 0;
    if (name == "--listen") {
      if (!parse_listen(value, out.listen_host, out.listen_port)) return bad("expected HOST:PORT");
    } else if (name == "--path") {
      if (value.empty() || value.front() != '/') return bad("expected a path starting with /");
      out.path = value;
    } else if (name == "--secret-file") {
      out.secret_files.push_back(value);
    } else if (name == "--allow") {
      out.allow += (out.allow.empty() ? "" : ",") + value;
    } else if (name == "--allow-file") {
      out.allow_files.push_back(value);
    } else if (name == "--trusted-proxy") {
      out.trusted_proxy += (out.trusted_proxy.empty() ? "" : ",") + value;
    } else if (name == "--journal") {
      if (value.empty()) return bad("expected a path");
      out.journal = value;
    } else if (name == "--nats") {
      if (value.empty()) return bad("expected URL[,URL...]");
      out.storage = "nats";
      out.nats_url = value;
    } else if (name == "--nats-creds") {
      if (value.empty()) return bad("expected a .creds file");
      out.nats_creds = value;
    } else if (name == "--nats-token-file") {
      if (value.empty()) return bad("expected a file");
      out.nats_token_file = value;
    } else if (name == "--stream" || name == "--consent-bucket") {
      const bool valid = !value.empty() && value.size() <= 200 &&
                         std::all_of(value.begin(), value.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                  c == '-' || c == '_';
                         });
      if (!valid) return bad("expected letters, digits, '-' and '_'");
      (name == "--stream" ? out.stream : out.consent_bucket) = value;
    } else if (name == "--consent-bucket-replicas") {
      if (value != "0" && value != "1" && value != "3" && value != "5") return bad("expected 0, 1, 3 or 5");
      out.consent_bucket_replicas = value[0] - '0';
    } else if (name == "--stream-replicas") {
      if (value != "1" && value != "3" && value != "5") return bad("expected 1, 3 or 5");
      out.stream_replicas = value[0] - '0';
    } else if (name == "--stream-storage") {
      if (value != "file" && value != "memory") return bad("expected file or memory");
      out.stream_storage = value;
    } else if (name == "--keep" || name == "--max-age" || name == "--max-future-skew" || name == "--read-timeout") {
      if (!parse_duration(value, duration)) return bad("expected a duration such as 10s, 5m, 7d");
      if (name == "--keep") out.keep = duration;
      if (name == "--max-age") out.max_age = duration;
      if (name == "--max-future-skew") out.max_future_skew = duration;
      if (name == "--read-timeout") {
        if (duration.count() == 0) return bad("must be more than 0");
        out.read_timeout = duration;
      }
    } else if (name == "--store-timeout" || name == "--ready-pending-age" || name == "--shutdown-delay" ||
               name == "--journal-busy-timeout") {
      if (!parse_duration(value, duration)) return bad("expected a duration such as 500ms, 10s");
      if (name != "--shutdown-delay" && duration.count() == 0) return bad("must be more than 0");
      if (name == "--store-timeout") out.store_timeout = duration;
      if (name == "--ready-pending-age") out.ready_pending_age = duration;
      if (name == "--shutdown-delay") out.shutdown_delay = duration;
      if (name == "--journal-busy-timeout") out.journal_busy_timeout = duration;
    } else if (name == "--max-body-size") {
      if (!parse_size(value, out.max_body_size) || out.max_body_size == 0) return bad("expected a size such as 1MiB");
    } else if (name == "--journal-wal-limit") {
      if (!parse_size(value, out.journal_wal_limit) || out.journal_wal_limit < 256 * 1024 ||
          out.journal_wal_limit > (std::size_t{1} << 40))
        return bad("expected a size from 256KiB to 1TiB, such as 64MiB");
    } else if (name == "--max-pending-bytes") {
      if (!parse_size(value, out.max_pending_bytes)) return bad("expected a size such as 64MiB (0: no bound)");
    } else if (name == "--message-capacity" || name == "--consent-capacity" || name == "--max-connections" ||
               name == "--threads" || name == "--journal-queue") {
      if (!parse_unsigned(value, number) || number == 0 || number > (std::uint64_t{1} << 30))
        return bad("expected a whole number from 1 to 2^30");
      if (name == "--message-capacity") out.message_capacity = number;
      if (name == "--consent-capacity") out.consent_capacity = number;
      if (name == "--max-connections") out.max_connections = number;
      if (name == "--threads") out.threads = static_cast<unsigned>(number);
      if (name == "--journal-queue") out.journal_queue = number;
    } else if (name == "--tls-cert") {
      out.tls_cert = value;
    } else if (name == "--tls-key") {
      out.tls_key = value;
    } else if (name == "--idle-timeout") {
      if (!parse_duration(value, duration) || duration.count() == 0) return bad("expected a duration such as 60s");
      out.idle_timeout = duration;
    } else if (name == "--refusal-log-rate") {
      if (!parse_unsigned(value, number) || number == 0 || number > (std::uint64_t{1} << 30))
        return bad("expected a whole number from 1 to 2^30");
      out.refusal_log_rate = number;
    } else if (name == "--admin-listen") {
      if (!parse_listen(value, out.admin_host, out.admin_port)) return bad("expected HOST:PORT");
    } else if (name == "--forward") {
      // Forwarding (docs/forward.md): one block, checked in forwarder::start too.
      if (value.empty()) return bad("expected http://HOST[:PORT][/PATH]");
      out.forward.url = value;
    } else if (name == "--forward-secret-file") {
      out.forward.secret_file = value;
    } else if (name == "--forward-ca-file") {
      out.forward.ca_file = value;
    } else if (name == "--forward-timeout" || name == "--forward-max-age" || name == "--forward-backoff-base" ||
               name == "--forward-backoff-max" || name == "--forward-poll") {
      if (!parse_duration(value, duration) || duration.count() == 0) return bad("expected a duration such as 15s, 24h");
      if (name == "--forward-timeout") out.forward.timeout = duration;
      if (name == "--forward-max-age") out.forward.max_age = duration;
      if (name == "--forward-backoff-base") out.forward.backoff_base = duration;
      if (name == "--forward-backoff-max") out.forward.backoff_max = duration;
      if (name == "--forward-poll") out.forward.poll = duration;
    } else if (name == "--forward-concurrency" || name == "--forward-max-attempts" || name == "--forward-rate") {
      if (!parse_unsigned(value, number) || number == 0 || number > 100000) return bad("expected a whole number from 1 to 100000");
      if (name == "--forward-concurrency") out.forward.concurrency = number;
      if (name == "--forward-max-attempts") out.forward.max_attempts = static_cast<int>(number);
      if (name == "--forward-rate") out.forward.rate = static_cast<double>(number);
    } else if (name == "--log-level") {
      if (value != "debug" && value != "info" && value != "warn" && value != "error")
        return bad("expected debug, info, warn or error");
      out.log_level = value;
    } else if (name == "--log-format") {
      if (value != "logfmt" && value != "json") return bad("expected logfmt or json");
      out.log_format = value;
    } else {
      message = "unknown flag " + std::string(name) + " (see --help)";
      return parse_result::error;
    }
  }
  return parse_result::run;
}

parse_result finish_config(config& out, std::string& message) {
  if (out.threads == 0) out.threads = std::max(1u, std::thread::hardware_concurrency());
  if (out.secret_files.empty() && !out.empty_server) {
    message = "at least one --secret-file is needed";
    return parse_result::error;
  }
  if (out.tls_cert.empty() != out.tls_key.empty()) {
    message = "--tls-cert and --tls-key go together";
    return parse_result::error;
  }
  if (!out.empty_server && out.storage == "sqlite" && out.keep.count() > 0 && out.keep < keep_floor(out)) {
    message = "--keep " + format_duration(out.keep) + " is shorter than the receiver's retention (--max-age " +
              format_duration(out.max_age) + " + --max-future-skew " + format_duration(out.max_future_skew) +
              " + 1m margin): after a restart, a provider's retry of a pruned delivery would be accepted and acted "
              "on twice; use --keep " + format_duration(keep_floor(out)) + " or more (or 0: never prune)";
    return parse_result::error;
  }
  return parse_result::run;
}

std::vector<const std::string*> secret_paths(const config& c) {
  std::vector<const std::string*> paths;
  for (const std::string& path : c.secret_files) paths.push_back(&path);
  if (!c.forward.secret_file.empty()) paths.push_back(&c.forward.secret_file);
  if (!c.nats_creds.empty()) paths.push_back(&c.nats_creds);
  if (!c.nats_token_file.empty()) paths.push_back(&c.nats_token_file);
  return paths;
}

}  // namespace fiskil::gateway
