// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "input.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace cli {

namespace {

// read_stream reads from path ("-" = standard input) into buffer, up to
// capacity bytes, and sets size to the number read.
read_status read_stream(std::string_view path, char* buffer, std::size_t capacity, std::size_t& size,
                        std::string& error) {
  const bool is_stdin = path == "-";
  std::FILE* file = is_stdin ? stdin : std::fopen(std::string(path).c_str(), "rb");
  if (file == nullptr) {
    error = std::strerror(errno);
    return read_status::cannot_read;
  }
  size = 0;
  while (size < capacity) {
    const std::size_t got = std::fread(buffer + size, 1, capacity - size, file);
    size += got;
    if (got == 0) break;
  }
  const bool failed = std::ferror(file) != 0;
  const int reason = errno;
  if (!is_stdin) std::fclose(file);
  if (failed) {
    error = std::strerror(reason);
    return read_status::cannot_read;
  }
  return read_status::ok;
}

}  // namespace

read_status read_input(std::string_view path, std::size_t limit, std::string& out, std::string& error) {
  // One allocation at the largest accepted size plus one byte, which tells
  // "exactly at the limit" from "over it".
  out.resize(limit + 1);
  std::size_t size = 0;
  const read_status status = read_stream(path, out.data(), out.size(), size, error);
  out.resize(status == read_status::ok ? size : 0);
  if (status == read_status::ok && size > limit) return read_status::too_large;
  return status;
}

secret_text::secret_text() : bytes_(new char[max_size + 1]) {}

secret_text::~secret_text() { wipe(); }

void secret_text::wipe() noexcept {
  // Volatile stores: the compiler may not drop them as dead before free.
  volatile char* bytes = bytes_.get();
  for (std::size_t i = 0; i < max_size + 1; ++i) bytes[i] = 0;
  size_ = 0;
}

read_status secret_text::read_file(std::string_view path, std::string& error) {
  wipe();
  const read_status status = read_stream(path, bytes_.get(), max_size + 1, size_, error);
  if (status != read_status::ok) {
    wipe();
    return status;
  }
  if (size_ > max_size) {
    wipe();
    return read_status::too_large;
  }
  return read_status::ok;
}

}  // namespace cli
