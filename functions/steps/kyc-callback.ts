/**
 * Resuming the kyc-review execution that waits on a decided review (AwaitReview, .waitForTaskToken).
 * Shared by the decision route (functions/api/kyc-admin.ts, right after the decision committed) and the
 * kyc-watchdog job (for a decision whose callback stayed pending: the route crashed after the commit, or
 * SendTaskSuccess kept failing).
 *
 * Invariants:
 * - the output is { submissionId, decision: <the committed outcome> }, the same whoever sends it, so a
 *   re-sent callback is indistinguishable from the first (kyc-finalize reads the stored decision anyway)
 * - SendTaskSuccess is tried CALLBACK_ATTEMPTS times with a short backoff. TaskTimedOut / InvalidToken /
 *   TaskDoesNotExist mean nothing waits on the token (the execution is gone or already resumed): retrying
 *   cannot help and nothing is owed
 * - once sent (or the token is gone) the token and callbackPending are cleared (clearReviewCallback);
 *   after exhausted retries (or a failed clear) they stay, so the kyc-watchdog job sends it again later
 * - never throws for a failed callback: the decision has committed and stands whatever happens here.
 *   Logs ids and error names only, never the token
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { sfn } from '#shared/clients.ts';
import { logger } from '#shared/powertools.ts';
import type { KycSubmissionItem } from '#store/kyc.ts';
import { clearReviewCallback } from '#store/kyc-decision.ts';

/** SendTaskSuccess attempts per resume. */
export const CALLBACK_ATTEMPTS = 3;
const CALLBACK_BACKOFF_MS = 100;
/** The execution no longer waits for this token: retrying cannot help, and the decision stands. */
const TOKEN_GONE = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

export type ResumeOutcome = 'sent' | 'token_gone' | 'failed';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The task output for a decided review. */
export const reviewCallbackOutput = (s: Pick<KycSubmissionItem, 'submissionId' | 'status'>) => ({
  submissionId: s.submissionId,
  decision: s.status,
});

/** SendTaskSuccess with retries; never throws. */
async function send(submissionId: string, taskToken: string, output: object): Promise<ResumeOutcome> {
  for (let n = 1; ; n++) {
    try {
      await sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
      return 'sent';
    } catch (err) {
      const name = (err as { name?: string }).name ?? 'Error';
      if (TOKEN_GONE.has(name)) {
        logger.warn('kyc review callback refused; nothing waits on it and the decision stands', {
          reviewId: submissionId,
          error: name,
        });
        return 'token_gone';
      }
      if (n >= CALLBACK_ATTEMPTS) {
        logger.error('kyc review callback failed; the decision stands and the callback stays pending', {
          reviewId: submissionId,
          error: name,
          attempts: n,
        });
        return 'failed';
      }
      await sleep(CALLBACK_BACKOFF_MS * 2 ** (n - 1));
    }
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
    logger.warn('kyc review callback sent; clearing callbackPending failed', {
      reviewId: s.submissionId,
      error: (err as { name?: string }).name ?? 'Error',
    });
  }
  return outcome;
}
