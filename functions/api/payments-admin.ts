/**
 * The payments back office: GET /v1/admin/deposits (finance, compliance, admin), POST
 * /v1/admin/deposits/{depositId}/refunds (finance only; Idempotency-Key required), and the compliance
 * cases a chargeback opens: GET /v1/admin/compliance/cases and /{caseId} (compliance, admin), POST
 * /v1/admin/compliance/cases/{caseId}/close (compliance only: closing may lift a withdrawal freeze).
 * Each route parses, calls one use case (functions/app/payments: list-deposits, refund-deposit,
 * list-cases, get-case, close-case) and presents its result here.
 *
 * Invariants:
 * - role checks are the middleware's (manifest roles): a client, a partner or another staff role gets
 *   403 forbidden_role on every route here
 * - the deposit list is one client's (clientId; newest first, optionally one status) or the tenant's
 *   deposits in one status (status alone); neither is 400 client_or_status_required. Paginated with an
 *   opaque cursor
 * - a refund is checked completely before money moves, held, then sent to the provider (refund-deposit.ts);
 *   a provider that cannot be reached fails the refund (its hold released) and is answered 502
 *   payment_provider_unavailable
 * - exactly once: the edge replays a retried request; independently the use case derives the refund id
 *   from (deposit, Idempotency-Key), so a retry finds the same refund; another body under the same key is
 *   422 idempotency_key_reused
 * - views never show storage attributes, and a withdrawal's task tokens never leave the server
 */
import * as z from 'zod';
import { MoneyJson } from '#app/ledger/schemas.ts';
import type { Chargeback } from '#app/payments/chargeback-shared.ts';
import { closeCase } from '#app/payments/close-case.ts';
import { getCase } from '#app/payments/get-case.ts';
import { type CaseItem, listCases } from '#app/payments/list-cases.ts';
import { listDeposits } from '#app/payments/list-deposits.ts';
import { refundDeposit } from '#app/payments/refund-deposit.ts';
import type { Refund } from '#app/payments/refund-shared.ts';
import type { Withdrawal } from '#app/payments/withdrawal-shared.ts';
import type { Role } from '#domain/identity/roles.ts';
import { CASE_RESOLUTIONS } from '#domain/payments/cases.ts';
import { REFUND_REASONS } from '#domain/payments/refunds.ts';
import { DEPOSIT_STATUSES } from '#domain/payments/status.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { adminDepositView } from './shared/deposit-view.ts';
import { cursorParam, limitParam, pageBody, pageSchema } from './shared/pages.ts';
import { providerUnavailableAs502 } from './shared/provider-unavailable.ts';

const DEPOSIT_READERS: readonly Role[] = ['finance', 'compliance', 'admin'];
const REFUNDERS: readonly Role[] = ['finance'];
const CASE_READERS: readonly Role[] = ['compliance', 'admin'];
const CASE_CLOSERS: readonly Role[] = ['compliance'];

// ------------------------------------------------------------------------------------------------ schemas

const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/);

export const ListDepositsQuery = z.strictObject({
  clientId: Id.optional(),
  status: z.enum(DEPOSIT_STATUSES).optional(),
  limit: limitParam(100, 50),
  cursor: cursorParam.optional(),
});

export const DepositParams = z.strictObject({ depositId: Id });

export const RefundBody = z.strictObject({
  amount: MoneyJson,
  reason: z
    .string()
    .min(1)
    .max(64)
    .meta({ description: `One of ${REFUND_REASONS.join(', ')}` }),
  note: z.string().trim().min(1).max(2000).optional(),
});
export type RefundInput = z.infer<typeof RefundBody>;

export const ListCasesQuery = z.strictObject({
  status: z.enum(['open', 'closed']).default('open'),
  limit: limitParam(100, 50),
  cursor: cursorParam.optional(),
});
export const CaseParams = z.strictObject({ caseId: Id });

const Money = z.object({ amount: z.string(), currency: z.string() });
const Timeline = z.array(z.object({ status: z.string(), at: z.string(), reason: z.string().optional() }));

const DepositOut = z
  .object({
    depositId: z.string(),
    clientId: z.string(),
    status: z.string(),
    walletId: z.string(),
    gross: Money,
    fee: Money,
    net: Money,
    refunded: Money.optional(),
    refundsPending: Money.optional(),
    chargebackId: z.string().optional(),
    provider: z.string(),
    providerRef: z.string().optional(),
  })
  .loose();

const RefundOut = z.object({
  refundId: z.string(),
  depositId: z.string(),
  clientId: z.string(),
  walletId: z.string(),
  status: z.enum(['pending', 'completed', 'failed']),
  amount: Money,
  reason: z.string(),
  note: z.string().optional(),
  requestedBy: z.string(),
  provider: z.string(),
  providerRef: z.string().optional(),
  journalId: z.string().optional(),
  failureReason: z.string().optional(),
  timeline: Timeline,
  createdAt: z.string(),
  updatedAt: z.string(),
});

const CaseOut = z.object({
  caseId: z.string(),
  clientId: z.string(),
  kind: z.string(),
  status: z.enum(['open', 'closed']),
  subject: z.object({ type: z.string(), id: z.string() }),
  openedAt: z.string(),
  closedAt: z.string().optional(),
  closedBy: z.string().optional(),
  resolution: z.enum(CASE_RESOLUTIONS).optional(),
  note: z.string().optional(),
  evidence: z.record(z.string(), z.unknown()),
  effects: z.array(z.string()),
  updatedAt: z.string(),
});

export const CloseCaseBody = z.strictObject({
  // Checked by domain/payments/cases.ts validateCaseClosure (unknown_resolution, note_required).
  resolution: z.string().max(64),
  note: z.string().max(4000).optional(),
});

const CloseCaseOut = CaseOut.extend({
  freeze: z.object({
    lifted: z.boolean(),
    keptBecause: z.enum(['not_frozen', 'not_set_by_a_case', 'resolution', 'other_open_case']).optional(),
  }),
});

const CaseDetail = CaseOut.extend({
  chargeback: z.record(z.string(), z.unknown()).optional(),
  withdrawal: z.record(z.string(), z.unknown()).optional(),
});

// -------------------------------------------------------------------------------------------------- views

/** The refund as the back office sees it. */
export function refundView(r: Refund) {
  return {
    refundId: r.refundId,
    depositId: r.depositId,
    clientId: r.clientId,
    walletId: r.walletId,
    status: r.status,
    amount: r.amount,
    reason: r.reason,
    ...(r.note ? { note: r.note } : {}),
    requestedBy: r.requestedBy,
    provider: r.provider,
    ...(r.providerRef ? { providerRef: r.providerRef } : {}),
    ...(r.journalId ? { journalId: r.journalId } : {}),
    ...(r.failureReason ? { failureReason: r.failureReason } : {}),
    timeline: r.timeline,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** The case as compliance sees it (no storage attributes). */
export function caseView(c: CaseItem) {
  return {
    caseId: c.caseId,
    clientId: c.clientId,
    kind: c.kind,
    status: c.status,
    subject: c.subject,
    openedAt: c.openedAt,
    ...(c.closedAt ? { closedAt: c.closedAt, closedBy: c.closedBy, resolution: c.resolution, note: c.note } : {}),
    evidence: c.evidence,
    effects: c.effects,
    updatedAt: c.updatedAt,
  };
}

/** The chargeback a case is about, as the back office sees it. */
export function chargebackView(c: Chargeback) {
  return {
    chargebackId: c.chargebackId,
    depositId: c.depositId,
    disputeId: c.disputeId,
    reasonCode: c.reasonCode,
    status: c.status,
    amount: c.amount,
    fromWallet: c.fromWallet,
    receivable: c.receivable,
    journalId: c.journalId,
    ...(c.reversalJournalId ? { reversalJournalId: c.reversalJournalId } : {}),
    caseId: c.caseId,
    clientId: c.clientId,
    walletId: c.walletId,
    provider: c.provider,
    timeline: c.timeline,
    openedAt: c.openedAt,
    ...(c.resolvedAt ? { resolvedAt: c.resolvedAt } : {}),
  };
}

/** The withdrawal a case is about: its money, destination, review and payout (never its task tokens). */
export function caseWithdrawalView(w: Withdrawal) {
  return {
    withdrawalId: w.withdrawalId,
    status: w.status,
    gross: w.gross,
    fee: w.fee,
    net: w.net,
    methodId: w.methodId,
    destination: w.destination.display,
    ...(w.review ? { review: w.review } : {}),
    ...(w.payout ? { payout: w.payout } : {}),
    ...(w.journalId ? { journalId: w.journalId } : {}),
  };
}

// -------------------------------------------------------------------------------------------------- routes

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/deposits',
    operationId: 'listAdminDeposits',
    summary: "A client's deposits (newest first, optionally of one status) or the tenant's deposits in one status",
    tags: ['payments'],
    auth: DEPOSIT_READERS,
    query: ListDepositsQuery,
    responses: {
      200: {
        description: 'A page of deposits',
        schema: pageSchema(DepositOut),
      },
      400: { description: 'client_or_status_required, invalid_cursor, validation_failed' },
    },
    handler: async ({ query, caller, correlationId, locale }) => {
      const page = await listDeposits(query, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, (d) => adminDepositView(d, locale)) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/deposits/{depositId}/refunds',
    operationId: 'refundDeposit',
    summary: 'Refunds (part of) a completed deposit to its source: funds held at once, the provider asked, outcome by webhook',
    tags: ['payments'],
    auth: REFUNDERS,
    params: DepositParams,
    body: RefundBody,
    idempotency: 'required',
    responses: {
      201: { description: 'The refund (pending until the provider confirms; failed when it refused)', schema: RefundOut },
      400: { description: 'unknown_reason, note_required, invalid_amount, idempotency_key_required' },
      404: { description: 'deposit_not_found' },
      422: {
        description:
          'deposit_not_refundable, currency_mismatch, refund_exceeds_deposit, insufficient_funds, account_frozen, idempotency_key_reused, amount_not_positive, amount_too_precise',
      },
      502: { description: 'payment_provider_unavailable (the refund is failed and its hold released)' },
    },
    handler: async ({ params, body, caller, correlationId, idempotencyKey, locale }) => {
      const refund = await refundDeposit({ depositId: params.depositId, ...body }, caller!, {
        idempotencyKey,
        requestId: correlationId,
        locale,
      }).catch(providerUnavailableAs502);
      return { status: 201, body: refundView(refund) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/compliance/cases',
    operationId: 'listComplianceCases',
    summary: 'Compliance cases by status: open ones oldest first (default), closed ones newest first',
    tags: ['compliance'],
    auth: CASE_READERS,
    query: ListCasesQuery,
    responses: {
      200: {
        description: 'A page of cases',
        schema: pageSchema(CaseOut),
      },
      400: { description: 'invalid_cursor, validation_failed' },
    },
    handler: async ({ query, caller, correlationId, locale }) => {
      const page = await listCases(query, caller!, { requestId: correlationId, locale });
      return { status: 200, body: pageBody(page, caseView) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/compliance/cases/{caseId}',
    operationId: 'getComplianceCase',
    summary: 'One compliance case with its evidence (and the chargeback or withdrawal it is about)',
    tags: ['compliance'],
    auth: CASE_READERS,
    params: CaseParams,
    responses: {
      200: { description: 'The case', schema: CaseDetail },
      404: { description: 'case_not_found' },
    },
    handler: async ({ params, caller, correlationId, locale }) => {
      const { case: c, chargeback, withdrawal } = await getCase(params, caller!, { requestId: correlationId, locale });
      return {
        status: 200,
        body: {
          ...caseView(c),
          ...(chargeback ? { chargeback: chargebackView(chargeback) } : {}),
          ...(withdrawal ? { withdrawal: caseWithdrawalView(withdrawal) } : {}),
        },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/compliance/cases/{caseId}/close',
    operationId: 'closeComplianceCase',
    summary:
      "Closes a case with a resolution and a note; 'cleared' and 'recovered' lift the withdrawal freeze unless another open case holds it",
    tags: ['compliance'],
    auth: CASE_CLOSERS,
    params: CaseParams,
    body: CloseCaseBody,
    responses: {
      200: { description: 'The closed case and what happened to the freeze', schema: CloseCaseOut },
      400: { description: 'unknown_resolution, note_required, validation_failed' },
      404: { description: 'case_not_found' },
      409: { description: 'case_already_closed, conflict' },
    },
    handler: async ({ params, body, caller, correlationId, locale }) => {
      const res = await closeCase({ caseId: params.caseId, ...body }, caller!, { requestId: correlationId, locale });
      return {
        status: 200,
        body: {
          ...caseView(res.case),
          freeze: res.freeze.lift ? { lifted: true } : { lifted: false, keptBecause: res.freeze.keptBecause },
        },
      };
    },
  }),
];

export const handler = httpHandler(...routes);
