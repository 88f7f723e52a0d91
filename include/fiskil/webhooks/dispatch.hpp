// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include "events.hpp"

namespace fiskil::webhooks {

// overloaded makes one overload set out of several callables (the usual
// std::visit helper), so the compiler picks the best handler per event type:
// an exact type beats a constrained `fw::banking_sync_event auto`, which
// beats a wider concept, which beats a plain `auto`.
template <class... Handlers>
struct overloaded : Handlers... {
  using Handlers::operator()...;
};
template <class... Handlers>
overloaded(Handlers...) -> overloaded<Handlers...>;

namespace detail {

template <class>
inline constexpr bool dependent_false = false;

template <class Set, class Event, class... Handlers>
inline constexpr bool ambiguous_handlers =
    !std::is_invocable_v<Set&, const Event&> && (std::is_invocable_v<Handlers&, const Event&> || ...);

}  // namespace detail

// dispatch calls the handler that best matches ev's type and returns true,
// or returns false when no handler takes that type (an event type you do not
// handle, including unknown_event without a fallback). Handlers return void,
// and are copied or moved into an overload set, as with std::visit and
// overloaded: capture state by reference. Two handlers matching one type
// equally well do not compile (they would otherwise both be skipped).
template <class... Handlers>
bool dispatch(const event& ev, Handlers&&... handlers) {
  static_assert(sizeof...(Handlers) >= 1, "fw::dispatch: pass at least one handler");
  overloaded<std::decay_t<Handlers>...> set{std::forward<Handlers>(handlers)...};
  return std::visit(
      [&set]<class Event>(const Event& e) -> bool {
        if constexpr (std::is_invocable_v<decltype(set)&, const Event&>) {
          static_assert(std::is_void_v<std::invoke_result_t<decltype(set)&, const Event&>>,
                        "fw::dispatch: handlers must return void; use fw::dispatch_exhaustive to get a value back");
          set(e);
          return true;
        } else {
          static_assert(!detail::ambiguous_handlers<decltype(set), Event, std::decay_t<Handlers>...>,
                        "fw::dispatch: two handlers match this event type equally well");
          return false;
        }
      },
      ev);
}

// dispatch_exhaustive is dispatch where every event type, unknown_event
// included, must have a handler: a missing one is a compile error naming
// fw::dispatch_exhaustive, and the compiler's notes name the event type. It
// returns what the handlers return (they must all return the same type).
template <class... Handlers>
decltype(auto) dispatch_exhaustive(const event& ev, Handlers&&... handlers) {
  static_assert(sizeof...(Handlers) >= 1, "fw::dispatch_exhaustive: pass at least one handler");
  overloaded<std::decay_t<Handlers>...> set{std::forward<Handlers>(handlers)...};
  return std::visit(
      [&set]<class Event>(const Event& e) -> decltype(auto) {
        if constexpr (std::is_invocable_v<decltype(set)&, const Event&>) {
          return set(e);
        } else {
          static_assert(detail::dependent_false<Event>,
                        "fw::dispatch_exhaustive: an event type has no handler (or two handlers match it equally well); add one for it, for its family, or an `auto const&` fallback");
        }
      },
      ev);
}

}  // namespace fiskil::webhooks
