// Consent events never carry account_ids: reading them must not compile.
// expect-error: account_ids
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
std::size_t count(const fw::consent_revoked& revoked, const fw::banking_balances_sync_completed& balances) {
  std::size_t n = balances.account_ids.size();
#ifdef FW_EXPECT_FAIL
  n += revoked.account_ids.size();
#endif
  (void)revoked;
  return n;
}
