// A signing_key only comes from a secret: there is no empty key to verify with.
// expect-error: signing_key
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
void make() {
  fw::result<fw::signing_key> key = fw::signing_key::from_base64("c2VjcmV0");
  (void)key;
#ifdef FW_EXPECT_FAIL
  fw::signing_key empty;
  (void)empty;
#endif
}
