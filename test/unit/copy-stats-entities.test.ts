/**
 * functions/store/copy-stats.ts: the daily equity snapshot and the strategy statistics summary, keyed by
 * functions/store/keys.ts copyStatsKeys (one snapshot per account and day, the summary beside its strategy), with no
 * index attributes, and a malformed stored item rejected with a StoredItemError naming the entity and attribute.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { equitySnapshotEntity, strategyStatsEntity } from '#store/copy-stats.ts';
import { StoredItemError } from '#store/entity.ts';
import { copyKeys } from '#store/keys.ts';

beforeAll(() => {
  process.env.TENANT ??= 'demo';
});

const T0 = '2026-03-01T22:10:00.000Z';
const snapshot = () =>
  equitySnapshotEntity.item(
    {
      accountId: 'tacc-1',
      date: '2026-03-01',
      currency: 'USD',
      equity: '1000000',
      netFlow: '-25000',
      flows: 1,
      equityAt: T0,
      flowsUntil: T0,
    },
    T0,
  );

describe('copy statistics entities', () => {
  it('a snapshot per account and day, ordered by day in the account’s partition, not indexed', () => {
    const s = snapshot();
    expect({ pk: s.pk, sk: s.sk }).toEqual({ pk: 'EQUITY#tacc-1', sk: 'DAY#2026-03-01' });
    expect(Object.keys(s).filter((k) => k.startsWith('gsi'))).toEqual([]);
  });

  it('the summary lives beside its strategy', () => {
    const s = strategyStatsEntity.item(
      {
        strategyId: 'st_1',
        accountId: 'tacc-1',
        currency: 'USD',
        refreshedFor: '2026-03-01',
        computedAt: T0,
        firstDate: null,
        lastDate: null,
        days: 0,
        equity: null,
        totalReturn: null,
        annualReturn: null,
        annualVolatility: null,
        sharpeRatio: null,
        sortinoRatio: null,
        calmarRatio: null,
        maxDrawdown: null,
        currentDrawdown: null,
        riskScore: null,
        trades: 0,
        winRate: null,
        profitFactor: null,
        averageTradeDurationMs: null,
        grossProfit: '0',
        grossLoss: '0',
        netProfit: '0',
        followers: 0,
        assetsUnderCopy: '0',
        riskFreeRateBps: 0,
      },
      T0,
    );
    expect({ pk: s.pk, sk: s.sk }).toEqual({ pk: copyKeys.strategy('st_1').pk, sk: 'STATS' });
  });

  it('a malformed snapshot is a StoredItemError naming the attribute', () => {
    const bad = { ...snapshot(), equity: '12.5' };
    expect(() => equitySnapshotEntity.parse(bad)).toThrowError(StoredItemError);
    expect(() => equitySnapshotEntity.parse(bad)).toThrowError(/equity-snapshot.*equity/);
  });
});
