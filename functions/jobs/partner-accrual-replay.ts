/**
 * Nightly commission replay (manifest schedule 'partner-accrual-replay'; ADR 0018): the previous UTC day's deals
 * recomputed from the stored facts and compared with the stored lines (functions/app/partners/replay.ts).
 *
 * Invariants: read-only; a run with any mismatch throws after recording (the Errors alarm fires) and logs the
 * mismatches; metrics per run: PartnerReplayDeals, PartnerReplayMismatches.
 */
import { previousDay, REPLAY_JOB, replayAccruals } from '#app/partners/replay.ts';
import { type JobEvent, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}) {
  return runCountingJob(event, {
    job: REPLAY_JOB,
    run: () => replayAccruals(previousDay(new Date())),
    metrics: (r) => ({ PartnerReplayDeals: r.deals, PartnerReplayMismatches: r.failed }),
    logged: 'partner accruals replayed',
    warnWhen: (r) => r.failed > 0,
    failedItems: 'commission lines differ from their replay',
    failureLogged: 'partner accrual replay found differences',
  });
}
