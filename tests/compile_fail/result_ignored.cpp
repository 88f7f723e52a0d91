// A result is a verdict: dropping it must not compile under -Werror.
// expect-error: nodiscard|warn_unused_result|ignoring return value
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
void use(fw::parser& p, const fw::signing_key& key, std::string_view body, std::string_view sig) {
  (void)p.parse(body);
#ifdef FW_EXPECT_FAIL
  fw::verify(key, body, sig);
#else
  (void)fw::verify(key, body, sig);
#endif
}
