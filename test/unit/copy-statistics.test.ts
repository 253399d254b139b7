/**
 * Copy trading strategy statistics (domain/copy/statistics.ts), named after the module's invariants.
 *
 * Reference values: the fixtures and expected values below are the ones published in empyrical's test suite
 * (Quantopian's empyrical, empyrical/tests/test_stats.py, the NaN-aware 0.5 series): the return fixtures
 * simple_benchmark, positive_returns, negative_returns, mixed_returns (its leading NaN is our null), flat_line_1_tz,
 * weekly_returns, monthly_returns, one_return, empty_returns and the `one`/`two` columns of df_simple, df_week and
 * df_month, with the expected values of test_cum_returns, test_cum_returns_final, test_max_drawdown,
 * test_annual_ret, test_annual_volatility, test_calmar, test_sharpe_ratio, test_downside_risk and test_sortino.
 * Only facts (numbers) are reproduced. Tolerance: 1e-8 relative (1e-12 absolute where the expected value is 0);
 * the values the suite itself checks to 4 decimals (cumulative returns) are checked to its 4-decimal rule.
 * Differences of sign or of undefined values are by design and named at each check: our drawdowns are positive
 * fractions (empyrical's max_drawdown is <= 0), and where empyrical answers NaN or +inf we answer null.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  annualReturn,
  annualVolatility,
  type ClosedDeal,
  calmarRatio,
  cumulativeReturns,
  currentDrawdown,
  dailyReturns,
  downsideRisk,
  type EquityPoint,
  isRanked,
  maxDrawdown,
  type PeriodReturn,
  perPeriodRate,
  returnStatistics,
  riskScore,
  sharpeRatio,
  sortinoRatio,
  sortinoRatioPerPeriod,
  strategyAgeDays,
  strategyStatistics,
  totalReturn,
  tradeStatistics,
} from '#domain/copy/statistics.ts';

const RELATIVE = 1e-8;

/** |actual - expected| <= 1e-8 * |expected| (1e-12 absolute when expected is 0); null never matches a number. */
function expectClose(actual: number | null, expected: number): void {
  expect(actual).not.toBeNull();
  const tolerance = expected === 0 ? 1e-12 : RELATIVE * Math.abs(expected);
  expect(Math.abs((actual as number) - expected), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

/** numpy's assert_almost_equal(actual, expected, 4): |actual - expected| < 1.5e-4. */
function expectAlmost4(actual: number | null, expected: number): void {
  expect(Math.abs((actual as number) - expected)).toBeLessThan(1.5e-4);
}

const pct = (xs: readonly (number | null)[]): PeriodReturn[] => xs.map((x) => (x === null ? null : x / 100));

// empyrical's return fixtures (percent / 100, as in the suite).
const simpleBenchmark = pct([0, 1, 0, 1, 0, 1, 0, 1, 0]);
const simpleBenchmarkEarly = pct([1, 1, 1, 1, 1, 1, 1, 1, 1]); // the fixture's earlier definition; same max drawdown
const positiveReturns = pct([1, 2, 1, 1, 1, 1, 1, 1, 1]);
const negativeReturns = pct([0, -6, -7, -1, -9, -2, -6, -8, -5]);
const mixedReturns = pct([null, 1, 10, -4, 2, 3, 2, 1, -10]);
const periodicReturns = pct([0, 1, 10, -4, 2, 3, 2, 1, -10]); // weekly_returns and monthly_returns share the values
const flatLine1 = Array.from({ length: 1000 }, () => 0.01); // flat_line_1_tz
const oneReturn = pct([1]);
const emptyReturns: PeriodReturn[] = [];
const one = [-0.00171614, 0.01322056, 0.03063862, -0.01422057, -0.00489779, 0.01268925, -0.03357711, 0.01797036];
const two = [0.01846232, 0.00793951, -0.01448395, 0.00422537, -0.00339611, 0.03756813, 0.0151531, 0.03549769];
const WEEKLY = { periodsPerYear: 52 };
const MONTHLY = { periodsPerYear: 12 };

describe("empyrical's published values (empyrical/tests/test_stats.py)", () => {
  it('cumulative returns (test_cum_returns, test_cum_returns_final; the suite checks 4 decimals)', () => {
    const mixed = [0.0, 0.01, 0.111, 0.066559, 0.08789, 0.12052, 0.14293, 0.15436, 0.03893];
    for (const [i, c] of cumulativeReturns(mixedReturns).entries()) expectAlmost4(c, mixed[i]!);
    const negative = [0.0, -0.06, -0.1258, -0.13454, -0.21243, -0.22818, -0.27449, -0.33253, -0.3659];
    for (const [i, c] of cumulativeReturns(negativeReturns).entries()) expectAlmost4(c, negative[i]!);
    expectAlmost4(totalReturn(mixedReturns), 0.03893);
    expectAlmost4(totalReturn(negativeReturns), -0.3659);
    expectAlmost4(totalReturn(oneReturn), 0.01);
    expect(totalReturn(emptyReturns)).toBeNull(); // empyrical: NaN
  });

  it('max drawdown (test_max_drawdown; ours is the positive magnitude of empyrical <= 0 value)', () => {
    expect(maxDrawdown(emptyReturns)).toBeNull(); // empyrical: NaN
    expectClose(maxDrawdown(oneReturn), 0.0);
    expectClose(maxDrawdown(simpleBenchmark), 0.0);
    expectClose(maxDrawdown(simpleBenchmarkEarly), 0.0);
    expectClose(maxDrawdown(mixedReturns), 0.1);
    expectClose(maxDrawdown(positiveReturns), 0.0);
    expectClose(maxDrawdown(negativeReturns), 0.36590730349873601);
    expectClose(maxDrawdown(pct([10, -10, 10])), 0.1);
  });

  it('annual return, CAGR (test_annual_ret)', () => {
    expectClose(annualReturn(mixedReturns), 1.9135925373194231);
    expectClose(annualReturn(periodicReturns, WEEKLY), 0.24690830513998208);
    expectClose(annualReturn(periodicReturns, MONTHLY), 0.052242061386048144);
  });

  it('annual volatility, sample std x sqrt(periods) (test_annual_volatility)', () => {
    expectClose(annualVolatility(flatLine1), 0.0);
    expectClose(annualVolatility(mixedReturns), 0.9136465399704637);
    expectClose(annualVolatility(periodicReturns, WEEKLY), 0.38851569394870583);
    expectClose(annualVolatility(periodicReturns, MONTHLY), 0.18663690238892558);
  });

  it('Calmar ratio (test_calmar)', () => {
    expect(calmarRatio(emptyReturns)).toBeNull(); // empyrical: NaN
    expect(calmarRatio(oneReturn)).toBeNull(); // empyrical: NaN
    expectClose(calmarRatio(mixedReturns), 19.135925373194233);
    expectClose(calmarRatio(periodicReturns, WEEKLY), 2.4690830513998208);
    expectClose(calmarRatio(periodicReturns, MONTHLY), 0.52242061386048144);
  });

  it('Sharpe ratio, risk-free 0 (test_sharpe_ratio)', () => {
    expect(sharpeRatio(emptyReturns)).toBeNull(); // empyrical: NaN
    expect(sharpeRatio(oneReturn)).toBeNull(); // empyrical: NaN
    expectClose(sharpeRatio(mixedReturns), 1.7238613961706866);
    expectClose(sharpeRatio(positiveReturns), 52.915026221291804);
    expectClose(sharpeRatio(negativeReturns), -24.406808633910085);
  });

  it('downside risk, per-period threshold (test_downside_risk)', () => {
    expect(downsideRisk(emptyReturns)).toBeNull(); // empyrical: NaN
    expectClose(downsideRisk(oneReturn), 0.0);
    expectClose(downsideRisk(mixedReturns, 0), 0.60448325038829653);
    expectClose(downsideRisk(mixedReturns, 0.1), 1.7161730681956295);
    expectClose(downsideRisk(periodicReturns, 0, WEEKLY), 0.25888650451930134);
    expectClose(downsideRisk(periodicReturns, 0.1, WEEKLY), 0.7733045971672482);
    expectClose(downsideRisk(periodicReturns, 0, MONTHLY), 0.1243650540411842);
    expectClose(downsideRisk(periodicReturns, 0.1, MONTHLY), 0.37148351242013422);
    expectClose(downsideRisk(one, 0), 0.20671788246185202); // df_simple
    expectClose(downsideRisk(two, 0), 0.083495680595704475);
    expectClose(downsideRisk(one, 0, WEEKLY), 0.093902996054410062); // df_week
    expectClose(downsideRisk(two, 0, WEEKLY), 0.037928477556776516);
    expectClose(downsideRisk(one, 0, MONTHLY), 0.045109540184877193); // df_month
    expectClose(downsideRisk(two, 0, MONTHLY), 0.018220251263412916);
  });

  it('Sortino ratio, daily (test_sortino)', () => {
    expect(sortinoRatio(emptyReturns)).toBeNull(); // empyrical: NaN
    expect(sortinoRatio(oneReturn)).toBeNull(); // empyrical: NaN
    expectClose(sortinoRatio(mixedReturns), 2.605531251673693);
    // required return flat_line_1 (0.01 every period) is a per-period threshold of 0.01
    expectClose(sortinoRatioPerPeriod(mixedReturns, 0.01), -1.3934779588919977);
    expect(sortinoRatio(positiveReturns)).toBeNull(); // empyrical: +inf (no period below 0)
    expectClose(sortinoRatio(negativeReturns), -13.532743075043401);
    expect(sortinoRatio(simpleBenchmark)).toBeNull(); // empyrical: +inf
    expectClose(sortinoRatio(one), 3.0639640966566306); // df_simple
    expectClose(sortinoRatio(two), 38.090963117002495);
    // The suite's weekly/monthly Sortino values are not checked: that empyrical version divides by a downside
    // risk annualised with 252 whatever the period, so they differ from the definition by sqrt(252 / periods).
  });

  it('an equity series whose flow-neutral returns are mixed_returns gives the same published values', () => {
    // exact: 10^20 minor units divisible by 100^9, so every day's pre-flow equity is E_{t-1} * (100 + p) / 100
    const percents = [1n, 10n, -4n, 2n, 3n, 2n, 1n, -10n];
    const flows = [0n, 5n * 10n ** 19n, -3n * 10n ** 19n, 0n, 7n * 10n ** 18n, -(10n ** 19n), 0n, 2n * 10n ** 19n];
    const series: EquityPoint[] = [{ date: '2000-01-30', equity: 10n ** 20n, netFlow: 10n ** 20n }];
    for (const [i, p] of percents.entries()) {
      const before = (series[i]!.equity * (100n + p)) / 100n;
      series.push({ date: day('2000-01-30', i + 1), equity: before + flows[i]!, netFlow: flows[i]! });
    }
    const returns = dailyReturns(series);
    expect(returns[0]).toBeNull();
    for (const [i, r] of returns.entries()) if (i > 0) expectClose(r, mixedReturns[i]!);
    const stats = strategyStatistics(series, []);
    expectClose(stats.annualReturn, 1.9135925373194231);
    expectClose(stats.annualVolatility, 0.9136465399704637);
    expectClose(stats.sharpeRatio, 1.7238613961706866);
    expectClose(stats.sortinoRatio, 2.605531251673693);
    expectClose(stats.calmarRatio, 19.135925373194233);
    expectClose(stats.maxDrawdown, 0.1);
    expectClose(stats.currentDrawdown, 0.1);
    expect(stats).toMatchObject({ days: 9, periods: 9, observedReturns: 8, firstDate: '2000-01-30', lastDate: '2000-02-07' });
    expect(stats.riskScore).toBe(10); // 91 % annualised volatility
  });
});

function day(start: string, plus: number): string {
  const [y, m, d] = start.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + plus)).toISOString().slice(0, 10);
}

const row = (date: string, equity: bigint, netFlow = 0n): EquityPoint => ({ date, equity, netFlow });

describe('daily returns: time-weighted, flows at the end of the day', () => {
  it('r_t = (E_t - F_t) / E_{t-1} - 1', () => {
    const returns = dailyReturns([
      row('2024-01-01', 100_000n, 100_000n),
      row('2024-01-02', 160_000n, 50_000n), // +10 % on 100 000, then a 50 000 deposit
      row('2024-01-03', 132_000n, -12_000n), // -10 % on 160 000 = 144 000, then a 12 000 withdrawal
      row('2024-01-05', 132_000n), // a gap (weekend) is one period
    ]);
    expect(returns).toEqual([null, 0.1, -0.1, 0]);
  });

  it('a day with nothing at risk before it has no return; a day ending with nothing is -1', () => {
    const returns = dailyReturns([
      row('2024-01-01', 1_000n),
      row('2024-01-02', 0n), // lost everything
      row('2024-01-03', 500n, 500n), // a deposit into an empty account: no return that day
      row('2024-01-04', 550n),
      row('2024-01-05', -20n), // below zero before flows: clamped to -1
    ]);
    expect(returns).toEqual([null, -1, null, 0.1, -1]);
    expect(maxDrawdown(returns)).toBe(1);
    expect(currentDrawdown(returns)).toBe(1);
    expect(totalReturn(returns)).toBe(-1);
  });

  it('refuses dates that are not increasing calendar dates', () => {
    expect(() => dailyReturns([row('2024-01-02', 1n), row('2024-01-02', 1n)])).toThrow(
      expect.objectContaining({ code: 'equity_series_not_increasing' }),
    );
    expect(() => dailyReturns([row('2024-02-30', 1n)])).toThrow(expect.objectContaining({ code: 'invalid_date' }));
    expect(() => dailyReturns([row('24-1-1', 1n)])).toThrow(expect.objectContaining({ code: 'invalid_date' }));
  });
});

describe('edge cases are null, never NaN or Infinity', () => {
  const returnNulls = {
    annualReturn: null,
    annualVolatility: null,
    sharpeRatio: null,
    sortinoRatio: null,
    calmarRatio: null,
    riskScore: null,
  };

  it('empty history: every return statistic null, no trades', () => {
    expect(strategyStatistics([], [])).toEqual({
      firstDate: null,
      lastDate: null,
      days: 0,
      periods: 0,
      observedReturns: 0,
      totalReturn: null,
      maxDrawdown: null,
      currentDrawdown: null,
      ...returnNulls,
      trades: 0,
      winRate: null,
      profitFactor: null,
      averageTradeDurationMs: null,
      grossProfit: 0n,
      grossLoss: 0n,
      netProfit: 0n,
    });
  });

  it('one row or one return: totals and drawdowns defined, ratios null', () => {
    expect(strategyStatistics([row('2024-01-01', 1_000n, 1_000n)], [])).toMatchObject({
      totalReturn: 0,
      maxDrawdown: 0,
      currentDrawdown: 0,
      ...returnNulls,
    });
    const two = strategyStatistics([row('2024-01-01', 1_000n), row('2024-01-02', 900n)], []);
    expect(two).toMatchObject({ observedReturns: 1, ...returnNulls });
    expectClose(two.totalReturn, -0.1);
    expectClose(two.maxDrawdown, 0.1);
    expectClose(two.currentDrawdown, 0.1);
  });

  it('zero volatility: volatility 0, Sharpe null; no losing period: Sortino null; no drawdown: Calmar null', () => {
    const stats = returnStatistics(flatLine1.slice(0, 30));
    expect(stats).toMatchObject({ annualVolatility: 0, sharpeRatio: null, sortinoRatio: null, calmarRatio: null, riskScore: 1 });
    expect(stats.annualReturn).toBeGreaterThan(0);
    const flat = returnStatistics([null, 0, 0, 0]);
    expect(flat).toMatchObject({ totalReturn: 0, annualReturn: 0, annualVolatility: 0, sharpeRatio: null, sortinoRatio: null });
  });

  it('an annualised return too large for a number is null', () => {
    expect(annualReturn([1e6, 1e6])).toBeNull();
    expect(calmarRatio([1e6, -0.5, 1e6])).toBeNull();
  });

  it('refuses returns that are not finite numbers', () => {
    expect(() => returnStatistics([0.1, Number.NaN])).toThrow(expect.objectContaining({ code: 'invalid_return' }));
    expect(() => sharpeRatio([0.1, Number.POSITIVE_INFINITY])).toThrow(expect.objectContaining({ code: 'invalid_return' }));
  });
});

describe('risk-free rate and minimum acceptable return: annual, converted per period geometrically', () => {
  it('(1 + R)^(1/252) - 1', () => {
    expect(perPeriodRate(0)).toBe(0);
    expectClose((1 + perPeriodRate(0.05)) ** 252, 1.05);
    expectClose((1 + perPeriodRate(0.05, 12)) ** 12, 1.05);
    expect(() => perPeriodRate(-1)).toThrow(expect.objectContaining({ code: 'invalid_rate' }));
  });

  it('Sharpe and Sortino subtract the converted rate from every period', () => {
    const rf = perPeriodRate(0.04);
    const shifted = mixedReturns.map((r) => (r === null ? null : r - rf));
    const sharpe = sharpeRatio(mixedReturns, { riskFreeRate: 0.04 });
    expectClose(sharpe, sharpeRatio(shifted)!);
    expect(sharpe!).toBeLessThan(1.7238613961706866);
    expectClose(sortinoRatio(mixedReturns, { minimumAcceptableReturn: 0.04 }), sortinoRatioPerPeriod(mixedReturns, rf)!);
  });
});

describe('trade statistics', () => {
  const deal = (openTimeMs: number, minutes: number, profit: bigint): ClosedDeal => ({
    openTimeMs,
    closeTimeMs: openTimeMs + minutes * 60_000,
    profit,
  });

  it('win rate, profit factor, average duration, money in bigint', () => {
    const stats = tradeStatistics([deal(0, 10, 300n), deal(0, 20, -100n), deal(0, 30, 0n), deal(0, 60, 100n)]);
    expect(stats).toEqual({
      trades: 4,
      winRate: 0.5, // the break-even deal is a trade, not a win
      profitFactor: 4,
      averageTradeDurationMs: 30 * 60_000,
      grossProfit: 400n,
      grossLoss: 100n,
      netProfit: 300n,
    });
  });

  it('no losing deal: profit factor null; only losing deals: 0; no deal: null', () => {
    expect(tradeStatistics([deal(0, 1, 5n)]).profitFactor).toBeNull();
    expect(tradeStatistics([deal(0, 1, -5n)])).toMatchObject({ profitFactor: 0, winRate: 0 });
    expect(tradeStatistics([])).toMatchObject({ trades: 0, winRate: null, profitFactor: null, averageTradeDurationMs: null });
  });

  it('refuses a deal that closes before it opens', () => {
    expect(() => tradeStatistics([{ openTimeMs: 10, closeTimeMs: 9, profit: 0n }])).toThrow(
      expect.objectContaining({ code: 'invalid_deal_times' }),
    );
  });
});

describe('risk score: 1..10 from annualised volatility bands', () => {
  it('maps each band, upper bounds exclusive', () => {
    const cases: [number, number][] = [
      [0, 1],
      [0.0199, 1],
      [0.02, 2],
      [0.05, 3],
      [0.1, 4],
      [0.15, 5],
      [0.2, 6],
      [0.25, 7],
      [0.35, 8],
      [0.5, 9],
      [0.7499, 9],
      [0.75, 10],
      [5, 10],
    ];
    for (const [volatility, score] of cases) expect(riskScore(volatility), String(volatility)).toBe(score);
    expect(riskScore(null)).toBeNull();
  });

  it('never decreases with volatility', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 10, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(riskScore(lo)!).toBeLessThanOrEqual(riskScore(hi)!);
      }),
    );
  });
});

describe('ranking: a strategy younger than the minimum age is new', () => {
  it('counts calendar days from the first equity row', () => {
    expect(strategyAgeDays('2024-01-01', '2024-01-31')).toBe(30);
    expect(strategyAgeDays(null, '2024-01-31')).toBe(0);
    expect(isRanked('2024-01-01', '2024-01-30', 30)).toBe(false);
    expect(isRanked('2024-01-01', '2024-01-31', 30)).toBe(true);
    expect(isRanked(null, '2024-01-31', 0)).toBe(false);
    expect(() => isRanked('2024-01-01', '2024-01-31', -1)).toThrow(expect.objectContaining({ code: 'invalid_minimum_days' }));
  });
});

// ---- properties ----

const equitySeries = fc
  .array(
    fc.record({
      gap: fc.integer({ min: 1, max: 3 }),
      equity: fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.constant(0n)),
      netFlow: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(10n ** 11n), max: 10n ** 11n })),
    }),
    { maxLength: 40 },
  )
  .map((rows) => {
    let offset = 0;
    return rows.map(({ gap, equity, netFlow }) => {
      offset += gap;
      return row(day('2023-12-31', offset), equity, netFlow);
    });
  });

const isWireSafe = (v: unknown): boolean => v === null || typeof v === 'bigint' || typeof v === 'string' || Number.isFinite(v);

describe('properties', () => {
  it('returns are invariant to scaling every equity and flow by a positive factor', () => {
    fc.assert(
      fc.property(equitySeries, fc.bigInt({ min: 1n, max: 10n ** 9n }), (series, k) => {
        const scaled = series.map((r) => ({ ...r, equity: r.equity * k, netFlow: r.netFlow * k }));
        expect(dailyReturns(scaled)).toEqual(dailyReturns(series));
      }),
    );
  });

  it("a deposit on day t does not change that day's return", () => {
    fc.assert(
      fc.property(
        equitySeries.filter((s) => s.length >= 2),
        fc.nat(),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        (series, at, deposit) => {
          const t = 1 + (at % (series.length - 1));
          const withDeposit = series.map((r, i) =>
            i === t ? { ...r, equity: r.equity + deposit, netFlow: r.netFlow + deposit } : r,
          );
          expect(dailyReturns(withDeposit)[t]).toBe(dailyReturns(series)[t]);
        },
      ),
    );
  });

  it('max drawdown is in [0, 1] and current drawdown is at most the max', () => {
    const returnsArb = fc.array(fc.oneof(fc.constant(null), fc.double({ min: -1.5, max: 3, noNaN: true })), { maxLength: 60 });
    fc.assert(
      fc.property(returnsArb, (returns) => {
        const max = maxDrawdown(returns);
        const current = currentDrawdown(returns);
        if (returns.length === 0) {
          expect([max, current]).toEqual([null, null]);
          return;
        }
        expect(max!).toBeGreaterThanOrEqual(0);
        expect(max!).toBeLessThanOrEqual(1);
        expect(current!).toBeGreaterThanOrEqual(0);
        expect(current!).toBeLessThanOrEqual(max!);
      }),
    );
  });

  it('no statistic is ever NaN or Infinity', () => {
    const deals = fc.array(
      fc.record({
        openTimeMs: fc.integer({ min: 0, max: 2e12 }),
        minutes: fc.integer({ min: 0, max: 100_000 }),
        profit: fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }),
      }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(equitySeries, deals, fc.double({ min: -0.5, max: 0.5, noNaN: true }), (series, ds, rate) => {
        const closed = ds.map((d) => ({
          openTimeMs: d.openTimeMs,
          closeTimeMs: d.openTimeMs + d.minutes * 60_000,
          profit: d.profit,
        }));
        const stats = strategyStatistics(series, closed, { riskFreeRate: rate, minimumAcceptableReturn: rate });
        for (const [key, value] of Object.entries(stats)) expect(isWireSafe(value), key).toBe(true);
        if (stats.maxDrawdown !== null) expect(stats.currentDrawdown!).toBeLessThanOrEqual(stats.maxDrawdown);
      }),
    );
  });
});
