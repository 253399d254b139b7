/**
 * Copy trading strategies (issue 15): a client offers a live account as a strategy, clients read the marketplace,
 * compliance and admins moderate. Use cases: functions/app/copy/strategies.ts.
 *
 * Invariants: the marketplace lists approved public strategies; a strategy nobody may follow yet is 404 to
 * everyone but its provider and staff; a decision needs a reason (3-500 characters); fees are integer basis
 * points and money objects in the account's currency. Every strategy is shown with its statistics (the daily
 * summary of functions/app/copy/statistics-refresh.ts) and whether it is new (not ranked); the marketplace sorts,
 * filters and ranks, one strategy adds its daily equity curve, and its provider (and staff) read its followers.
 * Numbers on the wire: ratios are decimal strings with RATIO_DECIMALS decimals or null (undefined), never NaN;
 * money is a money object; counts are integers. A follower reads each copy of its subscription: the provider's and
 * its own fill, latency and slippage, or why it was skipped.
 */
import * as z from 'zod';
import { listFollowers, type ProviderFollowers } from '#app/copy/provider-followers.ts';
import {
  type CurvePoint,
  decideStrategy,
  listStrategies,
  readStrategy,
  STRATEGY_MODERATORS,
  type StrategyListing,
  submitStrategy,
} from '#app/copy/strategies.ts';
import {
  type CopyTradeItem,
  changeSubscription,
  follow,
  listCopies,
  listMySubscriptions,
  readSubscription,
  type SubscriptionItem,
} from '#app/copy/subscriptions.ts';
import { MoneyJson } from '#app/ledger/schemas.ts';
import { TRADING_STAFF_READERS } from '#app/trading/shared.ts';
import { MARKETPLACE_SORTS } from '#domain/copy/marketplace.ts';
import { STRATEGY_DECISIONS, STRATEGY_STATUSES, STRATEGY_VISIBILITIES } from '#domain/copy/strategies.ts';
import type { Role } from '#domain/identity/roles.ts';
import { text } from '#domain/messages/catalogue.ts';
import { formatAmount } from '#domain/money/index.ts';
import { formatPoints } from '#domain/trading/model.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { copyFeeRoutes } from './shared/copy-fee-routes.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';

const CLIENT: readonly Role[] = ['client'];
const READERS: readonly Role[] = ['client', ...TRADING_STAFF_READERS];

const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
const StrategyParams = z.strictObject({ strategyId: Id });
const bps = z.number().int().min(0).max(10_000);

export const StrategyBody = z.strictObject({
  accountId: Id.meta({ description: 'One of your live trading accounts' }),
  name: z.string().trim().min(3).max(60),
  description: z.string().trim().max(2000).default(''),
  fees: z.strictObject({
    performanceBps: bps.meta({ description: 'Of new profit above the follower’s high-water mark' }),
    managementBpsPerYear: bps,
    volumePerMillion: MoneyJson.meta({ description: 'Per 1,000,000 of notional per side' }),
    subscriptionPerMonth: MoneyJson,
  }),
  minInvestment: MoneyJson,
  visibility: z.enum(STRATEGY_VISIBILITIES).default('public'),
});
const DecisionBody = z.strictObject({ decision: z.enum(STRATEGY_DECISIONS), reason: z.string().trim().min(3).max(500) });
const ListQuery = z.strictObject({
  status: z.enum(STRATEGY_STATUSES).optional().meta({ description: 'Moderators only; others always get approved' }),
  limit: limitParam(100, 50),
  cursor: cursorParam.optional(),
  sort: z.enum(MARKETPLACE_SORTS).default('newest').meta({
    description:
      'Ranked strategies first, then new ones, each in this order (unknown values last). Natural direction: descending for newest, return, annual_return, sharpe, sortino, calmar, win_rate, followers, aum (assets under copy) and age; ascending for max_drawdown, volatility and risk',
  }),
  order: z.enum(['asc', 'desc']).optional().meta({ description: 'Overrides the sort’s natural direction' }),
  riskScoreMax: z.coerce.number().int().min(1).max(10).optional().meta({ description: 'Risk score at most this (1-10)' }),
  ageDaysMin: z.coerce.number().int().min(0).max(36_500).optional().meta({ description: 'Days of history at least this' }),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  maxDrawdownMax: z
    .string()
    .regex(/^(0(\.\d{1,6})?|1(\.0{1,6})?)$/)
    .transform(Number)
    .optional()
    .meta({ description: 'Maximum drawdown at most this fraction (0.25 = 25 %)' }),
  ranked: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .meta({ description: 'true: ranked strategies only; false: new ones only' }),
});

const Money = z.object({ amount: z.string(), currency: z.string() });
/** Decimals of every ratio on the wire. */
export const RATIO_DECIMALS = 6;
const Ratio = (description: string) =>
  z
    .string()
    .nullable()
    .meta({ description: `${description}; null when undefined` });
export const StrategyStatisticsView = z
  .object({
    asOf: z.string().nullable().meta({ description: 'The last day of the equity series (tenant time zone)' }),
    firstDate: z.string().nullable().meta({ description: 'The first day of the equity series' }),
    computedAt: z.string().nullable().meta({ description: 'When the summary was computed; null: no daily snapshot yet' }),
    days: z.number().int().meta({ description: 'Days in the equity series' }),
    equity: Money.nullable().meta({ description: 'The last daily closing equity' }),
    totalReturn: Ratio('Time-weighted return over the series, a fraction'),
    annualReturn: Ratio('Compound annual growth rate on 252 periods a year'),
    annualVolatility: Ratio('Sample standard deviation of the daily returns x sqrt(252)'),
    sharpeRatio: Ratio('Annualised, over the tenant’s risk-free rate (riskFreeRateBps)'),
    sortinoRatio: Ratio('Annualised, minimum acceptable return 0; null without a losing day'),
    calmarRatio: Ratio('annualReturn / maxDrawdown; null without a drawdown'),
    maxDrawdown: Ratio('Largest fall from a peak, a positive fraction, measured from the starting equity'),
    currentDrawdown: Ratio('Fall from the peak on the last day'),
    riskScore: z.number().int().nullable().meta({
      description: '1-10: the volatility class of max(annualVolatility, maxDrawdown); null with fewer than two returns',
    }),
    trades: z.number().int().meta({ description: 'Closed trades in the period of the equity series' }),
    winRate: Ratio('Trades with a profit / trades'),
    profitFactor: Ratio('Gross profit / gross loss; null without a losing trade'),
    averageTradeDurationSeconds: z.string().nullable().meta({ description: 'Whole seconds; null without trades' }),
    netProfit: Money.meta({ description: 'Of the closed trades, commission and swap included' }),
    followers: z.number().int().meta({ description: 'Active and paused subscriptions' }),
    assetsUnderCopy: Money.meta({ description: 'Sum of the followers’ copy-account equity (latest daily snapshot)' }),
    riskFreeRateBps: z.number().int().nullable(),
  })
  .meta({
    description:
      'On empyrical’s convention: daily time-weighted returns (deposits and withdrawals neutralised), 252 periods a year, sample standard deviation, risk-free rate 0 unless the tenant sets one, drawdown from the starting equity. As of the daily snapshot (computedAt)',
  });
export const StrategyView = z.object({
  strategyId: z.string(),
  name: z.string(),
  description: z.string(),
  currency: z.string(),
  fees: z.object({
    performanceBps: z.number(),
    managementBpsPerYear: z.number(),
    volumePerMillion: Money,
    subscriptionPerMonth: Money,
  }),
  minInvestment: Money,
  visibility: z.enum(STRATEGY_VISIBILITIES),
  status: z.enum(STRATEGY_STATUSES),
  statusReason: z.string().optional(),
  isNew: z.boolean().meta({
    description: 'Younger than the tenant’s minimum (days from its first daily snapshot), or no history yet: shown, not ranked',
  }),
  rank: z
    .number()
    .int()
    .nullable()
    .optional()
    .meta({ description: 'Lists only: 1..n among the ranked strategies in this order; null for a new one' }),
  ageDays: z.number().int().meta({ description: 'Days from its first daily snapshot to today' }),
  statistics: StrategyStatisticsView,
  disclosures: z
    .object({
      pastPerformance: z.string(),
      risk: z.string(),
      fees: z.string(),
      newStrategy: z.string().optional(),
    })
    .meta({ description: 'The regulatory texts shown before following, in the client’s language (Accept-Language)' }),
  createdAt: z.string(),
});
export const StrategyDetailView = StrategyView.extend({
  equityCurve: z
    .array(
      z.object({
        date: z.string(),
        equity: z.string().meta({ description: 'Closing equity, in the strategy’s currency' }),
        netFlow: z.string().meta({ description: 'Deposits less withdrawals since the previous day (not a return)' }),
        return: Ratio('The day’s time-weighted return, (equity - netFlow) / previous equity - 1'),
      }),
    )
    .meta({ description: 'One point per daily snapshot, oldest first' }),
});

/** A ratio on the wire: RATIO_DECIMALS decimals, or null when undefined (never NaN, never an exponent). */
const ratio = (x: number | null | undefined): string | null => {
  if (x === null || x === undefined || !Number.isFinite(x) || Math.abs(x) >= 1e21) return null;
  const text = x.toFixed(RATIO_DECIMALS);
  return /^-0\.0+$/.test(text) ? text.slice(1) : text;
};
const moneyOf = (minor: string | bigint, currency: string) => ({ amount: formatAmount(BigInt(minor), currency), currency });

const statisticsView = ({ strategy, stats: st }: StrategyListing) => ({
  asOf: st?.lastDate ?? null,
  firstDate: st?.firstDate ?? null,
  computedAt: st?.computedAt ?? null,
  days: st?.days ?? 0,
  equity: st?.equity != null ? moneyOf(st.equity, strategy.currency) : null,
  totalReturn: ratio(st?.totalReturn),
  annualReturn: ratio(st?.annualReturn),
  annualVolatility: ratio(st?.annualVolatility),
  sharpeRatio: ratio(st?.sharpeRatio),
  sortinoRatio: ratio(st?.sortinoRatio),
  calmarRatio: ratio(st?.calmarRatio),
  maxDrawdown: ratio(st?.maxDrawdown),
  currentDrawdown: ratio(st?.currentDrawdown),
  riskScore: st?.riskScore ?? null,
  trades: st?.trades ?? 0,
  winRate: ratio(st?.winRate),
  profitFactor: ratio(st?.profitFactor),
  averageTradeDurationSeconds:
    st?.averageTradeDurationMs == null || !Number.isFinite(st.averageTradeDurationMs)
      ? null
      : Math.round(st.averageTradeDurationMs / 1000).toFixed(0),
  netProfit: moneyOf(st?.netProfit ?? '0', strategy.currency),
  followers: st?.followers ?? 0,
  assetsUnderCopy: moneyOf(st?.assetsUnderCopy ?? '0', strategy.currency),
  riskFreeRateBps: st?.riskFreeRateBps ?? null,
});

/** Basis points as a percentage with two decimals (2,000 -> "20.00"). */
const percent = (bps: number) => `${Math.trunc(bps / 100)}.${String(bps % 100).padStart(2, '0')}`;

/** The past-performance and risk warnings and the fee disclosure (domain/messages/copy.ts) in `locale`. */
const disclosures = (l: StrategyListing, locale: string) => {
  const s = l.strategy;
  const fallback = tenantConfig().defaultLocale;
  return {
    pastPerformance: text('copy.disclosure.past_performance', locale, undefined, fallback),
    risk: text('copy.disclosure.copy_risk', locale, undefined, fallback),
    fees: text(
      'copy.disclosure.fees',
      locale,
      {
        performance: percent(s.fees.performanceBps),
        management: percent(s.fees.managementBpsPerYear),
        volume: s.fees.volumePerMillion.amount,
        subscription: s.fees.subscriptionPerMonth.amount,
        currency: s.currency,
      },
      fallback,
    ),
    ...(l.isNew
      ? { newStrategy: text('copy.disclosure.new_strategy', locale, { days: tenantConfig().copy.minRankedDays }, fallback) }
      : {}),
  };
};

const view = (l: StrategyListing, locale: string) => {
  const s = l.strategy;
  return {
    strategyId: s.strategyId,
    name: s.name,
    description: s.description,
    currency: s.currency,
    fees: s.fees,
    minInvestment: s.minInvestment,
    visibility: s.visibility,
    status: s.status,
    ...(s.statusReason ? { statusReason: s.statusReason } : {}),
    isNew: l.isNew,
    ...(l.rank !== undefined ? { rank: l.rank } : {}),
    ageDays: l.ageDays,
    statistics: statisticsView(l),
    disclosures: disclosures(l, locale),
    createdAt: s.createdAt,
  };
};
const detailView = (l: StrategyListing & { curve: CurvePoint[] }, locale: string) => ({
  ...view(l, locale),
  equityCurve: l.curve.map((p) => ({
    date: p.date,
    equity: formatAmount(p.equity, l.strategy.currency),
    netFlow: formatAmount(p.netFlow, l.strategy.currency),
    return: ratio(p.return),
  })),
});

const FollowersQuery = z.strictObject({
  status: z.enum(['active', 'paused', 'stopped']).optional(),
  limit: limitParam(100, 50),
  cursor: cursorParam.optional(),
});
export const FollowersView = z.object({
  strategyId: z.string(),
  followers: z.number().int().meta({ description: 'Active and paused subscriptions, now' }),
  assetsUnderCopy: Money.meta({ description: 'Sum of their copy-account equity (latest daily snapshot, else at their start)' }),
  feeIncome: Money.meta({
    description: 'The provider’s fee income from this strategy: its share of every completed fee charge',
  }),
  items: z.array(
    z.object({
      followerId: z.string().meta({ description: 'Anonymised: stable per follower and strategy, nothing else about them' }),
      status: z.enum(['active', 'paused', 'stopped']),
      startedAt: z.string(),
      stoppedAt: z.string().optional(),
      equity: Money.nullable().meta({ description: 'Copy-account equity on equityAsOf' }),
      equityAsOf: z.string().nullable(),
    }),
  ),
  nextCursor: z.string().optional(),
  hasMore: z.boolean(),
});
const followersView = (f: ProviderFollowers) => ({
  strategyId: f.strategyId,
  followers: f.followers,
  assetsUnderCopy: moneyOf(f.assetsUnderCopy, f.currency),
  feeIncome: f.feeIncome,
  items: f.items.map((i) => ({
    followerId: i.followerId,
    status: i.status,
    startedAt: i.startedAt,
    ...(i.stoppedAt ? { stoppedAt: i.stoppedAt } : {}),
    equity: i.equity.equity === null ? null : moneyOf(i.equity.equity, f.currency),
    equityAsOf: i.equity.asOf,
  })),
  hasMore: f.hasMore,
  ...(f.nextCursor ? { nextCursor: f.nextCursor } : {}),
});

const SubscriptionParams = z.strictObject({ subscriptionId: Id });
const volume = z
  .string()
  .regex(/^\d{1,12}$/)
  .meta({ description: 'MT5 volume units (lots x 10,000)' });
export const FollowBody = z.strictObject({
  accountId: Id.meta({ description: 'A live trading account of yours, dedicated to this copy, in the strategy’s currency' }),
  allocation: z.strictObject({
    mode: z.enum([
      'balance_proportional',
      'equity_proportional',
      'balance_ratio',
      'equity_ratio',
      'fixed_volume',
      'volume_multiplier',
    ]),
    ratioBps: z.number().int().min(1).max(1_000_000).optional(),
    volume: volume.optional(),
    maxVolume: volume.optional(),
  }),
  protections: z
    .strictObject({
      equityStop: z
        .strictObject({ kind: z.enum(['amount', 'percent']), value: z.string().regex(/^\d{1,15}(\.\d{1,4})?$/) })
        .optional(),
      maxDrawdownBps: z.number().int().min(1).max(10_000).optional(),
      maxOpenPositions: z.number().int().min(1).max(1000).optional(),
      maxOpenVolume: volume.optional(),
      maxSlippagePoints: z.number().int().min(0).max(100_000).optional(),
      copyStops: z.boolean().default(true),
    })
    .prefault({}),
});
const StatusBody = z.strictObject({
  action: z.enum(['pause', 'resume', 'stop']),
  reason: z.string().trim().min(3).max(200).optional(),
  closePositions: z
    .boolean()
    .optional()
    .meta({ description: 'A stop: close the copied positions (default true) or keep them open and detached' }),
});
const CopiesQuery = z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() });
const price = (points: string, digits: number) => formatPoints(BigInt(points), digits);
export const CopyView = z.object({
  copyId: z.string(),
  kind: z.enum(['open', 'close', 'stop_close']),
  status: z.enum(['executing', 'filled', 'skipped', 'failed']),
  reason: z.string().optional().meta({ description: 'Why it was skipped, reduced, failed or closed' }),
  symbol: z.string(),
  volume: z.string().optional().meta({ description: 'The volume asked of the platform (lots x 10,000)' }),
  side: z.enum(['buy', 'sell']),
  provider: z
    .object({ deal: z.number(), volume: z.string(), price: z.string(), time: z.string() })
    .optional()
    .meta({ description: 'The provider deal copied (volume in lots x 10,000)' }),
  fill: z
    .object({ positionId: z.number(), volume: z.string(), price: z.string(), time: z.string() })
    .optional()
    .meta({ description: 'The follower’s fill' }),
  latencyMs: z.number().optional().meta({ description: 'From the signal (the provider deal recorded) to the fill' }),
  slippagePoints: z.string().optional().meta({ description: 'Points worse than the provider (negative: better)' }),
  slippage: MoneyJson.optional(),
  createdAt: z.string(),
});
const copyView = (c: CopyTradeItem) => ({
  copyId: c.copyId,
  kind: c.kind,
  status: c.status,
  ...(c.reason ? { reason: c.reason } : {}),
  symbol: c.symbol,
  side: c.side,
  ...(c.volume ? { volume: c.volume } : {}),
  ...(c.providerDeal !== undefined && c.providerVolume && c.providerPrice
    ? {
        provider: {
          deal: c.providerDeal,
          volume: c.providerVolume,
          price: price(c.providerPrice, c.digits),
          time: new Date(c.providerTimeMsc ?? 0).toISOString(),
        },
      }
    : {}),
  ...(c.fill
    ? {
        fill: {
          positionId: c.fill.positionId,
          volume: c.fill.volume,
          price: price(c.fill.price, c.digits),
          time: new Date(c.fill.timeMsc).toISOString(),
        },
      }
    : {}),
  ...(c.latencyMs !== undefined ? { latencyMs: c.latencyMs } : {}),
  ...(c.slippagePoints !== undefined ? { slippagePoints: c.slippagePoints } : {}),
  ...(c.slippageMoney !== undefined ? { slippage: { amount: c.slippageMoney, currency: c.currency } } : {}),
  createdAt: c.createdAt,
});
export const SubscriptionView = z.object({
  subscriptionId: z.string(),
  strategyId: z.string(),
  accountId: z.string(),
  allocation: z.object({
    mode: z.string(),
    ratioBps: z.number().optional(),
    volume: z.string().optional(),
    maxVolume: z.string().optional(),
  }),
  protections: z.record(z.string(), z.unknown()),
  status: z.enum(['active', 'paused', 'stopped']),
  stopReason: z.string().optional(),
  createdAt: z.string(),
});
const subscriptionView = (s: SubscriptionItem) => ({
  subscriptionId: s.subscriptionId,
  strategyId: s.strategyId,
  accountId: s.followerAccountId,
  allocation: s.allocation,
  protections: s.protections,
  status: s.status,
  ...(s.stopReason ? { stopReason: s.stopReason } : {}),
  createdAt: s.createdAt,
});

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/strategies',
    operationId: 'submitStrategy',
    summary: 'Offer one of your live trading accounts as a copy-trading strategy (moderated before it is listed)',
    tags: ['copy'],
    auth: CLIENT,
    body: StrategyBody,
    idempotency: 'required',
    responses: {
      201: { description: 'Submitted: pending review', schema: StrategyView },
      403: { description: 'kyc_required' },
      404: { description: 'trading_account_not_found' },
      409: { description: 'account_already_a_strategy, trading_account_not_active' },
      422: {
        description:
          'strategy_needs_live_account, performance_fee_over_cap, management_fee_over_cap, invalid_fee_rate, invalid_fee_amount, currency_mismatch, invalid_amount, idempotency_key_reused',
      },
    },
    handler: async ({ body, caller, idempotencyKey, correlationId, locale }) => {
      const { listing } = await submitStrategy(body, caller!, {
        requestId: correlationId,
        locale,
        idempotencyKey: idempotencyKey!,
      });
      return { status: 201, body: view(listing, locale) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/strategies',
    operationId: 'listStrategies',
    summary: 'The strategy marketplace: approved public strategies with their statistics, ranked ones first, sorted and filtered',
    tags: ['copy'],
    auth: READERS,
    query: ListQuery,
    responses: {
      200: { description: 'A page of strategies', schema: pageSchema(StrategyView) },
      400: { description: 'validation_failed, invalid_cursor (a cursor of another query)' },
    },
    handler: async ({ caller, query, correlationId, locale }) => {
      const page = await listStrategies(query, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, (l) => view(l, locale)) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/strategies/{strategyId}',
    operationId: 'getStrategy',
    summary: 'One strategy, with its statistics and its daily equity curve',
    tags: ['copy'],
    auth: READERS,
    params: StrategyParams,
    responses: {
      200: { description: 'The strategy', schema: StrategyDetailView },
      404: { description: 'strategy_not_found' },
    },
    handler: async ({ caller, params, correlationId, locale }) => ({
      status: 200,
      body: detailView(await readStrategy(params, caller!, { requestId: correlationId, locale }), locale),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/strategies/{strategyId}/followers',
    operationId: 'listStrategyFollowers',
    summary: 'The provider’s view: followers, assets under copy and each follower (anonymised), for its provider and staff',
    tags: ['copy'],
    auth: READERS,
    params: StrategyParams,
    query: FollowersQuery,
    responses: {
      200: { description: 'The followers', schema: FollowersView },
      404: { description: 'strategy_not_found (also for anyone but its provider and staff)' },
    },
    handler: async ({ caller, params, query, correlationId, locale }) => ({
      status: 200,
      body: followersView(await listFollowers({ ...params, ...query }, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/strategies/{strategyId}/decision',
    operationId: 'decideStrategy',
    summary: 'Approve, reject, hide or show again a strategy, with a reason (audited)',
    tags: ['copy'],
    auth: STRATEGY_MODERATORS,
    params: StrategyParams,
    body: DecisionBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'Decided', schema: StrategyView },
      404: { description: 'strategy_not_found' },
      409: { description: 'strategy_decision_not_allowed, conflict' },
    },
    handler: async ({ caller, params, body, correlationId, locale }) => ({
      status: 200,
      body: view(
        await decideStrategy({ strategyId: params.strategyId, ...body }, caller!, { requestId: correlationId, locale }),
        locale,
      ),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/strategies/{strategyId}/subscriptions',
    operationId: 'followStrategy',
    summary: 'Follow a strategy with a dedicated live copy account, an allocation and protections',
    tags: ['copy'],
    auth: CLIENT,
    params: StrategyParams,
    body: FollowBody,
    idempotency: 'required',
    responses: {
      201: { description: 'Following (copies start with replication, issue 15 in progress)', schema: SubscriptionView },
      403: { description: 'kyc_required, product_not_appropriate' },
      404: { description: 'strategy_not_found, trading_account_not_found' },
      409: {
        description:
          'strategy_not_followable, account_already_copying, trading_account_not_active, copy_fees_in_progress (an earlier copy of the account or strategy is being charged its final fees: retry)',
      },
      422: {
        description:
          'cannot_follow_own_strategy, copy_account_must_be_live, copy_account_is_strategy, currency_mismatch, below_min_investment, allocation_parameter_required, idempotency_key_reused, copy_fee_charge_failed (the final fees of an earlier copy could not be taken)',
      },
      503: { description: 'platform_unavailable' },
    },
    handler: async ({ params, body, caller, idempotencyKey, correlationId, locale }) => {
      const { subscription } = await follow({ strategyId: params.strategyId, ...body }, caller!, {
        requestId: correlationId,
        locale,
        idempotencyKey: idempotencyKey!,
      });
      return { status: 201, body: subscriptionView(subscription) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/subscriptions',
    operationId: 'listSubscriptions',
    summary: "The caller's subscriptions, newest first",
    tags: ['copy'],
    auth: CLIENT,
    query: z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() }),
    responses: { 200: { description: 'A page of subscriptions', schema: pageSchema(SubscriptionView) } },
    handler: async ({ caller, query, correlationId, locale }) => ({
      status: 200,
      body: pageBody(await listMySubscriptions(query, caller!, { requestId: correlationId, locale }), subscriptionView),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/subscriptions/{subscriptionId}',
    operationId: 'getSubscription',
    summary: 'One of the caller’s subscriptions',
    tags: ['copy'],
    auth: CLIENT,
    params: SubscriptionParams,
    responses: {
      200: { description: 'The subscription', schema: SubscriptionView },
      404: { description: 'subscription_not_found' },
    },
    handler: async ({ caller, params, correlationId, locale }) => ({
      status: 200,
      body: subscriptionView(await readSubscription(params, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/subscriptions/{subscriptionId}/status',
    operationId: 'changeSubscription',
    summary: 'Pause, resume or stop a subscription (a stop closes the copied positions unless closePositions is false)',
    tags: ['copy'],
    auth: CLIENT,
    params: SubscriptionParams,
    body: StatusBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'Changed', schema: SubscriptionView },
      404: { description: 'subscription_not_found' },
      409: { description: 'subscription_change_not_allowed, conflict' },
    },
    handler: async ({ caller, params, body, correlationId, locale }) => ({
      status: 200,
      body: subscriptionView(
        await changeSubscription(
          {
            subscriptionId: params.subscriptionId,
            change: body.action,
            reason: body.reason,
            closePositions: body.closePositions,
          },
          caller!,
          { requestId: correlationId, locale },
        ),
      ),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/subscriptions/{subscriptionId}/copies',
    operationId: 'listSubscriptionCopies',
    summary: 'Each copy of a subscription, newest first: the provider’s and your fill, latency, slippage, or why it was skipped',
    tags: ['copy'],
    auth: CLIENT,
    params: SubscriptionParams,
    query: CopiesQuery,
    responses: {
      200: { description: 'A page of copies', schema: pageSchema(CopyView) },
      404: { description: 'subscription_not_found' },
    },
    handler: async ({ caller, params, query, correlationId, locale }) => {
      const page = await listCopies({ ...params, ...query }, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, copyView) };
    },
  }),
  // a follower's charges and a strategy's fee income (copy-fee settlement)
  ...copyFeeRoutes(READERS),
];

export const handler = httpHandler(...routes);
