// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

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
      : value_(value), has_value_(true) {}
  constexpr result(T&& value) noexcept(std::is_nothrow_move_constructible_v<T>)
      : value_(std::move(value)), has_value_(true) {}

  // result(error) holds error, which must not be empty: an empty error_code
  // means success and success carries a T.
  result(std::error_code error) noexcept : error_(error) {
    if (!error_) detail::fail_fast("result<T> constructed from an empty error_code", error_);
  }
  result(errc code) noexcept : error_(make_error_code(code)) {}

  result(const result&) requires std::is_trivially_copy_constructible_v<T> = default;
  result(const result& other) noexcept(std::is_nothrow_copy_constructible_v<T>)
    requires(!std::is_trivially_copy_constructible_v<T> && std::is_copy_constructible_v<T>)
      : has_value_(other.has_value_), error_(other.error_) {
    if (has_value_) std::construct_at(std::addressof(value_), other.value_);
  }
  result(result&&) requires std::is_trivially_move_constructible_v<T> = default;
  result(result&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
    requires(!std::is_trivially_move_constructible_v<T> && std::is_move_constructible_v<T>)
      : has_value_(other.has_value_), error_(other.error_) {
    if (has_value_) std::construct_at(std::addressof(value_), std::move(other.value_));
  }

  result& operator=(const result&) requires std::is_trivially_copy_assignable_v<T> &&
                                            std::is_trivially_destructible_v<T> = default;
  result& operator=(const result& other) noexcept(std::is_nothrow_copy_constructible_v<T>)
    requires(!(std::is_trivially_copy_assignable_v<T> && std::is_trivially_destructible_v<T>) &&
             std::is_copy_constructible_v<T>)
  {
    if (this != &other) {
      reset();
      if (other.has_value_) std::construct_at(std::addressof(value_), other.value_);
      has_value_ = other.has_value_;
      error_ = other.error_;
    }
    return *this;
  }
  result& operator=(result&&) requires std::is_trivially_move_assignable_v<T> &&
                                       std::is_trivially_destructible_v<T> = default;
  result& operator=(result&& other) noexcept(std::is_nothrow_move_constructible_v<T>)
    requires(!(std::is_trivially_move_assignable_v<T> && std::is_trivially_destructible_v<T>) &&
             std::is_move_constructible_v<T>)
  {
    if (this != &other) {
      reset();
      if (other.has_value_) std::construct_at(std::addressof(value_), std::move(other.value_));
      has_value_ = other.has_value_;
      error_ = other.error_;
    }
    return *this;
  }

  ~result() requires std::is_trivially_destructible_v<T> = default;
  ~result() requires(!std::is_trivially_destructible_v<T>) { reset(); }

  // has_value reports whether a T is held; error() is then empty.
  [[nodiscard]] constexpr bool has_value() const noexcept { return has_value_; }
  constexpr explicit operator bool() const noexcept { return has_value_; }

  // error returns why there is no value, or an empty error_code.
  [[nodiscard]] std::error_code error() const noexcept { return error_; }

  // operator* and operator-> require has_value().
  [[nodiscard]] constexpr T& operator*() & noexcept { return value_; }
  [[nodiscard]] constexpr const T& operator*() const& noexcept { return value_; }
  [[nodiscard]] constexpr T&& operator*() && noexcept { return std::move(value_); }
  [[nodiscard]] constexpr T* operator->() noexcept { return std::addressof(value_); }
  [[nodiscard]] constexpr const T* operator->() const noexcept { return std::addressof(value_); }

  // value returns the held T; called on an error it prints the error's
  // message to stderr and aborts.
  [[nodiscard]] T& value() & noexcept {
    check();
    return value_;
  }
  [[nodiscard]] const T& value() const& noexcept {
    check();
    return value_;
  }
  [[nodiscard]] T&& value() && noexcept {
    check();
    return std::move(value_);
  }

 private:
  void check() const noexcept {
    if (!has_value_) detail::fail_fast("result<T>::value() called on an error", error_);
  }
  void reset() noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      if (has_value_) std::destroy_at(std::addressof(value_));
    }
    has_value_ = false;
  }

  union {
    T value_;
  };
  bool has_value_ = false;
  std::error_code error_{};
};

}  // namespace fiskil::webhooks
