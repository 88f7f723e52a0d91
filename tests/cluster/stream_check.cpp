// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// stream-check URLS STREAM: prints every message of the stream, read back
// through the C client, one tab-separated line each:
// sequence, subject, Nats-Msg-Id, Fiskil-Publish-Time, Fiskil-Key-Index,
// body length. The cluster suite's checks read these lines.
#include <cstdio>
#include <string>
#include <vector>

#include "stream_reader.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: stream-check URL[,URL...] STREAM\n");
    return 2;
  }
  natsOptions* o = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 10000;
  natsStatus s = natsOptions_Create(&o);
  std::vector<std::string> urls;
  std::string list = std::string(argv[1]) + ",";
  for (std::size_t at = list.find(','); at != std::string::npos; at = list.find(',')) {
    if (at != 0) urls.push_back(list.substr(0, at));
    list.erase(0, at + 1);
  }
  std::vector<const char*> pointers;
  for (const std::string& u : urls) pointers.push_back(u.c_str());
  if (s == NATS_OK) s = natsOptions_SetServers(o, pointers.data(), static_cast<int>(pointers.size()));
  if (s == NATS_OK) s = natsConnection_Connect(&nc, o);
  if (s == NATS_OK) s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) {
    std::fprintf(stderr, "stream-check: %s\n", natsStatus_GetText(s));
    return 1;
  }
  std::vector<fiskil::cluster_test::stream_message> messages;
  std::string error;
  int rc = 0;
  if (!fiskil::cluster_test::read_stream(js, argv[2], messages, error)) {
    std::fprintf(stderr, "stream-check: %s\n", error.c_str());
    rc = 1;
  }
  for (const auto& m : messages) {
    std::printf("%llu\t%s\t%s\t%s\t%s\t%zu\n", static_cast<unsigned long long>(m.sequence), m.subject.c_str(),
                m.msg_id.c_str(), m.publish_time.c_str(), m.key_index.c_str(), m.data.size());
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  natsOptions_Destroy(o);
  nats_Close();
  return rc;
}
