/**
 * Use case: the withdrawal-approval step 'Finalize' ends a withdrawal with its money. Input { withdrawalId,
 * action, reason? }; result { withdrawalId, status, outcome }.
 *
 * Actions:
 * - complete: the hold is posted (postHold, journal id = the withdrawal id, type 'withdrawal'): wallet
 *   -gross, psp_clearing +net, fee_income +fee (a zero fee is left out), metadata { psp: { provider,
 *   providerRef, kind: 'payout' }, withdrawalId }; in the same transaction the withdrawal 'completed' (with
 *   journalId), the funding source's `returned` += gross when the payout went to a funding source (the
 *   closed-loop rule compares grosses), the audit entry and the event payment.withdrawal.completed
 * - fail (reason, default payout_failed): the hold is voided and the withdrawal 'failed'; but a payout the
 *   provider already confirmed paid is completed instead (money left: the hold must be posted)
 * - check (the payout wait timed out): acts on the outcome the webhook recorded: paid -> complete,
 *   failed -> fail payout_failed, none -> fail payout_expired
 * - reject: the hold is voided and the withdrawal 'rejected' with the reviewer's reason
 * - expire (the review wait ended without an answer): reads the recorded decision: approved (or later)
 *   -> nothing changes and the outcome is 'approve' (the execution carries on to the payout: this is how a
 *   decision whose callback was lost is resumed), a recorded reject -> reject, none -> fail review_expired
 *
 * Invariants:
 * - every money movement is the hold's own transaction with the status change (postHold / voidHold
 *   `extra`), conditioned on the version read: a racing cancel, webhook or second finalize wins exactly
 *   once; the loser re-reads and sees the final status
 * - idempotent: a withdrawal already final is a no-op returning its status (outcome 'already_final')
 * - every path ends with the hold posted or voided; money is never debited without a confirmed payout
 * - a finalize that lost a race (the plan changed, the hold closed, a version race) plans again under the
 *   paymentRace retry policy
 */
import { DomainError, isDomainError } from '#domain/errors.ts';
import { toMinor } from '#domain/money/index.ts';
import { isTerminalWithdrawal, type WithdrawalStatus } from '#domain/payments/status.ts';
import { logger } from '#shared/powertools.ts';
import { withRetry } from '#shared/retry.ts';
import { systemActor } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { houseAccount } from '#store/ledger/accounts.ts';
import { getHold, postHold, voidHold } from '#store/ledger/holds.ts';
import { fundingSourceReturn } from '#store/payments/client-state.ts';
import {
  getWithdrawal,
  replaceWithdrawal,
  withdrawalAudit,
  withdrawalEventDetail,
  withdrawalMoved,
} from '#store/payments/withdrawal-items.ts';
import type { CommandContext } from '../context.ts';
import type { Withdrawal } from './withdrawal-shared.ts';

const ACTOR = systemActor('withdrawal-finalize');

export type FinalizeAction = 'complete' | 'fail' | 'check' | 'reject' | 'expire';

export interface FinalizeWithdrawalInput {
  withdrawalId: string;
  action: FinalizeAction;
  reason?: string;
}

export interface FinalizeWithdrawalResult {
  withdrawalId: string;
  status: WithdrawalStatus;
  outcome: 'completed' | 'failed' | 'rejected' | 'approve' | 'already_final';
}

type Plan = { kind: 'complete' } | { kind: 'void'; to: 'failed' | 'rejected'; reason: string } | { kind: 'resume' };

/** What `action` means for the withdrawal as it is now (undefined: it is final already). */
export function planFor(w: Withdrawal, action: FinalizeAction, reason?: string): Plan | undefined {
  if (isTerminalWithdrawal(w.status)) return undefined;
  const outcome = w.payout?.outcome;
  switch (action) {
    case 'complete':
      return { kind: 'complete' };
    case 'fail':
      return outcome === 'paid' ? { kind: 'complete' } : { kind: 'void', to: 'failed', reason: reason ?? 'payout_failed' };
    case 'check':
      if (outcome === 'paid') return { kind: 'complete' };
      return { kind: 'void', to: 'failed', reason: outcome === 'failed' ? 'payout_failed' : 'payout_expired' };
    case 'reject':
      return { kind: 'void', to: 'rejected', reason: w.review?.reason ?? reason ?? 'rejected_by_compliance' };
    case 'expire':
      if (w.status === 'approved' || w.status === 'processing') return { kind: 'resume' };
      if (w.review?.decision === 'reject')
        return { kind: 'void', to: 'rejected', reason: w.review.reason ?? 'rejected_by_compliance' };
      return { kind: 'void', to: 'failed', reason: reason ?? 'review_expired' };
  }
}

/** The withdrawal changed between the plan and the commit: plan again. */
const replan = () => new DomainError('withdrawal_changed', 'conflict', 'The withdrawal changed; finalize again');

const samePlan = (a: Plan | undefined, b: Plan) => a !== undefined && JSON.stringify(a) === JSON.stringify(b);

async function complete(w: Withdrawal, action: FinalizeAction, reason: string | undefined, ctx: CommandContext): Promise<void> {
  const hold = await getHold(w.holdId);
  if (!hold) throw new Error(`withdrawal-finalize: no hold ${w.holdId}`);
  const net = toMinor(w.net.amount, w.net.currency);
  const fee = toMinor(w.fee.amount, w.fee.currency);
  const [clearing, feeIncome] = await Promise.all([
    houseAccount('psp_clearing', w.net.currency),
    fee > 0n ? houseAccount('fee_income', w.fee.currency) : Promise.resolve(undefined),
  ]);
  const counterPostings = [
    { accountId: clearing.accountId, amount: net },
    ...(feeIncome ? [{ accountId: feeIncome.accountId, amount: fee }] : []),
  ];
  await postHold(w.holdId, {
    counterPostings,
    journalId: w.withdrawalId,
    type: 'withdrawal',
    reference: w.withdrawalId,
    metadata: {
      psp: { provider: w.provider, providerRef: w.payout?.providerRef ?? null, kind: 'payout' },
      withdrawalId: w.withdrawalId,
    },
    actor: ACTOR,
    requestId: ctx.requestId,
    clientId: w.clientId,
    extra: async (at) => {
      const cur = (await getWithdrawal(w.withdrawalId, { consistent: true }))!;
      if (!samePlan(planFor(cur, action, reason), { kind: 'complete' })) throw replan();
      const next = { ...withdrawalMoved(cur, 'completed', at), journalId: w.withdrawalId };
      const writes: CommitWrite[] = [replaceWithdrawal(cur, next, at)];
      if (cur.destination.sourceId) {
        writes.push(
          fundingSourceReturn(cur.clientId, cur.destination.sourceId, {
            minor: toMinor(cur.gross.amount, cur.gross.currency),
            currency: cur.gross.currency,
          }),
        );
      }
      return {
        writes,
        audit: [withdrawalAudit(cur, next, 'payment.withdrawal.completed', { actor: ACTOR, requestId: ctx.requestId })],
        outbox: [
          {
            detailType: 'payment.withdrawal.completed',
            detail: withdrawalEventDetail(next, { journalId: w.withdrawalId, providerRef: cur.payout?.providerRef }),
          },
        ],
      };
    },
  });
}

async function release(
  w: Withdrawal,
  plan: Extract<Plan, { kind: 'void' }>,
  action: FinalizeAction,
  reason: string | undefined,
  ctx: CommandContext,
) {
  await voidHold(w.holdId, {
    reason: plan.reason,
    actor: ACTOR,
    requestId: ctx.requestId,
    extra: async (at) => {
      const cur = (await getWithdrawal(w.withdrawalId, { consistent: true }))!;
      if (!samePlan(planFor(cur, action, reason), plan)) throw replan();
      const next = withdrawalMoved(cur, plan.to, at, plan.reason);
      return {
        writes: [replaceWithdrawal(cur, next, at)],
        audit: [
          withdrawalAudit(cur, next, `payment.withdrawal.${plan.to}`, {
            actor: ACTOR,
            requestId: ctx.requestId,
            reason: plan.reason,
          }),
        ],
        outbox: [
          {
            detailType: plan.to === 'failed' ? 'payment.withdrawal.failed' : 'payment.withdrawal.rejected',
            detail: withdrawalEventDetail(next, { reason: plan.reason }),
          },
        ],
      };
    },
  });
}

const RACES = new Set(['withdrawal_changed', 'hold_not_pending', 'concurrent_modification', 'conflict']);

/** Ends the withdrawal as `action` says for its current state (module invariants). */
export async function finalizeWithdrawal(input: FinalizeWithdrawalInput, ctx: CommandContext): Promise<FinalizeWithdrawalResult> {
  const { withdrawalId, action, reason } = input;
  return withRetry(
    'paymentRace',
    async (): Promise<FinalizeWithdrawalResult> => {
      const w = await getWithdrawal(withdrawalId, { consistent: true });
      if (!w) throw new Error(`withdrawal-finalize: no withdrawal ${withdrawalId}`);
      const plan = planFor(w, action, reason);
      if (!plan) return { withdrawalId, status: w.status, outcome: 'already_final' };
      if (plan.kind === 'resume') return { withdrawalId, status: w.status, outcome: 'approve' };
      if (plan.kind === 'complete') await complete(w, action, reason, ctx);
      else await release(w, plan, action, reason, ctx);
      const outcome = plan.kind === 'complete' ? 'completed' : plan.to;
      logger.info('withdrawal-finalize: finalized', { withdrawalId, action, outcome });
      return { withdrawalId, status: outcome, outcome };
    },
    (err) => isDomainError(err) && RACES.has(err.code),
  );
}

export const FINALIZE_ACTIONS: readonly FinalizeAction[] = ['complete', 'fail', 'check', 'reject', 'expire'];
