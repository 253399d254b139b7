/**
 * Copy-trading equity snapshot job: daily just after midnight in the tenant's time zone (manifest schedule
 * 'copy-equity-snapshot') and on demand (POST /v1/admin/jobs/copy-equity-snapshot/runs). Writes the day that ended's
 * equity snapshot of every strategy account and copy account once, then refreshes the strategies' statistics
 * (functions/app/copy/statistics-snapshot.ts: what, and why a re-run the same day changes nothing).
 *
 * Invariants: an account whose platform read or deal ingestion failed, or a strategy whose refresh failed, is counted
 * in `failed` and logged (ids and error names only: no PII); a run with failures throws after recording, so the
 * Errors alarm fires, and the next run of the day completes what is missing. Metrics per run:
 * CopyEquitySnapshotsWritten, CopyStrategyStatsRefreshed, CopyEquitySnapshotFailures (Count).
 */
import { COPY_EQUITY_SNAPSHOT_JOB, snapshotEquity } from '#app/copy/statistics-snapshot.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}) {
  return runCountingJob(event, {
    job: COPY_EQUITY_SNAPSHOT_JOB,
    run: (requestId) => snapshotEquity({}, jobContext(requestId)),
    metrics: (r) => ({
      CopyEquitySnapshotsWritten: r.written,
      CopyStrategyStatsRefreshed: r.refreshed,
      CopyEquitySnapshotFailures: r.failed,
    }),
    logged: 'copy equity snapshots taken',
    failedItems: 'accounts or strategies failed',
    failureLogged: 'copy equity snapshot run failed',
  });
}
