// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fw::result<void> (fw::status) and fw::result<T>: success reads as success.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <string>
#include <system_error>
#include <type_traits>

namespace fw = fiskil::webhooks;

namespace {

// The provider guide's example, with its secret.
const std::string body = R"({"publish_time":"2026-11-20T09:00:00Z","message_id":"1","data":{"event":"consent.revoked"}})";

fw::signing_key key_of(std::string_view secret) { return fw::signing_key::from_base64(secret).value(); }

}  // namespace

TEST_CASE("if (fw::verify(key, forged, sig)) takes the false branch, for a key and a keyring") {
  const fw::signing_key key = key_of("c2VjcmV0LWtleS1mb3ItdGVzdHM=");
  const fw::signing_key other = key_of("b3RoZXIgc2VjcmV0");
  const std::string sig{fw::sign(key, body).view()};
  const std::string forged = body + " ";
  int taken = 0;

  if (fw::verify(key, forged, sig)) taken |= 1;
  if (fw::verify(key, body, fw::sign(other, body).view())) taken |= 2;
  if (fw::verify(key, body, "not a signature")) taken |= 4;
  CHECK(taken == 0);
  if (fw::verify(key, body, sig)) taken |= 8;
  CHECK(taken == 8);

  taken = 0;
  const fw::keyring ring{other, key};
  if (fw::verify(ring, forged, sig)) taken |= 1;
  if (fw::verify(fw::keyring{other}, body, sig)) taken |= 2;
  if (fw::verify(fw::keyring{}, body, sig)) taken |= 4;
  CHECK(taken == 0);
  if (const fw::result<std::size_t> index = fw::verify(ring, body, sig)) {
    taken |= 8;
    CHECK(*index == 1);
  }
  CHECK(taken == 8);
  CHECK(fw::verify(ring, forged, sig).error() == fw::errc::signature_mismatch);
  CHECK(fw::verify(key, forged, sig).error() == fw::error_kind::signature);
}

TEST_CASE("status: success by default, an error otherwise, bool only explicitly") {
  static_assert(std::is_same_v<fw::status, fw::result<void>>);
  static_assert(!std::is_convertible_v<fw::status, bool>);
  static_assert(std::is_constructible_v<bool, fw::status>);
  static_assert(!std::is_convertible_v<fw::status, std::error_code>);
  static_assert(std::is_same_v<decltype(fw::verify(std::declval<const fw::signing_key&>(), "", "")), fw::status>);
  static_assert(std::is_same_v<decltype(std::declval<fw::parser&>().reserve(1)), fw::status>);
  static_assert(std::is_same_v<decltype(std::declval<fw::keyring&>().add(std::declval<const fw::signing_key&>())),
                               fw::status>);
  static_assert(std::is_same_v<decltype(fw::freshness{}.validate()), fw::status>);
  static_assert(std::is_same_v<decltype(fw::freshness{}.check({}, {})), fw::status>);

  const fw::status ok{};
  CHECK(ok);
  CHECK(ok.has_value());
  CHECK_FALSE(ok.error());
  ok.value();  // does nothing on success

  const fw::status failed = fw::errc::keyring_full;
  CHECK_FALSE(failed);
  CHECK(failed.error() == fw::errc::keyring_full);
  // An empty error_code is success, so that `return ec;` bridges code
  // written against std::error_code.
  CHECK(fw::status{std::error_code{}});
  CHECK_FALSE(fw::status{std::make_error_code(std::errc::io_error)});
}

TEST_CASE("result<T>::value_or") {
  const fw::result<int> seven = 7;
  const fw::result<int> none = fw::errc::keyring_empty;
  CHECK(seven.value_or(3) == 7);
  CHECK(none.value_or(3) == 3);
  CHECK(fw::result<std::string>{std::string("held")}.value_or("fallback") == "held");
  CHECK(fw::result<std::string>{fw::errc::json_empty}.value_or("fallback") == "fallback");
  CHECK(fw::verify(fw::keyring{}, body, "").value_or(99) == 99);
}

#if defined(__cpp_exceptions)
TEST_CASE("value() on an error throws std::system_error holding the error (builds with exceptions)") {
  const fw::result<int> none = fw::errc::keyring_empty;
  bool thrown = false;
  try {
    (void)none.value();
  } catch (const std::system_error& e) {
    thrown = true;
    CHECK(e.code() == fw::errc::keyring_empty);
  }
  CHECK(thrown);
  thrown = false;
  try {
    fw::status{fw::errc::window_invalid}.value();
  } catch (const std::system_error& e) {
    thrown = true;
    CHECK(e.code() == fw::errc::window_invalid);
  }
  CHECK(thrown);
  CHECK(fw::result<int>{5}.value() == 5);
}
#endif
