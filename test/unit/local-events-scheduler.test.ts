import { describe, expect, it, vi } from 'vitest';
import { JOB_DETAIL_TYPE, JOB_SOURCE, type ScheduleSpec } from '#functions/manifest.ts';
import { LocalEventBus } from '#local/aws/events.ts';
import { LocalScheduler, nextRunTimes, parseEventBridgeCron } from '#local/aws/scheduler.ts';

type Call = { fn: string; event: { time?: string } & Record<string, unknown> };

const iso = (ds: Date[]) => ds.map((d) => d.toISOString());

describe('EventBridge cron conversion', () => {
  it.each([
    ['cron(30 2 * * ? *)', '30 2 * * *'],
    ['cron(0 9 ? * 2-6 *)', '0 9 * * 1-5'],
    ['cron(0 9 ? * MON-FRI *)', '0 9 * * MON-FRI'],
    ['cron(0 0 ? * 1,7 *)', '0 0 * * 0,6'],
    ['cron(0 0 ? * 6#3 *)', '0 0 * * 5#3'],
    ['cron(0 0 ? * 5L *)', '0 0 * * 4L'],
    ['cron(0 0 ? * L *)', '0 0 * * 6'],
    ['cron(0/15 * L * ? *)', '0/15 * L * *'],
    ['cron(0 12 1 JAN ? 2030)', '0 12 1 JAN *'],
  ])('%s -> %s', (input, expected) => {
    expect(parseEventBridgeCron(input).expression).toBe(expected);
  });

  it('runs nightly at 02:30 UTC', () => {
    expect(iso(nextRunTimes('cron(30 2 * * ? *)', 2, new Date('2025-03-10T12:00:00Z')))).toEqual([
      '2025-03-11T02:30:00.000Z',
      '2025-03-12T02:30:00.000Z',
    ]);
  });

  it('maps day-of-week 1-7 = SUN-SAT', () => {
    // 2025-03-08 is a Saturday: weekdays 2-6 (MON-FRI) skip to Monday.
    expect(iso(nextRunTimes('cron(0 9 ? * 2-6 *)', 1, new Date('2025-03-08T00:00:00Z')))).toEqual(['2025-03-10T09:00:00.000Z']);
    expect(iso(nextRunTimes('cron(0 9 ? * 1 *)', 1, new Date('2025-03-10T00:00:00Z')))).toEqual(['2025-03-16T09:00:00.000Z']);
    expect(iso(nextRunTimes('cron(0 0 ? * 6#3 *)', 1, new Date('2025-03-01T00:00:00Z')))).toEqual(['2025-03-21T00:00:00.000Z']);
  });

  it('honours the year field', () => {
    expect(iso(nextRunTimes('cron(0 12 1 1 ? 2030)', 3, new Date('2025-06-01T00:00:00Z')))).toEqual(['2030-01-01T12:00:00.000Z']);
    expect(iso(nextRunTimes('cron(0 0 1 1 ? 2026-2030/2)', 5, new Date('2025-06-01T00:00:00Z')))).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2028-01-01T00:00:00.000Z',
      '2030-01-01T00:00:00.000Z',
    ]);
  });

  it.each([
    ['cron(0 0 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 0 15W * ? *)', /W \(nearest weekday\) is not supported/],
    ['cron(0 0 * *)', /expected 6 fields/],
    ['rate(5 minutes)', /only cron/],
    ['cron(0 0 ? * 8 *)', /day-of-week "8"/],
  ])('rejects %s', (input, message) => {
    expect(() => parseEventBridgeCron(input)).toThrow(message);
  });
});

describe('LocalScheduler', () => {
  const schedules: ScheduleSpec[] = [
    { name: 'audit-verify', cron: 'cron(30 2 * * ? *)', timezone: 'UTC', function: 'job-audit-verify', description: 'nightly' },
    { name: 'fees', cron: 'cron(0 0 ? * 2 *)', timezone: 'UTC', function: 'job-fees', description: 'weekly' },
    { name: 'payouts', cron: 'cron(0 9 * * ? *)', timezone: 'tenant', function: 'job-payouts', description: 'daily' },
  ];

  it('runNow sends a Scheduled Event; nextRuns lists upcoming runs', async () => {
    const calls: Call[] = [];
    const scheduler = new LocalScheduler({
      schedules,
      timers: false,
      invoke: async (fn, event) => void calls.push({ fn, event: event as Call['event'] }),
    });
    await scheduler.runNow('audit-verify', new Date('2025-03-11T02:30:00.000Z'));
    expect(calls[0]).toMatchObject({
      fn: 'job-audit-verify',
      // The payload infra's Scheduler schedules send (infra/constructs/messaging.ts).
      event: {
        source: 'aws.scheduler',
        'detail-type': 'Scheduled Event',
        time: '2025-03-11T02:30:00Z',
        detail: { schedule: 'audit-verify' },
      },
    });
    expect(scheduler.nextRuns('fees', 1, new Date('2025-03-08T00:00:00Z'))[0]!.toISOString()).toBe('2025-03-10T00:00:00.000Z');
    expect(() => scheduler.nextRuns('nope')).toThrow(/No schedule named nope/);
  });

  it("evaluates a 'tenant' schedule in the tenant's time zone, across a daylight-saving change", () => {
    const scheduler = new LocalScheduler({ schedules, timers: false, tenantTimezone: 'Europe/London' });
    // 09:00 London is 09:00 UTC in winter and 08:00 UTC in summer (BST from 2025-03-30).
    const runs = scheduler.nextRuns('payouts', 3, new Date('2025-03-29T12:00:00Z')).map((d) => d.toISOString());
    expect(runs).toEqual(['2025-03-30T08:00:00.000Z', '2025-03-31T08:00:00.000Z', '2025-04-01T08:00:00.000Z']);
    const winter = scheduler.nextRuns('payouts', 1, new Date('2025-01-10T12:00:00Z'))[0]!.toISOString();
    expect(winter).toBe('2025-01-11T09:00:00.000Z');
    // A UTC schedule ignores the tenant's zone.
    expect(scheduler.nextRuns('audit-verify', 1, new Date('2025-06-01T00:00:00Z'))[0]!.toISOString()).toBe(
      '2025-06-01T02:30:00.000Z',
    );
    scheduler.stop();
  });

  it('runs a job on demand from a job event on the bus', async () => {
    const calls: Call[] = [];
    const invoke = async (fn: string, event: unknown) => void calls.push({ fn, event: event as Call['event'] });
    const bus = new LocalEventBus({ rules: [], invoke, log: () => undefined });
    const scheduler = new LocalScheduler({ schedules, timers: false, bus, invoke });
    await bus.handle('PutEvents', {
      Entries: [
        { Source: JOB_SOURCE, DetailType: JOB_DETAIL_TYPE, Detail: JSON.stringify({ job: 'fees', requestedBy: 'admin-1' }) },
        { Source: JOB_SOURCE, DetailType: JOB_DETAIL_TYPE, Detail: JSON.stringify({ job: 'unknown-job' }) },
        { Source: 'someone.else', DetailType: JOB_DETAIL_TYPE, Detail: JSON.stringify({ job: 'audit-verify' }) },
      ],
    });
    await bus.drain();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      fn: 'job-fees',
      event: { source: JOB_SOURCE, detail: { job: 'fees', requestedBy: 'admin-1' } },
    });
    scheduler.stop();
  });

  it('fires the timer at the scheduled time and re-arms', async () => {
    vi.useFakeTimers({ now: new Date('2025-03-11T02:29:59Z') });
    try {
      const calls: Call[] = [];
      const scheduler = new LocalScheduler({
        schedules,
        invoke: async (fn, event) => void calls.push({ fn, event: event as Call['event'] }),
      });
      await vi.advanceTimersByTimeAsync(500);
      expect(calls).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(600);
      expect(calls).toMatchObject([{ fn: 'job-audit-verify', event: { time: '2025-03-11T02:30:00Z' } }]);
      await vi.advanceTimersByTimeAsync(24 * 3600_000);
      const audits = calls.filter((c) => c.fn === 'job-audit-verify');
      expect(audits.map((c) => c.event.time)).toEqual(['2025-03-11T02:30:00Z', '2025-03-12T02:30:00Z']);
      scheduler.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
