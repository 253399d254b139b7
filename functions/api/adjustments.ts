/**
 * Manual adjustments by finance: POST /v1/admin/adjustments, GET /v1/admin/adjustments,
 * POST /v1/admin/adjustments/{adjustmentId}/decision. Role finance only.
 *
 * Invariants:
 * - each route parses, admits finance only and calls one use case (functions/app/ledger:
 *   request-adjustment, list-adjustments, decide-adjustment: the four-eyes rules, the splitting guard and
 *   the one-transaction journals are theirs) and presents its result
 * - a create answers 201 'posted' below the tenant threshold (posted at once) and 202 'pending_approval'
 *   at or above it (or when the requester's daily total would reach it); a retried create (same
 *   Idempotency-Key, even after the edge record is gone) answers the original request with its original
 *   status code; the same key with another body is 422 idempotency_key_reused
 * - a reason is 10..500 characters; it is kept in the journal metadata and the audit trail, never shown
 *   to the client
 * - a decision by the requester is 403 four_eyes_required; a second one 409 already_decided; a late
 *   one 409 adjustment_expired; a funds failure (422 insufficient_funds, account_frozen) writes nothing
 *   and leaves the request pending
 */
import * as z from 'zod';
import { decideAdjustment } from '#app/ledger/decide-adjustment.ts';
import { listAdjustments } from '#app/ledger/list-adjustments.ts';
import { requestAdjustment } from '#app/ledger/request-adjustment.ts';
import { MoneyJson, WalletId } from '#app/ledger/schemas.ts';
import { ID_PATTERN } from '#domain/ledger/index.ts';
import type { Role } from '#functions/manifest.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam } from './shared/pages.ts';

const ALLOWED: readonly Role[] = ['finance'];

export const AdjustmentBody = z.strictObject({
  walletId: WalletId,
  direction: z.enum(['credit', 'debit']),
  amount: MoneyJson,
  reason: z.string().trim().min(10).max(500),
  reference: z.string().trim().min(1).max(128).optional(),
});

export const DecisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  note: z.string().trim().min(1).max(500),
});

export const AdjustmentParams = z.strictObject({ adjustmentId: z.string().min(1).max(128).regex(ID_PATTERN) });

export const ListAdjustmentsQuery = z.strictObject({
  status: z.enum(['pending_approval', 'approved', 'posted', 'rejected']).optional(),
  limit: limitParam(100, 50),
  cursor: cursorParam.optional(),
});

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });
const AdjustmentView = z.object({
  adjustmentId: z.string(),
  walletId: z.string(),
  clientId: z.string(),
  direction: z.enum(['credit', 'debit']),
  amount: MoneyOut,
  reason: z.string(),
  reference: z.string().optional(),
  status: z.enum(['pending_approval', 'approved', 'posted', 'rejected', 'expired']),
  requestedBy: z.string(),
  requestedAt: z.string(),
  expiresAt: z.string(),
  decision: z.enum(['approve', 'reject']).optional(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
  note: z.string().optional(),
  journalId: z.string().optional(),
});
const AdjustmentResult = AdjustmentView.extend({
  threshold: z.object({ amount: z.string(), currency: z.string(), approvalRequired: z.boolean() }).optional(),
});

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/admin/adjustments',
    operationId: 'createAdjustment',
    summary: 'Credit or debit a client wallet against the house adjustments account (four-eyes at or above the threshold)',
    tags: ['finance'],
    auth: ALLOWED,
    body: AdjustmentBody,
    idempotency: 'required',
    responses: {
      201: { description: 'Posted at once (below the threshold)', schema: AdjustmentResult },
      202: { description: 'Awaiting a second finance user (at or above the threshold)', schema: AdjustmentResult },
      404: { description: 'wallet_not_found' },
      422: { description: 'currency_mismatch, insufficient_funds, account_frozen, amount_* codes, idempotency_key_reused' },
    },
    handler: async ({ body, caller, idempotencyKey, correlationId, locale }) => {
      const r = await requestAdjustment(body, caller!, { idempotencyKey, requestId: correlationId, locale });
      return { status: r.outcome === 'posted' ? 201 : 202, body: { ...r.adjustment, threshold: r.threshold } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/adjustments',
    operationId: 'listAdjustments',
    summary: 'Adjustment requests, newest first, optionally in one status',
    tags: ['finance'],
    auth: ALLOWED,
    query: ListAdjustmentsQuery,
    responses: {
      200: {
        description: 'A page of adjustments',
        schema: z.object({ items: z.array(AdjustmentView), nextCursor: z.string().optional(), hasMore: z.boolean() }),
      },
    },
    handler: async ({ query, caller, correlationId, locale }) => ({
      status: 200,
      body: await listAdjustments(query, caller!, { requestId: correlationId, locale }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/adjustments/{adjustmentId}/decision',
    operationId: 'decideAdjustment',
    summary: 'Approve (posts the journal) or reject a pending adjustment; a different finance user than the requester',
    tags: ['finance'],
    auth: ALLOWED,
    params: AdjustmentParams,
    body: DecisionBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'Decided', schema: AdjustmentView },
      403: { description: 'four_eyes_required' },
      404: { description: 'adjustment_not_found' },
      409: { description: 'already_decided, adjustment_expired' },
      422: { description: 'insufficient_funds, account_frozen (nothing written; the request stays pending)' },
    },
    handler: async ({ params, body, caller, correlationId, locale }) => ({
      status: 200,
      body: await decideAdjustment({ adjustmentId: params.adjustmentId, ...body }, caller!, { requestId: correlationId, locale }),
    }),
  }),
];

export const handler = httpHandler(...routes);
