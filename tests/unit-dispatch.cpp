// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <string>

namespace fw = fiskil::webhooks;

namespace {

fw::event make(std::string_view name) {
  static fw::parser p;  // the events below are used before the next make()
  const std::string body = R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m-1","data":{"event":")" +
                           std::string(name) + R"(","consent_id":"c-1","account_ids":["a-1","a-2"]}})";
  return *p.parse(body);
}

// Which handler ran, for each event, with one handler per level of
// specificity: exact type > banking family > any sync > anything.
std::string route(const fw::event& ev) {
  std::string hit = "none";
  const bool handled = fw::dispatch(
      ev, [&](const fw::banking_balances_sync_completed&) { hit = "exact"; },
      [&](fw::banking_sync_event auto const&) { hit = "banking"; },
      [&](fw::sync_event auto const&) { hit = "sync"; },
      [&](fw::consent_event auto const&) { hit = "consent"; });
  CHECK(handled == (hit != "none"));
  return hit;
}

}  // namespace

TEST_CASE("the most specific handler wins") {
  CHECK(route(make("banking.balances.sync.completed")) == "exact");
  CHECK(route(make("banking.accounts.sync.completed")) == "banking");
  CHECK(route(make("energy.der.sync.completed")) == "sync");
  CHECK(route(make("common.identity.sync.completed")) == "sync");
  CHECK(route(make("consent.revoked")) == "consent");
  CHECK(route(make("banking.loans.sync.completed")) == "none");  // unknown, no fallback
}

TEST_CASE("unknown events fall to a fallback") {
  const fw::event ev = make("banking.loans.sync.completed");
  std::string seen;
  CHECK(fw::dispatch(ev, [&](const fw::consent_revoked&) { seen = "revoked"; },
                     [&](const fw::unknown_event& e) { seen = std::string(e.name); }));
  CHECK(seen == "banking.loans.sync.completed");

  std::string generic;
  CHECK(fw::dispatch(ev, [&](const auto& e) { generic = std::string(e.message_id); }));
  CHECK(generic == "m-1");
}

TEST_CASE("handlers see the typed fields") {
  std::size_t accounts = 0;
  std::string consent;
  fw::dispatch(make("energy.accounts.sync.completed"),
               [&](const fw::energy_accounts_sync_completed& e) {
                 accounts = e.account_ids.size();
                 consent = std::string(e.consent_id);
               });
  CHECK(accounts == 2);
  CHECK(consent == "c-1");
}

TEST_CASE("dispatch_exhaustive returns what the handlers return") {
  auto status = [](const fw::event& ev) {
    return fw::dispatch_exhaustive(
        ev, [](fw::consent_event auto const&) { return 1; }, [](fw::sync_event auto const&) { return 2; },
        [](const fw::unknown_event&) { return 3; });
  };
  CHECK(status(make("consent.updated")) == 1);
  CHECK(status(make("banking.products.sync.completed")) == 2);
  CHECK(status(make("energy.plans.sync.completed")) == 2);
  CHECK(status(make("something.new")) == 3);

  // A catch-all handler makes any set exhaustive.
  const std::string_view name = fw::dispatch_exhaustive(
      make("consent.received"), [](const auto& e) -> std::string_view { return e.name; });
  CHECK(name == "consent.received");
}

TEST_CASE("handlers are copied into the overload set; state is shared by reference") {
  int calls = 0;
  auto counting = [&calls](const auto&) { ++calls; };
  fw::dispatch(make("consent.received"), counting);
  fw::dispatch(make("consent.revoked"), counting);
  CHECK(calls == 2);
}
