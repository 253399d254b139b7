/**
 * Expire the deposit intents clients never paid (the deposit-expiry job, every 15 minutes and on demand).
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
 *   on the version read and a created / pending status (a lost race re-reads: RETRY_POLICIES.stateReread)
 * - one failing deposit never stops the run: it is counted in `failed` and logged with its id and error
 *   code only
 * - the actor is the job (system:deposit-expiry)
 */

import type { CommandContext } from '#app/context.ts';
import { isDomainError } from '#domain/errors.ts';
import { logger } from '#shared/powertools.ts';
import { withRetry } from '#shared/retry.ts';
import { commit, systemActor } from '#store/audit.ts';
import { depositClosing, getDeposit, openDeposits, type StoredDeposit } from '#store/payments/deposits.ts';
import { isOpenDeposit } from './deposit-shared.ts';

export const DEPOSIT_EXPIRY_JOB = 'deposit-expiry';

export interface DepositExpiryResult {
  /** Open deposits read from the index whose intent time had passed. */
  scanned: number;
  expired: number;
  /** Settled, failed or expired meanwhile, or no longer due. */
  skipped: number;
  failed: number;
}

async function expireOne(indexed: StoredDeposit, now: Date, requestId: string): Promise<'expired' | 'skipped'> {
  return withRetry(
    'stateReread',
    async () => {
      const d = await getDeposit(indexed.depositId, { consistent: true });
      if (!d || !isOpenDeposit(d)) return 'skipped';
      if (Date.parse(d.intentExpiresAt) > now.getTime()) return 'skipped';
      const at = now.toISOString();
      const change = depositClosing(d, 'expired', {
        at,
        reason: 'intent_expired',
        actor: systemActor(DEPOSIT_EXPIRY_JOB),
        requestId,
      });
      await commit({ writes: change.writes, audit: change.audit, outbox: change.outbox, now: () => now });
      return 'expired';
    },
    (err) => isDomainError(err) && err.code === 'conflict',
  );
}

/** One pass over the due open deposits (see the module doc); `ctx.now` is the cut-off (default now). */
export async function expireDeposits(_input: Record<string, never>, ctx: CommandContext): Promise<DepositExpiryResult> {
  const now = ctx.now ?? new Date();
  const result: DepositExpiryResult = { scanned: 0, expired: 0, skipped: 0, failed: 0 };
  for await (const page of openDeposits({ dueBy: now })) {
    for (const indexed of page) {
      result.scanned++;
      try {
        if ((await expireOne(indexed, now, ctx.requestId)) === 'expired') result.expired++;
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
