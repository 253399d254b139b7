/**
 * Copy-fee settlement: what one charge point of one subscription takes, built on the fee rules of fees.ts (which
 * it composes and never re-implements). Pure; the use case is functions/app/copy/settle-fees.ts (ADR 0017).
 *
 * Invariants:
 * - a subscription's fee book holds the high-water mark, the management accrual (a numerator over
 *   MANAGEMENT_DENOMINATOR), the last day accrued (UTC, as fees.ts counts days), the performance calendar (anchored
 *   at the subscription's own start: the next monthly anniversary), the subscription fee's paidUntil and the
 *   notional whose volume fee is already charged. It opens at the start equity plus what an earlier copy of the
 *   same follower and strategy left (`carry`: the mark above the equity it stopped at, the loss not yet recovered)
 * - charge points: 'anniversary' (a monthly anniversary has come: everything due), 'withdrawal' (before money
 *   leaves the copy account: everything due, and the withdrawal is refused with withdrawal_exceeds_equity when it
 *   is larger than the equity after the fees), 'stop' (the final charge: everything due, the management residue
 *   dropped, the carry computed) and 'daily' (only the subscription fee of a period that started unpaid)
 * - order inside a charge: the volume fee and the subscription fee are costs taken first; then management, then
 *   performance on what is left (fees.ts settle), so the mark after a charge with a gain is the equity after every
 *   fee, and the costs never count as profit. Volume and subscription are capped at the equity (the subscription fee
 *   is charged whole or left unpaid for the next charge point; what the equity cannot cover of the volume fee is
 *   waived); management is capped by fees.ts
 * - the volume fee is charged on the notional not yet charged (the total of the copied positions' deals minus what
 *   was charged before), rounded half-even once per charge
 * - rates are the strategy's, each within the tenant's cap as it is now (a rate over a lowered cap is charged at the
 *   cap; `capped` names them)
 * - total = management + performance + volume + subscription; total = provider + broker exactly (splitCharge)
 * - a charge's id is derived from (subscription, charge point, period, failures so far): a redelivered or concurrent
 *   run of the same charge point names the same charge; after a failed charge the next attempt is a new one. It is
 *   at most 26 characters of [A-Za-z0-9_-] (a platform balance operation's external id)
 * - money is bigint minor units of the copy account's currency; times are epoch ms
 */
import { createHash } from 'node:crypto';
import {
  accrueManagementDay,
  type CopyFeePolicy,
  monthlyAnniversary,
  nextAnniversary,
  type PerformanceCharge,
  settle,
  settleAndWithdraw,
  splitCharge,
  subscriptionCharge,
  volumeFee,
} from './fees.ts';

export const CHARGE_POINTS = ['anniversary', 'withdrawal', 'stop', 'daily'] as const;
export type ChargePoint = (typeof CHARGE_POINTS)[number];

/** The most days one accrual catches up (a job that did not run for longer accrues at most this many). */
export const MAX_CATCH_UP_DAYS = 366;

export interface FeeRates {
  performanceBps: number;
  managementBpsPerYear: number;
  /** Minor units per 1,000,000 major units of notional, per side. */
  volumePerMillion: bigint;
  /** Minor units per monthly period. */
  subscriptionPerMonth: bigint;
}

export interface FeeBook {
  /** High-water mark, minor units. */
  mark: bigint;
  /** Management accrual numerator over MANAGEMENT_DENOMINATOR. */
  managementAccrued: bigint;
  /** The last UTC day (yyyy-mm-dd) whose management fee is accrued. */
  lastAccrualDay: string;
  /** The subscription's start: the calendar's anchor. */
  anchorMs: number;
  /** The start of the period the next charge covers (the subscription's start, then the last charge). */
  periodStartMs: number;
  /** The next monthly anniversary of the anchor: the next 'anniversary' charge point. */
  nextAnniversaryMs: number;
  /** The subscription fee is paid up to here (absent before the first payment). */
  paidUntilMs?: number | undefined;
  /** Notional (minor units) whose volume fee is charged. */
  volumeNotionalCharged: bigint;
}

export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Whole days from `from` to `to` (yyyy-mm-dd); negative when `to` is earlier. */
export const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/** A subscription's fee book at its start. */
export function openFeeBook(startEquity: bigint, anchorMs: number, carry = 0n): FeeBook {
  return {
    mark: startEquity + (carry > 0n ? carry : 0n),
    managementAccrued: 0n,
    lastAccrualDay: utcDay(anchorMs),
    anchorMs,
    periodStartMs: anchorMs,
    nextAnniversaryMs: monthlyAnniversary(anchorMs, 1),
    volumeNotionalCharged: 0n,
  };
}

/** The last monthly anniversary of the anchor at or before `atMs` (the anchor itself before the first). */
export function lastAnniversary(anchorMs: number, atMs: number): number {
  if (atMs < monthlyAnniversary(anchorMs, 1)) return anchorMs;
  let n = 1;
  while (monthlyAnniversary(anchorMs, n + 1) <= atMs) n += 1;
  return monthlyAnniversary(anchorMs, n);
}

/** The strategy's rates within the tenant's caps as they are now; `capped` names the rates the caps cut. */
export function ratesWithinCaps(
  rates: FeeRates,
  currencyCode: string,
  policy: CopyFeePolicy,
): { rates: FeeRates; capped: string[] } {
  const capped: string[] = [];
  const min = <T extends number | bigint>(name: string, value: T, cap: T | undefined): T => {
    if (cap === undefined || value <= cap) return value;
    capped.push(name);
    return cap;
  };
  return {
    rates: {
      performanceBps: min('performanceBps', rates.performanceBps, policy.maxPerformanceBps),
      managementBpsPerYear: min('managementBpsPerYear', rates.managementBpsPerYear, policy.maxManagementBpsPerYear),
      volumePerMillion: min('volumePerMillion', rates.volumePerMillion, policy.maxVolumePerMillion?.[currencyCode]),
      subscriptionPerMonth: min(
        'subscriptionPerMonth',
        rates.subscriptionPerMonth,
        policy.maxSubscriptionPerMonth?.[currencyCode],
      ),
    },
    capped,
  };
}

/**
 * Accrues the management fee of every day since the last one accrued, up to `nowMs`'s UTC day, on `equity`
 * (today's: the days a job missed accrue on it too, at most MAX_CATCH_UP_DAYS). `days` 0: already accrued today.
 */
export function accrueManagement(
  book: FeeBook,
  equity: bigint,
  managementBpsPerYear: number,
  nowMs: number,
): { book: FeeBook; days: number } {
  const today = utcDay(nowMs);
  const days = Math.min(daysBetween(book.lastAccrualDay, today), MAX_CATCH_UP_DAYS);
  if (days <= 0) return { book, days: 0 };
  let accrued = book.managementAccrued;
  for (let d = 0; d < days; d++) accrued = accrueManagementDay(accrued, equity, managementBpsPerYear);
  return { book: { ...book, managementAccrued: accrued, lastAccrualDay: today }, days };
}

export interface ChargeInput {
  point: ChargePoint;
  nowMs: number;
  /** The copy account's equity now (minor units). */
  equity: bigint;
  /** The notional of every deal of the positions this subscription copied, so far (minor units). */
  volumeNotionalTotal: bigint;
  /** 'withdrawal': the amount about to leave the copy account. */
  withdrawal?: bigint | undefined;
}

export interface ChargeBreakdown {
  point: ChargePoint;
  periodStartMs: number;
  periodEndMs: number;
  equityBefore: bigint;
  markBefore: bigint;
  /** The management accrual numerator before the charge. */
  managementAccrued: bigint;
  management: bigint;
  performance: PerformanceCharge;
  volume: { notional: bigint; fee: bigint };
  subscription: { fee: bigint; paidUntilMs?: number | undefined };
  total: bigint;
  split: { provider: bigint; broker: bigint };
  /** equityBefore - total. */
  equityAfter: bigint;
  markAfter: bigint;
  /** 'withdrawal': the mark once the withdrawal has left (markAfter - amount). */
  markAfterWithdrawal?: bigint;
  /** 'stop': the mark above the equity after the charge, left to a restarted copy of the same pair. */
  carry?: bigint;
  /** The book after the charge (the caller keeps it once the money moved). */
  book: FeeBook;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);
const max = (a: bigint, b: bigint) => (a > b ? a : b);

/** What the charge point takes (module invariants); refuses withdrawal_exceeds_equity for a withdrawal too large. */
export function computeCharge(
  book: FeeBook,
  rates: FeeRates,
  brokerShareBps: number,
  currencyCode: string,
  input: ChargeInput,
): ChargeBreakdown {
  const { point, nowMs, equity } = input;
  const available = equity > 0n ? equity : 0n;
  const subscriptionDue =
    rates.subscriptionPerMonth > 0n && nowMs >= book.anchorMs
      ? subscriptionCharge({
          fee: rates.subscriptionPerMonth,
          anchorMs: book.anchorMs,
          ...(book.paidUntilMs !== undefined ? { paidUntilMs: book.paidUntilMs } : {}),
          nowMs,
        })
      : { fee: 0n, paidUntilMs: book.paidUntilMs };

  if (point === 'daily') {
    const fee = subscriptionDue.fee > 0n && subscriptionDue.fee <= available ? subscriptionDue.fee : 0n;
    const paidUntilMs = fee > 0n ? subscriptionDue.paidUntilMs : book.paidUntilMs;
    return {
      point,
      periodStartMs: lastAnniversary(book.anchorMs, nowMs),
      periodEndMs: paidUntilMs ?? nowMs,
      equityBefore: equity,
      markBefore: book.mark,
      managementAccrued: book.managementAccrued,
      management: 0n,
      performance: { gain: 0n, fee: 0n, mark: book.mark },
      volume: { notional: 0n, fee: 0n },
      subscription: { fee, ...(paidUntilMs !== undefined ? { paidUntilMs } : {}) },
      total: fee,
      split: splitCharge(fee, brokerShareBps),
      equityAfter: equity - fee,
      markAfter: book.mark,
      book: { ...book, ...(paidUntilMs !== undefined ? { paidUntilMs } : {}) },
    };
  }

  const notional =
    input.volumeNotionalTotal > book.volumeNotionalCharged ? input.volumeNotionalTotal - book.volumeNotionalCharged : 0n;
  const volume = min(volumeFee(notional, rates.volumePerMillion, currencyCode), available);
  const subscription = subscriptionDue.fee > 0n && subscriptionDue.fee <= available - volume ? subscriptionDue.fee : 0n;
  const paidUntilMs = subscription > 0n ? subscriptionDue.paidUntilMs : book.paidUntilMs;
  const net = equity - volume - subscription;
  const state = { mark: book.mark, managementAccrued: book.managementAccrued };
  const s = settle(state, net, rates.performanceBps, point === 'stop');
  let markAfterWithdrawal: bigint | undefined;
  if (point === 'withdrawal') {
    // refuses withdrawal_exceeds_equity when the amount is more than the equity after every fee
    markAfterWithdrawal = settleAndWithdraw(state, net, rates.performanceBps, input.withdrawal ?? 0n).state.mark;
  }
  const total = volume + subscription + s.management + s.performance.fee;
  const equityAfter = equity - total;
  const periodEndMs = point === 'anniversary' ? book.nextAnniversaryMs : nowMs;
  const next: FeeBook = {
    ...book,
    mark: s.state.mark,
    managementAccrued: s.state.managementAccrued,
    // a period ends at each anniversary and each charge that takes something
    periodStartMs: total > 0n || point === 'anniversary' ? periodEndMs : book.periodStartMs,
    nextAnniversaryMs: point === 'anniversary' ? nextAnniversary(book.anchorMs, nowMs) : book.nextAnniversaryMs,
    volumeNotionalCharged: max(input.volumeNotionalTotal, book.volumeNotionalCharged),
    ...(paidUntilMs !== undefined ? { paidUntilMs } : {}),
  };
  return {
    point,
    periodStartMs: book.periodStartMs,
    periodEndMs,
    equityBefore: equity,
    markBefore: book.mark,
    managementAccrued: book.managementAccrued,
    management: s.management,
    performance: s.performance,
    volume: { notional, fee: volume },
    subscription: { fee: subscription, ...(paidUntilMs !== undefined ? { paidUntilMs } : {}) },
    total,
    split: splitCharge(total, brokerShareBps),
    equityAfter,
    markAfter: s.state.mark,
    ...(markAfterWithdrawal !== undefined ? { markAfterWithdrawal } : {}),
    ...(point === 'stop' ? { carry: s.state.mark > equityAfter ? s.state.mark - equityAfter : 0n } : {}),
    book: next,
  };
}

/** The key of the period a charge point covers: what makes a charge of it once. */
export function periodKeyOf(point: ChargePoint, book: FeeBook, nowMs: number, transferId?: string): string {
  switch (point) {
    case 'anniversary':
      return String(book.nextAnniversaryMs);
    case 'withdrawal':
      if (!transferId) throw new RangeError('periodKeyOf: a withdrawal charge needs its transfer id');
      return transferId;
    case 'stop':
      return 'final';
    case 'daily':
      return utcDay(nowMs);
  }
}

/** The charge of (subscription, charge point, period, failures so far): `cf_` + 23 hex (26 characters). */
export const chargeIdFor = (subscriptionId: string, point: ChargePoint, periodKey: string, failures: number): string =>
  `cf_${createHash('sha256')
    .update([subscriptionId, point, periodKey, String(failures)].join('\u0000'), 'utf8')
    .digest('hex')
    .slice(0, 23)}`;
