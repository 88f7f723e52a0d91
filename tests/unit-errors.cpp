// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <memory>
#include <set>
#include <string>

namespace fw = fiskil::webhooks;

TEST_CASE("every errc has its own message and a kind") {
  std::set<std::string> messages;
  for (int value = 1; value <= static_cast<int>(fw::detail::errc_count); ++value) {
    const std::error_code ec = static_cast<fw::errc>(value);
    CAPTURE(value);
    CHECK(ec);
    CHECK(&ec.category() == &fw::error_category());
    const std::string message = ec.message();
    CHECK(message.size() > 10);
    CHECK(message == fw::error_message(static_cast<fw::errc>(value)));
    CHECK(messages.insert(message).second);  // no two codes share a message
    const std::error_condition kind = ec.default_error_condition();
    CHECK(&kind.category() == &fw::error_kind_category());
    CHECK(kind.message() != "unknown fiskil-webhooks error kind");
  }
  CHECK(messages.size() == fw::detail::errc_count);
}

TEST_CASE("messages name the field they are about") {
  CHECK(fw::error_message(fw::errc::message_id_missing).find("message_id") != std::string_view::npos);
  CHECK(fw::error_message(fw::errc::publish_time_malformed).find("publish_time") != std::string_view::npos);
  CHECK(fw::error_message(fw::errc::account_ids_element_not_string).find("account_ids") != std::string_view::npos);
  CHECK(fw::error_message(fw::errc::consent_id_duplicate).find("arrangementId") != std::string_view::npos);
  CHECK(fw::error_message(fw::errc::signature_url_safe_alphabet).find("X-Fiskil-Signature") != std::string_view::npos);
  CHECK(fw::error_message(static_cast<fw::errc>(9999)) == "unknown fiskil-webhooks error");
}

TEST_CASE("error_code integration: category, enum registration, kinds") {
  static_assert(std::is_error_code_enum_v<fw::errc>);
  static_assert(std::is_error_condition_enum_v<fw::error_kind>);
  CHECK(std::string(fw::error_category().name()) == "fiskil-webhooks");
  const std::error_code mismatch = fw::errc::signature_mismatch;
  CHECK(mismatch == fw::errc::signature_mismatch);
  CHECK(mismatch == fw::error_kind::signature);
  CHECK(mismatch != fw::error_kind::envelope);
  CHECK(std::error_code(fw::errc::data_missing) == fw::error_kind::envelope);
  CHECK(std::error_code(fw::errc::secret_padding_missing) == fw::error_kind::secret);
  CHECK(std::error_code(fw::errc::body_too_large) == fw::error_kind::limit);
  // A foreign error_code is never mistaken for one of ours.
  CHECK(std::make_error_code(std::errc::invalid_argument) != fw::error_kind::signature);
}

TEST_CASE("result holds a value or an error") {
  fw::result<int> good = 42;
  REQUIRE(good.has_value());
  CHECK(static_cast<bool>(good));
  CHECK(*good == 42);
  CHECK(good.value() == 42);
  CHECK_FALSE(good.error());

  fw::result<int> bad = fw::errc::message_id_empty;
  CHECK_FALSE(bad.has_value());
  CHECK_FALSE(static_cast<bool>(bad));
  CHECK(bad.error() == fw::errc::message_id_empty);

  bad = good;
  CHECK(bad.has_value());
  CHECK(*bad == 42);
}

TEST_CASE("result works with non-trivial and move-only types") {
  fw::result<std::string> text = std::string(100, 'x');
  fw::result<std::string> copy = text;
  CHECK(*copy == *text);
  fw::result<std::string> moved = std::move(text);
  CHECK(moved->size() == 100);
  copy = fw::result<std::string>{fw::errc::json_empty};
  CHECK(copy.error() == fw::errc::json_empty);
  copy = moved;
  CHECK(*copy == std::string(100, 'x'));

  fw::result<std::unique_ptr<int>> owned = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(owned).value();
  CHECK(*taken == 7);
  static_assert(!std::is_copy_constructible_v<fw::result<std::unique_ptr<int>>>);
  static_assert(std::is_trivially_copyable_v<fw::result<int>>);
}

TEST_CASE("result constructs its value in place") {
  const fw::result<std::string> text{std::in_place, std::size_t{3}, 'z'};
  REQUIRE(text.has_value());
  CHECK(*text == "zzz");
  CHECK_FALSE(text.error());
  // As the parser builds events: one alternative of a variant, in place.
  fw::result<fw::event> ev{std::in_place, std::in_place_index<2>};
  REQUIRE(ev.has_value());
  CHECK(std::holds_alternative<fw::consent_revoked>(*ev));
  CHECK(std::get<fw::consent_revoked>(*ev).message_id.empty());
}
