/**
 * Deposit expiry job: every 15 minutes (manifest schedule 'deposit-expiry') and on demand
 * (JOB_DETAIL_TYPE event with { job, runId, requestedBy }). Expires the intents clients never paid.
 *
 * What it does: reads the sparse open-deposit index (gsi2 DEPOSITSOPEN#<n>, sk <intentExpiresAt>#<id>)
 * up to now, shard by shard, page by page (never a scan), and for each deposit still created or pending
 * on a CONSISTENT re-read whose intentExpiresAt has passed: ONE commit moving it to 'expired' (reason
 * intent_expired), releasing its pre-verification reservation, with the audit entry
 * 'payment.deposit.expired' and the outbox event 'payment.deposit.expired'.
 *
 * Invariants:
 * - idempotent: an expired deposit leaves the index in the same commit; a second (or concurrent) run
 *   finds nothing, or loses the version race and re-reads a terminal deposit (skipped)
 * - a deposit the provider's webhook settled meanwhile is never expired: the transition is conditioned
 *   on the version read and a created / pending status
 * - one failing deposit never stops the run: it is counted in `failed` and logged with its id and error
 *   code only; the run throws after recording its result (Errors alarm)
 * - an on-demand run gets its job-run item finished with a 'job.run.completed' audit item (runs.ts)
 */
import { isDomainError } from '#domain/errors.ts';
import { type JobEvent, runCountingJob } from '#functions/jobs/runs.ts';
import { logger } from '#shared/powertools.ts';
import { commit, systemActor } from '#store/audit.ts';
import { depositClosing, getDeposit, openDeposits, type StoredDeposit } from '#store/payments/deposits.ts';

export const JOB = 'deposit-expiry';
const MAX_ATTEMPTS = 4;

export interface DepositExpiryResult {
  /** Open deposits read from the index whose intent time had passed. */
  scanned: number;
  expired: number;
  /** Settled, failed or expired meanwhile, or no longer due. */
  skipped: number;
  failed: number;
}

async function expireOne(indexed: StoredDeposit, now: Date, requestId: string): Promise<'expired' | 'skipped'> {
  for (let attempt = 1; ; attempt++) {
    const d = await getDeposit(indexed.depositId, { consistent: true });
    if (!d || (d.status !== 'created' && d.status !== 'pending')) return 'skipped';
    if (Date.parse(d.intentExpiresAt) > now.getTime()) return 'skipped';
    const at = now.toISOString();
    const change = depositClosing(d, 'expired', { at, reason: 'intent_expired', actor: systemActor(JOB), requestId });
    try {
      await commit({ writes: change.writes, audit: change.audit, outbox: change.outbox, now: () => now });
      return 'expired';
    } catch (err) {
      if (!(isDomainError(err) && err.code === 'conflict') || attempt >= MAX_ATTEMPTS) throw err;
    }
  }
}

/** One pass over the due open deposits (see the module doc). */
export async function runDepositExpiry(opts: { now?: Date; requestId?: string } = {}): Promise<DepositExpiryResult> {
  const now = opts.now ?? new Date();
  const requestId = opts.requestId ?? `${JOB}:${now.toISOString()}`;
  const result: DepositExpiryResult = { scanned: 0, expired: 0, skipped: 0, failed: 0 };
  for await (const page of openDeposits({ dueBy: now })) {
    for (const indexed of page) {
      result.scanned++;
      try {
        if ((await expireOne(indexed, now, requestId)) === 'expired') result.expired++;
        else result.skipped++;
      } catch (err) {
        result.failed++;
        logger.error('deposit expiry failed', {
          depositId: indexed.depositId,
          error: isDomainError(err) ? err.code : (err as Error).name,
        });
      }
    }
  }
  return result;
}

export async function handler(event: JobEvent = {}): Promise<DepositExpiryResult & { runId?: string }> {
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
