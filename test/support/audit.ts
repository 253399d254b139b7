/** An entity's audit trail read straight from the test table (consistently), for integration tests. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '#shared/clients.ts';
import { tableName } from '#store/items.ts';
import { auditKeys } from '#store/keys.ts';

/** The audit items of one entity, oldest first (one page: enough for a test's trail). */
// biome-ignore lint/suspicious/noExplicitAny: audit items are asserted field by field
export async function auditTrail<T = any>(type: string, id: string): Promise<T[]> {
  const res = await ddb().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :seq)',
      ExpressionAttributeValues: { ':pk': auditKeys.partition(type, id), ':seq': auditKeys.seqPrefix },
      ConsistentRead: true,
    }),
  );
  return (res.Items ?? []) as T[];
}
