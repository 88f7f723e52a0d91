// No public function returns a bare std::error_code any more; a status is
// not an error_code either, so old code reading `std::error_code ec =
// fw::verify(...)` (true when forged) stops compiling instead of inverting.
// expect-error: conversion from|no viable conversion|cannot convert
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
std::error_code use(const fw::signing_key& key, std::string_view body, std::string_view sig) {
#ifdef FW_EXPECT_FAIL
  const std::error_code ec = fw::verify(key, body, sig);
#else
  const std::error_code ec = fw::verify(key, body, sig).error();
#endif
  return ec;
}
