// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Every C++ example of docs/, compiled from the pages themselves (see
// doc_examples.py for the conventions) and run here: an example returns 0
// when what it shows held. A page cannot go stale without failing this test.
#include <doctest/doctest.h>

#include <cstdio>

#include "docs_examples.hpp"

TEST_CASE("every example in docs/ compiles, runs and returns 0") {
  static_assert(doc_example_count >= 1);
  REQUIRE(std::size(doc_examples) >= 1);
  for (const doc_example& example : doc_examples) {
    CAPTURE(example.where);
    std::fflush(stdout);
    CHECK(example.run() == 0);
  }
}
