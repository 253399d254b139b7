/**
 * The audit primitive: a state change committed together with its hash-chained audit item
 * (read chain head + one TransactWriteItems of change, audit item and head), against a raw
 * two-item TransactWriteItems on the same DynamoDB Local in the same run.
 */
import { randomUUID } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '#shared/clients.ts';
import { commit, systemActor } from '#store/audit.ts';
import { measure, printComparison } from '../lib.ts';

export async function auditSuite(opts: { ops: number; concurrencies: number[] }) {
  const table = process.env.TABLE_NAME!;
  const rows = [];
  for (const concurrency of opts.concurrencies) {
    const baseline = await measure('raw TransactWrite(2)', { ops: opts.ops, concurrency }, async () => {
      const id = randomUUID();
      await ddb().send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: table,
                Item: { pk: `BENCH#${id}`, sk: 'A', v: 1 },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: table,
                Item: { pk: `BENCH#${id}`, sk: 'B', v: 1 },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    });
    const subject = await measure('audited commit', { ops: opts.ops, concurrency }, async () => {
      const id = randomUUID();
      const now = new Date().toISOString();
      await commit({
        writes: [
          {
            Put: {
              Item: {
                pk: `BENCHENTITY#${id}`,
                sk: 'STATE',
                type: 'bench',
                tenant: 'bench',
                createdAt: now,
                updatedAt: now,
                version: 1,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
        audit: {
          actor: systemActor('bench'),
          action: 'bench.created',
          entity: { type: 'bench', id },
          before: null,
          after: { id },
          requestId: 'bench',
        },
      });
    });
    rows.push({ subject, baseline });
  }
  console.log('\n## audit: state change + hash-chained audit item in one transaction');
  printComparison(rows);
  return rows;
}
