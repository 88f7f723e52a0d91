// SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
// SPDX-License-Identifier: MIT
#pragma once

// FISKIL_WEBHOOKS_VERSION_* name the release this header belongs to. They
// match `project(version:)` in meson.build; a test keeps the two in step.
#define FISKIL_WEBHOOKS_VERSION_MAJOR 2
#define FISKIL_WEBHOOKS_VERSION_MINOR 0
#define FISKIL_WEBHOOKS_VERSION_PATCH 0
#define FISKIL_WEBHOOKS_VERSION_STRING "2.0.0"
