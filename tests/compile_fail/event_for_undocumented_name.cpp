// expect-error: fw::event_for<Name>: no documented Fiskil event has this wire name
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
using revoked = fw::event_for<"consent.revoked">;
#ifdef FW_EXPECT_FAIL
using deleted = fw::event_for<"consent.deleted">;
deleted* unused = nullptr;
#endif
