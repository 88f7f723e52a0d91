// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "journal_command.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "command_time.hpp"
#include "forward_journal.hpp"

namespace fiskil::gateway {

namespace {

constexpr const char* usage =
    "usage: fiskil-gateway journal COMMAND --journal PATH\n"
    "  status                       backlog, oldest pending age, dead letters, paused, per destination\n"
    "  list [--dead]                pending deliveries (or dead letters), one per line\n"
    "  redrive (--id ID | --all)    dead letters become pending again, with a new series of attempts\n"
    "  replay (--id ID | --since TIME) [--event NAME]\n"
    "                               send again (same webhook-id), new series of attempts; TIME is\n"
    "                               RFC 3339 (2026-12-03T07:00:00Z) or a duration ago (90m)\n"
    "  resume                       resume forwarding paused by a 410\n";

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339(std::int64_t ns) {
  const std::time_t t = static_cast<std::time_t>(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

int usage_error(const std::string& why) {
  std::fprintf(stderr, "fiskil-gateway journal: %s\n%s", why.c_str(), usage);
  return 64;
}

}  // namespace

int run_journal_command(int argc, char** argv) {
  if (argc < 2) return usage_error("which command?");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(usage, stdout);
    return 0;
  }
  std::string path, id, event, since;
  bool dead = false, all = false;
  for (int i = 2; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--dead") {
      dead = true;
      continue;
    }
    if (flag == "--all") {
      all = true;
      continue;
    }
    if (i + 1 >= argc) return usage_error(std::string(flag) + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--journal") {
      path = value;
    } else if (flag == "--id") {
      id = value;
    } else if (flag == "--event") {
      event = value;
    } else if (flag == "--since") {
      since = value;
    } else {
      return usage_error("unknown flag " + std::string(flag));
    }
  }
  if (path.empty()) return usage_error("--journal PATH is needed");
  const bool known = command == "status" || command == "list" || command == "redrive" || command == "replay" ||
                     command == "resume";
  if (!known) return usage_error("unknown command " + command);
  if (dead && command != "list") return usage_error("--dead goes with list");
  if (command == "redrive" && id.empty() == !all) return usage_error("redrive takes --id ID or --all");
  if (command == "replay" && id.empty() == since.empty()) return usage_error("replay takes --id ID or --since TIME");
  if (command != "replay" && (!since.empty() || !event.empty())) return usage_error("--since and --event go with replay");
  std::optional<std::int64_t> since_ns;
  if (!since.empty()) {
    since_ns = parse_command_time(since, now_ns());
    if (!since_ns) return usage_error("--since: expected RFC 3339 (2026-12-03T07:00:00Z) or a duration (90m)");
  }

  std::string error;
  sqlite3* db = forward_admin::connect(path, error);
  if (db == nullptr) {
    std::fprintf(stderr, "fiskil-gateway journal: %s\n", error.c_str());
    return 1;
  }
  bool ok = true;
  std::int64_t changed = 0;
  const std::int64_t now = now_ns();
  if (command == "status") {
    std::vector<forward_admin::destination_status> found;
    ok = forward_admin::status(db, now, found, error);
    if (ok && found.empty()) std::printf("no forwarding destination in this journal (run the gateway with --forward)\n");
    for (const auto& d : found)
      std::printf("destination %s\n  backlog %lld\n  oldest_pending_seconds %.3f\n  dead_letters %lld\n"
                  "  delivered %lld\n  paused %s\n  cursor %lld\n",
                  d.dest.c_str(), static_cast<long long>(d.gauges.backlog), d.gauges.oldest_pending_seconds,
                  static_cast<long long>(d.gauges.dead), static_cast<long long>(d.gauges.delivered),
                  d.gauges.paused ? "yes" : "no", static_cast<long long>(d.cursor));
  } else if (command == "list") {
    std::vector<forward_admin::listed> rows;
    ok = forward_admin::list(db, dead, rows, error);
    for (const auto& r : rows)
      std::printf("%lld\t%s\t%s\t%s\tattempts=%d\tlast_status=%d\tlast_error=%s\tnext_attempt=%s\t%s\n",
                  static_cast<long long>(r.seq), r.message_id.c_str(), r.event.c_str(), r.state.c_str(), r.attempts,
                  r.last_status, r.last_error.empty() ? "-" : r.last_error.c_str(),
                  r.state == "pending" ? rfc3339(r.next_attempt_ns).c_str() : "-", r.dest.c_str());
  } else if (command == "redrive") {
    ok = forward_admin::redrive(db, id, now, changed, error);
    if (ok) std::printf("redriven %lld dead letter(s)\n", static_cast<long long>(changed));
  } else if (command == "replay") {
    ok = forward_admin::replay(db, id, since_ns, event, now, changed, error);
    if (ok) std::printf("replaying %lld delivery(ies)\n", static_cast<long long>(changed));
  } else if (command == "resume") {
    ok = forward_admin::resume(db, changed, error);
    if (ok) std::fputs(changed > 0 ? "resumed\n" : "not paused\n", stdout);
  }
  forward_admin::disconnect(db);
  if (!ok) {
    std::fprintf(stderr, "fiskil-gateway journal %s: %s\n", command.c_str(), error.c_str());
    return 1;
  }
  if ((command == "redrive" || command == "replay") && !id.empty() && changed == 0) {
    std::fprintf(stderr, "fiskil-gateway journal %s: no such %s delivery: %s\n", command.c_str(),
                 command == "redrive" ? "dead-lettered" : "forwarded", id.c_str());
    return 1;
  }
  return 0;
}

}  // namespace fiskil::gateway
