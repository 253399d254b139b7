/**
 * Runs a scheduled job on demand (POST /v1/admin/jobs/{job}/runs): records the request, then asks the job
 * to run through the bus.
 *
 * Invariants:
 * - {job} must name a manifest schedule, else 404 job_not_found
 * - the run's parameters are checked as the job will read them before anything is written: a job takes
 *   only the parameters JOB_PARAMETERS lists (else 400 job_parameter_unsupported); psp-reconciliation takes
 *   { date: 'YYYY-MM-DD', provider } (400 invalid_report_date, report_date_in_future, unknown_provider)
 * - the run item ('requested', trigger 'on_demand', requestedBy the caller) and its audit item
 *   ('job.run.requested' on entity job/<job>, the caller as actor) are one commit, written BEFORE the
 *   request event is put on the bus; a bus failure leaves an auditable 'requested' run and throws (the
 *   caller may retry: a new runId)
 * - the event is { Source: JOB_SOURCE, DetailType: JOB_DETAIL_TYPE, Detail: { job, runId, requestedBy } }
 *   plus the run's parameters, which are also recorded on the run and in its audit entry
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ulid } from 'ulid';
import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { reportDate } from '#domain/payments/report-date.ts';
import { JOB_DETAIL_TYPE, JOB_SOURCE } from '#functions/manifest.ts';
import { events } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { newJobRun, putJobRun } from '#store/job-runs.ts';
import { assertJob, JOB_PARAMETERS, type JobRunParameters } from './job-runs.ts';

/** The roles that run jobs on demand (the route's; the audit item's actor role is the caller's among them). */
export const JOB_RUNNERS: readonly Role[] = ['admin'];

export interface RequestJobRunInput {
  job: string;
  parameters?: JobRunParameters | undefined;
}

export interface RequestedJobRun {
  runId: string;
  job: string;
  status: 'requested';
  parameters?: JobRunParameters;
}

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

export async function requestJobRun(input: RequestJobRunInput, caller: Caller, ctx: CommandContext): Promise<RequestedJobRun> {
  const { job } = input;
  assertJob(job);
  const params = checkJobParameters(job, input.parameters ?? {}, ctx.now ?? new Date());
  const given = Object.keys(params).length > 0;
  const runId = ulid();
  const now = new Date().toISOString();
  const run = newJobRun(
    {
      job,
      runId,
      status: 'requested',
      requestedBy: caller.sub,
      trigger: 'on_demand',
      ...(given ? { parameters: params as Record<string, string> } : {}),
    },
    now,
  );
  await commit({
    writes: [putJobRun(run)],
    audit: {
      actor: actorFrom(caller, JOB_RUNNERS),
      action: 'job.run.requested',
      entity: { type: 'job', id: job },
      before: null,
      after: { runId, job, status: 'requested', ...(given ? { parameters: params } : {}) },
      requestId: ctx.requestId,
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
