/**
 * A job's recorded runs, newest first (GET /v1/admin/jobs/{job}/runs).
 *
 * Invariants:
 * - {job} must name a manifest schedule, else 404 job_not_found
 * - who may read which job's runs (mayReadJobRuns) is the edge's role check, made before this is called
 * - a job's runs are one partition, newest first (run ids are ULIDs), cursor-paginated; read only
 */

import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { type JobRunItem, listJobRuns as jobRunsPage } from '#store/job-runs.ts';
import type { Page } from '#store/pagination.ts';
import { assertJob } from './job-runs.ts';

export interface ListJobRunsInput {
  job: string;
  limit: number;
  cursor?: string | undefined;
}

export async function listJobRuns(input: ListJobRunsInput, _caller: Caller, _ctx: CommandContext): Promise<Page<JobRunItem>> {
  assertJob(input.job);
  return jobRunsPage(input.job, input.limit, input.cursor);
}
