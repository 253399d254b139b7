/**
 * Use case (one pass of the kyc-expiry job): watches the identity document of every approved client (the
 * expiry watch item, pk KYCEXPIRY#<clientId>, written with the approval by decisions.ts) and tells the
 * client before it expires and once it has.
 *
 * What it does: reads the watch items due up to today + the tenant's kyc.expiringSoonDays (store/kyc.ts
 * dueExpiryWatches: gsi1 KYCEXPIRIES, page by page, never a scan), and for each watch item whose client's CURRENT
 * approval is the watched submission (profile kyc.approvedSubmissionId; a watch of a superseded
 * approval is skipped) classifies the date (domain/kyc/expiry.ts classifyExpiry, UTC calendar days):
 * - 'expiring_soon', not yet flagged: ONE commit setting expiringSoonFlaggedAt on the watch, the audit
 *   item 'kyc.document.expiring_soon' (entity client/<clientId>, evidence { submissionId,
 *   identityExpiresOn, daysLeft }) and the outbox event 'kyc.document_expiring' { clientId,
 *   identityExpiresOn, daysLeft }
 * - 'expired', not yet flagged: ONE commit setting expiredFlaggedAt on the watch and, on the profile,
 *   kyc.expiredAt and kycStatus 'action_required' (only when it is 'approved': a client whose newer
 *   submission is already in review or decided keeps that status), the audit item 'kyc.document.expired'
 *   and the outbox event 'kyc.expired' { clientId, identityExpiresOn }
 *
 * Invariants:
 * - idempotent: each flag is set once, in the same commit as its audit item and event; a second run (or a
 *   concurrent one) changes nothing. Both the watch and the profile are written conditioned on the
 *   version read; a lost race re-reads both (consistently) and re-decides (RETRY_POLICIES.decisionConflict)
 * - decisions are taken on consistent re-reads, never on the (eventually consistent) index copy alone;
 *   the index copy only lets already-flagged items be skipped without a read
 * - one failing item never stops the run: it is counted in `failed` and logged with ids and the error
 *   code only (no PII); the job (functions/jobs/kyc-expiry.ts) throws after recording the result
 * - writes nothing but the flags, their audit items and events
 */
import type { CommandContext } from '#app/context.ts';
import { isDomainError } from '#domain/errors.ts';
import { classifyExpiry, daysUntil } from '#domain/kyc/expiry.ts';
import { logger } from '#shared/powertools.ts';
import { withRetry } from '#shared/retry.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit, systemActor } from '#store/audit.ts';
import { type ClientProfileItem, getClientProfile, replaceClientProfile } from '#store/clients.ts';
import { dueExpiryWatches, getKycExpiry, type KycExpiryItem, replaceKycExpiry } from '#store/kyc.ts';
import { isConflict } from './decisions.ts';

export const JOB = 'kyc-expiry';
const DAY_MS = 86_400_000;

export interface KycExpiryResult {
  /** Watch items read from the index (expiring within the window, or expired). */
  scanned: number;
  /** Newly flagged as expiring soon by this run. */
  expiringSoon: number;
  /** Newly flagged as expired by this run. */
  expired: number;
  /** Already flagged, superseded, no longer watched, or still valid. */
  skipped: number;
  failed: number;
}

type Outcome = 'expiring_soon' | 'expired' | 'skipped';

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The watch items expiring on or before `today + windowDays`, page by page. */
function dueWatchItems(now: Date, windowDays: number): AsyncGenerator<KycExpiryItem[]> {
  // Every date up to the horizon sorts before the day after it.
  return dueExpiryWatches(isoDay(now.getTime() + (windowDays + 1) * DAY_MS));
}

/** Whether the index copy already shows the flag this date would set (no read needed). */
function alreadyFlagged(w: KycExpiryItem, now: Date, windowDays: number): boolean {
  const state = classifyExpiry(w.identityExpiresOn, now, windowDays);
  return (
    (state === 'expired' && w.expiredFlaggedAt !== undefined) ||
    (state === 'expiring_soon' && w.expiringSoonFlaggedAt !== undefined)
  );
}

/** One watch item: consistent re-reads, then at most one commit; a lost race re-reads and re-decides. */
function processWatch(indexed: KycExpiryItem, now: Date, windowDays: number, requestId: string): Promise<Outcome> {
  return withRetry(
    'decisionConflict',
    async (): Promise<Outcome> => {
      const watch = await getKycExpiry(indexed.clientId);
      if (!watch) return 'skipped';
      const profile = await getClientProfile(watch.clientId, { consistent: true });
      if (!profile || profile.kyc?.approvedSubmissionId !== watch.submissionId) return 'skipped';
      const state = classifyExpiry(watch.identityExpiresOn, now, windowDays);
      if (state === 'expiring_soon' && !watch.expiringSoonFlaggedAt) {
        await flagExpiringSoon(watch, now, requestId);
        return 'expiring_soon';
      }
      if (state === 'expired' && !watch.expiredFlaggedAt) {
        await flagExpired(watch, profile, now, requestId);
        return 'expired';
      }
      return 'skipped';
    },
    isConflict,
  );
}

async function flagExpiringSoon(watch: KycExpiryItem, now: Date, requestId: string): Promise<void> {
  const at = now.toISOString();
  const daysLeft = daysUntil(watch.identityExpiresOn, now);
  await commit({
    writes: [replaceKycExpiry(watch, { ...watch, expiringSoonFlaggedAt: at }, at)],
    audit: {
      actor: systemActor(JOB),
      action: 'kyc.document.expiring_soon',
      entity: { type: 'client', id: watch.clientId },
      clientId: watch.clientId,
      before: { expiringSoonFlaggedAt: null },
      after: { expiringSoonFlaggedAt: at },
      evidence: { submissionId: watch.submissionId, identityExpiresOn: watch.identityExpiresOn, daysLeft },
      requestId,
    },
    outbox: [
      {
        detailType: 'kyc.document_expiring',
        detail: { clientId: watch.clientId, identityExpiresOn: watch.identityExpiresOn, daysLeft },
      },
    ],
    now: () => now,
  });
}

async function flagExpired(watch: KycExpiryItem, profile: ClientProfileItem, now: Date, requestId: string): Promise<void> {
  const at = now.toISOString();
  const kycStatus = profile.kycStatus === 'approved' ? 'action_required' : profile.kycStatus;
  const next: ClientProfileItem = {
    ...profile,
    ...(kycStatus ? { kycStatus } : {}),
    kyc: { ...profile.kyc, expiredAt: at },
  };
  await commit({
    writes: [replaceKycExpiry(watch, { ...watch, expiredFlaggedAt: at }, at), replaceClientProfile(profile, next, at)],
    audit: {
      actor: systemActor(JOB),
      action: 'kyc.document.expired',
      entity: { type: 'client', id: watch.clientId },
      clientId: watch.clientId,
      before: { kycStatus: profile.kycStatus ?? 'not_started', expiredAt: profile.kyc?.expiredAt ?? null },
      after: { kycStatus: next.kycStatus ?? 'not_started', expiredAt: at },
      evidence: {
        submissionId: watch.submissionId,
        identityExpiresOn: watch.identityExpiresOn,
        daysLeft: daysUntil(watch.identityExpiresOn, now),
      },
      requestId,
    },
    outbox: [{ detailType: 'kyc.expired', detail: { clientId: watch.clientId, identityExpiresOn: watch.identityExpiresOn } }],
    now: () => now,
  });
}

/** One pass over the due watch items (see the module doc). */
export async function flagExpiringDocuments(ctx: CommandContext): Promise<KycExpiryResult> {
  const now = ctx.now ?? new Date();
  const { requestId } = ctx;
  const windowDays = tenantConfig().kyc.expiringSoonDays;
  const result: KycExpiryResult = { scanned: 0, expiringSoon: 0, expired: 0, skipped: 0, failed: 0 };
  for await (const page of dueWatchItems(now, windowDays)) {
    for (const indexed of page) {
      result.scanned++;
      try {
        if (alreadyFlagged(indexed, now, windowDays)) {
          result.skipped++;
          continue;
        }
        const outcome = await processWatch(indexed, now, windowDays, requestId);
        if (outcome === 'expiring_soon') result.expiringSoon++;
        else if (outcome === 'expired') result.expired++;
        else result.skipped++;
      } catch (err) {
        result.failed++;
        logger.error('kyc expiry item failed', {
          clientId: indexed.clientId,
          error: isDomainError(err) ? err.code : (err as Error).name,
        });
      }
    }
  }
  return result;
}
