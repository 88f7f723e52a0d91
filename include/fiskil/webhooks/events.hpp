// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <simdjson.h>

#include "detail/fixed_string.hpp"
#include "time.hpp"

namespace fiskil::webhooks {

class parser;

// id_list is a read-only view of a JSON array of id strings (account_ids,
// payee_ids) of any length, without copying or allocating. Range-for over it
// yields std::string_view; size() and empty() are O(1). Like every view in an
// event it points into the parser's storage and is valid until that
// parser's next parse or its destruction.
class id_list {
 public:
  class iterator {
   public:
    using value_type = std::string_view;
    using reference = std::string_view;
    using difference_type = std::ptrdiff_t;
    using iterator_concept = std::forward_iterator_tag;

    iterator() noexcept = default;
    [[nodiscard]] std::string_view operator*() const noexcept {
      // The parser checked that every element is a string.
      return (*position_).get_string().value_unsafe();
    }
    iterator& operator++() noexcept {
      ++position_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator before = *this;
      ++position_;
      return before;
    }
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      return a.position_ == b.position_;
    }

   private:
    friend class id_list;
    explicit iterator(simdjson::dom::array::iterator position) noexcept : position_(position) {}
    simdjson::dom::array::iterator position_{};
  };

  // id_list() is empty, as is the list of a field that is absent or null.
  id_list() noexcept = default;

  [[nodiscard]] iterator begin() const noexcept {
    return size_ == 0 ? iterator{} : iterator{array_.begin()};
  }
  [[nodiscard]] iterator end() const noexcept { return size_ == 0 ? iterator{} : iterator{array_.end()}; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  friend class parser;
  id_list(simdjson::dom::array array, std::size_t size) noexcept : array_(array), size_(size) {}
  simdjson::dom::array array_{};
  std::size_t size_ = 0;
};

static_assert(std::forward_iterator<id_list::iterator>);

// event_family groups the documented events; dispatch handlers can target a
// family through the concepts below.
enum class event_family : std::uint8_t { consent, identity, energy, banking, unknown };

// envelope holds the fields every delivery carries. message_id is the
// provider's deduplication key and is never empty. The ids are empty when
// the delivery omits them (or sends null); the provider's older camelCase
// spellings (endUserId, clientId, institutionId, arrangementId) fill the
// same fields. All views are valid until the parser's next parse.
struct envelope {
  timestamp publish_time{};
  std::string_view message_id;
  std::string_view end_user_id;
  std::string_view client_id;
  std::string_view institution_id;
  std::string_view consent_id;
};

namespace detail {
template <fixed_string Name, event_family Family>
struct event_base : envelope {
  static constexpr std::string_view name = Name.view();
  static constexpr event_family family = Family;
};
}  // namespace detail

// One type per documented event. `name` is the wire name in data.event.
// account_ids exists only on the events that carry it (accounts, balances and
// the two banking transaction syncs, empty when absent) and payee_ids only on
// banking.payees.sync.completed: reading a field an event never carries does
// not compile.
struct consent_received : detail::event_base<"consent.received", event_family::consent> {};
struct consent_updated : detail::event_base<"consent.updated", event_family::consent> {};
struct consent_revoked : detail::event_base<"consent.revoked", event_family::consent> {};
struct identity_sync_completed
    : detail::event_base<"common.identity.sync.completed", event_family::identity> {};
struct energy_billing_sync_completed
    : detail::event_base<"energy.billing.sync.completed", event_family::energy> {};
struct energy_usage_sync_completed
    : detail::event_base<"energy.usage.sync.completed", event_family::energy> {};
struct energy_servicepoints_sync_completed
    : detail::event_base<"energy.servicepoints.sync.completed", event_family::energy> {};
struct energy_accounts_sync_completed
    : detail::event_base<"energy.accounts.sync.completed", event_family::energy> {
  id_list account_ids;
};
struct energy_concessions_sync_completed
    : detail::event_base<"energy.concessions.sync.completed", event_family::energy> {};
struct energy_der_sync_completed
    : detail::event_base<"energy.der.sync.completed", event_family::energy> {};
struct energy_invoices_sync_completed
    : detail::event_base<"energy.invoices.sync.completed", event_family::energy> {};
struct energy_paymentschedules_sync_completed
    : detail::event_base<"energy.paymentschedules.sync.completed", event_family::energy> {};
struct energy_plans_sync_completed
    : detail::event_base<"energy.plans.sync.completed", event_family::energy> {};
struct banking_accounts_sync_completed
    : detail::event_base<"banking.accounts.sync.completed", event_family::banking> {
  id_list account_ids;
};
struct banking_balances_sync_completed
    : detail::event_base<"banking.balances.sync.completed", event_family::banking> {
  id_list account_ids;
};
struct banking_transactions_basic_sync_completed
    : detail::event_base<"banking.transactions.basic.sync.completed", event_family::banking> {
  id_list account_ids;
};
struct banking_transactions_sync_completed
    : detail::event_base<"banking.transactions.sync.completed", event_family::banking> {
  id_list account_ids;
};
struct banking_payees_sync_completed
    : detail::event_base<"banking.payees.sync.completed", event_family::banking> {
  id_list payee_ids;
};
struct banking_directdebits_sync_completed
    : detail::event_base<"banking.directdebits.sync.completed", event_family::banking> {};
struct banking_scheduledpayments_sync_completed
    : detail::event_base<"banking.scheduledpayments.sync.completed", event_family::banking> {};
struct banking_products_sync_completed
    : detail::event_base<"banking.products.sync.completed", event_family::banking> {};

// unknown_event is every delivery whose data.event is not one of the above:
// event types Fiskil adds later, or the guide's legacy example that has no
// event field (name is then empty). A new event type never fails a delivery.
// data_json is the raw text of the data object as it appears in the body.
struct unknown_event : envelope {
  static constexpr event_family family = event_family::unknown;
  std::string_view name;
  std::string_view data_json;
  id_list account_ids;
  id_list payee_ids;
};

// event is one parsed delivery. Visit it with fw::dispatch.
using event = std::variant<
    consent_received, consent_updated, consent_revoked, identity_sync_completed,
    energy_billing_sync_completed, energy_usage_sync_completed, energy_servicepoints_sync_completed,
    energy_accounts_sync_completed, energy_concessions_sync_completed, energy_der_sync_completed,
    energy_invoices_sync_completed, energy_paymentschedules_sync_completed, energy_plans_sync_completed,
    banking_accounts_sync_completed, banking_balances_sync_completed,
    banking_transactions_basic_sync_completed, banking_transactions_sync_completed,
    banking_payees_sync_completed, banking_directdebits_sync_completed,
    banking_scheduledpayments_sync_completed, banking_products_sync_completed, unknown_event>;

namespace detail {

template <class T, class Variant>
struct is_alternative_of : std::false_type {};
template <class T, class... Ts>
struct is_alternative_of<T, std::variant<Ts...>> : std::bool_constant<(std::same_as<T, Ts> || ...)> {};

inline constexpr std::size_t documented_event_count = std::variant_size_v<event> - 1;
inline constexpr std::size_t unknown_event_index = documented_event_count;
static_assert(std::same_as<std::variant_alternative_t<unknown_event_index, event>, unknown_event>,
              "fw::event: unknown_event must be the last alternative");

struct event_name_entry {
  std::string_view name;
  std::size_t index;
};

template <std::size_t... I>
consteval auto make_event_name_table(std::index_sequence<I...>) {
  std::array<event_name_entry, sizeof...(I)> table{
      event_name_entry{std::variant_alternative_t<I, event>::name, I}...};
  std::sort(table.begin(), table.end(),
            [](const event_name_entry& a, const event_name_entry& b) { return a.name < b.name; });
  return table;
}

// event_name_table maps each documented wire name to its alternative's index
// in fw::event; built at compile time from the types' own `name` members, so
// the mapping cannot drift from the types. Sorting puts duplicates side by
// side for the check below.
inline constexpr auto event_name_table =
    make_event_name_table(std::make_index_sequence<documented_event_count>{});

consteval bool event_names_are_unique() {
  for (std::size_t i = 1; i < event_name_table.size(); ++i) {
    if (event_name_table[i - 1].name == event_name_table[i].name) return false;
  }
  return true;
}
static_assert(event_names_are_unique(), "fw::event: two event types share a wire name");

// Wire names are grouped by length at compile time; a lookup compares the
// name against the one to three names of its length, with no hashing,
// allocation or binary search.
inline constexpr std::size_t longest_event_name = [] {
  std::size_t longest = 0;
  for (const event_name_entry& entry : event_name_table) longest = std::max(longest, entry.name.size());
  return longest;
}();

struct event_length_bucket {
  std::array<event_name_entry, 4> entries{};
  std::size_t count = 0;
};

inline constexpr auto event_names_by_length = [] {
  std::array<event_length_bucket, longest_event_name + 1> buckets{};
  for (const event_name_entry& entry : event_name_table) {
    event_length_bucket& bucket = buckets[entry.name.size()];
    bucket.entries[bucket.count++] = entry;  // a fifth name of one length fails to compile here
  }
  return buckets;
}();

// event_index returns the alternative index for a wire name, or
// unknown_event_index.
constexpr std::size_t event_index(std::string_view name) noexcept {
  if (name.size() > longest_event_name) return unknown_event_index;
  const event_length_bucket& bucket = event_names_by_length[name.size()];
  for (std::size_t i = 0; i < bucket.count; ++i) {
    if (bucket.entries[i].name == name) return bucket.entries[i].index;
  }
  return unknown_event_index;
}

template <fixed_string Name>
struct event_for_name {
  static constexpr std::size_t index = event_index(Name.view());
  static_assert(index != unknown_event_index,
                "fw::event_for<Name>: no documented Fiskil event has this wire name");
  using type = std::variant_alternative_t<index, event>;
};

}  // namespace detail

// event_for<"consent.revoked"> is the type of the event with that wire name,
// resolved at compile time; an undocumented name does not compile.
template <detail::fixed_string Name>
using event_for = typename detail::event_for_name<Name>::type;

// Concepts for dispatch handlers, from the widest to the narrowest. A
// handler taking `fw::banking_sync_event auto const&` is chosen over one
// taking `fw::sync_event auto const&`, which is chosen over `auto const&`.
template <class T>
concept event_type = detail::is_alternative_of<std::remove_cvref_t<T>, event>::value;

template <class T>
concept documented_event = event_type<T> && !std::same_as<std::remove_cvref_t<T>, unknown_event>;

template <class T, event_family Family>
concept event_in_family = documented_event<T> && (std::remove_cvref_t<T>::family == Family);

template <class T>
concept consent_event = event_in_family<T, event_family::consent>;

template <class T>
concept sync_event = documented_event<T> && (std::remove_cvref_t<T>::family != event_family::consent);

template <class T>
concept banking_sync_event = sync_event<T> && event_in_family<T, event_family::banking>;

template <class T>
concept energy_sync_event = sync_event<T> && event_in_family<T, event_family::energy>;

// with_account_ids / with_payee_ids: the types that have those fields.
template <class T>
concept with_account_ids = event_type<T> && requires(const T& e) {
  { e.account_ids } -> std::convertible_to<const id_list&>;
};

template <class T>
concept with_payee_ids = event_type<T> && requires(const T& e) {
  { e.payee_ids } -> std::convertible_to<const id_list&>;
};

// event_name returns the wire name of ev (for unknown_event, the name as
// sent, possibly empty).
[[nodiscard]] inline std::string_view event_name(const event& ev) noexcept {
  return std::visit([](const auto& e) -> std::string_view { return e.name; }, ev);
}

// envelope_of returns the fields every event shares.
[[nodiscard]] inline const envelope& envelope_of(const event& ev) noexcept {
  return std::visit([](const auto& e) -> const envelope& { return e; }, ev);
}

}  // namespace fiskil::webhooks
