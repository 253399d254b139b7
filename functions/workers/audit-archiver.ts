/**
 * Audit archiver: table stream (INSERTs of type 'audit') -> the Object Lock audit bucket, through the
 * use case functions/app/platform/archive-audit-item.ts (key layout, integrity headers and invariants:
 * functions/store/audit-archive.ts). A failed record is reported in batchItemFailures (Powertools batch
 * processing); records that are not INSERTs are skipped.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { archiveAuditItem } from '#app/platform/archive-audit-item.ts';
import { instrumented } from '#shared/handler.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

async function recordHandler(record: DynamoDBRecord): Promise<void> {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>);
  await archiveAuditItem(item, {
    requestId: record.dynamodb.SequenceNumber ?? record.eventID ?? 'stream',
    locale: tenantConfig().defaultLocale,
  });
}

export const handler = instrumented(handle);

async function handle(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  const res = await processPartialResponse(event, recordHandler, processor, { context });
  logger.info('audit archived', { records: event.Records.length, failed: res.batchItemFailures.length });
  return res;
}
