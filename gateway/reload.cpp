// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#include "reload.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include "log.hpp"
#include "metrics.hpp"

namespace fiskil::gateway {

namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ",") + n;
  return out.empty() ? "none" : out;
}

}  // namespace

reloader::reloader(std::vector<std::string> args, file_flags running)
    : args_(std::move(args)), running_(std::move(running)), when_(now_seconds()) {}

void reloader::add(reload_step step) {
  const std::lock_guard one_at_a_time(mutex_);
  steps_.push_back(std::move(step));
}

void reloader::finish(bool ok) {
  success_.store(ok);
  when_.store(now_seconds());
}

bool reloader::reload() {
  const std::lock_guard one_at_a_time(mutex_);
  config next;
  file_flags read;
  std::string error;
  if (parse_arguments(args_, next, error, &read) != parse_result::run) {
    log("error", "configuration_reload_failed", {{"reason", error}, {"kept", "previous configuration"}});
    finish(false);
    return false;
  }
  std::set<std::string> names;
  for (const auto& [name, values] : running_) names.insert(name);
  for (const auto& [name, values] : read) names.insert(name);
  std::vector<std::string> changed, restart;
  for (const std::string& name : names) {
    const auto was = running_.find(name);
    const auto now = read.find(name);
    if (was != running_.end() && now != read.end() && was->second == now->second) continue;
    changed.push_back(name);
    const bool owned = std::any_of(steps_.begin(), steps_.end(), [&](const reload_step& s) {
      return std::find(s.keys.begin(), s.keys.end(), name) != s.keys.end();
    });
    if (!owned) restart.push_back(name);
  }
  for (const reload_step& step : steps_) {
    if (!step.apply(next, error)) {
      log("error", "configuration_reload_failed",
          {{"step", step.name}, {"reason", error}, {"kept", "previous configuration"}});
      finish(false);
      return false;
    }
  }
  // A key that needs a restart stays as it runs, so later reloads warn again.
  for (const std::string& name : restart) {
    if (const auto was = running_.find(name); was != running_.end())
      read[name] = was->second;
    else
      read.erase(name);
  }
  running_ = std::move(read);
  if (!restart.empty())
    log("warn", "configuration_restart_needed",
        {{"keys", joined(restart)}, {"detail", "changed in the --config file; not applied until a restart"}});
  log("info", "configuration_file_reloaded", {{"changed", joined(changed)}, {"restart_needed", joined(restart)}});
  finish(true);
  return true;
}

void reloader::write_metrics(std::string& out) const {
  append_metric(out, "fiskil_gateway_reload_success", "gauge",
                "1 when the last SIGHUP reload (or the start) put its configuration into service, 0 when it failed "
                "and the previous configuration was kept.",
                success_.load() ? 1 : 0);
  append_metric(out, "fiskil_gateway_reload_timestamp_seconds", "gauge",
                "When the last SIGHUP reload (or the start) ran, in seconds since the Unix epoch.",
                static_cast<std::uint64_t>(when_.load()));
}

}  // namespace fiskil::gateway
