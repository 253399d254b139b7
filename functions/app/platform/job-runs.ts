/**
 * What the job-run use cases share: which jobs exist (the manifest's schedules), who may read whose runs,
 * and the parameters a job takes on demand.
 *
 * Invariants:
 * - a job is a manifest schedule; any other name is 404 job_not_found
 * - admins read every job's runs; compliance reads the runs of COMPLIANCE_JOBS only (audit-verify: the chain
 *   and archive findings it must act on)
 * - only the jobs in JOB_PARAMETERS take parameters, and only those listed there
 */
import { DomainError } from '#domain/errors.ts';
import type { Role } from '#domain/identity/roles.ts';
import { schedules } from '#functions/manifest.ts';
import type { JobRunItem } from '#store/job-runs.ts';

export type { JobRunItem };

/** The jobs whose runs compliance reads (besides admins, who read every job's). */
export const COMPLIANCE_JOBS: readonly string[] = ['audit-verify'];

/** What a run on demand may be given (each job takes the keys JOB_PARAMETERS lists, none by default). */
export interface JobRunParameters {
  date?: string | undefined;
  provider?: string | undefined;
}

/** The parameters each job takes on demand (every other job takes none). */
export const JOB_PARAMETERS: Readonly<Record<string, readonly (keyof JobRunParameters)[]>> = {
  'psp-reconciliation': ['date', 'provider'],
};

export const jobNotFound = () => new DomainError('job_not_found', 'not_found', 'No job with this name');
export const jobRunNotFound = () => new DomainError('job_run_not_found', 'not_found', 'No run of this job with this id');

/** 404 job_not_found unless `job` names a manifest schedule. */
export function assertJob(job: string): void {
  if (!schedules.some((s) => s.name === job)) throw jobNotFound();
}

/** Whether a caller with `roles` reads the runs of `job` (admins: all; compliance: COMPLIANCE_JOBS). */
export const mayReadJobRuns = (job: string, roles: readonly Role[]): boolean =>
  roles.includes('admin') || (roles.includes('compliance') && COMPLIANCE_JOBS.includes(job));
