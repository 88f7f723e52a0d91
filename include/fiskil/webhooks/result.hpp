// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <cassert>
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

// raise_error reports value() called on an error: it throws
// std::system_error(ec) in builds with exceptions, and ends the program
// through fail_fast under -fno-exceptions.
[[noreturn]] inline void raise_error(const std::error_code& ec) {
#if defined(__cpp_exceptions)
  throw std::system_error(ec);
#else
  fail_fast("result::value() called on an error", ec);
#endif
}

}  // namespace detail

// result<T> holds either a T or the std::error_code that explains why there
// is no T. It is [[nodiscard]]: ignoring a result is a compile warning (and an
// error under -Werror), because every result here is a verdict.
//
// Reading the value: `if (r) use(*r);`, `r.value()` or `r.value_or(u)`.
// operator* and operator-> require has_value() (asserted in debug builds);
// value() checks: on an error it throws std::system_error in builds with
// exceptions, and prints the error and aborts under -fno-exceptions.
// result<void>, alias fw::status, is the same without a value.
template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T>, "fw::result<T>: T must not be a reference");
  static_assert(!std::is_same_v<std::remove_cv_t<T>, std::error_code>,
                "fw::result<T>: T must not be std::error_code; use fw::status (result<void>)");

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

  // operator* and operator-> require has_value() (an assert in debug
  // builds; undefined behaviour otherwise).
  [[nodiscard]] constexpr T& operator*() & noexcept { return *get(); }
  [[nodiscard]] constexpr const T& operator*() const& noexcept { return *get(); }
  [[nodiscard]] constexpr T&& operator*() && noexcept { return std::move(*get()); }
  [[nodiscard]] constexpr T* operator->() noexcept { return get(); }
  [[nodiscard]] constexpr const T* operator->() const noexcept { return get(); }

  // value returns the held T. On an error it throws std::system_error
  // holding error() (with exceptions), or prints it and aborts (without).
  [[nodiscard]] T& value() & {
    check();
    return *std::get_if<0>(&state_);
  }
  [[nodiscard]] const T& value() const& {
    check();
    return *std::get_if<0>(&state_);
  }
  [[nodiscard]] T&& value() && {
    check();
    return std::move(*std::get_if<0>(&state_));
  }

  // value_or returns the held T, or fallback converted to T on an error.
  template <class U>
  [[nodiscard]] constexpr T value_or(U&& fallback) const& {
    return has_value() ? *std::get_if<0>(&state_) : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  [[nodiscard]] constexpr T value_or(U&& fallback) && {
    return has_value() ? std::move(*std::get_if<0>(&state_)) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  constexpr T* get() noexcept {
    assert(has_value() && "fw::result: operator* or -> on an error");
    return std::get_if<0>(&state_);
  }
  constexpr const T* get() const noexcept {
    assert(has_value() && "fw::result: operator* or -> on an error");
    return std::get_if<0>(&state_);
  }
  void check() const {
    if (!has_value()) detail::raise_error(error());
  }

  // A variant rather than a hand-made union: it is trivially copyable when T
  // is, and its conditionally trivial members work on clang 14, which lacks
  // C++20's requires-clauses on special members (P0848).
  std::variant<T, std::error_code> state_;
};

// result<void> (fw::status) is the verdict of an operation that has no
// value: success (`status{}`, `return {};`) or the std::error_code saying
// why it failed. `if (s)` is true on success; the conversion to bool is
// explicit, so `bool ok = status;` does not compile.
template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;

  // result() is success.
  result() noexcept = default;
  // result(error) is error; an empty error_code is success.
  result(std::error_code error) noexcept : error_(error) {}
  result(errc code) noexcept : error_(make_error_code(code)) {}

  [[nodiscard]] bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  // error returns why the operation failed, or an empty error_code.
  [[nodiscard]] std::error_code error() const noexcept { return error_; }
  // value does nothing on success; on an error it throws std::system_error
  // (with exceptions) or prints the error and aborts (without).
  void value() const {
    if (error_) detail::raise_error(error_);
  }

 private:
  std::error_code error_{};
};

// status is the result of an operation without a value.
using status = result<void>;

}  // namespace fiskil::webhooks
