/**
 * Outbox relay: table stream (INSERTs of type 'outbox', filtered by the event source mapping) ->
 * EventBridge (env.eventBusName), then marks each published outbox item (functions/store/outbox.ts).
 *
 * Delivery contract: AT LEAST ONCE. An event may be published more than once (a retried batch, a
 * mark that failed, the outbox-sweeper republishing an item whose stream delivery was lost);
 * consumers de-duplicate by detail.eventId, which is the outbox eventId and never changes.
 *
 * Invariants:
 * - an event is published only for an outbox item that exists, i.e. for a committed transaction
 * - every published event keeps its outbox eventId in detail.eventId
 * - PutEvents is called in chunks of MAX_ENTRIES (10); each failed entry (or a failed call) reports
 *   its record's SequenceNumber in batchItemFailures, and the stream resumes from the lowest one
 * - an item is marked published (publishedAt set, pending index removed, TTL set) only AFTER
 *   PutEvents accepted its entry; an item whose entry failed stays pending, so even when the stream
 *   gives up on it (retries exhausted, 24 h record age) the outbox-sweeper job republishes it
 * - a failed mark does not fail the record (the event is out; failing would only block the shard):
 *   it is logged and the sweeper republishes and marks the item later (a duplicate, by contract)
 * - records that are not outbox INSERTs are skipped (acknowledged)
 *
 * Powertools' processPartialResponse handles one record at a time; chunking into PutEvents of 10
 * needs the whole batch, so this handler builds the partial-batch response itself (same shape).
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { events } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';
import { markPublished, type OutboxItem } from '#store/outbox.ts';

export const MAX_ENTRIES = 10;

export function outboxItemOf(record: DynamoDBRecord): OutboxItem | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>) as OutboxItem;
  return item.type === 'outbox' ? item : undefined;
}

export function toEntry(item: OutboxItem, busName: string): PutEventsRequestEntry {
  return {
    EventBusName: busName,
    Source: item.source,
    DetailType: item.detailType,
    Detail: JSON.stringify({ ...item.detail, eventId: item.eventId }),
    Time: new Date(item.occurredAt),
  };
}

export interface PublishResult<T> {
  /** Accepted by EventBridge (and marked published, unless listed in `unmarked`). */
  published: T[];
  /** Rejected by EventBridge (entry error or failed call): still pending. */
  failed: T[];
  /** Published but not marked (the sweeper will republish them). */
  unmarked: T[];
}

/**
 * Publishes outbox items in chunks of MAX_ENTRIES and marks each accepted one published. Used by the
 * relay (stream records) and the outbox-sweeper job (pending items); never throws for a failed entry
 * or call, it reports them.
 */
export async function publishAndMark<T extends { item: OutboxItem }>(
  pending: readonly T[],
  busName: string,
  now: () => Date = () => new Date(),
): Promise<PublishResult<T>> {
  const out: PublishResult<T> = { published: [], failed: [], unmarked: [] };
  for (let i = 0; i < pending.length; i += MAX_ENTRIES) {
    const chunk = pending.slice(i, i + MAX_ENTRIES);
    const accepted: T[] = [];
    try {
      const res = await events().send(new PutEventsCommand({ Entries: chunk.map((p) => toEntry(p.item, busName)) }));
      chunk.forEach((p, j) => {
        const entry = res.Entries?.[j];
        if (!entry || entry.ErrorCode) {
          logger.warn('event not published', { eventId: p.item.eventId, errorCode: entry?.ErrorCode ?? 'missing_entry' });
          out.failed.push(p);
        } else accepted.push(p);
      });
    } catch (err) {
      logger.error('PutEvents failed', { error: (err as Error).name, events: chunk.length });
      out.failed.push(...chunk);
      continue;
    }
    const marks = await Promise.allSettled(accepted.map((p) => markPublished(p.item.eventId, now())));
    marks.forEach((m, j) => {
      const p = accepted[j]!;
      out.published.push(p);
      if (m.status === 'rejected') {
        logger.warn('event published but not marked; the outbox sweeper will republish it', {
          eventId: p.item.eventId,
          error: (m.reason as Error)?.name,
        });
        out.unmarked.push(p);
      }
    });
  }
  return out;
}

export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const pending = event.Records.flatMap((record) => {
    const item = outboxItemOf(record);
    return item ? [{ record, item }] : [];
  });
  const res = await publishAndMark(pending, env.eventBusName);
  logger.info('outbox relayed', {
    records: event.Records.length,
    published: res.published.length,
    failed: res.failed.length,
    unmarked: res.unmarked.length,
  });
  return { batchItemFailures: res.failed.map((p) => ({ itemIdentifier: p.record.dynamodb!.SequenceNumber! })) };
}
