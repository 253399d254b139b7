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
 * - no splitting: a requester's immediate adjustments of one UTC day are summed (threshold currency,
 *   minor units, each converted at the mid rate rounded up) in a counter item
 *   (ADJCOUNTER#<sub>#<day>); an adjustment that would bring the day's total to the threshold or above
 *   needs approval like a large one (202). The decision is made on a read of the counter; the counter
 *   update is in the journal's transaction, conditioned on `total < threshold - amount`, so a race
 *   re-reads it and re-decides (posting at once, or storing a request instead)
 * - the adjustment id is derived from (requester sub, Idempotency-Key) and the request keeps the hash
 *   of its body: a retried create (even after the edge idempotency record is gone) returns the
 *   original request with its original status code (201 or 202); the same key with another body is
 *   422 idempotency_key_reused. No request is ever created twice for one key
 * - money never moves without its record, and a record never says 'posted' without its journal:
 *   an immediate adjustment is posted through executeJournal with an extension that writes the
 *   adjustment item (status 'posted', journalId), the daily counter update and the
 *   'ledger.adjustment.posted' audit IN THE JOURNAL'S TRANSACTION (ledger key
 *   adjustment:<sub>/<Idempotency-Key>, journal id = adjustment id)
 * - an approval is one transaction too: the journal (journal id = adjustment id, ledger key
 *   adjustment/<adjustmentId>), the request moved to 'posted' with journalId, decidedBy, decidedAt and
 *   note (conditioned on its version and on 'pending_approval'), and the 'ledger.adjustment.approved'
 *   + 'ledger.adjustment.posted' audit entries. Of two concurrent approvals one posts; the other
 *   re-reads and gets 409 already_decided. A funds failure (insufficient_funds, account_frozen)
 *   writes nothing: the request stays 'pending_approval' and the error is returned. A rejection is
 *   one commit conditioned on 'pending_approval', so a posted request can never be rejected
 * - 'approved' is a legacy status (older versions approved, then posted): such a request reads as
 *   posted once its journal (ledger key adjustment/<id>) exists, otherwise it is decided like a
 *   pending one
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { DomainError, isDomainError } from '#domain/errors.ts';
import {
  type AdjustmentDirection,
  type AdjustmentRequest,
  assertDecidable,
  checkThreshold,
  dailyApprovalRequired,
  expiryOf,
  thresholdMinor,
  utcDay,
} from '#domain/ledger/adjustments.ts';
import { type Account, ID_PATTERN, transferJournal } from '#domain/ledger/index.ts';
import { formatMoney, type Money, parseMoney } from '#domain/money/index.ts';
import type { Role } from '#functions/manifest.ts';
import { type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import {
  type AdjustmentItem,
  addToDailyTotal,
  adjustmentExists,
  adjustmentView,
  getAdjustment,
  listAdjustments,
  newAdjustment,
  putAdjustment,
  readDailyTotal,
  updateAdjustment,
} from '#store/adjustments.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { houseAccount } from '#store/ledger/accounts.ts';
import { executeJournal, getJournal, readIdempotency, reused } from '#store/ledger/journals.ts';
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

/** The adjustment id of (requester, Idempotency-Key): a retried create finds its original request. */
export const adjustmentIdFor = (sub: string, key: string): string =>
  `adj_${createHash('sha256').update(`${sub}\n${key}`, 'utf8').digest('base64url').slice(0, 32)}`;

/** Thrown inside the journal transaction when the requester's daily total no longer allows posting at once. */
class ApprovalNowRequired extends Error {}

type Threshold = { amount: string; currency: string; approvalRequired: boolean };

/** The stored request as the create call answers it (201 posted at once, 202 awaiting approval). */
function createdResult(item: AdjustmentItem, hash: string, threshold: Threshold) {
  if (item.requestHash !== undefined && item.requestHash !== hash) throw reused();
  const approvalRequired = item.approvalRequired ?? !(item.status === 'posted' && !item.decidedBy);
  return {
    status: approvalRequired ? 202 : 201,
    body: { ...adjustmentView(item), threshold: { ...threshold, approvalRequired } },
  };
}

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
  const hash = requestHash(input);
  const adjustmentId = adjustmentIdFor(caller.sub, ctx.key);
  const check = checkThreshold(amount, cfg);
  let threshold: Threshold = { ...check.threshold, approvalRequired: check.approvalRequired };

  // A retry (even after the edge idempotency record is gone) finds the original request.
  const existing = await getAdjustment(adjustmentId);
  if (existing) return createdResult(existing, hash, threshold);
  // Legacy: an immediate adjustment of an older version (random id) under the same ledger key.
  const scope = ledgerScope('adjustment', caller.sub);
  const legacy = await readIdempotency(scope, ctx.key);
  if (legacy) return legacyReplay(legacy, hash, threshold);

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

  // Splitting guard: the requester's immediate adjustments today plus this one must stay below the threshold.
  const day = utcDay(now);
  const minor = check.approvalRequired ? undefined : thresholdMinor(amount, cfg);
  if (!check.approvalRequired) {
    if (!minor || dailyApprovalRequired(await readDailyTotal(caller.sub, day), minor.amount, minor.limit)) {
      threshold = { ...threshold, approvalRequired: true };
    }
  }

  if (!threshold.approvalRequired && minor) {
    try {
      return await postImmediately();
    } catch (err) {
      if (err instanceof ApprovalNowRequired) threshold = { ...threshold, approvalRequired: true };
      else if (isDomainError(err) && err.code === 'adjustment_exists') {
        const found = await getAdjustment(adjustmentId);
        if (found) return createdResult(found, hash, threshold);
        throw err;
      } else throw err;
    }
  }

  const item = newAdjustment(
    { ...base, adjustmentId, status: 'pending_approval', requestHash: hash, approvalRequired: true },
    now,
  );
  try {
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
  } catch (err) {
    if (!(isDomainError(err) && err.code === 'adjustment_exists')) throw err;
    const found = await getAdjustment(adjustmentId);
    if (!found) throw err;
    return createdResult(found, hash, threshold);
  }
  return { status: 202, body: { ...adjustmentView(item), threshold } };

  /** Journal + 'posted' record + daily total + audits in ONE transaction. */
  async function postImmediately() {
    const limits = minor!;
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
    let item: AdjustmentItem | undefined;
    await executeJournal(
      {
        draft,
        idempotency: { scope, key: ctx.key, requestHash: hash },
        actor,
        requestId: ctx.requestId,
        clientId: wallet.ownerId,
      },
      {
        async prepare({ at }) {
          // Fresh reads on every attempt: a concurrent twin recorded it, or the day total moved on.
          const [twin, total] = await Promise.all([getAdjustment(adjustmentId), readDailyTotal(caller.sub, day)]);
          if (twin) throw adjustmentExists();
          if (dailyApprovalRequired(total, limits.amount, limits.limit)) throw new ApprovalNowRequired();
          item = newAdjustment(
            {
              ...base,
              adjustmentId,
              status: 'posted',
              journalId: adjustmentId,
              decidedAt: at,
              requestHash: hash,
              approvalRequired: false,
            },
            at,
          );
          return {
            adjusted: new Set<string>(),
            writes: [putAdjustment(item), addToDailyTotal(caller.sub, day, limits.amount, limits.limit, at)],
            audit: [
              {
                actor,
                action: 'ledger.adjustment.posted',
                entity: { type: ENTITY, id: adjustmentId },
                newEntity: true,
                clientId: wallet.ownerId,
                before: null,
                after: { ...adjustmentView(item), threshold },
                reason: input.reason,
                requestId: ctx.requestId,
              },
            ],
            outbox: [],
          };
        },
      },
    );
    return { status: 201, body: { ...adjustmentView(item!), threshold } };
  }
}

/** A create retried after an older version posted it immediately: the original journal's adjustment. */
async function legacyReplay(prior: { requestHash: string; resultId: string }, hash: string, threshold: Threshold) {
  if (prior.requestHash !== hash) throw reused();
  const journal = await getJournal(prior.resultId);
  const id = journal ? (journalAdjustmentId(journal.metadata) ?? journal.journalId) : undefined;
  const found = id ? await getAdjustment(id) : undefined;
  if (!found) throw new DomainError('adjustment_not_found', 'conflict', 'This request was posted but its record is missing');
  return { status: 201, body: { ...adjustmentView(found), threshold } };
}

export async function decideAdjustment(
  adjustmentId: string,
  body: z.infer<typeof DecisionBody>,
  caller: Caller,
  requestId: string,
) {
  const item = await getAdjustment(adjustmentId);
  if (!item) throw notFound();
  const actor = actorFrom(caller, ALLOWED);
  const entity = { type: ENTITY, id: adjustmentId };
  const idempotency = { scope: 'adjustment', key: adjustmentId, requestHash: adjustmentId };

  // Legacy 'approved' (an older version died between approving and posting): posted if its journal
  // exists, otherwise decidable again like a pending request.
  if (item.status === 'approved') {
    const prior = await readIdempotency(idempotency.scope, idempotency.key);
    if (prior) {
      if (body.decision === 'reject') throw alreadyDecided('posted');
      const now = new Date().toISOString();
      await commit({
        writes: [updateAdjustment(item, { status: 'posted', journalId: prior.resultId }, now)],
        audit: {
          actor,
          action: 'ledger.adjustment.posted',
          entity,
          clientId: item.clientId,
          before: { status: 'approved' },
          after: { status: 'posted', journalId: prior.resultId },
          requestId,
        },
      });
      return adjustmentView({ ...item, status: 'posted', journalId: prior.resultId });
    }
  }
  assertDecidable(asPending(item), caller.sub, new Date());

  if (body.decision === 'reject') {
    const now = new Date().toISOString();
    const next = {
      status: 'rejected' as const,
      decision: 'reject' as const,
      decidedBy: caller.sub,
      decidedAt: now,
      note: body.note,
    };
    await commit({
      writes: [updateAdjustment(item, next, now)],
      audit: {
        actor,
        action: 'ledger.adjustment.rejected',
        entity,
        clientId: item.clientId,
        before: { status: item.status },
        after: { status: 'rejected', note: body.note },
        reason: body.note,
        requestId,
      },
    });
    return adjustmentView({ ...item, ...next, version: item.version + 1, updatedAt: now });
  }

  // Approve: the journal, the request -> 'posted' (conditioned on its version and pending status) and
  // both audit entries commit in ONE transaction; a funds failure writes nothing.
  const cfg = tenantConfig();
  const amount = parseMoney(item.amount, cfg.currencies);
  const wallet = await accessibleWallet(caller, item.walletId, ALLOWED);
  const draft = await adjustmentDraft({
    journalId: adjustmentId,
    adjustmentId,
    wallet,
    direction: item.direction,
    amount,
    reason: item.reason,
    reference: item.reference,
    requestedBy: item.requestedBy,
    approvedBy: caller.sub,
  });
  let posted: AdjustmentItem | undefined;
  try {
    await executeJournal(
      { draft, idempotency, actor, requestId, clientId: item.clientId },
      {
        async prepare({ at }) {
          const fresh = await getAdjustment(adjustmentId);
          if (!fresh) throw notFound();
          assertDecidable(asPending(fresh), caller.sub, new Date(at));
          const next = {
            status: 'posted' as const,
            decision: 'approve' as const,
            decidedBy: caller.sub,
            decidedAt: at,
            note: body.note,
            journalId: adjustmentId,
          };
          posted = { ...fresh, ...next, version: fresh.version + 1, updatedAt: at };
          const common = { actor, entity, clientId: fresh.clientId, reason: body.note, requestId };
          return {
            adjusted: new Set<string>(),
            writes: [updateAdjustment(fresh, next, at)],
            audit: [
              {
                ...common,
                action: 'ledger.adjustment.approved',
                before: { status: fresh.status },
                after: { status: 'approved', note: body.note },
              },
              {
                ...common,
                action: 'ledger.adjustment.posted',
                before: { status: 'approved' },
                after: { status: 'posted', journalId: adjustmentId },
              },
            ],
            outbox: [],
          };
        },
      },
    );
  } catch (err) {
    // Another decision won (its journal took the ledger key first): this one is already decided.
    if (isDomainError(err) && err.code === 'idempotency_key_reused') throw alreadyDecided('posted');
    throw err;
  }
  return adjustmentView(posted!);
}

const alreadyDecided = (status: string) =>
  new DomainError('already_decided', 'conflict', `This adjustment was already decided (${status})`);

/** A legacy 'approved' request without a journal is decided like a pending one. */
function asPending(item: AdjustmentItem): AdjustmentRequest {
  return { ...item, status: item.status === 'approved' ? 'pending_approval' : item.status };
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
      422: { description: 'insufficient_funds, account_frozen (nothing written; the request stays pending)' },
    },
    handler: async ({ params, body, caller, correlationId }) => ({
      status: 200,
      body: await decideAdjustment(params.adjustmentId, body, caller!, correlationId),
    }),
  }),
];

export const handler = httpHandler(...routes);
