// expect-error: delete
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
void use(const fw::signing_key& key, const fw::keyring& ring, std::string_view body, std::string_view sig) {
  fw::parser p;
  (void)p.verify_and_parse(key, body, sig);
  (void)p.verify_and_parse(ring, body, sig);
#ifdef FW_EXPECT_FAIL
  (void)fw::parser{}.verify_and_parse(ring, body, sig);
#endif
}
