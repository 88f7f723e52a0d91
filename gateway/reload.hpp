// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// reload: what SIGHUP does (docs/operations.md, "Reloading"). It re-reads the
// command line's --config file and runs the reload steps: each puts the
// part of the configuration it owns into service. A changed key no step owns
// is logged as needing a restart, and not applied.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "config.hpp"
#include "config_file.hpp"

namespace fiskil::gateway {

// reload_step is one part of the running configuration that SIGHUP changes:
// keys are the flags (names without "--") it applies; apply puts next's
// values into service, or returns false with error and keeps its own old
// state. A step runs on every reload, whether its keys changed or not (the
// files they name may have).
struct reload_step {
  std::string name;
  std::vector<std::string> keys;
  std::function<bool(const config& next, std::string& error)> apply;
};

// reloader runs the reload steps on SIGHUP. Safe from any thread; one
// reload at a time.
class reloader {
 public:
  // args is the command line without the program name, running the flags
  // the file gave at start (parse_arguments' from_file).
  reloader(std::vector<std::string> args, file_flags running);

  // add appends a step; steps run in the order added (the ones that can
  // fail first). Call before the first reload.
  void add(reload_step step);

  // reload re-reads args and the --config file. When they do not parse, or
  // a step fails, it logs configuration_reload_failed with the reason, keeps
  // the old state (of the failed step and those after it; the steps before
  // it stay applied) and returns false. Otherwise logs the changed keys, and
  // warns of those that need a restart (not applied).
  bool reload();

  // write_metrics appends fiskil_gateway_reload_success (the last reload's
  // result; 1 before any) and fiskil_gateway_reload_timestamp_seconds (its
  // time; the start before any).
  void write_metrics(std::string& out) const;

 private:
  void finish(bool ok);
  std::mutex mutex_;
  std::vector<std::string> args_;
  file_flags running_;
  std::vector<reload_step> steps_;
  std::atomic<bool> success_{true};
  std::atomic<std::int64_t> when_;  // seconds since the Unix epoch
};

}  // namespace fiskil::gateway
