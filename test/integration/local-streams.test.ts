import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AttributeValue, DeleteItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionSpec } from '#functions/manifest.ts';
import { startStreamRelay } from '#local/aws/streams.ts';
import { localClient } from '#local/dynamodb.ts';
import { createTestTable } from '../support/dynamodb.ts';

const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;

const consumers: FunctionSpec[] = [
  {
    name: 'outbox-relay',
    context: 'platform',
    entry: 'functions/workers/outbox-relay.ts',
    description: '',
    stream: 'outbox',
    permissions: [],
  },
  {
    name: 'audit-archiver',
    context: 'platform',
    entry: 'functions/workers/audit-archiver.ts',
    description: '',
    stream: 'audit',
    permissions: [],
  },
  { name: 'api-me', context: 'identity', entry: 'functions/api/me.ts', description: '', permissions: [] },
];

describe.skipIf(!endpoint)('DynamoDB stream relay (DynamoDB Local)', () => {
  let table: string;
  let dir: string;
  const client = localClient(endpoint ?? 'http://127.0.0.1:1');

  const put = (pk: string, type: string) =>
    client.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: pk }, sk: { S: 'item' }, type: { S: type }, n: { N: '1' }, blob: { B: Buffer.from('hi') } },
      }),
    );

  beforeAll(async () => {
    table = await createTestTable('streams');
    dir = mkdtempSync(path.join(tmpdir(), 'streams-'));
  });
  afterAll(() => {
    client.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('delivers filtered INSERTs in order, honours partial failures and throws, and resumes from its checkpoint', async () => {
    const seen: Record<string, DynamoDBRecord[]> = {};
    let outboxFailed = false;
    let auditThrew = false;
    const invoke = async (fn: string, event: unknown) => {
      const records = (event as DynamoDBStreamEvent).Records;
      seen[fn] = [...(seen[fn] ?? []), ...records];
      if (fn === 'outbox-relay' && !outboxFailed) {
        const second = records.find((r) => r.dynamodb?.Keys?.pk?.S === 'o2');
        if (second) {
          outboxFailed = true;
          return { batchItemFailures: [{ itemIdentifier: second.dynamodb!.SequenceNumber! }] };
        }
      }
      if (fn === 'audit-archiver' && !auditThrew) {
        auditThrew = true;
        throw new Error('bucket unavailable');
      }
      return { batchItemFailures: [] };
    };
    const checkpointFile = path.join(dir, 'checkpoints.json');
    const options = { endpoint: endpoint!, tableName: table, functions: consumers, invoke, checkpointFile, pollIntervalMs: 20 };

    await put('o1', 'outbox');
    await put('c1', 'client');
    await put('o2', 'outbox');
    await put('a1', 'audit');
    await put('o3', 'outbox');
    await client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: 'o1' }, sk: { S: 'item' } },
        UpdateExpression: 'SET n = :n',
        ExpressionAttributeValues: { ':n': { N: '2' } },
      }),
    );
    await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'o2' }, sk: { S: 'item' } } }));
    // Started after the writes: TRIM_HORIZON reads them all, as one batch per consumer.
    const relay = await startStreamRelay({
      ...options,
      startingPosition: 'TRIM_HORIZON',
      retryBackoffMs: 10,
      log: () => undefined,
    });
    await relay.drain();

    const keys = (fn: string) => (seen[fn] ?? []).map((r) => r.dynamodb?.Keys?.pk?.S);
    // o2 failed: processing resumed at o2, so o2 and o3 came again; MODIFY/REMOVE and other types were filtered out.
    expect(keys('outbox-relay')).toEqual(['o1', 'o2', 'o3', 'o2', 'o3']);
    expect(keys('audit-archiver')).toEqual(['a1', 'a1']);
    expect(seen['api-me']).toBeUndefined();

    const record = seen['outbox-relay']![0]!;
    expect(record).toMatchObject({ eventName: 'INSERT', eventSource: 'aws:dynamodb' });
    expect(record.eventSourceARN).toMatch(/^arn:aws:dynamodb:.*:table\/streams-.*\/stream\//);
    expect(record.dynamodb?.NewImage).toMatchObject({ type: { S: 'outbox' }, n: { N: '1' }, blob: { B: 'aGk=' } });
    expect(typeof record.dynamodb?.ApproximateCreationDateTime).toBe('number');
    expect(record.dynamodb?.SequenceNumber).toBeTruthy();
    await relay.stop();

    // Written while the relay is down: a restart from the checkpoint delivers it once and nothing older.
    await put('o4', 'outbox');
    for (const k of Object.keys(seen)) delete seen[k];
    const restarted = await startStreamRelay({ ...options, startingPosition: 'LATEST', log: () => undefined });
    await restarted.drain();
    await restarted.stop();
    expect(keys('outbox-relay')).toEqual(['o4']);
    expect(keys('audit-archiver')).toEqual([]);
  });
  it('hands empty maps to handlers as { M: {} }, as Lambda does, so they unmarshall', async () => {
    const emptyTable = await createTestTable('streams-empty');
    const got: DynamoDBRecord[] = [];
    const relay = await startStreamRelay({
      endpoint: endpoint!,
      tableName: emptyTable,
      functions: consumers,
      startingPosition: 'TRIM_HORIZON',
      pollIntervalMs: 20,
      invoke: async (_fn, event) => {
        got.push(...(event as DynamoDBStreamEvent).Records);
        return { batchItemFailures: [] };
      },
    });
    await client.send(
      new PutItemCommand({
        TableName: emptyTable,
        Item: { pk: { S: 'e1' }, sk: { S: 'x' }, type: { S: 'audit' }, meta: { M: {} }, nested: { M: { inner: { M: {} } } } },
      }),
    );
    await relay.drain();
    await relay.stop();
    const image = got[0]?.dynamodb?.NewImage as Record<string, AttributeValue>;
    expect(image.meta).toEqual({ M: {} });
    expect(unmarshall(image)).toMatchObject({ pk: 'e1', meta: {}, nested: { inner: {} } });
  });
});
