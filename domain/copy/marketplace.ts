/**
 * Copy trading: what the marketplace serves beside the return statistics of statistics.ts (issue 15). Pure: no I/O,
 * no clock (callers pass dates and instants).
 *
 * Invariants:
 * - a day is a calendar date 'YYYY-MM-DD' in the tenant's time zone (calendarDate); the daily snapshot taken just
 *   after midnight is the closing equity of the day before it (previousDay)
 * - external flows are the balance operations that move money in or out without trading: EXTERNAL_FLOW_ACTIONS
 *   ('balance': deposits and withdrawals, 'credit', 'bonus'); 'charge' and 'correction' stay in the performance
 *   (a fee or a dealer's correction of a trade is a result, not money the provider brought or took)
 * - a closed trade is one closing deal (entry out / inout / out_by of a buy or sell) of a position; its result is the
 *   deal's profit + commission + swap plus its share of the opening deal's commission and swap, shared by closed
 *   volume so that the shares of a position's closes sum exactly to the opening deal's (cumulative truncation);
 *   it opened at the position's opening deal (or, when that deal is unknown, at its own time: duration 0)
 * - the risk score is the class 1..10 of max(annualised volatility, maximum drawdown) on
 *   RISK_SCORE_VOLATILITY_BANDS (statistics.ts): the higher of the volatility class and the drawdown class; null
 *   while the volatility is undefined (fewer than two returns)
 * - ranking: a strategy is ranked when statistics.ts isRanked says so; every ranked one comes before every new one;
 *   within each group the order is the sort key's (nulls last in either direction, then newest first, then id), and
 *   ranked ones get rank 1..n in that order; new ones have no rank. Filters drop a strategy whose filtered value is
 *   unknown (null)
 */
import { DomainError } from '../errors.ts';
import { type ClosedDeal, dayNumber, isRanked, type RiskScore, riskScore, strategyAgeDays } from './statistics.ts';

export const EXTERNAL_FLOW_ACTIONS: readonly string[] = Object.freeze(['balance', 'credit', 'bonus']);
const CLOSING_ENTRIES = new Set(['out', 'inout', 'out_by']);

const DAY_MS = 86_400_000;

const minBig = (a: bigint, b: bigint) => (a < b ? a : b);

/** The calendar date of `at` in `timeZone` (IANA), 'YYYY-MM-DD'. */
export function calendarDate(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    at,
  );
  const part = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** The date `days` after `date` (negative: before). */
export const addDays = (date: string, days: number): string =>
  new Date((dayNumber(date) + days) * DAY_MS).toISOString().slice(0, 10);

/** The day before `date`. */
export const previousDay = (date: string): string => addDays(date, -1);

/** Whether a deal's action is an external flow (module invariants). */
export const isExternalFlow = (action: string) => EXTERNAL_FLOW_ACTIONS.includes(action);

/** One stored deal as closedDeals reads it (minor units and MT5 volume units as integers). */
export interface DealRow {
  deal: number;
  action: string;
  entry: string;
  positionId: number;
  timeMsc: number;
  volume: bigint;
  profit: bigint;
  commission: bigint;
  storage: bigint;
}

/**
 * The closed trades of an account's deals (module invariants), with each trade's closing deal; `include` says which
 * closing deals count (e.g. a time window). Deals may come in any order: they are taken by time, then deal id.
 */
export function closedDeals<R extends DealRow>(
  deals: readonly R[],
  include: (closing: R) => boolean = () => true,
): (ClosedDeal & { deal: number })[] {
  const ordered = [...deals].sort((a, b) => a.timeMsc - b.timeMsc || a.deal - b.deal);
  const opens = new Map<number, { timeMsc: number; volume: bigint; costs: bigint; closed: bigint }>();
  const out: (ClosedDeal & { deal: number })[] = [];
  for (const d of ordered) {
    if (d.action !== 'buy' && d.action !== 'sell') continue;
    if (d.entry === 'in') {
      if (d.positionId > 0)
        opens.set(d.positionId, { timeMsc: d.timeMsc, volume: d.volume, costs: d.commission + d.storage, closed: 0n });
      continue;
    }
    if (!CLOSING_ENTRIES.has(d.entry)) continue;
    const open = opens.get(d.positionId);
    let share = 0n;
    if (open && open.volume > 0n) {
      const before = open.closed;
      const after = minBig(before + d.volume, open.volume);
      share = (open.costs * after) / open.volume - (open.costs * before) / open.volume;
      open.closed = after;
    }
    if (!include(d)) continue;
    const openTimeMs = open && open.timeMsc <= d.timeMsc ? open.timeMsc : d.timeMsc;
    out.push({ deal: d.deal, openTimeMs, closeTimeMs: d.timeMsc, profit: d.profit + d.commission + d.storage + share });
  }
  return out;
}

/** The marketplace's risk score (module invariants): the class of max(volatility, max drawdown); null without volatility. */
export function strategyRiskScore(annualVolatility: number | null, maxDrawdown: number | null): RiskScore | null {
  if (annualVolatility === null || !Number.isFinite(annualVolatility)) return null;
  const dd = maxDrawdown !== null && Number.isFinite(maxDrawdown) ? maxDrawdown : 0;
  return riskScore(Math.max(annualVolatility, dd));
}

// ------------------------------------------------------------------------------------------------ ranking

export const MARKETPLACE_SORTS = [
  'newest',
  'return',
  'annual_return',
  'sharpe',
  'sortino',
  'calmar',
  'max_drawdown',
  'volatility',
  'win_rate',
  'followers',
  'aum',
  'age',
  'risk',
] as const;
export type MarketplaceSort = (typeof MARKETPLACE_SORTS)[number];

/** What ranking reads of a strategy and its statistics summary. */
export interface RankInput {
  strategyId: string;
  createdAt: string;
  currency: string;
  /** The first day of its equity series (null: none yet). */
  firstDate: string | null;
  totalReturn: number | null;
  annualReturn: number | null;
  sharpeRatio: number | null;
  sortinoRatio: number | null;
  calmarRatio: number | null;
  maxDrawdown: number | null;
  annualVolatility: number | null;
  winRate: number | null;
  riskScore: number | null;
  followers: number;
  /** Assets under copy, minor units of `currency`. */
  assetsUnderCopy: bigint;
}

export interface RankOptions {
  sort: MarketplaceSort;
  /** Overrides the sort's natural direction (descending for returns and ratios, ascending for drawdown, volatility, risk). */
  order?: 'asc' | 'desc' | undefined;
  asOf: string;
  minRankedDays: number;
  filters?: {
    riskScoreMax?: number | undefined;
    ageDaysMin?: number | undefined;
    currency?: string | undefined;
    maxDrawdownMax?: number | undefined;
    /** true: ranked only; false: new only. */
    ranked?: boolean | undefined;
  };
}

export interface Ranked<T> {
  item: T;
  ageDays: number;
  isNew: boolean;
  /** 1..n among the ranked strategies of this order; null for a new one. */
  rank: number | null;
}

type Key = number | bigint | string | null;

const NATURAL: Readonly<Record<MarketplaceSort, 'asc' | 'desc'>> = {
  newest: 'desc',
  return: 'desc',
  annual_return: 'desc',
  sharpe: 'desc',
  sortino: 'desc',
  calmar: 'desc',
  max_drawdown: 'asc',
  volatility: 'asc',
  win_rate: 'desc',
  followers: 'desc',
  aum: 'desc',
  age: 'desc',
  risk: 'asc',
};

function keyOf(s: RankInput, sort: MarketplaceSort, ageDays: number): Key {
  switch (sort) {
    case 'newest':
      return s.createdAt;
    case 'return':
      return s.totalReturn;
    case 'annual_return':
      return s.annualReturn;
    case 'sharpe':
      return s.sharpeRatio;
    case 'sortino':
      return s.sortinoRatio;
    case 'calmar':
      return s.calmarRatio;
    case 'max_drawdown':
      return s.maxDrawdown;
    case 'volatility':
      return s.annualVolatility;
    case 'win_rate':
      return s.winRate;
    case 'followers':
      return s.followers;
    case 'aum':
      return s.assetsUnderCopy;
    case 'age':
      return ageDays;
    case 'risk':
      return s.riskScore;
  }
}

const compareKeys = (a: Key, b: Key): number => {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (typeof a === 'string' || typeof b === 'string') return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
  return a < b ? -1 : a > b ? 1 : 0;
};

/** Filters, sorts and ranks the marketplace (module invariants). */
export function rankStrategies<T extends RankInput>(items: readonly T[], options: RankOptions): Ranked<T>[] {
  if (!MARKETPLACE_SORTS.includes(options.sort)) {
    throw new DomainError('invalid_sort', 'validation', `Unknown sort: ${String(options.sort).slice(0, 40)}`);
  }
  const f = options.filters ?? {};
  const direction = (options.order ?? NATURAL[options.sort]) === 'asc' ? 1 : -1;
  const rows = items
    .map((item) => {
      const ageDays = strategyAgeDays(item.firstDate, options.asOf);
      const isNew = !isRanked(item.firstDate, options.asOf, options.minRankedDays);
      return { item, ageDays, isNew, key: keyOf(item, options.sort, ageDays) };
    })
    .filter(({ item, ageDays, isNew }) => {
      if (f.currency !== undefined && item.currency !== f.currency) return false;
      if (f.ageDaysMin !== undefined && ageDays < f.ageDaysMin) return false;
      if (f.riskScoreMax !== undefined && (item.riskScore === null || item.riskScore > f.riskScoreMax)) return false;
      if (f.maxDrawdownMax !== undefined && (item.maxDrawdown === null || item.maxDrawdown > f.maxDrawdownMax)) return false;
      if (f.ranked !== undefined && f.ranked === isNew) return false;
      return true;
    });
  rows.sort((a, b) => {
    if (a.isNew !== b.isNew) return a.isNew ? 1 : -1;
    if (a.key === null || b.key === null) {
      if (a.key !== b.key) return a.key === null ? 1 : -1;
    } else {
      const c = compareKeys(a.key, b.key) * direction;
      if (c !== 0) return c;
    }
    return compareKeys(b.item.createdAt, a.item.createdAt) || compareKeys(a.item.strategyId, b.item.strategyId);
  });
  let rank = 0;
  return rows.map(({ item, ageDays, isNew }) => ({ item, ageDays, isNew, rank: isNew ? null : ++rank }));
}
