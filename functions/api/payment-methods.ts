/**
 * GET /v1/payment-methods?direction=deposit|withdrawal&currency=XXX: the deposit and withdrawal
 * methods offered in the caller's country, with limits, fees and processing times (clients only). The
 * use case (functions/app/payments/list-payment-methods.ts) picks the methods; this module presents them.
 *
 * Invariants:
 * - the country is the caller's own profile's country of residence (looked up by its token's sub);
 *   no profile is 404 profile_not_found
 * - the list is methodsFor() (domain/payments): only methods offered in that country, in its display
 *   order (country entry > jurisdiction entry > default), each with its `displayOrder`; none is an
 *   empty list, never an error (a restricted or unserved country sees none)
 * - `direction` keeps methods supporting it and shows only its fees and processing time; `currency`
 *   keeps methods accepting it and shows only that currency. A bad direction is 400
 *   invalid_direction; a malformed currency 400 invalid_currency, an unknown one 400
 *   unknown_currency, one the tenant does not enable 400 currency_not_enabled
 * - money is JSON `{ amount: "25.00", currency }` with exactly the currency's decimals; the fee is
 *   `fixed` + `percent` of the amount (rounded half-even to the minor unit), clamped to `minimum` /
 *   `maximum`, and is taken out of the amount: `net = amount - fee` is credited (deposit) or paid
 *   out (withdrawal); limits apply to the amount
 * - labels and processing-time texts are in the request's locale
 * - read-only: nothing is written, nothing is logged
 */
import * as z from 'zod';
import { listPaymentMethods } from '#app/payments/list-payment-methods.ts';
import type { Role } from '#domain/identity/roles.ts';
import { formatMoney } from '#domain/money/index.ts';
import {
  configMoney,
  labelFor,
  limitsFor,
  type OfferedMethod,
  PAYMENT_DIRECTIONS,
  PAYMENT_METHOD_KINDS,
  type PaymentDirection,
  percentText,
  processingTimeView,
} from '#domain/payments/index.ts';
import type { PaymentFee } from '#domain/tenant/config.ts';
import { type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';

const ALLOWED: readonly Role[] = ['client'];

export const PaymentMethodsQuery = z.strictObject({
  direction: z
    .string()
    .max(16)
    .refine((d) => (PAYMENT_DIRECTIONS as readonly string[]).includes(d), {
      message: `must be one of ${PAYMENT_DIRECTIONS.join(', ')}`,
      params: { code: 'invalid_direction' },
    })
    .meta({ enum: [...PAYMENT_DIRECTIONS], description: 'Only methods supporting this direction' })
    .optional(),
  currency: z
    .string()
    .max(12)
    .refine((c) => /^[A-Z][A-Z0-9]{2,5}$/.test(c), {
      message: 'must be a currency code such as EUR',
      params: { code: 'invalid_currency' },
    })
    .meta({ description: 'Only methods accepting this currency', example: 'EUR' })
    .optional(),
});
export type PaymentMethodsQuery = z.infer<typeof PaymentMethodsQuery>;

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });

const FeeView = z.object({
  fixed: MoneyOut.meta({ description: 'Fixed part per payment' }),
  percent: z.string().meta({ description: 'Percentage of the amount, two decimals', example: '2.50' }),
  minimum: MoneyOut.optional().meta({ description: 'The fee is never below this' }),
  maximum: MoneyOut.optional().meta({ description: 'The fee is never above this' }),
});

const ProcessingTimeView = z.object({
  instant: z.boolean(),
  minMinutes: z.number().int(),
  maxMinutes: z.number().int(),
  text: z.string().meta({ example: '1–3 days' }),
});

const ByDirection = <T extends z.ZodType>(schema: T) => z.object({ deposit: schema.optional(), withdrawal: schema.optional() });

export const PaymentMethodView = z.object({
  id: z.string(),
  kind: z.enum(PAYMENT_METHOD_KINDS),
  label: z.string().meta({ description: "In the request's locale" }),
  directions: z.array(z.enum(PAYMENT_DIRECTIONS)),
  currencies: z.array(
    z.object({
      currency: z.string(),
      min: MoneyOut,
      max: MoneyOut,
      fees: ByDirection(FeeView).meta({
        description: 'Per direction; the fee is taken out of the amount (net = amount - fee)',
      }),
    }),
  ),
  processingTime: ByDirection(ProcessingTimeView),
  displayOrder: z.number().int().meta({ description: "Position in the caller's region (ascending)" }),
});
export type PaymentMethodView = z.infer<typeof PaymentMethodView>;

function feeView(fee: PaymentFee | undefined, currency: string): z.infer<typeof FeeView> {
  const min = fee?.minimum[currency];
  const max = fee?.maximum[currency];
  return {
    fixed: configMoney(fee?.fixed[currency] ?? '0', currency),
    percent: percentText(fee?.percentBps ?? 0),
    ...(min !== undefined ? { minimum: configMoney(min, currency) } : {}),
    ...(max !== undefined ? { maximum: configMoney(max, currency) } : {}),
  };
}

/** One offered method as the client sees it, restricted to `direction` / `currency` when given. */
export function paymentMethodView(
  offered: OfferedMethod,
  opts: { locale: string; defaultLocale: string; direction?: PaymentDirection; currency?: string },
): PaymentMethodView {
  const { method } = offered;
  const directions = opts.direction ? [opts.direction] : method.directions;
  const currencies = opts.currency ? [opts.currency] : method.currencies;
  const perDirection = <T>(f: (d: PaymentDirection) => T): { deposit?: T; withdrawal?: T } =>
    Object.fromEntries(directions.map((d) => [d, f(d)]));
  return {
    id: method.id,
    kind: method.kind,
    label: labelFor(method, opts.locale, opts.defaultLocale),
    directions: [...method.directions],
    currencies: currencies.map((currency) => {
      const { min, max } = limitsFor(method, currency);
      return {
        currency,
        min: formatMoney({ amount: min, currency }),
        max: formatMoney({ amount: max, currency }),
        fees: perDirection((d) => feeView(method.fees[d], currency)),
      };
    }),
    processingTime: perDirection((d) => processingTimeView(method.processingTime[d]!, opts.locale)),
    displayOrder: offered.displayOrder,
  };
}

/** The methods the use case offers to the caller, as the client sees them (see the module invariants). */
export async function paymentMethodsFor(
  caller: Caller,
  query: PaymentMethodsQuery,
  ctx: { locale: string; requestId: string },
): Promise<PaymentMethodView[]> {
  const direction = query.direction as PaymentDirection | undefined;
  const offered = await listPaymentMethods({ direction, currency: query.currency }, caller, ctx);
  const { defaultLocale } = tenantConfig();
  return offered.map((o) => paymentMethodView(o, { locale: ctx.locale, defaultLocale, direction, currency: query.currency }));
}

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/payment-methods',
    operationId: 'listPaymentMethods',
    summary: "Deposit and withdrawal methods offered in the caller's country, with limits, fees and processing times",
    tags: ['payments'],
    auth: ALLOWED,
    query: PaymentMethodsQuery,
    responses: {
      200: { description: 'Methods in display order (empty when none)', schema: z.object({ items: z.array(PaymentMethodView) }) },
      400: { description: 'invalid_direction, invalid_currency, unknown_currency, currency_not_enabled, validation_failed' },
      404: { description: 'profile_not_found' },
    },
    handler: async ({ caller, query, locale, correlationId }) => ({
      status: 200,
      body: { items: await paymentMethodsFor(caller!, query, { locale, requestId: correlationId }) },
    }),
  }),
];

export const handler = httpHandler(...routes);
