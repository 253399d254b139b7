/**
 * DynamoDB Local as local/dynamodb.ts starts it: it listens on 127.0.0.1 only (every listening socket of the
 * Java process; the jar alone listens on every interface). ensureTable: a new table gets every index of the
 * shared definition; a table from an older version (a data folder kept across upgrades) gets the indexes it
 * lacks added, and keeps its items.
 * Runs on its own DynamoDB Local, as `npm start` has one: on the run's shared instance, holding every
 * test file's tables, building an index took over a minute in CI.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoLocal, ensureTable, localClient, startDynamoLocal, tableDefinition } from '#local/dynamodb.ts';
import { GSIS } from '#store/table.ts';
import { canInspectSockets, isLoopback, listeningSockets, socketInodesOf } from '../support/sockets.ts';

let db: DynamoLocal;
let client: DynamoDBClient;
beforeAll(async () => {
  db = await startDynamoLocal();
  client = localClient(db.endpoint);
}, 60_000);
afterAll(async () => {
  client.destroy();
  await db.stop();
});
const name = () => `ensure-${randomBytes(4).toString('hex')}`;
const indexes = async (table: string) =>
  ((await client.send(new DescribeTableCommand({ TableName: table }))).Table?.GlobalSecondaryIndexes ?? [])
    .map((g) => g.IndexName)
    .sort();

describe.skipIf(!canInspectSockets)('DynamoDB Local listeners', () => {
  it('listens on 127.0.0.1 only: every listening socket of the Java process, its port included', () => {
    expect(db.endpoint).toBe(`http://127.0.0.1:${db.port}`);
    const inodes = socketInodesOf(db.pid!);
    const mine = listeningSockets().filter((s) => inodes.has(s.inode));
    expect(mine.map((s) => s.port)).toContain(db.port);
    expect(mine.filter((s) => !isLoopback(s))).toEqual([]);
    expect(listeningSockets().filter((s) => s.port === db.port && !isLoopback(s))).toEqual([]);
  });
});

describe('ensureTable', () => {
  it('creates a table with every shared index, and is a no-op the second time', async () => {
    const table = name();
    expect(await ensureTable(client, table)).toBe(true);
    expect(await indexes(table)).toEqual(GSIS.map((g) => g.name).sort());
    expect(await ensureTable(client, table)).toBe(false);
  });

  it('adds the indexes an older table lacks, keeping its items', async () => {
    const table = name();
    const full = tableDefinition(table);
    const old = full.GlobalSecondaryIndexes!.filter((g) => g.IndexName === 'gsi1');
    await client.send(
      new CreateTableCommand({
        ...full,
        GlobalSecondaryIndexes: old,
        AttributeDefinitions: full.AttributeDefinitions!.filter((a) => !/^gsi[23]/.test(a.AttributeName!)),
      }),
    );
    await client.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: 'A' }, sk: { S: 'B' }, gsi3pk: { S: 'Q' }, gsi3sk: { S: '1' } } }),
    );
    expect(await indexes(table)).toEqual(['gsi1']);
    expect(await ensureTable(client, table)).toBe(false);
    expect(await indexes(table)).toEqual(GSIS.map((g) => g.name).sort());
    const kept = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'A' }, sk: { S: 'B' } } }));
    expect(kept.Item?.gsi3pk?.S).toBe('Q');
  });
});
