/**
 * Apply a provider's payout webhook event (payout.paid / payout.failed): records the provider's outcome on
 * the withdrawal and resumes its waiting approval execution. Contract: webhook-effect.ts.
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
 * - after the commit the payout task token is answered { outcome } best effort, through the workflow
 *   port (answerWithdrawalTask; never logged)
 * - an outcome contradicting a final withdrawal is not ignored (CONTRADICTIONS): `payout.paid` after
 *   `failed` (money out without a debit) opens a `late_payout` case that freezes withdrawals;
 *   `payout.failed` after `completed` (the payout came back: the client was debited for nothing) opens
 *   a `payout_returned` case. The mark on the withdrawal's payout, the case, the marker and the audit
 *   entries are one commit; no money moves here (finance decides: an adjustment, or recovery from the
 *   provider) and compliance closes the case
 */
import { toMinor } from '#domain/money/index.ts';
import { logger } from '#shared/powertools.ts';
import { commit } from '#store/audit.ts';
import { openCaseCommit } from '#store/payments/cases.ts';
import type { WithdrawalItem } from '#store/payments/types.ts';
import { lookupProviderRef } from '#store/payments/webhook-events.ts';
import {
  getWithdrawal,
  replaceWithdrawal,
  retryOnRace,
  WITHDRAWAL_ENTITY,
  withdrawalAudit,
} from '#store/payments/withdrawal-items.ts';
import type { WebhookContext, WebhookEffect, WebhookOutcome } from './webhook-effect.ts';
import { answerWithdrawalTask } from './withdrawal-task.ts';

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

/**
 * A provider outcome that contradicts a final withdrawal, and what it means:
 * - late_payout: payout.paid for a `failed` withdrawal (its hold voided): money left without a debit.
 *   Freezes withdrawals until compliance closes the case
 * - payout_returned: payout.failed for a `completed` withdrawal (its hold posted): the payout came back
 *   to the provider, so the client was debited for money they never received. No freeze (the client
 *   is owed money, not owing it); finance credits it back through an adjustment
 * Either is recorded once per withdrawal (its mark on the payout), never by moving money here.
 */
const CONTRADICTIONS = {
  late_payout: {
    status: 'failed',
    event: 'payout.paid',
    mark: 'latePaidAt',
    freeze: true,
    action: 'payment.withdrawal.paid_after_failure',
  },
  payout_returned: {
    status: 'completed',
    event: 'payout.failed',
    mark: 'returnedAt',
    freeze: false,
    action: 'payment.withdrawal.payout_returned',
  },
} as const;
type Contradiction = keyof typeof CONTRADICTIONS;

function contradiction(w: WithdrawalItem, ctx: WebhookContext): Contradiction | undefined {
  const { event } = ctx;
  const kind = (Object.keys(CONTRADICTIONS) as Contradiction[]).find(
    (k) => CONTRADICTIONS[k].status === w.status && CONTRADICTIONS[k].event === event.type,
  );
  if (!kind || !w.payout?.providerRef || w.payout.providerRef !== event.providerRef) return undefined;
  if (w.payout[CONTRADICTIONS[kind].mark]) return undefined;
  const sameAmount = event.amount.currency === w.net.currency && event.amount.amount === toMinor(w.net.amount, w.net.currency);
  return sameAmount ? kind : undefined;
}

/** Marks the withdrawal and opens the case (freezing withdrawals for a late payout), in one commit. */
async function recordContradiction(withdrawalId: string, ctx: WebhookContext): Promise<WebhookOutcome> {
  const { event } = ctx;
  return retryOnRace(async (): Promise<WebhookOutcome> => {
    const w = await getWithdrawal(withdrawalId, { consistent: true });
    const kind = w && contradiction(w, ctx);
    if (!w || !kind) return { outcome: 'ignored', reason: 'withdrawal_not_processing', paymentId: withdrawalId };
    const spec = CONTRADICTIONS[kind];
    const now = new Date();
    const at = now.toISOString();
    const final = [...w.timeline].reverse().find((t) => t.status === w.status);
    const next: WithdrawalItem = { ...w, payout: { ...w.payout!, [spec.mark]: at } };
    const opened = await openCaseCommit(
      {
        kind,
        clientId: w.clientId,
        subject: { type: WITHDRAWAL_ENTITY, id: withdrawalId },
        evidence: {
          withdrawalId,
          provider: ctx.provider,
          providerRef: event.providerRef,
          eventId: event.eventId,
          event: event.type,
          net: w.net,
          gross: w.gross,
          status: w.status,
          statusAt: final?.at,
          ...(final?.reason ? { statusReason: final.reason } : {}),
          ...(event.failureCode ? { failureCode: event.failureCode } : {}),
          ...(w.journalId ? { journalId: w.journalId } : {}),
          occurredAt: event.occurredAt,
        },
      },
      ctx,
      at,
      { freeze: spec.freeze },
    );
    await commit({
      writes: [replaceWithdrawal(w, next, at), ctx.marker, ...opened.writes],
      audit: [
        withdrawalAudit(w, next, spec.action, {
          actor: ctx.actor,
          requestId: ctx.requestId,
          evidence: { ...eventEvidence(ctx), caseId: opened.item.caseId },
        }),
        ...opened.audit,
      ],
      outbox: opened.outbox,
      now: () => now,
    });
    logger.error('payout outcome contradicts a final withdrawal: compliance case opened', {
      withdrawalId,
      kind,
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
  if (contradiction(found, ctx)) return recordContradiction(withdrawalId, ctx);

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
  if (!('withdrawalId' in result)) return result;
  const recorded = result;
  if (recorded.payoutTaskToken) {
    await answerWithdrawalTask(
      recorded.payoutTaskToken,
      { outcome, ...(recorded.payout?.failureCode ? { failureCode: recorded.payout.failureCode } : {}) },
      { withdrawalId, what: 'payout' },
    );
  }
  return { outcome: 'applied', paymentId: withdrawalId };
};
