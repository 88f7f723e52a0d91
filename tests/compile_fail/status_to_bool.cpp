// A status converts to bool only explicitly: `if (fw::verify(...))` reads as
// "if authentic", but a status cannot silently become a bool (or an int).
// expect-error: cannot convert|no viable conversion|could not convert
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
bool use(const fw::signing_key& key, std::string_view body, std::string_view sig) {
  if (fw::verify(key, body, sig)) return true;  // explicit: allowed
#ifdef FW_EXPECT_FAIL
  bool authentic = fw::verify(key, body, sig);
#else
  bool authentic = static_cast<bool>(fw::verify(key, body, sig));
#endif
  return authentic;
}
