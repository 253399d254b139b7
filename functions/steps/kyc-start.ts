/**
 * Starts the kyc-review state machine for a committed submission. Invoked by the bus rule
 * 'kyc-submission-created-to-start' with the EventBridge envelope of the outbox event
 * 'kyc.submission.created' (detail: { submissionId, clientId, eventId }).
 *
 * Invariants:
 * - at most one execution per submission: the execution is named after the submission (its recorded
 *   executionName, which the kyc-watchdog job changes to `<submissionId>-r<n>` when it restarts a failed
 *   execution), so a redelivered event (delivery is at least once) gets ExecutionAlreadyExists, which
 *   counts as success
 * - only a submission still 'processing' is started; any other status (or an unknown id) is acknowledged
 *   and nothing happens
 * - the execution input is { submissionId, clientId, units }: 'identity', plus 'address' when the
 *   submission has a proof of address
 * - nothing here logs PII (ids only)
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sfn } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';
import { getKycSubmission, type KycSubmissionItem } from '#store/kyc.ts';

export const KYC_REVIEW_MACHINE = 'kyc-review';

/**
 * The execution input for a submission: { submissionId, clientId, units }. Also used by the kyc-watchdog
 * job, so a restarted (or late-started) execution gets exactly the input kyc-start would have sent.
 */
export function reviewExecutionInput(s: Pick<KycSubmissionItem, 'submissionId' | 'clientId' | 'addressProof'>) {
  const units = ['identity', ...(s.addressProof ? ['address'] : [])];
  return { submissionId: s.submissionId, clientId: s.clientId, units };
}

export interface SubmissionCreatedEvent {
  id?: string;
  'detail-type'?: string;
  detail: { submissionId?: unknown; clientId?: unknown; eventId?: unknown };
}

export type StartResult = { started: boolean; reason?: 'already_started' | 'not_processing' | 'not_found' };

export async function handler(event: SubmissionCreatedEvent): Promise<StartResult> {
  const submissionId = typeof event?.detail?.submissionId === 'string' ? event.detail.submissionId : '';
  if (!submissionId) throw new Error('kyc-start: the event has no detail.submissionId');
  const submission = await getKycSubmission(submissionId);
  if (!submission) {
    logger.warn('kyc-start: unknown submission', { submissionId });
    return { started: false, reason: 'not_found' };
  }
  if (submission.status !== 'processing') {
    logger.info('kyc-start: submission is past processing; nothing to start', { submissionId, status: submission.status });
    return { started: false, reason: 'not_processing' };
  }
  const input = reviewExecutionInput(submission);
  try {
    await sfn().send(
      new StartExecutionCommand({
        stateMachineArn: env.stateMachineArn(KYC_REVIEW_MACHINE),
        name: submission.executionName ?? submissionId,
        input: JSON.stringify(input),
      }),
    );
  } catch (err) {
    if ((err as Error)?.name === 'ExecutionAlreadyExists') {
      logger.info('kyc-start: review already started', { submissionId });
      return { started: false, reason: 'already_started' };
    }
    throw err;
  }
  logger.info('kyc-start: review started', { submissionId, units: input.units.join(',') });
  return { started: true };
}
