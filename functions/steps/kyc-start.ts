/**
 * Starts the kyc-review state machine for a committed submission. Invoked by the bus rule
 * 'kyc-submission-created-to-start' with the EventBridge envelope of the outbox event
 * 'kyc.submission.created' (detail: { submissionId, clientId, eventId }). Parses the event and calls the
 * use case functions/app/kyc/start-review.ts.
 *
 * Invariants:
 * - the detail is parsed against the event catalogue (parseEvent): one that breaks its contract (no
 *   submissionId, ...) throws EventContractError (the rule only routes 'kyc.submission.created')
 * - at most one execution per submission, only for a submission still 'processing' (see the use case)
 */
import { type StartResult, startReview } from '#app/kyc/start-review.ts';
import { parseEvent } from '#domain/events/index.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export type { StartResult };

export interface SubmissionCreatedEvent {
  id?: string;
  'detail-type'?: string;
  detail: { submissionId?: unknown; clientId?: unknown; eventId?: unknown };
}

export const handler = instrumented(handle);

async function handle(event: SubmissionCreatedEvent): Promise<StartResult> {
  const { submissionId } = parseEvent('kyc.submission.created', event?.detail);
  return startReview({ submissionId }, { requestId: submissionId, locale: tenantConfig().defaultLocale });
}
