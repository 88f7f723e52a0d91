// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace fiskil::gateway {

namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

std::string exposed_error(const std::string& path, mode_t mode) {
  return path + ": mode " + octal_mode(mode) +
         " lets other users read or change this secret; refused (fix: chmod 600 " + path + ")";
}

// open_checked opens path and applies check_secret_file's rules to the open
// descriptor. Returns -1 (error set) on refusal.
int open_checked(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    ::close(fd);
    return -1;
  }
  if ((st.st_mode & 077) != 0) {
    error = exposed_error(path, st.st_mode);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void wipe_secret(std::string& text) noexcept {
  volatile char* p = text.data();
  for (std::size_t i = 0; i < text.size(); ++i) p[i] = 0;
  text.clear();
}

bool secret_file_exposed(const std::string& path, std::string& error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) == 0) return false;
  error = exposed_error(path, st.st_mode);
  return true;
}

bool read_secret_file(const std::string& path, std::string& out, std::string& error) {
  wipe_secret(out);
  const int fd = open_checked(path, error);
  if (fd < 0) return false;
  // One buffer, sized once, so that no reallocation leaves an unwiped copy.
  std::string buffer(secret_file_limit + 1, '\0');
  std::size_t used = 0;
  bool failed = false;
  while (used < buffer.size()) {
    const ssize_t n = ::read(fd, buffer.data() + used, buffer.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = true;
      error = path + ": " + std::strerror(errno);
      break;
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (!failed && used > secret_file_limit) {
    failed = true;
    error = path + ": larger than 64 KiB";
  }
  if (failed) {
    wipe_secret(buffer);
    return false;
  }
  out.assign(buffer.data(), used);
  wipe_secret(buffer);
  return true;
}

}  // namespace fiskil::gateway
