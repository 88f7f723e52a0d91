// expect-error: fw::dispatch: handlers must return void
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
bool route(const fw::event& ev) {
#ifdef FW_EXPECT_FAIL
  return fw::dispatch(ev, [](const fw::consent_revoked&) { return 410; });
#else
  return fw::dispatch(ev, [](const fw::consent_revoked&) {});
#endif
}
