/**
 * Strategies (issue 15): a provider submits one of its live trading accounts as a strategy (POST /v1/strategies),
 * staff moderate it (POST /v1/admin/strategies/{id}/decision), and clients read the marketplace (GET
 * /v1/strategies, GET /v1/strategies/{id}).
 *
 * Invariants:
 * - a submission is checked whole before anything is written: the provider's KYC (403 kyc_required), its account
 *   (404 trading_account_not_found unless its own, 409 trading_account_not_active, 422 strategy_needs_live_account),
 *   the fees against the caps (domain/copy/fees.ts: *_over_cap, invalid_fee_*), the money (parseMoney codes,
 *   currency_mismatch: fees and minimum are in the account's currency)
 * - exactly once per Idempotency-Key (the strategy id is derived from it); the strategy, the account's claim
 *   (one strategy per account: 409 account_already_a_strategy), the audit entry and copy.strategy.submitted are
 *   one transaction
 * - a decision follows domain/copy/strategies.ts (409 strategy_decision_not_allowed), carries a reason, and is
 *   one transaction with its audit entry (actor: the staff member) and copy.strategy.decided, conditioned on the
 *   version read
 * - the marketplace lists approved public strategies only; one strategy is readable by anyone signed in when
 *   followable, by its provider always, and by staff; otherwise 404 strategy_not_found
 * - every strategy is shown with its statistics summary (statistics-refresh.ts, refreshed daily by the snapshot
 *   job; none yet: no history) and whether it is new: younger than the tenant's copy.minRankedDays counted from its
 *   first daily snapshot to today (tenant time zone), or without history. The marketplace filters, sorts and ranks
 *   them with domain/copy/marketplace.ts rankStrategies (ranked ones first, rank 1..n; new ones after, no rank),
 *   over every strategy of the status (at most MARKETPLACE_MAX) and their summaries, one BatchGet per 100; its
 *   cursor is an offset bound to the query it was made for (another query's cursor: 400 invalid_cursor)
 * - one strategy's view adds its daily equity curve (date, equity, net flow, time-weighted return)
 */
import { createHash } from 'node:crypto';
import { assertFeeConfig, type CopyFeeConfig, DEFAULT_FEE_POLICY } from '#domain/copy/fees.ts';
import { type MarketplaceSort, rankStrategies } from '#domain/copy/marketplace.ts';
import { dailyReturns, isRanked, strategyAgeDays } from '#domain/copy/statistics.ts';
import { decide, isFollowable, type StrategyDecision, type StrategyVisibility, strategyIdFor } from '#domain/copy/strategies.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { formatAmount, type MoneyJson, toMinor } from '#domain/money/index.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import {
  getStrategy,
  newStrategyWrites,
  STRATEGY_ENTITY,
  type StrategyItem,
  strategiesInStatus,
  strategyEntity,
  strategyNotFound,
  strategySnapshot,
} from '#store/copy.ts';
import { accountSnapshots, getStrategyStats, getStrategyStatsMany, type StrategyStatsItem } from '#store/copy-stats.ts';
import type { CommandContext } from '../context.ts';
import { activeLogin, idempotencyKeyReused, ownAccount, requestHashOf, requireKey } from '../trading/shared.ts';
import { equitySeries } from './statistics-refresh.ts';
import { tenantToday } from './statistics-shared.ts';

export type { StrategyItem } from '#store/copy.ts';
export type { StrategyStatsItem } from '#store/copy-stats.ts';

/** The most strategies of one status the marketplace ranks per request. */
export const MARKETPLACE_MAX = 5_000;

/** A strategy as the marketplace shows it: its summary (none before its first snapshot), its age and newness. */
export interface StrategyListing {
  strategy: StrategyItem;
  stats: StrategyStatsItem | undefined;
  ageDays: number;
  isNew: boolean;
  /** In a marketplace list: 1..n among the ranked strategies of its order; null for a new one. */
  rank?: number | null;
}

/** One day of a strategy's equity curve (minor units; return null on the first day and after a day with nothing at risk). */
export interface CurvePoint {
  date: string;
  equity: bigint;
  netFlow: bigint;
  return: number | null;
}

function listingOf(strategy: StrategyItem, stats: StrategyStatsItem | undefined, asOf: string): StrategyListing {
  const firstDate = stats?.firstDate ?? null;
  return {
    strategy,
    stats,
    ageDays: strategyAgeDays(firstDate, asOf),
    isNew: !isRanked(firstDate, asOf, tenantConfig().copy.minRankedDays),
  };
}

const PROVIDERS: readonly Role[] = ['client'];
export const STRATEGY_MODERATORS: readonly Role[] = ['compliance', 'admin'];

export interface SubmitStrategyInput {
  accountId: string;
  name: string;
  description: string;
  fees: { performanceBps: number; managementBpsPerYear: number; volumePerMillion: MoneyJson; subscriptionPerMonth: MoneyJson };
  minInvestment: MoneyJson;
  visibility: StrategyVisibility;
}

const eventDetail = (s: StrategyItem) => ({
  strategyId: s.strategyId,
  providerClientId: s.providerClientId,
  accountId: s.accountId,
  name: s.name,
  currency: s.currency,
  performanceBps: s.fees.performanceBps,
  managementBpsPerYear: s.fees.managementBpsPerYear,
  minInvestment: s.minInvestment.amount,
  status: s.status,
});

const moneyIn = (m: MoneyJson, currency: string, field: string) => {
  if (m?.currency !== currency) {
    throw new DomainError('currency_mismatch', 'unprocessable', `Amounts of this strategy are in ${currency}`, [
      { field: `${field}.currency`, code: 'currency_mismatch', message: `Must be ${currency}` },
    ]);
  }
  // zero is a valid fee or minimum (parseMoney refuses it: it parses amounts to move)
  let parsed: bigint;
  try {
    parsed = /^\d{1,15}(\.\d+)?$/.test(String(m.amount)) ? toMinor(String(m.amount), currency) : -1n;
  } catch {
    parsed = -1n;
  }
  if (parsed < 0n) {
    throw new DomainError(
      'invalid_amount',
      'validation',
      `${field} must be a plain decimal string with at most the currency's decimals`,
      [{ field: `${field}.amount`, code: 'invalid_amount', message: 'Invalid amount' }],
    );
  }
  return { minor: parsed, json: { amount: formatAmount(parsed, currency), currency } };
};

export async function submitStrategy(
  input: SubmitStrategyInput,
  caller: Caller,
  ctx: CommandContext,
): Promise<{ strategy: StrategyItem; replayed: boolean; listing: StrategyListing }> {
  const key = requireKey(ctx.idempotencyKey, 'Submitting a strategy');
  const actor = actorFrom(caller, PROVIDERS);
  const strategyId = strategyIdFor(caller.sub, key);
  const requestHash = requestHashOf(input);
  const prior = await getStrategy(strategyId, { consistent: true });
  if (prior) {
    if (prior.requestHash !== requestHash) throw idempotencyKeyReused();
    return { strategy: prior, replayed: true, listing: listingOf(prior, await getStrategyStats(strategyId), tenantToday()) };
  }
  const profile = await getClientProfile(caller.sub);
  if (profile?.kycStatus !== 'approved') {
    throw new DomainError('kyc_required', 'forbidden', 'Your identity must be verified before you offer a strategy');
  }
  const account = await ownAccount(input.accountId, caller);
  const login = activeLogin(account);
  if (account.kind !== 'live') {
    throw new DomainError('strategy_needs_live_account', 'unprocessable', 'A strategy is a live account', [
      { field: 'accountId', code: 'strategy_needs_live_account', message: 'Not a live account' },
    ]);
  }
  const cur = account.currency;
  const volume = moneyIn(input.fees.volumePerMillion, cur, 'fees.volumePerMillion');
  const subscription = moneyIn(input.fees.subscriptionPerMonth, cur, 'fees.subscriptionPerMonth');
  const minimum = moneyIn(input.minInvestment, cur, 'minInvestment');
  const fees: CopyFeeConfig = {
    currency: cur,
    performanceBps: input.fees.performanceBps,
    managementBpsPerYear: input.fees.managementBpsPerYear,
    volumePerMillion: volume.minor,
    subscriptionPerMonth: subscription.minor,
  };
  assertFeeConfig(fees, DEFAULT_FEE_POLICY);

  const at = new Date().toISOString();
  const strategy = strategyEntity.item(
    {
      strategyId,
      providerClientId: caller.sub,
      accountId: account.accountId,
      platform: account.platform,
      server: account.server,
      login,
      currency: cur,
      name: input.name,
      description: input.description,
      fees: {
        performanceBps: fees.performanceBps,
        managementBpsPerYear: fees.managementBpsPerYear,
        volumePerMillion: volume.json,
        subscriptionPerMonth: subscription.json,
      },
      minInvestment: minimum.json,
      visibility: input.visibility,
      status: 'pending_review',
      idempotencyKey: key,
      requestHash,
    },
    at,
  );
  try {
    await commit({
      writes: newStrategyWrites(strategy, at),
      audit: {
        actor,
        action: 'copy.strategy.submitted',
        entity: { type: STRATEGY_ENTITY, id: strategyId },
        newEntity: true,
        clientId: caller.sub,
        before: null,
        after: strategySnapshot(strategy),
        requestId: ctx.requestId,
      },
      outbox: [{ detailType: 'copy.strategy.submitted', detail: eventDetail(strategy) }],
    });
  } catch (err) {
    if (isDomainError(err) && err.code === 'strategy_exists') return submitStrategy(input, caller, ctx);
    throw err;
  }
  // a new strategy has no snapshot yet: no history, new
  return { strategy, replayed: false, listing: listingOf(strategy, undefined, tenantToday()) };
}

export async function decideStrategy(
  input: { strategyId: string; decision: StrategyDecision; reason: string },
  caller: Caller,
  ctx: CommandContext,
): Promise<StrategyListing> {
  const actor = actorFrom(caller, STRATEGY_MODERATORS);
  const s = await getStrategy(input.strategyId, { consistent: true });
  if (!s) throw strategyNotFound();
  const status = decide(s.status, input.decision);
  const at = new Date().toISOString();
  const next = { ...s, status, statusReason: input.reason, decidedBy: caller.sub, decidedAt: at };
  const after = strategyEntity.replaced(s, next, at);
  await commit({
    writes: [strategyEntity.replace(s, next, at)],
    audit: {
      actor,
      action: `copy.strategy.${input.decision}`,
      entity: { type: STRATEGY_ENTITY, id: s.strategyId },
      clientId: s.providerClientId,
      before: strategySnapshot(s),
      after: { ...strategySnapshot(after), reason: input.reason },
      requestId: ctx.requestId,
    },
    outbox: [
      { detailType: 'copy.strategy.decided', detail: { ...eventDetail(after), reason: input.reason, decidedBy: caller.sub } },
    ],
  });
  return listingOf(after, await getStrategyStats(after.strategyId), tenantToday());
}

export interface ListStrategiesInput {
  status?: string | undefined;
  limit: number;
  cursor?: string | undefined;
  sort: MarketplaceSort;
  order?: 'asc' | 'desc' | undefined;
  riskScoreMax?: number | undefined;
  ageDaysMin?: number | undefined;
  currency?: string | undefined;
  /** A fraction (0.25 = 25 %). */
  maxDrawdownMax?: number | undefined;
  /** true: ranked only; false: new only. */
  ranked?: boolean | undefined;
}

const invalidCursor = () => new DomainError('invalid_cursor', 'validation', 'The cursor is not valid for this list');

/** The offset a cursor carries, if it was made for the query of `signature`. */
function offsetOf(cursor: string | undefined, signature: string): number {
  if (cursor === undefined) return 0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const c = parsed as { o?: unknown; q?: unknown } | null;
  if (!c || typeof c !== 'object' || c.q !== signature || !Number.isSafeInteger(c.o) || (c.o as number) < 0)
    throw invalidCursor();
  return c.o as number;
}

/** The marketplace (approved, public), or for moderators any status: filtered, sorted and ranked (module invariants). */
export async function listStrategies(input: ListStrategiesInput, caller: Caller, _ctx: CommandContext) {
  const staff = caller.isStaff && caller.roles.some((r) => STRATEGY_MODERATORS.includes(r));
  const status = staff && input.status ? input.status : 'approved';
  const { limit: _limit, cursor: _cursor, ...query } = input;
  const signature = createHash('sha256')
    .update(JSON.stringify({ ...query, status }))
    .digest('base64url')
    .slice(0, 16);
  const offset = offsetOf(input.cursor, signature);

  const strategies: StrategyItem[] = [];
  for await (const page of strategiesInStatus(status)) {
    strategies.push(...(staff ? page : page.filter(isFollowable)));
    if (strategies.length >= MARKETPLACE_MAX) {
      logger.warn('marketplace: more strategies than ranked per request', { status, max: MARKETPLACE_MAX });
      break;
    }
  }
  const summaries = new Map(
    (await getStrategyStatsMany(strategies.slice(0, MARKETPLACE_MAX).map((s) => s.strategyId))).map((x) => [x.strategyId, x]),
  );
  const ranked = rankStrategies(
    strategies.slice(0, MARKETPLACE_MAX).map((strategy) => {
      const stats = summaries.get(strategy.strategyId);
      return {
        strategy,
        stats,
        strategyId: strategy.strategyId,
        createdAt: strategy.createdAt,
        currency: strategy.currency,
        firstDate: stats?.firstDate ?? null,
        totalReturn: stats?.totalReturn ?? null,
        annualReturn: stats?.annualReturn ?? null,
        sharpeRatio: stats?.sharpeRatio ?? null,
        sortinoRatio: stats?.sortinoRatio ?? null,
        calmarRatio: stats?.calmarRatio ?? null,
        maxDrawdown: stats?.maxDrawdown ?? null,
        annualVolatility: stats?.annualVolatility ?? null,
        winRate: stats?.winRate ?? null,
        riskScore: stats?.riskScore ?? null,
        followers: stats?.followers ?? 0,
        assetsUnderCopy: BigInt(stats?.assetsUnderCopy ?? '0'),
      };
    }),
    {
      sort: input.sort,
      order: input.order,
      asOf: tenantToday(),
      minRankedDays: tenantConfig().copy.minRankedDays,
      filters: {
        riskScoreMax: input.riskScoreMax,
        ageDaysMin: input.ageDaysMin,
        currency: input.currency,
        maxDrawdownMax: input.maxDrawdownMax,
        ranked: input.ranked,
      },
    },
  );
  const page = ranked.slice(offset, offset + input.limit);
  const hasMore = offset + input.limit < ranked.length;
  const items: StrategyListing[] = page.map((r) => ({
    strategy: r.item.strategy,
    stats: r.item.stats,
    ageDays: r.ageDays,
    isNew: r.isNew,
    rank: r.rank,
  }));
  return {
    items,
    hasMore,
    ...(hasMore
      ? { nextCursor: Buffer.from(JSON.stringify({ o: offset + input.limit, q: signature }), 'utf8').toString('base64url') }
      : {}),
  };
}

/** One strategy, if the caller may read it (module invariants), with its statistics and its daily equity curve. */
export async function readStrategy(
  input: { strategyId: string },
  caller: Caller,
  _ctx: CommandContext,
): Promise<StrategyListing & { curve: CurvePoint[] }> {
  const s = await getStrategy(input.strategyId, { consistent: true });
  const staff = caller.isStaff;
  if (!s || !(isFollowable(s) || s.providerClientId === caller.sub || staff)) throw strategyNotFound();
  const [stats, snapshots] = await Promise.all([getStrategyStats(s.strategyId), accountSnapshots(s.accountId)]);
  const series = equitySeries(snapshots);
  const returns = dailyReturns(series);
  return {
    ...listingOf(s, stats, tenantToday()),
    curve: series.map((p, i) => ({ date: p.date, equity: p.equity, netFlow: p.netFlow, return: returns[i] ?? null })),
  };
}
