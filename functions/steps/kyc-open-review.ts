/**
 * kyc-review step: puts a flagged submission in the compliance review queue. Invoked by the 'AwaitReview'
 * state (lambda:invoke.waitForTaskToken) with { submissionId, taskToken }; checks its input and calls the
 * use case functions/app/kyc/open-review.ts (idempotent; a decided submission's token is answered at once).
 * The token is never logged.
 */
import { type OpenReviewInput, type OpenReviewResult, openReview } from '#app/kyc/open-review.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export type { OpenReviewInput, OpenReviewResult };

export const handler = instrumented(handle);

async function handle(input: OpenReviewInput): Promise<OpenReviewResult> {
  if (!input?.submissionId || !input.taskToken) throw new Error('kyc-open-review: submissionId and taskToken are required');
  return openReview(input, { requestId: input.submissionId, locale: tenantConfig().defaultLocale });
}
