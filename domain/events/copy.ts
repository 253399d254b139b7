/**
 * Events of copy trading (issue 15): strategies and their moderation, subscriptions, copied trades and fee charges.
 * Produced by the trading context's functions
 * (copy trading runs in the trading nested stack until it needs its own).
 *
 * Invariants: every definition follows domain/events/define.ts; a decision event carries the reason and the
 * staff member's id; fee rates are integer basis points, money decimal strings in `currency`.
 */
import * as z from 'zod';
import { STRATEGY_STATUSES } from '../copy/strategies.ts';
import { currencyCode, decimal, defineEvent, id, instant, minorUnits } from './define.ts';

const strategy = z.object({
  strategyId: id,
  providerClientId: id,
  accountId: id,
  name: z.string().min(1),
  currency: currencyCode,
  performanceBps: z.number().int().min(0),
  managementBpsPerYear: z.number().int().min(0),
  minInvestment: decimal,
  status: z.enum(STRATEGY_STATUSES),
});
const example = {
  strategyId: 'st_01J8Z3',
  providerClientId: 'client-01J8Z3',
  accountId: 'ta_01J8Z3',
  name: 'Steady EURUSD',
  currency: 'USD',
  performanceBps: 2000,
  managementBpsPerYear: 200,
  minInvestment: '500.00',
  status: 'pending_review' as const,
};
const decision = strategy.extend({ reason: z.string().min(1), decidedBy: id });
const subscription = z.object({
  subscriptionId: id,
  strategyId: id,
  providerClientId: id,
  followerClientId: id,
  followerAccountId: id,
  mode: z.string().min(1),
  status: z.enum(['active', 'paused', 'stopped']),
  reason: z.string().optional(),
  /** A stop: whether the copied positions are closed (true) or kept and detached. */
  closePositions: z.boolean().optional(),
});
const subscriptionExample = {
  subscriptionId: 'sub_01J8Z3',
  strategyId: 'st_01J8Z3',
  providerClientId: 'client-01J8Z3',
  followerClientId: 'client-01J8Z4',
  followerAccountId: 'ta_01J8Z4',
  mode: 'equity_proportional',
  status: 'active' as const,
};

export const COPY_EVENTS = [
  defineEvent({
    detailType: 'copy.strategy.submitted',
    version: 1,
    context: 'trading',
    external: true,
    description: 'A client offered one of its live trading accounts as a strategy; it waits for moderation.',
    schema: strategy,
    example,
  }),
  defineEvent({
    detailType: 'copy.strategy.decided',
    version: 1,
    context: 'trading',
    external: true,
    description: 'Staff approved, rejected, hid or showed again a strategy; `status` is the new one, with the reason.',
    schema: decision,
    example: { ...example, status: 'approved' as const, reason: 'Track record and disclosures checked', decidedBy: 'staff-01' },
  }),
  defineEvent({
    detailType: 'copy.subscription.started',
    version: 1,
    context: 'trading',
    external: true,
    description: 'A client started following a strategy with one of its live accounts.',
    schema: subscription,
    example: subscriptionExample,
  }),
  defineEvent({
    detailType: 'copy.subscription.changed',
    version: 1,
    context: 'trading',
    external: true,
    description: 'A subscription was paused, resumed or stopped; `status` is the new one.',
    schema: subscription,
    example: { ...subscriptionExample, status: 'paused' as const },
  }),
  defineEvent({
    detailType: 'copy.trade.executed',
    version: 1,
    context: 'trading',
    external: true,
    description:
      "A provider's deal was copied to one follower, or skipped or failed with a reason: the follower's fill, latency and slippage.",
    schema: z.object({
      copyId: id,
      subscriptionId: id,
      strategyId: id,
      followerClientId: id,
      followerAccountId: id,
      kind: z.enum(['open', 'close', 'stop_close']),
      status: z.enum(['filled', 'skipped', 'failed']),
      reason: z.string().optional(),
      providerDealKey: id.optional(),
      symbol: z.string().min(1),
      side: z.enum(['buy', 'sell']),
      /** Integer string, MT5 volume units. */
      volume: minorUnits.optional(),
      price: decimal.optional(),
      latencyMs: z.number().int().min(0).optional(),
      slippagePoints: z
        .string()
        .regex(/^-?\d+$/)
        .optional(),
      currency: currencyCode,
    }),
    example: {
      copyId: 'cp_3f2a9c',
      subscriptionId: 'sub_01J8Z3',
      strategyId: 'st_01J8Z3',
      followerClientId: 'client-01J8Z4',
      followerAccountId: 'ta_01J8Z4',
      kind: 'open' as const,
      status: 'filled' as const,
      providerDealKey: 'mt5#local-simulator#42',
      symbol: 'EURUSD',
      side: 'buy' as const,
      volume: '2000',
      price: '1.08514',
      latencyMs: 180,
      slippagePoints: '2',
      currency: 'USD',
    },
  }),
  defineEvent({
    detailType: 'copy.fee.charged',
    version: 1,
    context: 'trading',
    external: true,
    description:
      "A follower's copy fees were charged: taken from its copy account on the platform and posted to the provider's wallet and the broker's fee income (one ledger journal).",
    schema: z.object({
      chargeId: id,
      subscriptionId: id,
      strategyId: id,
      providerClientId: id,
      followerClientId: id,
      followerAccountId: id,
      /** anniversary | withdrawal | stop | daily */
      point: z.enum(['anniversary', 'withdrawal', 'stop', 'daily']),
      currency: currencyCode,
      total: decimal,
      management: decimal,
      performance: decimal,
      volume: decimal,
      subscription: decimal,
      providerShare: decimal,
      brokerShare: decimal,
      periodStart: instant,
      periodEnd: instant,
      journalId: id,
    }),
    example: {
      chargeId: 'cf_3f2a9c0d1e2f3a4b5c6d7e8',
      subscriptionId: 'sub_01J8Z3',
      strategyId: 'st_01J8Z3',
      providerClientId: 'client-01J8Z3',
      followerClientId: 'client-01J8Z4',
      followerAccountId: 'ta_01J8Z4',
      point: 'anniversary' as const,
      currency: 'USD',
      total: '20.00',
      management: '0.00',
      performance: '20.00',
      volume: '0.00',
      subscription: '0.00',
      providerShare: '16.00',
      brokerShare: '4.00',
      periodStart: '2026-01-15T10:00:00.000Z',
      periodEnd: '2026-02-15T10:00:00.000Z',
      journalId: 'cfj_cf_3f2a9c0d1e2f3a4b5c6d7e8',
    },
  }),
  defineEvent({
    detailType: 'copy.exposure.alert',
    version: 1,
    context: 'trading',
    external: true,
    description:
      "Copied exposure on one symbol and direction reached the tenant's threshold (raised), or fell below it again (cleared).",
    schema: z.object({
      symbol: z.string().min(1),
      side: z.enum(['buy', 'sell']),
      currency: currencyCode,
      state: z.enum(['raised', 'cleared']),
      /** Lots x 10,000, integer string. */
      followerVolume: minorUnits,
      followerNotional: decimal,
      threshold: decimal,
    }),
    example: {
      symbol: 'EURUSD',
      side: 'buy' as const,
      currency: 'USD',
      state: 'raised' as const,
      followerVolume: '2500000',
      followerNotional: '27128000.00',
      threshold: '25000000.00',
    },
  }),
] as const;
