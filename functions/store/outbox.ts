/**
 * Outbox items: a domain event written in the same transaction as the state change it announces.
 * The outbox relay (functions/workers/outbox-relay.ts) publishes INSERTed outbox items from the
 * table stream to EventBridge; nothing is published for a write that did not commit. The
 * outbox-sweeper job (functions/jobs/outbox-sweeper.ts) republishes any item the relay did not
 * mark published (a lost stream batch, a failed PutEvents), so no committed event is lost for good.
 *
 * Invariants:
 * - every event gets a fresh ULID eventId, kept in the published detail (detail.eventId) so that
 *   consumers can de-duplicate redeliveries (delivery is at least once, never at most once)
 * - an unpublished item carries the sparse pending index (gsi2 OUTBOXPENDING#<n> /
 *   <occurredAt>#<eventId>) and NO expiresAt: it never expires before it was published
 * - marking an item published (after PutEvents succeeded for it) sets publishedAt, removes the
 *   pending index and sets expiresAt = publishedAt + OUTBOX_TTL_DAYS (far beyond the sweeper window)
 * - the default source is EVENT_SOURCE ('backoffice')
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { EVENT_SOURCE } from '#functions/manifest.ts';
import { ddb } from '#shared/clients.ts';
import { queryPages } from '#store/pagination.ts';
import { epochSeconds, newItem, tableName } from './items.ts';
import { OUTBOX_PENDING_SHARDS, outboxKeys } from './keys.ts';

/** Kept this long after publication (for support and replay), then removed by TTL. */
export const OUTBOX_TTL_DAYS = 7;

export interface OutboxEvent {
  detailType: string;
  detail: Record<string, unknown>;
  /** Defaults to EVENT_SOURCE. */
  source?: string;
}

export interface OutboxItem {
  pk: string;
  sk: string;
  type: 'outbox';
  eventId: string;
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  occurredAt: string;
  /** Set once PutEvents accepted the event (relay or sweeper). */
  publishedAt?: string;
  /** TTL: set only together with publishedAt. */
  expiresAt?: number;
  /** Sparse pending index: present only while unpublished. */
  gsi2pk?: string;
  gsi2sk?: string;
  version: number;
}

export function outboxItem(e: OutboxEvent, now: Date, eventId: string = ulid(now.getTime())) {
  const at = now.toISOString();
  return newItem(
    {
      ...outboxKeys.key(eventId),
      type: outboxKeys.type,
      eventId,
      source: e.source ?? EVENT_SOURCE,
      detailType: e.detailType,
      detail: e.detail,
      occurredAt: at,
      ...outboxKeys.pendingIndex(eventId, at),
    },
    at,
  );
}

/**
 * Marks one outbox item published: publishedAt (the first one is kept), expiresAt, and the pending
 * index removed. Returns false when the item no longer exists (nothing is created).
 */
export async function markPublished(eventId: string, now: Date = new Date()): Promise<boolean> {
  const at = now.toISOString();
  try {
    await ddb().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: outboxKeys.key(eventId),
        UpdateExpression: 'SET #pub = if_not_exists(#pub, :at), #exp = :exp, #upd = :at, #v = #v + :one REMOVE #g2pk, #g2sk',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: {
          '#pub': 'publishedAt',
          '#exp': 'expiresAt',
          '#upd': 'updatedAt',
          '#v': 'version',
          '#g2pk': 'gsi2pk',
          '#g2sk': 'gsi2sk',
        },
        ExpressionAttributeValues: { ':at': at, ':exp': epochSeconds(now) + OUTBOX_TTL_DAYS * 86_400, ':one': 1 },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/**
 * Outbox items still unpublished whose occurredAt is before `before`, oldest first per shard, one
 * page (up to `pageSize`) at a time. The index is eventually consistent: callers re-read the items
 * (`stillPending`) before acting on them.
 */
export async function* pendingOutboxItems(before: Date, pageSize = 100): AsyncGenerator<OutboxItem[]> {
  const cutoff = before.toISOString();
  for (let shard = 0; shard < OUTBOX_PENDING_SHARDS; shard++) {
    const pages = queryPages<OutboxItem>({
      IndexName: 'gsi2',
      // gsi2sk = <occurredAt>#<eventId>: anything below the bare cutoff timestamp occurred before it.
      KeyConditionExpression: 'gsi2pk = :p AND gsi2sk < :c',
      ExpressionAttributeValues: { ':p': outboxKeys.pendingPartition(shard), ':c': cutoff },
      Limit: pageSize,
    });
    for await (const page of pages) {
      const items = page.filter((i) => i.type === outboxKeys.type);
      if (items.length > 0) yield items;
    }
  }
}

/** Consistent re-read of outbox items (up to 100): those that exist and are still unpublished. */
export async function stillPending(eventIds: readonly string[]): Promise<OutboxItem[]> {
  if (eventIds.length === 0) return [];
  if (eventIds.length > 100) throw new Error('stillPending: at most 100 ids per call');
  const table = tableName();
  let keys: Record<string, unknown>[] | undefined = eventIds.map((id) => ({ ...outboxKeys.key(id) }));
  const found: OutboxItem[] = [];
  for (let attempt = 0; keys && keys.length > 0; attempt++) {
    if (attempt >= 5) throw new Error('stillPending: unprocessed keys after 5 attempts');
    const res = await ddb().send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }));
    found.push(...((res.Responses?.[table] ?? []) as OutboxItem[]));
    keys = res.UnprocessedKeys?.[table]?.Keys as Record<string, unknown>[] | undefined;
    if (keys && keys.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
  }
  return found.filter((i) => i.type === outboxKeys.type && !i.publishedAt);
}
