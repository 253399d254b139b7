/**
 * defineEntity on DynamoDB Local, through commit(): a sparse index that no longer applies is gone from the
 * table and from the index after a patch (Update with REMOVE) and after a replace (whole-item Put); a lost
 * version race fails with the entity's error; a malformed stored item is a StoredItemError on read.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { ddb } from '#shared/clients.ts';
import { commit, systemActor } from '#store/audit.ts';
import { defineEntity, StoredItemError } from '#store/entity.ts';
import { useTestTable } from '../support/dynamodb.ts';

const gadget = defineEntity({
  type: 'test-gadget',
  schema: z.object({ gadgetId: z.string(), status: z.enum(['open', 'closed']), note: z.string().optional() }),
  key: (g) => ({ pk: `TESTGADGET#${g.gadgetId}`, sk: 'GADGET' }),
  indexes: (g) => (g.status === 'open' ? { gsi2pk: 'TESTGADGETSOPEN', gsi2sk: g.gadgetId } : {}),
});

const audit = (id: string) => ({
  actor: systemActor('test'),
  action: 'test.gadget.changed',
  entity: { type: 'test-gadget', id },
  before: null,
  after: null,
  requestId: 'test',
});

let table: string;
beforeAll(async () => {
  table = await useTestTable('entity');
});

const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-02T00:00:00.000Z';

async function created(id: string) {
  const g = gadget.item({ gadgetId: id, status: 'open', note: 'n' }, T0);
  await commit({ writes: [gadget.putNew(g)], audit: audit(id) });
  const open = await gadget.query({ index: 'gsi2', partition: 'TESTGADGETSOPEN', limit: 100 });
  expect(open.items.map((i) => i.gadgetId)).toContain(id);
  return g;
}

describe('defineEntity on the table', () => {
  it('patch REMOVEs the sparse index (and a dropped attribute) and bumps the version', async () => {
    const read = await created('g1');
    const { note: _n, ...rest } = read;
    await commit({ writes: [gadget.patch(read, { ...rest, status: 'closed' }, T1)], audit: audit('g1') });
    const stored = await gadget.get(gadget.key(read), { consistent: true });
    expect(stored).toMatchObject({ status: 'closed', version: 2, updatedAt: T1, createdAt: T0, tenant: read.tenant });
    expect(stored).not.toHaveProperty('gsi2pk');
    expect(stored).not.toHaveProperty('gsi2sk');
    expect(stored).not.toHaveProperty('note');
    const open = await gadget.query({ index: 'gsi2', partition: 'TESTGADGETSOPEN', limit: 100 });
    expect(open.items.map((i) => i.gadgetId)).not.toContain('g1');
  });

  it('replace writes the whole item: the sparse index is gone', async () => {
    const read = await created('g2');
    await commit({ writes: [gadget.replace(read, { ...read, status: 'closed' }, T1)], audit: audit('g2') });
    const stored = await gadget.get(gadget.key(read), { consistent: true });
    expect(stored).toMatchObject({ status: 'closed', version: 2 });
    expect(stored).not.toHaveProperty('gsi2pk');
  });

  it('a write conditioned on a stale version fails with the entity’s conflict and changes nothing', async () => {
    const read = await created('g3');
    await commit({ writes: [gadget.patch(read, { ...read, note: 'first' }, T1)], audit: audit('g3') });
    await expect(
      commit({ writes: [gadget.patch(read, { ...read, status: 'closed' }, T1)], audit: audit('g3') }),
    ).rejects.toMatchObject({ code: 'conflict' });
    expect(await gadget.get(gadget.key(read), { consistent: true })).toMatchObject({ status: 'open', note: 'first', version: 2 });
  });

  it('a malformed stored item is a StoredItemError naming the entity and the attribute', async () => {
    const g = gadget.item({ gadgetId: 'g4', status: 'open' }, T0);
    await ddb().send(new PutCommand({ TableName: table, Item: { ...g, status: 'lost' } }));
    const err = await gadget.get(gadget.key(g)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoredItemError);
    expect((err as StoredItemError).entityType).toBe('test-gadget');
    expect((err as StoredItemError).issues.map((i) => i.path)).toEqual(['status']);
  });
});
