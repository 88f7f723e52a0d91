# SPDX-FileCopyrightText: 2026 The fiskil-webhooks authors
# SPDX-License-Identifier: MIT
#
# Sourced by .ci/test and .ci/hardening.

# meson_setup DIR CXX [meson setup options...]: configures DIR with the
# compiler CXX, or reconfigures it with these options when it exists. CI
# builds with -Dwerror=true; users' builds do not (a newer compiler's new
# warning must not break them).
meson_setup() {
  local dir=$1 cxx=$2
  shift 2
  if [ -f "$dir/build.ninja" ]; then
    CXX=$cxx meson setup --reconfigure "$dir" -Dwerror=true "$@" >/dev/null
  else
    CXX=$cxx meson setup "$dir" -Dwerror=true "$@" >/dev/null
  fi
}
