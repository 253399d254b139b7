/**
 * The staff view of one client's trading accounts (GET /v1/admin/clients/{clientId}/trading-accounts): every
 * account with its platform, group, login, leverage, access, platform state, and the differences between the
 * platform's balance operations and the ledger (reconcile-accounts.ts), computed now. ADR 0016.
 *
 * Invariants: staff in TRADING_STAFF_READERS only (403 forbidden for anyone else, whatever the route admits); an unreachable
 * platform leaves that account's state null (stateError platform_unavailable) rather than failing the view;
 * read-only.
 */
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { isTradingError } from '#domain/trading/errors.ts';
import { allClientTradingAccounts } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import type { AccountWithState } from './read-accounts.ts';
import { reconcileAccount, type TradingFinding } from './reconcile-accounts.ts';
import { accountState, TRADING_STAFF_READERS } from './shared.ts';

export async function clientTradingAccounts(
  input: { clientId: string },
  caller: Caller,
  _ctx: CommandContext,
): Promise<(AccountWithState & { discrepancies: TradingFinding[] })[]> {
  if (!caller.isStaff || !caller.roles.some((r) => TRADING_STAFF_READERS.includes(r))) {
    throw new DomainError('forbidden', 'forbidden', 'Only staff may read a client’s trading accounts');
  }
  const accounts = await allClientTradingAccounts(input.clientId);
  return Promise.all(
    accounts.map(async (account) => {
      let state: AccountWithState = { account, state: null };
      if (account.status === 'active') {
        try {
          state = { account, state: await accountState(account) };
        } catch (err) {
          if (!(isTradingError(err) && err.retryable)) throw err;
          state = { account, state: null, stateError: 'platform_unavailable' };
        }
      }
      const discrepancies = account.kind === 'live' && account.status === 'active' ? await reconcileAccount(account) : [];
      return { ...state, discrepancies };
    }),
  );
}
