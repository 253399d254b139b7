/**
 * Copy trading strategies (issue 15): a client offers a live account as a strategy, clients read the marketplace,
 * compliance and admins moderate. Use cases: functions/app/copy/strategies.ts.
 *
 * Invariants: the marketplace lists approved public strategies; a strategy nobody may follow yet is 404 to
 * everyone but its provider and staff; a decision needs a reason (3-500 characters); fees are integer basis
 * points and money objects in the account's currency; statistics are not served yet (issue 15 in progress), so
 * every strategy is shown as new. A follower reads each copy of its subscription: the provider's and its own fill,
 * latency and slippage, or why it was skipped.
 */
import * as z from 'zod';
import {
  decideStrategy,
  listStrategies,
  readStrategy,
  STRATEGY_MODERATORS,
  type StrategyItem,
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
import { STRATEGY_DECISIONS, STRATEGY_STATUSES, STRATEGY_VISIBILITIES } from '#domain/copy/strategies.ts';
import type { Role } from '#domain/identity/roles.ts';
import { formatPoints } from '#domain/trading/model.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
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
});

const Money = z.object({ amount: z.string(), currency: z.string() });
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
  isNew: z.boolean().meta({ description: 'Too young to be ranked; statistics follow (issue 15 in progress)' }),
  createdAt: z.string(),
});

const view = (s: StrategyItem) => ({
  strategyId: s.strategyId,
  name: s.name,
  description: s.description,
  currency: s.currency,
  fees: s.fees,
  minInvestment: s.minInvestment,
  visibility: s.visibility,
  status: s.status,
  ...(s.statusReason ? { statusReason: s.statusReason } : {}),
  isNew: true,
  createdAt: s.createdAt,
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
      const { strategy } = await submitStrategy(body, caller!, {
        requestId: correlationId,
        locale,
        idempotencyKey: idempotencyKey!,
      });
      return { status: 201, body: view(strategy) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/strategies',
    operationId: 'listStrategies',
    summary: 'The strategy marketplace: approved public strategies, newest first',
    tags: ['copy'],
    auth: READERS,
    query: ListQuery,
    responses: { 200: { description: 'A page of strategies', schema: pageSchema(StrategyView) } },
    handler: async ({ caller, query, correlationId, locale }) => {
      const page = await listStrategies(query, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, view) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/strategies/{strategyId}',
    operationId: 'getStrategy',
    summary: 'One strategy',
    tags: ['copy'],
    auth: READERS,
    params: StrategyParams,
    responses: { 200: { description: 'The strategy', schema: StrategyView }, 404: { description: 'strategy_not_found' } },
    handler: async ({ caller, params, correlationId, locale }) => ({
      status: 200,
      body: view(await readStrategy(params, caller!, { requestId: correlationId, locale })),
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
      body: view(await decideStrategy({ strategyId: params.strategyId, ...body }, caller!, { requestId: correlationId, locale })),
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
      409: { description: 'strategy_not_followable, account_already_copying, trading_account_not_active' },
      422: {
        description:
          'cannot_follow_own_strategy, copy_account_must_be_live, copy_account_is_strategy, currency_mismatch, below_min_investment, allocation_parameter_required, idempotency_key_reused',
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
];

export const handler = httpHandler(...routes);
