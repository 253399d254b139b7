/**
 * The back office's view of a client's trading accounts (ADR 0016): every account with its platform group, login,
 * leverage, access and state, and the differences between the platform's balance operations and the ledger; and
 * restricting or disabling an account with a reason (audited). Use cases: functions/app/trading/client-accounts.ts,
 * change-account.ts (setAccess).
 *
 * Invariants: reads are for TRADING_STAFF_READERS, access changes for compliance and admin only; a reason is
 * required (3-500 characters) and kept in the audit entry and the account; bad input is 400 validation_failed.
 */
import * as z from 'zod';
import { setAccess } from '#app/trading/change-account.ts';
import { clientTradingAccounts } from '#app/trading/client-accounts.ts';
import { TRADING_STAFF_READERS, TRADING_STAFF_WRITERS } from '#app/trading/shared.ts';
import { ACCOUNT_ACCESS } from '#domain/trading/accounts.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { AccountParams, AccountView, accountView } from './shared/trading-views.ts';

const ClientParams = z.strictObject({
  clientId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9_.:-]+$/),
});
export const AccessBody = z.strictObject({
  access: z.enum(ACCOUNT_ACCESS).meta({ description: 'full, read_only (no trading; money may move) or disabled (nothing)' }),
  reason: z.string().trim().min(3).max(500),
});

const Finding = z.object({
  code: z.string(),
  subject: z.string().optional(),
  expected: z.string().optional(),
  actual: z.string().optional(),
  currency: z.string(),
});
const StaffAccountView = AccountView.extend({
  accessReason: z.string().optional(),
  discrepancies: z.array(Finding).meta({ description: 'Platform balance operations against the ledger, computed now' }),
});

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/clients/{clientId}/trading-accounts',
    operationId: 'listClientTradingAccounts',
    summary: "A client's trading accounts with groups, state and balance discrepancies",
    tags: ['trading-admin'],
    auth: TRADING_STAFF_READERS,
    params: ClientParams,
    responses: { 200: { description: 'Every account of the client', schema: z.object({ items: z.array(StaffAccountView) }) } },
    handler: async ({ caller, params, correlationId, locale }) => {
      const rows = await clientTradingAccounts({ clientId: params.clientId }, caller!, { requestId: correlationId, locale });
      return {
        status: 200,
        body: {
          items: rows.map((r) => ({
            ...accountView(r.account, r.state, { staff: true, stateError: r.stateError }),
            ...(r.account.accessReason ? { accessReason: r.account.accessReason } : {}),
            discrepancies: r.discrepancies.map(({ accountId: _a, clientId: _c, ...f }) => f),
          })),
        },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/trading-accounts/{accountId}/access',
    operationId: 'setTradingAccountAccess',
    summary: 'Restrict (read-only), disable or restore a trading account, with a reason (audited)',
    tags: ['trading-admin'],
    auth: TRADING_STAFF_WRITERS,
    params: AccountParams,
    body: AccessBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'The account with its new access', schema: AccountView },
      404: { description: 'trading_account_not_found' },
      409: { description: 'trading_account_not_active' },
      503: { description: 'platform_unavailable' },
    },
    handler: async ({ caller, params, body, correlationId, locale }) => {
      const a = await setAccess({ accountId: params.accountId, access: body.access, reason: body.reason }, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: { ...accountView(a, null, { staff: true }) } };
    },
  }),
];

export const handler = httpHandler(...routes);
