/**
 * What the refund use cases share: the refund as they return it, the outcome of settling one, and the
 * rule that a refund leaves 'pending' exactly once.
 *
 * Invariants:
 * - a use case returns the stored refund as `Refund` (edges present it; they never import the store)
 * - completing or failing a refund that is no longer pending changes nothing and says so
 *   ({ applied: false, reason: 'refund_not_pending' }): the webhook effect answers 'ignored'
 */
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import type { CommitWrite } from '#store/items.ts';
import { getRefund, type RefundItem } from '#store/payments/refunds.ts';

/** A refund as the use cases return it (the stored item). */
export type Refund = RefundItem;

export type RefundOutcome = { applied: true; refund: Refund } | { applied: false; reason: string; refund?: Refund };

/** Who settles the refund and what goes into the same transaction. */
export interface RefundOutcomeContext {
  actor: AuditActor;
  requestId: string;
  /** The webhook event marker, committed in the same transaction when a webhook causes the outcome. */
  marker?: CommitWrite | undefined;
  /** The provider's reference of the refund, when the outcome names it. */
  providerRef?: string | undefined;
}

/** Thrown inside a settlement when the refund is no longer pending; becomes { applied: false }. */
export class NotPending extends Error {
  constructor(readonly refund: Refund) {
    super('refund not pending');
  }
}

/** The refund on a consistent read, if it is still pending (else NotPending; 404 refund_not_found). */
export async function pendingRefund(refundId: string): Promise<Refund> {
  const r = await getRefund(refundId, { consistent: true });
  if (!r) throw new DomainError('refund_not_found', 'not_found', 'No refund with this id');
  if (r.status !== 'pending') throw new NotPending(r);
  return r;
}

export const markerWrites = (ctx: RefundOutcomeContext) => (ctx.marker ? [ctx.marker] : []);

/** After the ledger refused to settle the hold: the refund's own state says whether it was settled meanwhile. */
export async function settledMeanwhile(refundId: string): Promise<RefundOutcome | undefined> {
  const now = await getRefund(refundId, { consistent: true });
  return now && now.status !== 'pending' ? { applied: false, reason: 'refund_not_pending', refund: now } : undefined;
}
