/**
 * Outbox relay: table stream (INSERTs of type 'outbox', filtered by the event source mapping) ->
 * EventBridge (env.eventBusName), then marks each published outbox item (functions/store/outbox.ts), through
 * functions/app/platform/publish-outbox-events.ts (shared with the outbox sweeper).
 *
 * Delivery contract: AT LEAST ONCE. An event may be published more than once (a retried batch, a
 * mark that failed, the outbox-sweeper republishing an item whose stream delivery was lost);
 * consumers de-duplicate by detail.eventId, which is the outbox eventId and never changes.
 *
 * Invariants:
 * - an event is published only for an outbox item that exists, i.e. for a committed transaction
 * - every published event keeps its outbox eventId in detail.eventId, and its catalogue version
 *   (domain/events) in detail.eventVersion (1 for items written before versions were recorded)
 * - PutEvents is called in chunks of MAX_ENTRIES (10); each failed entry (or a failed call) reports
 *   its record's SequenceNumber in batchItemFailures, and the stream resumes from the lowest one
 * - an item is marked published (publishedAt set, pending index removed, TTL set) only AFTER
 *   PutEvents accepted its entry; an item whose entry failed stays pending, so even when the stream
 *   gives up on it (retries exhausted, 24 h record age) the outbox-sweeper job republishes it
 * - a failed mark does not fail the record (the event is out; failing would only block the shard):
 *   it is logged and the sweeper republishes and marks the item later (a duplicate, by contract)
 * - records that are not outbox INSERTs are skipped (acknowledged)
 * - every outbox image is parsed against the outbox entity before it is published; one that does not parse (a
 *   bug or a hand-written item) is skipped, logged as an error (its sequence number and the attribute paths,
 *   no values) and counted (metric OutboxMalformed): failing it would block the shard behind it for 24 hours.
 *   It stays pending, and the outbox sweeper, which parses what it reads, fails on it loudly
 *
 * Powertools' processPartialResponse handles one record at a time; chunking into PutEvents of 10
 * needs the whole batch, so this handler builds the partial-batch response itself (same shape).
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type OutboxItem, parseOutboxItem, publishAndMark } from '#app/platform/publish-outbox-events.ts';
import { env } from '#shared/env.ts';
import { instrumented } from '#shared/handler.ts';
import { logger, metrics } from '#shared/powertools.ts';

/** The outbox item of an INSERT record, undefined for any other record; throws StoredItemError when malformed. */
export function outboxItemOf(record: DynamoDBRecord): OutboxItem | undefined {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return undefined;
  const raw = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  return raw.type === 'outbox' ? parseOutboxItem(raw) : undefined;
}

export const handler = instrumented(handle);

async function handle(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const pending = event.Records.flatMap((record) => {
    try {
      const item = outboxItemOf(record);
      return item ? [{ record, item }] : [];
    } catch (err) {
      logger.error('malformed outbox item skipped; it stays pending and the outbox sweeper will fail on it', {
        sequenceNumber: record.dynamodb?.SequenceNumber,
        error: (err as Error).message,
      });
      metrics.addMetric('OutboxMalformed', MetricUnit.Count, 1);
      return [];
    }
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
