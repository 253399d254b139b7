/**
 * The copy-fee routes of functions/api/strategies.ts (its `routes` spreads them; kept here so fee settlement and the
 * strategy views change in separate files): a follower's charges and a strategy's fee income. Use cases:
 * functions/app/copy/fee-charges.ts.
 *
 * Invariants: money is { amount, currency } with the currency's decimals (decimal strings, never numbers); a follower
 * sees its own subscription's charges with their inputs (equity and high-water mark before and after, the period);
 * a provider sees its strategy's charges as income (its share and the broker's), never the follower's client id or
 * equity; refusals are problem+json codes (404 subscription_not_found / strategy_not_found).
 */
import * as z from 'zod';
import { type ChargeItem, listMyCharges, listStrategyFees } from '#app/copy/fee-charges.ts';
import type { Role } from '#domain/identity/roles.ts';
import { formatAmount } from '#domain/money/index.ts';
import { defineRoute } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './pages.ts';

const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
const Money = z.object({ amount: z.string(), currency: z.string() });
const PageQuery = z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() });
const POINTS = ['anniversary', 'withdrawal', 'stop', 'daily'] as const;
const STATUSES = ['pending', 'completed', 'failed'] as const;

const money = (minor: string, currency: string) => ({ amount: formatAmount(BigInt(minor), currency), currency });

export const ChargeView = z.object({
  chargeId: z.string(),
  point: z.enum(POINTS).meta({
    description:
      'anniversary: monthly from your start; withdrawal: before money left the copy account; stop: final; daily: a subscription period',
  }),
  status: z.enum(STATUSES),
  reason: z.string().optional().meta({ description: 'Why the platform refused it (the fees stay owed)' }),
  period: z.object({ start: z.string(), end: z.string() }),
  fees: z.object({ management: Money, performance: Money, volume: Money, subscription: Money, total: Money }),
  equity: z.object({ before: Money, after: Money }).meta({ description: 'The copy account’s equity the charge was computed on' }),
  highWaterMark: z.object({ before: Money, after: Money }),
  rates: z.object({
    performanceBps: z.number(),
    managementBpsPerYear: z.number(),
    volumePerMillion: Money,
    subscriptionPerMonth: Money,
  }),
  withdrawal: Money.optional().meta({ description: 'point withdrawal: the amount about to leave' }),
  createdAt: z.string(),
  completedAt: z.string().optional(),
});

const chargeView = (c: ChargeItem) => ({
  chargeId: c.chargeId,
  point: c.point,
  status: c.status,
  ...(c.reason ? { reason: c.reason } : {}),
  period: { start: c.periodStart, end: c.periodEnd },
  fees: {
    management: money(c.fees.management, c.currency),
    performance: money(c.fees.performance, c.currency),
    volume: money(c.fees.volume, c.currency),
    subscription: money(c.fees.subscription, c.currency),
    total: money(c.fees.total, c.currency),
  },
  equity: { before: money(c.inputs.equityBefore, c.currency), after: money(c.inputs.equityAfter, c.currency) },
  highWaterMark: { before: money(c.inputs.markBefore, c.currency), after: money(c.inputs.markAfter, c.currency) },
  rates: {
    performanceBps: c.inputs.rates.performanceBps,
    managementBpsPerYear: c.inputs.rates.managementBpsPerYear,
    volumePerMillion: money(c.inputs.rates.volumePerMillion, c.currency),
    subscriptionPerMonth: money(c.inputs.rates.subscriptionPerMonth, c.currency),
  },
  ...(c.withdrawal ? { withdrawal: money(c.withdrawal, c.currency) } : {}),
  createdAt: c.createdAt,
  ...(c.completedAt ? { completedAt: c.completedAt } : {}),
});

export const FeeIncomeView = z.object({
  chargeId: z.string(),
  subscriptionId: z.string(),
  point: z.enum(POINTS),
  status: z.enum(STATUSES),
  period: z.object({ start: z.string(), end: z.string() }),
  total: Money,
  fees: z.object({ management: Money, performance: Money, volume: Money, subscription: Money }),
  providerShare: Money,
  brokerShare: Money,
  createdAt: z.string(),
  completedAt: z.string().optional(),
});

const incomeView = (c: ChargeItem) => ({
  chargeId: c.chargeId,
  subscriptionId: c.subscriptionId,
  point: c.point,
  status: c.status,
  period: { start: c.periodStart, end: c.periodEnd },
  total: money(c.fees.total, c.currency),
  fees: {
    management: money(c.fees.management, c.currency),
    performance: money(c.fees.performance, c.currency),
    volume: money(c.fees.volume, c.currency),
    subscription: money(c.fees.subscription, c.currency),
  },
  providerShare: money(c.split.provider, c.currency),
  brokerShare: money(c.split.broker, c.currency),
  createdAt: c.createdAt,
  ...(c.completedAt ? { completedAt: c.completedAt } : {}),
});

/** The copy-fee routes, served by functions/api/strategies.ts; `readers` are the strategy readers it serves. */
export const copyFeeRoutes = (readers: readonly Role[]) => [
  defineRoute({
    method: 'GET',
    path: '/v1/subscriptions/{subscriptionId}/charges',
    operationId: 'listSubscriptionCharges',
    summary: 'The copy fees charged on one of your subscriptions, newest first, with what each was computed from',
    tags: ['copy'],
    auth: ['client'],
    params: z.strictObject({ subscriptionId: Id }),
    query: PageQuery,
    responses: {
      200: { description: 'A page of charges', schema: pageSchema(ChargeView) },
      404: { description: 'subscription_not_found' },
    },
    handler: async ({ caller, params, query, correlationId, locale }) => {
      const page = await listMyCharges({ ...params, ...query }, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, chargeView) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/strategies/{strategyId}/fees',
    operationId: 'listStrategyFees',
    summary:
      'The fee income of a strategy, newest first: each charge with the provider’s and the broker’s share (its provider and staff)',
    tags: ['copy'],
    auth: readers,
    params: z.strictObject({ strategyId: Id }),
    query: PageQuery,
    responses: {
      200: { description: 'A page of charges', schema: pageSchema(FeeIncomeView) },
      404: { description: 'strategy_not_found' },
    },
    handler: async ({ caller, params, query, correlationId, locale }) => {
      const page = await listStrategyFees({ ...params, ...query }, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, incomeView) };
    },
  }),
];
