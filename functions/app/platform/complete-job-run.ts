/**
 * Records the result of a job's run on demand: its job-run item finished ('succeeded' | 'failed') with a
 * 'job.run.completed' audit item (the counting jobs, through functions/jobs/runs.ts).
 *
 * Invariants:
 * - one commit: the run item (created when the run was not requested through the API) and its audit item,
 *   actor system:<job>, entity job/<job>, `before` the status the run had (null when there was no item)
 * - a failed run's summary carries its error message (at most 500 characters); the audit item's `after`
 *   shows runId, status and `auditAfter` (defaults to the summary)
 */
import type { CommandContext } from '#app/context.ts';
import { commit, systemActor } from '#store/audit.ts';
import { finishJobRun, getJobRun } from '#store/job-runs.ts';

export interface CompleteJobRunInput {
  job: string;
  runId: string;
  startedAt: string;
  /** The run's result (undefined when it threw); stored as the job-run item's summary. */
  summary?: object | undefined;
  /** What the audit item's `after` shows besides runId and status; defaults to the summary. */
  auditAfter?: object | undefined;
  failure?: Error | undefined;
}

export async function completeJobRun(input: CompleteJobRunInput, ctx: CommandContext): Promise<void> {
  const { job, runId, startedAt, failure } = input;
  const existing = await getJobRun(job, runId);
  const status = failure ? 'failed' : 'succeeded';
  const finishedAt = new Date().toISOString();
  const summary = { ...(input.summary ?? {}), ...(failure ? { error: failure.message.slice(0, 500) } : {}) };
  await commit({
    writes: [finishJobRun(existing, { job, runId, status, startedAt, finishedAt, summary }, finishedAt)],
    audit: {
      actor: systemActor(job),
      action: 'job.run.completed',
      entity: { type: 'job', id: job },
      before: existing ? { status: existing.status } : null,
      after: { runId, status, ...(input.auditAfter ?? input.summary ?? {}) },
      requestId: ctx.requestId,
    },
  });
}
