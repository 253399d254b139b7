/**
 * Replication's pure parts (domain/copy/replication.ts) and the executor's batch semantics
 * (functions/workers/copy-executor.ts): one follower's records in order, a failure failing the rest of its group
 * only, other groups kept.
 */

import type { SQSEvent } from 'aws-lambda';
import fc from 'fast-check';
import { ulid } from 'ulid';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { copyIdFor, latencyMs, slippageMoney, slippagePoints, stopCloseIdFor, ulidTime } from '#domain/copy/replication.ts';

describe('copy ids', () => {
  it('are stable, distinct per (deal, subscription), and fit an MT5 comment (31 characters)', () => {
    const a = copyIdFor('mt5#srv#42', 'sub_1');
    expect(a).toBe(copyIdFor('mt5#srv#42', 'sub_1'));
    expect(a).not.toBe(copyIdFor('mt5#srv#42', 'sub_2'));
    expect(a).not.toBe(copyIdFor('mt5#srv#43', 'sub_1'));
    expect(a.length).toBeLessThanOrEqual(31);
    expect(stopCloseIdFor('sub_1', 7).length).toBeLessThanOrEqual(31);
    expect(stopCloseIdFor('sub_1', 7)).not.toBe(stopCloseIdFor('sub_1', 8));
  });
});

describe('slippage', () => {
  it('counts against the follower by side', () => {
    expect(slippagePoints('buy', 108_500n, 108_503n)).toBe(3n);
    expect(slippagePoints('buy', 108_500n, 108_498n)).toBe(-2n);
    expect(slippagePoints('sell', 108_500n, 108_497n)).toBe(3n);
    expect(slippagePoints('sell', 108_500n, 108_502n)).toBe(-2n);
  });

  it('in money: points x volume at the provider deal’s value per point and volume, half-even, exact', () => {
    // 1 lot EURUSD at 1.08500 = 108,500.00 USD notional: one point on one lot is 1.00 USD
    const oneLot = { providerNotional: 10_850_000n, providerVolume: 10_000n, providerPrice: 108_500n };
    expect(slippageMoney({ points: 3n, followerVolume: 10_000n, ...oneLot })).toBe(300n);
    expect(slippageMoney({ points: 3n, followerVolume: 1_000n, ...oneLot })).toBe(30n);
    expect(slippageMoney({ points: -1n, followerVolume: 100n, ...oneLot })).toBe(-1n);
    expect(slippageMoney({ points: 1n, followerVolume: 100n, ...oneLot, providerNotional: undefined })).toBeUndefined();
  });

  it('is linear in points and in volume up to one rounding (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -500n, max: 500n }),
        fc.bigInt({ min: 100n, max: 1_000_000n }),
        fc.bigInt({ min: 1n, max: 10_000_000_000n }),
        fc.bigInt({ min: 100n, max: 1_000_000n }),
        fc.bigInt({ min: 1_000n, max: 10_000_000n }),
        (points, followerVolume, providerNotional, providerVolume, providerPrice) => {
          const m = slippageMoney({ points, followerVolume, providerNotional, providerVolume, providerPrice })!;
          const exactNum = points * followerVolume * providerNotional;
          const den = providerVolume * providerPrice;
          // |m - exact| <= 1/2
          const diff = m * den - exactNum;
          expect(2n * (diff < 0n ? -diff : diff) <= den).toBe(true);
          if (points === 0n) expect(m).toBe(0n);
        },
      ),
    );
  });

  it('latency is never negative', () => {
    expect(latencyMs(1_000, 1_250)).toBe(250);
    expect(latencyMs(1_000, 900)).toBe(0);
  });

  it('reads a ULID’s time (the signal time of an outbox event)', () => {
    for (const t of [1_469_918_176_385, Date.parse('2026-12-07T10:00:00.123Z')]) expect(ulidTime(ulid(t))).toBe(t);
    expect(ulidTime('not-a-ulid')).toBeUndefined();
  });
});

const { replicate } = vi.hoisted(() => ({ replicate: vi.fn() }));
vi.mock('#app/copy/replicate.ts', () => ({ replicate }));
vi.mock('#shared/tenant.ts', () => ({ tenantConfig: () => ({ defaultLocale: 'en' }) }));

const record = (id: string, group: string) => ({
  messageId: id,
  body: JSON.stringify({ kind: 'stop', subscriptionId: `sub_${id}`, followerAccountId: group, reason: 'x', signalAtMsc: 1 }),
  attributes: { MessageGroupId: group },
});

describe('the executor’s batches', () => {
  beforeEach(() => replicate.mockReset());

  it('applies a group’s records in order; a failure fails it and the rest of its group, other groups go on', async () => {
    const { handler } = await import('#functions/workers/copy-executor.ts');
    const seen: string[] = [];
    replicate.mockImplementation(async (...args: unknown[]) => {
      const s = args[0] as { subscriptionId: string } | undefined;
      if (!s) return [];
      seen.push(s.subscriptionId);
      if (s.subscriptionId === 'sub_a2') throw new Error('platform unavailable');
      return [];
    });
    const event = {
      Records: [
        record('a1', 'A'),
        record('b1', 'B'),
        record('a2', 'A'),
        record('a3', 'A'),
        record('b2', 'B'),
        { messageId: 'x', body: '{', attributes: { MessageGroupId: 'C' } },
      ],
    } as unknown as SQSEvent;
    const res = await handler(event, {} as never);
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['a2', 'a3', 'x']);
    // group A stopped at a2 (a3 never ran); group B ran both, in order
    expect(seen.filter((s) => s.startsWith('sub_a'))).toEqual(['sub_a1', 'sub_a2']);
    expect(seen.filter((s) => s.startsWith('sub_b'))).toEqual(['sub_b1', 'sub_b2']);
  });
});
