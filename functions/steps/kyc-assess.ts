/**
 * kyc-review step: runs every KYC check on a submission's extracted documents and decides. Input
 * { submissionId }; returns { outcome, priority } for the state machine's Choice. Checks its input and
 * calls the use case functions/app/kyc/assess-submission.ts (assessed once: a retried step returns the
 * stored checks).
 */
import { type AssessInput, type AssessResult, assessSubmission } from '#app/kyc/assess-submission.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export type { AssessInput, AssessResult };

export const handler = instrumented(handle);

async function handle(input: AssessInput): Promise<AssessResult> {
  if (!input?.submissionId) throw new Error('kyc-assess: submissionId is required');
  return assessSubmission(input, { requestId: input.submissionId, locale: tenantConfig().defaultLocale });
}
