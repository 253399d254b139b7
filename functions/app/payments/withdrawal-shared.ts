/**
 * What the withdrawal use cases share: the withdrawal as they return it, who may read one, whether its
 * client may still cancel it, and the refusals several of them give.
 *
 * Invariants:
 * - a use case returns the stored withdrawal as `Withdrawal` (edges present it; they never import the store):
 *   it carries the task tokens, which presenters must never show
 * - a client may cancel only while the withdrawal is received, or under review without a recorded decision
 * - finance, compliance and admins read any withdrawal (the staff view); a client only its own
 */
import { DomainError } from '#domain/errors.ts';
import type { Role } from '#domain/identity/roles.ts';
import type { WithdrawalItem } from '#store/payments/types.ts';

/** A withdrawal as the use cases return it (the stored item). */
export type Withdrawal = WithdrawalItem;
export type { WithdrawalCheckResult } from '#store/payments/types.ts';

/** Staff roles that may read any client's withdrawal (with the staff view). */
export const WITHDRAWAL_STAFF_READERS: readonly Role[] = ['finance', 'compliance', 'admin'];

/** May the client still cancel? received, or under_review without a recorded decision. */
export const isCancellable = (w: Pick<Withdrawal, 'status' | 'review'>) =>
  (w.status === 'received' || w.status === 'under_review') && !w.review?.decision;

export const notCancellable = (w: Pick<Withdrawal, 'withdrawalId' | 'status'>) =>
  new DomainError('withdrawal_not_cancellable', 'conflict', `A withdrawal that is ${w.status} cannot be cancelled`, [], {
    withdrawalId: w.withdrawalId,
    status: w.status,
  });
