// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// Reading a body or a secret completely, byte for byte, with a bound.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace cli {

enum class read_status {
  ok,
  cannot_read,  // missing, unreadable, a directory...: exit 66
  too_large,    // more bytes than the limit
};

// read_input reads every byte of the file at path, or of standard input when
// path is "-", into out (binary-safe: no newline or encoding translation).
// It reads at most limit + 1 bytes, so that an endless pipe still ends in
// too_large. On cannot_read, error holds the system's reason.
read_status read_input(std::string_view path, std::size_t limit, std::string& out, std::string& error);

// secret_text holds the text of a secret read from a file, and wipes it when
// destroyed. Its storage is allocated once, at its full size, so that no
// copy of the secret is left behind in memory freed by a reallocation.
class secret_text {
 public:
  // max_size bounds a secret file: a signing secret is at most 1368 base64
  // characters (fw::max_secret_size bytes, decoded); the rest is room for
  // surrounding blank lines.
  static constexpr std::size_t max_size = 4096;

  secret_text();
  secret_text(const secret_text&) = delete;
  secret_text& operator=(const secret_text&) = delete;
  ~secret_text();

  [[nodiscard]] std::string_view view() const noexcept { return {bytes_.get(), size_}; }

  // read_file replaces the text with the content of the file at path;
  // too_large beyond max_size.
  read_status read_file(std::string_view path, std::string& error);

 private:
  void wipe() noexcept;
  std::unique_ptr<char[]> bytes_;
  std::size_t size_ = 0;
};

}  // namespace cli
