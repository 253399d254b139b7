/**
 * The trading account views the trading API modules share (functions/api/trading-accounts.ts, trading-admin.ts):
 * the response schemas and how an account, its state, positions, deals and transfers are presented.
 *
 * Invariants: money is JSON { amount, currency } with the currency's decimals; prices are decimal strings with the
 * symbol's digits as the platform reported them; volumes are lots as decimal strings (MT5 units / 10,000); the
 * platform group is shown to staff only.
 */
import * as z from 'zod';
import type { DealItem, TradingAccountItem, TransferItem } from '#app/trading/shared.ts';
import { formatAmount } from '#domain/money/index.ts';
import { ACCOUNT_KINDS } from '#domain/trading/account-types.ts';
import { TRANSFER_DIRECTIONS } from '#domain/trading/accounts.ts';
import { type AccountState, formatPoints, type Position } from '#domain/trading/model.ts';
import { REPLAYED_HEADER } from '#middleware/http.ts';

const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
export const AccountParams = z.strictObject({ accountId: Id });
export const TransferParams = z.strictObject({ accountId: Id, transferId: Id });

export const MoneyOut = z.object({ amount: z.string(), currency: z.string() });
export const StateView = z.object({
  balance: MoneyOut,
  credit: MoneyOut,
  equity: MoneyOut,
  margin: MoneyOut,
  freeMargin: MoneyOut,
  marginLevel: z.string().nullable().meta({ description: 'Percent, 2 decimals; null without open positions' }),
  profit: MoneyOut,
});
export const AccountView = z.object({
  accountId: z.string(),
  kind: z.enum(ACCOUNT_KINDS),
  platform: z.string(),
  server: z.string(),
  accountType: z.string(),
  currency: z.string(),
  leverage: z.number(),
  status: z.enum(['opening', 'active', 'failed']),
  access: z.enum(['full', 'read_only', 'disabled']),
  login: z.number().optional(),
  group: z.string().optional().meta({ description: 'Staff only: the platform group' }),
  failureReason: z.string().optional(),
  state: StateView.nullable(),
  stateError: z.literal('platform_unavailable').optional(),
  createdAt: z.string(),
});
export const OpenedView = AccountView.extend({
  passwords: z
    .object({ main: z.string(), investor: z.string() })
    .optional()
    .meta({ description: 'Shown once, in the answer that created the account; never stored' }),
});
export const PositionView = z.object({
  positionId: z.number(),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  lots: z.string(),
  openPrice: z.string(),
  currentPrice: z.string(),
  openedAt: z.string(),
  swap: MoneyOut,
  profit: MoneyOut,
});
export const DealView = z.object({
  deal: z.number(),
  time: z.string(),
  action: z.string(),
  entry: z.string(),
  reason: z.string(),
  symbol: z.string(),
  lots: z.string(),
  price: z.string(),
  positionId: z.number(),
  profit: MoneyOut,
  commission: MoneyOut,
  swap: MoneyOut,
  comment: z.string(),
});
export const TransferView = z.object({
  transferId: z.string(),
  accountId: z.string(),
  direction: z.enum(TRANSFER_DIRECTIONS),
  amount: MoneyOut,
  status: z.enum(['pending', 'completed', 'failed']),
  reason: z.string().optional().meta({ description: 'Why it failed: no_money, trade_disabled, ... (a stable code)' }),
  walletId: z.string(),
  createdAt: z.string(),
  completedAt: z.string().optional(),
});

// ------------------------------------------------------------------------------------------------ views

const money = (n: bigint, currency: string) => ({ amount: formatAmount(n, currency), currency });
const lots = (volume: bigint) => {
  const s = volume.toString().padStart(5, '0');
  return `${s.slice(0, -4)}.${s.slice(-4)}`.replace(/(\.\d\d)0+$/, '$1').replace(/(\.\d\d\d)0$/, '$1');
};
/** The symbol's digits as the adapter reported them; without them a price is shown in points. */
const digitsOfPrice = (p: Position) => p.digits ?? 0;

function stateView(s: AccountState) {
  return {
    balance: money(s.balance, s.currency),
    credit: money(s.credit, s.currency),
    equity: money(s.equity, s.currency),
    margin: money(s.margin, s.currency),
    freeMargin: money(s.freeMargin, s.currency),
    marginLevel: s.marginLevel,
    profit: money(s.profit, s.currency),
  };
}

export function accountView(
  a: TradingAccountItem,
  state: AccountState | null,
  opts: { staff?: boolean; stateError?: 'platform_unavailable' | undefined } = {},
) {
  return {
    accountId: a.accountId,
    kind: a.kind,
    platform: a.platform,
    server: a.server,
    accountType: a.typeId,
    currency: a.currency,
    leverage: a.leverage,
    status: a.status,
    access: a.access,
    ...(a.login ? { login: a.login } : {}),
    ...(opts.staff ? { group: a.group } : {}),
    ...(a.failureReason ? { failureReason: a.failureReason } : {}),
    state: state ? stateView(state) : null,
    ...(opts.stateError ? { stateError: opts.stateError } : {}),
    createdAt: a.createdAt,
  };
}

export const positionView = (p: Position, currency: string) => ({
  positionId: p.positionId,
  symbol: p.symbol,
  side: p.side,
  lots: lots(p.volume),
  openPrice: formatPoints(p.openPrice, digitsOfPrice(p)),
  currentPrice: formatPoints(p.priceCurrent, digitsOfPrice(p)),
  openedAt: new Date(p.openTimeMsc).toISOString(),
  swap: money(p.storage, currency),
  profit: money(p.profit, currency),
});

export const dealView = (d: DealItem) => ({
  deal: d.deal,
  time: new Date(d.timeMsc).toISOString(),
  action: d.action,
  entry: d.entry,
  reason: d.reason,
  symbol: d.symbol,
  lots: lots(BigInt(d.volume)),
  price: formatPoints(BigInt(d.price), d.digits),
  positionId: d.positionId,
  profit: money(BigInt(d.profit), d.currency),
  commission: money(BigInt(d.commission), d.currency),
  swap: money(BigInt(d.storage), d.currency),
  comment: d.comment,
});

export const transferView = (t: TransferItem) => ({
  transferId: t.transferId,
  accountId: t.accountId,
  direction: t.direction,
  amount: t.amount,
  status: t.status,
  ...(t.reason ? { reason: t.reason } : {}),
  walletId: t.walletId,
  createdAt: t.createdAt,
  ...(t.completedAt ? { completedAt: t.completedAt } : {}),
});

export const replayedHeaders = (replayed: boolean) => (replayed ? { headers: { [REPLAYED_HEADER]: 'true' } } : {});
