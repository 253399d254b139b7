/**
 * Manual adjustments by finance: POST /v1/admin/adjustments, GET /v1/admin/adjustments,
 * POST /v1/admin/adjustments/{adjustmentId}/decision. Role finance only.
 *
 * Invariants:
 * - an adjustment credits or debits one client wallet against the house_adjustments account of its
 *   currency, with a reason (10..500 characters) kept in the journal metadata and the audit trail,
 *   never shown to the client
 * - below the tenant threshold (domain/ledger/adjustments.ts checkThreshold: the amount converted
 *   to the threshold's currency at the exact mid rate) it posts at once: 201 status 'posted'. At or
 *   above it, it is stored as a request (audited 'ledger.adjustment.requested'): 202 'pending_approval'
 * - four eyes: a request is decided by a finance user other than its requester (403
 *   four_eyes_required), once (409 already_decided), before it expires (409 adjustment_expired)
 * - an approval is exactly once: the request is first moved to 'approved' (conditioned on its
 *   version and 'pending_approval', so of two concurrent decisions one wins), then the journal is
 *   posted with the ledger idempotency key adjustment/<adjustmentId> (a retry replays the same
 *   journal), then the request becomes 'posted' with its journal id. If the journal cannot post
 *   (insufficient_funds, account_frozen) the request returns to 'pending_approval' (audited) and the
 *   error is returned. If the process dies after 'approved', the same approver repeating the
 *   approval completes it
 * - immediate adjustments post with the ledger idempotency key adjustment:<sub>/<Idempotency-Key>,
 *   so a retried POST returns the same journal and records the adjustment once
 */
import * as z from 'zod';
import { DomainError, isDomainError } from '#domain/errors.ts';
import {
  type AdjustmentDirection,
  type AdjustmentRequest,
  assertDecidable,
  checkThreshold,
  expiryOf,
} from '#domain/ledger/adjustments.ts';
import { type Account, ID_PATTERN, transferJournal } from '#domain/ledger/index.ts';
import { formatMoney, type Money, parseMoney } from '#domain/money/index.ts';
import type { Role } from '#functions/manifest.ts';
import { type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import {
  type AdjustmentItem,
  adjustmentView,
  getAdjustment,
  listAdjustments,
  newAdjustment,
  putAdjustment,
  updateAdjustment,
} from '#store/adjustments.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { houseAccount } from '#store/ledger/accounts.ts';
import { newJournalId, postJournal } from '#store/ledger/journals.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';
import { ledgerScope, requestHash } from './transfers.ts';
import { accessibleWallet, MoneyJson, WalletId } from './wallets.ts';

const ALLOWED: readonly Role[] = ['finance'];
const ENTITY = 'adjustment';

export const AdjustmentBody = z.strictObject({
  walletId: WalletId,
  direction: z.enum(['credit', 'debit']),
  amount: MoneyJson,
  reason: z.string().trim().min(10).max(500),
  reference: z.string().trim().min(1).max(128).optional(),
});
export type AdjustmentInput = z.infer<typeof AdjustmentBody>;

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

const notFound = () => new DomainError('adjustment_not_found', 'not_found', 'No adjustment with this id');

/** The adjustment's journal: house_adjustments -> wallet for a credit, wallet -> house_adjustments for a debit. */
async function adjustmentDraft(a: {
  journalId: string;
  adjustmentId: string;
  wallet: Account;
  direction: AdjustmentDirection;
  amount: Money;
  reason: string;
  reference?: string | undefined;
  requestedBy: string;
  approvedBy?: string | undefined;
}) {
  const house = await houseAccount('house_adjustments', a.amount.currency);
  const [from, to] = a.direction === 'credit' ? [house, a.wallet] : [a.wallet, house];
  return transferJournal({
    journalId: a.journalId,
    from,
    to,
    amount: a.amount,
    type: 'adjustment',
    ...(a.reference ? { reference: a.reference } : {}),
    metadata: {
      adjustmentId: a.adjustmentId,
      direction: a.direction,
      reason: a.reason,
      requestedBy: a.requestedBy,
      ...(a.approvedBy ? { approvedBy: a.approvedBy } : {}),
    },
  });
}

const journalAdjustmentId = (metadata: Record<string, unknown>): string | undefined =>
  typeof metadata.adjustmentId === 'string' ? metadata.adjustmentId : undefined;

export async function requestAdjustment(input: AdjustmentInput, caller: Caller, ctx: { key: string; requestId: string }) {
  const cfg = tenantConfig();
  const amount = parseMoney(input.amount, cfg.currencies);
  const wallet = await accessibleWallet(caller, input.walletId, ALLOWED);
  if (wallet.currency !== amount.currency) {
    throw new DomainError(
      'currency_mismatch',
      'unprocessable',
      `The amount must be in the wallet's currency (${wallet.currency})`,
      [{ field: 'amount.currency', code: 'currency_mismatch', message: `Expected ${wallet.currency}` }],
    );
  }
  const check = checkThreshold(amount, cfg);
  const threshold = { ...check.threshold, approvalRequired: check.approvalRequired };
  const actor = actorFrom(caller, ALLOWED);
  const now = new Date().toISOString();
  const base: Omit<AdjustmentRequest, 'status' | 'adjustmentId'> = {
    walletId: wallet.accountId,
    clientId: wallet.ownerId,
    direction: input.direction,
    amount: formatMoney(amount),
    reason: input.reason,
    ...(input.reference ? { reference: input.reference } : {}),
    requestedBy: caller.sub,
    requestedAt: now,
    expiresAt: expiryOf(now),
  };

  if (check.approvalRequired) {
    const adjustmentId = newJournalId();
    const item = newAdjustment({ ...base, adjustmentId, status: 'pending_approval' }, now);
    await commit({
      writes: [putAdjustment(item)],
      audit: {
        actor,
        action: 'ledger.adjustment.requested',
        entity: { type: ENTITY, id: adjustmentId },
        clientId: wallet.ownerId,
        before: null,
        after: { ...adjustmentView(item), threshold },
        reason: input.reason,
        requestId: ctx.requestId,
      },
    });
    return { status: 202, body: { ...adjustmentView(item), threshold } };
  }

  const adjustmentId = newJournalId();
  const draft = await adjustmentDraft({
    journalId: adjustmentId,
    adjustmentId,
    wallet,
    amount,
    direction: input.direction,
    reason: input.reason,
    reference: input.reference,
    requestedBy: caller.sub,
  });
  const { journal } = await postJournal({
    draft,
    idempotency: { scope: ledgerScope('adjustment', caller.sub), key: ctx.key, requestHash: requestHash(input) },
    actor,
    requestId: ctx.requestId,
    clientId: wallet.ownerId,
  });
  // A replay returns the original journal: record (or find) the adjustment under ITS id.
  const id = journalAdjustmentId(journal.metadata) ?? journal.journalId;
  const existing = await getAdjustment(id);
  if (existing) return { status: 201, body: { ...adjustmentView(existing), threshold } };
  const item = newAdjustment(
    { ...base, adjustmentId: id, status: 'posted', journalId: journal.journalId, decidedAt: journal.postedAt },
    now,
  );
  try {
    await commit({
      writes: [putAdjustment(item)],
      audit: {
        actor,
        action: 'ledger.adjustment.posted',
        entity: { type: ENTITY, id },
        clientId: wallet.ownerId,
        before: null,
        after: { ...adjustmentView(item), threshold },
        reason: input.reason,
        requestId: ctx.requestId,
      },
    });
  } catch (err) {
    if (!(isDomainError(err) && err.code === 'adjustment_exists')) throw err;
  }
  return { status: 201, body: { ...adjustmentView(item), threshold } };
}

function asRequest(item: AdjustmentItem): AdjustmentRequest {
  return { ...item, status: item.status === 'approved' ? 'posted' : item.status };
}

export async function decideAdjustment(
  adjustmentId: string,
  body: z.infer<typeof DecisionBody>,
  caller: Caller,
  requestId: string,
) {
  let item = await getAdjustment(adjustmentId);
  if (!item) throw notFound();
  const actor = actorFrom(caller, ALLOWED);
  const entity = { type: ENTITY, id: adjustmentId };
  const resuming = item.status === 'approved' && body.decision === 'approve' && item.decidedBy === caller.sub;
  if (!resuming) assertDecidable(asRequest(item), caller.sub, new Date());

  /** Records the decision (status, who, when, note) with its audit item, conditioned on the version read. */
  const record = async (decision: 'approve' | 'reject') => {
    const now = new Date().toISOString();
    const status = decision === 'approve' ? ('approved' as const) : ('rejected' as const);
    const next = { status, decision, decidedBy: caller.sub, decidedAt: now, note: body.note };
    await commit({
      writes: [updateAdjustment(item!, next, now)],
      audit: {
        actor,
        action: `ledger.adjustment.${status}`,
        entity,
        clientId: item!.clientId,
        before: { status: item!.status },
        after: { status, note: body.note },
        reason: body.note,
        requestId,
      },
    });
    return { ...item!, ...next, version: item!.version + 1, updatedAt: now };
  };

  if (body.decision === 'reject') return adjustmentView(await record('reject'));
  if (!resuming) item = await record('approve');

  const cfg = tenantConfig();
  const amount = parseMoney(item.amount, cfg.currencies);
  let journalId: string;
  try {
    const wallet = await accessibleWallet(caller, item.walletId, ALLOWED);
    const draft = await adjustmentDraft({
      journalId: newJournalId(),
      adjustmentId,
      wallet,
      direction: item.direction,
      amount,
      reason: item.reason,
      reference: item.reference,
      requestedBy: item.requestedBy,
      approvedBy: caller.sub,
    });
    const { journal } = await postJournal({
      draft,
      idempotency: { scope: 'adjustment', key: adjustmentId, requestHash: adjustmentId },
      actor,
      requestId,
      clientId: item.clientId,
    });
    journalId = journal.journalId;
  } catch (err) {
    if (isDomainError(err)) {
      // The movement cannot post (funds, frozen): the request goes back to pending, audited.
      const now = new Date().toISOString();
      await commit({
        writes: [
          updateAdjustment(
            item,
            { status: 'pending_approval', decision: undefined, decidedBy: undefined, decidedAt: undefined },
            now,
          ),
        ],
        audit: {
          actor,
          action: 'ledger.adjustment.approval_failed',
          entity,
          clientId: item.clientId,
          before: { status: 'approved' },
          after: { status: 'pending_approval', error: err.code },
          requestId,
        },
      });
    }
    throw err;
  }
  const now = new Date().toISOString();
  await commit({
    writes: [updateAdjustment(item, { status: 'posted', journalId }, now)],
    audit: {
      actor,
      action: 'ledger.adjustment.posted',
      entity,
      clientId: item.clientId,
      before: { status: 'approved' },
      after: { status: 'posted', journalId },
      requestId,
    },
  });
  return adjustmentView({ ...item, status: 'posted', journalId });
}

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
    handler: async ({ body, caller, idempotencyKey, correlationId }) =>
      requestAdjustment(body, caller!, { key: idempotencyKey!, requestId: correlationId }),
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
    handler: async ({ query }) => ({ status: 200, body: await listAdjustments(query.status, query.limit, query.cursor) }),
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
    },
    handler: async ({ params, body, caller, correlationId }) => ({
      status: 200,
      body: await decideAdjustment(params.adjustmentId, body, caller!, correlationId),
    }),
  }),
];

export const handler = httpHandler(...routes);
