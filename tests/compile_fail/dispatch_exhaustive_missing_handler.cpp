// expect-error: fw::dispatch_exhaustive: an event type has no handler
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
int status(const fw::event& ev) {
#ifdef FW_EXPECT_FAIL
  // No handler for the sync events nor unknown_event.
  return fw::dispatch_exhaustive(ev, [](fw::consent_event auto const&) { return 1; });
#else
  return fw::dispatch_exhaustive(ev, [](fw::consent_event auto const&) { return 1; },
                                 [](const auto&) { return 2; });
#endif
}
