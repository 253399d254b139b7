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
 * - a `payout.paid` for a withdrawal that is already `failed` (its hold voided: the payout timed out,
 *   or the provider reported a failure and then paid after all) means money left without a debit. It
 *   is not ignored: it opens a `late_payout` compliance case that freezes the client's withdrawals
 *   (evidence: the withdrawal, provider ref, amount, when and why it failed), with the outcome recorded
 *   on the withdrawal (payout.latePaidAt), the marker and the audit entries in one commit. No money
 *   moves automatically: finance decides (an adjustment debit, or recovery from the provider) and
 *   compliance closes the case
 */
import { toMinor } from '#domain/money/index.ts';
import { logger } from '#shared/powertools.ts';
import { commit } from '#store/audit.ts';
import { openFreezingCase } from '#store/payments/cases.ts';
import type { WithdrawalItem } from '#store/payments/types.ts';
import { lookupProviderRef } from '#store/payments/webhook-events.ts';
import { WITHDRAWAL_ENTITY } from '#store/payments/withdrawal-items.ts';
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

/** What an audit entry records of the provider's event. */
const eventEvidence = ({ event }: WebhookContext) => ({
  eventId: event.eventId,
  providerRef: event.providerRef,
  occurredAt: event.occurredAt,
  ...(event.failureCode ? { failureCode: event.failureCode } : {}),
});

/** Is this a provider paying a withdrawal we already failed (the hold voided)? */
function isLatePayout(w: WithdrawalItem, ctx: WebhookContext): boolean {
  const { event } = ctx;
  return (
    event.type === 'payout.paid' &&
    w.status === 'failed' &&
    Boolean(w.payout?.providerRef) &&
    w.payout?.providerRef === event.providerRef &&
    !w.payout?.latePaidAt &&
    event.amount.currency === w.net.currency &&
    event.amount.amount === toMinor(w.net.amount, w.net.currency)
  );
}

/** Records the late payout on the withdrawal and opens the freezing case, in one commit. */
async function recordLatePayout(withdrawalId: string, ctx: WebhookContext): Promise<WebhookOutcome> {
  const { event } = ctx;
  return retryOnRace(async (): Promise<WebhookOutcome> => {
    const w = await getWithdrawal(withdrawalId, { consistent: true });
    if (!w || !isLatePayout(w, ctx)) return { outcome: 'ignored', reason: 'withdrawal_not_processing', paymentId: withdrawalId };
    const now = new Date();
    const at = now.toISOString();
    const failed = [...w.timeline].reverse().find((t) => t.status === 'failed');
    const next: WithdrawalItem = { ...w, payout: { ...w.payout!, latePaidAt: at } };
    const opened = await openFreezingCase(
      {
        kind: 'late_payout',
        clientId: w.clientId,
        subject: { type: WITHDRAWAL_ENTITY, id: withdrawalId },
        evidence: {
          withdrawalId,
          provider: ctx.provider,
          providerRef: event.providerRef,
          eventId: event.eventId,
          paid: w.net,
          gross: w.gross,
          failedAt: failed?.at,
          failedBecause: failed?.reason,
          paidAt: event.occurredAt,
        },
      },
      ctx,
      at,
    );
    await commit({
      writes: [replaceWithdrawal(w, next, at), ctx.marker, ...opened.writes],
      audit: [
        withdrawalAudit(w, next, 'payment.withdrawal.paid_after_failure', {
          actor: ctx.actor,
          requestId: ctx.requestId,
          evidence: { ...eventEvidence(ctx), caseId: opened.item.caseId },
        }),
        ...opened.audit,
      ],
      outbox: opened.outbox,
      now: () => now,
    });
    logger.error('payout paid after the withdrawal failed: compliance case opened, withdrawals frozen', {
      withdrawalId,
      caseId: opened.item.caseId,
    });
    return { outcome: 'applied', paymentId: withdrawalId };
  });
}

export const applyPayoutEvent: WebhookEffect = async (ctx): Promise<WebhookOutcome> => {
  const { event } = ctx;
  if (event.type !== 'payout.paid' && event.type !== 'payout.failed') return { outcome: 'ignored', reason: 'unsupported_event' };
  const outcome = event.type === 'payout.paid' ? 'paid' : 'failed';
  const found = await findWithdrawal(ctx);
  if (!found) return { outcome: 'ignored', reason: 'unknown_payment' };
  const withdrawalId = found.withdrawalId;
  if (isLatePayout(found, ctx)) return recordLatePayout(withdrawalId, ctx);

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
        evidence: eventEvidence(ctx),
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
