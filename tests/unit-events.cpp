// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The typed events and the compile-time name table.
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <set>
#include <string>

namespace fw = fiskil::webhooks;

namespace {

template <std::size_t... I>
consteval bool every_name_maps_back(std::index_sequence<I...>) {
  return ((fw::detail::event_index(std::variant_alternative_t<I, fw::event>::name) == I) && ...);
}
static_assert(every_name_maps_back(std::make_index_sequence<fw::detail::documented_event_count>{}),
              "each documented alternative's name must map back to it");
static_assert(std::variant_size_v<fw::event> == 22, "21 documented events and unknown_event");

static_assert(std::same_as<fw::event_for<"consent.revoked">, fw::consent_revoked>);
static_assert(std::same_as<fw::event_for<"banking.transactions.basic.sync.completed">,
                           fw::banking_transactions_basic_sync_completed>);
static_assert(std::same_as<fw::event_for<"common.identity.sync.completed">, fw::identity_sync_completed>);

// Only the events that carry account_ids / payee_ids have those fields.
static_assert(fw::with_account_ids<fw::energy_accounts_sync_completed>);
static_assert(fw::with_account_ids<fw::banking_accounts_sync_completed>);
static_assert(fw::with_account_ids<fw::banking_balances_sync_completed>);
static_assert(fw::with_account_ids<fw::banking_transactions_sync_completed>);
static_assert(fw::with_account_ids<fw::banking_transactions_basic_sync_completed>);
static_assert(fw::with_account_ids<fw::unknown_event>);
static_assert(!fw::with_account_ids<fw::consent_received>);
static_assert(!fw::with_account_ids<fw::energy_usage_sync_completed>);
static_assert(!fw::with_account_ids<fw::banking_payees_sync_completed>);
static_assert(fw::with_payee_ids<fw::banking_payees_sync_completed>);
static_assert(!fw::with_payee_ids<fw::banking_accounts_sync_completed>);

template <class T>
constexpr std::size_t count_if_alternatives() {
  return []<std::size_t... I>(std::index_sequence<I...>) {
    return (std::size_t{T::template test<std::variant_alternative_t<I, fw::event>>} + ...);
  }(std::make_index_sequence<std::variant_size_v<fw::event>>{});
}
struct is_consent { template <class E> static constexpr bool test = fw::consent_event<E>; };
struct is_sync { template <class E> static constexpr bool test = fw::sync_event<E>; };
struct is_banking { template <class E> static constexpr bool test = fw::banking_sync_event<E>; };
struct is_energy { template <class E> static constexpr bool test = fw::energy_sync_event<E>; };
struct is_documented { template <class E> static constexpr bool test = fw::documented_event<E>; };
static_assert(count_if_alternatives<is_consent>() == 3);
static_assert(count_if_alternatives<is_banking>() == 8);
static_assert(count_if_alternatives<is_energy>() == 9);
static_assert(count_if_alternatives<is_sync>() == 18);  // identity + energy + banking
static_assert(count_if_alternatives<is_documented>() == 21);
static_assert(!fw::documented_event<fw::unknown_event> && fw::event_type<fw::unknown_event>);
static_assert(!fw::event_type<int> && !fw::event_type<fw::envelope>);

}  // namespace

TEST_CASE("wire names are distinct and follow the documented pattern") {
  std::set<std::string> names;
  for (const auto& entry : fw::detail::event_name_table) {
    const std::string name(entry.name);
    CHECK(names.insert(name).second);
    const bool consent = name.rfind("consent.", 0) == 0;
    const bool sync = name.size() > 15 && name.substr(name.size() - 15) == ".sync.completed";
    CHECK((consent || sync));
  }
  CHECK(names.size() == 21);
}

TEST_CASE("run-time lookup finds exactly the documented names") {
  for (std::size_t i = 0; i < fw::detail::event_name_table.size(); ++i) {
    const auto& entry = fw::detail::event_name_table[i];
    CHECK(fw::detail::event_index(entry.name) == entry.index);
  }
  for (const char* other : {"", "consent", "consent.revoke", "consent.revokedx", "Consent.Revoked",
                            "banking.loans.sync.completed", "zzz", "a"}) {
    CAPTURE(other);
    CHECK(fw::detail::event_index(other) == fw::detail::unknown_event_index);
  }
}

TEST_CASE("every documented event parses to its alternative") {
  fw::parser p;
  for (const auto& entry : fw::detail::event_name_table) {
    const std::string body = R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m","data":{"event":")" +
                             std::string(entry.name) + R"(","account_ids":["a"],"payee_ids":["p"]}})";
    fw::result<fw::event> ev = p.parse(body);
    REQUIRE(ev.has_value());
    CHECK(ev->index() == entry.index);
    CHECK(fw::event_name(*ev) == entry.name);
    // account_ids / payee_ids come through on the types that have them.
    std::visit(
        [](const auto& e) {
          if constexpr (fw::with_account_ids<decltype(e)>) CHECK(e.account_ids.size() == 1);
          if constexpr (fw::with_payee_ids<decltype(e)>) CHECK(e.payee_ids.size() == 1);
        },
        *ev);
  }
}
