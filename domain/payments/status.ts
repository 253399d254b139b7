/**
 * Deposit and withdrawal lifecycles as data: the statuses, the allowed transitions, and what each
 * status means for the wallet. Pure; the store applies a transition conditioned on the status read.
 *
 * Invariants:
 * - a payment moves only along DEPOSIT_TRANSITIONS / WITHDRAWAL_TRANSITIONS; anything else is the
 *   DomainError invalid_status_transition (409), so a late or replayed PSP webhook cannot move a
 *   payment backwards (e.g. failed -> succeeded)
 * - terminal statuses have no way out
 * - deposit: the wallet is credited exactly once, on entering `completed`; `refunded` (in full) and
 *   `charged_back` reverse that credit (a partial refund leaves it `completed` with refundedAmount)
 * - withdrawal (the client-visible names): the gross is held from `received` until the payout is
 *   `completed` (the hold is posted) or the request ends `rejected` / `cancelled` / `failed` (the hold is
 *   voided, never edited)
 */
import { DomainError } from '../errors.ts';

export const DEPOSIT_STATUSES = ['created', 'pending', 'completed', 'failed', 'expired', 'refunded', 'charged_back'] as const;
export type DepositStatus = (typeof DEPOSIT_STATUSES)[number];

export const DEPOSIT_TRANSITIONS: Readonly<Record<DepositStatus, readonly DepositStatus[]>> = {
  /** recorded by us, intent not yet confirmed by the PSP */
  created: ['pending', 'failed', 'expired'],
  /** the PSP has the intent; waiting for the client / the PSP's webhook */
  pending: ['completed', 'failed', 'expired'],
  completed: ['refunded', 'charged_back'],
  failed: [],
  expired: [],
  refunded: [],
  charged_back: [],
};

export const WITHDRAWAL_STATUSES = [
  'received',
  'under_review',
  'approved',
  'rejected',
  'cancelled',
  'processing',
  'completed',
  'failed',
] as const;
export type WithdrawalStatus = (typeof WITHDRAWAL_STATUSES)[number];

export const WITHDRAWAL_TRANSITIONS: Readonly<Record<WithdrawalStatus, readonly WithdrawalStatus[]>> = {
  /** funds held; automatic checks run */
  received: ['under_review', 'approved', 'rejected', 'cancelled', 'failed'],
  /** waiting for a finance / compliance decision (the approval state machine's task token) */
  under_review: ['approved', 'rejected', 'cancelled', 'failed'],
  approved: ['processing', 'failed'],
  /** payout sent to the PSP */
  processing: ['completed', 'failed'],
  rejected: [],
  cancelled: [],
  completed: [],
  failed: [],
};

/** What the withdrawal's hold is in a status: still reserved, posted (money left), or voided (released). */
export function withdrawalHold(status: WithdrawalStatus): 'held' | 'posted' | 'voided' {
  if (status === 'completed') return 'posted';
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
