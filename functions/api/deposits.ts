/**
 * A client's deposits: POST /v1/deposits (Idempotency-Key required), GET /v1/deposits and
 * GET /v1/deposits/{depositId} (docs/decisions/0008-payments.md). Parse, authorise by role, call the use
 * case (functions/app/payments/create-deposit.ts, list-own-deposits.ts, read-deposit.ts), present.
 *
 * Invariants:
 * - creating and listing are for clients; reading one is for its client and for finance, compliance and
 *   admins (the staff fields shown to them); any other role is 403 forbidden_role at the edge
 * - the checks, the refusal codes and exactly-once creation are the use case's (create-deposit.ts); a
 *   provider that cannot be reached is answered 502 payment_provider_unavailable (the deposit is failed)
 * - another client's deposit is 404 deposit_not_found, exactly like a missing one (the use case marks it
 *   as a cross-client probe, recorded as a security event at the edge)
 * - the view is functions/api/shared/deposit-view.ts: never storage attributes; reasons in the caller's language
 */
import * as z from 'zod';
import { MoneyJson, WalletId } from '#app/ledger/schemas.ts';
import { createDeposit } from '#app/payments/create-deposit.ts';
import { listOwnDeposits } from '#app/payments/list-own-deposits.ts';
import { readDeposit } from '#app/payments/read-deposit.ts';
import type { Role } from '#domain/identity/roles.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { depositView } from './shared/deposit-view.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';
import { providerUnavailableAs502 } from './shared/provider-unavailable.ts';

const CLIENT: readonly Role[] = ['client'];
const STAFF: readonly Role[] = ['finance', 'compliance', 'admin'];

export const DepositBody = z.strictObject({
  walletId: WalletId,
  methodId: z.string().min(1).max(40),
  amount: MoneyJson,
  /** Bank wire: the IBAN the client pays from. */
  account: z.string().trim().min(1).max(64).optional(),
});
export type DepositInput = z.infer<typeof DepositBody>;

const DepositParams = z.strictObject({ depositId: z.string().min(1).max(64) });
const ListQuery = z.strictObject({ cursor: cursorParam.optional(), limit: limitParam(100, 20) });

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });
const DepositOut = z.object({
  depositId: z.string(),
  status: z.string(),
  walletId: z.string(),
  method: z.object({ id: z.string(), kind: z.string(), label: z.string() }),
  gross: MoneyOut,
  fee: MoneyOut,
  net: MoneyOut,
  nextAction: z.record(z.string(), z.string()).optional(),
  intentExpiresAt: z.string(),
  firstDeposit: z.boolean(),
  refunded: MoneyOut.optional(),
  timeline: z.array(
    z.object({ status: z.string(), at: z.string(), reason: z.string().optional(), reasonText: z.string().optional() }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/deposits',
    operationId: 'createDeposit',
    summary: "Create a deposit intent: the fee is shown and the provider's next action returned",
    tags: ['payments'],
    auth: CLIENT,
    body: DepositBody,
    idempotency: 'required',
    responses: {
      201: { description: 'The deposit (status pending with its next action, or failed with the reason)', schema: DepositOut },
      403: { description: 'kyc_required' },
      404: { description: 'wallet_not_found, profile_not_found' },
      422: {
        description:
          'currency_mismatch, unknown_payment_method, method_not_offered_in_region, method_direction_not_supported, currency_not_supported_by_method, amount_below_minimum, amount_above_maximum, pre_verification_limit_exceeded, idempotency_key_reused, amount_too_precise, amount_not_positive, unknown_currency, currency_not_enabled',
      },
      502: { description: 'payment_provider_unavailable' },
    },
    handler: async ({ body, caller, idempotencyKey, correlationId, locale }) => {
      const d = await createDeposit(body, caller!, { idempotencyKey, requestId: correlationId, locale }).catch(
        providerUnavailableAs502,
      );
      return { status: 201, body: depositView(d, locale) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/deposits',
    operationId: 'listDeposits',
    summary: "The caller's deposits, newest first",
    tags: ['payments'],
    auth: CLIENT,
    query: ListQuery,
    responses: {
      200: {
        description: 'A page of deposits',
        schema: pageSchema(DepositOut),
      },
    },
    handler: async ({ caller, query, locale, correlationId }) => {
      const page = await listOwnDeposits(query, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, (d) => depositView(d, locale)) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/deposits/{depositId}',
    operationId: 'getDeposit',
    summary: 'One deposit with its whole timeline (reasons in the caller’s language)',
    tags: ['payments'],
    auth: [...CLIENT, ...STAFF],
    params: DepositParams,
    responses: { 200: { description: 'The deposit', schema: DepositOut }, 404: { description: 'deposit_not_found' } },
    handler: async ({ caller, params, locale, correlationId }) => {
      const { deposit, staff } = await readDeposit(params, caller!, { requestId: correlationId, locale });
      return { status: 200, body: depositView(deposit, locale, { staff }) };
    },
  }),
];

export const handler = httpHandler(...routes);
