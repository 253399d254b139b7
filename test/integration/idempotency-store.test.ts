/**
 * The HTTP idempotency store against DynamoDB Local: the real conditional expressions, not a fake.
 * Invariants: a key runs its handler at most once per (caller, route); a replay returns the stored
 * response; the same key on another body or another resource is refused; errors release the key.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { ddb } from '#shared/clients.ts';
import { useTestTable } from '../support/dynamodb.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';
import { useDemoTenant } from '../support/tenant.ts';

let runs = 0;
let failNext = false;
const handler = httpHandler(
  defineRoute({
    method: 'POST',
    path: '/v1/things/{thingId}/actions',
    operationId: 'actOnThing',
    summary: 'test route',
    tags: ['test'],
    auth: ['client'],
    idempotency: 'required',
    params: z.strictObject({ thingId: z.string().max(40) }),
    body: z.strictObject({ amount: z.string().max(20) }),
    responses: { 201: { description: 'done' } },
    handler: async (req) => {
      runs++;
      await new Promise((r) => setTimeout(r, 50));
      if (failNext) {
        failNext = false;
        throw new DomainError('thing_busy', 'conflict', 'busy');
      }
      return { status: 201, body: { run: runs, thingId: req.params.thingId, amount: req.body.amount } };
    },
  }),
);

const call = (opts: { key: string; thingId?: string; amount?: string; sub?: string }) =>
  handler(
    apiEvent({
      method: 'POST',
      resource: '/v1/things/{thingId}/actions',
      pathParameters: { thingId: opts.thingId ?? 't1' },
      body: { amount: opts.amount ?? '10.00' },
      headers: { 'Idempotency-Key': opts.key },
      claims: claimsFor(opts.sub ?? 'client-a', ['client']),
    }),
    lambdaContext(),
  );

beforeAll(async () => {
  await useTestTable('idem');
  useDemoTenant();
});

describe('idempotency store on DynamoDB Local', () => {
  it('runs once per key and replays the stored response with the replay header', async () => {
    const first = await call({ key: 'key-replay-0001' });
    const second = await call({ key: 'key-replay-0001' });
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(bodyOf(second)).toEqual(bodyOf(first));
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    const stored = await ddb().send(
      new ScanCommand({
        TableName: process.env.TABLE_NAME!,
        FilterExpression: '#t = :t',
        ExpressionAttributeNames: { '#t': 'type' },
        ExpressionAttributeValues: { ':t': 'idempotency' },
      }),
    );
    expect(stored.Items?.length).toBeGreaterThanOrEqual(1);
    expect(stored.Items?.every((i) => typeof i.expiresAt === 'number' && i.tenant === 'demo')).toBe(true);
  });

  it('refuses the same key with another body, or on another resource of the same route', async () => {
    const before = runs;
    await call({ key: 'key-reuse-00001', thingId: 't1', amount: '10.00' });
    const otherBody = await call({ key: 'key-reuse-00001', thingId: 't1', amount: '99.00' });
    const otherThing = await call({ key: 'key-reuse-00001', thingId: 't2', amount: '10.00' });
    expect(otherBody.statusCode).toBe(422);
    expect(bodyOf(otherBody).code).toBe('idempotency_key_reused');
    expect(otherThing.statusCode).toBe(422);
    expect(bodyOf(otherThing).code).toBe('idempotency_key_reused');
    expect(runs - before).toBe(1);
  });

  it('keys are per caller: another client with the same key runs its own request', async () => {
    const a = await call({ key: 'key-percaller-1', sub: 'client-a' });
    const b = await call({ key: 'key-percaller-1', sub: 'client-b' });
    expect(bodyOf(a).run).not.toBe(bodyOf(b).run);
    expect(b.headers?.['idempotent-replayed']).toBeUndefined();
  });

  it('concurrent duplicates: one runs, the others get 409 in progress or the replay', async () => {
    const before = runs;
    const results = await Promise.all(Array.from({ length: 8 }, () => call({ key: 'key-concurrent-1' })));
    expect(runs - before).toBe(1);
    for (const r of results) expect([201, 409]).toContain(r.statusCode);
    expect(results.filter((r) => r.statusCode === 201 && !r.headers?.['idempotent-replayed'])).toHaveLength(1);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(bodyOf(r).code).toBe('idempotency_in_progress');
  });

  it('an error is not stored: the same key can be retried and then succeeds', async () => {
    failNext = true;
    const failed = await call({ key: 'key-retry-000001' });
    expect(failed.statusCode).toBe(409);
    expect(bodyOf(failed).code).toBe('thing_busy');
    const retried = await call({ key: 'key-retry-000001' });
    expect(retried.statusCode).toBe(201);
    expect(retried.headers?.['idempotent-replayed']).toBeUndefined();
  });
});
