/**
 * Adjustment requests awaiting (or past) a four-eyes decision (pk ADJUSTMENT#<id>, sk ADJUSTMENT).
 *
 * Invariants:
 * - a request is created with its audit item in one commit ('ledger.adjustment.requested')
 * - every status change is a Put conditioned on the version read AND on the status it leaves, so two
 *   concurrent decisions cannot both win: the loser gets 409 already_decided
 * - gsi1 lists requests per status (ADJUSTMENTS#<status>), gsi2 lists all of them; both by request time
 * - adjustments below the threshold post at once; they are recorded here too (status 'posted'), so
 *   finance sees one list of every manual movement
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import { type AdjustmentRequest, type AdjustmentStatus, effectiveStatus } from '#domain/ledger/adjustments.ts';
import { ddb } from '#shared/clients.ts';
import { type CommitWrite, newItem, putNew, tableName } from './items.ts';
import { adjustmentKeys } from './keys.ts';
import { type Page, queryPage } from './pagination.ts';
import type { BaseItem } from './table.ts';

/** Stored statuses ('expired' is only ever computed, from expiresAt). 'approved' = decided, journal being posted. */
export type StoredAdjustmentStatus = Exclude<AdjustmentStatus, 'expired'> | 'approved';

export type AdjustmentItem = BaseItem &
  Omit<AdjustmentRequest, 'status'> & {
    type: 'adjustment';
    status: StoredAdjustmentStatus;
    gsi1pk: string;
    gsi1sk: string;
    gsi2pk: string;
    gsi2sk: string;
  };

const alreadyDecided = () => new DomainError('already_decided', 'conflict', 'This adjustment was already decided');

export function newAdjustment(
  req: Omit<AdjustmentRequest, 'status'> & { status: StoredAdjustmentStatus },
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

export const putAdjustment = (item: AdjustmentItem): CommitWrite =>
  putNew(item, new DomainError('adjustment_exists', 'conflict', 'This adjustment already exists'));

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
