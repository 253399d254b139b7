/**
 * KYC watchdog job: every 10 minutes (manifest schedule 'kyc-watchdog') and on demand
 * (POST /v1/admin/jobs/kyc-watchdog/runs -> JOB_DETAIL_TYPE event with { job, runId, requestedBy }).
 * One pass is the use case functions/app/kyc/repair-review-executions.ts: starts lost kyc-review
 * executions, restarts dead ones (a manual review after MAX_RESTARTS) and re-sends lost review callbacks.
 *
 * Invariants:
 * - one failing submission never stops the run; the run throws after recording its result when any failed,
 *   so the Errors alarm fires
 * - metrics per run: KycWatchdogScanned, KycReviewsStarted, KycReviewsRestarted, KycReviewsStalled,
 *   KycReviewCallbacksResent, KycWatchdogFailed (Count); the run logs a warning when it repaired anything
 * - scheduled runs write nothing but the restarts, stalls and cleared callbacks; an on-demand run
 *   (detail.runId) gets its job-run item finished ('succeeded' | 'failed') with a 'job.run.completed' audit item
 */
import { JOB, type KycWatchdogResult, repairReviewExecutions } from '#app/kyc/repair-review-executions.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';

export type { KycWatchdogResult };

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}): Promise<KycWatchdogResult & { runId?: string }> {
  return runCountingJob(event, {
    job: JOB,
    run: (requestId) => repairReviewExecutions({}, jobContext(requestId)),
    metrics: (r) => ({
      KycWatchdogScanned: r.scanned,
      KycReviewsStarted: r.started,
      KycReviewsRestarted: r.restarted,
      KycReviewsStalled: r.stalled,
      KycReviewCallbacksResent: r.resumed,
      KycWatchdogFailed: r.failed,
    }),
    logged: 'kyc watchdog checked',
    warnWhen: (r) => r.started + r.restarted + r.stalled + r.resumed > 0,
    failedItems: 'submissions failed',
    failureLogged: 'kyc watchdog run failed',
  });
}
