/**
 * The outbox's delivery guarantee against DynamoDB Local, with EventBridge mocked: the relay marks
 * what it published; an item whose publish failed stays pending (sparse gsi2 index, no TTL) and the
 * outbox-sweeper job republishes it exactly once per sweep, then marks it; published items are never
 * resent by the sweeper.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { event } from '#domain/events/index.ts';
import { JOB_DETAIL_TYPE } from '#functions/manifest.ts';
import { ddb } from '#shared/clients.ts';
import { commit } from '#store/audit.ts';
import { OUTBOX_PENDING_SHARDS, outboxKeys } from '#store/keys.ts';
import { OUTBOX_TTL_DAYS } from '#store/outbox.ts';
import { useHandlerEnv } from '../support/api-env.ts';

const bus = mockClient(EventBridgeClient);
let table: string;

beforeAll(async () => {
  table = await useHandlerEnv('outbox');
});
afterAll(() => bus.restore());
beforeEach(() => bus.reset());

const actor = { id: 'system:test', role: 'system' };
const MIN = 60_000;

async function getOutbox(eventId: string) {
  const res = await ddb().send(new GetCommand({ TableName: table, Key: outboxKeys.key(eventId), ConsistentRead: true }));
  return res.Item;
}

/**
 * Commits `n` outbox events (catalogue events 'ledger.hold.voided', holdId `<label>-<i>`, accountId `<label>`),
 * `ageMinutes` in the past; returns their stored items.
 */
async function commitEvents(label: string, n: number, ageMinutes = 0) {
  const at = new Date(Date.now() - ageMinutes * MIN);
  const res = await commit({
    writes: [],
    audit: { actor, action: 'outbox.test', entity: { type: 't', id: label }, before: null, after: null, requestId: 'r' },
    outbox: Array.from({ length: n }, (_, i) => event('ledger.hold.voided', { holdId: `${label}-${i}`, accountId: label })),
    now: () => at,
  });
  return Promise.all(res.events.map(async (e) => (await getOutbox(e.eventId))!));
}

let seq = 0;
const streamRecord = (item: Record<string, unknown>): DynamoDBRecord => ({
  eventName: 'INSERT',
  dynamodb: {
    SequenceNumber: String(++seq).padStart(10, '0'),
    NewImage: marshall(item, { removeUndefinedValues: true }) as never,
  },
});

/** Every entry sent to PutEvents so far (across calls). */
const sentEntries = (): PutEventsRequestEntry[] =>
  bus.commandCalls(PutEventsCommand).flatMap((c) => c.args[0].input.Entries ?? []);
const sentEventIds = () => sentEntries().map((e) => JSON.parse(e.Detail!).eventId as string);

/** PutEvents succeeds for every entry except those whose eventId is in `reject`. */
function busAccepts(reject: ReadonlySet<string> = new Set()) {
  bus.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
    const entries = input.Entries.map((e, j) =>
      reject.has(JSON.parse(e.Detail!).eventId) ? { ErrorCode: 'InternalFailure', ErrorMessage: 'x' } : { EventId: `e${j}` },
    );
    return { FailedEntryCount: entries.filter((e) => 'ErrorCode' in e).length, Entries: entries };
  });
}

describe('outbox items are written pending', () => {
  it('carry the sparse pending index (gsi2 OUTBOXPENDING#<shard>) and no TTL until published', async () => {
    const [item] = await commitEvents('pending.written', 1);
    expect(item!.gsi2pk).toMatch(/^OUTBOXPENDING#[0-7]$/);
    expect(item!.gsi2sk).toBe(`${item!.occurredAt}#${item!.eventId}`);
    expect(item!.expiresAt).toBeUndefined();
    expect(item!.publishedAt).toBeUndefined();
    expect(OUTBOX_PENDING_SHARDS).toBe(8);
    const onIndex = await ddb().send(
      new QueryCommand({
        TableName: table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'gsi2pk = :p AND gsi2sk = :s',
        ExpressionAttributeValues: { ':p': item!.gsi2pk, ':s': item!.gsi2sk },
      }),
    );
    expect(onIndex.Items).toHaveLength(1);
  });
});

describe('outbox relay', () => {
  it('marks each item it published (publishedAt, TTL, off the pending index); a rejected item stays pending', async () => {
    const { handler } = await import('#functions/workers/outbox-relay.ts');
    const items = await commitEvents('relay.marks', 3);
    busAccepts(new Set([items[1]!.eventId as string]));
    const before = Math.floor(Date.now() / 1000);
    const res = await handler({ Records: items.map((i) => streamRecord(i)) });
    expect(res.batchItemFailures).toHaveLength(1);

    for (const i of [0, 2]) {
      const stored = await getOutbox(items[i]!.eventId as string);
      expect(stored!.publishedAt).toEqual(expect.any(String));
      expect(stored!.gsi2pk).toBeUndefined();
      expect(stored!.gsi2sk).toBeUndefined();
      expect(stored!.expiresAt).toBeGreaterThanOrEqual(before + OUTBOX_TTL_DAYS * 86_400);
      expect(stored!.version).toBe((items[i]!.version as number) + 1);
    }
    const failed = await getOutbox(items[1]!.eventId as string);
    expect(failed!.publishedAt).toBeUndefined();
    expect(failed!.expiresAt).toBeUndefined();
    expect(failed!.gsi2pk).toBe(items[1]!.gsi2pk);
  });

  it('a failed PutEvents call marks nothing and fails every record of the chunk', async () => {
    const { handler } = await import('#functions/workers/outbox-relay.ts');
    const items = await commitEvents('relay.call-fails', 2);
    bus.on(PutEventsCommand).rejects(new Error('boom'));
    const res = await handler({ Records: items.map((i) => streamRecord(i)) });
    expect(res.batchItemFailures).toHaveLength(2);
    for (const i of items) expect((await getOutbox(i.eventId as string))!.gsi2pk).toBe(i.gsi2pk);
  });
});

describe('outbox sweeper', () => {
  /** The use case context of a sweep run directly (the job builds it from its event). */
  const ctx = { requestId: 'sweep-test', locale: 'en' };

  it('republishes an item whose publish failed exactly once per sweep, marks it, and never resends published items', async () => {
    const { handler: relay } = await import('#functions/workers/outbox-relay.ts');
    const { sweepOutbox } = await import('#app/platform/sweep-outbox.ts');
    const items = await commitEvents('sweep.lost', 4, 10);
    const lost = items[2]!;
    const lostId = lost.eventId as string;
    // The relay publishes all but `lost` (its entry is rejected; the stream then gives up on it).
    busAccepts(new Set([lostId]));
    await relay({ Records: items.map((i) => streamRecord(i)) });
    const fresh = await commitEvents('sweep.fresh', 1, 0); // inside the window: left to the relay
    bus.reset();
    busAccepts();

    const first = await sweepOutbox({ maxItems: 10_000 }, ctx);
    const sent = sentEventIds();
    expect(sent.filter((id) => id === lostId)).toHaveLength(1);
    for (const i of [...items.filter((i) => i !== lost), ...fresh]) expect(sent).not.toContain(i.eventId);
    expect(first.republished).toBeGreaterThanOrEqual(1);
    expect(first.failed).toBe(0);
    const entry = sentEntries().find((e) => JSON.parse(e.Detail!).eventId === lostId)!;
    expect(entry).toMatchObject({ EventBusName: 'bus', Source: 'backoffice', DetailType: 'ledger.hold.voided' });
    // the producer's detail, the outbox eventId and the catalogue version (domain/events)
    expect(JSON.parse(entry.Detail!)).toEqual({
      holdId: 'sweep.lost-2',
      accountId: 'sweep.lost',
      eventId: lostId,
      eventVersion: 1,
    });
    const marked = await getOutbox(lostId);
    expect(marked!.publishedAt).toEqual(expect.any(String));
    expect(marked!.gsi2pk).toBeUndefined();
    expect(marked!.expiresAt).toEqual(expect.any(Number));

    // A second sweep resends nothing of these: the lost one is now published too.
    bus.reset();
    busAccepts();
    await sweepOutbox({}, ctx);
    const again = sentEventIds();
    for (const i of [...items, ...fresh]) expect(again).not.toContain(i.eventId);
  });

  it('an item the bus rejects again stays pending for the next sweep; the job run reports the failure and throws', async () => {
    const { handler } = await import('#functions/jobs/outbox-sweeper.ts');
    const { sweepOutbox } = await import('#app/platform/sweep-outbox.ts');
    const [item] = await commitEvents('sweep.rejected', 1, 30);
    const id = item!.eventId as string;
    busAccepts(new Set([id]));
    await expect(handler({ 'detail-type': 'Scheduled Event', id: 'sched-1' })).rejects.toThrow(/not republished/);
    expect(sentEventIds().filter((x) => x === id)).toHaveLength(1);
    expect((await getOutbox(id))!.gsi2pk).toBe(item!.gsi2pk);

    bus.reset();
    busAccepts();
    const res = await sweepOutbox({}, ctx);
    expect(res.failed).toBe(0);
    expect(sentEventIds().filter((x) => x === id)).toHaveLength(1);
    expect((await getOutbox(id))!.publishedAt).toEqual(expect.any(String));
  });

  it('a sweep requested on demand finishes its job run', async () => {
    const { handler } = await import('#functions/jobs/outbox-sweeper.ts');
    await commitEvents('sweep.on-demand', 1, 6);
    busAccepts();
    const runId = '01JOBRUNONDEMANDSWEEP00001';
    const res = await handler({
      'detail-type': JOB_DETAIL_TYPE,
      id: 'evt-1',
      detail: { job: 'outbox-sweeper', runId, requestedBy: 'admin-1' },
    });
    expect(res.runId).toBe(runId);
    expect(res.republished).toBeGreaterThanOrEqual(1);
    const run = await ddb().send(
      new GetCommand({ TableName: table, Key: { pk: 'JOB#outbox-sweeper', sk: `RUN#${runId}` }, ConsistentRead: true }),
    );
    expect(run.Item).toMatchObject({ type: 'job-run', status: 'succeeded', summary: { failed: 0 } });
  });
});
