// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// verify_samples DIR: verifies, parses and dispatches every signed sample
// delivery listed in DIR/manifest.tsv (name, event, signature, ...), with the
// secrets in DIR/secret.b64 and DIR/secret_rotated.b64, as a gateway would;
// then shows a tampered delivery being refused, and why.
// Exit status: 0 when every sample is accepted and the tampered one refused.
#include <fiskil/webhooks.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fw = fiskil::webhooks;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct delivery {
  std::string name;
  std::string signature;
  std::string body;
};

std::vector<delivery> load(const std::string& dir) {
  std::vector<delivery> out;
  std::istringstream manifest(read_file(dir + "/manifest.tsv"));
  std::string line;
  std::getline(manifest, line);  // header
  while (std::getline(manifest, line)) {
    std::istringstream cells(line);
    delivery d;
    std::string event;
    std::getline(cells, d.name, '\t');
    std::getline(cells, event, '\t');
    std::getline(cells, d.signature, '\t');
    d.body = read_file(dir + "/" + d.name + ".json");
    if (!d.name.empty()) out.push_back(std::move(d));
  }
  return out;
}

fw::result<fw::signing_key> key_from_file(const std::string& path) {
  return fw::signing_key::from_base64(read_file(path));
}

// What a gateway would do with each event: one handler per concern.
void handle(const fw::event& ev) {
  fw::dispatch(
      ev,
      [](const fw::consent_revoked& e) {
        std::printf("  -> stop syncing consent %.*s\n", int(e.consent_id.size()), e.consent_id.data());
      },
      [](fw::consent_event auto const& e) {
        std::printf("  -> refresh consent %.*s\n", int(e.consent_id.size()), e.consent_id.data());
      },
      [](const fw::banking_payees_sync_completed& e) {
        std::printf("  -> fetch %zu payee(s)\n", e.payee_ids.size());
      },
      [](fw::sync_event auto const& e) {
        const std::string_view what = e.name.substr(0, e.name.size() - std::string_view(".sync.completed").size());
        if constexpr (fw::with_account_ids<decltype(e)>) {
          std::printf("  -> fetch %.*s for %zu account(s)\n", int(what.size()), what.data(), e.account_ids.size());
        } else {
          std::printf("  -> fetch %.*s for end user %.*s\n", int(what.size()), what.data(),
                      int(e.end_user_id.size()), e.end_user_id.data());
        }
      },
      [](const fw::unknown_event& e) {
        std::printf("  -> not a documented event (%s); %zu bytes of data kept for later\n",
                    e.name.empty() ? "no event field" : "new type", e.data_json.size());
      });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR   (DIR holds manifest.tsv, secret.b64, secret_rotated.b64)\n", argv[0]);
    return 64;
  }
  const std::string dir = argv[1];
  const fw::result<fw::signing_key> current = key_from_file(dir + "/secret.b64");
  const fw::result<fw::signing_key> previous = key_from_file(dir + "/secret_rotated.b64");
  if (!current || !previous) {
    std::fprintf(stderr, "cannot load secrets from %s: %s\n", dir.c_str(),
                 (!current ? current.error() : previous.error()).message().c_str());
    return 66;
  }
  const fw::keyring ring{*current, *previous};  // rotation: both accepted
  const std::vector<delivery> deliveries = load(dir);
  if (deliveries.empty()) {
    std::fprintf(stderr, "no deliveries listed in %s/manifest.tsv\n", dir.c_str());
    return 66;
  }

  fw::parser parser;
  int failures = 0;
  for (const delivery& d : deliveries) {
    const fw::result<fw::verified_event> verified = parser.verify_and_parse(ring, d.body, d.signature);
    if (!verified) {
      std::printf("REFUSED  %-42s %s\n", d.name.c_str(), verified.error().message().c_str());
      ++failures;
      continue;
    }
    const fw::event& ev = verified->event;
    const fw::envelope& env = fw::envelope_of(ev);
    const std::string_view name = fw::event_name(ev);
    std::printf("ok       %-42s %-42.*s message %.*s%s\n", d.name.c_str(), int(name.size()), name.data(),
                int(env.message_id.size()), env.message_id.data(),
                verified->key_index == 1 ? "  (previous secret)" : "");
    handle(ev);
  }

  // A delivery altered in transit: one byte of the body changed.
  delivery tampered = deliveries.front();
  tampered.body[tampered.body.find("\"data\"") + 2] ^= 0x20;
  const fw::result<fw::verified_event> refused = parser.verify_and_parse(ring, tampered.body, tampered.signature);
  std::printf("\ntampered copy of %s: %s\n", tampered.name.c_str(),
              refused ? "ACCEPTED (bug!)" : refused.error().message().c_str());

  std::printf("\n%zu deliveries, %d refused; tampered copy %s\n", deliveries.size(), failures,
              refused ? "accepted" : "refused");
  return failures == 0 && !refused ? 0 : 1;
}
