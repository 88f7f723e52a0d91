// expect-error: delete
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
void use() {
  fw::parser p;
  fw::parser moved = std::move(p);
  (void)moved;
#ifdef FW_EXPECT_FAIL
  fw::parser copy = moved;
  (void)copy;
#endif
}
