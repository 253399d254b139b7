/**
 * Trading accounts and the money moved between a client's wallet and its accounts: the rules, pure (no I/O).
 * The store (functions/store/trading.ts) keeps them; the use cases (functions/app/trading/) run them against
 * the platform port (port.ts). ADR 0016.
 *
 * Invariants:
 * - an account id and a transfer id are derived from (client or account, Idempotency-Key), so a retried request
 *   finds the same account or transfer; a transfer id is at most 26 characters of [A-Za-z0-9_-], which every
 *   adapter can carry as the platform operation's external id (MT5 keeps it in a 31-character comment)
 * - an account is 'opening' until the platform answered with a login, then 'active'; 'failed' when the platform
 *   refused it. Its access is 'full', 'read_only' (may not trade; money may still move) or 'disabled' (nothing)
 * - a transfer is 'pending' until it is 'completed' or 'failed' (with a reason code), never back
 * - deposit (wallet -> account): the ledger is debited first, then the platform credited; a refusal reverses
 *   the journal. Withdrawal (account -> wallet): the platform is debited first, then the ledger credited; a
 *   refusal changes nothing. Either way the platform operation carries the transfer id as its external id
 * - a withdrawal from an account is at most its free margin and its balance (422 no_money, naming both)
 * - the first deposit into a live account is at least the type's minimum (422 amount_below_first_deposit_minimum)
 * - money is bigint minor units of the account currency
 */
import { createHash } from 'node:crypto';
import { DomainError } from '../errors.ts';
import { formatAmount } from '../money/index.ts';
import type { AccountState, Deal } from './model.ts';

export const TRADING_ACCOUNT_STATUSES = ['opening', 'active', 'failed'] as const;
export type TradingAccountStatus = (typeof TRADING_ACCOUNT_STATUSES)[number];

export const ACCOUNT_ACCESS = ['full', 'read_only', 'disabled'] as const;
export type AccountAccess = (typeof ACCOUNT_ACCESS)[number];

export const TRANSFER_DIRECTIONS = ['deposit', 'withdrawal'] as const;
/** deposit: wallet -> trading account; withdrawal: trading account -> wallet. */
export type TransferDirection = (typeof TRANSFER_DIRECTIONS)[number];

export const TRANSFER_STATUSES = ['pending', 'completed', 'failed'] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];

const digest = (parts: string[], length: number) =>
  createHash('sha256').update(parts.join('\u0000'), 'utf8').digest('hex').slice(0, length);

/** The account a client's open request with this Idempotency-Key creates (`ta_` + 29 hex). */
export const tradingAccountIdFor = (clientId: string, idempotencyKey: string) => `ta_${digest([clientId, idempotencyKey], 29)}`;

/** The transfer a request on this account with this Idempotency-Key makes (`tt_` + 23 hex: 26 characters). */
export const tradingTransferIdFor = (accountId: string, idempotencyKey: string) =>
  `tt_${digest([accountId, idempotencyKey], 23)}`;

/** The ledger account of a live trading account: what the client moved to it, net (kind trading_account). */
export const ledgerAccountIdOf = (accountId: string) => `tacc_${accountId}`;

/** The external id of a demo account's starting balance (applied once, like a transfer; 26 characters). */
export const demoFundingIdOf = (accountId: string) => `demo_${accountId.slice(3, 24)}`;

/** Access as the platform's two switches. */
export const accessSwitches = (access: AccountAccess) => ({ readOnly: access !== 'full', disabled: access === 'disabled' });

/** 422 no_money unless `amount` <= free margin and <= balance (what a withdrawal from the account may take). */
export function assertWithdrawable(state: AccountState, amount: bigint): void {
  // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers)
  const limit = state.freeMargin < state.balance ? state.freeMargin : state.balance;
  if (amount <= limit) return;
  const free = formatAmount(state.freeMargin > 0n ? state.freeMargin : 0n, state.currency);
  throw new DomainError(
    'no_money',
    'unprocessable',
    `At most ${formatAmount(limit > 0n ? limit : 0n, state.currency)} ${state.currency} can leave the account now (free margin ${free}, balance ${formatAmount(state.balance, state.currency)})`,
    [{ field: 'amount', code: 'no_money', message: 'More than the free margin' }],
    {
      freeMargin: { amount: free, currency: state.currency },
      balance: { amount: formatAmount(state.balance, state.currency), currency: state.currency },
    },
  );
}

/** 422 amount_below_first_deposit_minimum when the first deposit into a live account is under the type's minimum. */
export function assertFirstDeposit(amount: bigint, minimum: bigint | undefined, currency: string): void {
  if (minimum === undefined || amount >= minimum) return;
  throw new DomainError(
    'amount_below_first_deposit_minimum',
    'unprocessable',
    `The first deposit into this account is at least ${formatAmount(minimum, currency)} ${currency}`,
    [{ field: 'amount', code: 'amount_below_first_deposit_minimum', message: 'Below the minimum first deposit' }],
    { minimum: { amount: formatAmount(minimum, currency), currency } },
  );
}

/** What a deal is to the rest of the product: a position opened, a deal that closed (part of) one, or money. */
export type DealKind = 'position_opened' | 'deal_closed' | 'balance_changed';

export function dealKind(d: Pick<Deal, 'action' | 'entry'>): DealKind {
  if (d.action !== 'buy' && d.action !== 'sell') return 'balance_changed';
  return d.entry === 'in' ? 'position_opened' : 'deal_closed';
}

/** The hour bucket (UTC, `yyyy-mm-ddThh`) a deal's turnover is counted in. */
export const turnoverHour = (timeMsc: number) => new Date(timeMsc).toISOString().slice(0, 13);

/** The hour buckets from `from` to `to` inclusive (at most `max`, newest kept): what a turnover window sums. */
export function turnoverHours(from: Date, to: Date, max = 24 * 31): string[] {
  const hours: string[] = [];
  const start = Math.floor(from.getTime() / 3_600_000);
  const end = Math.floor(to.getTime() / 3_600_000);
  for (let h = Math.max(start, end - max + 1); h <= end; h++) hours.push(turnoverHour(h * 3_600_000));
  return hours;
}
