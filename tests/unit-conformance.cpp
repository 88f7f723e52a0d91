// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// JSONTestSuite (Nicolas Seriot's test_parsing, ../shared/testdata when
// present): every file fed to parse as a body, bare and as the value of a
// field the library does not read. y_ files are JSON: a bare one is refused
// only as an envelope (it is no Fiskil envelope), never as bad JSON, and
// embedded it yields an event. n_ files are not JSON: refused as bad JSON,
// bare and embedded, never an event. i_ files may go either way; they are
// counted. Nothing may crash (the sanitizer build runs this too).
#include <doctest/doctest.h>

#include <fiskil/webhooks.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "support.hpp"

namespace fw = fiskil::webhooks;

namespace {

bool is_json_error(std::error_code ec) {
  for (const fw::errc code : {fw::errc::json_empty, fw::errc::json_syntax, fw::errc::json_trailing_content,
                              fw::errc::json_invalid_utf8, fw::errc::json_invalid_string,
                              fw::errc::json_invalid_number, fw::errc::json_too_deep, fw::errc::json_invalid}) {
    if (ec == code) return true;
  }
  return false;
}

struct tally {
  int files = 0, accepted = 0, rejected = 0, events = 0;
};

}  // namespace

TEST_CASE("JSONTestSuite test_parsing: y_ accepted as JSON, n_ refused, nothing crashes") {
  const auto root = test_support::shared_testdata_dir();
  const auto dir = root.empty() ? root : root / "JSONTestSuite" / "test_parsing";
  if (dir.empty() || !std::filesystem::is_directory(dir)) {
    MESSAGE("JSONTestSuite not present beside the checkout (../shared/testdata/JSONTestSuite): skipped");
    return;
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 300);

  fw::parser p;
  tally y, n, i;
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    const std::string text = test_support::read_file(path);
    CAPTURE(name);
    const fw::result<fw::event> bare = p.parse(text);
    const bool json_ok = bare.has_value() || !is_json_error(bare.error());
    const bool bare_event = bare.has_value();
    const fw::result<fw::event> embedded =
        p.parse(R"({"publish_time":"2026-11-20T09:15:00Z","message_id":"m","data":{},"x":)" + text + "}");
    tally& t = name[0] == 'y' ? y : name[0] == 'n' ? n : i;
    ++t.files;
    (json_ok ? t.accepted : t.rejected) += 1;
    t.events += (bare_event ? 1 : 0) + (embedded.has_value() ? 1 : 0);
    if (name[0] == 'y') {
      CHECK(json_ok);
      CHECK(embedded.has_value());
    } else if (name[0] == 'n') {
      CHECK_FALSE(json_ok);
      CHECK_FALSE(bare_event);
      CHECK_FALSE(embedded.has_value());
    }
  }
  std::printf("JSONTestSuite test_parsing, %d files: y_ %d (accepted %d, rejected %d), n_ %d (accepted %d, "
              "rejected %d), i_ %d (accepted %d, rejected %d); events from n_ files: %d; crashed: 0\n",
              y.files + n.files + i.files, y.files, y.accepted, y.rejected, n.files, n.accepted, n.rejected, i.files,
              i.accepted, i.rejected, n.events);
  CHECK(n.events == 0);
  CHECK(y.rejected == 0);
  CHECK(n.accepted == 0);
}
