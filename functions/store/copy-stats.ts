/**
 * Copy-trading statistics items (keys: functions/store/keys.ts copyStatsKeys; rules: domain/copy/statistics.ts and
 * marketplace.ts; use cases: functions/app/copy/statistics-*.ts; issue 15, ADR 0017): the daily equity snapshot of
 * a trading account (a strategy's, or a follower's copy account) and the precomputed statistics summary of a
 * strategy.
 *
 * Invariants:
 * - every item is declared once with defineEntity; reads parse
 * - a snapshot is put-if-absent per (account, day) and never changed: a second writer of the same day (a re-run, a
 *   concurrent run) writes nothing and learns it lost. Snapshots and summaries are derived, reproducible readings
 *   (the platform's equity, the deal stream's balance operations), written without an audit entry like the deal
 *   cursor's checkedAt; the job run records what it did
 * - money is an integer string of minor units of the account currency; ratios are numbers or null, never NaN
 * - a summary is rewritten whole by each refresh (last writer wins: every writer computes it from the same items)
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ddb } from '#shared/clients.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { tableName } from './items.ts';
import { copyStatsKeys } from './keys.ts';

const int = z.string().regex(/^-?\d+$/);
const DATE = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const EquitySnapshotSchema = z.object({
  accountId: z.string().min(1),
  /** The tenant day whose closing equity this is ('YYYY-MM-DD'). */
  date: DATE,
  currency: z.string().min(1),
  /** Equity read from the platform just after the day ended (minor units). */
  equity: int,
  /**
   * Net external flows (deposits, credit and bonus in, minus what went out) applied between the previous snapshot's
   * reading and this one: balance deals stored after the previous snapshot's flowsUntil and up to this one's. 0 on
   * an account's first snapshot (its return is undefined anyway).
   */
  netFlow: int,
  /** How many balance operations netFlow sums. */
  flows: z.number().int().min(0),
  /** When the equity was read (ISO). */
  equityAt: z.string().min(1),
  /** Every deal the platform had made when the equity was read was stored by this time (ISO): the flows' cutoff. */
  flowsUntil: z.string().min(1),
});

export const equitySnapshotEntity = defineEntity({
  type: copyStatsKeys.snapshotType,
  schema: EquitySnapshotSchema,
  key: (s) => copyStatsKeys.snapshot(s.accountId, s.date),
  what: 'equity snapshot',
});
export type EquitySnapshotItem = ItemOf<typeof equitySnapshotEntity>;

const ratio = z.number().nullable();

export const StrategyStatsSchema = z.object({
  strategyId: z.string().min(1),
  accountId: z.string().min(1),
  currency: z.string().min(1),
  /** The tenant day the refresh was made for (the job's snapshot day): a re-run that day refreshes nothing. */
  refreshedFor: DATE,
  computedAt: z.string().min(1),
  firstDate: DATE.nullable(),
  lastDate: DATE.nullable(),
  days: z.number().int().min(0),
  /** The last snapshot's equity (minor units); null without one. */
  equity: int.nullable(),
  totalReturn: ratio,
  annualReturn: ratio,
  annualVolatility: ratio,
  sharpeRatio: ratio,
  sortinoRatio: ratio,
  calmarRatio: ratio,
  maxDrawdown: ratio,
  currentDrawdown: ratio,
  riskScore: z.number().int().min(1).max(10).nullable(),
  trades: z.number().int().min(0),
  winRate: ratio,
  profitFactor: ratio,
  averageTradeDurationMs: ratio,
  grossProfit: int,
  grossLoss: int,
  netProfit: int,
  /** Active and paused subscriptions. */
  followers: z.number().int().min(0),
  /** Sum of the followers' copy-account equity (latest snapshot, else the equity read when they started). */
  assetsUnderCopy: int,
  /** The Sharpe ratio's annual risk-free rate (basis points) when it was computed. */
  riskFreeRateBps: z.number().int().min(0),
});

export const strategyStatsEntity = defineEntity({
  type: copyStatsKeys.statsType,
  schema: StrategyStatsSchema,
  key: (s) => copyStatsKeys.stats(s.strategyId),
  what: 'strategy statistics',
});
export type StrategyStatsItem = ItemOf<typeof strategyStatsEntity>;

/** Writes a day's snapshot unless the account has one for that day: true when this call wrote it. */
export async function putSnapshotIfAbsent(item: EquitySnapshotItem): Promise<boolean> {
  try {
    await ddb().send(
      new PutCommand({
        TableName: tableName(),
        Item: equitySnapshotEntity.indexed(item) as unknown as Record<string, unknown>,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

export const getSnapshot = (accountId: string, date: string) =>
  equitySnapshotEntity.get(copyStatsKeys.snapshot(accountId, date), { consistent: true });

/** The account's latest snapshot of a day before `date` (every day when absent). */
export async function latestSnapshot(accountId: string, before?: string): Promise<EquitySnapshotItem | undefined> {
  for await (const page of equitySnapshotEntity.queryPages({
    // the partition holds DAY# items only
    KeyConditionExpression: before ? 'pk = :p AND sk < :before' : 'pk = :p',
    ExpressionAttributeValues: {
      ':p': copyStatsKeys.snapshotPartition(accountId),
      ...(before ? { ':before': copyStatsKeys.snapshot(accountId, before).sk } : {}),
    },
    ScanIndexForward: false,
    Limit: 1,
    ConsistentRead: true,
  })) {
    if (page.length > 0) return page[0];
  }
  return undefined;
}

/** Every snapshot of an account, oldest first. */
export async function accountSnapshots(accountId: string): Promise<EquitySnapshotItem[]> {
  const out: EquitySnapshotItem[] = [];
  for await (const page of equitySnapshotEntity.queryPages({
    KeyConditionExpression: 'pk = :p AND begins_with(sk, :d)',
    ExpressionAttributeValues: { ':p': copyStatsKeys.snapshotPartition(accountId), ':d': copyStatsKeys.dayPrefix },
    ConsistentRead: true,
  })) {
    out.push(...page);
  }
  return out;
}

/** Replaces a strategy's summary with `item`. */
export async function putStrategyStats(item: StrategyStatsItem): Promise<void> {
  await ddb().send(
    new PutCommand({ TableName: tableName(), Item: strategyStatsEntity.indexed(item) as unknown as Record<string, unknown> }),
  );
}

export const getStrategyStats = (strategyId: string) =>
  strategyStatsEntity.get(copyStatsKeys.stats(strategyId), { consistent: true });

/** The summaries of these strategies (missing ones absent). */
export const getStrategyStatsMany = (strategyIds: readonly string[]) =>
  strategyStatsEntity.getMany(strategyIds.map((id) => copyStatsKeys.stats(id)));
