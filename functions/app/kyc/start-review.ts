/**
 * Use case: starts the kyc-review state machine for a committed submission (the kyc-start step, on the
 * outbox event 'kyc.submission.created').
 *
 * Invariants:
 * - at most one execution per submission: the execution is named after the submission (its recorded
 *   executionName, which the kyc-watchdog job changes to `<submissionId>-r<n>` when it restarts a failed
 *   execution), so a redelivered event (delivery is at least once) finds it started: not an error
 * - only a submission still 'processing' is started; any other status (or an unknown id) is acknowledged
 *   and nothing happens
 * - the execution input is shared.ts reviewExecutionInput: { submissionId, clientId, units }
 * - nothing here logs PII (ids only)
 */
import type { CommandContext } from '#app/context.ts';
import { workflows } from '#app/ports/workflow.ts';
import { logger } from '#shared/powertools.ts';
import { getKycSubmission } from '#store/kyc.ts';
import { KYC_REVIEW_MACHINE, reviewExecutionInput } from './shared.ts';

export type StartResult = { started: boolean; reason?: 'already_started' | 'not_processing' | 'not_found' };

export async function startReview(input: { submissionId: string }, _ctx: CommandContext): Promise<StartResult> {
  const { submissionId } = input;
  const submission = await getKycSubmission(submissionId);
  if (!submission) {
    logger.warn('kyc-start: unknown submission', { submissionId });
    return { started: false, reason: 'not_found' };
  }
  if (submission.status !== 'processing') {
    logger.info('kyc-start: submission is past processing; nothing to start', { submissionId, status: submission.status });
    return { started: false, reason: 'not_processing' };
  }
  const executionInput = reviewExecutionInput(submission);
  const { started } = await workflows().start(KYC_REVIEW_MACHINE, submission.executionName ?? submissionId, executionInput);
  if (!started) {
    logger.info('kyc-start: review already started', { submissionId });
    return { started: false, reason: 'already_started' };
  }
  logger.info('kyc-start: review started', { submissionId, units: executionInput.units.join(',') });
  return { started: true };
}
