/**
 * The withdrawal review queue for the back office: GET /v1/admin/withdrawals?status= (finance,
 * compliance, admin), GET /v1/admin/withdrawals/{withdrawalId} (the same) and
 * POST /v1/admin/withdrawals/{withdrawalId}/decision (finance or compliance). Thin: parse, authorise by
 * role, call one use case (list-withdrawal-queue.ts, get-withdrawal-review.ts, decide-withdrawal.ts in
 * functions/app/payments/), present (the queue row here, the withdrawal in shared/withdrawal-views.ts).
 *
 * Invariants:
 * - the queue lists one status (default under_review; any other name is 400 invalid_status) oldest
 *   first by the time the withdrawal entered it, paginated; each row names its failing checks with their
 *   reasons (raw codes: staff see confidential AML codes) and its age in that status
 * - `?view=attention` is the "needs attention" list, same roles and row shape: every withdrawal that is not
 *   final (received, under_review, approved, processing; `status` narrows it to one of them, a final one is
 *   400 invalid_status) and has been in its status for more than `olderThanMinutes` (default
 *   ATTENTION_AFTER_MINUTES in list-withdrawal-queue.ts, the withdrawal watchdog's staleness window) or was marked stalled by the watchdog,
 *   oldest first across the statuses, paginated; rows carry `stalledAt` when stalled. `olderThanMinutes`
 *   without view=attention is 400
 * - the detail shows the staff view (checks with evidence, review, payout, hold, destination account),
 *   the client's identity summary, funding sources with what each is still owed back, recent deposits
 *   for context and the wallet's balance (ledger, available, held)
 * - a decision is checked before anything is written: strict body (400 validation_failed), reject
 *   needs a catalogue reason (400 reason_required / unknown_rejection_reason / note_required; 403
 *   reason_not_allowed_for_role), the withdrawal must wait for a decision (404 withdrawal_not_found; 409
 *   withdrawal_not_under_review, also for the loser of two concurrent decisions). The use case records
 *   it in one commit with its audit entry, then answers the waiting execution; the task token never
 *   leaves the server
 * - role checks are the middleware's: clients, partners and other staff get 403 forbidden_role; admins
 *   read the queue but cannot decide
 */
import * as z from 'zod';
import { decideWithdrawal, WITHDRAWAL_DECIDERS } from '#app/payments/decide-withdrawal.ts';
import { getWithdrawalReview, type WithdrawalReview } from '#app/payments/get-withdrawal-review.ts';
import { listWithdrawalQueue, OPEN_WITHDRAWAL_STATUSES } from '#app/payments/list-withdrawal-queue.ts';
import { WITHDRAWAL_STAFF_READERS, type Withdrawal } from '#app/payments/withdrawal-shared.ts';
import { formatMoney } from '#domain/money/index.ts';
import { findMethod, labelFor } from '#domain/payments/methods.ts';
import { isTerminalWithdrawal, WITHDRAWAL_STATUSES, type WithdrawalStatus } from '#domain/payments/status.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { depositView } from './shared/deposit-view.ts';
import { cursorParam, limitParam, pageSchema } from './shared/pages.ts';
import {
  FundingSourceView,
  fundingSourceViews,
  MoneyOut,
  WithdrawalParams,
  WithdrawalViewSchema,
  withdrawalView,
} from './shared/withdrawal-views.ts';

const READERS = WITHDRAWAL_STAFF_READERS;
const DECIDERS = WITHDRAWAL_DECIDERS;

// ------------------------------------------------------------------------------------------------ schemas

export const QueueQuery = z
  .strictObject({
    view: z.enum(['queue', 'attention']).default('queue'),
    status: z
      .string()
      .max(32)
      .refine((s) => (WITHDRAWAL_STATUSES as readonly string[]).includes(s), {
        message: `status must be one of ${WITHDRAWAL_STATUSES.join(', ')}`,
        params: { code: 'invalid_status' },
      })
      .transform((s) => s as WithdrawalStatus)
      .optional(),
    olderThanMinutes: z.coerce.number().int().min(1).max(43_200).optional(),
    limit: limitParam(100, 50),
    cursor: cursorParam.optional(),
  })
  .superRefine((q, ctx) => {
    if (q.view === 'attention' && q.status && isTerminalWithdrawal(q.status)) {
      ctx.addIssue({
        code: 'custom',
        path: ['status'],
        message: `view=attention lists open statuses only: ${OPEN_WITHDRAWAL_STATUSES.join(', ')}`,
        params: { code: 'invalid_status' },
      });
    }
    if (q.view !== 'attention' && q.olderThanMinutes !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['olderThanMinutes'], message: 'only with view=attention' });
    }
  });

export const DecisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  /** Reject: a code of WITHDRAWAL_REJECTION_REASONS. */
  reason: z.string().min(1).max(64).optional(),
  note: z.string().trim().min(1).max(2000).optional(),
});

const QueueItem = z.object({
  withdrawalId: z.string(),
  clientId: z.string(),
  status: z.string(),
  method: z.object({ id: z.string(), kind: z.string(), label: z.string() }),
  gross: MoneyOut,
  fee: MoneyOut,
  net: MoneyOut,
  destination: z.string(),
  createdAt: z.string(),
  statusSince: z.string(),
  ageMinutes: z.number().int(),
  failingChecks: z.array(z.object({ check: z.string(), reason: z.string() })),
  reviewDeadline: z.string().optional().meta({ description: 'Under review: undecided by then, the request fails' }),
  decision: z.enum(['approve', 'reject']).optional().meta({ description: 'Recorded, not yet carried out' }),
  stalledAt: z
    .string()
    .optional()
    .meta({ description: 'The withdrawal watchdog gave up restarting its workflow: people take over' }),
});

const Detail = z.object({
  withdrawal: WithdrawalViewSchema.extend({ clientId: z.string(), checks: z.array(z.unknown()) }),
  queue: QueueItem.pick({ statusSince: true, ageMinutes: true, failingChecks: true, reviewDeadline: true }),
  client: z
    .object({ clientId: z.string(), firstName: z.string(), lastName: z.string(), country: z.string(), kycStatus: z.string() })
    .nullable(),
  wallet: z.object({ walletId: z.string(), balance: MoneyOut, available: MoneyOut, held: MoneyOut }),
  fundingSources: z.array(FundingSourceView),
  recentDeposits: z.array(z.record(z.string(), z.unknown())),
  rejectionReasons: z.array(z.object({ code: z.string(), needsNote: z.boolean(), roles: z.array(z.string()) })),
});

// ------------------------------------------------------------------------------------------------ views

const minutesSince = (iso: string, now: Date) => Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 60_000));

/** What the queue shows of a withdrawal: failing checks, time in its status, review deadline. */
export function queueView(w: Withdrawal, locale: string, now = new Date()): z.infer<typeof QueueItem> {
  const cfg = tenantConfig();
  const method = findMethod(cfg, w.methodId);
  const statusSince = w.timeline.at(-1)?.at ?? w.createdAt;
  const reviewFrom = w.review?.openedAt ?? statusSince;
  return {
    withdrawalId: w.withdrawalId,
    clientId: w.clientId,
    status: w.status,
    method: { id: w.methodId, kind: w.methodKind, label: method ? labelFor(method, locale, cfg.defaultLocale) : w.methodId },
    gross: w.gross,
    fee: w.fee,
    net: w.net,
    destination: w.destination.display,
    createdAt: w.createdAt,
    statusSince,
    ageMinutes: minutesSince(statusSince, now),
    failingChecks: (w.checks ?? []).filter((c) => !c.passed).map((c) => ({ check: c.check, reason: c.reason ?? c.check })),
    ...(w.status === 'under_review'
      ? {
          reviewDeadline: new Date(
            Date.parse(reviewFrom) + cfg.payments.withdrawals.reviewTimeoutDays * 86_400_000,
          ).toISOString(),
        }
      : {}),
    ...(w.review?.decision ? { decision: w.review.decision } : {}),
    ...(w.stalledAt ? { stalledAt: w.stalledAt } : {}),
  };
}

/** Everything a reviewer needs to decide on one withdrawal, as the API shows it. */
export function reviewView(r: WithdrawalReview, locale: string) {
  const w = r.withdrawal;
  const { statusSince, ageMinutes, failingChecks, reviewDeadline } = queueView(w, locale);
  const currency = w.gross.currency;
  return {
    withdrawal: withdrawalView(w, locale, { staff: true }),
    queue: { statusSince, ageMinutes, failingChecks, ...(reviewDeadline ? { reviewDeadline } : {}) },
    client: r.client,
    wallet: {
      walletId: w.walletId,
      balance: formatMoney({ amount: r.balance.ledger, currency }),
      available: formatMoney({ amount: r.balance.available, currency }),
      held: formatMoney({ amount: r.balance.held, currency }),
    },
    fundingSources: fundingSourceViews(r.fundingSources, locale),
    recentDeposits: r.recentDeposits.map((d) => depositView(d, locale, { staff: true })),
    rejectionReasons: r.rejectionReasons,
  };
}

// ------------------------------------------------------------------------------------------------ routes

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/withdrawals',
    operationId: 'listAdminWithdrawals',
    summary:
      'Withdrawals in a status (default under_review), oldest first, with failing checks and age; ' +
      'view=attention: every open withdrawal waiting longer than olderThanMinutes (default 15) or stalled',
    tags: ['withdrawals-admin'],
    auth: READERS,
    query: QueueQuery,
    responses: {
      200: {
        description: 'A page of the queue',
        schema: pageSchema(QueueItem),
      },
      400: { description: 'invalid_status, invalid_cursor, validation_failed' },
    },
    handler: async ({ caller, query, correlationId, locale }) => {
      const now = new Date();
      const page = await listWithdrawalQueue(
        {
          view: query.view,
          status: query.status,
          olderThanMinutes: query.olderThanMinutes,
          limit: query.limit,
          cursor: query.cursor,
        },
        caller!,
        { requestId: correlationId, locale, now },
      );
      return { status: 200, body: { ...page, items: page.items.map((w) => queueView(w, locale, now)) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/withdrawals/{withdrawalId}',
    operationId: 'getAdminWithdrawal',
    summary: "A withdrawal with its checks and evidence, the client's funding sources, recent deposits and balance",
    tags: ['withdrawals-admin'],
    auth: READERS,
    params: WithdrawalParams,
    responses: {
      200: { description: 'The withdrawal and its context', schema: Detail },
      404: { description: 'withdrawal_not_found' },
    },
    handler: async ({ caller, params, correlationId, locale }) => {
      const review = await getWithdrawalReview({ withdrawalId: params.withdrawalId }, caller!, {
        requestId: correlationId,
        locale,
      });
      return { status: 200, body: reviewView(review, locale) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/withdrawals/{withdrawalId}/decision',
    operationId: 'decideWithdrawal',
    summary: 'Approve or reject a withdrawal under review (reject: a catalogue reason)',
    tags: ['withdrawals-admin'],
    auth: DECIDERS,
    params: WithdrawalParams,
    body: DecisionBody,
    responses: {
      200: { description: 'Decided', schema: WithdrawalViewSchema },
      400: { description: 'reason_required, unknown_rejection_reason, note_required, validation_failed' },
      403: { description: 'reason_not_allowed_for_role' },
      404: { description: 'withdrawal_not_found' },
      409: { description: 'withdrawal_not_under_review' },
    },
    handler: async ({ caller, params, body, correlationId, locale }) => {
      const w = await decideWithdrawal(
        { withdrawalId: params.withdrawalId, decision: body.decision, reason: body.reason, note: body.note },
        caller!,
        { requestId: correlationId, locale },
      );
      return { status: 200, body: withdrawalView(w, locale, { staff: true }) };
    },
  }),
];

export const handler = httpHandler(...routes);
