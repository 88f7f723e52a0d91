// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Generated deliveries for fiskil-webhook send --event: envelopes shaped as
// Fiskil's are (field order, id formats, publish_time with milliseconds), for
// any event name, with ids from the kernel's random generator.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cli {

// random_source hands out bytes from the kernel's CSPRNG (getrandom),
// fetched a block at a time. Not thread-safe: one per thread.
class random_source {
 public:
  void fill(unsigned char* out, std::size_t size);
  std::uint64_t next_u64();
  // uniform returns a double in [0, 1).
  double uniform();
  // below returns an integer in [0, bound), bound > 0, without modulo bias.
  std::uint64_t below(std::uint64_t bound);

 private:
  std::array<unsigned char, 4096> block_{};
  std::size_t used_ = block_.size();
};

// uuid_v4 returns a random (version 4) UUID in its canonical lower-case text.
std::string uuid_v4(random_source& random);

// is_documented_event_name says whether name is one of the event types the
// library documents (fw::event's alternatives).
bool is_documented_event_name(std::string_view name);

// documented_event_names lists them in fw::event's order.
std::vector<std::string_view> documented_event_names();

// delivery_generator makes delivery bodies. Ids are fresh for every delivery,
// except with a pinned consent: then the consent id, end user, institution
// and the account and payee ids stay the same, as they do over one consent's
// life. The client id is one per generator (one client application).
class delivery_generator {
 public:
  delivery_generator(random_source& random, std::optional<std::string> consent_id);

  // make returns the body of one delivery of event name, published now, and
  // sets message_id to its (unique, UUID v4) message id. Events that carry
  // account_ids or payee_ids (per fw::with_account_ids / with_payee_ids) get
  // them; an undocumented name gets neither.
  std::string make(std::string_view name, std::string& message_id);

 private:
  struct consent_profile {
    std::string consent_id, end_user_id, institution_id;
    std::vector<std::string> account_ids, payee_ids;
  };
  consent_profile new_profile(std::optional<std::string> consent_id);
  std::string ksuid_like();

  random_source& random_;
  std::string client_id_;
  std::optional<consent_profile> pinned_;
};

}  // namespace cli
