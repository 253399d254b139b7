/**
 * Copy exposure alerts: every minute (manifest schedule 'copy-exposure-alerts') and on demand. Compares the copied
 * notional per symbol and direction with the tenant's thresholds and raises or clears the dealing desk's alert
 * (functions/app/copy/exposure.ts).
 *
 * Invariants: one alert per crossing (see the use case); a run with a failed row throws after recording, so the
 * Errors alarm fires; metrics per run: CopyExposureAlertsRaised, CopyExposureAlertsCleared.
 */
import { checkExposureAlerts, EXPOSURE_ALERT_JOB } from '#app/copy/exposure.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}) {
  return runCountingJob(event, {
    job: EXPOSURE_ALERT_JOB,
    run: (requestId) => checkExposureAlerts({}, jobContext(requestId)),
    metrics: (r) => ({ CopyExposureAlertsRaised: r.raised, CopyExposureAlertsCleared: r.cleared }),
    logged: 'copy exposure checked',
    failedItems: 'exposure rows failed',
    failureLogged: 'copy exposure alert run failed',
  });
}
