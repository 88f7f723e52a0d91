// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "jetstream_command.hpp"

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "command_time.hpp"

#if FISKIL_GATEWAY_NATS
#include "forward_jetstream.hpp"
#include "jetstream_pending.hpp"
#include "jetstream_replay.hpp"
#endif

namespace fiskil::gateway {

namespace {

constexpr const char* usage =
    "usage: fiskil-gateway jetstream COMMAND --nats URL --forward URL [--stream NAME]\n"
    "  status                       backlog, oldest pending age, dead letters, paused, lease holder\n"
    "  list [--limit N]             deliveries not acknowledged yet (from the ack floor on), one per\n"
    "                               line, the first N (100)\n"
    "  list --dead                  dead letters, one per line\n"
    "  redrive (--id ID | --all)    dead letters are sent again, with a new series of attempts\n"
    "  replay (--id ID | --since TIME) [--event NAME]\n"
    "                               send again (same webhook-id), new series of attempts; TIME is\n"
    "                               RFC 3339 (2026-12-03T07:00:00Z) or a duration ago (90m)\n"
    "  resume                       resume forwarding paused by a 410\n";

int usage_error(const std::string& why) {
  std::fprintf(stderr, "fiskil-gateway jetstream: %s\n%s", why.c_str(), usage);
  return 64;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// command_args are a command's flags.
struct command_args {
  std::string id, event;
  std::optional<std::int64_t> since_ns;
  bool dead = false, all = false;
  std::size_t limit = 100;
};

#if FISKIL_GATEWAY_NATS
std::string header(natsMsg* m, const char* key) { return jetstream_header(m, key); }

std::string text(natsStatus s) { return natsStatus_GetText(s); }

// each_dead_letter calls f(seq, message) for every dead letter of names'
// destination, in order; false with error when the stream cannot be read.
template <class F>
bool each_dead_letter(jsCtx* js, const forward_jetstream_names& names, F&& f, std::string& error) {
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, js, names.dead_stream.c_str(), nullptr, nullptr);
  if (s == NATS_NOT_FOUND) return true;  // no dead letter yet
  if (s != NATS_OK) {
    error = "stream " + names.dead_stream + ": " + text(s);
    return false;
  }
  const std::uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  for (std::uint64_t seq = first; seq != 0 && seq <= last; ++seq) {
    natsMsg* m = nullptr;
    s = js_GetMsg(&m, js, names.dead_stream.c_str(), seq, nullptr, nullptr);
    if (s == NATS_NOT_FOUND) continue;
    if (s != NATS_OK) {
      error = "dead letter " + std::to_string(seq) + ": " + text(s);
      return false;
    }
    const bool ours = std::string_view(natsMsg_GetSubject(m)) == names.dead_subject;
    const bool ok = !ours || f(seq, m, error);
    natsMsg_Destroy(m);
    if (!ok) return false;
  }
  return true;
}

// redrive_one publishes a dead letter again on the redrive subject (with a
// new series start), then deletes it.
bool redrive_one(jsCtx* js, const forward_jetstream_names& names, std::uint64_t seq, natsMsg* dead,
                 std::string& error) {
  natsMsg* m = nullptr;
  natsStatus s = natsMsg_Create(&m, names.redrive_subject.c_str(), nullptr, natsMsg_GetData(dead),
                                natsMsg_GetDataLength(dead));
  for (const char* k : {"Fiskil-Message-Id", "Fiskil-Event", "Fiskil-Received-Time"})
    if (s == NATS_OK) s = natsMsgHeader_Set(m, k, header(dead, k).c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(m, "Fiskil-Series-Start", std::to_string(now_ns()).c_str());
  jsPubAck* pa = nullptr;
  if (s == NATS_OK) s = js_PublishMsg(&pa, js, m, nullptr, nullptr);
  if (pa) jsPubAck_Destroy(pa);
  natsMsg_Destroy(m);
  if (s == NATS_OK) s = js_DeleteMsg(js, names.dead_stream.c_str(), seq, nullptr, nullptr);
  if (s != NATS_OK) error = "redrive dead letter " + std::to_string(seq) + ": " + text(s);
  return s == NATS_OK;
}

int run(const std::string& command, const std::string& servers, const std::string& stream, const std::string& url,
        const command_args& args) {
  const std::string& id = args.id;
  const bool all = args.all;
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::string error;
  if (!forward_jetstream_connect(servers, false, opts, nc, js, error)) {
    std::fprintf(stderr, "fiskil-gateway jetstream: %s\n", error.c_str());
    return 1;
  }
  const forward_jetstream_names names(stream, url);
  bool ok = true;
  std::int64_t changed = 0;
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, js, names.bucket.c_str());
  if (s != NATS_OK) {
    ok = false;
    error = "bucket " + names.bucket + ": " + text(s) + " (has a gateway forwarded from this stream yet?)";
  } else if (command == "status") {
    std::int64_t backlog = 0;
    for (const auto& [st, consumer] : {std::pair{stream, names.consumer}, std::pair{names.dead_stream, names.redrive_consumer}}) {
      jsConsumerInfo* ci = nullptr;
      s = js_GetConsumerInfo(&ci, js, st.c_str(), consumer.c_str(), nullptr, nullptr);
      if (s != NATS_OK) {
        ok = false;
        error = "consumer " + consumer + ": " + text(s);
        break;
      }
      backlog += static_cast<std::int64_t>(ci->NumPending) + ci->NumAckPending;
      jsConsumerInfo_Destroy(ci);
    }
    std::int64_t dead = 0;
    ok = ok && each_dead_letter(js, names, [&](std::uint64_t, natsMsg*, std::string&) { return ++dead, true; }, error);
    std::string paused = "no", lease = "none";
    kvEntry* e = nullptr;
    if (kvStore_Get(&e, kv, names.paused_key.c_str()) == NATS_OK) {
      if (std::string_view(kvEntry_ValueString(e)) == "1") paused = "yes";
      kvEntry_Destroy(e);
    }
    if (kvStore_Get(&e, kv, names.lease_key.c_str()) == NATS_OK) {
      lease = kvEntry_ValueString(e);
      kvEntry_Destroy(e);
    }
    if (ok)
      std::printf("destination %s\n  consumer %s\n  backlog %lld\n  dead_letters %lld\n  paused %s\n"
                  "  lease %s\n",
                  url.c_str(), names.consumer.c_str(), static_cast<long long>(backlog), static_cast<long long>(dead),
                  paused.c_str(), lease.c_str());
  } else if (command == "list" && !args.dead) {
    bool more = false;
    ok = jetstream_pending(
        js, stream, names, args.limit,
        [&](const jetstream_pending_entry& e) {
          std::printf("%llu\t%s\t%s\t%s\tattempts=-\tlast_status=-\tlast_error=-\t%s\n",
                      static_cast<unsigned long long>(e.seq), e.message_id.c_str(), e.event.c_str(), e.state.c_str(),
                      url.c_str());
        },
        more, error);
    if (ok && more)
      std::fprintf(stderr, "fiskil-gateway jetstream list: the first %zu shown; --limit N for more\n", args.limit);
  } else if (command == "list") {
    ok = each_dead_letter(
        js, names,
        [&](std::uint64_t seq, natsMsg* m, std::string&) {
          std::printf("%llu\t%s\t%s\tdead\tattempts=%s\tlast_status=%s\tlast_error=%s\t%s\n",
                      static_cast<unsigned long long>(seq), header(m, "Fiskil-Message-Id").c_str(),
                      header(m, "Fiskil-Event").c_str(), header(m, "Fiskil-Attempts").c_str(),
                      header(m, "Fiskil-Last-Status").c_str(), header(m, "Fiskil-Last-Error").c_str(), url.c_str());
          return true;
        },
        error);
  } else if (command == "redrive") {
    ok = each_dead_letter(
        js, names,
        [&](std::uint64_t seq, natsMsg* m, std::string& why) {
          if (!all && header(m, "Fiskil-Message-Id") != id) return true;
          ++changed;
          return redrive_one(js, names, seq, m, why);
        },
        error);
    if (ok) std::printf("redriven %lld dead letter(s)\n", static_cast<long long>(changed));
  } else if (command == "replay") {
    ok = jetstream_replay(js, stream, names, {.id = id, .since_ns = args.since_ns, .event = args.event}, now_ns(),
                          changed, error);
    if (ok) std::printf("replaying %lld delivery(ies)\n", static_cast<long long>(changed));
  } else if (command == "resume") {
    kvEntry* e = nullptr;
    const bool was = kvStore_Get(&e, kv, names.paused_key.c_str()) == NATS_OK &&
                     std::string_view(kvEntry_ValueString(e)) == "1";
    if (e) kvEntry_Destroy(e);
    s = kvStore_PutString(nullptr, kv, names.paused_key.c_str(), "0");
    ok = s == NATS_OK;
    if (!ok) error = "write " + names.paused_key + ": " + text(s);
    if (ok) std::fputs(was ? "resumed\n" : "not paused\n", stdout);
  }
  if (kv) kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  natsOptions_Destroy(opts);
  if (!ok) {
    std::fprintf(stderr, "fiskil-gateway jetstream %s: %s\n", command.c_str(), error.c_str());
    return 1;
  }
  if (command == "redrive" && !all && changed == 0) {
    std::fprintf(stderr, "fiskil-gateway jetstream redrive: no such dead letter: %s\n", id.c_str());
    return 1;
  }
  if (command == "replay" && !id.empty() && changed == 0) {
    std::fprintf(stderr, "fiskil-gateway jetstream replay: no such forwarded delivery: %s\n", id.c_str());
    return 1;
  }
  return 0;
}
#endif

}  // namespace

int run_jetstream_command(int argc, char** argv) {
  if (argc < 2) return usage_error("which command?");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(usage, stdout);
    return 0;
  }
  std::string servers, stream = "FISKIL", url, since, limit;
  command_args args;
  for (int i = 2; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--dead" || flag == "--all") {
      (flag == "--dead" ? args.dead : args.all) = true;
      continue;
    }
    if (i + 1 >= argc) return usage_error(std::string(flag) + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--nats") servers = value;
    else if (flag == "--stream") stream = value;
    else if (flag == "--forward") url = value;
    else if (flag == "--id") args.id = value;
    else if (flag == "--event") args.event = value;
    else if (flag == "--since") since = value;
    else if (flag == "--limit") limit = value;
    else return usage_error("unknown flag " + std::string(flag));
  }
  if (servers.empty() || url.empty()) return usage_error("--nats URL and --forward URL are needed");
  if (command != "status" && command != "list" && command != "redrive" && command != "replay" &&
      command != "resume")
    return usage_error("unknown command " + command);
  if (args.dead && command != "list") return usage_error("--dead goes with list");
  if (!limit.empty() && (command != "list" || args.dead)) return usage_error("--limit goes with list (without --dead)");
  if (!limit.empty()) {
    unsigned long long n = 0;
    char extra = 0;
    if (std::sscanf(limit.c_str(), "%llu%c", &n, &extra) != 1 || n == 0 || limit.front() == '-')
      return usage_error("--limit: expected a count of at least 1");
    args.limit = static_cast<std::size_t>(n);
  }
  if (command == "redrive" && args.id.empty() == !args.all) return usage_error("redrive takes --id ID or --all");
  if (command == "replay" && args.id.empty() == since.empty())
    return usage_error("replay takes --id ID or --since TIME");
  if (command != "replay" && (!since.empty() || !args.event.empty()))
    return usage_error("--since and --event go with replay");
  if (!since.empty()) {
    args.since_ns = parse_command_time(since, now_ns());
    if (!args.since_ns) return usage_error("--since: expected RFC 3339 (2026-12-03T07:00:00Z) or a duration (90m)");
  }
#if FISKIL_GATEWAY_NATS
  return run(command, servers, stream, url, args);
#else
  std::fputs("fiskil-gateway jetstream: this build has no NATS JetStream support (libnats-dev was not found)\n",
             stderr);
  return 1;
#endif
}

}  // namespace fiskil::gateway
