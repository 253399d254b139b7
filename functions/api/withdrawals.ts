/**
 * A client's withdrawals: POST /v1/withdrawals (Idempotency-Key required), GET /v1/withdrawals,
 * GET /v1/withdrawals/{withdrawalId}, POST /v1/withdrawals/{withdrawalId}/cancellation and
 * GET /v1/funding-sources (where money must go back first). Thin: parse, authorise by role, call one use
 * case (functions/app/payments/*withdrawal*.ts), present (functions/api/shared/withdrawal-views.ts).
 *
 * Invariants:
 * - a request is checked completely before anything is written, each refusal its own code (the order and
 *   the codes are request-withdrawal.ts's); the amount named is the GROSS: it is held, the fee is taken
 *   out of it and the net is paid out
 * - exactly once: the edge replays a retried request; independently the withdrawal id derives from
 *   (client, Idempotency-Key), so a retry whose edge record is gone finds the same withdrawal. The same key
 *   with another body is 422 idempotency_key_reused
 * - a client reaches only its own withdrawals and funding sources: another client's withdrawal is 404
 *   withdrawal_not_found, indistinguishable from an unknown id (and recorded as a cross_client_probe security
 *   event, middleware/security.ts); finance, compliance and admins may read any withdrawal (with the staff
 *   view) but only the owner can request or cancel (the client role only)
 * - a cancellation (owner only, while received or under review and undecided; 409
 *   withdrawal_not_cancellable otherwise) voids the hold and records 'cancelled' in one transaction
 * - card and e-wallet payouts go only to a funding source of the same method; a bank wire or crypto
 *   payout may name an account (a valid IBAN / a plausible address for the method's network), which is
 *   stored in its electronic form and shown masked
 */
import * as z from 'zod';
import { MoneyJson, WalletId } from '#app/ledger/schemas.ts';
import { cancelWithdrawal } from '#app/payments/cancel-withdrawal.ts';
import { getWithdrawal } from '#app/payments/get-withdrawal.ts';
import { listWithdrawalFundingSources } from '#app/payments/list-withdrawal-funding-sources.ts';
import { listWithdrawals } from '#app/payments/list-withdrawals.ts';
import { requestWithdrawal } from '#app/payments/request-withdrawal.ts';
import { WITHDRAWAL_STAFF_READERS } from '#app/payments/withdrawal-shared.ts';
import type { Role } from '#domain/identity/roles.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';
import {
  FundingSourceView,
  fundingSourceViews,
  WithdrawalParams,
  WithdrawalViewSchema,
  withdrawalView,
} from './shared/withdrawal-views.ts';

const CLIENT: readonly Role[] = ['client'];
const READERS: readonly Role[] = ['client', ...WITHDRAWAL_STAFF_READERS];

// ------------------------------------------------------------------------------------------------ schemas

const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/);

export const Destination = z.union([
  z.strictObject({ sourceId: Id.meta({ description: 'One of your funding sources (GET /v1/funding-sources)' }) }),
  z.strictObject({
    account: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .meta({ description: 'Bank wire: an IBAN; crypto: an address on the method network' }),
  }),
]);

export const WithdrawalBody = z.strictObject({
  walletId: WalletId,
  methodId: z.string().min(1).max(64),
  amount: MoneyJson.meta({ description: "The gross, in the wallet's currency: held now, the fee is taken out of it" }),
  destination: Destination,
});
export type WithdrawalInput = z.infer<typeof WithdrawalBody>;

export const ListQuery = z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() });

// ------------------------------------------------------------------------------------------------ routes

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/withdrawals',
    operationId: 'createWithdrawal',
    summary: 'Request a withdrawal: the gross is held, the fee taken out of it, the net paid out after the checks',
    tags: ['withdrawals'],
    auth: CLIENT,
    body: WithdrawalBody,
    idempotency: 'required',
    responses: {
      201: { description: 'Received: funds held', schema: WithdrawalViewSchema },
      403: { description: 'kyc_required' },
      404: { description: 'wallet_not_found, profile_not_found' },
      422: {
        description:
          'currency_mismatch, unknown_payment_method, method_not_offered_in_region, method_direction_not_supported, currency_not_supported_by_method, amount_below_minimum, amount_above_maximum, withdrawals_frozen, unknown_funding_source, invalid_iban, invalid_crypto_address, destination_must_be_funding_source, amount_below_fee, insufficient_funds, account_frozen, amount_too_precise, amount_not_positive, unknown_currency, currency_not_enabled, idempotency_key_reused',
      },
    },
    handler: async ({ body, caller, idempotencyKey, correlationId, locale }) => {
      const w = await requestWithdrawal(body, caller!, { requestId: correlationId, locale, idempotencyKey: idempotencyKey! });
      return { status: 201, body: withdrawalView(w, locale) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/withdrawals',
    operationId: 'listWithdrawals',
    summary: "The caller's withdrawals, newest first",
    tags: ['withdrawals'],
    auth: CLIENT,
    query: ListQuery,
    responses: { 200: { description: 'A page of withdrawals', schema: pageSchema(WithdrawalViewSchema) } },
    handler: async ({ caller, query, correlationId, locale }) => {
      const page = await listWithdrawals({ limit: query.limit, cursor: query.cursor }, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: pageBody(page, (w) => withdrawalView(w, locale)) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/withdrawals/{withdrawalId}',
    operationId: 'getWithdrawal',
    summary: 'One withdrawal with its whole timeline (reasons in the caller’s locale)',
    tags: ['withdrawals'],
    auth: READERS,
    params: WithdrawalParams,
    responses: {
      200: { description: 'The withdrawal', schema: WithdrawalViewSchema },
      404: { description: 'withdrawal_not_found' },
    },
    handler: async ({ caller, params, correlationId, locale }) => {
      const { withdrawal, staff } = await getWithdrawal({ withdrawalId: params.withdrawalId }, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: withdrawalView(withdrawal, locale, { staff }) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/withdrawals/{withdrawalId}/cancellation',
    operationId: 'cancelWithdrawal',
    summary: 'Cancel a withdrawal still received or under review: the hold is released',
    tags: ['withdrawals'],
    auth: CLIENT,
    params: WithdrawalParams,
    idempotency: 'optional',
    responses: {
      200: { description: 'Cancelled', schema: WithdrawalViewSchema },
      404: { description: 'withdrawal_not_found' },
      409: { description: 'withdrawal_not_cancellable' },
    },
    handler: async ({ caller, params, correlationId, locale }) => {
      const w = await cancelWithdrawal({ withdrawalId: params.withdrawalId }, caller!, { requestId: correlationId, locale });
      return { status: 200, body: withdrawalView(w, locale) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/funding-sources',
    operationId: 'listFundingSources',
    summary: 'The accounts the caller deposited from, and what each must get back first (closed loop)',
    tags: ['withdrawals'],
    auth: CLIENT,
    responses: { 200: { description: 'Funding sources, oldest first', schema: z.object({ items: z.array(FundingSourceView) }) } },
    handler: async ({ caller, correlationId, locale }) => ({
      status: 200,
      body: {
        items: fundingSourceViews(await listWithdrawalFundingSources({}, caller!, { requestId: correlationId, locale }), locale),
      },
    }),
  }),
];

export const handler = httpHandler(...routes);
