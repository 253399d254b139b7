/**
 * One recorded run of a job (GET /v1/admin/jobs/{job}/runs/{runId}).
 *
 * Invariants:
 * - {job} must name a manifest schedule, else 404 job_not_found; an unknown run id, or the id of another
 *   job's run, is 404 job_run_not_found
 * - who may read which job's runs (mayReadJobRuns) is the edge's role check, made before this is called
 * - the run is read consistently, as the job stored it (findings are ids and codes, never audit content)
 */

import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { type JobRunItem, getJobRun as readJobRun } from '#store/job-runs.ts';
import { assertJob, jobRunNotFound } from './job-runs.ts';

export interface GetJobRunInput {
  job: string;
  runId: string;
}

export async function getJobRun(input: GetJobRunInput, _caller: Caller, _ctx: CommandContext): Promise<JobRunItem> {
  assertJob(input.job);
  const run = await readJobRun(input.job, input.runId);
  if (!run) throw jobRunNotFound();
  return run;
}
