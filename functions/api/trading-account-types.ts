/**
 * GET /v1/trading-account-types?kind=live|demo: the trading account types the caller may open, with the leverage
 * it may choose on each (clients only). The use case (functions/app/trading/list-account-types.ts) decides what
 * is offered; this module presents it.
 *
 * Invariants:
 * - what is offered follows the tenant's account types for the caller's jurisdiction (from its country of
 *   residence) and client type; no profile is 404 profile_not_found; nothing offered is an empty list
 * - `leverage.choices` are the type's options within the caller's cap and `leverage.cap` is that cap (ESMA 30:1
 *   for a retail client by default); `leverageCaps` lists the per-class caps the platform group applies
 * - `live.allowed` is false with `reason: kyc_not_approved` until the caller's KYC is approved
 * - money is JSON `{ amount, currency }` with the currency's decimals; labels are in the request's locale
 * - a bad `kind` is 400 validation_failed; read-only: nothing is written
 */
import * as z from 'zod';
import { listAccountTypes } from '#app/trading/list-account-types.ts';
import type { Role } from '#domain/identity/roles.ts';
import { formatAmount } from '#domain/money/index.ts';
import { labelFor } from '#domain/payments/methods.ts';
import { ACCOUNT_KINDS, type AccountType, typeAmount } from '#domain/trading/account-types.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';

const ALLOWED: readonly Role[] = ['client'];

export const AccountTypesQuery = z.strictObject({
  kind: z.enum(ACCOUNT_KINDS).optional().meta({ description: 'Only types offering this kind of account' }),
});

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });
export const AccountTypesResult = z.object({
  jurisdiction: z.string(),
  clientType: z.enum(['retail', 'professional']),
  live: z.object({ allowed: z.boolean(), reason: z.literal('kyc_not_approved').optional() }),
  leverageCaps: z.record(z.string(), z.number()),
  items: z.array(
    z.object({
      id: z.string(),
      label: z.string(),
      platform: z.string(),
      kinds: z.array(z.enum(ACCOUNT_KINDS)),
      currencies: z.array(z.string()),
      leverage: z.object({ choices: z.array(z.number()), cap: z.number() }),
      minFirstDeposit: z.array(MoneyOut),
      commissionPerLot: z.array(MoneyOut),
      swapFree: z.boolean(),
      demoStartingBalance: z.array(MoneyOut),
    }),
  ),
});

const amounts = (type: AccountType, field: 'minFirstDeposit' | 'commissionPerLot' | 'demoStartingBalance') =>
  type.currencies.flatMap((currency) => {
    const minor = typeAmount(type, field, currency);
    return minor === undefined ? [] : [{ amount: formatAmount(minor, currency), currency }];
  });

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/trading-account-types',
    operationId: 'listTradingAccountTypes',
    summary: 'The trading account types the caller may open, with its leverage choices',
    tags: ['trading'],
    auth: ALLOWED,
    query: AccountTypesQuery,
    responses: { 200: { description: 'Offered types', schema: AccountTypesResult }, 404: { description: 'profile_not_found' } },
    handler: async ({ query, caller, correlationId, locale }) => {
      const offer = await listAccountTypes({ kind: query.kind }, caller!, { requestId: correlationId, locale });
      const defaultLocale = tenantConfig().defaultLocale;
      return {
        status: 200,
        body: {
          jurisdiction: offer.jurisdiction,
          clientType: offer.clientType,
          live: offer.live,
          leverageCaps: offer.leverageCaps,
          items: offer.types.map(({ type, leverageChoices }) => ({
            id: type.id,
            label: labelFor(type, locale, defaultLocale),
            platform: type.platform,
            kinds: type.kinds,
            currencies: type.currencies,
            leverage: { choices: leverageChoices, cap: offer.leverageCap },
            minFirstDeposit: amounts(type, 'minFirstDeposit'),
            commissionPerLot: amounts(type, 'commissionPerLot'),
            swapFree: type.swapFree,
            demoStartingBalance: amounts(type, 'demoStartingBalance'),
          })),
        },
      };
    },
  }),
];

export const handler = httpHandler(...routes);
