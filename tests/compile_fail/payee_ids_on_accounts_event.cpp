// expect-error: payee_ids
#include <fiskil/webhooks.hpp>
namespace fw = fiskil::webhooks;
std::size_t count(const fw::banking_accounts_sync_completed& accounts, const fw::banking_payees_sync_completed& payees) {
  std::size_t n = payees.payee_ids.size() + accounts.account_ids.size();
#ifdef FW_EXPECT_FAIL
  n += accounts.payee_ids.size();
#endif
  return n;
}
