import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { RuleSpec } from '#functions/manifest.ts';
import { type BusEvent, LocalEventBus, matches } from '#local/aws/events.ts';
import { LocalSqs } from '#local/aws/sqs.ts';

const event = (over: Partial<BusEvent> = {}): BusEvent => ({
  version: '0',
  id: 'e1',
  'detail-type': 'client.registered',
  source: 'backoffice',
  account: '000000000000',
  time: '2025-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: [],
  detail: { clientId: 'c1', country: 'DE', tags: ['vip', 'new'], kyc: { level: 2, status: 'approved' }, email: 'a@b.c' },
  ...over,
});

describe('EventBridge pattern matching', () => {
  it.each([
    [{ source: ['backoffice'] }, true],
    [{ source: ['other', 'backoffice'] }, true],
    [{ source: ['other'] }, false],
    [{ 'detail-type': ['client.registered'], detail: { country: ['DE', 'FR'] } }, true],
    [{ detail: { country: ['FR'] } }, false],
    [{ detail: { tags: ['vip'] } }, true],
    [{ detail: { kyc: { status: ['approved'] } } }, true],
    [{ detail: { kyc: { status: ['rejected'] } } }, false],
    [{ detail: { missing: ['x'] } }, false],
    [{ 'detail-type': [{ prefix: 'client.' }] }, true],
    [{ 'detail-type': [{ prefix: 'payment.' }] }, false],
    [{ detail: { country: [{ 'anything-but': 'US' }] } }, true],
    [{ detail: { country: [{ 'anything-but': ['DE', 'US'] }] } }, false],
    [{ detail: { country: [{ 'anything-but': { prefix: 'D' } }] } }, false],
    [{ detail: { email: [{ exists: true }] } }, true],
    [{ detail: { email: [{ exists: false }] } }, false],
    [{ detail: { phone: [{ exists: false }] } }, true],
    [{ detail: { phone: [{ exists: true }] } }, false],
    [{ detail: { kyc: { level: [{ numeric: ['>=', 2, '<', 3] }] } } }, true],
    [{ detail: { kyc: { level: [{ numeric: ['>', 2] }] } } }, false],
    [{ detail: { kyc: { level: [2] } } }, true],
    [{ detail: { kyc: { level: ['2'] } } }, false],
    [{ $or: [{ source: ['x'] }, { detail: { country: ['DE'] } }] }, true],
  ] as [Record<string, unknown>, boolean][])('%j -> %s', (pattern, expected) => {
    expect(matches(pattern, event())).toBe(expected);
  });
});

const quiet = () => undefined;
const buses: { stop?: () => void }[] = [];
afterEach(() => {
  for (const b of buses.splice(0)) b.stop?.();
});

describe('LocalEventBus', () => {
  it('returns event ids at once and delivers to function targets asynchronously, with the EventBridge envelope', async () => {
    const calls: { fn: string; event: BusEvent }[] = [];
    const rules: RuleSpec[] = [
      { name: 'r1', pattern: { source: ['backoffice'], 'detail-type': ['client.registered'] }, target: { function: 'welcome' } },
      { name: 'r2', pattern: { source: ['platform'] }, target: { function: 'deals' } },
    ];
    const bus = new LocalEventBus({ rules, log: quiet, invoke: async (fn, e) => void calls.push({ fn, event: e as BusEvent }) });
    const out = (await bus.handle('PutEvents', {
      Entries: [
        { Source: 'backoffice', DetailType: 'client.registered', Detail: '{"clientId":"c1"}', EventBusName: 'demo-bus' },
        { Source: 'backoffice', DetailType: 'client.registered', Detail: 'not json' },
        { Source: 'backoffice', DetailType: 'other', Detail: '{}' },
      ],
    })) as { FailedEntryCount: number; Entries: { EventId?: string; ErrorCode?: string }[] };
    expect(out.FailedEntryCount).toBe(1);
    expect(out.Entries[0]!.EventId).toBeTruthy();
    expect(out.Entries[1]!.ErrorCode).toBe('MalformedDetail');
    expect(calls).toHaveLength(0); // not delivered inside PutEvents
    await bus.drain();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      fn: 'welcome',
      event: {
        version: '0',
        id: out.Entries[0]!.EventId,
        source: 'backoffice',
        'detail-type': 'client.registered',
        detail: { clientId: 'c1' },
      },
    });
    expect(bus.recent().map((r) => r.matchedRules)).toEqual([['r1'], []]);
  });

  it('takes an entry’s Time as the SDK sends it (epoch seconds) or as an ISO string, into the envelope’s time', async () => {
    const calls: BusEvent[] = [];
    const bus = new LocalEventBus({
      rules: [{ name: 'r', pattern: { source: ['s'] }, target: { function: 'f' } }],
      log: quiet,
      invoke: async (_fn, e) => void calls.push(e as BusEvent),
    });
    await bus.handle('PutEvents', {
      Entries: [
        { Source: 's', DetailType: 'd', Detail: '{}', Time: 1_796_654_254 },
        { Source: 's', DetailType: 'd', Detail: '{}', Time: '2026-12-07T14:37:34.000Z' },
      ],
    });
    await bus.drain();
    expect(calls.map((c) => c.time).sort()).toEqual(['2026-12-07T14:37:34Z', '2026-12-07T14:37:34Z']);
  });

  it('retries a failing target with backoff', async () => {
    let attempts = 0;
    const bus = new LocalEventBus({
      rules: [{ name: 'r', pattern: { source: ['s'] }, target: { function: 'flaky' } }],
      backoffMs: 1,
      log: quiet,
      invoke: async () => {
        if (++attempts < 3) throw new Error('boom');
      },
    });
    bus.publish({ source: 's', detailType: 'd', detail: {} });
    await bus.drain();
    expect(attempts).toBe(3);
  });

  it('sends the envelope to a queue target', async () => {
    const delivered: SQSEvent[] = [];
    const sqs = new LocalSqs({
      queues: [
        {
          name: 'notifications',
          fifo: false,
          consumer: 'notify',
          batchSize: 10,
          visibilityTimeoutSeconds: 30,
          maxReceiveCount: 3,
        },
      ],
      consumer: async (_fn, e) => void delivered.push(e as SQSEvent),
      pollIntervalMs: 2,
      log: quiet,
    });
    buses.push(sqs);
    const bus = new LocalEventBus({
      rules: [{ name: 'to-queue', pattern: { 'detail-type': ['client.registered'] }, target: { queue: 'notifications' } }],
      sqs,
      log: quiet,
    });
    const id = bus.publish({ source: 'backoffice', detailType: 'client.registered', detail: { clientId: 'c9' } });
    await bus.drain();
    await sqs.drain();
    const body = JSON.parse(delivered[0]!.Records[0]!.body);
    expect(body).toMatchObject({ id, source: 'backoffice', 'detail-type': 'client.registered', detail: { clientId: 'c9' } });
  });
});
