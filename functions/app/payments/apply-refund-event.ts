/**
 * Apply a provider's refund.* webhook event to our refund (the WebhookEffect contract in
 * webhook-effect.ts; the money in complete-refund.ts / fail-refund.ts and docs/decisions/0008-payments.md).
 *
 * Invariants:
 * - the refund is found by the event's merchantRef (our refund id, same provider), else by the provider
 *   reference item (kind 'refund'); none -> ignored 'unknown_payment'
 * - the event's amount must equal the refund's (else ignored 'amount_mismatch'): a provider never
 *   settles a different amount than we reserved
 * - refund.succeeded posts the refund's hold (wallet -amount, psp_clearing +amount) and refund.failed
 *   voids it, each in ONE transaction with the refund's status, the deposit's totals, the marker, audit
 *   and outbox (completeRefund / failRefund)
 * - only a pending refund moves; a late or repeated outcome is ignored 'refund_not_pending', so a
 *   refund is debited at most once and a failed one is never completed afterwards
 * - a concurrent duplicate of the SAME event fails on the marker: webhook_duplicate propagates
 */
import { toMinor } from '#domain/money/index.ts';
import { getRefund, type RefundItem } from '#store/payments/refunds.ts';
import { lookupProviderRef } from '#store/payments/webhook-events.ts';
import { completeRefund } from './complete-refund.ts';
import { failRefund } from './fail-refund.ts';
import type { WebhookContext, WebhookEffect } from './webhook-effect.ts';

async function findRefund(ctx: WebhookContext): Promise<RefundItem | undefined> {
  const { event, provider } = ctx;
  if (event.merchantRef) {
    const r = await getRefund(event.merchantRef, { consistent: true });
    if (r && r.provider === provider && (!r.providerRef || r.providerRef === event.providerRef)) return r;
  }
  const ref = await lookupProviderRef(provider, event.providerRef);
  if (ref?.paymentKind !== 'refund') return undefined;
  return getRefund(ref.paymentId, { consistent: true });
}

export const applyRefundEvent: WebhookEffect = async (ctx) => {
  const { event } = ctx;
  if (event.type !== 'refund.succeeded' && event.type !== 'refund.failed') {
    return { outcome: 'ignored', reason: 'unsupported_event' };
  }
  const refund = await findRefund(ctx);
  if (!refund) return { outcome: 'ignored', reason: 'unknown_payment' };
  const paymentId = refund.refundId;
  const cur = refund.amount.currency;
  if (event.amount.currency !== cur || event.amount.amount !== toMinor(refund.amount.amount, cur)) {
    return { outcome: 'ignored', reason: 'amount_mismatch', paymentId };
  }
  if (refund.status !== 'pending') return { outcome: 'ignored', reason: 'refund_not_pending', paymentId };
  const opts = { actor: ctx.actor, requestId: ctx.requestId, marker: ctx.marker, providerRef: event.providerRef };
  const result =
    event.type === 'refund.succeeded'
      ? await completeRefund({ refundId: paymentId }, opts)
      : await failRefund({ refundId: paymentId, reason: event.failureCode ?? 'refund_failed' }, opts);
  return result.applied ? { outcome: 'applied', paymentId } : { outcome: 'ignored', reason: result.reason, paymentId };
};
