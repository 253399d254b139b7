/**
 * defineEntity (functions/store/entity.ts): keys, envelope and index attributes are computed from the item's
 * attributes on every write; a sparse index disappears when it no longer applies (replace: absent from the
 * item; patch: REMOVEd); reads parse and reject a malformed item with a StoredItemError naming the entity
 * and the attribute; attributes the schema does not declare survive a read-modify-write.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { defineEntity, StoredItemError } from '#store/entity.ts';

beforeAll(() => {
  process.env.TENANT ??= 'demo';
});

const widget = defineEntity({
  type: 'widget',
  schema: z.object({
    widgetId: z.string(),
    ownerId: z.string(),
    status: z.enum(['open', 'closed']),
    openedAt: z.string(),
    note: z.string().optional(),
    tags: z.array(z.string()).default([]),
  }),
  key: (w) => ({ pk: `WIDGET#${w.widgetId}`, sk: 'WIDGET' }),
  indexes: (w) => ({
    gsi1pk: `WIDGETS#${w.ownerId}`,
    gsi1sk: `${w.createdAt}#${w.widgetId}`,
    ...(w.status === 'open' ? { gsi2pk: 'WIDGETSOPEN', gsi2sk: `${w.openedAt}#${w.widgetId}` } : {}),
  }),
});

const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-02T00:00:00.000Z';
const fresh = () => widget.item({ widgetId: 'w1', ownerId: 'o1', status: 'open', openedAt: T0 }, T0);

describe('defineEntity: writes', () => {
  it('a new item carries its keys, its indexes and the envelope, computed from its attributes', () => {
    expect(fresh()).toEqual({
      pk: 'WIDGET#w1',
      sk: 'WIDGET',
      type: 'widget',
      tenant: process.env.TENANT,
      createdAt: T0,
      updatedAt: T0,
      version: 1,
      widgetId: 'w1',
      ownerId: 'o1',
      status: 'open',
      openedAt: T0,
      tags: [],
      gsi1pk: 'WIDGETS#o1',
      gsi1sk: `${T0}#w1`,
      gsi2pk: 'WIDGETSOPEN',
      gsi2sk: `${T0}#w1`,
    });
  });

  it('a new item is validated: a field of the wrong shape fails before anything is written', () => {
    expect(() => widget.item({ widgetId: 'w1', ownerId: 'o1', status: 'lost' as 'open', openedAt: T0 }, T0)).toThrow(
      StoredItemError,
    );
  });

  it('putNew is put-if-absent with the caller’s conflict error', () => {
    const conflict = new DomainError('widget_exists', 'conflict', 'exists');
    const w = widget.putNew(fresh(), conflict);
    expect(w).toMatchObject({ Put: { ConditionExpression: 'attribute_not_exists(pk)' }, conditionFailedError: conflict });
  });

  it('replace recomputes the indexes: a sparse index that no longer applies is absent; version + 1, updatedAt = now', () => {
    const read = fresh();
    // A stale index value carried on `next` is dropped too: indexes come from the attributes only.
    const write = widget.replace(read, { ...read, status: 'closed', gsi3pk: 'STALE' }, T1);
    if (!('Put' in write)) throw new Error('expected a Put');
    const item = write.Put.Item as Record<string, unknown>;
    expect(item).not.toHaveProperty('gsi2pk');
    expect(item).not.toHaveProperty('gsi2sk');
    expect(item).not.toHaveProperty('gsi3pk');
    expect(item).toMatchObject({ status: 'closed', version: 2, updatedAt: T1, createdAt: T0, gsi1pk: 'WIDGETS#o1' });
    expect(write.Put).toMatchObject({ ConditionExpression: '#v = :v', ExpressionAttributeValues: { ':v': 1 } });
    expect(write.conditionFailedError).toMatchObject({ code: 'conflict' });
  });

  it('replace re-adds a sparse index that applies again', () => {
    const closed = widget.replaced(fresh(), { ...fresh(), status: 'closed' }, T1);
    const reopened = widget.replaced(closed, { ...closed, status: 'open', openedAt: T1 }, T1);
    expect(reopened).toMatchObject({ gsi2pk: 'WIDGETSOPEN', gsi2sk: `${T1}#w1`, version: 3 });
  });

  it('patch SETs what changed and REMOVEs what the next item lacks (the sparse index, a dropped field)', () => {
    const read = widget.parse({ ...fresh(), note: 'n' });
    const { note: _dropped, ...rest } = read;
    const write = widget.patch(read, { ...rest, status: 'closed' }, T1);
    if (!('Update' in write)) throw new Error('expected an Update');
    const u = write.Update;
    const names = u.ExpressionAttributeNames ?? {};
    const values = u.ExpressionAttributeValues ?? {};
    const [setPart, removePart = ''] = (u.UpdateExpression ?? '').split(' REMOVE ');
    const setAttrs = Object.fromEntries(
      setPart!
        .replace(/^SET /, '')
        .split(', ')
        .map((s) => s.split(' = '))
        .map(([n, v]) => [names[n!], values[v!]]),
    );
    const removed = removePart
      .split(', ')
      .filter(Boolean)
      .map((n) => names[n]);
    expect(setAttrs).toEqual({ status: 'closed', updatedAt: T1, version: 2 });
    expect(removed.sort()).toEqual(['gsi2pk', 'gsi2sk', 'note']);
    expect(u.Key).toEqual({ pk: 'WIDGET#w1', sk: 'WIDGET' });
    expect(u.ConditionExpression).toBe('#v = :v');
    expect(values[':v']).toBe(1);
  });

  it('a race error given by the caller replaces the default conflict', () => {
    const onRace = new DomainError('concurrent_modification', 'conflict', 'retry');
    expect(widget.replace(fresh(), fresh(), T1, { onRace }).conditionFailedError).toBe(onRace);
    expect(widget.patch(fresh(), fresh(), T1, { onRace }).conditionFailedError).toBe(onRace);
  });
});

describe('defineEntity: reads', () => {
  it('parses a stored item, applying defaults for attributes older items lack', () => {
    const { tags: _t, ...old } = fresh();
    expect(widget.parse(old).tags).toEqual([]);
  });

  it('keeps attributes the schema does not declare (a replace never drops them)', () => {
    const read = widget.parse({ ...fresh(), extra: { kept: true } });
    const write = widget.replace(read, { ...read, status: 'closed' }, T1);
    if (!('Put' in write)) throw new Error('expected a Put');
    expect(write.Put.Item).toMatchObject({ extra: { kept: true } });
  });

  it('rejects a malformed item with an error naming the entity and the bad attribute', () => {
    const bad = { ...fresh(), status: 'lost', version: '1' };
    let err: unknown;
    try {
      widget.parse(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoredItemError);
    const e = err as StoredItemError;
    expect(e.code).toBe('stored_item_invalid');
    expect(e.entityType).toBe('widget');
    expect(e.key).toEqual({ pk: 'WIDGET#w1', sk: 'WIDGET' });
    expect(e.issues.map((i) => i.path).sort()).toEqual(['status', 'version']);
    expect(e.message).toMatch(/^stored widget item does not match its schema: .*status/);
    expect(e.message).not.toContain('WIDGET#w1');
  });

  it('rejects an item of another type and one without its envelope', () => {
    expect(() => widget.parse({ ...fresh(), type: 'gadget' })).toThrow(/widget.*type/);
    const { tenant: _t, ...noTenant } = fresh();
    expect(() => widget.parse(noTenant)).toThrow(/tenant/);
    expect(widget.is(fresh())).toBe(true);
    expect(widget.is({ type: 'gadget' })).toBe(false);
  });
});
