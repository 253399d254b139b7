/**
 * kyc-review step: analyses one unit of a submission. Called from the Map state 'AnalyseDocuments' with
 * { submissionId, unit }, and from its Catch with { submissionId, unit, failed: { error, cause } } to
 * record a failure the retries could not fix. Checks its input and calls the use case
 * functions/app/kyc/analyze-documents.ts.
 *
 * Invariants:
 * - an unknown unit is an error (the state machine only sends 'identity' and 'address')
 * - analyzer errors propagate by name (KycAnalysisTransient: the state machine retries; KycAnalysisFailed
 *   and anything else: caught by the state machine and recorded as a failure), so the execution itself
 *   never fails on a document
 * - the audit request id is the submission id (the execution's)
 */
import { type AnalyzeInput, type AnalyzeResult, analyzeDocuments, type Unit } from '#app/kyc/analyze-documents.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export type { AnalyzeInput, AnalyzeResult, Unit };

export const handler = instrumented(handle);

async function handle(input: AnalyzeInput): Promise<AnalyzeResult> {
  const { submissionId, unit } = input;
  if (unit !== 'identity' && unit !== 'address') throw new Error(`kyc-analyze: unknown unit ${String(unit)}`);
  return analyzeDocuments(input, { requestId: submissionId, locale: tenantConfig().defaultLocale });
}
