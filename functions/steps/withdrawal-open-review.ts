/**
 * withdrawal-approval step 'AwaitReview': puts a flagged withdrawal in the finance / compliance queue.
 * Invoked by lambda:invoke.waitForTaskToken with { withdrawalId, taskToken }; the execution then waits
 * for decideWithdrawal (store/payments/withdrawals.ts), the client's cancellation, or the review timeout.
 *
 * Invariants:
 * - opening stores the task token and review.openedAt in ONE version-conditioned commit with the audit
 *   entry 'payment.withdrawal.review_opened' (never the token); a lost race re-reads and tries again, so
 *   a decision or a cancel committed meanwhile is seen
 * - idempotent: the same token again changes nothing; a new token (the state was retried) replaces the
 *   stored one and keeps openedAt ('payment.withdrawal.review_token_replaced')
 * - a withdrawal that needs no decision any more is answered at once (SendTaskSuccess): a recorded
 *   decision -> { decision, reason? }; approved / processing -> { decision: 'approve' }; a final status ->
 *   { decision: 'cancelled' } (the execution ends; finalize is not needed). If that callback fails the
 *   step throws and the state's retry runs it again with a fresh token
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { isTerminalWithdrawal } from '#domain/payments/status.ts';
import { sfn } from '#shared/clients.ts';
import { logger } from '#shared/powertools.ts';
import { commit, systemActor } from '#store/audit.ts';
import type { WithdrawalItem } from '#store/payments/types.ts';
import { getWithdrawal, replaceWithdrawal, retryOnRace, withdrawalAudit } from '#store/payments/withdrawal-items.ts';

const ACTOR = systemActor('withdrawal-open-review');

export interface OpenReviewInput {
  withdrawalId: string;
  taskToken: string;
}

export interface OpenReviewResult {
  withdrawalId: string;
  status: WithdrawalItem['status'];
  review: 'opened' | 'already_open' | 'token_replaced' | 'already_decided';
}

/** What the waiting execution is told when no decision is needed any more; undefined while one is. */
export function settledAnswer(w: WithdrawalItem): { decision: 'approve' | 'reject' | 'cancelled'; reason?: string } | undefined {
  if (w.review?.decision) return { decision: w.review.decision, ...(w.review.reason ? { reason: w.review.reason } : {}) };
  if (w.status === 'approved' || w.status === 'processing') return { decision: 'approve' };
  if (isTerminalWithdrawal(w.status)) return { decision: 'cancelled' };
  return undefined;
}

async function open(input: OpenReviewInput): Promise<OpenReviewResult> {
  const { withdrawalId, taskToken } = input;
  const w = await getWithdrawal(withdrawalId, { consistent: true });
  if (!w) throw new Error(`withdrawal-open-review: no withdrawal ${withdrawalId}`);
  const settled = settledAnswer(w);
  if (settled) {
    await sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(settled) }));
    logger.info('withdrawal-open-review: no decision needed; task answered', { withdrawalId, status: w.status });
    return { withdrawalId, status: w.status, review: 'already_decided' };
  }
  if (w.status !== 'under_review') throw new Error(`withdrawal-open-review: ${withdrawalId} is ${w.status}, not under review`);
  if (w.reviewTaskToken === taskToken) return { withdrawalId, status: w.status, review: 'already_open' };

  const now = new Date();
  const at = now.toISOString();
  const replacing = Boolean(w.reviewTaskToken && w.review?.openedAt);
  const next: WithdrawalItem = {
    ...w,
    reviewTaskToken: taskToken,
    review: { ...(w.review ?? {}), openedAt: w.review?.openedAt ?? at },
  };
  await commit({
    writes: [replaceWithdrawal(w, next, at)],
    audit: withdrawalAudit(w, next, replacing ? 'payment.withdrawal.review_token_replaced' : 'payment.withdrawal.review_opened', {
      actor: ACTOR,
      requestId: withdrawalId,
      evidence: { reasons: (w.checks ?? []).filter((c) => !c.passed).map((c) => c.reason ?? c.check) },
    }),
    now: () => now,
  });
  logger.info('withdrawal-open-review: review opened', { withdrawalId, replaced: replacing });
  return { withdrawalId, status: next.status, review: replacing ? 'token_replaced' : 'opened' };
}

export async function handler(input: OpenReviewInput): Promise<OpenReviewResult> {
  if (!input?.withdrawalId || !input.taskToken)
    throw new Error('withdrawal-open-review: withdrawalId and taskToken are required');
  return retryOnRace(() => open(input));
}
