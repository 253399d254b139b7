/**
 * Refunds of completed deposits: how much may still be refunded, the reason catalogue, the refund
 * lifecycle, and the money a completed refund moves. Pure; amounts are bigint minor units.
 *
 * Invariants:
 * - a refund is linked to exactly one deposit, in that deposit's currency, and only a `completed`
 *   deposit can be refunded (deposit_not_refundable otherwise; a fully refunded deposit is `refunded`)
 * - refundable = net - refunded - pending: the fee is never returned (it stays fee income), and the
 *   refunds of a deposit (completed + still pending) never add up to more than its net
 *   (refund_exceeds_deposit)
 * - a completed refund is one balanced movement: wallet -amount, psp_clearing +amount (the wallet's
 *   hold, placed when the refund was requested, is posted: the money was reserved from the start)
 * - a refund moves pending -> completed | failed, once; a failed refund releases its hold and moves no money
 * - the deposit becomes `refunded` exactly when its completed refunds reach its net
 */
import { DomainError, type FieldError } from '../errors.ts';
import type { Money } from '../money/index.ts';

export const REFUND_STATUSES = ['pending', 'completed', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export const REFUND_TRANSITIONS: Readonly<Record<RefundStatus, readonly RefundStatus[]>> = {
  pending: ['completed', 'failed'],
  completed: [],
  failed: [],
};

/** Why finance refunds a deposit (a catalogue code; `other` needs a note). */
export const REFUND_REASONS = ['client_request', 'duplicate_payment', 'compliance', 'other'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];
const NOTE_REQUIRED: readonly RefundReason[] = ['other'];

/** How long the refund's hold reserves the wallet funds: far longer than a provider takes to refund. */
export const REFUND_HOLD_DAYS = 30;

export const isRefundReason = (code: string): code is RefundReason => (REFUND_REASONS as readonly string[]).includes(code);

/** 400 unknown_reason for a code outside the catalogue; 400 note_required for `other` without a note. */
export function validateRefundReason(reason: string, note: string | undefined): RefundReason {
  if (!isRefundReason(reason)) {
    throw new DomainError('unknown_reason', 'validation', `The reason must be one of ${REFUND_REASONS.join(', ')}`, [
      { field: 'reason', code: 'unknown_reason', message: 'Unknown refund reason' },
    ]);
  }
  if (NOTE_REQUIRED.includes(reason) && (note === undefined || note.trim() === '')) {
    throw new DomainError('note_required', 'validation', `A note is required for the reason ${reason}`, [
      { field: 'note', code: 'note_required', message: 'Required for this reason' },
    ]);
  }
  return reason;
}

/** What the refund check needs to know about the deposit, in minor units of its currency. */
export interface RefundableDeposit {
  status: string;
  currency: string;
  /** What reached the wallet (gross - fee). */
  net: bigint;
  /** Completed refunds so far. */
  refunded: bigint;
  /** Refunds requested and not yet completed or failed (their funds are held). */
  pending: bigint;
}

/** What can still be refunded: net - refunded - pending, never below zero. */
export function refundableMinor(d: Pick<RefundableDeposit, 'net' | 'refunded' | 'pending'>): bigint {
  const left = d.net - d.refunded - d.pending;
  return left > 0n ? left : 0n;
}

const unprocessable = (code: string, message: string, errors: FieldError[] = [], meta: Record<string, unknown> = {}) =>
  new DomainError(code, 'unprocessable', message, errors, meta);

/**
 * Checks a refund of `amount` against the deposit: 422 deposit_not_refundable (not completed),
 * currency_mismatch (not the deposit's currency), refund_exceeds_deposit (more than refundable).
 * Returns what stays refundable afterwards.
 */
export function assertRefundable(d: RefundableDeposit, amount: Money): bigint {
  if (d.status !== 'completed') {
    throw unprocessable('deposit_not_refundable', `A ${d.status} deposit cannot be refunded`, [], { status: d.status });
  }
  if (amount.currency !== d.currency) {
    throw unprocessable(
      'currency_mismatch',
      `The refund must be in the deposit's currency (${d.currency})`,
      [{ field: 'amount.currency', code: 'currency_mismatch', message: `Expected ${d.currency}` }],
      { currency: d.currency },
    );
  }
  if (amount.amount <= 0n) {
    throw unprocessable('amount_not_positive', 'The refund must be greater than zero', [
      { field: 'amount.amount', code: 'amount_not_positive', message: 'Must be greater than zero' },
    ]);
  }
  const refundable = refundableMinor(d);
  if (amount.amount > refundable) {
    throw unprocessable(
      'refund_exceeds_deposit',
      'The refund exceeds what is left to refund of this deposit (its net, less refunds completed or pending)',
      [{ field: 'amount.amount', code: 'refund_exceeds_deposit', message: 'More than the refundable amount' }],
      { refundableMinor: refundable.toString() },
    );
  }
  return refundable - amount.amount;
}

/** The postings of a completed refund (positive = into the account): wallet -amount, psp_clearing +amount. */
export function refundPostings(
  accounts: { wallet: string; clearing: string },
  amount: Money,
): { accountId: string; amount: bigint; currency: string }[] {
  return [
    { accountId: accounts.wallet, amount: -amount.amount, currency: amount.currency },
    { accountId: accounts.clearing, amount: amount.amount, currency: amount.currency },
  ];
}

/** The deposit after a completed refund of `amount`: its refunded total and whether it is now refunded in full. */
export function depositAfterRefund(d: Pick<RefundableDeposit, 'net' | 'refunded'>, amount: bigint) {
  const refunded = d.refunded + amount;
  return { refunded, full: refunded >= d.net };
}
