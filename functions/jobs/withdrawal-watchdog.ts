/**
 * Withdrawal watchdog job: every 10 minutes (manifest schedule 'withdrawal-watchdog') and on demand
 * (POST /v1/admin/jobs/withdrawal-watchdog/runs). Runs the use case
 * functions/app/payments/repair-withdrawal-workflows.ts (every withdrawal that is not final gets a live
 * withdrawal-approval execution; see there for what it reads, restarts and gives up on).
 *
 * Invariants:
 * - a run is recorded as a job run (runCountingJob) with its counts; one failing withdrawal never stops the
 *   run, and a run with failed withdrawals throws after recording its result so the Errors alarm fires
 * - metrics per run: WithdrawalWatchdogScanned, WithdrawalsStarted, WithdrawalsRestarted, WithdrawalsStalled,
 *   WithdrawalWatchdogFailed (Count)
 */
import { JOB, repairWithdrawalWorkflows } from '#app/payments/repair-withdrawal-workflows.ts';
import { type JobEvent, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';
import { tenantConfig } from '#shared/tenant.ts';

const handle = (event: JobEvent = {}) =>
  runCountingJob(event, {
    job: JOB,
    run: (requestId) => repairWithdrawalWorkflows({ requestId, locale: tenantConfig().defaultLocale }),
    metrics: (r) => ({
      WithdrawalWatchdogScanned: r.scanned,
      WithdrawalsStarted: r.started,
      WithdrawalsRestarted: r.restarted,
      WithdrawalsStalled: r.stalled,
      WithdrawalWatchdogFailed: r.failed,
    }),
    logged: 'withdrawal watchdog run',
    warnWhen: (r) => r.started + r.restarted + r.stalled > 0,
    failedItems: 'withdrawals could not be repaired',
    failureLogged: 'withdrawal watchdog run failed',
  });

export const handler = instrumented(handle);
