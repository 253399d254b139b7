/**
 * Job runs (pk JOB#<job>, sk RUN#<runId>; runId is a ULID so runs sort by time).
 *
 * Invariants:
 * - declared once as an entity (jobRunEntity): every run read is parsed; a result replaces the run read,
 *   conditioned on its version
 * - a run requested on demand is written (status 'requested') with its audit item before the
 *   request event is published
 * - a run's result is written once it finishes: status 'succeeded' | 'failed', findings, finishedAt
 * - a job's runs are one partition; listed newest first (ULIDs sort by time)
 */
import * as z from 'zod';
import { defineEntity, type ItemOf } from './entity.ts';
import type { CommitWrite } from './items.ts';
import { jobRunKeys } from './keys.ts';
import type { Page } from './pagination.ts';
import { stringMap } from './schemas.ts';

export type JobRunStatus = 'requested' | 'running' | 'succeeded' | 'failed';

const jobRunSchema = z.object({
  job: z.string().min(1),
  runId: z.string().min(1),
  status: z.enum(['requested', 'running', 'succeeded', 'failed']),
  requestedBy: z.string(),
  trigger: z.enum(['schedule', 'on_demand']),
  /** What the run was asked to cover (on demand), e.g. { date, provider }. */
  parameters: stringMap().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  summary: z.record(z.string(), z.unknown()).optional(),
  findings: z.array(z.unknown()).optional(),
}) satisfies z.ZodType<{ status: JobRunStatus }>;
export type JobRunFields = z.output<typeof jobRunSchema>;

export const jobRunEntity = defineEntity({
  type: jobRunKeys.type,
  schema: jobRunSchema,
  key: (r) => jobRunKeys.key(r.job, r.runId),
  what: 'job run',
});

export type JobRunItem = ItemOf<typeof jobRunEntity>;

export const newJobRun = (fields: JobRunFields, now: string): JobRunItem => jobRunEntity.item(fields, now);

export const putJobRun = (item: JobRunItem): CommitWrite => jobRunEntity.putNew(item);

/** Writes the result of a run, creating the run item when the run was not requested through the API. */
export function finishJobRun(
  existing: JobRunItem | undefined,
  result: Omit<JobRunFields, 'requestedBy' | 'trigger'> & Partial<Pick<JobRunFields, 'requestedBy' | 'trigger'>>,
  now: string,
): CommitWrite {
  if (!existing) {
    return putJobRun(newJobRun({ requestedBy: 'schedule', trigger: 'schedule', ...result }, now));
  }
  return jobRunEntity.replace(existing, { ...existing, ...result }, now);
}

export const getJobRun = (job: string, runId: string): Promise<JobRunItem | undefined> =>
  jobRunEntity.get(jobRunKeys.key(job, runId), { consistent: true });

/** One page of a job's runs, newest first. */
export function listJobRuns(job: string, limit: number, cursor?: string): Promise<Page<JobRunItem>> {
  return jobRunEntity.query({
    partition: jobRunKeys.partition(job),
    sortPrefix: jobRunKeys.runPrefix,
    limit,
    cursor,
    forward: false,
  });
}
