/**
 * The simulator's whole state, and its snapshot: plain JSON (bigints as decimal strings) that restores to an
 * identical state, so the local runtime can persist the simulated server across restarts.
 *
 * Invariants:
 * - restore(snapshot(s)) is s: same markets (in order), accounts (in order), positions, deals, counters,
 *   clock and RNG state, hence the same behaviour for the same subsequent calls
 * - JSON.parse(JSON.stringify(snapshot)) is the snapshot: only strings, numbers, booleans, arrays and
 *   plain objects; optional fields that are absent are omitted, never null or undefined
 * - the externalId index is not stored: it is rebuilt from the deals, which carry their externalId
 */
import type { Deal, TradingAccount } from '../model.ts';
import type { Market } from './quotes.ts';

export interface AccountRecord extends TradingAccount {
  balance: bigint;
  credit: bigint;
}

export interface PositionRecord {
  positionId: number;
  login: number;
  symbol: string;
  side: 'buy' | 'sell';
  volume: bigint;
  volumeInitial: bigint;
  openPrice: bigint;
  openTimeMsc: number;
  storage: bigint;
}

export interface SimState {
  /** The simulated clock: the latest `now` seen (ms); it never goes back. */
  clockMsc: number;
  rngState: number;
  nextOrder: number;
  nextDeal: number;
  markets: Map<string, Market>;
  accounts: Map<number, AccountRecord>;
  positions: Map<number, PositionRecord>;
  /** Ordered by deal id. */
  deals: Deal[];
  byExternalId: Map<string, Deal>;
}

/** T with every bigint as a decimal string. */
export type Json<T> = T extends bigint
  ? string
  : T extends string | number | boolean | null | undefined
    ? T
    : T extends readonly (infer U)[]
      ? Json<U>[]
      : { [K in keyof T]: Json<T[K]> };

export const SNAPSHOT_VERSION = 1;

export interface SimulatorSnapshot {
  version: typeof SNAPSHOT_VERSION;
  clockMsc: number;
  rngState: number;
  nextOrder: number;
  nextDeal: number;
  markets: Json<Market>[];
  accounts: Json<AccountRecord>[];
  positions: Json<PositionRecord>[];
  deals: Json<Deal>[];
}

/** Deep copy with bigints as strings and undefined properties left out. */
export function toJson<T>(value: T): Json<T> {
  if (typeof value === 'bigint') return value.toString() as Json<T>;
  if (Array.isArray(value)) return value.map(toJson) as Json<T>;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out as Json<T>;
  }
  return value as Json<T>;
}

const INTEGER = /^-?\d+$/;

/** A shallow copy of `json` with `keys` parsed back to bigints; `optional` keys may be absent. */
function bigints<T>(json: object, keys: readonly string[], optional: readonly string[] = []): T {
  const out: Record<string, unknown> = { ...json };
  for (const k of [...keys, ...optional]) {
    const v = out[k];
    if (v === undefined && optional.includes(k)) continue;
    if (typeof v !== 'string' || !INTEGER.test(v)) throw new Error(`Snapshot: ${k} must be an integer string`);
    out[k] = BigInt(v);
  }
  return out as T;
}

export function encodeState(s: SimState): SimulatorSnapshot {
  return {
    version: SNAPSHOT_VERSION,
    clockMsc: s.clockMsc,
    rngState: s.rngState,
    nextOrder: s.nextOrder,
    nextDeal: s.nextDeal,
    markets: [...s.markets.values()].map(toJson),
    accounts: [...s.accounts.values()].map(toJson),
    positions: [...s.positions.values()].map(toJson),
    deals: s.deals.map(toJson),
  };
}

const decodeMarket = (m: Json<Market>): Market => ({
  ...bigints<Market>(m, ['spreadPoints', 'volatilityPoints', 'slippagePoints']),
  spec: bigints(
    m.spec,
    ['contractSize', 'volumeMin', 'volumeMax', 'volumeStep', 'swapLongPoints', 'swapShortPoints'],
    ['commissionPerLot'],
  ),
  quote: bigints(m.quote, ['bid', 'ask']),
});

export function decodeState(snap: SimulatorSnapshot): SimState {
  if (snap?.version !== SNAPSHOT_VERSION) throw new Error(`Snapshot: unsupported version ${String(snap?.version)}`);
  const deals = snap.deals.map((d) => Object.freeze(bigints<Deal>(d, ['price', 'volume', 'profit', 'commission', 'storage'])));
  const accounts = snap.accounts.map((a) => {
    const rec = bigints<AccountRecord>(a, ['balance', 'credit']);
    return { ...rec, leverageCaps: Object.freeze({ ...rec.leverageCaps }) };
  });
  const positions = snap.positions.map((p) => bigints<PositionRecord>(p, ['volume', 'volumeInitial', 'openPrice', 'storage']));
  return {
    clockMsc: snap.clockMsc,
    rngState: snap.rngState,
    nextOrder: snap.nextOrder,
    nextDeal: snap.nextDeal,
    markets: new Map(snap.markets.map((m) => [m.spec.symbol, decodeMarket(m)])),
    accounts: new Map(accounts.map((a) => [a.login, a])),
    positions: new Map(positions.map((p) => [p.positionId, p])),
    deals,
    byExternalId: new Map(deals.filter((d) => d.externalId !== undefined).map((d) => [d.externalId!, d])),
  };
}
