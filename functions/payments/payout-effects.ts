/**
 * The payout webhook effect (payout.paid / payout.failed): records the provider's outcome on the
 * withdrawal and resumes its waiting approval execution. Contract: functions/payments/webhook-types.ts.
 *
 * Invariants:
 * - it does NOT move money: the withdrawal-finalize step does, reading the outcome recorded here. So a
 *   lost callback is not a lost payout: the Payout state's timeout runs Finalize 'check', which acts on
 *   this record
 * - the withdrawal is found by the event's merchantRef (our withdrawal id, same provider), else by the
 *   provider reference item; the outcome (payout.outcome, outcomeAt, failureCode), the webhook marker and
 *   the audit entry are ONE commit conditioned on the version read (a lost race re-reads)
 * - ignored (nothing committed; the dispatcher records the marker and the reason): unknown payment,
 *   a withdrawal that is not processing (e.g. already final), an outcome already recorded, another
 *   provider reference than the one recorded, an amount or currency other than the net paid out
 * - after the commit the payout task token is answered { outcome } best effort (never logged)
 */
import { toMinor } from '#domain/money/index.ts';
import { commit } from '#store/audit.ts';
import type { WithdrawalItem } from '#store/payments/types.ts';
import { lookupProviderRef } from '#store/payments/webhook-events.ts';
import { answerTask, getWithdrawal, replaceWithdrawal, retryOnRace, withdrawalAudit } from '#store/payments/withdrawals.ts';
import type { WebhookContext, WebhookEffect, WebhookOutcome } from './webhook-types.ts';

async function findWithdrawal(ctx: WebhookContext): Promise<WithdrawalItem | undefined> {
  const { event, provider } = ctx;
  if (event.merchantRef) {
    const w = await getWithdrawal(event.merchantRef, { consistent: true });
    if (w && w.provider === provider && (!w.payout?.providerRef || w.payout.providerRef === event.providerRef)) return w;
  }
  const ref = await lookupProviderRef(provider, event.providerRef);
  if (ref?.paymentKind !== 'withdrawal') return undefined;
  return getWithdrawal(ref.paymentId, { consistent: true });
}

/** Why the event changes nothing for `w`, or undefined when it applies. */
function ignoredBecause(w: WithdrawalItem, ctx: WebhookContext): string | undefined {
  const { event } = ctx;
  if (w.status !== 'processing') return 'withdrawal_not_processing';
  if (w.payout?.outcome) return 'payout_outcome_already_recorded';
  if (w.payout?.providerRef && w.payout.providerRef !== event.providerRef) return 'provider_ref_mismatch';
  if (event.amount.currency !== w.net.currency || event.amount.amount !== toMinor(w.net.amount, w.net.currency)) {
    return 'amount_mismatch';
  }
  return undefined;
}

export const applyPayoutEvent: WebhookEffect = async (ctx): Promise<WebhookOutcome> => {
  const { event } = ctx;
  if (event.type !== 'payout.paid' && event.type !== 'payout.failed') return { outcome: 'ignored', reason: 'unsupported_event' };
  const outcome = event.type === 'payout.paid' ? 'paid' : 'failed';
  const found = await findWithdrawal(ctx);
  if (!found) return { outcome: 'ignored', reason: 'unknown_payment' };
  const withdrawalId = found.withdrawalId;

  const result = await retryOnRace(async (): Promise<WebhookOutcome | WithdrawalItem> => {
    const w = await getWithdrawal(withdrawalId, { consistent: true });
    if (!w) return { outcome: 'ignored', reason: 'unknown_payment' };
    const why = ignoredBecause(w, ctx);
    if (why) return { outcome: 'ignored', reason: why, paymentId: withdrawalId };
    const now = new Date();
    const at = now.toISOString();
    const next: WithdrawalItem = {
      ...w,
      payout: {
        ...(w.payout ?? {}),
        providerRef: w.payout?.providerRef ?? event.providerRef,
        sentAt: w.payout?.sentAt ?? at,
        outcome,
        outcomeAt: at,
        ...(outcome === 'failed' ? { failureCode: event.failureCode ?? 'payout_failed' } : {}),
      },
    };
    await commit({
      writes: [replaceWithdrawal(w, next, at), ctx.marker],
      audit: withdrawalAudit(w, next, `payment.withdrawal.payout_${outcome}`, {
        actor: ctx.actor,
        requestId: ctx.requestId,
        evidence: {
          eventId: event.eventId,
          providerRef: event.providerRef,
          occurredAt: event.occurredAt,
          ...(event.failureCode ? { failureCode: event.failureCode } : {}),
        },
      }),
      now: () => now,
    });
    return next;
  });
  if ('outcome' in result && !('withdrawalId' in result)) return result;
  const recorded = result as WithdrawalItem;
  if (recorded.payoutTaskToken) {
    await answerTask(
      recorded.payoutTaskToken,
      { outcome, ...(recorded.payout?.failureCode ? { failureCode: recorded.payout.failureCode } : {}) },
      { withdrawalId, what: 'payout' },
    );
  }
  return { outcome: 'applied', paymentId: withdrawalId };
};
