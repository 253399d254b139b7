/**
 * Fail a pending refund (the provider's refund.failed webhook, a provider that refused the request, or a
 * provider that could not be reached): the refund's hold is voided, so no money stays reserved.
 *
 * Invariants:
 * - ONE transaction: the hold voided, the refund 'failed' with the reason, the deposit's `refundsPending`
 *   lowered, the webhook marker when a webhook caused it, audit entries and outbox 'payment.refund.failed'
 * - a refund that is no longer pending changes nothing: { applied: false, reason: 'refund_not_pending' },
 *   so a failed refund is never completed afterwards and a completed one never failed
 */
import { isDomainError } from '#domain/errors.ts';
import { toMinor } from '#domain/money/index.ts';
import { voidHold } from '#store/ledger/index.ts';
import { DEPOSIT_ENTITY } from '#store/payments/deposits.ts';
import {
  depositRefundSnapshot,
  REFUND_ENTITY,
  readDepositWithRefunds,
  refundEventDetail,
  refundSnapshot,
  retriedReplace,
  withRefundsPending,
} from '#store/payments/refunds.ts';
import {
  markerWrites,
  NotPending,
  pendingRefund,
  type Refund,
  type RefundOutcome,
  type RefundOutcomeContext,
  settledMeanwhile,
} from './refund-shared.ts';

export interface FailRefundInput {
  refundId: string;
  /** The machine reason (refund_declined, provider_unavailable, the provider's failure code). */
  reason: string;
}

/** Voids the refund's hold (see the module invariants). A refund that is not pending: { applied: false }. */
export async function failRefund(input: FailRefundInput, ctx: RefundOutcomeContext): Promise<RefundOutcome> {
  const { refundId, reason } = input;
  let r: Refund;
  try {
    r = await pendingRefund(refundId);
  } catch (err) {
    if (err instanceof NotPending) return { applied: false, reason: 'refund_not_pending', refund: err.refund };
    throw err;
  }
  let done: Refund | undefined;
  try {
    await voidHold(r.holdId, {
      reason,
      actor: ctx.actor,
      requestId: ctx.requestId,
      extra: async (at) => {
        const cur2 = await pendingRefund(refundId);
        const amount = toMinor(cur2.amount.amount, cur2.amount.currency);
        const d = await readDepositWithRefunds(cur2.depositId);
        const { next: depositNext, write } = withRefundsPending(d, -amount, at);
        const next: Refund = {
          ...cur2,
          status: 'failed',
          timeline: [...cur2.timeline, { status: 'failed', at, reason }],
          failureReason: reason,
          ...(cur2.providerRef || !ctx.providerRef ? {} : { providerRef: ctx.providerRef }),
        };
        done = { ...next, version: cur2.version + 1, updatedAt: at };
        return {
          writes: [retriedReplace(cur2, next, at, 'refund'), write, ...markerWrites(ctx)],
          audit: [
            {
              actor: ctx.actor,
              action: 'payment.refund.failed',
              entity: { type: REFUND_ENTITY, id: r.refundId },
              clientId: r.clientId,
              before: refundSnapshot(cur2),
              after: refundSnapshot(next),
              reason,
              requestId: ctx.requestId,
            },
            {
              actor: ctx.actor,
              action: 'payment.deposit.refund_released',
              entity: { type: DEPOSIT_ENTITY, id: d.depositId },
              clientId: d.clientId,
              before: depositRefundSnapshot(d),
              after: depositRefundSnapshot(depositNext),
              requestId: ctx.requestId,
            },
          ],
          outbox: [
            {
              detailType: 'payment.refund.failed',
              detail: { ...refundEventDetail(next), reason: next.reason, failureReason: reason },
            },
          ],
        };
      },
    });
  } catch (err) {
    if (err instanceof NotPending) return { applied: false, reason: 'refund_not_pending', refund: err.refund };
    if (isDomainError(err) && err.code === 'hold_not_pending') {
      const settled = await settledMeanwhile(refundId);
      if (settled) return settled;
    }
    throw err;
  }
  return { applied: true, refund: done! };
}
