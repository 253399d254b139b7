/**
 * Test tables on the run's DynamoDB Local: each call creates a fresh, uniquely named table from the
 * shared definition (functions/store/table.ts), so test files never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { flushSecurityEvents } from '#app/platform/record-security-event.ts';
import { ensureTable, localClient } from '#local/dynamodb.ts';
import { ddb } from '#shared/clients.ts';

export async function createTestTable(prefix = 'test'): Promise<string> {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL_DYNAMODB is not set: is the global setup running?');
  const name = `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const client = localClient(endpoint);
  try {
    await ensureTable(client, name);
  } finally {
    client.destroy();
  }
  return name;
}

/** Creates a table and sets TABLE_NAME/TENANT for code under test. */
export async function useTestTable(prefix?: string): Promise<string> {
  const name = await createTestTable(prefix);
  process.env.TABLE_NAME = name;
  process.env.TENANT ??= 'demo';
  return name;
}

/**
 * Counts a table's items other than security events (and their per-client case counters): a refused request
 * writes nothing but those (functions/store/security-events.ts), which is what "writes nothing" tests assert.
 */
export async function countItemsBesidesSecurityEvents(table: string): Promise<number> {
  await flushSecurityEvents();
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const res = await ddb().send(
      new ScanCommand({
        TableName: table,
        Select: 'COUNT',
        ConsistentRead: true,
        FilterExpression: 'NOT (#t IN (:event, :caseCount))',
        ExpressionAttributeNames: { '#t': 'type' },
        ExpressionAttributeValues: { ':event': 'security-event', ':caseCount': 'security-case-count' },
        ExclusiveStartKey: start,
      }),
    );
    count += res.Count ?? 0;
    start = res.LastEvaluatedKey;
  } while (start);
  return count;
}
