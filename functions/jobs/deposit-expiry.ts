/**
 * Deposit expiry job: every 15 minutes (manifest schedule 'deposit-expiry') and on demand
 * (JOB_DETAIL_TYPE event with { job, runId, requestedBy }). Expires the intents clients never paid: the
 * use case functions/app/payments/expire-deposits.ts does the work.
 *
 * Invariants:
 * - the run is the use case's (idempotent, one failing deposit never stops it: see expire-deposits.ts);
 *   the run throws after recording its result when any deposit failed (Errors alarm)
 * - an on-demand run gets its job-run item finished with a 'job.run.completed' audit item (runs.ts)
 * - metrics per run: DepositExpiryScanned, DepositsExpired, DepositExpiryFailed
 */
import { DEPOSIT_EXPIRY_JOB, type DepositExpiryResult, expireDeposits } from '#app/payments/expire-deposits.ts';
import { type JobEvent, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

export const JOB = DEPOSIT_EXPIRY_JOB;
export type { DepositExpiryResult };

/** One pass over the due open deposits (the use case, with the job's request id and clock). */
export function runDepositExpiry(opts: { now?: Date; requestId?: string } = {}): Promise<DepositExpiryResult> {
  const now = opts.now ?? new Date();
  return expireDeposits(
    {},
    { requestId: opts.requestId ?? `${JOB}:${now.toISOString()}`, locale: tenantConfig().defaultLocale, now },
  );
}

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}): Promise<DepositExpiryResult & { runId?: string }> {
  return runCountingJob(event, {
    job: JOB,
    run: (requestId) => runDepositExpiry({ requestId }),
    metrics: (r) => ({
      DepositExpiryScanned: r.scanned,
      DepositsExpired: r.expired,
      DepositExpiryFailed: r.failed,
    }),
    logged: 'deposit intents expired',
    failedItems: 'deposits failed to expire',
    failureLogged: 'deposit expiry run failed',
  });
}
