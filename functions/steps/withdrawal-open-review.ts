/**
 * withdrawal-approval step 'AwaitReview': puts a flagged withdrawal in the finance / compliance queue
 * (the use case functions/app/payments/open-withdrawal-review.ts). Invoked by
 * lambda:invoke.waitForTaskToken with { withdrawalId, taskToken }; the execution then waits for the
 * reviewer's decision, the client's cancellation, or the review timeout.
 *
 * Invariants:
 * - the input is checked before anything is read (a missing id or token throws: the state retries / fails)
 * - the request id of everything recorded is the withdrawal id; the task token is never logged
 */
import { type OpenWithdrawalReviewResult, openWithdrawalReview } from '#app/payments/open-withdrawal-review.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export interface OpenReviewInput {
  withdrawalId: string;
  taskToken: string;
}

export type OpenReviewResult = OpenWithdrawalReviewResult;

export const handler = instrumented(handle);

async function handle(input: OpenReviewInput): Promise<OpenReviewResult> {
  if (!input?.withdrawalId || !input.taskToken)
    throw new Error('withdrawal-open-review: withdrawalId and taskToken are required');
  return openWithdrawalReview(
    { withdrawalId: input.withdrawalId, taskToken: input.taskToken },
    { requestId: input.withdrawalId, locale: tenantConfig().defaultLocale },
  );
}
