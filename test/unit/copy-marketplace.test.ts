/**
 * domain/copy/marketplace.ts: the tenant day, closed trades from stored deals (the opening deal's costs shared by
 * closed volume, exactly), the risk score (the class of max(volatility, drawdown)), and the marketplace's ranking
 * (ranked before new, nulls last, filters, ranks 1..n).
 */
import { describe, expect, it } from 'vitest';
import {
  addDays,
  calendarDate,
  closedDeals,
  type DealRow,
  previousDay,
  type RankInput,
  rankStrategies,
  strategyRiskScore,
} from '#domain/copy/marketplace.ts';
import { riskScore } from '#domain/copy/statistics.ts';

const deal = (over: Partial<DealRow> & Pick<DealRow, 'deal' | 'entry' | 'timeMsc'>): DealRow => ({
  action: 'buy',
  positionId: 7,
  volume: 10_000n,
  profit: 0n,
  commission: 0n,
  storage: 0n,
  ...over,
});

describe('days', () => {
  it('the calendar date in the tenant zone, and the day before', () => {
    const at = new Date('2026-03-31T22:30:00Z');
    expect(calendarDate(at, 'UTC')).toBe('2026-03-31');
    expect(calendarDate(at, 'Europe/Nicosia')).toBe('2026-04-01');
    expect(calendarDate(at, 'America/New_York')).toBe('2026-03-31');
    expect(previousDay('2026-03-01')).toBe('2026-02-28');
    expect(previousDay('2024-03-01')).toBe('2024-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});

describe('closed trades', () => {
  it('one trade per closing deal, opened at the position’s opening deal, with its share of the opening costs', () => {
    const trades = closedDeals([
      deal({ deal: 1, entry: 'in', timeMsc: 1_000, commission: -7n }),
      deal({ deal: 2, entry: 'out', action: 'sell', timeMsc: 5_000, volume: 3_000n, profit: 100n, commission: -2n }),
      deal({ deal: 3, entry: 'out', action: 'sell', timeMsc: 9_000, volume: 7_000n, profit: -50n, storage: -1n }),
      deal({ deal: 4, action: 'balance', entry: 'in', positionId: 0, timeMsc: 2_000, profit: 1_000_00n }),
    ]);
    // opening commission -7 shared 3,000 / 10,000 then the rest: trunc(-2.1) = -2, then -5
    expect(trades).toEqual([
      { deal: 2, openTimeMs: 1_000, closeTimeMs: 5_000, profit: 100n - 2n - 2n },
      { deal: 3, openTimeMs: 1_000, closeTimeMs: 9_000, profit: -50n - 1n - 5n },
    ]);
    expect(trades.reduce((s, t) => s + t.profit, 0n)).toBe(100n - 2n - 50n - 1n - 7n);
  });

  it('a closing deal whose opening is unknown lasts 0; `include` picks closes (the costs are still shared)', () => {
    expect(closedDeals([deal({ deal: 9, entry: 'out', timeMsc: 4_000, profit: 5n, positionId: 99 })])).toEqual([
      { deal: 9, openTimeMs: 4_000, closeTimeMs: 4_000, profit: 5n },
    ]);
    const rows = [
      deal({ deal: 1, entry: 'in', timeMsc: 1_000, commission: -10n }),
      deal({ deal: 2, entry: 'out', timeMsc: 2_000, volume: 5_000n }),
      deal({ deal: 3, entry: 'out', timeMsc: 3_000, volume: 5_000n }),
    ];
    expect(closedDeals(rows, (d) => d.deal === 3)).toEqual([{ deal: 3, openTimeMs: 1_000, closeTimeMs: 3_000, profit: -5n }]);
  });
});

describe('risk score', () => {
  it('the higher of the volatility class and the drawdown class; null without volatility', () => {
    expect(strategyRiskScore(0.03, 0.01)).toBe(riskScore(0.03));
    expect(strategyRiskScore(0.03, 0.4)).toBe(riskScore(0.4));
    expect(strategyRiskScore(0.03, 0.4)).toBe(8);
    expect(strategyRiskScore(0, null)).toBe(1);
    expect(strategyRiskScore(null, 0.5)).toBeNull();
  });
});

describe('ranking', () => {
  const base = (id: string, over: Partial<RankInput> = {}): RankInput => ({
    strategyId: id,
    createdAt: `2026-01-0${id.length}T00:00:00Z`,
    currency: 'USD',
    firstDate: '2026-01-01',
    totalReturn: null,
    annualReturn: null,
    sharpeRatio: null,
    sortinoRatio: null,
    calmarRatio: null,
    maxDrawdown: null,
    annualVolatility: null,
    winRate: null,
    riskScore: null,
    followers: 0,
    assetsUnderCopy: 0n,
    ...over,
  });
  const items = [
    base('a', { totalReturn: 0.1, maxDrawdown: 0.02, riskScore: 2, assetsUnderCopy: 5n }),
    base('bb', { totalReturn: 0.3, maxDrawdown: 0.2, riskScore: 6, assetsUnderCopy: 10n }),
    base('ccc', { totalReturn: 0.9, maxDrawdown: 0, riskScore: 3, firstDate: '2026-03-01' }),
    base('dddd', { firstDate: null }),
    base('eeeee', { totalReturn: null }),
    base('ffffff', { totalReturn: 0.2, currency: 'EUR', maxDrawdown: 0.05, riskScore: 4 }),
  ];
  const opts = { asOf: '2026-03-10', minRankedDays: 30 } as const;
  const ids = (r: { item: RankInput }[]) => r.map((x) => x.item.strategyId);

  it('ranked first in the sort’s order (nulls last), then the new ones; ranks 1..n for ranked only', () => {
    const r = rankStrategies(items, { ...opts, sort: 'return' });
    expect(ids(r)).toEqual(['bb', 'ffffff', 'a', 'eeeee', 'ccc', 'dddd']);
    expect(r.map((x) => x.rank)).toEqual([1, 2, 3, 4, null, null]);
    expect(r.map((x) => x.isNew)).toEqual([false, false, false, false, true, true]);
    expect(ids(rankStrategies(items, { ...opts, sort: 'return', order: 'asc' }))).toEqual([
      'a',
      'ffffff',
      'bb',
      'eeeee',
      'ccc',
      'dddd',
    ]);
    expect(ids(rankStrategies(items, { ...opts, sort: 'max_drawdown' })).slice(0, 3)).toEqual(['a', 'ffffff', 'bb']);
    expect(ids(rankStrategies(items, { ...opts, sort: 'aum' })).slice(0, 2)).toEqual(['bb', 'a']);
  });

  it('filters: unknown values do not pass a bound', () => {
    const f = (filters: object) => ids(rankStrategies(items, { ...opts, sort: 'return', filters }));
    expect(f({ riskScoreMax: 4 })).toEqual(['ffffff', 'a', 'ccc']);
    expect(f({ maxDrawdownMax: 0.05 })).toEqual(['ffffff', 'a', 'ccc']);
    expect(f({ currency: 'EUR' })).toEqual(['ffffff']);
    expect(f({ ageDaysMin: 30 })).toEqual(['bb', 'ffffff', 'a', 'eeeee']);
    expect(f({ ranked: false })).toEqual(['ccc', 'dddd']);
    expect(f({ ranked: true })).toEqual(['bb', 'ffffff', 'a', 'eeeee']);
  });

  it('refuses an unknown sort', () => {
    expect(() => rankStrategies(items, { ...opts, sort: 'bogus' as never })).toThrowError(
      expect.objectContaining({ code: 'invalid_sort' }),
    );
  });
});
