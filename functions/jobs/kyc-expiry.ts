/**
 * KYC expiry job: daily (manifest schedule 'kyc-expiry') and on demand (POST /v1/admin/jobs/kyc-expiry/runs
 * -> JOB_DETAIL_TYPE event with { job, runId, requestedBy }). One pass is the use case
 * functions/app/kyc/flag-expiring-documents.ts (flags documents expiring soon and expired ones, each once).
 *
 * Invariants:
 * - one failing watch item never stops the run; the run throws after recording its result when any failed,
 *   so the Errors alarm fires
 * - metrics per run: KycExpiryScanned, KycDocumentsExpiringSoon, KycDocumentsExpired, KycExpiryFailed (Count)
 * - scheduled runs write nothing but the flags; an on-demand run (detail.runId) gets its job-run item
 *   finished ('succeeded' | 'failed') with a 'job.run.completed' audit item
 */
import { flagExpiringDocuments, JOB, type KycExpiryResult } from '#app/kyc/flag-expiring-documents.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';

export type { KycExpiryResult };

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}): Promise<KycExpiryResult & { runId?: string }> {
  return runCountingJob(event, {
    job: JOB,
    run: (requestId) => flagExpiringDocuments(jobContext(requestId)),
    metrics: (r) => ({
      KycExpiryScanned: r.scanned,
      KycDocumentsExpiringSoon: r.expiringSoon,
      KycDocumentsExpired: r.expired,
      KycExpiryFailed: r.failed,
    }),
    logged: 'kyc expiry checked',
    failedItems: 'watch items failed',
    failureLogged: 'kyc expiry run failed',
  });
}
