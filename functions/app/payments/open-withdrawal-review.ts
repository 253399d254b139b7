/**
 * Use case: the withdrawal-approval step 'AwaitReview' puts a flagged withdrawal in the finance / compliance
 * queue and keeps the waiting task's token, so a decision (decide-withdrawal.ts), the client's cancellation
 * (cancel-withdrawal.ts) or the review timeout can resume the execution.
 *
 * Invariants:
 * - opening stores the task token and review.openedAt in ONE version-conditioned commit with the audit
 *   entry 'payment.withdrawal.review_opened' (never the token); a lost race re-reads and tries again, so
 *   a decision or a cancel committed meanwhile is seen
 * - idempotent: the same token again changes nothing; a new token (the state was retried) replaces the
 *   stored one and keeps openedAt ('payment.withdrawal.review_token_replaced')
 * - a withdrawal that needs no decision any more is answered at once through the workflow port: a recorded
 *   decision -> { decision, reason? }; approved / processing -> { decision: 'approve' }; a final status ->
 *   { decision: 'cancelled' } (the execution ends; finalize is not needed). If that callback fails the
 *   use case throws and the state's retry runs it again with a fresh token
 */
import { workflows } from '#app/ports/workflow.ts';
import { isTerminalWithdrawal } from '#domain/payments/status.ts';
import { logger } from '#shared/powertools.ts';
import { commit, systemActor } from '#store/audit.ts';
import { getWithdrawal, replaceWithdrawal, retryOnRace, withdrawalAudit } from '#store/payments/withdrawal-items.ts';
import type { CommandContext } from '../context.ts';
import type { Withdrawal } from './withdrawal-shared.ts';

const ACTOR = systemActor('withdrawal-open-review');

export interface OpenWithdrawalReviewInput {
  withdrawalId: string;
  taskToken: string;
}

export interface OpenWithdrawalReviewResult {
  withdrawalId: string;
  status: Withdrawal['status'];
  review: 'opened' | 'already_open' | 'token_replaced' | 'already_decided';
}

/** What the waiting execution is told when no decision is needed any more; undefined while one is. */
export function settledAnswer(w: Withdrawal): { decision: 'approve' | 'reject' | 'cancelled'; reason?: string } | undefined {
  if (w.review?.decision) return { decision: w.review.decision, ...(w.review.reason ? { reason: w.review.reason } : {}) };
  if (w.status === 'approved' || w.status === 'processing') return { decision: 'approve' };
  if (isTerminalWithdrawal(w.status)) return { decision: 'cancelled' };
  return undefined;
}

async function open(input: OpenWithdrawalReviewInput, ctx: CommandContext): Promise<OpenWithdrawalReviewResult> {
  const { withdrawalId, taskToken } = input;
  const w = await getWithdrawal(withdrawalId, { consistent: true });
  if (!w) throw new Error(`withdrawal-open-review: no withdrawal ${withdrawalId}`);
  const settled = settledAnswer(w);
  if (settled) {
    await workflows().answer(taskToken, { output: settled });
    logger.info('withdrawal-open-review: no decision needed; task answered', { withdrawalId, status: w.status });
    return { withdrawalId, status: w.status, review: 'already_decided' };
  }
  if (w.status !== 'under_review') throw new Error(`withdrawal-open-review: ${withdrawalId} is ${w.status}, not under review`);
  if (w.reviewTaskToken === taskToken) return { withdrawalId, status: w.status, review: 'already_open' };

  const now = ctx.now ?? new Date();
  const at = now.toISOString();
  const replacing = Boolean(w.reviewTaskToken && w.review?.openedAt);
  const next: Withdrawal = {
    ...w,
    reviewTaskToken: taskToken,
    review: { ...(w.review ?? {}), openedAt: w.review?.openedAt ?? at },
  };
  await commit({
    writes: [replaceWithdrawal(w, next, at)],
    audit: withdrawalAudit(w, next, replacing ? 'payment.withdrawal.review_token_replaced' : 'payment.withdrawal.review_opened', {
      actor: ACTOR,
      requestId: ctx.requestId,
      evidence: { reasons: (w.checks ?? []).filter((c) => !c.passed).map((c) => c.reason ?? c.check) },
    }),
    now: () => now,
  });
  logger.info('withdrawal-open-review: review opened', { withdrawalId, replaced: replacing });
  return { withdrawalId, status: next.status, review: replacing ? 'token_replaced' : 'opened' };
}

/** Opens the review (module invariants); a lost version race re-reads and tries again. */
export function openWithdrawalReview(input: OpenWithdrawalReviewInput, ctx: CommandContext): Promise<OpenWithdrawalReviewResult> {
  return retryOnRace(() => open(input, ctx));
}
