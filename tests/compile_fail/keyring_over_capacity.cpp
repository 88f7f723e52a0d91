// expect-error: fw::keyring: more keys than the keyring's capacity
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
void make(const fw::signing_key& a, const fw::signing_key& b) {
  fw::basic_keyring<2> fits{a, b};
  (void)fits;
#ifdef FW_EXPECT_FAIL
  fw::basic_keyring<1> too_small{a, b};
  (void)too_small;
#endif
}
