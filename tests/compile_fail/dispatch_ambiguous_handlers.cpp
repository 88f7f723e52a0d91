// Two equally good handlers would otherwise both be skipped, silently.
// expect-error: fw::dispatch: two handlers match this event type equally well
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
bool route(const fw::event& ev) {
  return fw::dispatch(ev, [](fw::consent_event auto const&) {}
#ifdef FW_EXPECT_FAIL
                      , [](fw::consent_event auto const&) {}
#endif
  );
}
