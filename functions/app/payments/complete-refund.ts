/**
 * Complete a pending refund (the provider's refund.succeeded webhook, or a provider that answered the
 * request with 'succeeded'): the refund's hold is posted (ADR 0008 "refund completed").
 *
 * Invariants:
 * - ONE transaction: the hold posted (wallet -amount, psp_clearing +amount, journal `refund_<refundId>`),
 *   the refund 'completed', the deposit's `refunded` raised / `refundsPending` lowered (status 'refunded'
 *   once the whole net is refunded), the funding source's `returned`, the webhook marker when a webhook
 *   caused it, audit entries and outbox 'payment.refund.completed'
 * - the refund and the deposit are re-read inside every attempt of the ledger's loop (their lost races
 *   are concurrent_modification, retried there); a refund that is no longer pending changes nothing:
 *   { applied: false, reason: 'refund_not_pending' }, so a refund is debited at most once
 */
import { isDomainError } from '#domain/errors.ts';
import { toMinor } from '#domain/money/index.ts';
import { depositAfterRefund } from '#domain/payments/refunds.ts';
import type { AuditInput } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { houseAccount, postHold } from '#store/ledger/index.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import { fundingSourceReturn } from '#store/payments/client-state.ts';
import { DEPOSIT_ENTITY, depositTransition } from '#store/payments/deposits.ts';
import {
  type DepositWithRefunds,
  depositRefundSnapshot,
  minorOf,
  moneyJson,
  REFUND_ENTITY,
  raceLost,
  readDepositWithRefunds,
  refundEventDetail,
  refundJournalId,
  refundSnapshot,
  retriedReplace,
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

export interface CompleteRefundInput {
  refundId: string;
}

/** Posts the refund's hold (see the module invariants). A refund that is not pending: { applied: false }. */
export async function completeRefund(input: CompleteRefundInput, ctx: RefundOutcomeContext): Promise<RefundOutcome> {
  const { refundId } = input;
  let r: Refund;
  try {
    r = await pendingRefund(refundId);
  } catch (err) {
    if (err instanceof NotPending) return { applied: false, reason: 'refund_not_pending', refund: err.refund };
    throw err;
  }
  const cur = r.amount.currency;
  const amount = toMinor(r.amount.amount, cur);
  const clearing = await houseAccount('psp_clearing', cur);
  const providerRef = r.providerRef ?? ctx.providerRef ?? r.refundId;
  let done: Refund | undefined;
  try {
    await postHold(r.holdId, {
      counterPostings: [{ accountId: clearing.accountId, amount }],
      journalId: refundJournalId(r.refundId),
      type: 'reversal',
      reference: `refund:${r.depositId}`,
      description: 'Refund of a deposit',
      metadata: { psp: { provider: r.provider, providerRef, kind: 'refund' }, refundId: r.refundId, depositId: r.depositId },
      idempotency: { scope: 'psp-refund-post', key: r.refundId, requestHash: r.refundId },
      actor: ctx.actor,
      requestId: ctx.requestId,
      clientId: r.clientId,
      extra: async (at) => {
        const cur2 = await pendingRefund(refundId);
        const d = await readDepositWithRefunds(cur2.depositId);
        const dcur = d.net.currency;
        const after = depositAfterRefund({ net: toMinor(d.net.amount, dcur), refunded: minorOf(d.refunded, dcur) }, amount);
        const pending = minorOf(d.refundsPending, dcur) - amount;
        const patch = { refunded: moneyJson(after.refunded, dcur), refundsPending: moneyJson(pending < 0n ? 0n : pending, dcur) };
        let depositNext: DepositWithRefunds;
        let depositWrite: CommitWrite;
        if (after.full && d.status === 'completed') {
          const t = depositTransition(d, 'refunded', { at, patch });
          depositNext = t.next;
          depositWrite = { ...t.write, conditionFailedError: raceLost('deposit') };
        } else {
          depositNext = { ...d, ...patch };
          depositWrite = retriedReplace(d, depositNext, at, 'deposit');
        }
        const next: Refund = {
          ...cur2,
          status: 'completed',
          timeline: [...cur2.timeline, { status: 'completed', at }],
          journalId: refundJournalId(r.refundId),
          completedAt: at,
          ...(cur2.providerRef || !ctx.providerRef ? {} : { providerRef: ctx.providerRef }),
        };
        done = { ...next, version: cur2.version + 1, updatedAt: at };
        const writes: CommitWrite[] = [retriedReplace(cur2, next, at, 'refund'), depositWrite, ...markerWrites(ctx)];
        if (d.sourceId) writes.push(fundingSourceReturn(d.clientId, d.sourceId, { minor: amount, currency: dcur }));
        const audit: AuditInput[] = [
          {
            actor: ctx.actor,
            action: 'payment.refund.completed',
            entity: { type: REFUND_ENTITY, id: r.refundId },
            clientId: r.clientId,
            before: refundSnapshot(cur2),
            after: refundSnapshot(next),
            requestId: ctx.requestId,
          },
          {
            actor: ctx.actor,
            action: depositNext.status === 'refunded' ? 'payment.deposit.refunded' : 'payment.deposit.partially_refunded',
            entity: { type: DEPOSIT_ENTITY, id: d.depositId },
            clientId: d.clientId,
            before: depositRefundSnapshot(d),
            after: depositRefundSnapshot(depositNext),
            requestId: ctx.requestId,
          },
        ];
        const outbox: OutboxEvent[] = [
          {
            detailType: 'payment.refund.completed',
            detail: { ...refundEventDetail(next), full: depositNext.status === 'refunded', journalId: next.journalId },
          },
        ];
        return { writes, audit, outbox };
      },
    });
  } catch (err) {
    if (err instanceof NotPending) return { applied: false, reason: 'refund_not_pending', refund: err.refund };
    if (isDomainError(err) && (err.code === 'hold_not_pending' || err.code === 'idempotency_key_reused')) {
      const settled = await settledMeanwhile(refundId);
      if (settled) return settled;
    }
    throw err;
  }
  return { applied: true, refund: done! };
}
