/**
 * The daily equity snapshot (issue 15): just after midnight in the tenant's time zone (job-copy-equity-snapshot),
 * every approved or hidden strategy's account and every copy account following one (active or paused) gets one
 * snapshot of the day that ended: its closing equity read from the platform and the net external flows since the
 * previous snapshot. Then each strategy's statistics summary is refreshed (statistics-refresh.ts).
 *
 * How the flows line up with the equity (time-weighted returns need F_t to be exactly the flows inside E_t - E_{t-1}):
 * 1. the equity of each account is read (equityAt);
 * 2. the deal stream is ingested for every platform read (functions/app/trading/ingest-deals.ts), so every deal the
 *    platform had made when the equity was read is stored; flowsUntil = when that finished;
 * 3. F_t = the account's balance deals (domain/copy/marketplace.ts EXTERNAL_FLOW_ACTIONS: deposits, withdrawals,
 *    credit, bonus) STORED after the previous snapshot's flowsUntil and up to this one's. The window is on our own
 *    clock (the deal item's createdAt), not on deal times: platforms stamp deals in their server's time zone (MT5:
 *    up to 14 hours off UTC). A balance operation made in the seconds between step 1 and the end of step 2 is
 *    counted one day early (a day's return too low, the next one's too high by the same amount); nothing is lost.
 *
 * Invariants:
 * - one snapshot per (account, day), put-if-absent (functions/store/copy-stats.ts): an account that has the day's
 *   snapshot is not read again, so a re-run the same day reads nothing, writes nothing and refreshes nothing; a
 *   run that failed part-way is completed by the next run of the day
 * - the day is the tenant-zone calendar date before the run's (`now`); a run that is late (a retry at 03:00) still
 *   writes the day that ended, with the equity it reads then. A day without a run has no row: the next row's return
 *   spans the gap (one period)
 * - an account whose platform read or deal ingestion fails gets no snapshot this run (counted in `failed`, logged:
 *   the job throws after recording, so the alarm fires); the others are written
 * - a summary is refreshed for each strategy whose summary is not for this day yet, or one of whose accounts (its
 *   own or a follower's) got a snapshot in this run
 */
import { EXTERNAL_FLOW_ACTIONS, previousDay } from '#domain/copy/marketplace.ts';
import { logger } from '#shared/powertools.ts';
import { type StrategyItem, strategiesInStatus } from '#store/copy.ts';
import { equitySnapshotEntity, getSnapshot, getStrategyStats, latestSnapshot, putSnapshotIfAbsent } from '#store/copy-stats.ts';
import { accountDealsFrom, getTradingAccount, type TradingAccountItem } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import { ingestDeals } from '../trading/ingest-deals.ts';
import { accountState } from '../trading/shared.ts';
import { refreshStrategyStatistics } from './statistics-refresh.ts';
import { followingSubscriptions, mapLimit, tenantToday } from './statistics-shared.ts';

export const COPY_EQUITY_SNAPSHOT_JOB = 'copy-equity-snapshot';

/** Strategies whose accounts are snapshotted: listed ones, and hidden ones (their followers still copy). */
const SNAPSHOT_STATUSES = ['approved', 'hidden'] as const;
/** Platform reads in flight at once (an MT5 session serialises them anyway). */
const READ_CONCURRENCY = 4;
/** How far before the previous cutoff deal times are searched for flows stored after it (server time zones). */
const FLOW_LOOKBACK_MS = 2 * 86_400_000;

export interface SnapshotRunResult {
  day: string;
  strategies: number;
  accounts: number;
  written: number;
  /** Accounts that had the day's snapshot already. */
  existing: number;
  failed: number;
  refreshed: number;
}

interface Reading {
  account: TradingAccountItem;
  equity: bigint;
  equityAt: string;
}

/** The net external flows of an account stored in (from, to] (module comment, step 3). */
export async function externalFlowsBetween(accountId: string, from: string, to: string): Promise<{ net: bigint; count: number }> {
  let net = 0n;
  let count = 0;
  if (to <= from) return { net, count };
  for await (const page of accountDealsFrom(accountId, Date.parse(from) - FLOW_LOOKBACK_MS)) {
    for (const d of page) {
      if (!EXTERNAL_FLOW_ACTIONS.includes(d.action) || d.createdAt <= from || d.createdAt > to) continue;
      net += BigInt(d.profit);
      count += 1;
    }
  }
  return { net, count };
}

/** One run (module comment); `now` picks the day (tests run it as of another day). */
export async function snapshotEquity(input: { now?: Date }, ctx: CommandContext): Promise<SnapshotRunResult> {
  const day = previousDay(tenantToday(input.now ?? new Date()));
  const result: SnapshotRunResult = { day, strategies: 0, accounts: 0, written: 0, existing: 0, failed: 0, refreshed: 0 };

  // what to snapshot: each strategy's account and its followers' copy accounts
  const strategies: StrategyItem[] = [];
  const accountsOf = new Map<string, Set<string>>(); // strategyId -> accounts
  const accounts = new Set<string>();
  for (const status of SNAPSHOT_STATUSES) {
    for await (const page of strategiesInStatus(status)) strategies.push(...page);
  }
  for (const s of strategies) {
    const mine = new Set([s.accountId]);
    for (const sub of await followingSubscriptions(s.strategyId)) mine.add(sub.followerAccountId);
    accountsOf.set(s.strategyId, mine);
    for (const a of mine) accounts.add(a);
  }
  result.strategies = strategies.length;
  result.accounts = accounts.size;

  // 1. read the equity of every account without the day's snapshot
  const readings = (
    await mapLimit([...accounts], READ_CONCURRENCY, async (accountId): Promise<Reading | undefined> => {
      if (await getSnapshot(accountId, day)) {
        result.existing += 1;
        return undefined;
      }
      try {
        const account = await getTradingAccount(accountId, { consistent: true });
        if (!account) throw new Error('trading account not found');
        const state = await accountState(account, { fresh: true });
        return { account, equity: state.equity, equityAt: new Date().toISOString() };
      } catch (err) {
        result.failed += 1;
        logger.error('equity snapshot: platform read failed', {
          accountId,
          day,
          error: (err as Error).name,
          message: (err as Error).message,
        });
        return undefined;
      }
    })
  ).filter((r): r is Reading => r !== undefined);

  // 2. every deal made before those readings is stored
  const ingested = new Set<string>();
  for (const platform of new Set(readings.map((r) => r.account.platform))) {
    try {
      await ingestDeals({ platform }, ctx);
      ingested.add(platform);
    } catch (err) {
      logger.error('equity snapshot: deal ingestion failed', {
        platform,
        day,
        error: (err as Error).name,
        message: (err as Error).message,
      });
    }
  }
  const flowsUntil = new Date().toISOString();

  // 3. the flows since each account's previous snapshot, and the day's snapshot, once
  const written = new Set<string>();
  await mapLimit(readings, READ_CONCURRENCY, async ({ account, equity, equityAt }) => {
    if (!ingested.has(account.platform)) {
      result.failed += 1;
      return;
    }
    const prev = await latestSnapshot(account.accountId, day);
    const flows = prev ? await externalFlowsBetween(account.accountId, prev.flowsUntil, flowsUntil) : { net: 0n, count: 0 };
    const item = equitySnapshotEntity.item(
      {
        accountId: account.accountId,
        date: day,
        currency: account.currency,
        equity: equity.toString(),
        netFlow: flows.net.toString(),
        flows: flows.count,
        equityAt,
        flowsUntil,
      },
      flowsUntil,
    );
    if (await putSnapshotIfAbsent(item)) {
      result.written += 1;
      written.add(account.accountId);
    } else result.existing += 1;
  });

  // 4. the statistics of every strategy this run changed (or whose summary is older than the day)
  for (const s of strategies) {
    const touched = [...(accountsOf.get(s.strategyId) ?? [])].some((a) => written.has(a));
    if (!touched && (await getStrategyStats(s.strategyId))?.refreshedFor === day) continue;
    try {
      await refreshStrategyStatistics({ strategy: s, day }, ctx);
      result.refreshed += 1;
    } catch (err) {
      result.failed += 1;
      logger.error('strategy statistics refresh failed', {
        strategyId: s.strategyId,
        day,
        error: (err as Error).name,
        message: (err as Error).message,
      });
    }
  }
  return result;
}
