/**
 * Copy trading strategies (issue 15): a client offers a live account as a strategy, clients read the marketplace,
 * compliance and admins moderate. Use cases: functions/app/copy/strategies.ts.
 *
 * Invariants: the marketplace lists approved public strategies; a strategy nobody may follow yet is 404 to
 * everyone but its provider and staff; a decision needs a reason (3-500 characters); fees are integer basis
 * points and money objects in the account's currency; statistics are not served yet (issue 15 in progress), so
 * every strategy is shown as new.
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
import { MoneyJson } from '#app/ledger/schemas.ts';
import { TRADING_STAFF_READERS } from '#app/trading/shared.ts';
import { STRATEGY_DECISIONS, STRATEGY_STATUSES, STRATEGY_VISIBILITIES } from '#domain/copy/strategies.ts';
import type { Role } from '#domain/identity/roles.ts';
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
];

export const handler = httpHandler(...routes);
