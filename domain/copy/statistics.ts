/**
 * Copy trading: a strategy's statistics for the marketplace (issue 15), computed from its daily equity series and
 * its closed deals. Pure: no I/O, no clock (the caller passes "as of" dates).
 *
 * Convention: the return statistics follow empyrical (Quantopian's open-source performance library, empyrical/stats.py),
 * with its defaults: 252 periods a year, sample standard deviation (ddof = 1), risk-free rate 0, drawdown measured on
 * the cumulative-return series that starts at 1 (the starting equity). A `null` daily return plays the part of
 * empyrical's NaN. test/unit/copy-statistics.test.ts checks these functions against the expected values published in
 * empyrical's test suite (empyrical/tests/test_stats.py).
 *
 * Invariants:
 * - daily returns are time-weighted with external flows neutralised, flows at the end of the day:
 *     r_t = (E_t - F_t) / E_{t-1} - 1
 *   where E_t is the day's closing equity (after that day's flows) and F_t the day's net external flow (deposits
 *   positive, withdrawals negative). So a deposit or withdrawal on day t never changes r_t (it moves E_t and F_t
 *   alike), and every return is unchanged when all equities and flows are scaled by the same positive factor (the
 *   ratio is taken in exact bigint arithmetic, then rounded once to a number)
 * - the return series has one entry per equity row; the first row's entry is null (no prior equity), and so is the
 *   entry of a day whose prior equity is <= 0 (nothing was at risk). A null counts as a period when annualising
 *   (as empyrical counts the NaN that pct_change puts first), counts as 0 when compounding, and is skipped by
 *   means and deviations
 * - a day that ends with E_t - F_t <= 0 has r_t = -1 (everything lost; returns below -1 are clamped to -1, as
 *   negative balance protection caps the loss), so wealth, drawdowns and the total return stay in range
 * - totalReturn = prod(1 + r) - 1; annualReturn (CAGR) = (1 + totalReturn)^(periodsPerYear / periods) - 1 with
 *   periods = the length of the series, nulls included
 * - annualVolatility = sample std (ddof 1) of the returns * sqrt(periodsPerYear); a daily std below
 *   ZERO_VOLATILITY is zero (floating-point noise of a constant series)
 * - sharpeRatio = mean(r - rf) / std(r - rf, ddof 1) * sqrt(periodsPerYear), where rf is the annual risk-free rate
 *   converted to a per-period rate geometrically, (1 + R)^(1 / periodsPerYear) - 1, as empyrical converts an
 *   annual required return (omega_ratio); default 0
 * - sortinoRatio = mean(r - m) / downsideDeviation * sqrt(periodsPerYear), with m the per-period minimum acceptable
 *   return (an annual rate converted like rf; default 0) and downsideDeviation = sqrt(mean over all observed
 *   periods of min(r - m, 0)^2) (empyrical's downside_risk: squares averaged over every period, not only losing ones)
 * - maxDrawdown = max over t of 1 - W_t / max_{s<=t} W_s, with W_0 = 1 before the first return and
 *   W_t = prod_{s<=t}(1 + r_s); currentDrawdown is the same at the last row. Both are positive fractions in [0, 1]
 *   (empyrical reports the maximum as a negative number) and currentDrawdown <= maxDrawdown
 * - calmarRatio = annualReturn / maxDrawdown, null when maxDrawdown is 0
 * - never NaN or Infinity: a statistic that is undefined is null. Fewer than two observed returns: annualReturn,
 *   annualVolatility, Sharpe, Sortino, Calmar and the risk score are null. Zero volatility: Sharpe null. No period
 *   below the minimum acceptable return: Sortino null. No equity rows at all: every return statistic is null
 * - deals: trades = number of closed deals; winRate = deals with profit > 0 / trades (a break-even deal is a trade,
 *   not a win); profitFactor = gross profit / gross loss, null without a losing deal; averageTradeDurationMs = mean of
 *   close - open; with no deals winRate, profitFactor and averageTradeDurationMs are null. Money (profits) stays bigint
 * - riskScore is 1..10 from annualVolatility by the bands of RISK_SCORE_VOLATILITY_BANDS (upper bounds, exclusive)
 * - a strategy younger than the marketplace's minimum age (calendar days from its first equity row to "as of") is
 *   new and is not ranked (isRanked)
 */
import { DomainError } from '../errors.ts';

/** One row of a strategy's daily equity series, money in minor units of the account currency. */
export interface EquityPoint {
  /** The trading day, 'YYYY-MM-DD' (UTC). Rows are strictly increasing by date. */
  date: string;
  /** Closing equity of the day, after the day's external flows. */
  equity: bigint;
  /** Net external flow of the day: deposits positive, withdrawals negative (0n when none). */
  netFlow: bigint;
}

/** A closed deal: the position's open and close times and its result. */
export interface ClosedDeal {
  openTimeMs: number;
  closeTimeMs: number;
  /** Realised profit including commission and swap, minor units (negative for a loss). */
  profit: bigint;
}

/** A daily (periodic) simple return; null where it is undefined (first row, nothing at risk). */
export type PeriodReturn = number | null;

export interface ReturnOptions {
  /** Periods per year used to annualise; 252 (trading days) by default, as empyrical's DAILY. */
  periodsPerYear?: number;
  /** Annual risk-free rate as a fraction (0.03 = 3 %); 0 by default. Used by the Sharpe ratio. */
  riskFreeRate?: number;
  /** Annual minimum acceptable return as a fraction; 0 by default. Used by the Sortino ratio. */
  minimumAcceptableReturn?: number;
}

export const PERIODS_PER_YEAR = 252;

/** A daily sample standard deviation below this is treated as exactly zero. */
export const ZERO_VOLATILITY = 1e-12;

/**
 * Upper bounds (exclusive) of annualised volatility for risk scores 1..9; 10 is everything above the last bound.
 * Score 1: < 2 %, 2: < 5 %, 3: < 10 %, 4: < 15 %, 5: < 20 %, 6: < 25 %, 7: < 35 %, 8: < 50 %, 9: < 75 %, 10: >= 75 %.
 */
export const RISK_SCORE_VOLATILITY_BANDS: readonly number[] = Object.freeze([0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 0.75]);

export type RiskScore = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/** The statistics computed from a return series. */
export interface ReturnStats {
  /** Entries in the series, nulls included (the annualisation period count). */
  periods: number;
  /** Observed (non-null) returns. */
  observedReturns: number;
  totalReturn: number | null;
  annualReturn: number | null;
  annualVolatility: number | null;
  sharpeRatio: number | null;
  sortinoRatio: number | null;
  calmarRatio: number | null;
  maxDrawdown: number | null;
  currentDrawdown: number | null;
  riskScore: RiskScore | null;
}

/** The statistics computed from closed deals. */
export interface TradeStats {
  trades: number;
  winRate: number | null;
  profitFactor: number | null;
  averageTradeDurationMs: number | null;
  grossProfit: bigint;
  /** Sum of the losing deals' profits as a positive amount. */
  grossLoss: bigint;
  netProfit: bigint;
}

/** Everything the marketplace shows about a strategy. */
export interface StrategyStats extends ReturnStats, TradeStats {
  firstDate: string | null;
  lastDate: string | null;
  /** Equity rows. */
  days: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
const SCALE = 10n ** 18n;

const invalid = (code: string, field: string, message: string): DomainError =>
  new DomainError(code, 'unprocessable', message, [{ field, code, message }]);

/** Days since 1970-01-01 of a 'YYYY-MM-DD' date; DomainError 'invalid_date' otherwise. */
export function dayNumber(date: string): number {
  const m = DATE.exec(date);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const ms = Date.UTC(y, mo - 1, d);
    const back = new Date(ms);
    if (back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d) return ms / DAY_MS;
  }
  throw invalid('invalid_date', 'date', `Not a calendar date (YYYY-MM-DD): ${JSON.stringify(date).slice(0, 24)}`);
}

function periodsPerYearOf(options: ReturnOptions): number {
  const p = options.periodsPerYear ?? PERIODS_PER_YEAR;
  if (!Number.isFinite(p) || p <= 0)
    throw invalid('invalid_periods_per_year', 'periodsPerYear', 'Periods per year must be positive');
  return p;
}

/**
 * An annual rate as a rate per period, geometrically: (1 + annual)^(1 / periodsPerYear) - 1
 * (empyrical's conversion of an annual required return in omega_ratio).
 */
export function perPeriodRate(annual: number, periodsPerYear: number = PERIODS_PER_YEAR): number {
  if (!Number.isFinite(annual) || annual <= -1) throw invalid('invalid_rate', 'rate', 'An annual rate must be a number above -1');
  return annual === 0 ? 0 : (1 + annual) ** (1 / periodsPerYear) - 1;
}

/** (num - den) / den as a number, from exact bigint arithmetic (den > 0): the same for every common positive factor. */
function ratioMinusOne(num: bigint, den: bigint): number {
  return Number(((num - den) * SCALE) / den) / 1e18;
}

/**
 * The time-weighted daily returns of an equity series, one entry per row:
 * r_t = (E_t - F_t) / E_{t-1} - 1 (flows at the end of the day); null for the first row and after a day that ended
 * with no positive equity; -1 when the day ended with nothing (or less) before its flows.
 */
export function dailyReturns(series: readonly EquityPoint[]): PeriodReturn[] {
  let previousDay = Number.NEGATIVE_INFINITY;
  const out: PeriodReturn[] = [];
  for (let i = 0; i < series.length; i++) {
    const row = series[i]!;
    const day = dayNumber(row.date);
    if (day <= previousDay)
      throw invalid('equity_series_not_increasing', 'date', `Equity rows must have increasing dates (${row.date})`);
    previousDay = day;
    const prior = i === 0 ? null : series[i - 1]!.equity;
    if (prior === null || prior <= 0n) {
      out.push(null);
      continue;
    }
    const beforeFlows = row.equity - row.netFlow;
    out.push(beforeFlows <= 0n ? -1 : ratioMinusOne(beforeFlows, prior));
  }
  return out;
}

const observed = (returns: readonly PeriodReturn[]): number[] => returns.filter((r): r is number => r !== null);

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

function checkReturns(returns: readonly PeriodReturn[]): void {
  for (const r of returns) {
    if (r !== null && !Number.isFinite(r)) throw invalid('invalid_return', 'returns', 'A return must be a finite number or null');
  }
}

const clampLoss = (r: number): number => Math.max(r, -1);

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Sample standard deviation (ddof = 1), two-pass; needs at least two values. */
function sampleStd(xs: readonly number[]): number {
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  const std = Math.sqrt(s / (xs.length - 1));
  return std < ZERO_VOLATILITY ? 0 : std;
}

/** Cumulative returns W_t - 1 after each entry (a null compounds as 0); empyrical's cum_returns. */
export function cumulativeReturns(returns: readonly PeriodReturn[]): number[] {
  checkReturns(returns);
  let wealth = 1;
  return returns.map((r) => {
    wealth *= 1 + clampLoss(r ?? 0);
    return wealth - 1;
  });
}

/** prod(1 + r) - 1; null for an empty series. */
export function totalReturn(returns: readonly PeriodReturn[]): number | null {
  if (returns.length === 0) return null;
  return cumulativeReturns(returns)[returns.length - 1]!;
}

/** CAGR over periods = the series length (nulls included); null with fewer than two observed returns. */
export function annualReturn(returns: readonly PeriodReturn[], options: ReturnOptions = {}): number | null {
  const ppy = periodsPerYearOf(options);
  if (observed(returns).length < 2) return null;
  const total = totalReturn(returns)!;
  return finiteOrNull((1 + total) ** (ppy / returns.length) - 1);
}

/** Sample std (ddof 1) * sqrt(periodsPerYear); null with fewer than two observed returns. */
export function annualVolatility(returns: readonly PeriodReturn[], options: ReturnOptions = {}): number | null {
  const ppy = periodsPerYearOf(options);
  checkReturns(returns);
  const xs = observed(returns).map(clampLoss);
  if (xs.length < 2) return null;
  return sampleStd(xs) * Math.sqrt(ppy);
}

/** mean(r - rf) / std(r - rf) * sqrt(periodsPerYear); null with fewer than two observed returns or zero volatility. */
export function sharpeRatio(returns: readonly PeriodReturn[], options: ReturnOptions = {}): number | null {
  const ppy = periodsPerYearOf(options);
  const rf = perPeriodRate(options.riskFreeRate ?? 0, ppy);
  checkReturns(returns);
  const xs = observed(returns).map((r) => clampLoss(r) - rf);
  if (xs.length < 2) return null;
  const std = sampleStd(xs);
  if (std === 0) return null;
  return finiteOrNull((mean(xs) / std) * Math.sqrt(ppy));
}

/**
 * empyrical's downside_risk, annualised: sqrt(mean over the observed periods of min(r - threshold, 0)^2) *
 * sqrt(periodsPerYear), with `threshold` a rate PER PERIOD; null for no observed return.
 */
export function downsideRisk(returns: readonly PeriodReturn[], threshold = 0, options: ReturnOptions = {}): number | null {
  const ppy = periodsPerYearOf(options);
  checkReturns(returns);
  const xs = observed(returns).map(clampLoss);
  if (xs.length === 0) return null;
  return Math.sqrt(mean(xs.map((r) => Math.min(r - threshold, 0) ** 2))) * Math.sqrt(ppy);
}

/**
 * mean(r - threshold) / downside deviation * sqrt(periodsPerYear), with `threshold` a rate PER PERIOD (default 0);
 * null with fewer than two observed returns or no period below the threshold.
 */
export function sortinoRatioPerPeriod(
  returns: readonly PeriodReturn[],
  threshold = 0,
  options: ReturnOptions = {},
): number | null {
  const ppy = periodsPerYearOf(options);
  checkReturns(returns);
  const xs = observed(returns).map(clampLoss);
  if (xs.length < 2) return null;
  const downside = Math.sqrt(mean(xs.map((r) => Math.min(r - threshold, 0) ** 2)));
  if (downside === 0) return null;
  return finiteOrNull((mean(xs.map((r) => r - threshold)) / downside) * Math.sqrt(ppy));
}

/** The Sortino ratio with the annual minimum acceptable return of `options` (default 0) converted per period. */
export function sortinoRatio(returns: readonly PeriodReturn[], options: ReturnOptions = {}): number | null {
  const ppy = periodsPerYearOf(options);
  return sortinoRatioPerPeriod(returns, perPeriodRate(options.minimumAcceptableReturn ?? 0, ppy), options);
}

/** The drawdown after each entry, 1 - W_t / peak_t with the peak starting at W_0 = 1; each in [0, 1]. */
export function drawdowns(returns: readonly PeriodReturn[]): number[] {
  let peak = 1;
  return cumulativeReturns(returns).map((c) => {
    const wealth = c + 1;
    if (wealth > peak) peak = wealth;
    return 1 - wealth / peak;
  });
}

/** The largest drawdown as a positive fraction in [0, 1] (empyrical's max_drawdown negated); null when empty. */
export function maxDrawdown(returns: readonly PeriodReturn[]): number | null {
  if (returns.length === 0) return null;
  return drawdowns(returns).reduce((worst, dd) => Math.max(worst, dd), 0);
}

/** The drawdown at the last entry, a positive fraction in [0, maxDrawdown]; null when empty. */
export function currentDrawdown(returns: readonly PeriodReturn[]): number | null {
  if (returns.length === 0) return null;
  return drawdowns(returns).at(-1)!;
}

/** annualReturn / maxDrawdown; null when either is undefined or there was no drawdown. */
export function calmarRatio(returns: readonly PeriodReturn[], options: ReturnOptions = {}): number | null {
  const annual = annualReturn(returns, options);
  const dd = maxDrawdown(returns);
  if (annual === null || dd === null || dd === 0) return null;
  return finiteOrNull(annual / dd);
}

/** 1..10 from annualised volatility by RISK_SCORE_VOLATILITY_BANDS; null when the volatility is unknown. */
export function riskScore(annualVolatility: number | null): RiskScore | null {
  if (annualVolatility === null || !Number.isFinite(annualVolatility) || annualVolatility < 0) return null;
  const band = RISK_SCORE_VOLATILITY_BANDS.findIndex((upper) => annualVolatility < upper);
  return (band === -1 ? 10 : band + 1) as RiskScore;
}

/** Every return statistic of a return series. */
export function returnStatistics(returns: readonly PeriodReturn[], options: ReturnOptions = {}): ReturnStats {
  const volatility = annualVolatility(returns, options);
  return {
    periods: returns.length,
    observedReturns: observed(returns).length,
    totalReturn: totalReturn(returns),
    annualReturn: annualReturn(returns, options),
    annualVolatility: volatility,
    sharpeRatio: sharpeRatio(returns, options),
    sortinoRatio: sortinoRatio(returns, options),
    calmarRatio: calmarRatio(returns, options),
    maxDrawdown: maxDrawdown(returns),
    currentDrawdown: currentDrawdown(returns),
    riskScore: riskScore(volatility),
  };
}

/** Trade statistics of closed deals. */
export function tradeStatistics(deals: readonly ClosedDeal[]): TradeStats {
  let wins = 0;
  let grossProfit = 0n;
  let grossLoss = 0n;
  let duration = 0;
  for (const d of deals) {
    if (!Number.isSafeInteger(d.openTimeMs) || !Number.isSafeInteger(d.closeTimeMs) || d.closeTimeMs < d.openTimeMs) {
      throw invalid('invalid_deal_times', 'closeTimeMs', 'A deal closes at or after it opens (integer milliseconds)');
    }
    if (d.profit > 0n) {
      wins++;
      grossProfit += d.profit;
    } else if (d.profit < 0n) {
      grossLoss -= d.profit;
    }
    duration += d.closeTimeMs - d.openTimeMs;
  }
  const trades = deals.length;
  return {
    trades,
    winRate: trades === 0 ? null : wins / trades,
    profitFactor: grossLoss === 0n ? null : Number(grossProfit) / Number(grossLoss),
    averageTradeDurationMs: trades === 0 ? null : duration / trades,
    grossProfit,
    grossLoss,
    netProfit: grossProfit - grossLoss,
  };
}

/** A strategy's statistics from its daily equity series and its closed deals. */
export function strategyStatistics(
  series: readonly EquityPoint[],
  deals: readonly ClosedDeal[],
  options: ReturnOptions = {},
): StrategyStats {
  const returns = dailyReturns(series);
  return {
    firstDate: series[0]?.date ?? null,
    lastDate: series.at(-1)?.date ?? null,
    days: series.length,
    ...returnStatistics(returns, options),
    ...tradeStatistics(deals),
  };
}

/** Whole calendar days from a strategy's first equity row to `asOf` (both 'YYYY-MM-DD'); 0 when there is no row. */
export function strategyAgeDays(firstDate: string | null, asOf: string): number {
  if (firstDate === null) return 0;
  return Math.max(0, dayNumber(asOf) - dayNumber(firstDate));
}

/**
 * Whether a strategy is ranked on the marketplace: it has history and is at least `minimumDays` old on `asOf`.
 * A younger one is "new" (shown, not ranked).
 */
export function isRanked(firstDate: string | null, asOf: string, minimumDays: number): boolean {
  if (!Number.isSafeInteger(minimumDays) || minimumDays < 0) {
    throw invalid('invalid_minimum_days', 'minimumDays', 'The minimum age is a whole number of days');
  }
  return firstDate !== null && strategyAgeDays(firstDate, asOf) >= minimumDays;
}
