/**
 * POST /v1/admin/jobs/{job}/runs: run a scheduled job on demand (admins only).
 * GET /v1/admin/jobs/{job}/runs and GET /v1/admin/jobs/{job}/runs/{runId}: the recorded runs and their results
 * (admins; compliance for the audit-verify job's runs).
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
 * - reading runs: {job} must name a manifest schedule (404 job_not_found); an unknown run id, or the id of
 *   another job's run, is 404 job_run_not_found. Admins read every job's runs; compliance reads the runs of
 *   COMPLIANCE_JOBS only (audit-verify: the chain and archive findings it must act on), any other job is 403
 *   forbidden_role. The list is newest first (run ids are ULIDs), cursor-paginated, without findings; one run
 *   shows its status, trigger, who asked, requested/started/finished times, parameters, summary (counts, or
 *   the error of a failed run) and findings (as the job stored them: ids and codes, never audit content)
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ulid } from 'ulid';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { reportDate } from '#domain/payments/report-date.ts';
import { JOB_DETAIL_TYPE, JOB_SOURCE, type Role, schedules } from '#functions/manifest.ts';
import { type Caller, defineRoute, EdgeError, httpHandler } from '#middleware/http.ts';
import { events } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getJobRun, type JobRunItem, listJobRuns, newJobRun, putJobRun } from '#store/job-runs.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';
import { pageBody, pageSchema } from './shared/pages.ts';

const ALLOWED: readonly Role[] = ['admin'];
const READERS: readonly Role[] = ['admin', 'compliance'];
/** The jobs whose runs compliance reads (besides admins, who read every job's). */
export const COMPLIANCE_JOBS: readonly string[] = ['audit-verify'];

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

const jobNotFound = () => new DomainError('job_not_found', 'not_found', 'No job with this name');
const assertJob = (job: string) => {
  if (!schedules.some((s) => s.name === job)) throw jobNotFound();
};

export async function requestJobRun(job: string, caller: Caller, requestId: string, parameters: JobRunParameters = {}) {
  assertJob(job);
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

export const RunParams = JobParams.extend({
  runId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});
export const RunsQuery = z.strictObject({ limit: limitParam(100, 20), cursor: cursorParam.optional() });

const RunSummaryView = z.object({
  runId: z.string(),
  job: z.string(),
  status: z.enum(['requested', 'running', 'succeeded', 'failed']),
  trigger: z.enum(['schedule', 'on_demand']),
  requestedBy: z.string(),
  requestedAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  parameters: z.record(z.string(), z.string()).optional(),
  summary: z.record(z.string(), z.unknown()).optional().describe('Counts, or the error of a failed run'),
  findingsCount: z.number().int().optional(),
});
const RunView = RunSummaryView.extend({
  findings: z.array(z.unknown()).optional().describe('As the job recorded them (ids and codes only)'),
});

/** The runs of `job` the caller may read (the route already admitted admins and compliance). */
function assertReadable(job: string, caller: Caller) {
  assertJob(job);
  if (caller.roles.includes('admin')) return;
  if (caller.roles.includes('compliance') && COMPLIANCE_JOBS.includes(job)) return;
  throw new EdgeError('forbidden_role', 403);
}

export function runSummaryView(r: JobRunItem) {
  return {
    runId: r.runId,
    job: r.job,
    status: r.status,
    trigger: r.trigger,
    requestedBy: r.requestedBy,
    requestedAt: r.createdAt,
    ...(r.startedAt ? { startedAt: r.startedAt } : {}),
    ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
    ...(r.parameters ? { parameters: r.parameters } : {}),
    ...(r.summary ? { summary: r.summary } : {}),
    ...(Array.isArray(r.findings) ? { findingsCount: r.findings.length } : {}),
  };
}

export const runView = (r: JobRunItem) => ({
  ...runSummaryView(r),
  ...(Array.isArray(r.findings) ? { findings: r.findings } : {}),
});

export async function readJobRun(job: string, runId: string, caller: Caller) {
  assertReadable(job, caller);
  const run = await getJobRun(job, runId);
  if (!run) throw new DomainError('job_run_not_found', 'not_found', 'No run of this job with this id');
  return runView(run);
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
  defineRoute({
    method: 'GET',
    path: '/v1/admin/jobs/{job}/runs',
    operationId: 'listJobRuns',
    summary: "A job's recorded runs, newest first (compliance: audit-verify only)",
    tags: ['admin'],
    auth: READERS,
    params: JobParams,
    query: RunsQuery,
    responses: {
      200: { description: 'A page of runs (without findings)', schema: pageSchema(RunSummaryView) },
      403: { description: 'forbidden_role (compliance on a job other than audit-verify)' },
      404: { description: 'job_not_found' },
    },
    handler: async ({ params, query, caller }) => {
      assertReadable(params.job, caller!);
      const page = await listJobRuns(params.job, query.limit, query.cursor);
      return { status: 200, body: pageBody(page, runSummaryView) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/jobs/{job}/runs/{runId}',
    operationId: 'getJobRun',
    summary: 'One recorded run: status, times, summary and findings (compliance: audit-verify only)',
    tags: ['admin'],
    auth: READERS,
    params: RunParams,
    responses: {
      200: { description: 'The run', schema: RunView },
      403: { description: 'forbidden_role (compliance on a job other than audit-verify)' },
      404: { description: 'job_not_found, job_run_not_found' },
    },
    handler: async ({ params, caller }) => ({ status: 200, body: await readJobRun(params.job, params.runId, caller!) }),
  }),
];

export const handler = httpHandler(...routes);
