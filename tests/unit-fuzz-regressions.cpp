// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Inputs the fuzzers (fuzz/) or the sanitizer build found, each kept as a
// test of the behaviour that was wrong. The fix is in the commit named.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <string_view>

namespace fw = fiskil::webhooks;

TEST_CASE("an empty body whose data() is null is json_empty (no memcpy from null)") {
  // libFuzzer passes (nullptr, 0) for the empty input; parse copied the body
  // with memcpy(buffer, nullptr, 0), undefined behaviour that UBSan reports.
  // Fixed in "core: parser: no memcpy from a null pointer for an empty body".
  fw::parser p;
  CHECK(p.parse(std::string_view{}).error() == fw::errc::json_empty);
  const fw::signing_key key = *fw::signing_key::from_base64("c2lnbmluZy1rZXk=");
  const fw::signature header = fw::sign(key, std::string_view{});
  CHECK(header.view() == fw::sign(key, "").view());
  CHECK(p.verify_and_parse(key, std::string_view{}, header.view()).error() == fw::errc::json_empty);
  CHECK(fw::verify(key, std::string_view{}, std::string_view{}) == fw::errc::signature_missing);
}
