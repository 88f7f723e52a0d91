// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// The provider guide's example delivery (242 bytes), its signing secret and
// the X-Fiskil-Signature header it carries: the benchmark's first workload.
// tests/unit-verify.cpp checks the same values against the library.
#pragma once

#include <string_view>

namespace bench_fixture {

constexpr std::string_view guide_body =
    R"json({"publish_time":"2023-11-23T03:03:30.792Z","message_id":"9790112556309026","data":{"arrangementId":"4a726862-6b39-4cd5-92c0-3d20fe96a202","clientId":"2XbIYazvJeBwaJx1xCaFar64uVk","endUserId":"2YPr9YiWLNj3KZt9ycjbvy4bRx5","institutionId":"1"}})json";
constexpr std::string_view guide_secret =
    "jf+cnWPind3y0kYqJM4cPAC/8kNcwVXE8/fKs/Kz/SxXIkhVfvV8yh8dtEX9+K2PsmItKu5Jqqwy7cw2JQ+ozsSo2M9qmwpPxRMCREO+";
constexpr std::string_view guide_signature = "6YnYaA0i/bBWrmH2tzZNBBNGXqUpbrAxQudFvU2UtQ4=";

static_assert(guide_body.size() == 242, "the guide's example is 242 bytes");

}  // namespace bench_fixture
