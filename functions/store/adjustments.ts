/**
 * Adjustment requests awaiting (or past) a four-eyes decision (pk ADJUSTMENT#<id>, sk ADJUSTMENT), and
 * each requester's daily total of immediate adjustments (pk ADJCOUNTER#<sub>#<YYYY-MM-DD>).
 *
 * Invariants:
 * - a request is created with its audit item in one commit ('ledger.adjustment.requested'); its id is
 *   derived from (requester, Idempotency-Key) and it keeps the hash of the request body, so a retried
 *   create finds it instead of creating a second one
 * - every status change is a Put conditioned on the version read AND on the status it leaves, so two
 *   concurrent decisions cannot both win: the loser gets 409 already_decided. The change to 'posted' is
 *   written inside the journal's own transaction (functions/api/adjustments.ts), never on its own
 * - gsi1 lists requests per status (ADJUSTMENTS#<status>), gsi2 lists all of them; both by request time
 * - adjustments below the threshold post at once; they are recorded here too (status 'posted', in the
 *   journal's transaction), so finance sees one list of every manual movement
 * - the daily counter only grows, and only inside an immediate adjustment's journal transaction,
 *   conditioned on `total < threshold - amount` (created by the first write of the day); it expires
 *   (table TTL) a week after its day
 * - 'approved' is a legacy status (decided, journal being posted, by an older version); it is never
 *   written any more
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import { type AdjustmentRequest, type AdjustmentStatus, effectiveStatus } from '#domain/ledger/adjustments.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { type CommitWrite, epochSeconds, newItem, putNew, tableName } from './items.ts';
import { adjustmentKeys } from './keys.ts';
import { batchGet, big, keyId } from './ledger/codec.ts';
import { type Page, queryPage } from './pagination.ts';
import type { BaseItem } from './table.ts';

/** Stored statuses ('expired' is only ever computed, from expiresAt). 'approved' = legacy: decided, journal being posted. */
export type StoredAdjustmentStatus = Exclude<AdjustmentStatus, 'expired'> | 'approved';

export type AdjustmentItem = BaseItem &
  Omit<AdjustmentRequest, 'status'> & {
    type: 'adjustment';
    status: StoredAdjustmentStatus;
    /** sha256 of the canonical request body (absent on legacy items). */
    requestHash?: string | undefined;
    /** Whether it needed a second finance user when requested (absent on legacy items). */
    approvalRequired?: boolean | undefined;
    gsi1pk: string;
    gsi1sk: string;
    gsi2pk: string;
    gsi2sk: string;
  };

const alreadyDecided = () => new DomainError('already_decided', 'conflict', 'This adjustment was already decided');

export function newAdjustment(
  req: Omit<AdjustmentRequest, 'status'> & {
    status: StoredAdjustmentStatus;
    requestHash?: string | undefined;
    approvalRequired?: boolean | undefined;
  },
  now: string,
): AdjustmentItem {
  return newItem(
    {
      ...adjustmentKeys.key(req.adjustmentId),
      type: adjustmentKeys.type,
      ...req,
      ...adjustmentKeys.statusIndex(req.status, req.requestedAt, req.adjustmentId),
      ...adjustmentKeys.listIndex(req.requestedAt, req.adjustmentId),
    },
    now,
  ) as AdjustmentItem;
}

export const adjustmentExists = () => new DomainError('adjustment_exists', 'conflict', 'This adjustment already exists');

export const putAdjustment = (item: AdjustmentItem): CommitWrite => putNew(item, adjustmentExists());

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
  const item: AdjustmentItem = {
    ...existing,
    ...next,
    ...adjustmentKeys.statusIndex(next.status, existing.requestedAt, existing.adjustmentId),
    updatedAt: now,
    version: existing.version + 1,
  };
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

export async function getAdjustment(adjustmentId: string): Promise<AdjustmentItem | undefined> {
  const res = await ddb().send(
    new GetCommand({ TableName: tableName(), Key: adjustmentKeys.key(adjustmentId), ConsistentRead: true }),
  );
  return res.Item as AdjustmentItem | undefined;
}

/** The request as finance sees it (a pending request past its expiry reads 'expired'). */
export function adjustmentView(a: AdjustmentItem, now = new Date()) {
  return {
    adjustmentId: a.adjustmentId,
    walletId: a.walletId,
    clientId: a.clientId,
    direction: a.direction,
    amount: a.amount,
    reason: a.reason,
    ...(a.reference ? { reference: a.reference } : {}),
    status: a.status === 'approved' ? 'approved' : effectiveStatus({ status: a.status, expiresAt: a.expiresAt }, now),
    requestedBy: a.requestedBy,
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
    ...(a.decision ? { decision: a.decision } : {}),
    ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
    ...(a.decidedAt ? { decidedAt: a.decidedAt } : {}),
    ...(a.note ? { note: a.note } : {}),
    ...(a.journalId ? { journalId: a.journalId } : {}),
  };
}

/** Requests newest first, in one status or all. */
export async function listAdjustments(
  status: StoredAdjustmentStatus | undefined,
  limit: number,
  cursor?: string,
): Promise<Page<ReturnType<typeof adjustmentView>>> {
  const page = status
    ? await queryPage<AdjustmentItem>({
        index: 'gsi1',
        partition: adjustmentKeys.statusPartition(status),
        limit,
        cursor,
        forward: false,
      })
    : await queryPage<AdjustmentItem>({ index: 'gsi2', partition: adjustmentKeys.listPartition, limit, cursor, forward: false });
  const now = new Date();
  return { ...page, items: page.items.map((a) => adjustmentView(a, now)) };
}
