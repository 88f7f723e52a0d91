// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "error.hpp"

namespace fiskil::webhooks {

namespace detail {

// fail_fast ends the program for a broken precondition. The library never
// throws (it builds with -fno-exceptions), so misuse that cannot be reported
// as a value stops here, loudly, instead of reading an uninitialised T.
[[noreturn]] inline void fail_fast(const char* what, const std::error_code& ec) noexcept {
  std::fprintf(stderr, "fiskil::webhooks: %s: %s\n", what,
               ec.category() == error_category()
                   ? error_message(static_cast<errc>(ec.value())).data()
                   : "an error from another category");
  std::abort();
}

}  // namespace detail

// result<T> holds either a T or the std::error_code that explains why there
// is no T. It is [[nodiscard]]: ignoring a result is a compile warning (and an
// error under -Werror), because every result here is a verdict.
//
// Reading the value: `if (r) use(*r);` or `r.value()`. operator* and
// operator-> require has_value(); value() checks and, on an error, prints the
// error's message and aborts (there are no exceptions to throw).
template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T>, "fw::result<T>: T must not be a reference");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, std::error_code>,
                "fw::result<T>: T must not be std::error_code; return the error_code itself");

 public:
  using value_type = T;

  // result(value) holds value.
  constexpr result(const T& value) noexcept(std::is_nothrow_copy_constructible_v<T>)
      : state_(std::in_place_index<0>, value) {}
  constexpr result(T&& value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : state_(std::in_place_index<0>, std::move(value)) {}

  // result(std::in_place, args...) holds a T constructed in place from
  // args, for a T that is costly to copy.
  template <class... Args>
  constexpr explicit result(std::in_place_t, Args&&... args) noexcept(std::is_nothrow_constructible_v<T, Args...>)
      : state_(std::in_place_index<0>, std::forward<Args>(args)...) {}

  // result(error) holds error, which must not be empty: an empty error_code
  // means success and success carries a T.
  result(std::error_code error) noexcept : state_(std::in_place_index<1>, error) {
    if (!error) detail::fail_fast("result<T> constructed from an empty error_code", error);
  }
  result(errc code) noexcept : state_(std::in_place_index<1>, make_error_code(code)) {}

  // has_value reports whether a T is held; error() is then empty.
  [[nodiscard]] constexpr bool has_value() const noexcept { return state_.index() == 0; }
  constexpr explicit operator bool() const noexcept { return has_value(); }

  // error returns why there is no value, or an empty error_code.
  [[nodiscard]] std::error_code error() const noexcept {
    const std::error_code* error = std::get_if<1>(&state_);
    return error != nullptr ? *error : std::error_code{};
  }

  // operator* and operator-> require has_value().
  [[nodiscard]] constexpr T& operator*() & noexcept { return *std::get_if<0>(&state_); }
  [[nodiscard]] constexpr const T& operator*() const& noexcept { return *std::get_if<0>(&state_); }
  [[nodiscard]] constexpr T&& operator*() && noexcept { return std::move(*std::get_if<0>(&state_)); }
  [[nodiscard]] constexpr T* operator->() noexcept { return std::get_if<0>(&state_); }
  [[nodiscard]] constexpr const T* operator->() const noexcept { return std::get_if<0>(&state_); }

  // value returns the held T; called on an error it prints the error's
  // message to stderr and aborts.
  [[nodiscard]] T& value() & noexcept {
    check();
    return **this;
  }
  [[nodiscard]] const T& value() const& noexcept {
    check();
    return **this;
  }
  [[nodiscard]] T&& value() && noexcept {
    check();
    return std::move(**this);
  }

 private:
  void check() const noexcept {
    if (!has_value()) detail::fail_fast("result<T>::value() called on an error", error());
  }

  // A variant rather than a hand-made union: it is trivially copyable when T
  // is, and its conditionally trivial members work on clang 14, which lacks
  // C++20's requires-clauses on special members (P0848).
  std::variant<T, std::error_code> state_;
};

}  // namespace fiskil::webhooks
