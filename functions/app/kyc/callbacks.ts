/**
 * Resuming the kyc-review execution that waits on a decided review (AwaitReview, .waitForTaskToken), through
 * the workflow port. Shared by decide-review (right after the decision committed) and the kyc-watchdog's
 * repair-review-executions (for a decision whose callback stayed pending: the route crashed after the
 * commit, or the callback kept failing).
 *
 * Invariants:
 * - the output is { submissionId, decision: <the committed outcome> }, the same whoever sends it, so a
 *   re-sent callback is indistinguishable from the first (finalize-submission reads the stored decision anyway)
 * - the port retries a failed callback (RETRY_POLICIES.workflowCallback) and answers 'gone' when nothing
 *   waits on the token any more (TaskTimedOut / InvalidToken / TaskDoesNotExist): nothing is owed then
 * - once answered (or the token is gone) the token and callbackPending are cleared (store/kyc.ts
 *   clearReviewCallback); after exhausted retries (or a failed clear) they stay, so the kyc-watchdog job
 *   sends it again later
 * - never throws for a failed callback: the decision has committed and stands whatever happens here.
 *   Logs ids and error names only, never the token
 */
import { workflows } from '#app/ports/workflow.ts';
import { logger } from '#shared/powertools.ts';
import { RETRY_POLICIES } from '#shared/retry.ts';
import { clearReviewCallback, type KycSubmissionItem } from '#store/kyc.ts';

export type ResumeOutcome = 'sent' | 'token_gone' | 'failed';

const errorName = (err: unknown) => (err as { name?: string } | undefined)?.name ?? 'Error';

/** The task output for a decided review. */
export const reviewCallbackOutput = (s: Pick<KycSubmissionItem, 'submissionId' | 'status'>) => ({
  submissionId: s.submissionId,
  decision: s.status,
});

/** Answers the task (the port retries); never throws. */
async function send(submissionId: string, taskToken: string, output: object): Promise<ResumeOutcome> {
  try {
    const answered = await workflows().answer(taskToken, { output });
    if (answered === 'answered') return 'sent';
    logger.warn('kyc review callback refused; nothing waits on it and the decision stands', { reviewId: submissionId });
    return 'token_gone';
  } catch (err) {
    logger.error('kyc review callback failed; the decision stands and the callback stays pending', {
      reviewId: submissionId,
      error: errorName(err),
      attempts: RETRY_POLICIES.workflowCallback.attempts,
    });
    return 'failed';
  }
}

/**
 * Resumes the execution waiting on a decided submission (as committed: its taskToken is the one to answer)
 * and clears the pending callback when nothing more is owed. Undefined when there is nothing to resume
 * (no token or no pending callback).
 */
export async function resumeDecidedReview(s: KycSubmissionItem): Promise<ResumeOutcome | undefined> {
  if (!s.taskToken || !s.callbackPending) return undefined;
  const outcome = await send(s.submissionId, s.taskToken, reviewCallbackOutput(s));
  if (outcome === 'failed') return outcome;
  try {
    await clearReviewCallback(s.submissionId, s.taskToken);
  } catch (err) {
    // Still pending: the kyc-watchdog job sends it again, finds the token gone, and clears it then.
    logger.warn('kyc review callback sent; clearing callbackPending failed', { reviewId: s.submissionId, error: errorName(err) });
  }
  return outcome;
}
