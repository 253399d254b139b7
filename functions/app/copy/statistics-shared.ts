/**
 * What the copy-statistics use cases share (statistics-snapshot.ts, statistics-refresh.ts, strategies.ts,
 * provider-followers.ts; issue 15): the tenant's day, the followers of a strategy and their copy-account equity,
 * and a bounded-concurrency map.
 *
 * Invariants:
 * - followers are the strategy's subscriptions that are active or paused (a stopped one no longer copies)
 * - a follower's equity is its copy account's latest daily snapshot (written by the snapshot job), else the equity
 *   read from the platform when it started following (the copy state's startEquity): always a platform reading,
 *   never the money "invested"; assets under copy are their sum, in the strategy's currency (a follow requires it)
 */
import { calendarDate } from '#domain/copy/marketplace.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type SubscriptionItem, strategySubscriptions } from '#store/copy.ts';
import { latestSnapshot } from '#store/copy-stats.ts';
import { getCopyState } from '#store/copy-trades.ts';

/** The subscription statuses that count as following. */
export const FOLLOWING_STATUSES = ['active', 'paused'] as const;

/** Today in the tenant's time zone ('YYYY-MM-DD'). */
export const tenantToday = (now: Date = new Date()) => calendarDate(now, tenantConfig().timezone);

/** `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface FollowerEquity {
  /** Minor units of the strategy's currency; null when nothing was ever read. */
  equity: bigint | null;
  /** The snapshot's day, or the day the subscription started. */
  asOf: string | null;
  source: 'snapshot' | 'start' | 'none';
}

/** A follower's copy-account equity (module invariants). */
export async function followerEquity(s: SubscriptionItem): Promise<FollowerEquity> {
  const snap = await latestSnapshot(s.followerAccountId);
  if (snap) return { equity: BigInt(snap.equity), asOf: snap.date, source: 'snapshot' };
  const state = await getCopyState(s.subscriptionId);
  if (state) return { equity: BigInt(state.startEquity), asOf: tenantToday(new Date(s.createdAt)), source: 'start' };
  return { equity: null, asOf: null, source: 'none' };
}

/** Every active and paused subscription of a strategy. */
export async function followingSubscriptions(strategyId: string): Promise<SubscriptionItem[]> {
  const out: SubscriptionItem[] = [];
  for (const status of FOLLOWING_STATUSES) {
    for await (const page of strategySubscriptions(strategyId, status)) out.push(...page);
  }
  return out;
}

/** Followers (active and paused) and their assets under copy (module invariants), evaluated now. */
export async function followersAndAssets(strategyId: string): Promise<{ followers: number; assetsUnderCopy: bigint }> {
  const subs = await followingSubscriptions(strategyId);
  const equities = await mapLimit(subs, 16, followerEquity);
  return { followers: subs.length, assetsUnderCopy: equities.reduce((sum, e) => sum + (e.equity ?? 0n), 0n) };
}
