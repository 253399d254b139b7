/**
 * Finance requests a manual adjustment of a client wallet (POST /v1/admin/adjustments): posted at once
 * below the tenant threshold, else stored for a second finance user (decide-adjustment.ts).
 *
 * Invariants:
 * - an adjustment credits or debits one client wallet against the house_adjustments account of its
 *   currency (422 currency_mismatch when the amount is in another currency), with a reason kept in the
 *   journal metadata and the audit trail, never shown to the client
 * - below the tenant threshold (domain/ledger/adjustments.ts checkThreshold: the amount converted
 *   to the threshold's currency at the exact mid rate) it posts at once ('posted'). At or above it, it is
 *   stored as a request (audited 'ledger.adjustment.requested'): 'pending_approval'
 * - no splitting: a requester's immediate adjustments of one UTC day are summed (threshold currency,
 *   minor units) in a counter item; one that would bring the day's total to the threshold or above needs
 *   approval like a large one. The decision is made on a read of the counter; the counter update is in the
 *   journal's transaction, conditioned on `total < threshold - amount`, so a race re-reads and re-decides
 * - the adjustment id is derived from (requester sub, Idempotency-Key) and the request keeps the hash
 *   of its body: a retried create returns the original request with its original outcome; the same key
 *   with another body is 422 idempotency_key_reused. No request is ever created twice for one key
 * - money never moves without its record: an immediate adjustment is posted through executeJournal with
 *   an extension that writes the adjustment item (status 'posted', journalId), the daily counter update and
 *   the 'ledger.adjustment.posted' audit IN THE JOURNAL'S TRANSACTION (ledger key
 *   adjustment:<sub>/<Idempotency-Key>, journal id = adjustment id)
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import {
  type AdjustmentDirection,
  type AdjustmentRequest,
  checkThreshold,
  dailyApprovalRequired,
  expiryOf,
  thresholdMinor,
  utcDay,
} from '#domain/ledger/adjustments.ts';
import { formatMoney, parseMoney } from '#domain/money/index.ts';
import { tenantConfig } from '#shared/tenant.ts';
import {
  type AdjustmentItem,
  addToDailyTotal,
  adjustmentExists,
  getAdjustment,
  newAdjustment,
  putAdjustment,
  readDailyTotal,
} from '#store/adjustments.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { executeJournal, getJournal, readIdempotency, reused } from '#store/ledger/journals.ts';
import {
  ADJUSTMENT_ENTITY,
  ADJUSTMENT_ROLES,
  type AdjustmentRecord,
  adjustmentDraft,
  adjustmentIdFor,
  adjustmentRecord,
} from './adjustments.ts';
import type { MoneyInput } from './schemas.ts';
import { accessibleWallet, idempotencyKeyOf, ledgerScope, requestHash } from './shared.ts';

export interface AdjustmentInput {
  walletId: string;
  direction: AdjustmentDirection;
  amount: MoneyInput;
  reason: string;
  reference?: string | undefined;
}

export interface AdjustmentThreshold {
  amount: string;
  currency: string;
  approvalRequired: boolean;
}

export interface RequestedAdjustment {
  /** 'posted': posted at once (201); 'pending_approval': awaiting a second finance user (202). */
  outcome: 'posted' | 'pending_approval';
  adjustment: AdjustmentRecord;
  threshold: AdjustmentThreshold;
}

/** Thrown inside the journal transaction when the requester's daily total no longer allows posting at once. */
class ApprovalNowRequired extends Error {}

const journalAdjustmentId = (metadata: Record<string, unknown>): string | undefined =>
  typeof metadata.adjustmentId === 'string' ? metadata.adjustmentId : undefined;

/** The stored request as the create call answers it (posted at once, or awaiting approval). */
function createdResult(item: AdjustmentItem, hash: string, threshold: AdjustmentThreshold): RequestedAdjustment {
  if (item.requestHash !== undefined && item.requestHash !== hash) throw reused();
  const approvalRequired = item.approvalRequired ?? !(item.status === 'posted' && !item.decidedBy);
  return {
    outcome: approvalRequired ? 'pending_approval' : 'posted',
    adjustment: adjustmentRecord(item),
    threshold: { ...threshold, approvalRequired },
  };
}

export async function requestAdjustment(
  input: AdjustmentInput,
  caller: Caller,
  ctx: CommandContext,
): Promise<RequestedAdjustment> {
  const key = idempotencyKeyOf(ctx);
  const cfg = tenantConfig();
  const amount = parseMoney(input.amount, cfg.currencies);
  const wallet = await accessibleWallet(caller, input.walletId, ADJUSTMENT_ROLES);
  if (wallet.currency !== amount.currency) {
    throw new DomainError(
      'currency_mismatch',
      'unprocessable',
      `The amount must be in the wallet's currency (${wallet.currency})`,
      [{ field: 'amount.currency', code: 'currency_mismatch', message: `Expected ${wallet.currency}` }],
    );
  }
  const hash = requestHash(input);
  const adjustmentId = adjustmentIdFor(caller.sub, key);
  const check = checkThreshold(amount, cfg);
  let threshold: AdjustmentThreshold = { ...check.threshold, approvalRequired: check.approvalRequired };

  // A retry (even after the edge idempotency record is gone) finds the original request.
  const existing = await getAdjustment(adjustmentId);
  if (existing) return createdResult(existing, hash, threshold);
  // Legacy: an immediate adjustment of an older version (random id) under the same ledger key.
  const scope = ledgerScope('adjustment', caller.sub);
  const legacy = await readIdempotency(scope, key);
  if (legacy) return legacyReplay(legacy, hash, threshold);

  const actor = actorFrom(caller, ADJUSTMENT_ROLES);
  const now = new Date().toISOString();
  const base: Omit<AdjustmentRequest, 'status' | 'adjustmentId'> = {
    walletId: wallet.accountId,
    clientId: wallet.ownerId,
    direction: input.direction,
    amount: formatMoney(amount),
    reason: input.reason,
    ...(input.reference ? { reference: input.reference } : {}),
    requestedBy: caller.sub,
    requestedAt: now,
    expiresAt: expiryOf(now),
  };

  // Splitting guard: the requester's immediate adjustments today plus this one must stay below the threshold.
  const day = utcDay(now);
  const minor = check.approvalRequired ? undefined : thresholdMinor(amount, cfg);
  if (!check.approvalRequired) {
    if (!minor || dailyApprovalRequired(await readDailyTotal(caller.sub, day), minor.amount, minor.limit)) {
      threshold = { ...threshold, approvalRequired: true };
    }
  }

  if (!threshold.approvalRequired && minor) {
    try {
      return await postImmediately();
    } catch (err) {
      if (err instanceof ApprovalNowRequired) threshold = { ...threshold, approvalRequired: true };
      else if (isDomainError(err) && err.code === 'adjustment_exists') {
        const found = await getAdjustment(adjustmentId);
        if (found) return createdResult(found, hash, threshold);
        throw err;
      } else throw err;
    }
  }

  const item = newAdjustment(
    { ...base, adjustmentId, status: 'pending_approval', requestHash: hash, approvalRequired: true },
    now,
  );
  try {
    await commit({
      writes: [putAdjustment(item)],
      audit: {
        actor,
        action: 'ledger.adjustment.requested',
        entity: { type: ADJUSTMENT_ENTITY, id: adjustmentId },
        clientId: wallet.ownerId,
        before: null,
        after: { ...adjustmentRecord(item), threshold },
        reason: input.reason,
        requestId: ctx.requestId,
      },
    });
  } catch (err) {
    if (!(isDomainError(err) && err.code === 'adjustment_exists')) throw err;
    const found = await getAdjustment(adjustmentId);
    if (!found) throw err;
    return createdResult(found, hash, threshold);
  }
  return { outcome: 'pending_approval', adjustment: adjustmentRecord(item), threshold };

  /** Journal + 'posted' record + daily total + audits in ONE transaction. */
  async function postImmediately(): Promise<RequestedAdjustment> {
    const limits = minor!;
    const draft = await adjustmentDraft({
      journalId: adjustmentId,
      adjustmentId,
      wallet,
      amount,
      direction: input.direction,
      reason: input.reason,
      reference: input.reference,
      requestedBy: caller.sub,
    });
    let item: AdjustmentItem | undefined;
    await executeJournal(
      {
        draft,
        idempotency: { scope, key, requestHash: hash },
        actor,
        requestId: ctx.requestId,
        clientId: wallet.ownerId,
      },
      {
        async prepare({ at }) {
          // Fresh reads on every attempt: a concurrent twin recorded it, or the day total moved on.
          const [twin, total] = await Promise.all([getAdjustment(adjustmentId), readDailyTotal(caller.sub, day)]);
          if (twin) throw adjustmentExists();
          if (dailyApprovalRequired(total, limits.amount, limits.limit)) throw new ApprovalNowRequired();
          item = newAdjustment(
            {
              ...base,
              adjustmentId,
              status: 'posted',
              journalId: adjustmentId,
              decidedAt: at,
              requestHash: hash,
              approvalRequired: false,
            },
            at,
          );
          return {
            adjusted: new Set<string>(),
            writes: [putAdjustment(item), addToDailyTotal(caller.sub, day, limits.amount, limits.limit, at)],
            audit: [
              {
                actor,
                action: 'ledger.adjustment.posted',
                entity: { type: ADJUSTMENT_ENTITY, id: adjustmentId },
                newEntity: true,
                clientId: wallet.ownerId,
                before: null,
                after: { ...adjustmentRecord(item), threshold },
                reason: input.reason,
                requestId: ctx.requestId,
              },
            ],
            outbox: [],
          };
        },
      },
    );
    return { outcome: 'posted', adjustment: adjustmentRecord(item!), threshold };
  }
}

/** A create retried after an older version posted it immediately: the original journal's adjustment. */
async function legacyReplay(
  prior: { requestHash: string; resultId: string },
  hash: string,
  threshold: AdjustmentThreshold,
): Promise<RequestedAdjustment> {
  if (prior.requestHash !== hash) throw reused();
  const journal = await getJournal(prior.resultId);
  const id = journal ? (journalAdjustmentId(journal.metadata) ?? journal.journalId) : undefined;
  const found = id ? await getAdjustment(id) : undefined;
  if (!found) throw new DomainError('adjustment_not_found', 'conflict', 'This request was posted but its record is missing');
  return { outcome: 'posted', adjustment: adjustmentRecord(found), threshold };
}
