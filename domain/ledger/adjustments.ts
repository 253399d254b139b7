/**
 * Manual balance adjustments by finance: the four-eyes rules. Pure (no I/O, no clock of its own).
 *
 * Invariants:
 * - an adjustment whose amount, converted to the threshold's currency at the tenant's mid rate
 *   (no markup), is AT OR ABOVE the tenant threshold needs a second finance user's approval; below it,
 *   it posts at once. The comparison is exact (rational arithmetic, no rounding, no floats)
 * - an amount that cannot be converted (no configured rate route) needs approval (fail safe)
 * - the approver is a finance user other than the requester (403 four_eyes_required)
 * - a request is decided exactly once (409 already_decided); a pending request past its expiry can
 *   no longer be decided (409 adjustment_expired) and reads as 'expired'
 * - no splitting around the threshold: a requester's immediate adjustments of one UTC day, summed in
 *   the threshold's currency (minor units, each amount converted at the mid rate and rounded UP), must
 *   stay strictly below the threshold; the adjustment that would reach it needs approval
 *   (dailyApprovalRequired). The store keeps the running total (functions/store/adjustments.ts)
 */
import { DomainError } from '../errors.ts';
import { currency } from '../money/currencies.ts';
import { midRatio, type Ratio, ratioOf, ratioToDecimal, type TenantConfig } from '../tenant/config.ts';

/** A pending request can be decided for this long. */
export const ADJUSTMENT_TTL_HOURS = 72;

export type AdjustmentDirection = 'credit' | 'debit';
export type AdjustmentStatus = 'pending_approval' | 'posted' | 'rejected' | 'expired';
export type AdjustmentDecision = 'approve' | 'reject';

/** Minor units + currency (the same shape as domain/money's Money). */
export interface MinorMoney {
  amount: bigint;
  currency: string;
}

export interface AdjustmentRequest {
  adjustmentId: string;
  walletId: string;
  clientId: string;
  direction: AdjustmentDirection;
  /** Decimal string in major units, as requested. */
  amount: { amount: string; currency: string };
  reason: string;
  reference?: string | undefined;
  requestedBy: string;
  requestedAt: string;
  expiresAt: string;
  status: AdjustmentStatus;
  decision?: AdjustmentDecision | undefined;
  decidedBy?: string | undefined;
  decidedAt?: string | undefined;
  note?: string | undefined;
  journalId?: string | undefined;
}

export interface ThresholdCheck {
  approvalRequired: boolean;
  threshold: { amount: string; currency: string };
  /** The amount in the threshold's currency, as an exact decimal (up to 10 places), when convertible. */
  converted?: string | undefined;
}

const minorToRatio = (m: MinorMoney): Ratio => ({ num: m.amount, den: 10n ** BigInt(currency(m.currency).exponent) });

/** Whether an adjustment of `amount` needs a second finance user under the tenant's threshold. */
export function checkThreshold(amount: MinorMoney, cfg: TenantConfig): ThresholdCheck {
  const threshold = cfg.ledger.adjustmentApprovalThreshold;
  const mid = midRatio(cfg, amount.currency, threshold.currency);
  if (!mid) return { approvalRequired: true, threshold };
  const value = minorToRatio({ amount: amount.amount < 0n ? -amount.amount : amount.amount, currency: amount.currency });
  const rate = mid.ratio;
  const limit = ratioOf(threshold.amount);
  // value * rate >= limit  <=>  value.num * rate.num * limit.den >= limit.num * value.den * rate.den
  const lhs = value.num * rate.num * limit.den;
  const rhs = limit.num * value.den * rate.den;
  return {
    approvalRequired: lhs >= rhs,
    threshold,
    converted: ratioToDecimal({ num: value.num * rate.num, den: value.den * rate.den }),
  };
}

/**
 * The amount and the threshold in minor units of the threshold's currency, for the per-requester daily
 * total: the amount converted at the mid rate and rounded up (fail safe), the threshold rounded down.
 * Undefined when the amount cannot be converted (such an amount needs approval anyway).
 */
export function thresholdMinor(amount: MinorMoney, cfg: TenantConfig): { amount: bigint; limit: bigint } | undefined {
  const threshold = cfg.ledger.adjustmentApprovalThreshold;
  const mid = midRatio(cfg, amount.currency, threshold.currency);
  if (!mid) return undefined;
  const scale = 10n ** BigInt(currency(threshold.currency).exponent);
  const value = minorToRatio({ amount: amount.amount < 0n ? -amount.amount : amount.amount, currency: amount.currency });
  const num = value.num * mid.ratio.num * scale;
  const den = value.den * mid.ratio.den;
  const limit = ratioOf(threshold.amount);
  return { amount: (num + den - 1n) / den, limit: (limit.num * scale) / limit.den };
}

/** Whether an adjustment of `amount` (minor units) needs approval given the requester's day total so far. */
export const dailyApprovalRequired = (dayTotal: bigint, amount: bigint, limit: bigint): boolean => dayTotal + amount >= limit;

/** The UTC day (YYYY-MM-DD) an adjustment requested at `at` counts towards. */
export const utcDay = (at: string): string => new Date(at).toISOString().slice(0, 10);

/** The expiry of a request made at `requestedAt`. */
export function expiryOf(requestedAt: string, hours = ADJUSTMENT_TTL_HOURS): string {
  return new Date(Date.parse(requestedAt) + hours * 3_600_000).toISOString();
}

/** The status as a reader should see it: a pending request past its expiry is 'expired'. */
export function effectiveStatus(req: Pick<AdjustmentRequest, 'status' | 'expiresAt'>, now: Date): AdjustmentStatus {
  if (req.status === 'pending_approval' && Date.parse(req.expiresAt) <= now.getTime()) return 'expired';
  return req.status;
}

/**
 * Throws unless `deciderSub` may decide `req` now: four_eyes_required (403) for the requester,
 * already_decided (409) for a decided request, adjustment_expired (409) past its expiry.
 */
export function assertDecidable(req: AdjustmentRequest, deciderSub: string, now: Date): void {
  if (req.status !== 'pending_approval') {
    throw new DomainError('already_decided', 'conflict', `This adjustment was already decided (${req.status})`);
  }
  if (req.requestedBy === deciderSub) {
    throw new DomainError(
      'four_eyes_required',
      'forbidden',
      'An adjustment at or above the approval threshold must be approved by a different finance user',
    );
  }
  if (effectiveStatus(req, now) === 'expired') {
    throw new DomainError('adjustment_expired', 'conflict', 'This adjustment request has expired; submit a new one');
  }
}

/** The request after a decision (call assertDecidable first). Approve -> 'posted' with its journal. */
export function decide(
  req: AdjustmentRequest,
  d: { decision: AdjustmentDecision; by: string; at: string; note?: string | undefined; journalId?: string | undefined },
): AdjustmentRequest {
  if (d.decision === 'approve' && !d.journalId) throw new Error('decide: an approval needs the posted journal id');
  return {
    ...req,
    status: d.decision === 'approve' ? 'posted' : 'rejected',
    decision: d.decision,
    decidedBy: d.by,
    decidedAt: d.at,
    ...(d.note !== undefined ? { note: d.note } : {}),
    ...(d.decision === 'approve' ? { journalId: d.journalId } : {}),
  };
}

/** The signed amount for the client's wallet: a credit adds, a debit takes away. */
export const signedFor = (direction: AdjustmentDirection, amount: bigint): bigint => (direction === 'credit' ? amount : -amount);
