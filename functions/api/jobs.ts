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
 * - each route checks the role here (compliance: COMPLIANCE_JOBS only) and calls one use case of
 *   functions/app/platform/ (request-job-run, list-job-runs, get-job-run); the views are this module's
 */
import * as z from 'zod';
import { getJobRun } from '#app/platform/get-job-run.ts';
import { assertJob, type JobRunItem, mayReadJobRuns } from '#app/platform/job-runs.ts';
import { listJobRuns } from '#app/platform/list-job-runs.ts';
import { JOB_RUNNERS, requestJobRun } from '#app/platform/request-job-run.ts';
import type { Role } from '#functions/manifest.ts';
import { type Caller, defineRoute, EdgeError, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';

const READERS: readonly Role[] = ['admin', 'compliance'];

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

export const JobRunResult = z.object({
  runId: z.string(),
  job: z.string(),
  status: z.literal('requested'),
  parameters: z.object({ date: z.string().optional(), provider: z.string().optional() }).optional(),
});

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

/**
 * The role check on reading `job`'s runs (the route admitted admins and compliance): job_not_found first
 * (as for any reader), then 403 forbidden_role for compliance on a job other than COMPLIANCE_JOBS.
 */
function authoriseRunReader(job: string, caller: Caller) {
  assertJob(job);
  if (!mayReadJobRuns(job, caller.roles)) throw new EdgeError('forbidden_role', 403);
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

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/admin/jobs/{job}/runs',
    operationId: 'createJobRun',
    summary: 'Run a scheduled job now (psp-reconciliation takes a report date and a provider)',
    tags: ['admin'],
    auth: JOB_RUNNERS,
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
    handler: async ({ params, body, caller, correlationId, locale, idempotencyKey }) => ({
      status: 202,
      body: await requestJobRun({ job: params.job, parameters: body ?? {} }, caller!, {
        requestId: correlationId,
        locale,
        ...(idempotencyKey ? { idempotencyKey } : {}),
      }),
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
    handler: async ({ params, query, caller, correlationId, locale }) => {
      authoriseRunReader(params.job, caller!);
      const page = await listJobRuns({ job: params.job, ...query }, caller!, { requestId: correlationId, locale });
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
    handler: async ({ params, caller, correlationId, locale }) => {
      authoriseRunReader(params.job, caller!);
      const run = await getJobRun(params, caller!, { requestId: correlationId, locale });
      return { status: 200, body: runView(run) };
    },
  }),
];

export const handler = httpHandler(...routes);
