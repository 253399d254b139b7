/**
 * Idempotent POSTs against an in-memory DynamoDB (aws-sdk-client-mock on the DocumentClient) that
 * honours the store's conditional put, consistent get, SET update and delete.
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';
import { useDemoTenant } from '../support/tenant.ts';

type Item = Record<string, unknown>;
const table = new Map<string, Item>();
const keyOf = (k: Item) => `${k.pk}|${k.sk}`;
const ddbMock = mockClient(DynamoDBDocumentClient);

function installFakeTable() {
  ddbMock.reset();
  ddbMock.on(PutCommand).callsFake((input: { Item: Item; ExpressionAttributeValues: Record<string, number | string> }) => {
    const existing = table.get(keyOf(input.Item));
    const v = input.ExpressionAttributeValues;
    const allowed =
      !existing ||
      (existing.expiresAt as number) < (v[':now'] as number) ||
      (existing.idemStatus === v[':inProgress'] && (existing.idemInProgressExpiresAt as number) < (v[':nowMs'] as number));
    if (!allowed) throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    table.set(keyOf(input.Item), structuredClone(input.Item));
    return {};
  });
  ddbMock.on(GetCommand).callsFake((input: { Key: Item; ConsistentRead?: boolean }) => {
    expect(input.ConsistentRead).toBe(true);
    const item = table.get(keyOf(input.Key));
    return item ? { Item: structuredClone(item) } : {};
  });
  ddbMock
    .on(UpdateCommand)
    .callsFake(
      (input: {
        Key: Item;
        UpdateExpression: string;
        ExpressionAttributeNames: Record<string, string>;
        ExpressionAttributeValues: Item;
      }) => {
        const item = table.get(keyOf(input.Key)) ?? { ...input.Key };
        const name = (t: string) => input.ExpressionAttributeNames[t] ?? t;
        for (const assignment of input.UpdateExpression.replace(/^SET /, '').split(', ')) {
          const [lhs, rhs] = assignment.split(' = ') as [string, string];
          const sum = rhs.match(/^(#\w+) \+ (:\w+)$/);
          item[name(lhs)] = sum
            ? (item[name(sum[1]!)] as number) + (input.ExpressionAttributeValues[sum[2]!] as number)
            : structuredClone(input.ExpressionAttributeValues[rhs]);
        }
        table.set(keyOf(input.Key), item);
        return {};
      },
    );
  ddbMock.on(DeleteCommand).callsFake((input: { Key: Item }) => {
    table.delete(keyOf(input.Key));
    return {};
  });
}

let runs = 0;
let failNext: 'throw' | 'status' | undefined;
let gate: Promise<void> | undefined;

const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/deposits',
    operationId: 'createDeposit',
    summary: 'Deposit',
    tags: ['test'],
    auth: ['client'],
    idempotency: 'required',
    body: z.strictObject({ amount: z.string(), currency: z.string() }),
    responses: { 201: { description: 'created' } },
    handler: async ({ body, idempotencyKey }) => {
      runs += 1;
      if (gate) await gate;
      if (failNext === 'throw') throw new DomainError('psp_unavailable', 'conflict', 'Try again');
      if (failNext === 'status') return { status: 409, body: { reason: 'busy' } };
      return {
        status: 201,
        body: { id: `dep-${runs}`, amount: BigInt(body.amount), key: idempotencyKey },
        headers: { location: `/v1/deposits/dep-${runs}` },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/notes',
    operationId: 'createNote',
    summary: 'Note',
    tags: ['test'],
    auth: 'authenticated',
    idempotency: 'optional',
    body: z.strictObject({ text: z.string() }),
    responses: { 201: { description: 'created' } },
    handler: async () => {
      runs += 1;
      return { status: 201, body: { n: runs } };
    },
  }),
];
const handler = httpHandler(...routes);
const client = claimsFor('client-1', ['client']);
const deposit = (key: string | undefined, body: unknown, claims = client) =>
  handler(
    apiEvent({
      method: 'POST',
      resource: '/v1/deposits',
      body,
      claims,
      headers: key === undefined ? {} : { 'Idempotency-Key': key },
    }),
    lambdaContext(),
  );

beforeAll(() => useDemoTenant());
afterAll(() => ddbMock.restore());
beforeEach(() => {
  table.clear();
  installFakeTable();
  runs = 0;
  failNext = undefined;
  gate = undefined;
});

describe('idempotency keys', () => {
  it("a 'required' route without the header is 400 idempotency_key_required", async () => {
    const res = await deposit(undefined, { amount: '100', currency: 'USD' });
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).code).toBe('idempotency_key_required');
    expect(runs).toBe(0);
  });
  it.each(['short', 'has space in it', 'x'.repeat(256), 'emoji-🙂-key'])(
    'a malformed key %j is 400 invalid_idempotency_key',
    async (key) => {
      const res = await deposit(key, { amount: '100', currency: 'USD' });
      expect(res.statusCode).toBe(400);
      expect(bodyOf(res).code).toBe('invalid_idempotency_key');
    },
  );
});

describe('replay', () => {
  it('same key + same body replays the original status, body and headers without running again', async () => {
    const first = await deposit('key-0001', { amount: '100', currency: 'USD' });
    expect(first.statusCode).toBe(201);
    expect(first.headers?.['idempotent-replayed']).toBeUndefined();
    const second = await deposit('key-0001', { currency: 'USD', amount: '100' });
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(bodyOf(second)).toEqual({ id: 'dep-1', amount: '100', key: 'key-0001' });
    expect(second.headers?.location).toBe('/v1/deposits/dep-1');
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect(second.headers?.['x-correlation-id']).toBeDefined();
    expect(runs).toBe(1);
  });
  it('the record lives on the single table under its own pk with TTL, type and tenant', async () => {
    await deposit('key-0002', { amount: '1', currency: 'USD' });
    const [item] = [...table.values()];
    expect(item).toMatchObject({ sk: 'IDEMPOTENCY', type: 'idempotency', tenant: 'demo', idemStatus: 'COMPLETED', version: 2 });
    expect(item!.pk).toMatch(/^IDEMPOTENCY#http#[A-Za-z0-9+/]{43}=$/);
    expect(item!.expiresAt).toBeGreaterThan(Date.now() / 1000 + 23 * 3600);
    expect(item!.idemResponse).toMatchObject({ status: 201, body: { amount: '1' } });
  });
  it('same key + different body is 422 idempotency_key_reused', async () => {
    await deposit('key-0003', { amount: '100', currency: 'USD' });
    const res = await deposit('key-0003', { amount: '999', currency: 'USD' });
    expect(res.statusCode).toBe(422);
    expect(bodyOf(res).code).toBe('idempotency_key_reused');
    expect(runs).toBe(1);
  });
  it('keys are scoped per caller: another caller with the same key runs anew', async () => {
    await deposit('key-0004', { amount: '100', currency: 'USD' });
    const other = await deposit('key-0004', { amount: '100', currency: 'USD' }, claimsFor('client-2', ['client']));
    expect(other.headers?.['idempotent-replayed']).toBeUndefined();
    expect(runs).toBe(2);
  });
  it('a concurrent request with the same key while the first runs is 409 idempotency_in_progress', async () => {
    let release!: () => void;
    gate = new Promise((r) => {
      release = r;
    });
    const first = deposit('key-0005', { amount: '100', currency: 'USD' });
    await new Promise((r) => setTimeout(r, 20));
    const second = await deposit('key-0005', { amount: '100', currency: 'USD' });
    expect(second.statusCode).toBe(409);
    expect(bodyOf(second).code).toBe('idempotency_in_progress');
    release();
    expect((await first).statusCode).toBe(201);
  });
});

describe('errors are not cached', () => {
  it('a thrown DomainError deletes the record, so a retry with the same key runs again', async () => {
    failNext = 'throw';
    const failed = await deposit('key-0006', { amount: '100', currency: 'USD' });
    expect(failed.statusCode).toBe(409);
    expect(bodyOf(failed).code).toBe('psp_unavailable');
    expect(table.size).toBe(0);
    failNext = undefined;
    const retry = await deposit('key-0006', { amount: '100', currency: 'USD' });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers?.['idempotent-replayed']).toBeUndefined();
    expect(runs).toBe(2);
  });
  it('a non-2xx result is returned but not stored', async () => {
    failNext = 'status';
    const res = await deposit('key-0007', { amount: '100', currency: 'USD' });
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res)).toEqual({ reason: 'busy' });
    expect(table.size).toBe(0);
  });
  it('validation failures never create a record', async () => {
    const res = await deposit('key-0008', { amount: '100' });
    expect(res.statusCode).toBe(400);
    expect(table.size).toBe(0);
  });
});

describe("'optional' routes", () => {
  it('without the header run every time; with it they replay', async () => {
    const note = (key?: string) =>
      handler(
        apiEvent({
          method: 'POST',
          resource: '/v1/notes',
          body: { text: 'hi' },
          claims: client,
          headers: key ? { 'idempotency-key': key } : {},
        }),
        lambdaContext(),
      );
    await note();
    await note();
    expect(runs).toBe(2);
    expect(table.size).toBe(0);
    const a = await note('note-key-1');
    const b = await note('note-key-1');
    expect(bodyOf(a)).toEqual(bodyOf(b));
    expect(b.headers?.['idempotent-replayed']).toBe('true');
    expect(runs).toBe(3);
  });
});
