/**
 * Audit archiver: table stream (INSERTs of type 'audit') -> the Object Lock audit bucket, through
 * functions/store/audit-archive.ts (key layout, integrity headers and invariants are stated there).
 * A failed record is reported in batchItemFailures (Powertools batch processing).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { logger } from '#shared/powertools.ts';
import type { AuditItem } from '#store/audit.ts';
import { archiveAuditItem } from '#store/audit-archive.ts';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

async function recordHandler(record: DynamoDBRecord): Promise<void> {
  if (record.eventName !== 'INSERT' || !record.dynamodb?.NewImage) return;
  const item = unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>) as AuditItem;
  if (item.type !== 'audit') return;
  await archiveAuditItem(item);
}

export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  const res = await processPartialResponse(event, recordHandler, processor, { context });
  logger.info('audit archived', { records: event.Records.length, failed: res.batchItemFailures.length });
  return res;
}
