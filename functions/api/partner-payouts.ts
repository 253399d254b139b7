/**
 * Partner payouts (issue 16 parts 4 and 5): a partner's own payouts and their statements; staff read any partner's
 * and pay one now. Use cases: functions/app/partners/payout-reads.ts, payout-statement.ts, payout-run-now.ts (the
 * payment: payouts.ts).
 *
 * Invariants:
 * - a partner is the caller's own partner record (found by its client id): /v1/partners/me/... never takes a partner
 *   id, and another partner's payout id is 404 payout_not_found, as an unknown one
 * - staff: finance, compliance and admins read; finance and admins pay now ({ currency }: 400 validation_failed
 *   for a malformed code, 422 unknown_currency, 422 currency_not_enabled, 404 partner_not_found, 409
 *   partner_not_approved; nothing changes on a refusal)
 * - money is { amount, currency } with the currency's decimals (decimal strings, never numbers); a partner does not
 *   see the compliance reason of a hold, staff do
 * - a statement is JSON (default) or CSV (?format=csv, RFC 4180, an attachment); both list every line of the
 *   payout's window and total exactly its amount
 */
import * as z from 'zod';
import {
  listMyPayouts,
  listPartnerPayouts,
  myPayoutStatement,
  PAYOUT_STAFF_READERS,
  type PayoutItem,
  staffPayoutStatement,
} from '#app/partners/payout-reads.ts';
import { PAYOUT_RUNNERS, payoutRunNow } from '#app/partners/payout-run-now.ts';
import type { PayoutStatementResult } from '#app/partners/payout-statement.ts';
import type { Role } from '#domain/identity/roles.ts';
import { formatAmount } from '#domain/money/index.ts';
import { defineRoute, type HttpResult, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';

const PARTNER: readonly Role[] = ['client', 'partner'];

const Id = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);
const PayoutId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^po_[A-Za-z0-9_-]+$/);
const PageQuery = z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() });
const StatementQuery = z.strictObject({
  format: z.enum(['json', 'csv']).default('json').meta({ description: 'json (default) or csv (RFC 4180 attachment)' }),
});
const RunBody = z.strictObject({
  currency: z
    .string()
    .regex(/^[A-Z]{3,5}$/)
    .meta({ description: 'The currency of the lines to pay (one payout per currency)', example: 'USD' }),
});

const Money = z.object({ amount: z.string(), currency: z.string() });
const money = (minor: string, currency: string) => ({ amount: formatAmount(BigInt(minor), currency), currency });

const STATUS_TEXT =
  'paid: the journal posted to your wallet; held: held while compliance reviews; below_minimum: less than the minimum (or not positive), carried to the next payout';

export const PayoutView = z.object({
  payoutId: z.string(),
  status: z.enum(['paid', 'held', 'below_minimum']).meta({ description: STATUS_TEXT }),
  runDate: z.string().meta({ description: 'The tenant-local run date' }),
  period: z.object({ from: z.string(), end: z.string() }).meta({
    description: 'The accrual times the payout covers: after `from`, up to and including `end`',
  }),
  amount: Money,
  lines: z.number().int(),
  minimum: Money.optional().meta({ description: 'below_minimum: the minimum it was below' }),
  journalId: z.string().optional(),
  paidAt: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const StaffPayoutView = PayoutView.extend({
  partnerId: z.string(),
  clientId: z.string(),
  holdReason: z.string().optional(),
  recovered: z.boolean().optional(),
});

const payoutView = (p: PayoutItem) => ({
  payoutId: p.payoutId,
  status: p.status,
  runDate: p.localDate,
  period: { from: p.from, end: p.periodEnd },
  amount: money(p.amount, p.currency),
  lines: p.lines,
  ...(p.minimum !== undefined ? { minimum: money(p.minimum, p.currency) } : {}),
  ...(p.journalId ? { journalId: p.journalId } : {}),
  ...(p.paidAt ? { paidAt: p.paidAt } : {}),
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});
const staffPayoutView = (p: PayoutItem) => ({
  ...payoutView(p),
  partnerId: p.partnerId,
  clientId: p.clientId,
  ...(p.holdReason ? { holdReason: p.holdReason } : {}),
  ...(p.recovered ? { recovered: true } : {}),
});

export const StatementView = z.object({
  payoutId: z.string(),
  partnerId: z.string(),
  status: z.enum(['paid', 'held', 'below_minimum']),
  currency: z.string(),
  period: z.object({ from: z.string(), end: z.string() }),
  amount: z.string().meta({ description: 'The payout amount, a decimal string of the currency' }),
  total: z.string().meta({ description: 'The sum of the lines: equal to amount' }),
  lineCount: z.number().int(),
  journalId: z.string().nullable(),
  lines: z.array(
    z.object({
      lineId: z.string(),
      sourceKey: z.string().meta({ description: 'The deal (platform#server#deal), cpa#<client> or clawback#<cause>' }),
      kind: z.string(),
      rule: z.string(),
      tier: z.number().int(),
      clientId: z.string(),
      amount: z.string(),
      rate: z.string(),
      accruedAt: z.string(),
      planId: z.string(),
      planVersion: z.number().int(),
    }),
  ),
});

function statementResponse(s: PayoutStatementResult, format: 'json' | 'csv'): HttpResult {
  if (format === 'json') return { status: 200, body: s.json };
  return {
    status: 200,
    body: s.csv,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${s.fileName}"`,
    },
  };
}

const STATEMENT_RESPONSES = {
  200: { description: 'The statement: JSON, or a text/csv attachment with ?format=csv', schema: StatementView },
  404: { description: 'payout_not_found' },
};

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/partners/me/payouts',
    operationId: 'listMyPartnerPayouts',
    summary: 'Your payouts as a partner (paid, held, below the minimum), newest run first',
    tags: ['partners'],
    auth: PARTNER,
    query: PageQuery,
    responses: {
      200: { description: 'A page of payouts', schema: pageSchema(PayoutView) },
      404: { description: 'partner_not_found' },
    },
    handler: async ({ caller, query, correlationId, locale }) => {
      const page = await listMyPayouts(query, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, payoutView) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/partners/me/payouts/{payoutId}/statement',
    operationId: 'getMyPartnerPayoutStatement',
    summary: 'The statement of one of your payouts: every commission line it paid',
    tags: ['partners'],
    auth: PARTNER,
    params: z.strictObject({ payoutId: PayoutId }),
    query: StatementQuery,
    responses: STATEMENT_RESPONSES,
    handler: async ({ caller, params, query, correlationId, locale }) => {
      const s = await myPayoutStatement({ payoutId: params.payoutId }, caller!, { requestId: correlationId, locale });
      return statementResponse(s, query.format);
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/partners/{partnerId}/payouts',
    operationId: 'listPartnerPayouts',
    summary: "A partner's payouts, newest run first",
    tags: ['partners'],
    auth: PAYOUT_STAFF_READERS,
    params: z.strictObject({ partnerId: Id }),
    query: PageQuery,
    responses: {
      200: { description: 'A page of payouts', schema: pageSchema(StaffPayoutView) },
      404: { description: 'partner_not_found' },
    },
    handler: async ({ caller, params, query, correlationId, locale }) => {
      const page = await listPartnerPayouts({ ...query, partnerId: params.partnerId }, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: pageBody(page, staffPayoutView) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/partner-payouts/{payoutId}/statement',
    operationId: 'getPartnerPayoutStatement',
    summary: "Any partner payout's statement",
    tags: ['partners'],
    auth: PAYOUT_STAFF_READERS,
    params: z.strictObject({ payoutId: PayoutId }),
    query: StatementQuery,
    responses: STATEMENT_RESPONSES,
    handler: async ({ caller, params, query, correlationId, locale }) => {
      const s = await staffPayoutStatement({ payoutId: params.payoutId }, caller!, { requestId: correlationId, locale });
      return statementResponse(s, query.format);
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/partners/{partnerId}/payouts/run',
    operationId: 'runPartnerPayout',
    summary: "Pays a partner's commissions in one currency now (off the schedule), with the scheduled run's rules",
    tags: ['partners'],
    auth: PAYOUT_RUNNERS,
    params: z.strictObject({ partnerId: Id }),
    body: RunBody,
    responses: {
      200: {
        description:
          'outcome paid (replayed: the day was paid already), held, below_minimum (carried forward) or nothing (no line to pay)',
        schema: z.object({
          outcome: z.enum(['paid', 'held', 'below_minimum', 'nothing']),
          replayed: z.boolean().optional(),
          payout: StaffPayoutView.optional(),
          period: z.object({ from: z.string(), end: z.string() }).optional(),
        }),
      },
      404: { description: 'partner_not_found' },
      409: { description: 'partner_not_approved' },
      422: { description: 'unknown_currency, currency_not_enabled' },
    },
    handler: async ({ caller, params, body, correlationId, locale }) => {
      const r = await payoutRunNow({ partnerId: params.partnerId, currency: body.currency }, caller!, {
        requestId: correlationId,
        locale,
      });
      if (r.outcome === 'nothing')
        return { status: 200, body: { outcome: r.outcome, period: { from: r.from, end: r.periodEnd } } };
      return {
        status: 200,
        body: {
          outcome: r.outcome,
          ...(r.outcome === 'paid' ? { replayed: r.replayed } : {}),
          payout: staffPayoutView(r.payout),
        },
      };
    },
  }),
];

export const handler = httpHandler(...routes);
