/**
 * Copy-fee settlement job: daily at 00:15 in the tenant's time zone (manifest schedule 'copy-fee-settlement') and on
 * demand. One pass is functions/app/copy/settle-fees.ts runFeeSettlement: every subscription whose fees are open
 * accrues its day of management fee, pays the fees of a monthly anniversary that has come, a subscription period
 * that started unpaid, or (stopped) its final charge; a charge the platform left unanswered is asked about.
 *
 * Invariants: one subscription that fails never stops the run; the run throws after recording its result when any
 * failed (the Errors alarm fires); a charge the platform refused (the copy account's free margin is short) is a
 * business outcome, counted and logged as a warning, and tried again at the next run; metrics per run:
 * CopyFeeStatesChecked, CopyFeeAccrued, CopyFeeCharged, CopyFeeRefused, CopyFeePending, CopyFeeBusy, CopyFeeFailed.
 */
import { FEE_SETTLEMENT_JOB, runFeeSettlement } from '#app/copy/settle-fees.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}) {
  return runCountingJob(event, {
    job: FEE_SETTLEMENT_JOB,
    run: (requestId) => runFeeSettlement({}, jobContext(requestId)),
    metrics: (r) => ({
      CopyFeeStatesChecked: r.checked,
      CopyFeeAccrued: r.accrued,
      CopyFeeCharged: r.charged,
      CopyFeeRefused: r.refused,
      CopyFeePending: r.pending,
      CopyFeeBusy: r.busy,
      CopyFeeFailed: r.failed,
    }),
    logged: 'copy fees settled',
    warnWhen: (r) => r.refused > 0 || r.pending > 0,
    failedItems: 'subscriptions failed',
    failureLogged: 'copy fee settlement run failed',
  });
}
