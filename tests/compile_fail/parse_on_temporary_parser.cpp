// A temporary parser would leave the event's views dangling at once.
// expect-error: delete
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
void use(std::string_view body) {
  fw::parser p;
  (void)p.parse(body);
#ifdef FW_EXPECT_FAIL
  (void)fw::parser{}.parse(body);
#endif
}
