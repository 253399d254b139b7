/**
 * Partner payout job: daily at 01:00 in the tenant's time zone (manifest schedule 'partner-payouts') and on demand.
 * One pass is functions/app/partners/payouts.ts runPayouts: every approved partner whose payout schedule (daily,
 * weekly, monthly) is due on the tenant-local date is paid, per currency, the lines accrued since its last paid
 * payout up to the run time less the tenant's payoutSafetySeconds; a held partner gets a held payout, a window below
 * the tenant's minimum a below_minimum one (carried forward).
 *
 * Invariants: one partner that fails never stops the run; the run throws after recording its result when any
 * failed (the Errors alarm fires); a re-run of the day pays nothing twice (payout ids name the day); metrics per
 * run: PartnerPayoutPartners, PartnerPayoutDue, PartnerPayoutPaid, PartnerPayoutHeld, PartnerPayoutBelowMinimum,
 * PartnerPayoutReplayed, PartnerPayoutFailed.
 */
import { PAYOUT_JOB, runPayouts } from '#app/partners/payouts.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}) {
  return runCountingJob(event, {
    job: PAYOUT_JOB,
    run: (requestId) => runPayouts({ now: new Date() }, jobContext(requestId)),
    metrics: (r) => ({
      PartnerPayoutPartners: r.partners,
      PartnerPayoutDue: r.due,
      PartnerPayoutPaid: r.paid,
      PartnerPayoutHeld: r.held,
      PartnerPayoutBelowMinimum: r.belowMinimum,
      PartnerPayoutReplayed: r.replayed,
      PartnerPayoutFailed: r.failed,
    }),
    logged: 'partner payouts run',
    warnWhen: (r) => r.held > 0,
    failedItems: 'partners failed',
    failureLogged: 'partner payout run failed',
  });
}
