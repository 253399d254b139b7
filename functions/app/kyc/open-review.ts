/**
 * Use case (the kyc-open-review step): puts a flagged submission in the compliance review queue with the
 * task token of the 'AwaitReview' state (lambda:invoke.waitForTaskToken); the execution then waits until
 * the reviewer's decision (decide-review.ts, then the callback with the stored token).
 *
 * Invariants:
 * - opening a review writes, in ONE version-conditioned commit, the review block (pending, queuedAt,
 *   priority from the checks), the task token, status 'in_review', the timeline entry 'review_opened'
 *   and the audit item 'kyc.review.opened' (evidence: issue codes and priority; never the token)
 * - idempotent: a review already pending keeps its queuedAt and priority; only a different token (the
 *   state was retried and got a new one) replaces the stored one, with its own audit item
 * - a submission already decided needs no review: the token is answered at once (the workflow port) so
 *   the execution moves on to Finalize, which finds the decision made
 * - a lost race re-reads and tries again (RETRY_POLICIES.decisionConflict); nothing here logs PII or the token
 */
import type { CommandContext } from '#app/context.ts';
import { workflows } from '#app/ports/workflow.ts';
import { isFinalSubmissionStatus } from '#domain/kyc/submission.ts';
import { logger } from '#shared/powertools.ts';
import { withRetry } from '#shared/retry.ts';
import { commit, systemActor } from '#store/audit.ts';
import { getKycSubmission, type KycSubmissionItem, replaceKycSubmission } from '#store/kyc.ts';
import { isConflict } from './decisions.ts';

export interface OpenReviewInput {
  submissionId: string;
  taskToken: string;
}

export interface OpenReviewResult {
  submissionId: string;
  status: KycSubmissionItem['status'];
  review: 'opened' | 'already_open' | 'token_replaced' | 'already_decided';
}

const ACTOR = systemActor('kyc-open-review');

async function open(input: OpenReviewInput, ctx: CommandContext): Promise<OpenReviewResult> {
  const { submissionId, taskToken } = input;
  const submission = await getKycSubmission(submissionId);
  if (!submission) throw new Error(`kyc-open-review: no submission ${submissionId}`);

  if (isFinalSubmissionStatus(submission.status)) {
    const answered = await workflows().answer(taskToken, { output: { status: submission.status } });
    logger.info('kyc-open-review: already decided; task answered', { submissionId, status: submission.status, answered });
    return { submissionId, status: submission.status, review: 'already_decided' };
  }

  const now = ctx.now ?? new Date();
  const at = now.toISOString();
  if (submission.review?.status === 'pending') {
    if (submission.taskToken === taskToken) return { submissionId, status: submission.status, review: 'already_open' };
    await commit({
      writes: [replaceKycSubmission(submission, { ...submission, taskToken }, at)],
      audit: {
        actor: ACTOR,
        action: 'kyc.review.token_replaced',
        entity: { type: 'kyc-submission', id: submissionId },
        clientId: submission.clientId,
        before: { review: submission.review },
        after: { review: submission.review },
        reason: 'the AwaitReview state was retried and issued a new task token',
        requestId: ctx.requestId,
      },
      now: () => now,
    });
    logger.info('kyc-open-review: task token replaced', { submissionId });
    return { submissionId, status: submission.status, review: 'token_replaced' };
  }

  const priority = submission.checks?.priority ?? 'normal';
  const review = { status: 'pending' as const, queuedAt: at, priority };
  const next: KycSubmissionItem = {
    ...submission,
    status: 'in_review',
    review,
    taskToken,
    timeline: [...submission.timeline, { step: 'review_opened', at, detail: { priority } }],
  };
  const codes = [...new Set((submission.checks?.issues ?? []).map((i) => i.code))];
  await commit({
    writes: [replaceKycSubmission(submission, next, at)],
    audit: {
      actor: ACTOR,
      action: 'kyc.review.opened',
      entity: { type: 'kyc-submission', id: submissionId },
      clientId: submission.clientId,
      before: { status: submission.status, review: submission.review ?? null },
      after: { status: next.status, review },
      evidence: { issues: codes, priority },
      requestId: ctx.requestId,
    },
    now: () => now,
  });
  logger.info('kyc-open-review: review opened', { submissionId, priority, issues: codes.join(',') });
  return { submissionId, status: next.status, review: 'opened' };
}

export function openReview(input: OpenReviewInput, ctx: CommandContext): Promise<OpenReviewResult> {
  return withRetry('decisionConflict', () => open(input, ctx), isConflict);
}
