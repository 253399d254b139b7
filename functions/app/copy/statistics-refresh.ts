/**
 * A strategy's statistics summary (issue 15): computed from the strategy account's daily equity snapshots and its
 * closed deals, with its followers and assets under copy, and stored on one item per strategy so the marketplace
 * sorts and filters without computing anything per request. The snapshot job refreshes it after each day's
 * snapshots (statistics-snapshot.ts).
 *
 * Invariants:
 * - the return statistics are domain/copy/statistics.ts's, on empyrical's convention (252 periods, sample standard
 *   deviation, drawdown from the starting equity), over the snapshots' time-weighted daily returns (flows at the end
 *   of the day: a deposit or withdrawal is never a return); the Sharpe ratio's risk-free rate is the tenant's
 *   copy.riskFreeRateBps a year (0 by default), Sortino's minimum acceptable return 0
 * - the trades are the account's closed deals (domain/copy/marketplace.ts closedDeals) stored after the first
 *   snapshot's cutoff and up to the last one's (flowsUntil): the same period as the equity series, deterministic
 *   for a given set of snapshots
 * - the risk score is marketplace.ts strategyRiskScore (the class of max(volatility, max drawdown)), not the
 *   volatility-only class of statistics.ts
 * - followers and assets under copy: statistics-shared.ts, evaluated at the refresh
 * - nothing here is NaN: statistics.ts answers null for what is undefined
 */
import { closedDeals, type DealRow, strategyRiskScore } from '#domain/copy/marketplace.ts';
import { type EquityPoint, strategyStatistics } from '#domain/copy/statistics.ts';
import { tenantConfig } from '#shared/tenant.ts';
import type { StrategyItem } from '#store/copy.ts';
import {
  accountSnapshots,
  type EquitySnapshotItem,
  putStrategyStats,
  type StrategyStatsItem,
  strategyStatsEntity,
} from '#store/copy-stats.ts';
import { accountDeals } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { followersAndAssets } from './statistics-shared.ts';

export type { EquitySnapshotItem, StrategyStatsItem } from '#store/copy-stats.ts';

/** The equity series of statistics.ts from stored snapshots (oldest first). */
export const equitySeries = (snapshots: readonly EquitySnapshotItem[]): EquityPoint[] =>
  snapshots.map((s) => ({ date: s.date, equity: BigInt(s.equity), netFlow: BigInt(s.netFlow) }));

/** The account's closed trades between the first and the last snapshot's cutoffs (module invariants). */
async function tradesOf(accountId: string, snapshots: readonly EquitySnapshotItem[]) {
  const first = snapshots[0];
  const last = snapshots.at(-1);
  if (!first || !last || snapshots.length < 2) return [];
  const rows: (DealRow & { createdAt: string })[] = [];
  for await (const page of accountDeals(accountId)) {
    for (const d of page) {
      if (d.action !== 'buy' && d.action !== 'sell') continue;
      rows.push({
        deal: d.deal,
        action: d.action,
        entry: d.entry,
        positionId: d.positionId,
        timeMsc: d.timeMsc,
        volume: BigInt(d.volume),
        profit: BigInt(d.profit),
        commission: BigInt(d.commission),
        storage: BigInt(d.storage),
        createdAt: d.createdAt,
      });
    }
  }
  return closedDeals(rows, (d) => d.createdAt > first.flowsUntil && d.createdAt <= last.flowsUntil);
}

/**
 * Computes and stores a strategy's summary for `day` (the snapshot day it follows); returns it. `now` is when it is
 * computed (tests).
 */
export async function refreshStrategyStatistics(
  input: { strategy: StrategyItem; day: string; now?: Date },
  _ctx: CommandContext,
): Promise<StrategyStatsItem> {
  const { strategy, day } = input;
  const riskFreeRateBps = tenantConfig().copy.riskFreeRateBps;
  const snapshots = await accountSnapshots(strategy.accountId);
  const trades = await tradesOf(strategy.accountId, snapshots);
  const stats = strategyStatistics(equitySeries(snapshots), trades, { riskFreeRate: riskFreeRateBps / 10_000 });
  const { followers, assetsUnderCopy } = await followersAndAssets(strategy.strategyId);
  const at = (input.now ?? new Date()).toISOString();
  const item = strategyStatsEntity.item(
    {
      strategyId: strategy.strategyId,
      accountId: strategy.accountId,
      currency: strategy.currency,
      refreshedFor: day,
      computedAt: at,
      firstDate: stats.firstDate,
      lastDate: stats.lastDate,
      days: stats.days,
      equity: snapshots.at(-1)?.equity ?? null,
      totalReturn: stats.totalReturn,
      annualReturn: stats.annualReturn,
      annualVolatility: stats.annualVolatility,
      sharpeRatio: stats.sharpeRatio,
      sortinoRatio: stats.sortinoRatio,
      calmarRatio: stats.calmarRatio,
      maxDrawdown: stats.maxDrawdown,
      currentDrawdown: stats.currentDrawdown,
      riskScore: strategyRiskScore(stats.annualVolatility, stats.maxDrawdown),
      trades: stats.trades,
      winRate: stats.winRate,
      profitFactor: stats.profitFactor,
      averageTradeDurationMs: stats.averageTradeDurationMs,
      grossProfit: stats.grossProfit.toString(),
      grossLoss: stats.grossLoss.toString(),
      netProfit: stats.netProfit.toString(),
      followers,
      assetsUnderCopy: assetsUnderCopy.toString(),
      riskFreeRateBps,
    },
    at,
  );
  await putStrategyStats(item);
  return item;
}
