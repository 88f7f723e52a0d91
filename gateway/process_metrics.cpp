// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <fiskil/webhooks/version.hpp>

#include "metrics.hpp"

namespace fiskil::gateway {

namespace {

#if defined(FISKIL_WEBHOOKS_CRYPTO_OPENSSL)
constexpr const char* crypto_backend = "openssl";
#else
constexpr const char* crypto_backend = "boringssl";
#endif

// open_fds counts /proc/self/fd's entries, less the directory's own.
long open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  long n = 0;
  while (const dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n - 1;
}

// start_time is the process's start in seconds since the Unix epoch: its
// start in clock ticks after boot (/proc/self/stat) plus the boot time
// (/proc/stat's btime). Read once: it does not change.
double start_time() {
  static const double value = [] {
    std::ifstream stat_file("/proc/self/stat");
    std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
    const std::size_t paren = stat.rfind(')');  // the command name may hold spaces
    if (paren == std::string::npos) return -1.0;
    std::istringstream fields(stat.substr(paren + 2));
    std::string field;
    unsigned long long ticks = 0;
    for (int i = 3; i <= 22 && fields >> field; ++i)  // field 3 is the state; 22 the start time
      if (i == 22) ticks = std::stoull(field);
    std::ifstream proc_stat("/proc/stat");
    std::string key;
    unsigned long long boot = 0;
    while (proc_stat >> key)
      if (key == "btime" && (proc_stat >> boot)) break;
    const long hz = ::sysconf(_SC_CLK_TCK);
    if (boot == 0 || hz <= 0) return -1.0;
    return static_cast<double>(boot) + static_cast<double>(ticks) / static_cast<double>(hz);
  }();
  return value;
}

void gauge(std::string& out, const char* name, const char* help, const std::string& labels, const std::string& value) {
  append_metric_header(out, name, "gauge", help);
  out += name;
  out += labels;
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

void write_process_metrics(std::string& out) {
  gauge(out, "fiskil_gateway_build_info", "The gateway's version and crypto backend; always 1.",
        std::string("{version=\"" FISKIL_WEBHOOKS_VERSION_STRING "\",crypto=\"") + crypto_backend + "\"}", "1");
  if (const long fds = open_fds(); fds >= 0)
    gauge(out, "process_open_fds", "Number of open file descriptors.", "", std::to_string(fds));
  if (rlimit limit{}; ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    gauge(out, "process_max_fds", "Maximum number of open file descriptors (RLIMIT_NOFILE's soft limit).", "",
          std::to_string(limit.rlim_cur));
  if (const double started = start_time(); started > 0) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", started);
    gauge(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "", text);
  }
}

}  // namespace fiskil::gateway
