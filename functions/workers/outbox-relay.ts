/**
 * Outbox relay: table stream (INSERTs of type 'outbox', filtered by the event source mapping) ->
 * EventBridge (env.eventBusName).
 *
 * Invariants:
 * - an event is published only for an outbox item that exists, i.e. for a committed transaction
 * - every published event keeps its outbox eventId in detail.eventId, so consumers de-duplicate
 *   (delivery is at least once: a retried batch may publish an event again)
 * - PutEvents is called in chunks of MAX_ENTRIES (10); each failed entry (or a failed call) reports
 *   its record's SequenceNumber in batchItemFailures, and the stream resumes from the lowest one
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
import type { OutboxItem } from '#store/outbox.ts';

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

export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const busName = env.eventBusName;
  const pending = event.Records.flatMap((record) => {
    const item = outboxItemOf(record);
    return item ? [{ record, item }] : [];
  });
  const failed: string[] = [];
  for (let i = 0; i < pending.length; i += MAX_ENTRIES) {
    const chunk = pending.slice(i, i + MAX_ENTRIES);
    try {
      const res = await events().send(new PutEventsCommand({ Entries: chunk.map((p) => toEntry(p.item, busName)) }));
      (res.Entries ?? []).forEach((entry, j) => {
        if (entry.ErrorCode) {
          logger.warn('event not published', { eventId: chunk[j]!.item.eventId, errorCode: entry.ErrorCode });
          failed.push(chunk[j]!.record.dynamodb!.SequenceNumber!);
        }
      });
    } catch (err) {
      logger.error('PutEvents failed', { error: (err as Error).name, events: chunk.length });
      for (const p of chunk) failed.push(p.record.dynamodb!.SequenceNumber!);
    }
  }
  logger.info('outbox relayed', {
    records: event.Records.length,
    published: pending.length - failed.length,
    failed: failed.length,
  });
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
