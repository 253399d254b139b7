/**
 * Copy trading fees, per follower subscription: performance fee on a high-water mark, management fee,
 * volume fee, subscription fee, the tenant's caps on them and the split of every charge between the
 * provider and the broker. Money is bigint minor units of the follower's copy-account currency; rates are
 * integer basis points; every division rounds once, half-even (domain/money roundHalfEven).
 *
 * Invariants:
 * - performance (high-water mark, HWM): the mark starts at the equity the copy starts with; a deposit
 *   raises it by the amount deposited, a withdrawal lowers it by the amount withdrawn (markAfterFlow; not
 *   clamped: profit not yet charged stays chargeable). At a charge, gain = max(0, equity - mark) and
 *   fee = roundHalfEven(gain x performanceBps, 10,000), so 0 <= fee <= gain; after a charge with gain > 0
 *   the mark is equity - fee (the equity after the fee), otherwise it stays. So equity - mark is always the
 *   trading result (net of the other fees) since the last charge with a gain: a second charge without new
 *   profit is 0, and a withdrawal never makes charged profit chargeable again. Other fees are costs, not
 *   flows: they lower equity, not the mark. The mark belongs to the follower-provider pair: a stopped and
 *   restarted copy keeps it
 * - the caller charges (settle) on each monthly anniversary of the follower's own subscription, before
 *   every withdrawal from the copy account and when copying stops; charged before a withdrawal w <= equity,
 *   the mark stays >= 0
 * - management: accrued once per UTC day as equity x managementBpsPerYear / (10,000 x 365), kept exact as a
 *   numerator over MANAGEMENT_DENOMINATOR = 3,650,000 (a leap year accrues 366/365 of the rate; negative
 *   equity accrues 0); charged at settle as roundHalfEven(accrued, 3,650,000), capped at max(0, equity)
 *   (what the cap cuts off is waived, not carried); the rounding residue (|residue| <= 1/2 minor unit)
 *   carries to the next period; on stop the final settle charges it and the residue is dropped
 * - settle order: management first, then performance on the equity after the management fee
 * - volume: per side (each opening and each closing deal), fee = roundHalfEven(notional x perMillion,
 *   10^6 x 10^exponent): perMillion minor units per 1,000,000 major units of notional (Deal.notional)
 * - subscription: charged in advance for each monthly period anchored at the subscription's start, NOT
 *   prorated: the whole fee when a period starts unpaid, nothing back on stop; a restart inside a paid
 *   period pays nothing until paidUntil
 * - monthly anniversaries keep the anchor's day and time of day, clamped to the month's last day
 *   (31 Jan -> 28/29 Feb -> 31 Mar), counted from the anchor, never from the previous clamped date
 * - caps: performanceBps <= maxPerformanceBps (default 50 %), managementBpsPerYear <=
 *   maxManagementBpsPerYear (default 10 %/yr), volume and subscription fees <= the tenant's per-currency
 *   caps where set; over a cap is refused with *_over_cap; every rate is an integer in 0..10,000 bps
 * - split: broker = roundHalfEven(charge x brokerShareBps, 10,000), provider = charge - broker, so the two
 *   parts always sum exactly to the charge (ties go to the even broker amount)
 */
import { DomainError } from '../errors.ts';
import { currency, roundHalfEven } from '../money/index.ts';

export const BPS = 10_000n;
export const DAYS_PER_YEAR = 365n;
/** Management accrual is kept as a numerator over this: minor units x 3,650,000. */
export const MANAGEMENT_DENOMINATOR = BPS * DAYS_PER_YEAR;
export const PER_MILLION = 1_000_000n;

export interface CopyFeePolicy {
  maxPerformanceBps: number;
  maxManagementBpsPerYear: number;
  /** Caps by currency code, minor units; a currency without an entry is uncapped. */
  maxVolumePerMillion?: Readonly<Record<string, bigint>>;
  maxSubscriptionPerMonth?: Readonly<Record<string, bigint>>;
  /** The broker's (tenant's) share of every charge, bps; the provider gets the rest. */
  brokerShareBps: number;
}

export const DEFAULT_FEE_POLICY: Readonly<CopyFeePolicy> = Object.freeze({
  maxPerformanceBps: 5_000,
  maxManagementBpsPerYear: 1_000,
  brokerShareBps: 0,
});

/** A provider's fee schedule (the follower pays it), in the follower copy account's currency. */
export interface CopyFeeConfig {
  currency: string;
  performanceBps: number;
  managementBpsPerYear: number;
  /** Minor units per 1,000,000 major units of notional, per side. */
  volumePerMillion: bigint;
  /** Minor units per monthly period. */
  subscriptionPerMonth: bigint;
}

const refuse = (code: string, field: string, message: string): never => {
  throw new DomainError(code, 'unprocessable', message, [{ field, code, message }]);
};

const isBps = (v: number): boolean => Number.isSafeInteger(v) && v >= 0 && v <= 10_000;

/** Refuses a malformed tenant policy (invalid_fee_cap, invalid_broker_share). */
export function assertFeePolicy(policy: CopyFeePolicy): void {
  if (!isBps(policy.maxPerformanceBps)) refuse('invalid_fee_cap', 'maxPerformanceBps', 'A cap must be 0..10,000 bps');
  if (!isBps(policy.maxManagementBpsPerYear)) refuse('invalid_fee_cap', 'maxManagementBpsPerYear', 'A cap must be 0..10,000 bps');
  for (const [field, caps] of [
    ['maxVolumePerMillion', policy.maxVolumePerMillion],
    ['maxSubscriptionPerMonth', policy.maxSubscriptionPerMonth],
  ] as const) {
    for (const cap of Object.values(caps ?? {})) if (cap < 0n) refuse('invalid_fee_cap', field, 'A cap must not be negative');
  }
  if (!isBps(policy.brokerShareBps)) refuse('invalid_broker_share', 'brokerShareBps', 'The broker share must be 0..10,000 bps');
}

/** Refuses a fee schedule that is malformed (invalid_fee_rate, invalid_fee_amount) or over a tenant cap (*_over_cap). */
export function assertFeeConfig(config: CopyFeeConfig, policy: CopyFeePolicy = DEFAULT_FEE_POLICY): void {
  currency(config.currency);
  if (!isBps(config.performanceBps)) refuse('invalid_fee_rate', 'performanceBps', 'A rate must be 0..10,000 bps');
  if (!isBps(config.managementBpsPerYear)) refuse('invalid_fee_rate', 'managementBpsPerYear', 'A rate must be 0..10,000 bps');
  if (config.volumePerMillion < 0n) refuse('invalid_fee_amount', 'volumePerMillion', 'A fee must not be negative');
  if (config.subscriptionPerMonth < 0n) refuse('invalid_fee_amount', 'subscriptionPerMonth', 'A fee must not be negative');
  if (config.performanceBps > policy.maxPerformanceBps) {
    refuse('performance_fee_over_cap', 'performanceBps', `The performance fee may not exceed ${policy.maxPerformanceBps} bps`);
  }
  if (config.managementBpsPerYear > policy.maxManagementBpsPerYear) {
    refuse(
      'management_fee_over_cap',
      'managementBpsPerYear',
      `The management fee may not exceed ${policy.maxManagementBpsPerYear} bps a year`,
    );
  }
  const volumeCap = policy.maxVolumePerMillion?.[config.currency];
  if (volumeCap !== undefined && config.volumePerMillion > volumeCap) {
    refuse('volume_fee_over_cap', 'volumePerMillion', 'The volume fee is above the tenant cap');
  }
  const subscriptionCap = policy.maxSubscriptionPerMonth?.[config.currency];
  if (subscriptionCap !== undefined && config.subscriptionPerMonth > subscriptionCap) {
    refuse('subscription_fee_over_cap', 'subscriptionPerMonth', 'The subscription fee is above the tenant cap');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Performance fee (high-water mark)

export type Flow = { kind: 'deposit' | 'withdrawal'; amount: bigint };

/** The mark after a money flow into (deposit) or out of (withdrawal) the copy account. */
export function markAfterFlow(mark: bigint, flow: Flow): bigint {
  if (flow.amount < 0n) refuse('invalid_amount', 'amount', 'A flow amount must not be negative');
  return flow.kind === 'deposit' ? mark + flow.amount : mark - flow.amount;
}

export interface PerformanceCharge {
  /** max(0, equity - mark). */
  gain: bigint;
  fee: bigint;
  /** The mark after the charge. */
  mark: bigint;
}

/** The performance fee at a charge point (see Invariants). */
export function performanceFee(performanceBps: number, equity: bigint, mark: bigint): PerformanceCharge {
  if (!isBps(performanceBps)) refuse('invalid_fee_rate', 'performanceBps', 'A rate must be 0..10,000 bps');
  const gain = equity > mark ? equity - mark : 0n;
  if (gain === 0n) return { gain, fee: 0n, mark };
  const fee = roundHalfEven(gain * BigInt(performanceBps), BPS);
  return { gain, fee, mark: equity - fee };
}

// ---------------------------------------------------------------------------------------------------------
// Management fee

/** The accrual numerator after one more day at `equity` (see MANAGEMENT_DENOMINATOR). */
export function accrueManagementDay(accrued: bigint, equity: bigint, managementBpsPerYear: number): bigint {
  if (!isBps(managementBpsPerYear)) refuse('invalid_fee_rate', 'managementBpsPerYear', 'A rate must be 0..10,000 bps');
  return equity > 0n ? accrued + equity * BigInt(managementBpsPerYear) : accrued;
}

/** The management fee due for an accrual (capped at max(0, equity)) and the residue to carry. */
export function managementFee(accrued: bigint, equity: bigint): { fee: bigint; carry: bigint } {
  let fee = roundHalfEven(accrued, MANAGEMENT_DENOMINATOR);
  if (fee < 0n) fee = 0n;
  const available = equity > 0n ? equity : 0n;
  if (fee > available) return { fee: available, carry: 0n };
  return { fee, carry: accrued - fee * MANAGEMENT_DENOMINATOR };
}

// ---------------------------------------------------------------------------------------------------------
// Settlement: what a charge point (anniversary, withdrawal, stop) takes

export interface FeeState {
  /** High-water mark, minor units. */
  mark: bigint;
  /** Management accrual numerator over MANAGEMENT_DENOMINATOR. */
  managementAccrued: bigint;
}

export const startFeeState = (initialEquity: bigint): FeeState => ({ mark: initialEquity, managementAccrued: 0n });

export interface Settlement {
  management: bigint;
  performance: PerformanceCharge;
  /** equity - management - performance.fee. */
  equityAfter: bigint;
  state: FeeState;
}

/**
 * Charges the accrued management fee, then the performance fee on the equity after it. `final` (on stop)
 * drops the management residue instead of carrying it.
 */
export function settle(state: FeeState, equity: bigint, performanceBps: number, final = false): Settlement {
  const m = managementFee(state.managementAccrued, equity);
  const afterManagement = equity - m.fee;
  const performance = performanceFee(performanceBps, afterManagement, state.mark);
  return {
    management: m.fee,
    performance,
    equityAfter: afterManagement - performance.fee,
    state: { mark: performance.mark, managementAccrued: final ? 0n : m.carry },
  };
}

/** A withdrawal: settle first (before money leaves), then lower the mark by the amount withdrawn. */
export function settleAndWithdraw(state: FeeState, equity: bigint, performanceBps: number, amount: bigint): Settlement {
  const s = settle(state, equity, performanceBps);
  if (amount > s.equityAfter)
    refuse('withdrawal_exceeds_equity', 'amount', 'The withdrawal is larger than the equity after fees');
  return {
    ...s,
    equityAfter: s.equityAfter - amount,
    state: { ...s.state, mark: markAfterFlow(s.state.mark, { kind: 'withdrawal', amount }) },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Volume fee

/** The fee for one side of one deal of `notional` minor units of `currencyCode`. */
export function volumeFee(notional: bigint, perMillion: bigint, currencyCode: string): bigint {
  if (notional < 0n || perMillion < 0n) refuse('invalid_fee_amount', 'notional', 'A notional and a fee must not be negative');
  const exponent = BigInt(currency(currencyCode).exponent);
  return roundHalfEven(notional * perMillion, PER_MILLION * 10n ** exponent);
}

// ---------------------------------------------------------------------------------------------------------
// Monthly periods and the subscription fee

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month + 1, 0)).getUTCDate();

/** The n-th monthly anniversary of `anchorMs` (n = 0 is the anchor), day clamped to the month's length. */
export function monthlyAnniversary(anchorMs: number, n: number): number {
  if (!Number.isSafeInteger(anchorMs) || !Number.isSafeInteger(n) || n < 0) throw new RangeError('monthlyAnniversary: bad input');
  const a = new Date(anchorMs);
  const months = a.getUTCMonth() + n;
  const year = a.getUTCFullYear() + Math.floor(months / 12);
  const month = months % 12;
  const day = Math.min(a.getUTCDate(), daysInMonth(year, month));
  const timeOfDay = anchorMs - Date.UTC(a.getUTCFullYear(), a.getUTCMonth(), a.getUTCDate());
  return Date.UTC(year, month, day) + timeOfDay;
}

/** The first monthly anniversary of `anchorMs` strictly after `afterMs`. */
export function nextAnniversary(anchorMs: number, afterMs: number): number {
  const a = new Date(anchorMs);
  const b = new Date(afterMs);
  let n = Math.max(0, (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth() - 1);
  while (monthlyAnniversary(anchorMs, n) <= afterMs) n += 1;
  return monthlyAnniversary(anchorMs, n);
}

/**
 * The subscription fee due at `nowMs` (in advance, not prorated): the whole monthly fee when the current
 * period is unpaid (nowMs >= paidUntilMs), and the new paidUntil (the next anniversary of the anchor).
 */
export function subscriptionCharge(input: {
  fee: bigint;
  anchorMs: number;
  /** Undefined before the first payment. */
  paidUntilMs?: number;
  nowMs: number;
}): { fee: bigint; paidUntilMs: number } {
  if (input.fee < 0n) refuse('invalid_fee_amount', 'subscriptionPerMonth', 'A fee must not be negative');
  if (input.nowMs < input.anchorMs) throw new RangeError('subscriptionCharge: now is before the anchor');
  if (input.paidUntilMs !== undefined && input.nowMs < input.paidUntilMs) return { fee: 0n, paidUntilMs: input.paidUntilMs };
  return { fee: input.fee, paidUntilMs: nextAnniversary(input.anchorMs, input.nowMs) };
}

// ---------------------------------------------------------------------------------------------------------
// Split between the provider and the broker

/** broker = roundHalfEven(charge x brokerShareBps / 10,000), provider = charge - broker. */
export function splitCharge(charge: bigint, brokerShareBps: number): { provider: bigint; broker: bigint } {
  if (!isBps(brokerShareBps)) refuse('invalid_broker_share', 'brokerShareBps', 'The broker share must be 0..10,000 bps');
  const broker = roundHalfEven(charge * BigInt(brokerShareBps), BPS);
  return { provider: charge - broker, broker };
}
