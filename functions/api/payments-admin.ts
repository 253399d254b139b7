/**
 * The payments back office: GET /v1/admin/deposits (finance, compliance, admin), POST
 * /v1/admin/deposits/{depositId}/refunds (finance only; Idempotency-Key required), and the compliance
 * cases a chargeback opens: GET /v1/admin/compliance/cases and /{caseId} (compliance, admin), POST
 * /v1/admin/compliance/cases/{caseId}/close (compliance only: closing may lift a withdrawal freeze).
 *
 * Invariants:
 * - role checks are the middleware's (manifest roles): a client, a partner or another staff role gets
 *   403 forbidden_role on every route here
 * - the deposit list is one client's (clientId; newest first, optionally one status) or the tenant's
 *   deposits in one status (status alone; gsi3: created / pending oldest first, the others newest
 *   first); neither is 400 client_or_status_required. Paginated with an opaque cursor
 * - a refund is checked completely before money moves: the reason (400 unknown_reason / note_required),
 *   the amount (parseMoney codes), the deposit (404 deposit_not_found; 422 deposit_not_refundable,
 *   currency_mismatch, refund_exceeds_deposit) and the wallet (422 insufficient_funds); any of these
 *   writes nothing. Then the funds are held and the refund is 'pending' in one transaction
 *   (store/payments/refunds.ts), and only then is the provider asked (idempotency key = refund id)
 * - the provider refusing the refund fails it (hold voided, reason refund_declined); the provider
 *   unreachable fails it too (reason provider_unavailable) and answers 502 payment_provider_unavailable:
 *   money is never left reserved for a request the provider never took. Its outcome otherwise arrives
 *   by webhook (refund-effects.ts); a synchronous 'succeeded' completes it at once
 * - exactly once: the edge replays a retried request; independently the refund id is derived from
 *   (deposit, Idempotency-Key) and its hold carries the ledger's own idempotency item, so a retry finds
 *   the same refund and never holds twice; another body under the same key is 422 idempotency_key_reused
 */
import { createHash } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { pspFor } from '#adapters/psp/index.ts';
import { canonicalJson } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { parseMoney, toMinor } from '#domain/money/index.ts';
import { CASE_RESOLUTIONS, validateCaseClosure } from '#domain/payments/cases.ts';
import { REFUND_REASONS, validateRefundReason } from '#domain/payments/refunds.ts';
import { DEPOSIT_STATUSES } from '#domain/payments/status.ts';
import type { Role } from '#functions/manifest.ts';
import { type Caller, defineRoute, EdgeError, httpHandler } from '#middleware/http.ts';
import { ddb } from '#shared/clients.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom } from '#store/audit.ts';
import { tableName } from '#store/items.ts';
import { paymentKeys } from '#store/keys.ts';
import { cursorParam, decodeCursor, encodeCursor, limitParam, type Page } from '#store/pagination.ts';
import { caseNotFound, caseView, closeCase, getCase, listCasesByStatus } from '#store/payments/cases.ts';
import { chargebackView, getChargeback } from '#store/payments/chargebacks.ts';
import { depositView, listDepositsByStatus, type StoredDeposit } from '#store/payments/deposits.ts';
import {
  completeRefund,
  type DepositWithRefunds,
  failRefund,
  getRefund,
  type RefundItem,
  recordRefundSent,
  refundView,
  requestRefund,
} from '#store/payments/refunds.ts';
import { getWithdrawal, WITHDRAWAL_ENTITY, withdrawalSnapshot } from '#store/payments/withdrawal-items.ts';
import { pageBody, pageSchema } from './shared/pages.ts';
import { MoneyJson } from './wallets.ts';

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

// ------------------------------------------------------------------------------------------------ deposits

/**
 * One page of a client's deposits, newest first, optionally of one status. With a status filter a page
 * is filled by reading on (the filter applies after DynamoDB's Limit), and the cursor is the last
 * returned item's key, so no item is skipped or shown twice.
 */
export async function listClientDepositsFiltered(q: {
  clientId: string;
  status?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}): Promise<Page<StoredDeposit>> {
  const partition = paymentKeys.clientDepositsPartition(q.clientId);
  let start: Record<string, unknown> | undefined = q.cursor ? decodeCursor(q.cursor, { index: 'gsi1', partition }) : undefined;
  const items: StoredDeposit[] = [];
  let more = false;
  do {
    const res = await ddb().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ...(q.status
          ? {
              FilterExpression: '#s = :s',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':p': partition, ':s': q.status },
            }
          : { ExpressionAttributeValues: { ':p': partition } }),
        ScanIndexForward: false,
        Limit: q.limit + 1,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of (res.Items ?? []) as StoredDeposit[]) {
      if (items.length === q.limit) {
        more = true;
        break;
      }
      items.push(item);
    }
    start = res.LastEvaluatedKey;
  } while (!more && start);
  if (!more && !start) return { items, hasMore: false };
  const last = items[items.length - 1];
  if (!last) return { items, hasMore: false };
  const key = { pk: last.pk, sk: last.sk, gsi1pk: last.gsi1pk, gsi1sk: last.gsi1sk };
  return { items, hasMore: true, nextCursor: encodeCursor(key) };
}

export function adminDepositView(d: DepositWithRefunds, locale: string) {
  return {
    ...depositView(d, locale, { staff: true }),
    ...(d.refundsPending && toMinor(d.refundsPending.amount, d.refundsPending.currency) > 0n
      ? { refundsPending: d.refundsPending }
      : {}),
    ...(d.chargebackId ? { chargebackId: d.chargebackId } : {}),
  };
}

// ------------------------------------------------------------------------------------------------- refunds

/** sha256 of the refund request (deposit + canonical body): what the hold's idempotency item remembers. */
const refundRequestHash = (depositId: string, body: RefundInput) =>
  createHash('sha256')
    .update(canonicalJson({ depositId, ...body }), 'utf8')
    .digest('hex');

/** Asks the provider for a pending refund it has not been sent yet, and records the answer. */
async function sendToProvider(refund: RefundItem, ctx: { actor: ReturnType<typeof actorFrom>; requestId: string }) {
  const amount = parseMoney(refund.amount, [refund.amount.currency]);
  let answer: Awaited<ReturnType<ReturnType<typeof pspFor>['refund']>>;
  try {
    answer = await pspFor(refund.provider).refund({
      depositProviderRef: refund.depositProviderRef,
      amount,
      idempotencyKey: refund.refundId,
      reason: refund.reason,
    });
  } catch (err) {
    logger.warn('refund: provider call failed; the refund is failed and its hold voided', {
      refundId: refund.refundId,
      error: (err as Error).name,
    });
    await failRefund(refund.refundId, 'provider_unavailable', ctx);
    throw new EdgeError(
      'payment_provider_unavailable',
      502,
      [],
      {},
      'The payment provider could not be reached; nothing was refunded',
    );
  }
  if (answer.status === 'failed') {
    await failRefund(refund.refundId, 'refund_declined', { ...ctx, providerRef: answer.providerRef });
    return;
  }
  try {
    await recordRefundSent(refund, answer.providerRef, ctx);
  } catch (err) {
    // A retry of a request whose answer was already recorded: the reference is there already.
    if (!(isDomainError(err) && err.code === 'provider_ref_taken')) throw err;
  }
  if (answer.status === 'succeeded') await completeRefund(refund.refundId, { ...ctx, providerRef: answer.providerRef });
}

export async function refundDeposit(
  depositId: string,
  body: RefundInput,
  caller: Caller,
  ctx: { idempotencyKey: string; requestId: string },
) {
  const reason = validateRefundReason(body.reason, body.note);
  const amount = parseMoney(body.amount, tenantConfig().currencies);
  const actor = actorFrom(caller, REFUNDERS);
  const { refund } = await requestRefund({
    depositId,
    amount,
    reason,
    note: body.note,
    idempotencyKey: ctx.idempotencyKey,
    requestHash: refundRequestHash(depositId, body),
    actor,
    requestId: ctx.requestId,
  });
  if (refund.status === 'pending' && !refund.providerRef) await sendToProvider(refund, { actor, requestId: ctx.requestId });
  const now = await getRefund(refund.refundId, { consistent: true });
  return refundView(now ?? refund);
}

// --------------------------------------------------------------------------------------------------- cases

export async function caseDetail(caseId: string) {
  const c = await getCase(caseId);
  if (!c) throw caseNotFound();
  const [chargeback, withdrawal] = await Promise.all([
    c.subject.type === 'chargeback' ? getChargeback(c.subject.id) : undefined,
    c.subject.type === WITHDRAWAL_ENTITY ? getWithdrawal(c.subject.id) : undefined,
  ]);
  return {
    ...caseView(c),
    ...(chargeback ? { chargeback: chargebackView(chargeback) } : {}),
    ...(withdrawal ? { withdrawal: { withdrawalId: withdrawal.withdrawalId, ...withdrawalSnapshot(withdrawal) } } : {}),
  };
}

const clientOrStatusRequired = () =>
  new DomainError(
    'client_or_status_required',
    'validation',
    "Name the client whose deposits to list (clientId), or a status to list the tenant's deposits in",
    [
      { field: 'clientId', code: 'client_or_status_required', message: 'A client id, or a status' },
      { field: 'status', code: 'client_or_status_required', message: 'A status, or a client id' },
    ],
  );

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
    handler: async ({ query, locale }) => {
      const page = query.clientId
        ? await listClientDepositsFiltered({ ...query, clientId: query.clientId })
        : query.status
          ? await listDepositsByStatus(query.status, query)
          : undefined;
      if (!page) throw clientOrStatusRequired();
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
    handler: async ({ params, body, caller, correlationId, idempotencyKey }) => ({
      status: 201,
      body: await refundDeposit(params.depositId, body, caller!, { idempotencyKey: idempotencyKey!, requestId: correlationId }),
    }),
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
    handler: async ({ query }) => {
      const page = await listCasesByStatus(query);
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
    handler: async ({ params }) => ({ status: 200, body: await caseDetail(params.caseId) }),
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
    handler: async ({ params, body, caller, correlationId }) => {
      const closure = validateCaseClosure(body.resolution, body.note);
      const res = await closeCase(params.caseId, closure, {
        actor: actorFrom(caller!, CASE_CLOSERS),
        requestId: correlationId,
      });
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
