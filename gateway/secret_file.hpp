// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// secret_file: the one reader of the gateway's secret files (--secret-file,
// --forward-secret-file, --nats-creds, --nats-token-file). docs/gateway.md,
// "Secrets and TLS".
#pragma once

#include <cstddef>
#include <string>

namespace fiskil::gateway {

// secret_file_limit is the largest secret file read (64 KiB).
inline constexpr std::size_t secret_file_limit = std::size_t{1} << 16;

// secret_file_exposed is true when path is a file that its group or others
// may read, write or run (mode & 077); error then names the file, its mode
// and the fix (chmod 600). False for a private file and for one that cannot
// be looked at (read_secret_file reports those). Reads nothing.
bool secret_file_exposed(const std::string& path, std::string& error);

// read_secret_file reads the whole file (at most secret_file_limit bytes)
// into out. It refuses a file that is not a regular file or is exposed (as
// secret_file_exposed, checked on the open descriptor). Every buffer it used
// is wiped; on failure out is empty and error names the file (never its
// text). The caller wipes out with wipe_secret when done.
bool read_secret_file(const std::string& path, std::string& out, std::string& error);

// wipe_secret overwrites text's bytes (through volatile stores the compiler
// keeps) and empties it.
void wipe_secret(std::string& text) noexcept;

}  // namespace fiskil::gateway
