/**
 * Transfer resolver job: every 2 minutes (manifest schedule 'trading-transfer-resolver') and on demand. Settles
 * wallet <-> trading account transfers left 'pending' by a platform that did not answer, by asking the platform for
 * the operation by its external id (functions/app/trading/transfers.ts resolveTransfer: never by guessing).
 *
 * Invariants: only transfers pending for at least MIN_AGE_MS are asked about (a request in flight settles its own);
 * at most MAX_PER_RUN per run, oldest first; a transfer whose platform is still unreachable stays pending and is
 * counted in `pending`; metrics: TradingTransfersChecked / Completed / Failed / StillPending (Count).
 */
import { resolvePendingTransfers, TRANSFER_RESOLVER_JOB } from '#app/trading/transfers.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';

export const MIN_AGE_MS = 60_000;
export const MAX_PER_RUN = 500;

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}) {
  return runCountingJob(event, {
    job: TRANSFER_RESOLVER_JOB,
    run: async (requestId) => ({
      ...(await resolvePendingTransfers({ minAgeMs: MIN_AGE_MS, max: MAX_PER_RUN }, jobContext(requestId))),
      failed: 0,
    }),
    metrics: (r) => ({
      TradingTransfersChecked: r.checked,
      TradingTransfersCompleted: r.completed,
      TradingTransfersFailed: r.failed,
      TradingTransfersStillPending: r.pending,
    }),
    logged: 'pending trading transfers resolved',
    warnWhen: (r) => r.pending > 0,
    failedItems: 'transfers failed',
    failureLogged: 'trading transfer resolver run failed',
  });
}
