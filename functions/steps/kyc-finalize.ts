/**
 * kyc-review step: applies the decision. Input { submissionId }; returns { status }. Checks its input and
 * calls the use case functions/app/kyc/finalize-submission.ts (idempotent: a decided submission is left as
 * it is). A submission sent to review without a decision fails the execution (KycReviewNotDecided).
 */
import { type FinalizeInput, type FinalizeResult, finalizeSubmission } from '#app/kyc/finalize-submission.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export type { FinalizeInput, FinalizeResult };

export const handler = instrumented(handle);

async function handle(input: FinalizeInput): Promise<FinalizeResult> {
  const { submissionId } = input ?? {};
  if (!submissionId) throw new Error('kyc-finalize: submissionId is required');
  return finalizeSubmission({ submissionId }, { requestId: submissionId, locale: tenantConfig().defaultLocale });
}
