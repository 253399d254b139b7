/**
 * POST /v1/admin/jobs/{job}/runs: run a scheduled job on demand (admins only).
 *
 * Invariants:
 * - {job} must name a manifest schedule, else 404 job_not_found
 * - the run item ('requested') and its audit item ('job.run.requested' on entity job/<job>) are one
 *   commit, written BEFORE the request event is put on the bus; a bus failure leaves an auditable
 *   'requested' run and a 500 (the caller may retry: a new runId)
 * - the event is { Source: JOB_SOURCE, DetailType: JOB_DETAIL_TYPE, Detail: { job, runId, requestedBy } }
 *   plus the run's parameters, for a job that takes them (JOB_PARAMETERS): psp-reconciliation takes
 *   { date: 'YYYY-MM-DD', provider } (400 invalid_report_date, report_date_in_future, unknown_provider);
 *   a parameter the job does not take is 400 job_parameter_unsupported. Checked before anything is
 *   written, and recorded on the run and in its audit entry
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ulid } from 'ulid';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { reportDate } from '#domain/payments/report-date.ts';
import { JOB_DETAIL_TYPE, JOB_SOURCE, type Role, schedules } from '#functions/manifest.ts';
import { type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { events } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { tenantConfig } from '#shared/tenant.ts';
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

export const JobRunBody = z
  .strictObject({
    date: z.string().max(10).optional(),
    provider: z
      .string()
      .min(1)
      .max(32)
      .regex(/^[a-z0-9-]+$/)
      .optional(),
  })
  .optional();
export type JobRunParameters = NonNullable<z.infer<typeof JobRunBody>>;

export const JobRunResult = z.object({
  runId: z.string(),
  job: z.string(),
  status: z.literal('requested'),
  parameters: z.object({ date: z.string().optional(), provider: z.string().optional() }).optional(),
});

/** The parameters each job takes on demand (every other job takes none). */
const JOB_PARAMETERS: Readonly<Record<string, readonly (keyof JobRunParameters)[]>> = {
  'psp-reconciliation': ['date', 'provider'],
};

/** The run's parameters, checked as the job will read them (400 with the field's code otherwise). */
export function checkJobParameters(job: string, parameters: JobRunParameters, now: Date): JobRunParameters {
  const allowed = JOB_PARAMETERS[job] ?? [];
  for (const key of Object.keys(parameters) as (keyof JobRunParameters)[]) {
    if (!allowed.includes(key)) {
      throw new DomainError('job_parameter_unsupported', 'validation', `The job ${job} takes no parameter ${key}`, [
        { field: key, code: 'job_parameter_unsupported', message: `Not a parameter of ${job}` },
      ]);
    }
  }
  const out: JobRunParameters = {};
  if (parameters.date !== undefined) out.date = reportDate(parameters.date, now, { notAfterToday: true });
  if (parameters.provider !== undefined) {
    const used = new Set(tenantConfig().payments.methods.map((m) => m.provider));
    if (!used.has(parameters.provider)) {
      throw new DomainError('unknown_provider', 'validation', 'No payment method of this tenant uses this provider', [
        { field: 'provider', code: 'unknown_provider', message: [...used].sort().join(', ') },
      ]);
    }
    out.provider = parameters.provider;
  }
  return out;
}

export async function requestJobRun(job: string, caller: Caller, requestId: string, parameters: JobRunParameters = {}) {
  if (!schedules.some((s) => s.name === job)) throw new DomainError('job_not_found', 'not_found', 'No job with this name');
  const params = checkJobParameters(job, parameters, new Date());
  const given = Object.keys(params).length > 0;
  const runId = ulid();
  const now = new Date().toISOString();
  const run = newJobRun(
    { job, runId, status: 'requested', requestedBy: caller.sub, trigger: 'on_demand', ...(given ? { parameters: params } : {}) },
    now,
  );
  await commit({
    writes: [putJobRun(run)],
    audit: {
      actor: actorFrom(caller, ALLOWED),
      action: 'job.run.requested',
      entity: { type: 'job', id: job },
      before: null,
      after: { runId, job, status: 'requested', ...(given ? { parameters: params } : {}) },
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
          Detail: JSON.stringify({ ...params, job, runId, requestedBy: caller.sub }),
        },
      ],
    }),
  );
  if ((res.FailedEntryCount ?? 0) > 0) throw new Error(`PutEvents failed: ${res.Entries?.[0]?.ErrorCode ?? 'unknown'}`);
  return { runId, job, status: 'requested' as const, ...(given ? { parameters: params } : {}) };
}

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/admin/jobs/{job}/runs',
    operationId: 'createJobRun',
    summary: 'Run a scheduled job now (psp-reconciliation takes a report date and a provider)',
    tags: ['admin'],
    auth: ALLOWED,
    params: JobParams,
    body: JobRunBody,
    idempotency: 'optional',
    responses: {
      202: { description: 'Requested', schema: JobRunResult },
      400: {
        description: 'job_parameter_unsupported, invalid_report_date, report_date_in_future, unknown_provider, validation_failed',
      },
      404: { description: 'job_not_found' },
    },
    handler: async ({ params, body, caller, correlationId }) => ({
      status: 202,
      body: await requestJobRun(params.job, caller!, correlationId, body ?? {}),
    }),
  }),
];

export const handler = httpHandler(...routes);
