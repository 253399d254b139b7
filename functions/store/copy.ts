/**
 * Copy trading's items (keys: functions/store/keys.ts copyKeys; rules: domain/copy/; issue 15): strategies and the
 * claim that makes a trading account the source of one strategy at most.
 *
 * Invariants:
 * - every item is declared once with defineEntity; reads parse; writes are CommitWrites for commit()
 * - money is a decimal string with its currency; fee rates are integer basis points
 * - a strategy is on the status index of its current status only (the marketplace reads 'approved')
 * - a trading account backs at most one strategy: its claim item is put-if-absent with the strategy
 *   (409 account_already_a_strategy)
 */
import * as z from 'zod';
import { STRATEGY_STATUSES, STRATEGY_VISIBILITIES } from '#domain/copy/strategies.ts';
import { DomainError } from '#domain/errors.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import type { CommitWrite } from './items.ts';
import { copyKeys, subscriptionKeys } from './keys.ts';
import type { Page } from './pagination.ts';
import { MoneyJsonSchema } from './payments/types.ts';

const bps = z.number().int().min(0).max(10_000);

export const StrategySchema = z.object({
  strategyId: z.string().min(1),
  providerClientId: z.string().min(1),
  accountId: z.string().min(1),
  platform: z.string().min(1),
  server: z.string().min(1),
  login: z.number().int().min(1),
  currency: z.string().min(1),
  name: z.string().min(1),
  description: z.string(),
  fees: z.object({
    performanceBps: bps,
    managementBpsPerYear: bps,
    /** Per 1,000,000 of notional per side, in `currency`. */
    volumePerMillion: MoneyJsonSchema,
    subscriptionPerMonth: MoneyJsonSchema,
  }),
  minInvestment: MoneyJsonSchema,
  visibility: z.enum(STRATEGY_VISIBILITIES),
  status: z.enum(STRATEGY_STATUSES),
  statusReason: z.string().optional(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  idempotencyKey: z.string().min(1),
  requestHash: z.string().min(1),
});

export const strategyEntity = defineEntity({
  type: copyKeys.strategyType,
  schema: StrategySchema,
  key: (s) => copyKeys.strategy(s.strategyId),
  indexes: (s) => ({
    ...copyKeys.statusIndex(s.status, s.createdAt, s.strategyId),
    ...copyKeys.providerIndex(s.providerClientId, s.createdAt, s.strategyId),
  }),
  what: 'strategy',
});
export type StrategyItem = ItemOf<typeof strategyEntity>;
export const STRATEGY_ENTITY = strategyEntity.type;

export const accountClaimEntity = defineEntity({
  type: copyKeys.accountClaimType,
  schema: z.object({ accountId: z.string().min(1), strategyId: z.string().min(1) }),
  key: (c) => copyKeys.accountClaim(c.accountId),
});

export const strategyNotFound = () =>
  new DomainError('strategy_not_found', 'not_found', 'No strategy with this id', [
    { field: 'strategyId', code: 'strategy_not_found', message: 'Unknown strategy' },
  ]);

export const getStrategy = (strategyId: string, opts: { consistent?: boolean } = {}) =>
  strategyEntity.get(copyKeys.strategy(strategyId), opts);

/** Strategies in `status`, newest first (the marketplace reads 'approved'; moderation 'pending_review'). */
export const listStrategiesByStatus = (
  status: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<StrategyItem>> =>
  strategyEntity.query({
    index: 'gsi1',
    partition: copyKeys.statusPartition(status),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** Every strategy in `status`, page by page (the daily equity snapshot, the marketplace's ranking). */
export async function* strategiesInStatus(status: string): AsyncGenerator<StrategyItem[]> {
  yield* strategyEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': copyKeys.statusPartition(status) },
  });
}

/** A provider's strategies, newest first. */
export const listProviderStrategies = (clientId: string, opts: { limit: number; cursor?: string | undefined }) =>
  strategyEntity.query({
    index: 'gsi2',
    partition: copyKeys.providerPartition(clientId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** The new strategy and its account claim (409 account_already_a_strategy when the account backs one). */
export function newStrategyWrites(strategy: StrategyItem, at: string): CommitWrite[] {
  return [
    strategyEntity.putNew(strategy, new DomainError('strategy_exists', 'conflict', 'The strategy exists')),
    accountClaimEntity.putNew(
      accountClaimEntity.item({ accountId: strategy.accountId, strategyId: strategy.strategyId }, at),
      new DomainError('account_already_a_strategy', 'conflict', 'This trading account already backs a strategy', [
        { field: 'accountId', code: 'account_already_a_strategy', message: 'Already a strategy' },
      ]),
    ),
  ];
}

export const strategySnapshot = (s: StrategyItem) => ({
  strategyId: s.strategyId,
  accountId: s.accountId,
  name: s.name,
  fees: s.fees,
  minInvestment: s.minInvestment,
  visibility: s.visibility,
  status: s.status,
  ...(s.statusReason ? { statusReason: s.statusReason } : {}),
});

// ------------------------------------------------------------------------------------------------ subscriptions

export const SUBSCRIPTION_STATUSES = ['active', 'paused', 'stopped'] as const;
export const ALLOCATION_MODES = [
  'balance_proportional',
  'equity_proportional',
  'balance_ratio',
  'equity_ratio',
  'fixed_volume',
  'volume_multiplier',
] as const;

export const SubscriptionSchema = z.object({
  subscriptionId: z.string().min(1),
  strategyId: z.string().min(1),
  providerClientId: z.string().min(1),
  followerClientId: z.string().min(1),
  followerAccountId: z.string().min(1),
  currency: z.string().min(1),
  allocation: z.object({
    mode: z.enum(ALLOCATION_MODES),
    /** balance_ratio / equity_ratio: bps on top of the proportional size; volume_multiplier: bps of the provider's. */
    ratioBps: z.number().int().min(1).max(1_000_000).optional(),
    /** fixed_volume: MT5 volume units (integer string). */
    volume: z.string().regex(/^\d+$/).optional(),
    /** The largest volume one copy may have (MT5 units, integer string). */
    maxVolume: z.string().regex(/^\d+$/).optional(),
  }),
  protections: z.object({
    equityStop: z.object({ kind: z.enum(['amount', 'percent']), value: z.string() }).optional(),
    maxDrawdownBps: z.number().int().min(1).max(10_000).optional(),
    maxOpenPositions: z.number().int().min(1).optional(),
    maxOpenVolume: z.string().regex(/^\d+$/).optional(),
    maxSlippagePoints: z.number().int().min(0).optional(),
    copyStops: z.boolean(),
  }),
  status: z.enum(SUBSCRIPTION_STATUSES),
  stopReason: z.string().optional(),
  stoppedAt: z.string().optional(),
  idempotencyKey: z.string().min(1),
  requestHash: z.string().min(1),
});

export const subscriptionEntity = defineEntity({
  type: subscriptionKeys.type,
  schema: SubscriptionSchema,
  key: (s) => subscriptionKeys.key(s.subscriptionId),
  indexes: (s) => ({
    ...subscriptionKeys.strategyIndex(s.strategyId, s.status, s.createdAt, s.subscriptionId),
    ...subscriptionKeys.followerIndex(s.followerClientId, s.createdAt, s.subscriptionId),
  }),
  what: 'subscription',
});
export type SubscriptionItem = ItemOf<typeof subscriptionEntity>;
export const SUBSCRIPTION_ENTITY = subscriptionEntity.type;

export const copyAccountClaimEntity = defineEntity({
  type: subscriptionKeys.claimType,
  schema: z.object({ accountId: z.string().min(1), subscriptionId: z.string().min(1) }),
  key: (c) => subscriptionKeys.claim(c.accountId),
});

export const subscriptionNotFound = () =>
  new DomainError('subscription_not_found', 'not_found', 'No subscription with this id', [
    { field: 'subscriptionId', code: 'subscription_not_found', message: 'Unknown subscription' },
  ]);

export const getSubscription = (id: string, opts: { consistent?: boolean } = {}) =>
  subscriptionEntity.get(subscriptionKeys.key(id), opts);

/** A follower's subscriptions, newest first. */
export const listFollowerSubscriptions = (clientId: string, opts: { limit: number; cursor?: string | undefined }) =>
  subscriptionEntity.query({
    index: 'gsi2',
    partition: subscriptionKeys.followerPartition(clientId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** Every subscription of a strategy in `status` (the fan-out reads 'active'). */
export async function* strategySubscriptions(strategyId: string, status: string): AsyncGenerator<SubscriptionItem[]> {
  yield* subscriptionEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p AND begins_with(gsi1sk, :s)',
    ExpressionAttributeValues: { ':p': subscriptionKeys.strategyPartition(strategyId), ':s': `${status}#` },
  });
}

/** A page of a strategy's subscriptions in `status` (every status when absent), by status then oldest first. */
export const listStrategySubscriptions = (
  strategyId: string,
  opts: { status?: string | undefined; limit: number; cursor?: string | undefined },
): Promise<Page<SubscriptionItem>> =>
  subscriptionEntity.query({
    index: 'gsi1',
    partition: subscriptionKeys.strategyPartition(strategyId),
    ...(opts.status ? { sortPrefix: `${opts.status}#` } : {}),
    limit: opts.limit,
    cursor: opts.cursor,
  });

/** The new subscription and its copy-account claim (409 account_already_copying when the account follows one). */
export function newSubscriptionWrites(s: SubscriptionItem, at: string): CommitWrite[] {
  return [
    subscriptionEntity.putNew(s, new DomainError('subscription_exists', 'conflict', 'The subscription exists')),
    copyAccountClaimEntity.putNew(
      copyAccountClaimEntity.item({ accountId: s.followerAccountId, subscriptionId: s.subscriptionId }, at),
      new DomainError('account_already_copying', 'conflict', 'This trading account already follows a strategy', [
        { field: 'accountId', code: 'account_already_copying', message: 'Already copying' },
      ]),
    ),
  ];
}

/** Releases the copy account of a stopped subscription (another subscription may use it). */
export const releaseCopyAccount = (accountId: string): CommitWrite => ({
  Delete: { Key: subscriptionKeys.claim(accountId) },
});

export const subscriptionSnapshot = (s: SubscriptionItem) => ({
  subscriptionId: s.subscriptionId,
  strategyId: s.strategyId,
  followerAccountId: s.followerAccountId,
  allocation: s.allocation,
  protections: s.protections,
  status: s.status,
  ...(s.stopReason ? { stopReason: s.stopReason } : {}),
});

/** The detail of copy.subscription.* events (the status is the subscription's now). */
export const subscriptionEventDetail = (s: SubscriptionItem, reason?: string) => ({
  subscriptionId: s.subscriptionId,
  strategyId: s.strategyId,
  providerClientId: s.providerClientId,
  followerClientId: s.followerClientId,
  followerAccountId: s.followerAccountId,
  mode: s.allocation.mode,
  status: s.status,
  ...(reason ? { reason } : {}),
});
