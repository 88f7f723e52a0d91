# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
#
# Sourced by .ci/test and .ci/hardening.

# meson_setup DIR CXX [meson setup options...]: configures DIR with the
# compiler CXX, or reconfigures it with these options when it exists.
meson_setup() {
  local dir=$1 cxx=$2
  shift 2
  if [ -f "$dir/build.ninja" ]; then
    CXX=$cxx meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    CXX=$cxx meson setup "$dir" "$@" >/dev/null
  fi
}
