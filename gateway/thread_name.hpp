// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// thread_name: names the calling thread, as top -H, perf and /proc show it.
#pragma once

#include <pthread.h>

namespace fiskil::gateway {

// name_this_thread names the calling thread name (at most 15 characters;
// longer names are not applied). Best effort: failures are ignored.
inline void name_this_thread(const char* name) noexcept { (void)pthread_setname_np(pthread_self(), name); }

}  // namespace fiskil::gateway
