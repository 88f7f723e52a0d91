// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// stream_consumer: reads the deliveries fiskil-gateway --nats published to
// JetStream, with a durable pull consumer, and acts on each with the
// library (docs/jetstream.md, "Consuming the stream"):
//
//   - fetch a batch; for each message parse the body (the gateway verified
//     it before publishing: the stream holds only authentic deliveries, the
//     signature is kept in the Fiskil-Signature header for re-verification);
//   - dispatch it with fw::dispatch to one handler per concern; consent
//     events go through a consent_tracker, because the stream's order is not
//     the consents' order (two replicas may publish out of order);
//   - acknowledge (synchronously) only after the handler succeeded. A crash
//     before the acknowledgement redelivers the message after the consumer's
//     ack wait: at-least-once. A handler that needs exactly-once keeps the
//     message_id with its own effects, atomically (or uses an idempotent
//     effect); within one process an fw::idempotency_store skips redeliveries.
//
// Usage: stream_consumer --nats URL[,URL...] [--stream FISKIL]
//          [--subject fiskil.events.>] [--durable fiskil-consumer] [--max N]
//          [--idle-exit SECONDS]
// Prints one line per event: "<stream sequence> <event> <message_id> <what>".
// Exits 0 after --max events or --idle-exit seconds without a message.
#include <fiskil/webhooks.hpp>
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace fw = fiskil::webhooks;

namespace {

struct settings {
  std::string servers = "nats://127.0.0.1:4222";
  std::string stream = "FISKIL";
  std::string subject = "fiskil.events.>";
  std::string durable = "fiskil-consumer";
  long max = -1;
  long idle_exit_s = -1;
};

bool parse_args(int argc, char** argv, settings& s) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) return false;
    const char* v = argv[++i];
    if (a == "--nats") s.servers = v;
    else if (a == "--stream") s.stream = v;
    else if (a == "--subject") s.subject = v;
    else if (a == "--durable") s.durable = v;
    else if (a == "--max") s.max = std::atol(v);
    else if (a == "--idle-exit") s.idle_exit_s = std::atol(v);
    else return false;
  }
  return true;
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = list.find(',', start);
    const std::string one = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!one.empty()) out.push_back(one);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// The application's handlers. Each returns normally on success; the message
// is acknowledged only then.
struct application {
  fw::consent_tracker consents = fw::consent_tracker::create().value();
  std::string what;  // what the handler did, printed beside the event

  bool handle(const fw::event& ev) {
    const fw::timestamp now = std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
    what = "handled";
    fw::dispatch(
        ev,
        [&](const fw::consent_event auto& e) {
          const fw::result<fw::consent_step> step = consents.observe(e, now);
          if (!step) {
            what = "refused:" + step.error().message();
            return;
          }
          switch (step->verdict) {
            case fw::consent_order::newer: what = "applied"; break;
            case fw::consent_order::duplicate: what = "duplicate"; break;
            case fw::consent_order::stale: what = "stale"; break;
            case fw::consent_order::after_revocation: what = "after_revocation"; break;
          }
        },
        [&](const fw::unknown_event&) { what = "unknown-type"; },
        [&](const auto&) { what = "handled"; });
    return true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  settings s;
  if (!parse_args(argc, argv, s)) {
    std::fprintf(stderr,
                 "usage: stream_consumer --nats URL[,URL...] [--stream NAME] [--subject SUBJECT] [--durable NAME] [--max N] "
                 "[--idle-exit SECONDS]\n");
    return 2;
  }
  const std::vector<std::string> urls = split(s.servers);
  std::vector<const char*> url_pointers;
  for (const std::string& u : urls) url_pointers.push_back(u.c_str());

  natsOptions* options = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* sub = nullptr;
  jsErrCode jerr{};
  natsStatus st = natsOptions_Create(&options);
  if (st == NATS_OK) st = natsOptions_SetServers(options, url_pointers.data(), static_cast<int>(url_pointers.size()));
  if (st == NATS_OK) st = natsOptions_SetMaxReconnect(options, -1);
  if (st == NATS_OK) st = natsConnection_Connect(&nc, options);
  if (st == NATS_OK) st = natsConnection_JetStream(&js, nc, nullptr);
  if (st == NATS_OK) {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = s.stream.c_str();
    so.Config.AckPolicy = js_AckExplicit;
    so.Config.AckWait = std::chrono::nanoseconds(std::chrono::seconds(30)).count();
    st = js_PullSubscribe(&sub, js, s.subject.c_str(), s.durable.c_str(), nullptr, &so, &jerr);
  }
  if (st != NATS_OK) {
    std::fprintf(stderr, "stream_consumer: %s (JetStream error %d)\n", natsStatus_GetText(st), static_cast<int>(jerr));
    return 1;
  }

  fw::parser parser;
  application app;
  long done = 0;
  auto last_message = std::chrono::steady_clock::now();
  int rc = 0;
  while (s.max < 0 || done < s.max) {
    natsMsgList batch{};
    const int want = s.max < 0 ? 64 : static_cast<int>(std::min<long>(64, s.max - done));
    st = natsSubscription_Fetch(&batch, sub, want, 1000, &jerr);
    if (st == NATS_TIMEOUT) {
      if (s.idle_exit_s >= 0 &&
          std::chrono::steady_clock::now() - last_message >= std::chrono::seconds(s.idle_exit_s))
        break;
      continue;
    }
    if (st != NATS_OK) {
      std::fprintf(stderr, "stream_consumer: fetch: %s\n", natsStatus_GetText(st));
      continue;  // the client reconnects by itself
    }
    last_message = std::chrono::steady_clock::now();
    for (int i = 0; i < batch.Count; ++i) {
      natsMsg* m = batch.Msgs[i];
      jsMsgMetaData* meta = nullptr;
      const unsigned long long seq =
          natsMsg_GetMetaData(&meta, m) == NATS_OK ? static_cast<unsigned long long>(meta->Sequence.Stream) : 0;
      jsMsgMetaData_Destroy(meta);
      const std::string_view body(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
      const fw::result<fw::event> ev = parser.parse(body);
      if (!ev) {
        // Not a delivery this library can read: never redeliver it forever.
        std::printf("%llu - - terminated:%s\n", seq, ev.error().message().c_str());
        natsMsg_Term(m, nullptr);
        continue;
      }
      if (!app.handle(*ev)) {
        natsMsg_Nak(m, nullptr);  // redelivered later
        continue;
      }
      const std::string_view id = std::visit([](const auto& e) { return e.message_id; }, *ev);
      if (natsMsg_AckSync(m, nullptr, &jerr) != NATS_OK) {
        std::fprintf(stderr, "stream_consumer: ack failed for %llu; it will be redelivered\n", seq);
        continue;
      }
      std::printf("%llu %.*s %.*s %s\n", seq, static_cast<int>(fw::event_name(*ev).size()), fw::event_name(*ev).data(),
                  static_cast<int>(id.size()), id.data(), app.what.c_str());
      std::fflush(stdout);
      ++done;
    }
    natsMsgList_Destroy(&batch);
  }
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  natsOptions_Destroy(options);
  nats_Close();
  return rc;
}
