/**
 * POST /v1/admin/jobs/{job}/runs: run a scheduled job on demand (admins only).
 *
 * Invariants:
 * - {job} must name a manifest schedule, else 404 job_not_found
 * - the run item ('requested') and its audit item ('job.run.requested' on entity job/<job>) are one
 *   commit, written BEFORE the request event is put on the bus; a bus failure leaves an auditable
 *   'requested' run and a 500 (the caller may retry: a new runId)
 * - the event is { Source: JOB_SOURCE, DetailType: JOB_DETAIL_TYPE, Detail: { job, runId, requestedBy } }
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ulid } from 'ulid';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { JOB_DETAIL_TYPE, JOB_SOURCE, type Role, schedules } from '#functions/manifest.ts';
import { type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { events } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { newJobRun, putJobRun } from '#store/job-runs.ts';

const ALLOWED: readonly Role[] = ['admin'];

export const JobParams = z.strictObject({
  job: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-z0-9][a-z0-9-]*$/),
});

export const JobRunResult = z.object({ runId: z.string(), job: z.string(), status: z.literal('requested') });

export async function requestJobRun(job: string, caller: Caller, requestId: string) {
  if (!schedules.some((s) => s.name === job)) throw new DomainError('job_not_found', 'not_found', 'No job with this name');
  const runId = ulid();
  const now = new Date().toISOString();
  const run = newJobRun({ job, runId, status: 'requested', requestedBy: caller.sub, trigger: 'on_demand' }, now);
  await commit({
    writes: [putJobRun(run)],
    audit: {
      actor: actorFrom(caller, ALLOWED),
      action: 'job.run.requested',
      entity: { type: 'job', id: job },
      before: null,
      after: { runId, job, status: 'requested' },
      requestId,
    },
  });
  const res = await events().send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: env.eventBusName,
          Source: JOB_SOURCE,
          DetailType: JOB_DETAIL_TYPE,
          Detail: JSON.stringify({ job, runId, requestedBy: caller.sub }),
        },
      ],
    }),
  );
  if ((res.FailedEntryCount ?? 0) > 0) throw new Error(`PutEvents failed: ${res.Entries?.[0]?.ErrorCode ?? 'unknown'}`);
  return { runId, job, status: 'requested' as const };
}

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/admin/jobs/{job}/runs',
    operationId: 'createJobRun',
    summary: 'Run a scheduled job now',
    tags: ['admin'],
    auth: ALLOWED,
    params: JobParams,
    idempotency: 'optional',
    responses: { 202: { description: 'Requested', schema: JobRunResult }, 404: { description: 'job_not_found' } },
    handler: async ({ params, caller, correlationId }) => ({
      status: 202,
      body: await requestJobRun(params.job, caller!, correlationId),
    }),
  }),
];

export const handler = httpHandler(...routes);
