/**
 * Outbox sweeper job: every 5 minutes (manifest schedule 'outbox-sweeper') and on demand
 * (POST /v1/admin/jobs/outbox-sweeper/runs). One sweep: functions/app/platform/sweep-outbox.ts (what is
 * republished, when, and the at-least-once delivery contract).
 *
 * Invariants:
 * - metrics OutboxEventsRepublished / OutboxRepublishFailed (Count); a run with failed publishes
 *   throws after recording its result, so the function's Errors alarm fires
 * - scheduled runs write nothing to the table but the marks; an on-demand run (detail.runId) gets
 *   its job-run item finished ('succeeded' | 'failed') with a 'job.run.completed' audit item
 */
import { type SweepResult, sweepOutbox } from '#app/platform/sweep-outbox.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';

export const JOB = 'outbox-sweeper';

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}): Promise<SweepResult & { runId?: string }> {
  return runCountingJob(event, {
    job: JOB,
    run: (requestId) => sweepOutbox({}, jobContext(requestId)),
    metrics: (r) => ({ OutboxEventsRepublished: r.republished, OutboxRepublishFailed: r.failed }),
    logged: 'outbox swept',
    warnWhen: (r) => r.republished > 0 || r.failed > 0,
    failedItems: 'events not republished',
    failureLogged: 'outbox sweep failed',
    auditAfter: (r) => (r ? { republished: r.republished, failed: r.failed } : {}),
  });
}
