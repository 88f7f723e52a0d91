// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fiskil-webhook: sign, verify, inspect and send Fiskil webhook deliveries
// from the command line, with the library itself (public headers only). Usage and the
// exit statuses, which scripts rely on, are in cli/help.cpp (--help).
//
// Output rules: JSON and signatures go to stdout, only on success; every
// human message goes to stderr. Nothing printed contains a secret or the MAC
// a refused body would have needed.
#include <fiskil/webhooks.hpp>

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "cli/args.hpp"
#include "cli/exit_status.hpp"
#include "cli/help.hpp"
#include "cli/input.hpp"
#include "cli/json_text.hpp"
#include "cli/send.hpp"
#include "cli/time_text.hpp"

namespace fw = fiskil::webhooks;

namespace {

constexpr std::string_view default_secret_env = "FISKIL_WEBHOOK_SECRET";

// max_secrets bounds the secrets verify takes; rotation needs two.
constexpr std::size_t max_secrets = 8;
using tool_keyring = fw::basic_keyring<max_secrets>;

// The body limit is the library's own, so that the tool accepts exactly what
// a receiver built on it accepts. The help texts and docs/cli.md state it.
constexpr std::size_t body_limit = fw::parser_options{}.max_body_size;
static_assert(body_limit == 1048576, "cli/help.cpp and docs/cli.md state the body limit as 1 MiB (1048576 bytes)");

// ---------------------------------------------------------------- messages

void say(std::string_view message) {
  std::string line = "fiskil-webhook: ";
  line += message;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

int usage_error(std::string_view command, std::string_view message) {
  std::string line = "fiskil-webhook";
  if (!command.empty()) line += ' ' + std::string(command);
  line += ": " + std::string(message) + "\nRun 'fiskil-webhook" +
          (command.empty() ? std::string() : ' ' + std::string(command)) + " --help' for usage.\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  return cli::exit_usage;
}

// write_stdout writes text and flushes, so that a full disk or a closed pipe
// is an error rather than a silent truncation under exit status 0.
int write_stdout(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    say(std::string("cannot write to standard output: ") + std::strerror(errno));
    return cli::exit_no_input;
  }
  return cli::exit_ok;
}

// ---------------------------------------------------------------- secrets

// secret_source is where one secret comes from, as given on the command line.
struct secret_source {
  bool from_file;         // otherwise from the environment
  std::string_view name;  // the file's path or the variable's name

  [[nodiscard]] std::string describe() const {
    return (from_file ? "--secret-file " : "--secret-env ") + std::string(name);
  }
};

// secret_sources lists the secrets in command-line order, which is the order
// of the keyring and so the meaning of the key index reported.
std::vector<secret_source> secret_sources(const cli::scanned_args& args) {
  std::vector<secret_source> sources;
  for (const cli::given_option& option : args.options) {
    if (option.name == "--secret-file") sources.push_back({true, option.value});
    if (option.name == "--secret-env") sources.push_back({false, option.value});
  }
  if (sources.empty()) sources.push_back({false, default_secret_env});
  return sources;
}

// load_keys decodes every secret into ring. Returns an exit status: 66 for a
// secret file that cannot be read, 64 for a secret that is absent or unusable.
int load_keys(std::span<const secret_source> sources, tool_keyring& ring) {
  for (const secret_source& source : sources) {
    cli::secret_text file_text;  // wiped when it goes out of scope
    std::string_view secret;
    if (source.from_file) {
      std::string error;
      switch (file_text.read_file(source.name, error)) {
        case cli::read_status::ok: break;
        case cli::read_status::cannot_read:
          say("cannot read secret file '" + std::string(source.name) + "': " + error);
          return cli::exit_no_input;
        case cli::read_status::too_large:
          say("secret file '" + std::string(source.name) + "' is larger than " +
              std::to_string(cli::secret_text::max_size) +
              " bytes; a signing secret is at most 1368 base64 characters");
          return cli::exit_usage;
      }
      secret = file_text.view();
    } else {
      const char* value = std::getenv(std::string(source.name).c_str());
      if (value == nullptr) {
        say("environment variable " + std::string(source.name) +
            " is not set; put the secret in it, or give --secret-file F");
        return cli::exit_usage;
      }
      secret = value;
    }
    const fw::result<fw::signing_key> key = fw::signing_key::from_base64(secret);
    if (!key) {
      say("the secret from " + source.describe() + " is unusable: " + key.error().message());
      return cli::exit_usage;
    }
    if (const fw::status added = ring.add(*key); !added) {
      say(added.error().message());
      return cli::exit_usage;
    }
  }
  return cli::exit_ok;
}

// ---------------------------------------------------------------- the body

// read_body reads FILE (or stdin) completely. Returns an exit status: 66
// when it cannot be read, 2 when it is over the library's limit.
int read_body(std::span<const std::string_view> positionals, std::string& body) {
  const std::string_view path = positionals.empty() ? std::string_view{"-"} : positionals.front();
  if (path == "-" && isatty(STDIN_FILENO) == 1) say("reading the body from standard input; end it with Ctrl-D");
  std::string error;
  switch (cli::read_input(path, body_limit, body, error)) {
    case cli::read_status::ok: return cli::exit_ok;
    case cli::read_status::cannot_read:
      say("cannot read " + (path == "-" ? std::string("standard input") : "body file '" + std::string(path) + "'") +
          ": " + error);
      return cli::exit_no_input;
    case cli::read_status::too_large: break;
  }
  say("the body is larger than " + std::to_string(body_limit) +
      " bytes (1 MiB), the most the library accepts (parser_options::max_body_size); refused");
  return cli::exit_not_envelope;
}

// ---------------------------------------------------------------- output

// matched_key says which secret authenticated a delivery.
struct matched_key {
  std::size_t index;
  const secret_source* source;
};

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += ',';
  cli::append_json_string(out, name);
  out += ':';
  cli::append_json_string(out, value);
}

void append_id_list(std::string& out, std::string_view name, const fw::id_list& ids) {
  out += ',';
  cli::append_json_string(out, name);
  out += ":[";
  bool first = true;
  for (const std::string_view id : ids) {
    if (!first) out += ',';
    first = false;
    cli::append_json_string(out, id);
  }
  out += ']';
}

// event_json renders ev as one line of JSON. Every documented event has the
// same keys (ids absent from the delivery are ""), plus account_ids or
// payee_ids for the types that carry them, so scripts can rely on them.
std::string event_json(const fw::event& ev, const matched_key* key) {
  std::string out = "{\"event\":";
  std::visit(
      [&](const auto& e) {
        using type = std::remove_cvref_t<decltype(e)>;
        constexpr bool documented = fw::documented_event<type>;
        cli::append_json_string(out, e.name);
        out += documented ? ",\"documented\":true" : ",\"documented\":false";
        append_field(out, "message_id", e.message_id);
        // Nine fraction digits: exact, and texts sort as the instants do.
        append_field(out, "publish_time",
                     cli::format_rfc3339_utc(e.publish_time, cli::fraction_digits::nanoseconds));
        append_field(out, "consent_id", e.consent_id);
        append_field(out, "end_user_id", e.end_user_id);
        append_field(out, "client_id", e.client_id);
        append_field(out, "institution_id", e.institution_id);
        // An unknown event type carries whichever lists its delivery has.
        if constexpr (fw::with_account_ids<type>) {
          if (documented || !e.account_ids.empty()) append_id_list(out, "account_ids", e.account_ids);
        }
        if constexpr (fw::with_payee_ids<type>) {
          if (documented || !e.payee_ids.empty()) append_id_list(out, "payee_ids", e.payee_ids);
        }
      },
      ev);
  if (key == nullptr) {
    out += ",\"verified\":false}\n";
    return out;
  }
  out += ",\"verified\":true,\"key\":{\"index\":" + std::to_string(key->index);
  append_field(out, key->source->from_file ? "secret_file" : "secret_env", key->source->name);
  out += "}}\n";
  return out;
}

// ---------------------------------------------------------------- age

// age_check is the verdict on --max-age.
struct age_check {
  std::chrono::nanoseconds age;  // now - publish_time; negative if published "after" now
  bool too_old;                  // age > max_age
};

// check_delivery_age decides --max-age: too old when more than max_age passed
// between publish_time and now (a publish_time after now is not too old).
// It is not fw::freshness: the tool judges age alone, for any --max-age
// (recorded deliveries may be weeks old), while fw::freshness also refuses
// the future and bounds its window to fw::max_window.
age_check check_delivery_age(fw::timestamp published, fw::timestamp now, std::chrono::nanoseconds max_age) {
  // fw::age saturates (timestamps span the whole 64-bit range of ns).
  const std::chrono::nanoseconds age = fw::age(published, now);
  return {age, age > max_age};
}

// readable_time is an instant for a message: UTC, no trailing zeros.
std::string readable_time(fw::timestamp instant) {
  return cli::format_rfc3339_utc(instant, cli::fraction_digits::significant);
}

fw::timestamp system_now() {
  return std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
}

// ---------------------------------------------------------------- commands

int check_positionals(std::string_view command, const cli::scanned_args& args) {
  if (args.positionals.size() > 1) {
    return usage_error(command, "takes one FILE (or - for standard input), not " +
                                    std::to_string(args.positionals.size()));
  }
  return cli::exit_ok;
}

int run_sign(std::span<char* const> argv) {
  static constexpr cli::option_spec specs[] = {{"--secret-file", true}, {"--secret-env", true}};
  cli::scanned_args args;
  if (const std::string error = cli::scan_args(argv, specs, args); !error.empty()) return usage_error("sign", error);
  if (args.help) return write_stdout(cli::sign_help);
  if (const int status = check_positionals("sign", args)) return status;
  const std::vector<secret_source> sources = secret_sources(args);
  if (sources.size() > 1) return usage_error("sign", "signs with one secret: give one --secret-file or --secret-env");

  tool_keyring ring;
  if (const int status = load_keys(sources, ring)) return status;
  std::string body;
  if (const int status = read_body(args.positionals, body)) return status;
  std::string line(fw::sign(ring.keys().front(), body).view());
  line += '\n';
  return write_stdout(line);
}

// explain_mismatch adds what most often makes an honest delivery fail, without
// revealing anything about the MAC it should have had.
void explain_mismatch(std::string_view body, std::string_view signature) {
  const std::string_view text = signature.substr(0, signature.find_last_not_of(" \t") + 1);
  if (text.size() == 64 && text.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos) {
    say("note: SIG looks like a hex digest (such as openssl dgst prints); X-Fiskil-Signature is base64");
  }
  if (!body.empty() && body.back() == '\n') {
    say("note: the body ends with a newline, which the signature covers too; one added by an editor or "
        "by echo makes the body differ from what was signed");
  }
}

std::string ordinal_description(std::size_t index, std::span<const secret_source> sources) {
  if (sources.size() == 1) return "the secret from " + sources.front().describe();
  return "secret " + std::to_string(index + 1) + " of " + std::to_string(sources.size()) + ", from " +
         sources[index].describe();
}

int run_verify(std::span<char* const> argv) {
  static constexpr cli::option_spec specs[] = {{"--signature", true}, {"--secret-file", true},
                                               {"--secret-env", true}, {"--max-age", true},
                                               {"--now", true}};
  cli::scanned_args args;
  if (const std::string error = cli::scan_args(argv, specs, args); !error.empty()) return usage_error("verify", error);
  if (args.help) return write_stdout(cli::verify_help);
  if (const int status = check_positionals("verify", args)) return status;
  if (cli::count_of(args, "--signature") == 0) {
    return usage_error("verify", "needs --signature SIG, the X-Fiskil-Signature header value");
  }
  for (const std::string_view once : {"--signature", "--max-age", "--now"}) {
    if (cli::count_of(args, once) > 1) return usage_error("verify", "give " + std::string(once) + " only once");
  }
  const std::string_view signature = cli::last_value_of(args, "--signature");

  std::optional<std::chrono::seconds> max_age;
  if (cli::count_of(args, "--max-age") == 1) {
    std::chrono::seconds parsed{};
    if (const std::string error = cli::parse_duration(cli::last_value_of(args, "--max-age"), parsed); !error.empty())
      return usage_error("verify", "--max-age: " + error);
    max_age = parsed;
  }
  std::optional<fw::timestamp> now;
  if (cli::count_of(args, "--now") == 1) {
    if (!max_age) return usage_error("verify", "--now sets the clock for --max-age; give --max-age too");
    const std::string_view text = cli::last_value_of(args, "--now");
    const fw::result<fw::timestamp> parsed = fw::parse_rfc3339(text);
    if (!parsed) {
      return usage_error("verify", "--now '" + std::string(text) +
                                       "' is not an RFC 3339 timestamp such as 2026-11-05T17:30:00Z or "
                                       "2026-11-06T04:30:00+11:00 (years 1678-2261)");
    }
    now = *parsed;
  }
  const std::vector<secret_source> sources = secret_sources(args);
  if (sources.size() > max_secrets) {
    return usage_error("verify", "takes at most " + std::to_string(max_secrets) + " secrets, not " +
                                     std::to_string(sources.size()));
  }

  tool_keyring ring;
  if (const int status = load_keys(sources, ring)) return status;
  std::string body;
  if (const int status = read_body(args.positionals, body)) return status;

  // verify_and_parse: the parser sees the body only once it is authentic.
  fw::parser parser;
  const fw::result<fw::verified_event> verified = parser.verify_and_parse(ring, body, signature);
  if (!verified) {
    const std::error_code error = verified.error();
    if (error == fw::error_kind::signature) {
      if (error != fw::errc::signature_mismatch) {
        say("NOT AUTHENTIC: " + error.message());  // malformed: no key was tried
        if (error == fw::errc::signature_wrong_length) explain_mismatch(body, signature);
        return cli::exit_not_authentic;
      }
      std::string tried = sources.size() == 1 ? "tried the secret from " + sources.front().describe()
                                              : "tried " + std::to_string(sources.size()) + " secrets:";
      for (std::size_t i = 0; sources.size() > 1 && i < sources.size(); ++i)
        tried += (i == 0 ? " " : ", ") + sources[i].describe();
      say("NOT AUTHENTIC: " + error.message() + " (" + tried + ")");
      explain_mismatch(body, signature);
      return cli::exit_not_authentic;
    }
    if (error == fw::error_kind::envelope) {
      say("authentic, but not a valid Fiskil envelope: " + error.message());
    } else {
      say("refused: " + error.message());
    }
    return cli::exit_not_envelope;
  }

  const fw::event* const ev = &verified->event;
  const std::size_t index = verified->key_index;
  std::string note = "authentic: signed with " + ordinal_description(index, sources);
  if (max_age) {
    const fw::timestamp published = fw::envelope_of(*ev).publish_time;
    const fw::timestamp clock = now ? *now : system_now();
    const age_check age = check_delivery_age(published, clock, *max_age);
    const bool ahead = age.age < std::chrono::nanoseconds::zero();  // publish_time after now
    const std::string age_text = cli::format_duration(ahead ? -age.age : age.age) + (ahead ? " after " : " before ") +
                                 readable_time(clock);
    if (age.too_old) {
      say("TOO OLD: authentic, but published at " + readable_time(published) + ", " + age_text +
          ": more than --max-age " + cli::format_duration(*max_age));
      return cli::exit_too_old;
    }
    note += "; published " + age_text + ", within --max-age " + cli::format_duration(*max_age);
  }
  const matched_key key{index, &sources[index]};
  const int status = write_stdout(event_json(*ev, &key));
  if (status == cli::exit_ok) say(note);
  return status;
}

int run_inspect(std::span<char* const> argv) {
  cli::scanned_args args;
  if (const std::string error = cli::scan_args(argv, {}, args); !error.empty()) return usage_error("inspect", error);
  if (args.help) return write_stdout(cli::inspect_help);
  if (const int status = check_positionals("inspect", args)) return status;
  std::string body;
  if (const int status = read_body(args.positionals, body)) return status;

  say("warning: NOT VERIFIED: inspect checks no signature, so anyone could have written this body; "
      "use verify to check it");
  fw::parser parser;
  const fw::result<fw::event> ev = parser.parse(body);
  if (!ev) {
    say("not a valid Fiskil envelope: " + ev.error().message());
    return cli::exit_not_envelope;
  }
  return write_stdout(event_json(*ev, nullptr));
}

}  // namespace

int main(int argc, char** argv) {
  const std::span<char* const> args{argv, static_cast<std::size_t>(argc > 0 ? argc : 0)};
  if (args.size() < 2) {
    // The usage lines of --help, to stderr: running the tool bare is a mistake.
    const std::string_view help = cli::tool_help;
    const std::size_t usage_start = help.find("Usage:");
    const std::size_t usage_end = help.find("\n\n", usage_start);
    std::string text(help.substr(usage_start, usage_end + 1 - usage_start));
    text += "Run 'fiskil-webhook --help' for more.\n";
    std::fwrite(text.data(), 1, text.size(), stderr);
    return cli::exit_usage;
  }
  const std::string_view command = args[1];
  const std::span<char* const> rest = args.subspan(2);
  if (command == "sign") return run_sign(rest);
  if (command == "verify") return run_verify(rest);
  if (command == "inspect") return run_inspect(rest);
  if (command == "send") return cli::run_send(rest);
  if (command == "-h" || command == "--help" || command == "help") {
    const std::string_view topic = rest.empty() ? std::string_view{} : std::string_view{rest.front()};
    if (topic.empty()) return write_stdout(cli::tool_help);
    if (topic == "sign") return write_stdout(cli::sign_help);
    if (topic == "verify") return write_stdout(cli::verify_help);
    if (topic == "inspect") return write_stdout(cli::inspect_help);
    if (topic == "send") return write_stdout(cli::send_help);
    return usage_error({}, "no help on '" + std::string(topic) + "'; the commands are sign, verify, inspect and send");
  }
  if (command == "--version") {
    return write_stdout("fiskil-webhook " FISKIL_WEBHOOKS_VERSION_STRING " (fiskil-webhooks " FISKIL_WEBHOOKS_VERSION_STRING
                        ", HMAC-SHA256 by " +
                        std::string(fw::detail::sha256::backend_name) + ")\n");
  }
  if (command.starts_with("-")) return usage_error({}, "unknown option '" + std::string(command) + "' before the command");
  return usage_error({}, "unknown command '" + std::string(command) + "'; the commands are sign, verify, inspect and send");
}
