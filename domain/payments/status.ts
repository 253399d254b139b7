/**
 * Deposit and withdrawal lifecycles as data: the statuses, the allowed transitions, and what each
 * status means for the wallet. Pure; the store applies a transition conditioned on the status read.
 *
 * Invariants:
 * - a payment moves only along DEPOSIT_TRANSITIONS / WITHDRAWAL_TRANSITIONS; anything else is the
 *   DomainError invalid_status_transition (409), so a late or replayed PSP webhook cannot move a
 *   payment backwards (e.g. failed -> succeeded)
 * - terminal statuses have no way out
 * - deposit: the wallet is credited exactly once, on entering `succeeded`; `refunded` and
 *   `charged_back` reverse that credit (refunds and chargebacks are later slices)
 * - withdrawal: the gross is held from `requested` until the payout is `paid` (the hold is posted)
 *   or the request ends `rejected` / `cancelled` / `failed` (the hold is voided, never edited)
 */
import { DomainError } from '../errors.ts';

export const DEPOSIT_STATUSES = ['created', 'pending', 'succeeded', 'failed', 'expired', 'refunded', 'charged_back'] as const;
export type DepositStatus = (typeof DEPOSIT_STATUSES)[number];

export const DEPOSIT_TRANSITIONS: Readonly<Record<DepositStatus, readonly DepositStatus[]>> = {
  /** recorded by us, intent not yet confirmed by the PSP */
  created: ['pending', 'failed'],
  /** the PSP has the intent; waiting for the client / the PSP's webhook */
  pending: ['succeeded', 'failed', 'expired'],
  succeeded: ['refunded', 'charged_back'],
  failed: [],
  expired: [],
  refunded: [],
  charged_back: [],
};

export const WITHDRAWAL_STATUSES = [
  'requested',
  'pending_review',
  'approved',
  'rejected',
  'cancelled',
  'processing',
  'paid',
  'failed',
] as const;
export type WithdrawalStatus = (typeof WITHDRAWAL_STATUSES)[number];

export const WITHDRAWAL_TRANSITIONS: Readonly<Record<WithdrawalStatus, readonly WithdrawalStatus[]>> = {
  /** funds held; automatic checks run */
  requested: ['pending_review', 'approved', 'rejected', 'cancelled'],
  /** waiting for a finance decision (the approval state machine's task token) */
  pending_review: ['approved', 'rejected', 'cancelled'],
  approved: ['processing', 'failed'],
  /** payout sent to the PSP */
  processing: ['paid', 'failed'],
  rejected: [],
  cancelled: [],
  paid: [],
  failed: [],
};

/** What the withdrawal's hold is in a status: still reserved, posted (money left), or voided (released). */
export function withdrawalHold(status: WithdrawalStatus): 'held' | 'posted' | 'voided' {
  if (status === 'paid') return 'posted';
  if (status === 'rejected' || status === 'cancelled' || status === 'failed') return 'voided';
  return 'held';
}

export const isTerminalDeposit = (s: DepositStatus) => DEPOSIT_TRANSITIONS[s].length === 0;
export const isTerminalWithdrawal = (s: WithdrawalStatus) => WITHDRAWAL_TRANSITIONS[s].length === 0;

export function canTransition<S extends string>(table: Readonly<Record<S, readonly S[]>>, from: S, to: S): boolean {
  return table[from]?.includes(to) ?? false;
}

/** Throws invalid_status_transition (409) unless `from -> to` is in `table`. */
export function assertTransition<S extends string>(
  kind: 'deposit' | 'withdrawal',
  table: Readonly<Record<S, readonly S[]>>,
  from: S,
  to: S,
): void {
  if (!canTransition(table, from, to)) {
    throw new DomainError('invalid_status_transition', 'conflict', `A ${kind} cannot move from ${from} to ${to}`, [], {
      kind,
      from,
      to,
      allowed: [...(table[from] ?? [])],
    });
  }
}
