/**
 * The client's trading accounts (ADR 0016): open one, read them with their platform state, change the leverage,
 * reset the passwords, move money between the wallet and an account, and read positions, deals and transfers.
 * Staff who read accounts (sales, retention, compliance, finance, admin) read one account and its positions,
 * deals and transfers through the same GET routes. The use cases in functions/app/trading/ decide; this module
 * presents.
 *
 * Invariants:
 * - another client's account (or transfer) is 404, never 403; bad input is 400 validation_failed with field
 *   errors; business refusals are specific codes (see each route's responses)
 * - POST /v1/trading-accounts and POST .../transfers are exactly once per Idempotency-Key in their own
 *   transactions (idempotency 'command': no edge record, so no password is ever stored by the edge); a replay
 *   answers 200 with `idempotent-replayed: true`, and a replayed account comes without passwords
 * - passwords appear once: in the 201 of the request that created the account or reset them
 * - money is JSON { amount, currency } with the currency's decimals; prices are decimal strings; volumes are
 *   lots as decimal strings (MT5 volume units / 10,000)
 */
import * as z from 'zod';
import { MoneyJson } from '#app/ledger/schemas.ts';
import { changeLeverage, resetPasswords } from '#app/trading/change-account.ts';
import { openTradingAccount } from '#app/trading/open-account.ts';
import { getTradingAccountView, listDeals, listPositions, listTradingAccounts } from '#app/trading/read-accounts.ts';
import { TRADING_STAFF_READERS } from '#app/trading/shared.ts';
import { createTransfer, getTradingTransfer, listTradingTransfers } from '#app/trading/transfers.ts';
import type { Role } from '#domain/identity/roles.ts';
import { ACCOUNT_KINDS } from '#domain/trading/account-types.ts';
import { TRANSFER_DIRECTIONS } from '#domain/trading/accounts.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';
import {
  AccountParams,
  AccountView,
  accountView,
  DealView,
  dealView,
  OpenedView,
  PositionView,
  positionView,
  replayedHeaders,
  TransferParams,
  TransferView,
  transferView,
} from './shared/trading-views.ts';

const CLIENT: readonly Role[] = ['client'];
const READERS: readonly Role[] = ['client', ...TRADING_STAFF_READERS];

// ------------------------------------------------------------------------------------------------ schemas

export const OpenAccountBody = z.strictObject({
  accountType: z.string().min(1).max(40).meta({ description: 'An id from GET /v1/trading-account-types' }),
  kind: z.enum(ACCOUNT_KINDS),
  currency: z.string().min(3).max(6),
  leverage: z.number().int().min(1).max(10_000).meta({ description: 'N for 1:N, one of the type’s choices' }),
});

export const LeverageBody = z.strictObject({ leverage: z.number().int().min(1).max(10_000) });
export const PasswordResetBody = z.strictObject({ which: z.enum(['main', 'investor', 'both']).default('both') });
export const TransferBody = z.strictObject({
  direction: z.enum(TRANSFER_DIRECTIONS).meta({ description: 'deposit: wallet -> account; withdrawal: account -> wallet' }),
  amount: MoneyJson,
});
const ListQuery = z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() });

// ------------------------------------------------------------------------------------------------ routes

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/trading-accounts',
    operationId: 'openTradingAccount',
    summary: 'Open a live or demo trading account; the passwords are in this answer only',
    tags: ['trading'],
    auth: CLIENT,
    body: OpenAccountBody,
    idempotency: 'command',
    responses: {
      201: { description: 'Opened (passwords shown once)', schema: OpenedView },
      200: { description: 'A replay: the account as it is, without passwords', schema: OpenedView },
      403: { description: 'kyc_required' },
      404: { description: 'account_type_not_found, profile_not_found' },
      409: { description: 'account_exists (platform)' },
      422: {
        description:
          'leverage_above_cap (meta.cap), leverage_not_offered, currency_not_offered, account_limit_reached, idempotency_key_reused',
      },
      503: { description: 'platform_unavailable: retry with the same Idempotency-Key' },
    },
    handler: async ({ body, caller, idempotencyKey, correlationId, locale }) => {
      const opened = await openTradingAccount(
        { typeId: body.accountType, kind: body.kind, currency: body.currency, leverage: body.leverage },
        caller!,
        { requestId: correlationId, locale, idempotencyKey: idempotencyKey! },
      );
      return {
        status: opened.replayed ? 200 : 201,
        body: { ...accountView(opened.account, null), ...(opened.passwords ? { passwords: opened.passwords } : {}) },
        ...replayedHeaders(opened.replayed),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/trading-accounts',
    operationId: 'listTradingAccounts',
    summary: "The caller's trading accounts with balance, equity, margin, free margin and margin level",
    tags: ['trading'],
    auth: CLIENT,
    query: ListQuery,
    responses: { 200: { description: 'A page of accounts, oldest first', schema: pageSchema(AccountView) } },
    handler: async ({ caller, query, correlationId, locale }) => {
      const page = await listTradingAccounts({ limit: query.limit, cursor: query.cursor }, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: pageBody(page, (a) => accountView(a.account, a.state, { stateError: a.stateError })) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/trading-accounts/{accountId}',
    operationId: 'getTradingAccount',
    summary: 'One trading account with its platform state (cached a few seconds)',
    tags: ['trading'],
    auth: READERS,
    params: AccountParams,
    responses: {
      200: { description: 'The account', schema: AccountView },
      404: { description: 'trading_account_not_found' },
      503: { description: 'platform_unavailable' },
    },
    handler: async ({ caller, params, correlationId, locale }) => {
      const v = await getTradingAccountView({ accountId: params.accountId }, caller!, { requestId: correlationId, locale });
      return { status: 200, body: accountView(v.account, v.state, { staff: v.staff }) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/trading-accounts/{accountId}/leverage',
    operationId: 'changeTradingAccountLeverage',
    summary: 'Change the leverage, within the type’s options and the client’s cap',
    tags: ['trading'],
    auth: CLIENT,
    params: AccountParams,
    body: LeverageBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'Changed', schema: AccountView },
      404: { description: 'trading_account_not_found' },
      409: { description: 'trading_account_not_active, account_type_withdrawn' },
      422: { description: 'leverage_above_cap (meta.cap), leverage_not_offered' },
      503: { description: 'platform_unavailable' },
    },
    handler: async ({ caller, params, body, correlationId, locale }) => {
      const a = await changeLeverage({ accountId: params.accountId, leverage: body.leverage }, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: accountView(a, null) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/trading-accounts/{accountId}/password-resets',
    operationId: 'resetTradingAccountPasswords',
    summary: 'New trading (main) and/or investor passwords, shown once in this answer',
    tags: ['trading'],
    auth: CLIENT,
    params: AccountParams,
    body: PasswordResetBody,
    responses: {
      201: {
        description: 'Reset; the new passwords (never stored)',
        schema: z.object({ main: z.string().optional(), investor: z.string().optional() }),
      },
      404: { description: 'trading_account_not_found' },
      409: { description: 'trading_account_not_active' },
      503: { description: 'platform_unavailable' },
    },
    handler: async ({ caller, params, body, correlationId, locale }) => ({
      status: 201,
      body: await resetPasswords({ accountId: params.accountId, which: body.which }, caller!, {
        requestId: correlationId,
        locale,
      }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/trading-accounts/{accountId}/transfers',
    operationId: 'createTradingTransfer',
    summary: 'Move money between the wallet and the account (deposit: wallet -> account; withdrawal: account -> wallet)',
    tags: ['trading'],
    auth: CLIENT,
    params: AccountParams,
    body: TransferBody,
    idempotency: 'command',
    responses: {
      201: { description: 'The transfer: completed, failed (with a reason, money moved back) or pending', schema: TransferView },
      200: { description: 'A replay: the transfer as it is now', schema: TransferView },
      403: { description: 'trading_account_disabled' },
      404: { description: 'trading_account_not_found' },
      409: {
        description:
          'trading_account_not_active; copy_fees_in_progress (a copy account whose fees are being charged, or another transfer on it: retry)',
      },
      422: {
        description:
          'no_money (meta.freeMargin), insufficient_funds, amount_below_first_deposit_minimum (meta.minimum), currency_mismatch, demo_account_transfer, invalid_amount, amount_too_precise, amount_not_positive, idempotency_key_reused; from a copy account: withdrawal_exceeds_equity (more than the equity after the copy fees due), copy_fee_charge_failed (meta.reason: the platform refused the fees due)',
      },
      503: { description: 'platform_unavailable (nothing moved)' },
    },
    handler: async ({ caller, params, body, idempotencyKey, correlationId, locale }) => {
      const { transfer, replayed } = await createTransfer({ accountId: params.accountId, ...body }, caller!, {
        requestId: correlationId,
        locale,
        idempotencyKey: idempotencyKey!,
      });
      return { status: replayed ? 200 : 201, body: transferView(transfer), ...replayedHeaders(replayed) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/trading-accounts/{accountId}/transfers',
    operationId: 'listTradingTransfers',
    summary: "The account's transfers, newest first",
    tags: ['trading'],
    auth: READERS,
    params: AccountParams,
    query: ListQuery,
    responses: {
      200: { description: 'A page of transfers', schema: pageSchema(TransferView) },
      404: { description: 'trading_account_not_found' },
    },
    handler: async ({ caller, params, query, correlationId, locale }) => {
      const page = await listTradingTransfers(
        { accountId: params.accountId, limit: query.limit, cursor: query.cursor },
        caller!,
        {
          requestId: correlationId,
          locale,
        },
      );
      return { status: 200, body: pageBody(page, transferView) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/trading-accounts/{accountId}/transfers/{transferId}',
    operationId: 'getTradingTransfer',
    summary: 'One transfer and its status (pending, completed, failed with a reason)',
    tags: ['trading'],
    auth: READERS,
    params: TransferParams,
    responses: {
      200: { description: 'The transfer', schema: TransferView },
      404: { description: 'trading_account_not_found, transfer_not_found' },
    },
    handler: async ({ caller, params, correlationId, locale }) => ({
      status: 200,
      body: transferView(await getTradingTransfer(params, caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/trading-accounts/{accountId}/positions',
    operationId: 'listTradingPositions',
    summary: 'Open positions, from the platform',
    tags: ['trading'],
    auth: READERS,
    params: AccountParams,
    responses: {
      200: { description: 'Open positions', schema: z.object({ items: z.array(PositionView) }) },
      404: { description: 'trading_account_not_found' },
      409: { description: 'trading_account_not_active' },
      503: { description: 'platform_unavailable' },
    },
    handler: async ({ caller, params, correlationId, locale }) => {
      const { account, positions } = await listPositions({ accountId: params.accountId }, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: { items: positions.map((p) => positionView(p, account.currency)) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/trading-accounts/{accountId}/deals',
    operationId: 'listTradingDeals',
    summary: 'Deals and balance operations, newest first, as ingested from the platform',
    tags: ['trading'],
    auth: READERS,
    params: AccountParams,
    query: ListQuery,
    responses: {
      200: { description: 'A page of deals', schema: pageSchema(DealView) },
      404: { description: 'trading_account_not_found' },
    },
    handler: async ({ caller, params, query, correlationId, locale }) => {
      const { page } = await listDeals({ accountId: params.accountId, limit: query.limit, cursor: query.cursor }, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: pageBody(page, dealView) };
    },
  }),
];

export const handler = httpHandler(...routes);
