// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// fiskil-webhooks: verify, parse and dispatch Fiskil webhook deliveries.
// Include this one header; it brings in every public part:
//
//   namespace fw = fiskil::webhooks;
//   auto key = fw::signing_key::from_base64(secret);          // once
//   fw::parser p;                                              // per thread
//   auto ev = p.verify_and_parse(*key, body, x_fiskil_signature);
//   if (ev) fw::dispatch(*ev, [](const fw::consent_revoked& e) { ... });
#pragma once

#include "webhooks/version.hpp"
#include "webhooks/error.hpp"
#include "webhooks/result.hpp"
#include "webhooks/verify.hpp"
#include "webhooks/time.hpp"
#include "webhooks/events.hpp"
#include "webhooks/parser.hpp"
#include "webhooks/dispatch.hpp"
#include "webhooks/freshness.hpp"
#include "webhooks/idempotency_store.hpp"
#include "webhooks/consent_tracker.hpp"
#include "webhooks/source_allowlist.hpp"
#include "webhooks/receiver.hpp"
