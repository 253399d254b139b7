/**
 * Reading trading accounts (GET /v1/trading-accounts, GET /v1/trading-accounts/{id}, .../positions, .../deals;
 * clients, and staff through the same routes). ADR 0016.
 *
 * Invariants:
 * - a client reads its own accounts only (another's is 404 trading_account_not_found); staff who read accounts
 *   (TRADING_STAFF_READERS) read any
 * - balance, equity, margin, free margin and margin level come from the platform, cached a few seconds per
 *   login in the container (shared.ts accountState); an unreachable platform leaves `state` null with
 *   `stateError: platform_unavailable` on the list (the accounts themselves are ours) and is 503 on one account
 * - positions come from the platform; deals from the ingested deal stream (newest first, cursor-paged), so the
 *   history is the one every other part of the product reads
 * - read-only: nothing is written
 */
import type { Caller } from '#domain/identity/roles.ts';
import { isTradingError } from '#domain/trading/errors.ts';
import type { AccountState, Position } from '#domain/trading/model.ts';
import type { Page } from '#store/pagination.ts';
import { type DealItem, listAccountDeals, listClientTradingAccounts, type TradingAccountItem } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { accountState, activeLogin, platformOf, readableAccount } from './shared.ts';

export interface AccountWithState {
  account: TradingAccountItem;
  state: AccountState | null;
  stateError?: 'platform_unavailable';
}

async function withState(account: TradingAccountItem, tolerant: boolean): Promise<AccountWithState> {
  if (account.status !== 'active') return { account, state: null };
  try {
    return { account, state: await accountState(account) };
  } catch (err) {
    if (tolerant && isTradingError(err) && err.retryable) return { account, state: null, stateError: 'platform_unavailable' };
    throw err;
  }
}

/** The caller's accounts (oldest first) with their platform state. */
export async function listTradingAccounts(
  input: { limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<Page<AccountWithState>> {
  const page = await listClientTradingAccounts(caller.sub, input);
  return { ...page, items: await Promise.all(page.items.map((a) => withState(a, true))) };
}

export async function getTradingAccountView(
  input: { accountId: string },
  caller: Caller,
  _ctx: CommandContext,
): Promise<AccountWithState & { staff: boolean }> {
  const { account, staff } = await readableAccount(input.accountId, caller);
  return { ...(await withState(account, false)), staff };
}

export async function listPositions(
  input: { accountId: string },
  caller: Caller,
  _ctx: CommandContext,
): Promise<{ account: TradingAccountItem; positions: Position[] }> {
  const { account } = await readableAccount(input.accountId, caller);
  const positions = await (await platformOf(account)).positions(activeLogin(account));
  return { account, positions };
}

export async function listDeals(
  input: { accountId: string; limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<{ account: TradingAccountItem; page: Page<DealItem> }> {
  const { account } = await readableAccount(input.accountId, caller);
  return { account, page: await listAccountDeals(account.accountId, { limit: input.limit, cursor: input.cursor }) };
}
