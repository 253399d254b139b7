/**
 * The audit primitive against DynamoDB Local. Tests are named after the invariants in
 * functions/store/audit.ts.
 */
import { GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { ddb } from '#shared/clients.ts';
import { commit, MAX_TRANSACTION_ITEMS, sha256Hex, TransactionTooLargeError, toChainedRecord } from '#store/audit.ts';
import { verifyEntityChain } from '#store/audit-trail.ts';
import { newItem, putNew } from '#store/items.ts';
import { auditKeys } from '#store/keys.ts';
import type { OutboxEvent } from '#store/outbox.ts';
import { useTestTable } from '../support/dynamodb.ts';

let table: string;
beforeAll(async () => {
  table = await useTestTable('audit');
  process.env.TENANT = 'demo';
});

const get = async (key: { pk: string; sk: string }) =>
  (await ddb().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

async function chain(type: string, id: string) {
  const res = await ddb().send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
      ExpressionAttributeValues: { ':pk': auditKeys.partition(type, id), ':s': 'SEQ#' },
      ConsistentRead: true,
    }),
  );
  return res.Items ?? [];
}

const FLAGS = { noNegative: false, frozen: true };
const widget = (id: string, now = new Date().toISOString()) =>
  newItem({ pk: `TEST#${id}`, sk: 'WIDGET', type: 'widget', name: 'w' }, now);
const actor = { id: 'admin-1', role: 'admin' };

describe('all or nothing: state, audit, head and outbox are one transaction', () => {
  it('a successful commit writes state + audit item + head + outbox together', async () => {
    const item = widget('ok');
    const res = await commit({
      writes: [putNew(item)],
      audit: {
        actor,
        action: 'widget.created',
        entity: { type: 'widget', id: 'ok' },
        clientId: 'client-ok',
        before: null,
        after: { name: 'w', amount: 10n },
        requestId: 'req-1',
      },
      outbox: [{ detailType: 'ledger.account.flags_changed', detail: { accountId: 'widget-ok', flags: FLAGS } }],
    });
    expect(await get({ pk: 'TEST#ok', sk: 'WIDGET' })).toMatchObject({ type: 'widget', tenant: 'demo', version: 1 });
    const audit = await get(auditKeys.item('widget', 'ok', 1));
    expect(audit).toMatchObject({
      type: 'audit',
      seq: 1,
      action: 'widget.created',
      actor,
      after: { name: 'w', amount: '10' },
      gsi1pk: 'CLIENTAUDIT#client-ok',
      requestId: 'req-1',
    });
    expect(await get(auditKeys.head('widget', 'ok'))).toMatchObject({ type: 'audit-head', seq: 1, hash: audit!.hash });
    const eventId = res.events[0]!.eventId;
    expect(await get({ pk: `OUTBOX#${eventId}`, sk: 'OUTBOX' })).toMatchObject({
      type: 'outbox',
      eventId,
      source: 'backoffice',
      detailType: 'ledger.account.flags_changed',
      detail: { accountId: 'widget-ok', flags: FLAGS },
      eventVersion: 1,
    });
  });

  it("a failed condition on the caller's write writes neither the change, nor its audit item, nor its outbox", async () => {
    await commit({
      writes: [putNew(widget('dup'))],
      audit: { actor, action: 'widget.created', entity: { type: 'widget', id: 'dup' }, before: null, after: {}, requestId: 'r1' },
    });
    const taken = new DomainError('widget_exists', 'conflict', 'exists');
    const before = await chain('widget', 'dup');
    await expect(
      commit({
        writes: [putNew({ ...widget('dup'), name: 'second' }, taken)],
        audit: {
          actor,
          action: 'widget.created',
          entity: { type: 'widget', id: 'dup' },
          before: null,
          after: { name: 'second' },
          requestId: 'r2',
        },
        outbox: [{ detailType: 'ledger.account.flags_changed', detail: { accountId: 'widget-dup-second', flags: FLAGS } }],
      }),
    ).rejects.toBe(taken);
    expect((await get({ pk: 'TEST#dup', sk: 'WIDGET' }))?.name).toBe('w');
    expect(await chain('widget', 'dup')).toEqual(before);
    expect((await get(auditKeys.head('widget', 'dup')))?.seq).toBe(1);
    const outbox = await ddb().send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        FilterExpression: '#t = :o AND detail.accountId = :a',
        ExpressionAttributeNames: { '#t': 'type' },
        ExpressionAttributeValues: { ':o': 'outbox', ':a': 'widget-dup-second' },
      }),
    );
    expect(outbox.Items ?? []).toHaveLength(0);
  });

  it('an event that is not in the catalogue (only reachable through a cast) is refused, and nothing is written', async () => {
    const bogus = { detailType: 'widget.created', detail: { id: 'bogus' } } as unknown as OutboxEvent;
    await expect(
      commit({
        writes: [putNew(widget('bogus'))],
        audit: {
          actor,
          action: 'widget.created',
          entity: { type: 'widget', id: 'bogus' },
          before: null,
          after: {},
          requestId: 'r',
        },
        outbox: [bogus],
      }),
    ).rejects.toMatchObject({ code: 'unknown_event_type', detailType: 'widget.created' });
    expect(await get({ pk: 'TEST#bogus', sk: 'WIDGET' })).toBeUndefined();
    expect(await chain('widget', 'bogus')).toEqual([]);
  });

  it('without a caller-supplied error a failed condition is a generic conflict, not retried', async () => {
    await expect(
      commit({
        writes: [{ ConditionCheck: { Key: { pk: 'TEST#missing', sk: 'WIDGET' }, ConditionExpression: 'attribute_exists(pk)' } }],
        audit: { actor, action: 'x', entity: { type: 'widget', id: 'missing' }, before: null, after: null, requestId: 'r' },
      }),
    ).rejects.toMatchObject({ code: 'conflict', kind: 'conflict' });
    expect(await get(auditKeys.head('widget', 'missing'))).toBeUndefined();
  });
});

describe('per entity, seqs run 1, 2, 3 ... without gaps', () => {
  it('concurrent commits on the same entity produce a gap-free chain that verifies', async () => {
    const n = 8;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        commit({
          writes: [putNew(widget(`conc-${i}`))],
          audit: {
            actor,
            action: 'widget.touched',
            entity: { type: 'account', id: 'hot' },
            before: { i: i - 1 },
            after: { i },
            requestId: `r${i}`,
          },
        }),
      ),
    );
    const items = await chain('account', 'hot');
    expect(items.map((i) => i.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const head = await get(auditKeys.head('account', 'hot'));
    expect(head?.seq).toBe(n);
    expect(verifyChain(items.map(toChainedRecord), sha256Hex, { head: { seq: head!.seq, hash: head!.hash } })).toBeNull();
    expect((await verifyEntityChain('account', 'hot')).break).toBeNull();
  });

  it('several audit inputs on one entity in one commit get consecutive seqs and one head write', async () => {
    const res = await commit({
      writes: [],
      audit: [1, 2, 3].map((k) => ({
        actor,
        action: `step.${k}`,
        entity: { type: 'case', id: 'multi' },
        before: null,
        after: { k },
        requestId: 'r',
      })),
    });
    expect(res.audit.map((a) => a.seq)).toEqual([1, 2, 3]);
    expect((await get(auditKeys.head('case', 'multi')))?.seq).toBe(3);
    expect((await verifyEntityChain('case', 'multi')).break).toBeNull();
  });
});

describe('new entities skip the head read without ever forking a chain', () => {
  it('a commit flagged newEntity on an entity that already has a chain retries with the head and continues it', async () => {
    const entity = { type: 'case', id: 'not-new-after-all' };
    await commit({ writes: [], audit: { actor, action: 'opened', entity, before: null, after: { n: 1 }, requestId: 'r1' } });
    const res = await commit({
      writes: [],
      audit: { actor, action: 'again', entity, before: null, after: { n: 2 }, requestId: 'r2', newEntity: true },
    });
    expect(res.audit[0]?.seq).toBe(2);
    expect((await chain('case', 'not-new-after-all')).map((i) => i.seq)).toEqual([1, 2]);
    expect((await verifyEntityChain('case', 'not-new-after-all')).break).toBeNull();
  });

  it('a truly new entity starts its chain at seq 1', async () => {
    const res = await commit({
      writes: [],
      audit: {
        actor,
        action: 'created',
        entity: { type: 'case', id: 'brand-new' },
        before: null,
        after: {},
        requestId: 'r',
        newEntity: true,
      },
    });
    expect(res.audit[0]?.seq).toBe(1);
    expect((await get(auditKeys.head('case', 'brand-new')))?.seq).toBe(1);
  });
});

describe('tamper evidence', () => {
  it("modifying an audit item's `after` is flagged at that seq", async () => {
    for (let i = 0; i < 4; i++) {
      await commit({
        writes: [],
        audit: {
          actor,
          action: 'edit',
          entity: { type: 'doc', id: 'tamper' },
          before: { v: i },
          after: { v: i + 1 },
          requestId: `r${i}`,
        },
      });
    }
    await ddb().send(
      new UpdateCommand({
        TableName: table,
        Key: auditKeys.item('doc', 'tamper', 3),
        UpdateExpression: 'SET #a = :a',
        ExpressionAttributeNames: { '#a': 'after' },
        ExpressionAttributeValues: { ':a': { v: 999 } },
      }),
    );
    const items = (await chain('doc', 'tamper')).map(toChainedRecord);
    expect(verifyChain(items, sha256Hex)).toBe(3);
    expect((await verifyEntityChain('doc', 'tamper')).break).toEqual({ seq: 3, reason: 'hash_mismatch' });
  });
});

describe('a transaction holds at most 100 items', () => {
  it('a larger commit is rejected before anything is sent', async () => {
    const writes = Array.from({ length: MAX_TRANSACTION_ITEMS - 1 }, (_, i) => putNew(widget(`big-${i}`)));
    await expect(
      commit({
        writes,
        audit: { actor, action: 'bulk', entity: { type: 'bulk', id: 'x' }, before: null, after: null, requestId: 'r' },
      }),
    ).rejects.toBeInstanceOf(TransactionTooLargeError);
    expect(await get({ pk: 'TEST#big-0', sk: 'WIDGET' })).toBeUndefined();
  });
});
