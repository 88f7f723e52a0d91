// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// process_metrics: what /metrics says about the process and the build, in
// the names Prometheus's client libraries use (process_*) and a build_info.
#pragma once

#include <string>

namespace fiskil::gateway {

// write_process_metrics appends fiskil_gateway_build_info{version,crypto},
// process_open_fds, process_max_fds and process_start_time_seconds (from
// /proc; a figure that cannot be read is left out).
void write_process_metrics(std::string& out);

}  // namespace fiskil::gateway
