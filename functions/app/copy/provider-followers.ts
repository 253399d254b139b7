/**
 * The provider's view of a strategy's followers (issue 15): GET /v1/strategies/{id}/followers. Its provider and
 * staff who read trading accounts see how many follow it, its assets under copy, and a page of its subscriptions,
 * each with its status, start (and stop) date and copy-account equity.
 *
 * Invariants:
 * - only the strategy's provider and staff in TRADING_STAFF_READERS read it; anyone else gets 404
 *   strategy_not_found (a client asking is a cross-client probe), so followers cannot be counted by outsiders
 * - nothing identifies a follower: no client id, account id, login, name or subscription id; each follower is an
 *   anonymised id, sha256(strategy id, follower client id) cut to 16 hex digits, stable across its subscriptions to
 *   this strategy (a returning follower is recognisable) and unlinkable across strategies
 * - followers and assets under copy are statistics-shared.ts's (active and paused subscriptions; each copy account's
 *   latest daily snapshot, else the equity read when it started), evaluated when asked; a page item's equity is
 *   the same reading, with its day
 * - fee income is the provider's share of the strategy's completed fee charges (functions/store/copy-fees.ts),
 *   summed when asked (one query over the strategy's charges)
 */
import { createHash } from 'node:crypto';
import type { Caller } from '#domain/identity/roles.ts';
import { formatAmount, type MoneyJson } from '#domain/money/index.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import { getStrategy, listStrategySubscriptions, type StrategyItem, strategyNotFound } from '#store/copy.ts';
import { strategyFeeIncome } from '#store/copy-fees.ts';
import type { CommandContext } from '../context.ts';
import { TRADING_STAFF_READERS } from '../trading/shared.ts';
import { type FollowerEquity, followerEquity, followersAndAssets, mapLimit } from './statistics-shared.ts';

export interface FollowerRow {
  followerId: string;
  status: 'active' | 'paused' | 'stopped';
  startedAt: string;
  stoppedAt?: string | undefined;
  equity: FollowerEquity;
}

export interface ProviderFollowers {
  strategyId: string;
  currency: string;
  followers: number;
  assetsUnderCopy: bigint;
  /** The provider's fee income from this strategy: its share of every completed charge. */
  feeIncome: MoneyJson;
  items: FollowerRow[];
  hasMore: boolean;
  nextCursor?: string | undefined;
}

export const anonymisedFollowerId = (strategyId: string, followerClientId: string) =>
  `f_${createHash('sha256').update(`${strategyId}\u0000${followerClientId}`, 'utf8').digest('hex').slice(0, 16)}`;

/** The provider's fee income from a strategy: its share of the strategy's completed charges. */
const feeIncomeOf = async (strategy: StrategyItem): Promise<MoneyJson> => ({
  amount: formatAmount(await strategyFeeIncome(strategy.strategyId), strategy.currency),
  currency: strategy.currency,
});

export async function listFollowers(
  input: { strategyId: string; status?: 'active' | 'paused' | 'stopped' | undefined; limit: number; cursor?: string | undefined },
  caller: Caller,
  _ctx: CommandContext,
): Promise<ProviderFollowers> {
  const s = await getStrategy(input.strategyId, { consistent: true });
  const staff = caller.isStaff && caller.roles.some((r) => TRADING_STAFF_READERS.includes(r));
  if (!s || !(staff || s.providerClientId === caller.sub)) {
    throw crossClientProbe(strategyNotFound(), caller, s?.providerClientId ?? caller.sub);
  }
  const [page, totals, feeIncome] = await Promise.all([
    listStrategySubscriptions(s.strategyId, { status: input.status, limit: input.limit, cursor: input.cursor }),
    followersAndAssets(s.strategyId),
    feeIncomeOf(s),
  ]);
  const items = await mapLimit(page.items, 16, async (sub) => ({
    followerId: anonymisedFollowerId(s.strategyId, sub.followerClientId),
    status: sub.status,
    startedAt: sub.createdAt,
    ...(sub.stoppedAt ? { stoppedAt: sub.stoppedAt } : {}),
    equity: await followerEquity(sub),
  }));
  return {
    strategyId: s.strategyId,
    currency: s.currency,
    followers: totals.followers,
    assetsUnderCopy: totals.assetsUnderCopy,
    feeIncome,
    items,
    hasMore: page.hasMore,
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
}
