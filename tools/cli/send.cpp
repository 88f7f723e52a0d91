// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fiskil-webhook send. One thread, one io_context: deliveries come from a
// source (body files, or generated), are signed once, and each attempt goes
// to a random URL's queue, served by that URL's keep-alive connections. A
// delivery without a 2xx waits 1 to 10 minutes (times --time-scale) on a
// timer and goes back in a queue, until --retries retries are spent.
#include "send.hpp"

#include <fiskil/webhooks.hpp>
#include <simdjson.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "args.hpp"
#include "deliveries.hpp"
#include "exit_status.hpp"
#include "http_client.hpp"
#include "input.hpp"
#include "json_text.hpp"
#include "time_text.hpp"

namespace fw = fiskil::webhooks;
namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

namespace cli {

const std::string_view send_help = R"help(fiskil-webhook send - deliver signed webhooks to an endpoint as Fiskil does

Usage:
  fiskil-webhook send URL... [--secret-file F | --secret-env VAR]
                      [FILE... | --event NAME... [--count N] [--consent ID]] [options]

Sends each body FILE (- for standard input) byte for byte, or generated
deliveries: --event NAME makes envelopes of that event type (any of the 21
documented types, or any other name, to test forward compatibility) with
publish_time now, a unique message_id (a random UUID), plausible ids, and
account_ids / payee_ids where that event carries them. Several --event are
sent in turn. Each delivery is an HTTP POST with Content-Type:
application/json and X-Fiskil-Signature. HTTPS when the URL says so.

A delivery without a 2xx answer within --timeout is retried like the
provider retries: up to --retries times, each 1 to 10 minutes (uniformly at
random, times --time-scale) after the failed attempt, same body, same
signature. A tampered delivery (--tamper) counts as done when it is refused
with a 4xx, and as failed if it is accepted with a 2xx.

What to send:
  --event NAME         generate deliveries of this event; repeat to cycle
                       through several (one of each unless --count/--duration)
  --count N            send N generated deliveries (1 to 100000000)
  --consent ID         pin the consent id (and its end user, institution,
                       accounts and payees) to play one consent's life
  --secret-file F      sign with the secret in file F
  --secret-env VAR     sign with the secret in environment variable VAR
                       (with neither: FISKIL_WEBHOOK_SECRET)

How:
  --timeout DURATION   per attempt, connecting included (default 30s)
  --retries N          retries after the first attempt (default 5, at most 100)
  --time-scale X       multiply the retry delays by X: 0.001 makes 1-10 minutes
                       60-600 ms (default 1)
  --cacert F           trust the PEM certificate(s) in F for https:// URLs
                       (besides the system's)
  --concurrency N      keep-alive connections to each URL (default 1)
  --rate R             start R deliveries per second (open loop: a slow
                       receiver shows as latency, not as a lower rate);
                       without it, as fast as the connections allow
  --duration DURATION  with --event: keep generating for this long

Faults, each a probability P from 0 to 1:
  --duplicate P        send a delivery twice (same body and signature)
  --drop-response P    close the connection after sending an attempt, before
                       its answer; the delivery is then retried
  --tamper P           change one byte of the body after signing
  --reorder            shuffle deliveries within windows of --reorder-window
                       (default 10)

Output:
  --log                one JSON line per attempt on standard output
  --summary-json F     also write the summary as one JSON object to file F
                       (- for standard output, after any --log lines)
  A summary goes to standard error: counts per HTTP status, per failure, per
  "outcome" (when the answer is JSON with an "outcome" field), latency
  percentiles (from when an attempt was due, waiting for a connection
  included), and the deliveries given up on.

DURATION is a number of seconds (2.5) or NUMBER UNIT: 500ms, 30s, 5m, 1h.
Several URLs spread deliveries and their retries over them at random. Body
files are read whole, up to 16 MiB each (larger than any receiver should
accept, to test its limit). Secrets never come from the command line.

Exit status: 0 every delivery was finally answered 2xx (a tampered one:
refused with 4xx); 1 some were given up on, accepted while tampered, or the
URL cannot be resolved; 64 usage error or unusable secret; 66 a body, secret
or --cacert file missing or unreadable, or --summary-json not writable.

Examples:
  fiskil-webhook send http://localhost:8080/webhook --secret-file secret.b64 \
      --event consent.revoked
  fiskil-webhook send http://localhost:8080/webhook --secret-file secret.b64 \
      --consent 4a726862-6b39-4cd5-92c0-3d20fe96a202 --event consent.received \
      --event consent.updated --event consent.revoked --reorder --duplicate 0.3 --log
  fiskil-webhook send http://127.0.0.1:8080/webhook --secret-file secret.b64 \
      --event banking.transactions.sync.completed --concurrency 32 --rate 10000 \
      --duration 30s
)help";

namespace {

constexpr std::string_view default_secret_env = "FISKIL_WEBHOOK_SECRET";
constexpr std::size_t body_file_limit = 16u << 20;
constexpr std::size_t max_waiting = 1'000'000;  // attempts waiting for a connection, at most

void say(std::string_view message) {
  std::string line = "fiskil-webhook send: ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

int usage_error(std::string_view message) {
  std::string line = "fiskil-webhook send: " + std::string(message) +
                     "\nRun 'fiskil-webhook send --help' for usage.\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  return exit_usage;
}

// ------------------------------------------------------------ option values

std::string parse_unsigned(std::string_view text, std::uint64_t min, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return "'" + std::string(text) + "' is not a whole number from " + std::to_string(min) + " to " +
           std::to_string(max);
  }
  out = value;
  return {};
}

// parse_number reads a finite decimal number such as 0.25, 1e-3 or 2000.
bool parse_number(std::string_view text, double& out) {
  if (text.empty() || text.size() > 40) return false;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno != 0 || !std::isfinite(value)) return false;
  if (copy.find_first_not_of("0123456789.eE+-") != std::string::npos) return false;  // no "inf", "0x1p3"
  out = value;
  return true;
}

std::string parse_probability(std::string_view text, double& out) {
  if (!parse_number(text, out) || out < 0 || out > 1) {
    return "'" + std::string(text) + "' is not a probability from 0 to 1 (0.05 is 5%)";
  }
  return {};
}

// parse_send_duration reads DURATION: seconds (2.5), or a number with ms,
// s, m or h; more than zero, at most a day.
std::string parse_send_duration(std::string_view text, steady::duration& out) {
  double scale = 1;
  std::string_view number = text;
  for (const auto& [unit, factor] : {std::pair<std::string_view, double>{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}}) {
    if (text.ends_with(unit)) {
      number = text.substr(0, text.size() - unit.size());
      scale = factor;
      break;
    }
  }
  double value = 0;
  if (!parse_number(number, value) || value * scale <= 0 || value * scale > 86400) {
    return "'" + std::string(text) + "' is not a duration such as 2.5, 500ms, 30s, 5m or 1h (more than zero, at most 24h)";
  }
  out = std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(value * scale));
  if (out <= steady::duration::zero()) return "'" + std::string(text) + "' is shorter than a nanosecond";
  return {};
}

std::string general(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

double milliseconds(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// ------------------------------------------------------------ settings

struct settings {
  std::vector<http_url> urls;
  std::vector<std::string_view> files;
  std::vector<std::string> events;
  std::optional<std::uint64_t> count;
  std::optional<std::string> consent;
  std::string_view cacert;
  steady::duration timeout = std::chrono::seconds{30};
  std::uint64_t retries = 5;
  double time_scale = 1;
  std::uint64_t concurrency = 1;
  std::optional<double> rate;
  std::optional<steady::duration> duration;
  double duplicate = 0, drop_response = 0, tamper = 0;
  bool reorder = false;
  std::uint64_t reorder_window = 10;
  bool log = false;
  std::string_view summary_json;  // a path, or "-" for standard output
};

// ------------------------------------------------------------ deliveries

struct delivery {
  std::string body;  // as sent: after signing, so tampered ones differ from what was signed
  std::string signature;
  std::string message_id;  // "" for a body file whose message_id is not readable
  std::string event;
  bool duplicate = false;
  bool tampered = false;
  unsigned attempts = 0;
};
using delivery_ptr = std::shared_ptr<delivery>;

// tamper changes one letter or digit of body to another, so that the JSON
// stays valid and only the signature gives it away. A body without one gets
// a byte flipped instead.
void tamper(std::string& body, random_source& random) {
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (std::isalnum(static_cast<unsigned char>(body[i]))) candidates.push_back(i);
  }
  if (candidates.empty()) {
    if (body.empty()) {
      body = " ";
    } else {
      body[random.below(body.size())] ^= 0x01;
    }
    return;
  }
  const std::size_t at = candidates[random.below(candidates.size())];
  const char old = body[at];
  const char replacement = std::isdigit(static_cast<unsigned char>(old)) ? (old == '7' ? '3' : '7') : (old == 'x' ? 'q' : 'x');
  body[at] = replacement;
}

// read_identity fills message_id and event from a body file when it parses
// as an envelope (for the log); it need not.
void read_identity(delivery& d) {
  fw::parser parser;
  const fw::result<fw::event> ev = parser.parse(d.body);
  if (!ev) return;
  d.message_id = std::string(fw::envelope_of(*ev).message_id);
  d.event = std::string(fw::event_name(*ev));
}

// delivery_source hands out deliveries in sending order: files once each, or
// generated ones up to a count or a deadline; duplicates and reordering
// applied a window at a time.
class delivery_source {
 public:
  delivery_source(const settings& s, const fw::signing_key& key, random_source& random,
                  std::vector<std::string> file_bodies)
      : settings_(s), key_(key), random_(random), generator_(random, s.consent), file_bodies_(std::move(file_bodies)) {
    if (!file_bodies_.empty()) {
      limit_ = file_bodies_.size();
    } else if (s.count) {
      limit_ = *s.count;
    } else if (s.duration) {
      limit_ = UINT64_MAX;
    } else {
      limit_ = s.events.size();
    }
    if (s.duration && s.rate) {
      // Open loop: exactly the deliveries due within the duration, even if
      // the sender fell behind the schedule on the way.
      const double due = std::ceil(std::chrono::duration<double>(*s.duration).count() * *s.rate);
      limit_ = std::min<std::uint64_t>(limit_, static_cast<std::uint64_t>(std::max(due, 1.0)));
    }
  }

  void start(steady::time_point now) {
    if (settings_.duration && !settings_.rate) deadline_ = now + *settings_.duration;
  }

  // next returns the next delivery, or null when there are no more.
  delivery_ptr next(steady::time_point now) {
    if (window_.empty()) fill(now);
    if (window_.empty()) return nullptr;
    delivery_ptr d = std::move(window_.front());
    window_.pop_front();
    return d;
  }

  [[nodiscard]] bool exhausted() const { return window_.empty() && done_; }
  [[nodiscard]] std::uint64_t made() const { return made_; }

 private:
  void fill(steady::time_point now) {
    const std::size_t window = settings_.reorder ? settings_.reorder_window : 1;
    while (window_.size() < window && !done_) {
      if (made_ >= limit_ || (deadline_ && now >= *deadline_)) {
        done_ = true;
        break;
      }
      auto d = std::make_shared<delivery>();
      if (!file_bodies_.empty()) {
        d->body = std::move(file_bodies_[made_]);
        read_identity(*d);
      } else {
        const std::string& name = settings_.events[made_ % settings_.events.size()];
        d->body = generator_.make(name, d->message_id);
        d->event = name;
      }
      ++made_;
      d->signature = std::string(fw::sign(key_, d->body).view());
      if (settings_.tamper > 0 && random_.uniform() < settings_.tamper) {
        tamper(d->body, random_);
        d->tampered = true;
      }
      const bool twice = settings_.duplicate > 0 && random_.uniform() < settings_.duplicate;
      window_.push_back(d);
      if (twice) {
        auto copy = std::make_shared<delivery>(*d);
        copy->duplicate = true;
        window_.push_back(std::move(copy));
      }
    }
    if (settings_.reorder) {  // Fisher-Yates
      for (std::size_t i = window_.size(); i > 1; --i) std::swap(window_[i - 1], window_[random_.below(i)]);
    }
  }

  const settings& settings_;
  const fw::signing_key& key_;
  random_source& random_;
  delivery_generator generator_;
  std::vector<std::string> file_bodies_;
  std::deque<delivery_ptr> window_;
  std::uint64_t limit_ = 0, made_ = 0;
  std::optional<steady::time_point> deadline_;
  bool done_ = false;
};

// ------------------------------------------------------------ statistics

struct statistics {
  std::uint64_t deliveries = 0, duplicates = 0, tampered = 0, attempts = 0;
  std::uint64_t delivered = 0, refused_as_intended = 0, accepted_tampered = 0, given_up = 0;
  std::map<int, std::uint64_t> statuses;
  std::map<std::string, std::uint64_t> failures, outcomes;
  std::vector<double> latencies_ms;  // answered attempts
};

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

// ------------------------------------------------------------ the sender

class sender {
 public:
  sender(asio::io_context& io, const settings& s, delivery_source& source, random_source& random,
         asio::ssl::context* tls, std::vector<asio::ip::tcp::resolver::results_type> endpoints)
      : io_(io), settings_(s), source_(source), random_(random), endpoints_(std::move(endpoints)),
        emit_timer_(io), signals_(io, SIGINT, SIGTERM) {
    targets_.resize(s.urls.size());
    for (std::size_t t = 0; t < targets_.size(); ++t) {
      for (std::uint64_t c = 0; c < s.concurrency; ++c) {
        targets_[t].connections.push_back(std::make_shared<http_connection>(io, s.urls[t], endpoints_[t], tls,
                                                                          "fiskil-webhook/" FISKIL_WEBHOOKS_VERSION_STRING));
        targets_[t].idle.push_back(static_cast<std::size_t>(c));
      }
    }
  }

  void start() {
    start_time_ = steady::now();
    source_.start(start_time_);
    signals_.async_wait([this](const boost::system::error_code& error, int) {
      if (error) return;
      interrupted_ = true;
      io_.stop();
    });
    if (settings_.rate) {
      emit();
    } else {
      refill();
    }
    check_finished();
  }

  [[nodiscard]] bool interrupted() const { return interrupted_; }
  [[nodiscard]] std::uint64_t unfinished() const { return active_; }
  [[nodiscard]] steady::duration elapsed() const { return end_time_ - start_time_; }
  statistics& stats() { return stats_; }
  void mark_end() { end_time_ = steady::now(); }

 private:
  struct job {
    delivery_ptr d;
    steady::time_point due;  // for latency: when the attempt should have started
    bool timed;              // due is a schedule (--rate, or a retry's timer)
  };
  struct target {
    std::vector<std::shared_ptr<http_connection>> connections;
    std::vector<std::size_t> idle;
    std::deque<job> waiting;
  };

  // emit starts every delivery due by now under --rate, then sleeps until
  // the next one is due.
  void emit() {
    const steady::time_point now = steady::now();
    const double per_second = *settings_.rate;
    for (;;) {
      const auto due = start_time_ + std::chrono::duration_cast<steady::duration>(
                                         std::chrono::duration<double>(static_cast<double>(emitted_) / per_second));
      if (due > now) {
        // Above a few thousand a second, wake at most every 200 us and start
        // what is due by then: fewer timer wake-ups, at most 200 us late
        // (counted in the latency, which runs from the due time).
        constexpr auto quantum = std::chrono::microseconds{200};
        emit_timer_.expires_at(per_second >= 5000 ? std::max(due, now + quantum) : due);
        emit_timer_.async_wait([this](const boost::system::error_code& error) {
          if (!error) emit();
        });
        return;
      }
      if (waiting_ >= max_waiting) {  // the receiver is far behind: pause, and say so once
        if (!said_backlog_) {
          say(std::to_string(max_waiting) +
              " attempts are waiting for a connection: the schedule pauses until they drain (raise --concurrency?)");
          said_backlog_ = true;
        }
        emit_timer_.expires_after(std::chrono::milliseconds{10});
        emit_timer_.async_wait([this](const boost::system::error_code& error) {
          if (!error) emit();
        });
        return;
      }
      delivery_ptr d = source_.next(now);
      if (!d) return check_finished();
      ++emitted_;
      begin(std::move(d), due, true);
    }
  }

  // refill keeps, without --rate, enough deliveries waiting that no
  // connection idles.
  void refill() {
    if (settings_.rate) return;
    const std::size_t enough = 2 * settings_.concurrency * targets_.size();
    while (waiting_ < enough) {
      const steady::time_point now = steady::now();
      delivery_ptr d = source_.next(now);
      if (!d) return;
      begin(std::move(d), now, false);
    }
  }

  void begin(delivery_ptr d, steady::time_point due, bool timed) {
    ++active_;
    ++stats_.deliveries;
    if (d->duplicate) ++stats_.duplicates;
    if (d->tampered) ++stats_.tampered;
    enqueue({std::move(d), due, timed}, false);
  }

  void enqueue(job j, bool front) {
    const std::size_t t = targets_.size() == 1 ? 0 : static_cast<std::size_t>(random_.below(targets_.size()));
    if (front) {
      targets_[t].waiting.push_front(std::move(j));
    } else {
      targets_[t].waiting.push_back(std::move(j));
    }
    ++waiting_;
    dispatch(t);
  }

  void dispatch(std::size_t t) {
    target& tg = targets_[t];
    while (!tg.idle.empty() && !tg.waiting.empty()) {
      const std::size_t c = tg.idle.back();
      tg.idle.pop_back();
      job j = std::move(tg.waiting.front());
      tg.waiting.pop_front();
      --waiting_;
      attempt(t, c, std::move(j));
    }
  }

  void attempt(std::size_t t, std::size_t c, job j) {
    const steady::time_point started = steady::now();
    if (!j.timed) j.due = started;
    delivery& d = *j.d;
    ++d.attempts;
    ++stats_.attempts;
    const bool drop = settings_.drop_response > 0 && random_.uniform() < settings_.drop_response;
    const std::chrono::system_clock::time_point wall = std::chrono::system_clock::now();
    targets_[t].connections[c]->post(d.body, d.signature, drop, settings_.timeout,
                                     [this, t, c, j = std::move(j), wall](post_result&& result) mutable {
                                       done(t, c, std::move(j), wall, std::move(result));
                                     });
  }

  std::string outcome_of(const std::string& body) {
    if (body.empty() || body.find("\"outcome\"") == std::string::npos) return {};
    simdjson::dom::element root;
    if (json_.parse(body).get(root) != simdjson::SUCCESS) return {};
    std::string_view outcome;
    if (root["outcome"].get_string().get(outcome) != simdjson::SUCCESS) return {};
    // A receiver names its outcomes, but the summary holds a bounded number
    // of short, printable ones.
    constexpr std::size_t max_outcome = 64, max_outcomes = 100;
    std::string text(outcome.substr(0, max_outcome));
    for (char& ch : text) {
      if (static_cast<unsigned char>(ch) <= ' ' || static_cast<unsigned char>(ch) >= 0x7f) ch = '_';
    }
    if (stats_.outcomes.size() >= max_outcomes && !stats_.outcomes.contains(text)) return "(other)";
    return text;
  }

  void done(std::size_t t, std::size_t c, job j, std::chrono::system_clock::time_point wall, post_result&& result) {
    const steady::time_point now = steady::now();
    const steady::duration latency = now - j.due;
    delivery& d = *j.d;
    const bool answered = result.failure == post_failure::none;
    std::string outcome;
    if (answered) {
      ++stats_.statuses[result.status];
      stats_.latencies_ms.push_back(milliseconds(latency));
      outcome = outcome_of(result.body);
      if (!outcome.empty()) ++stats_.outcomes[outcome];
    } else {
      ++stats_.failures[std::string(post_failure_name(result.failure))];
    }
    if (settings_.log) log_attempt(t, d, wall, latency, result, outcome);

    targets_[t].idle.push_back(c);
    const bool ok = answered && result.status >= 200 && result.status < 300;
    const bool refused = answered && result.status >= 400 && result.status < 500;
    if (d.tampered && (ok || refused)) {
      ++(ok ? stats_.accepted_tampered : stats_.refused_as_intended);
      finish_delivery();
    } else if (ok) {
      ++stats_.delivered;
      finish_delivery();
    } else if (d.attempts <= settings_.retries) {
      report_retry(d, result);
      retry(std::move(j.d));
    } else {
      ++stats_.given_up;
      say("gave up on " + (d.message_id.empty() ? std::string("a delivery") : "message " + d.message_id) + " after " +
          std::to_string(d.attempts) + " attempts");
      finish_delivery();
    }
    refill();
    dispatch(t);
    check_finished();
  }

  // report_retry says on standard error why the first few attempts failed,
  // so that someone watching knows what the pause is.
  void report_retry(const delivery& d, const post_result& result) {
    constexpr std::uint64_t reported = 10;
    if (retries_reported_ > reported) return;
    if (++retries_reported_ > reported) {
      say("further failed attempts are counted in the summary (and logged with --log), not reported here");
      return;
    }
    const std::string why = result.failure == post_failure::none
                                ? "answered " + std::to_string(result.status)
                                : std::string(post_failure_name(result.failure)) +
                                      (result.error.empty() ? std::string() : " (" + result.error + ")");
    say("attempt " + std::to_string(d.attempts) + (d.message_id.empty() ? "" : " of message " + d.message_id) +
        ": " + why + "; retrying in 1 to 10 minutes" +
        (settings_.time_scale != 1 ? " times " + general(settings_.time_scale) : std::string()));
  }

  // retry waits as the provider does, 1 to 10 minutes (scaled), then puts the
  // delivery at the front of a random URL's queue.
  void retry(delivery_ptr d) {
    const double seconds = (60.0 + 540.0 * random_.uniform()) * settings_.time_scale;
    auto timer = std::make_shared<asio::steady_timer>(io_);
    timer->expires_after(std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds)));
    timer->async_wait([this, timer, d = std::move(d)](const boost::system::error_code& error) mutable {
      if (error) return;
      enqueue({std::move(d), timer->expiry(), true}, true);
    });
  }

  void finish_delivery() { --active_; }

  void check_finished() {
    if (active_ != 0 || !source_.exhausted() || finished_) return;
    finished_ = true;
    emit_timer_.cancel();
    signals_.cancel();
    for (target& tg : targets_) {
      for (const auto& connection : tg.connections) connection->close();
    }
  }

  void log_attempt(std::size_t t, const delivery& d, std::chrono::system_clock::time_point wall,
                   steady::duration latency, const post_result& result, const std::string& outcome) {
    std::string line = "{\"message_id\":";
    append_json_string(line, d.message_id);
    line += ",\"event\":";
    append_json_string(line, d.event);
    line += ",\"attempt\":" + std::to_string(d.attempts) + ",\"url\":";
    append_json_string(line, settings_.urls[t].text);
    line += ",\"time\":";
    append_json_string(line, format_rfc3339_utc(std::chrono::time_point_cast<std::chrono::nanoseconds>(wall),
                                                fraction_digits::nanoseconds));
    line += ",\"status\":";
    line += result.failure == post_failure::none ? std::to_string(result.status) : "null";
    line += ",\"error\":";
    if (result.failure == post_failure::none) {
      line += "null";
    } else {
      append_json_string(line, post_failure_name(result.failure));
    }
    line += ",\"outcome\":";
    if (outcome.empty()) {
      line += "null";
    } else {
      append_json_string(line, outcome);
    }
    line += ",\"latency_ms\":" + fixed(milliseconds(latency), 3);
    line += d.duplicate ? ",\"duplicate\":true" : ",\"duplicate\":false";
    line += d.tampered ? ",\"tampered\":true}\n" : ",\"tampered\":false}\n";
    std::fwrite(line.data(), 1, line.size(), stdout);
  }

  asio::io_context& io_;
  const settings& settings_;
  delivery_source& source_;
  random_source& random_;
  std::vector<asio::ip::tcp::resolver::results_type> endpoints_;
  std::vector<target> targets_;
  asio::steady_timer emit_timer_;
  asio::signal_set signals_;
  simdjson::dom::parser json_;
  statistics stats_;
  steady::time_point start_time_, end_time_;
  std::uint64_t emitted_ = 0, active_ = 0;
  std::size_t waiting_ = 0;
  std::uint64_t retries_reported_ = 0;
  bool finished_ = false, interrupted_ = false, said_backlog_ = false;
};

std::string summary(const settings& s, sender& run) {
  statistics& st = run.stats();
  const double seconds = std::chrono::duration<double>(run.elapsed()).count();
  std::string text = "fiskil-webhook send: " + std::to_string(st.deliveries) + " deliveries (" +
                     std::to_string(st.duplicates) + " duplicates, " + std::to_string(st.tampered) + " tampered), " +
                     std::to_string(st.attempts) + " attempts in " + fixed(seconds, 3) + " s (" +
                     fixed(seconds > 0 ? static_cast<double>(st.attempts) / seconds : 0, 1) + " attempts/s) to " +
                     std::to_string(s.urls.size()) + (s.urls.size() == 1 ? " URL\n" : " URLs\n");
  for (const auto& [status, n] : st.statuses) text += "  status " + std::to_string(status) + ": " + std::to_string(n) + "\n";
  for (const auto& [failure, n] : st.failures) text += "  no answer, " + failure + ": " + std::to_string(n) + "\n";
  for (const auto& [outcome, n] : st.outcomes) text += "  outcome " + outcome + ": " + std::to_string(n) + "\n";
  std::sort(st.latencies_ms.begin(), st.latencies_ms.end());
  if (!st.latencies_ms.empty()) {
    text += "  latency: p50 " + fixed(percentile(st.latencies_ms, 50), 3) + " ms, p99 " +
            fixed(percentile(st.latencies_ms, 99), 3) + " ms, p99.9 " + fixed(percentile(st.latencies_ms, 99.9), 3) +
            " ms, max " + fixed(st.latencies_ms.back(), 3) + " ms (" + std::to_string(st.latencies_ms.size()) +
            " answered attempts)\n";
  }
  text += "  delivered: " + std::to_string(st.delivered) + "\n";
  if (st.tampered > 0) {
    text += "  tampered and refused: " + std::to_string(st.refused_as_intended) + "\n";
    text += "  tampered but accepted: " + std::to_string(st.accepted_tampered) + "\n";
  }
  text += "  given up: " + std::to_string(st.given_up) + "\n";
  if (run.interrupted()) text += "  interrupted, unfinished: " + std::to_string(run.unfinished()) + "\n";
  return text;
}

// summary_json is the same summary as one JSON object (--summary-json), for
// scripts and benchmarks. summary() must have sorted the latencies.
std::string summary_json(const settings& s, sender& run) {
  const statistics& st = run.stats();
  const double seconds = std::chrono::duration<double>(run.elapsed()).count();
  auto counts = [](const auto& map) {
    std::string out = "{";
    for (const auto& [key, n] : map) {
      if (out.size() > 1) out += ',';
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(key)>, int>) {
        append_json_string(out, std::to_string(key));
      } else {
        append_json_string(out, key);
      }
      out += ':' + std::to_string(n);
    }
    return out + "}";
  };
  std::string out = "{\"urls\":" + std::to_string(s.urls.size()) + ",\"seconds\":" + fixed(seconds, 6) +
                    ",\"deliveries\":" + std::to_string(st.deliveries) + ",\"duplicates\":" +
                    std::to_string(st.duplicates) + ",\"tampered\":" + std::to_string(st.tampered) +
                    ",\"attempts\":" + std::to_string(st.attempts) + ",\"statuses\":" + counts(st.statuses) +
                    ",\"failures\":" + counts(st.failures) + ",\"outcomes\":" + counts(st.outcomes) +
                    ",\"latency_ms\":{\"answered\":" + std::to_string(st.latencies_ms.size());
  if (!st.latencies_ms.empty()) {
    out += ",\"p50\":" + fixed(percentile(st.latencies_ms, 50), 3) + ",\"p99\":" +
           fixed(percentile(st.latencies_ms, 99), 3) + ",\"p99.9\":" + fixed(percentile(st.latencies_ms, 99.9), 3) +
           ",\"max\":" + fixed(st.latencies_ms.back(), 3);
  }
  out += "},\"delivered\":" + std::to_string(st.delivered) + ",\"tampered_refused\":" +
         std::to_string(st.refused_as_intended) + ",\"tampered_accepted\":" + std::to_string(st.accepted_tampered) +
         ",\"given_up\":" + std::to_string(st.given_up) + ",\"interrupted\":" +
         (run.interrupted() ? "true" : "false") + ",\"unfinished\":" +
         std::to_string(run.interrupted() ? run.unfinished() : 0) + "}\n";
  return out;
}

// load_secret reads the one signing secret. Returns an exit status.
int load_secret(const scanned_args& args, std::optional<fw::signing_key>& key) {
  const std::size_t files = count_of(args, "--secret-file"), envs = count_of(args, "--secret-env");
  if (files + envs > 1) return usage_error("signs with one secret: give one --secret-file or --secret-env");
  secret_text file_text;  // wiped when it goes out of scope
  std::string_view secret;
  std::string source;
  if (files == 1) {
    const std::string_view path = last_value_of(args, "--secret-file");
    source = "--secret-file " + std::string(path);
    std::string error;
    switch (file_text.read_file(path, error)) {
      case read_status::ok: break;
      case read_status::cannot_read:
        say("cannot read secret file '" + std::string(path) + "': " + error);
        return exit_no_input;
      case read_status::too_large:
        say("secret file '" + std::string(path) + "' is larger than " + std::to_string(secret_text::max_size) +
            " bytes; a signing secret is at most 1368 base64 characters");
        return exit_usage;
    }
    secret = file_text.view();
  } else {
    const std::string name(envs == 1 ? last_value_of(args, "--secret-env") : default_secret_env);
    source = "--secret-env " + name;
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      say("environment variable " + name + " is not set; put the secret in it, or give --secret-file F");
      return exit_usage;
    }
    secret = value;
  }
  fw::result<fw::signing_key> made = fw::signing_key::from_base64(secret);
  if (!made) {
    say("the secret from " + source + " is unusable: " + made.error().message());
    return exit_usage;
  }
  key.emplace(std::move(*made));
  return exit_ok;
}

int read_settings(const scanned_args& args, settings& s) {
  for (const std::string_view positional : args.positionals) {
    if (positional.starts_with("http://") || positional.starts_with("https://")) {
      http_url url;
      if (std::string error = parse_http_url(positional, url); !error.empty()) return usage_error(error);
      s.urls.push_back(std::move(url));
    } else {
      s.files.push_back(positional);
    }
  }
  if (s.urls.empty()) return usage_error("needs the URL to send to (http://... or https://...)");
  for (const std::string_view once : {"--count", "--consent", "--cacert", "--timeout", "--retries", "--time-scale",
                                      "--concurrency", "--rate", "--duration", "--duplicate", "--drop-response",
                                      "--tamper", "--reorder-window", "--summary-json"}) {
    if (count_of(args, once) > 1) return usage_error("give " + std::string(once) + " only once");
  }
  for (const given_option& o : args.options) {
    if (o.name == "--event") {
      if (o.value.empty()) return usage_error("--event needs an event name, such as consent.revoked");
      s.events.emplace_back(o.value);
    }
  }
  std::string error;
  std::uint64_t number = 0;
  if (count_of(args, "--count")) {
    if (!(error = parse_unsigned(last_value_of(args, "--count"), 1, 100'000'000, number)).empty())
      return usage_error("--count: " + error);
    s.count = number;
  }
  if (count_of(args, "--consent")) {
    const std::string_view consent = last_value_of(args, "--consent");
    if (consent.empty()) return usage_error("--consent needs a consent id");
    s.consent = std::string(consent);
  }
  s.cacert = last_value_of(args, "--cacert");
  if (count_of(args, "--timeout")) {
    if (!(error = parse_send_duration(last_value_of(args, "--timeout"), s.timeout)).empty())
      return usage_error("--timeout: " + error);
  }
  if (count_of(args, "--retries")) {
    if (!(error = parse_unsigned(last_value_of(args, "--retries"), 0, 100, s.retries)).empty())
      return usage_error("--retries: " + error);
  }
  if (count_of(args, "--time-scale")) {
    const std::string_view text = last_value_of(args, "--time-scale");
    if (!parse_number(text, s.time_scale) || s.time_scale <= 0 || s.time_scale > 100)
      return usage_error("--time-scale: '" + std::string(text) + "' is not a number above 0, at most 100");
  }
  if (count_of(args, "--concurrency")) {
    if (!(error = parse_unsigned(last_value_of(args, "--concurrency"), 1, 10'000, s.concurrency)).empty())
      return usage_error("--concurrency: " + error);
  }
  if (count_of(args, "--rate")) {
    const std::string_view text = last_value_of(args, "--rate");
    double rate = 0;
    if (!parse_number(text, rate) || rate <= 0 || rate > 10'000'000)
      return usage_error("--rate: '" + std::string(text) + "' is not a rate above 0, at most 10000000 per second");
    s.rate = rate;
  }
  if (count_of(args, "--duration")) {
    steady::duration d{};
    if (!(error = parse_send_duration(last_value_of(args, "--duration"), d)).empty())
      return usage_error("--duration: " + error);
    s.duration = d;
  }
  for (const auto& [name, field] : {std::pair<std::string_view, double*>{"--duplicate", &s.duplicate},
                                    {"--drop-response", &s.drop_response},
                                    {"--tamper", &s.tamper}}) {
    if (count_of(args, name)) {
      if (!(error = parse_probability(last_value_of(args, name), *field)).empty())
        return usage_error(std::string(name) + ": " + error);
    }
  }
  s.reorder = count_of(args, "--reorder") > 0;
  if (count_of(args, "--reorder-window")) {
    if (!s.reorder) return usage_error("--reorder-window sets the window of --reorder; give --reorder too");
    if (!(error = parse_unsigned(last_value_of(args, "--reorder-window"), 2, 100'000, s.reorder_window)).empty())
      return usage_error("--reorder-window: " + error);
  }
  s.log = count_of(args, "--log") > 0;
  s.summary_json = last_value_of(args, "--summary-json");
  if (count_of(args, "--summary-json") && s.summary_json.empty()) return usage_error("--summary-json needs a file (- for standard output)");

  if (s.events.empty() && s.files.empty()) {
    return usage_error("nothing to send: give body FILEs (- for standard input) or --event NAME");
  }
  if (!s.events.empty() && !s.files.empty()) return usage_error("give body FILEs or --event, not both");
  if (s.events.empty()) {
    for (const std::string_view flag : {"--count", "--consent", "--duration"}) {
      if (count_of(args, flag)) return usage_error(std::string(flag) + " is for generated deliveries: give --event NAME");
    }
    if (std::count(s.files.begin(), s.files.end(), std::string_view{"-"}) > 1)
      return usage_error("standard input (-) can be read only once");
  }
  for (const std::string& name : s.events) {
    if (!is_documented_event_name(name)) {
      say("note: '" + name + "' is not one of the 21 documented event types; sending it as an undocumented one");
    }
  }
  return exit_ok;
}

}  // namespace

int run_send(std::span<char* const> argv) {
  static constexpr option_spec specs[] = {
      {"--secret-file", true}, {"--secret-env", true}, {"--event", true},         {"--count", true},
      {"--consent", true},     {"--cacert", true},     {"--timeout", true},       {"--retries", true},
      {"--time-scale", true},  {"--concurrency", true}, {"--rate", true},          {"--duration", true},
      {"--duplicate", true},   {"--drop-response", true}, {"--tamper", true},     {"--reorder", false},
      {"--reorder-window", true}, {"--log", false}, {"--summary-json", true}};
  scanned_args args;
  if (const std::string error = scan_args(argv, specs, args); !error.empty()) return usage_error(error);
  if (args.help) {
    if (std::fwrite(send_help.data(), 1, send_help.size(), stdout) != send_help.size() || std::fflush(stdout) != 0)
      return exit_no_input;
    return exit_ok;
  }
  settings s;
  if (const int status = read_settings(args, s)) return status;
  std::optional<fw::signing_key> key;
  if (const int status = load_secret(args, key)) return status;

  std::vector<std::string> bodies;
  for (const std::string_view path : s.files) {
    std::string body, error;
    switch (read_input(path, body_file_limit, body, error)) {
      case read_status::ok: break;
      case read_status::cannot_read:
        say("cannot read " + (path == "-" ? std::string("standard input") : "body file '" + std::string(path) + "'") +
            ": " + error);
        return exit_no_input;
      case read_status::too_large:
        say("body file '" + std::string(path) + "' is larger than 16 MiB, the most send reads");
        return exit_usage;
    }
    bodies.push_back(std::move(body));
  }

  std::FILE* summary_file = nullptr;
  if (!s.summary_json.empty()) {
    summary_file = s.summary_json == "-" ? stdout : std::fopen(std::string(s.summary_json).c_str(), "w");
    if (summary_file == nullptr) {
      say("cannot write --summary-json '" + std::string(s.summary_json) + "': " + std::strerror(errno));
      return exit_no_input;
    }
  }

  asio::io_context io{1};
  std::optional<asio::ssl::context> tls;
  const bool any_tls = std::any_of(s.urls.begin(), s.urls.end(), [](const http_url& u) { return u.tls; });
  if (any_tls || !s.cacert.empty()) {
    tls.emplace(asio::ssl::context::tls_client);
    boost::system::error_code error;
    tls->set_default_verify_paths(error);
    tls->set_verify_mode(asio::ssl::verify_peer, error);
    if (!s.cacert.empty()) {
      std::string ignored, read_error;
      if (read_input(s.cacert, 1u << 20, ignored, read_error) != read_status::ok) {
        say("cannot read --cacert file '" + std::string(s.cacert) + "': " +
            (read_error.empty() ? std::string("larger than 1 MiB") : read_error));
        return exit_no_input;
      }
      tls->load_verify_file(std::string(s.cacert), error);
      if (error) return usage_error("--cacert '" + std::string(s.cacert) + "' holds no usable PEM certificate");
    }
  }

  std::vector<asio::ip::tcp::resolver::results_type> endpoints;
  asio::ip::tcp::resolver resolver(io);
  for (const http_url& url : s.urls) {
    boost::system::error_code error;
    endpoints.push_back(resolver.resolve(url.host, url.port, error));
    if (error) {
      say("cannot resolve the host of " + url.text + ": " + error.message());
      return exit_not_delivered;
    }
  }

  random_source random;
  delivery_source source(s, *key, random, std::move(bodies));
  sender run(io, s, source, random, tls ? &*tls : nullptr, std::move(endpoints));
  run.start();
  io.run();
  run.mark_end();
  std::fflush(stdout);
  const std::string text = summary(s, run);
  std::fwrite(text.data(), 1, text.size(), stderr);
  if (summary_file) {
    const std::string json = summary_json(s, run);
    const bool written = std::fwrite(json.data(), 1, json.size(), summary_file) == json.size();
    if (std::fclose(summary_file) != 0 || !written) {
      say("cannot write --summary-json '" + std::string(s.summary_json) + "'");
      return exit_no_input;
    }
  }
  const statistics& st = run.stats();
  const bool all_done = !run.interrupted() && st.given_up == 0 && st.accepted_tampered == 0 &&
                        st.delivered + st.refused_as_intended == st.deliveries;
  return all_done ? exit_ok : exit_not_delivered;
}

}  // namespace cli
