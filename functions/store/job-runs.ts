/**
 * Job runs (pk JOB#<job>, sk RUN#<runId>; runId is a ULID so runs sort by time).
 *
 * Invariants:
 * - a run requested on demand is written (status 'requested') with its audit item before the
 *   request event is published
 * - a run's result is written once it finishes: status 'succeeded' | 'failed', findings, finishedAt
 * - a job's runs are one partition; listed newest first (ULIDs sort by time)
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '#shared/clients.ts';
import { type CommitWrite, newItem, putNew, tableName } from './items.ts';
import { jobRunKeys } from './keys.ts';
import { type Page, queryPage } from './pagination.ts';
import type { BaseItem } from './table.ts';

export type JobRunStatus = 'requested' | 'running' | 'succeeded' | 'failed';

export interface JobRunFields {
  job: string;
  runId: string;
  status: JobRunStatus;
  requestedBy: string;
  trigger: 'schedule' | 'on_demand';
  /** What the run was asked to cover (on demand), e.g. { date, provider }. */
  parameters?: Record<string, string>;
  startedAt?: string;
  finishedAt?: string;
  summary?: Record<string, unknown>;
  findings?: unknown[];
}

export type JobRunItem = BaseItem & JobRunFields & { type: 'job-run' };

export function newJobRun(fields: JobRunFields, now: string): JobRunItem {
  return newItem({ ...jobRunKeys.key(fields.job, fields.runId), type: jobRunKeys.type, ...fields }, now) as JobRunItem;
}

export const putJobRun = (item: JobRunItem): CommitWrite => putNew(item);

/** Writes the result of a run, creating the run item when the run was not requested through the API. */
export function finishJobRun(
  existing: JobRunItem | undefined,
  result: Omit<JobRunFields, 'requestedBy' | 'trigger'> & Partial<Pick<JobRunFields, 'requestedBy' | 'trigger'>>,
  now: string,
): CommitWrite {
  if (!existing) {
    return putJobRun(newJobRun({ requestedBy: 'schedule', trigger: 'schedule', ...result }, now));
  }
  const item: JobRunItem = { ...existing, ...result, updatedAt: now, version: existing.version + 1 };
  return {
    Put: {
      Item: item,
      ConditionExpression: '#v = :v',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':v': existing.version },
    },
  };
}

export async function getJobRun(job: string, runId: string): Promise<JobRunItem | undefined> {
  const res = await ddb().send(new GetCommand({ TableName: tableName(), Key: jobRunKeys.key(job, runId), ConsistentRead: true }));
  return res.Item as JobRunItem | undefined;
}

/** One page of a job's runs, newest first. */
export function listJobRuns(job: string, limit: number, cursor?: string): Promise<Page<JobRunItem>> {
  return queryPage<JobRunItem>({
    partition: jobRunKeys.partition(job),
    sortPrefix: jobRunKeys.runPrefix,
    limit,
    cursor,
    forward: false,
  });
}
