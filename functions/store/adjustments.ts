/**
 * Adjustment requests awaiting (or past) a four-eyes decision (pk ADJUSTMENT#<id>, sk ADJUSTMENT), and
 * each requester's daily total of immediate adjustments (pk ADJCOUNTER#<sub>#<YYYY-MM-DD>).
 *
 * Invariants:
 * - a request is declared once as an entity (adjustmentEntity): its status and list indexes are computed on
 *   every write, every request read is parsed. The daily counter is a bare counter (bigint total, read
 *   exactly through the ledger's codec), written only by addToDailyTotal's UpdateItem
 * - a request is created with its audit item in one commit ('ledger.adjustment.requested'); its id is
 *   derived from (requester, Idempotency-Key) and it keeps the hash of the request body, so a retried
 *   create finds it instead of creating a second one
 * - every status change is a Put conditioned on the version read AND on the status it leaves, so two
 *   concurrent decisions cannot both win: the loser gets 409 already_decided. The change to 'posted' is
 *   written inside the journal's own transaction (functions/app/ledger/request-adjustment.ts and
 *   decide-adjustment.ts), never on its own
 * - gsi1 lists requests per status (ADJUSTMENTS#<status>), gsi2 lists all of them; both by request time
 * - adjustments below the threshold post at once; they are recorded here too (status 'posted', in the
 *   journal's transaction), so finance sees one list of every manual movement
 * - the daily counter only grows, and only inside an immediate adjustment's journal transaction,
 *   conditioned on `total < threshold - amount` (created by the first write of the day); it expires
 *   (table TTL) a week after its day
 * - 'approved' is a legacy status (decided, journal being posted, by an older version); it is never
 *   written any more
 */
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import type { AdjustmentDecision, AdjustmentDirection, AdjustmentRequest, AdjustmentStatus } from '#domain/ledger/adjustments.ts';
import { env } from '#shared/env.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { type CommitWrite, epochSeconds } from './items.ts';
import { adjustmentKeys } from './keys.ts';
import { batchGet, big, keyId } from './ledger/codec.ts';
import type { Page } from './pagination.ts';
import { nested, oneOf, optionalString } from './schemas.ts';

/** Stored statuses ('expired' is only ever computed, from expiresAt). 'approved' = legacy: decided, journal being posted. */
export type StoredAdjustmentStatus = Exclude<AdjustmentStatus, 'expired'> | 'approved';

const adjustmentSchema = z.object({
  adjustmentId: z.string().min(1),
  walletId: z.string().min(1),
  clientId: z.string().min(1),
  direction: oneOf<AdjustmentDirection>({ credit: true, debit: true }),
  /** Decimal string in major units, as requested. */
  amount: nested({ amount: z.string(), currency: z.string() }),
  reason: z.string(),
  reference: optionalString(),
  requestedBy: z.string(),
  requestedAt: z.string().min(1),
  /** ISO time after which a pending request can no longer be decided (not the table's TTL: a string). */
  expiresAt: z.string(),
  status: oneOf<StoredAdjustmentStatus>({ pending_approval: true, posted: true, rejected: true, approved: true }),
  decision: oneOf<AdjustmentDecision>({ approve: true, reject: true }).optional(),
  decidedBy: optionalString(),
  decidedAt: optionalString(),
  note: optionalString(),
  journalId: optionalString(),
  /** sha256 of the canonical request body (absent on legacy items). */
  requestHash: optionalString(),
  /** Whether it needed a second finance user when requested (absent on legacy items). */
  approvalRequired: z.boolean().optional(),
}) satisfies z.ZodType<Omit<AdjustmentRequest, 'status'>>;

/** gsi1: the requests in one status; gsi2: all of them; both by request time. */
export const adjustmentEntity = defineEntity({
  type: adjustmentKeys.type,
  schema: adjustmentSchema,
  key: (a) => adjustmentKeys.key(a.adjustmentId),
  indexes: (a) => ({
    ...adjustmentKeys.statusIndex(a.status, a.requestedAt, a.adjustmentId),
    ...adjustmentKeys.listIndex(a.requestedAt, a.adjustmentId),
  }),
  what: 'adjustment',
});

export type AdjustmentItem = ItemOf<typeof adjustmentEntity>;

const alreadyDecided = () => new DomainError('already_decided', 'conflict', 'This adjustment was already decided');

export function newAdjustment(
  req: Omit<AdjustmentRequest, 'status'> & {
    status: StoredAdjustmentStatus;
    requestHash?: string | undefined;
    approvalRequired?: boolean | undefined;
  },
  now: string,
): AdjustmentItem {
  return adjustmentEntity.item(req, now);
}

export const adjustmentExists = () => new DomainError('adjustment_exists', 'conflict', 'This adjustment already exists');

export const putAdjustment = (item: AdjustmentItem): CommitWrite => adjustmentEntity.putNew(item, adjustmentExists());

/** The requester's total of immediate adjustments on `day` so far, in minor units of the threshold's currency. */
export async function readDailyTotal(requesterSub: string, day: string): Promise<bigint> {
  const k = adjustmentKeys.counter(requesterSub, day);
  const item = (await batchGet([k])).get(keyId(k));
  return item ? big(item.total) : 0n;
}

/**
 * Adds `amount` to the requester's daily total, conditioned on the total staying below `limit`
 * (`total < limit - amount`); the first write of the day creates the item. A failed condition is a
 * race (the caller computed the decision from a read): 'concurrent_modification', so the journal retries.
 */
export function addToDailyTotal(requesterSub: string, day: string, amount: bigint, limit: bigint, now: string): CommitWrite {
  return {
    Update: {
      Key: adjustmentKeys.counter(requesterSub, day),
      UpdateExpression:
        'SET #t = if_not_exists(#t, :zero) + :amt, #v = if_not_exists(#v, :zero) + :one, #ty = :ty, #tn = :tn, ' +
        '#c = if_not_exists(#c, :now), #u = :now, #r = :r, #d = :d, #e = :e',
      ConditionExpression: 'attribute_not_exists(pk) OR #t < :lim',
      ExpressionAttributeNames: {
        '#t': 'total',
        '#v': 'version',
        '#ty': 'type',
        '#tn': 'tenant',
        '#c': 'createdAt',
        '#u': 'updatedAt',
        '#r': 'requestedBy',
        '#d': 'day',
        '#e': 'expiresAt',
      },
      ExpressionAttributeValues: {
        ':zero': 0n,
        ':one': 1n,
        ':amt': amount,
        ':lim': limit - amount,
        ':ty': adjustmentKeys.counterType,
        ':tn': env.tenant,
        ':now': now,
        ':r': requesterSub,
        ':d': day,
        ':e': epochSeconds(new Date(Date.parse(`${day}T00:00:00Z`) + 8 * 86_400_000)),
      },
    },
    conditionFailedError: new DomainError('concurrent_modification', 'conflict', 'The daily adjustment total changed; retry'),
  };
}

/** The request moved to `next` (status and decision fields), conditioned on its version and current status. */
export function updateAdjustment(
  existing: AdjustmentItem,
  next: Partial<AdjustmentItem> & { status: StoredAdjustmentStatus },
  now: string,
): CommitWrite {
  // The entity recomputes the status index from the new status (and bumps version and updatedAt).
  const item = adjustmentEntity.replaced(existing, { ...existing, ...next }, now);
  return {
    Put: {
      Item: item,
      ConditionExpression: '#v = :v AND #s = :s',
      ExpressionAttributeNames: { '#v': 'version', '#s': 'status' },
      ExpressionAttributeValues: { ':v': existing.version, ':s': existing.status },
    },
    conditionFailedError: alreadyDecided(),
  };
}

export const getAdjustment = (adjustmentId: string): Promise<AdjustmentItem | undefined> =>
  adjustmentEntity.get(adjustmentKeys.key(adjustmentId), { consistent: true });

/** Requests newest first, in one status or all (the use case reads each as its record). */
export async function listAdjustments(
  status: StoredAdjustmentStatus | undefined,
  limit: number,
  cursor?: string,
): Promise<Page<AdjustmentItem>> {
  return status
    ? adjustmentEntity.query({ index: 'gsi1', partition: adjustmentKeys.statusPartition(status), limit, cursor, forward: false })
    : adjustmentEntity.query({ index: 'gsi2', partition: adjustmentKeys.listPartition, limit, cursor, forward: false });
}
