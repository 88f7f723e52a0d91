// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
//
// FW_TEST_SANITIZED is defined under AddressSanitizer, ThreadSanitizer or
// MemorySanitizer, whose runtimes own malloc: they abort on an impossible
// allocation instead of returning null, and cannot be interposed on.
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FW_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define FW_TEST_SANITIZED 1
#endif
#endif
