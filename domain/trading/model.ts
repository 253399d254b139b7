/**
 * Trading vocabulary: symbols, quotes, accounts, positions, deals and account state, shaped after a
 * MetaTrader 5 server in hedging mode so the simulator (domain/trading/simulator) can stand in for one.
 *
 * Invariants:
 * - money is a bigint count of minor units of the account currency (CURRENCIES[code].exponent), never a float
 * - a price is a bigint count of points of its symbol: price = points / 10^digits (EURUSD 1.08512 = 108512n)
 * - a volume is a bigint in MT5 volume units: lots x 10,000 (0.01 lot = 100n, 1 lot = 10_000n)
 * - logins, order tickets, deal ids and position ids are positive safe integers; a position's id is the
 *   ticket of the order that opened it (MT5 convention)
 * - a deal is immutable once written; deal ids grow strictly (1, 2, 3, ...) per server
 * - balance = sum over the account's deals whose action is not 'credit' of (profit + commission + storage);
 *   credit = sum of the profit of its 'credit' deals (a balance operation's amount is its deal's profit, as in MT5)
 */
import { roundHalfEven } from '../money/index.ts';
import type { InstrumentClass } from '../onboarding/catalog.ts';

/** MT5 volume units per lot. */
export const VOLUME_PER_LOT = 10_000n;

export type Side = 'buy' | 'sell';

export interface SymbolSpec {
  symbol: string;
  /** Digits after the decimal point of a price: a price is points / 10^digits. */
  digits: number;
  /** Units of the base asset in one lot (100,000 for FX, 100 oz for XAUUSD, ...). */
  contractSize: bigint;
  instrumentClass: InstrumentClass;
  /** Base asset code (a currency code for FX pairs; 'XAU', 'US500', ... otherwise). */
  base: string;
  /** Quote (profit) currency: a known currency code (domain/money/currencies.ts). */
  quote: string;
  /** MT5 volume units (lots x 10,000). */
  volumeMin: bigint;
  volumeMax: bigint;
  volumeStep: bigint;
  /** Swap in points per lot per day for a buy / a sell; positive is credited to the client. */
  swapLongPoints: bigint;
  swapShortPoints: bigint;
  /** Commission per lot per side in minor units of the ACCOUNT currency (the same number for every account). */
  commissionPerLot?: bigint;
}

export interface Quote {
  symbol: string;
  bid: bigint;
  ask: bigint;
  /** Milliseconds since the epoch. */
  time: number;
}

export interface TradingAccount {
  login: number;
  currency: string;
  /** N for N:1. */
  leverage: number;
  group: string;
  retail: boolean;
  /** Percent (integer). Informational: the simulator does not act on a margin call. */
  marginCallLevel: number;
  /** Percent (integer): below it positions are closed, most losing first. */
  stopOutLevel: number;
  /** Per-class leverage caps applied to retail accounts (N for N:1). */
  leverageCaps: Readonly<Record<InstrumentClass, number>>;
  /** A read-only account may not trade; balance operations still apply. */
  readOnly: boolean;
}

/** An open position as seen at the current quotes. */
export interface Position {
  positionId: number;
  login: number;
  symbol: string;
  side: Side;
  /** Open volume now (MT5 units). */
  volume: bigint;
  /** Volume at open; volume + every closed volume = volumeInitial. */
  volumeInitial: bigint;
  openPrice: bigint;
  openTimeMsc: number;
  /** Accumulated swap not yet realised, account minor units. */
  storage: bigint;
  /** The price it would close at now without slippage (bid for a buy, ask for a sell). */
  priceCurrent: bigint;
  /** Floating P/L at priceCurrent, account minor units (swap excluded: see storage). */
  profit: bigint;
  /** The symbol's digits, as adapters report a position (a price is points / 10^digits). */
  digits?: number;
}

export const BALANCE_OPERATIONS = ['balance', 'credit', 'charge', 'correction', 'bonus'] as const;
export type BalanceOperation = (typeof BALANCE_OPERATIONS)[number];

export type DealAction = Side | BalanceOperation | 'commission' | 'so_compensation';
export type DealEntry = 'in' | 'out' | 'inout' | 'out_by';
export type DealReason = 'client' | 'stop_out' | 'dealer';

export interface Deal {
  deal: number;
  login: number;
  /** Ticket of the order behind the deal; 0 for balance operations and compensations. */
  order: number;
  action: DealAction;
  entry: DealEntry;
  reason: DealReason;
  timeMsc: number;
  /** '' for balance operations. */
  symbol: string;
  /** Points; 0n for balance operations. */
  price: bigint;
  /** MT5 units; 0n for balance operations. */
  volume: bigint;
  /** Realised P/L of a closing deal, or the amount of a balance operation; account minor units. */
  profit: bigint;
  /** Commission charged on this deal (<= 0 for trades); account minor units. */
  commission: bigint;
  /** Swap realised by this deal; account minor units. */
  storage: bigint;
  /** 0 for balance operations. */
  positionId: number;
  comment: string;
  externalId?: string;
  /**
   * A trade deal's value in account minor units (volume x contract size x price, converted from the symbol's
   * profit currency at the platform's rate of the deal), rounded down; absent for balance operations and where
   * the platform does not report the rate. Trading turnover (the AML round-trip rule) is the sum of it.
   */
  notional?: bigint;
  /** As adapters report a deal: the account currency and the symbol's digits (a price is points / 10^digits). */
  currency?: string;
  digits?: number;
}

export interface AccountState {
  login: number;
  currency: string;
  balance: bigint;
  credit: bigint;
  /** balance + credit + profit. */
  equity: bigint;
  /** Sum of the required margin of the open positions. */
  margin: bigint;
  /** equity - margin. */
  freeMargin: bigint;
  /** equity / margin x 100 as a decimal string with 2 decimals (half-even), null when margin is 0. */
  marginLevel: string | null;
  /** Floating: sum over open positions of profit + storage. */
  profit: bigint;
}

/** equity / margin x 100 with 2 decimals, half-even; null when there is no margin (AccountState.marginLevel). */
export function marginLevel(equity: bigint, margin: bigint): string | null {
  if (margin <= 0n) return null;
  const hundredths = roundHalfEven(equity * 10_000n, margin);
  const abs = hundredths < 0n ? -hundredths : hundredths;
  const digits = abs.toString().padStart(3, '0');
  return `${hundredths < 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** A scaled integer as a decimal string with `digits` places (a price in points: 108512n, 5 -> "1.08512"). */
export function formatPoints(points: bigint, digits: number): string {
  if (digits === 0) return points.toString();
  const neg = points < 0n;
  const s = (neg ? -points : points).toString().padStart(digits + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}
