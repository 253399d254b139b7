/**
 * Outbox items: a domain event written in the same transaction as the state change it announces.
 * The outbox relay (functions/workers/outbox-relay.ts) publishes INSERTed outbox items from the
 * table stream to EventBridge; nothing is published for a write that did not commit. The
 * outbox-sweeper job (functions/jobs/outbox-sweeper.ts) republishes any item the relay did not
 * mark published (a lost stream batch, a failed PutEvents), so no committed event is lost for good.
 *
 * Invariants:
 * - declared once as an entity (outboxEntity): the sparse pending index is computed from publishedAt on every
 *   write the entity builds, and markPublished REMOVEs exactly its attributes (PENDING_INDEX_ATTRIBUTES);
 *   every item read (sweeper queries, re-reads, stream images through parseOutboxItem) is parsed
 * - every event gets a fresh ULID eventId, kept in the published detail (detail.eventId) so that
 *   consumers can de-duplicate redeliveries (delivery is at least once, never at most once)
 * - an unpublished item carries the sparse pending index (gsi2 OUTBOXPENDING#<n> /
 *   <occurredAt>#<eventId>) and NO expiresAt: it never expires before it was published
 * - marking an item published (after PutEvents succeeded for it) sets publishedAt, removes the
 *   pending index and sets expiresAt = publishedAt + OUTBOX_TTL_DAYS (far beyond the sweeper window)
 * - the default source is EVENT_SOURCE ('backoffice')
 * - an event is one of the catalogue (domain/events): OutboxEvent is the catalogue's discriminated union, so a
 *   detail-type or a detail field the catalogue does not know does not compile; at run time an uncatalogued
 *   detail-type (only reachable through a cast) is refused (EventContractError unknown_event_type) and nothing
 *   is committed. The detail itself is not re-validated here (a contract slip must not block a business
 *   change): consumers parse it (parseEvent)
 * - every item records the catalogue version it was written under (eventVersion), published as
 *   detail.eventVersion by the relay; the stored detail is the producer's, unchanged
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import * as z from 'zod';
import { type DomainEvent, eventDefinition } from '#domain/events/index.ts';
import { EVENT_SOURCE } from '#functions/manifest.ts';
import { ddb } from '#shared/clients.ts';
import { queryPages } from '#store/pagination.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { epochSeconds, tableName } from './items.ts';
import { OUTBOX_PENDING_SHARDS, outboxKeys } from './keys.ts';

/** Kept this long after publication (for support and replay), then removed by TTL. */
export const OUTBOX_TTL_DAYS = 7;

/**
 * An event for commit()'s outbox: `{ detailType: 'kyc.expired', detail: { clientId, identityExpiresOn } }` or
 * `event('kyc.expired', {...})` (domain/events). `source` defaults to EVENT_SOURCE.
 */
export type OutboxEvent = DomainEvent & { source?: string };

const outboxSchema = z.object({
  eventId: z.string().min(1),
  source: z.string().min(1),
  /** A catalogue detail-type (checked when written: eventDefinition); read as a string, published as is. */
  detailType: z.string().min(1),
  /** The producer's detail, unchanged (consumers parse it: parseEvent). */
  detail: z.record(z.string(), z.unknown()),
  /** The catalogue version of detailType when written (absent on items written before versions were recorded: 1). */
  eventVersion: z.number().int().min(1).optional(),
  occurredAt: z.string().min(1),
  /** Set once PutEvents accepted the event (relay or sweeper). */
  publishedAt: z.string().optional(),
  /** TTL: set only together with publishedAt. */
  expiresAt: z.number().int().optional(),
});

/** The sparse pending index (gsi2) of an unpublished item: present until publishedAt is set. */
const pendingIndex = (o: { eventId: string; occurredAt: string; publishedAt?: string | undefined }) =>
  o.publishedAt ? {} : outboxKeys.pendingIndex(o.eventId, o.occurredAt);

export const outboxEntity = defineEntity({
  type: outboxKeys.type,
  schema: outboxSchema,
  key: (o) => outboxKeys.key(o.eventId),
  indexes: pendingIndex,
});

export type OutboxItem = ItemOf<typeof outboxEntity>;

/** The attributes of the pending index (removed by markPublished, which updates without reading the item). */
export const PENDING_INDEX_ATTRIBUTES = Object.keys(outboxKeys.pendingIndex('', ''));

/** The outbox item of one event (commit() writes it in the change's transaction). */
export function outboxItem(e: OutboxEvent, now: Date, eventId: string = ulid(now.getTime())): OutboxItem {
  const { version } = eventDefinition(e.detailType);
  const at = now.toISOString();
  return outboxEntity.item(
    {
      eventId,
      source: e.source ?? EVENT_SOURCE,
      detailType: e.detailType,
      detail: e.detail,
      eventVersion: version,
      occurredAt: at,
    },
    at,
  );
}

/** A raw item (e.g. a stream record's NewImage) as an outbox item, or StoredItemError. */
export const parseOutboxItem = (raw: unknown): OutboxItem => outboxEntity.parse(raw);

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
        UpdateExpression: `SET #pub = if_not_exists(#pub, :at), #exp = :exp, #upd = :at, #v = #v + :one REMOVE ${PENDING_INDEX_ATTRIBUTES.map((_, i) => `#idx${i}`).join(', ')}`,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: {
          '#pub': 'publishedAt',
          '#exp': 'expiresAt',
          '#upd': 'updatedAt',
          '#v': 'version',
          ...Object.fromEntries(PENDING_INDEX_ATTRIBUTES.map((attr, i) => [`#idx${i}`, attr])),
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
    const pages = queryPages<Record<string, unknown>>({
      IndexName: 'gsi2',
      // gsi2sk = <occurredAt>#<eventId>: anything below the bare cutoff timestamp occurred before it.
      KeyConditionExpression: 'gsi2pk = :p AND gsi2sk < :c',
      ExpressionAttributeValues: { ':p': outboxKeys.pendingPartition(shard), ':c': cutoff },
      Limit: pageSize,
    });
    for await (const page of pages) {
      const items = page.filter(outboxEntity.is).map(outboxEntity.parse);
      if (items.length > 0) yield items;
    }
  }
}

/** Consistent re-read of outbox items (up to 100): those that exist and are still unpublished. */
export async function stillPending(eventIds: readonly string[]): Promise<OutboxItem[]> {
  if (eventIds.length === 0) return [];
  if (eventIds.length > 100) throw new Error('stillPending: at most 100 ids per call');
  const found = await outboxEntity.getMany(eventIds.map((id) => outboxKeys.key(id)));
  return found.filter((i) => !i.publishedAt);
}
