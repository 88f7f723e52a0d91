// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <cstddef>
#include <string_view>

namespace fiskil::webhooks::detail {

// fixed_string lets a string literal be a template argument, as in
// fw::event_for<"consent.revoked"> (the technique of ctre's fixed_string).
template <std::size_t N>
struct fixed_string {
  char chars[N];

  constexpr fixed_string(const char (&literal)[N]) noexcept {  // NOLINT: implicit on purpose
    for (std::size_t i = 0; i < N; ++i) chars[i] = literal[i];
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
};

}  // namespace fiskil::webhooks::detail
