/**
 * Withdrawals in the store (item shape: types.ts WithdrawalItem; keys: paymentKeys.withdrawal and its
 * indexes): creation with its hold, the client's cancellation, the reviewer's decision, the lists and
 * the API view. The approval state machine's steps (functions/steps/withdrawal-*.ts) and the payout
 * webhook (functions/payments/payout-effects.ts) move it further with the writers exported here.
 *
 * Invariants:
 * - a withdrawal and its hold are created in ONE transaction (placeHold's `extra`): the hold (id = the
 *   withdrawal id, idempotency scope `withdrawal:<client>` with the Idempotency-Key), the withdrawal
 *   'received', its audit entry and the outbox event 'payment.withdrawal.received' (which starts the
 *   approval execution). Refused (insufficient_funds, account_frozen, idempotency_key_reused): nothing is
 *   written. The id is derived from (client, key), so a retry finds the same withdrawal and hold
 * - every status change is a version-conditioned replacement committed with its audit entry; a change
 *   that releases or debits the hold (cancel, reject, fail, complete) is committed inside the hold's own
 *   transaction (voidHold / postHold `extra`), so money and status never disagree
 * - the writes conditioned on the version read fail with `concurrent_modification`, which the hold
 *   functions retry: their `extra` re-reads the withdrawal each attempt and re-checks the status, so a
 *   racing cancel, decision or step wins exactly once and the loser sees the winner's status
 * - gsi2 (paymentKeys.withdrawalStatusIndex: status + the time it was entered) follows every status change;
 *   the back office reads it per status (the review queue) and across the open statuses (the attention list:
 *   waiting longer than a threshold, or stalled), never by a scan
 * - a review is decided once: the decision is recorded (review block; approve also moves the status to
 *   'approved') in one commit, conditioned on the version read; only then is the waiting execution
 *   answered (SendTaskSuccess with the token of the version committed over), best effort. A lost callback
 *   never loses the decision: AwaitReview times out after reviewTimeoutDays into Finalize 'expire', which
 *   reads the recorded decision (approve -> the execution carries on to the payout; reject -> rejected)
 * - a reject is recorded with status still 'under_review' (the hold still reserved); the finalize step
 *   voids the hold and moves it to 'rejected' in one transaction. A decided review cannot be cancelled
 * - task tokens never leave the server (not in views, audit entries, events or logs)
 * - the item writers shared with the steps live in withdrawal-items.ts (re-exported here), so steps that
 *   never answer a task token do not import the Step Functions client
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { formatAmount, type Money } from '#domain/money/index.ts';
import { findMethod, labelFor } from '#domain/payments/methods.ts';
import { clientReason, validateWithdrawalRejection } from '#domain/payments/reasons.ts';
import { isTerminalWithdrawal, WITHDRAWAL_STATUSES, type WithdrawalStatus } from '#domain/payments/status.ts';
import { sfn } from '#shared/clients.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit } from '../audit.ts';
import { newItem, putNew } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import { placeHold, voidHold } from '../ledger/holds.ts';
import { encodeCursor, type Page, queryPage, queryPages } from '../pagination.ts';
import type { WithdrawalItem } from './types.ts';
import {
  getWithdrawal,
  indexed,
  replaceWithdrawal,
  withdrawalAudit,
  withdrawalEventDetail,
  withdrawalIdFor,
  withdrawalMoved,
  withdrawalNotFound,
  withdrawalScope,
} from './withdrawal-items.ts';

export {
  getWithdrawal,
  replaceWithdrawal,
  retryOnRace,
  WITHDRAWAL_ENTITY,
  withdrawalAudit,
  withdrawalEventDetail,
  withdrawalIdFor,
  withdrawalMoved,
  withdrawalNotFound,
  withdrawalScope,
  withdrawalSnapshot,
} from './withdrawal-items.ts';

const STATE_TIMEOUT = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

/**
 * Answers a waiting execution (SendTaskSuccess), best effort: a few attempts; a token nothing waits on any
 * more counts as answered. Returns whether it went through. Never logs the token.
 */
export async function answerTask(
  taskToken: string,
  output: Record<string, unknown>,
  ids: { withdrawalId: string; what: string },
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await sfn().send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) }));
      return true;
    } catch (err) {
      const name = (err as Error)?.name ?? 'Error';
      if (STATE_TIMEOUT.has(name)) {
        logger.info('withdrawal: no execution waits on the task any more', { ...ids, error: name });
        return true;
      }
      if (attempt >= 3) {
        logger.warn('withdrawal: task callback failed; the execution timeout resolves it', { ...ids, error: name });
        return false;
      }
      await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
    }
  }
}

// ------------------------------------------------------------------------------------------------ create

export interface CreateWithdrawalInput {
  clientId: string;
  walletId: string;
  methodId: string;
  methodKind: string;
  provider: string;
  gross: Money;
  fee: Money;
  net: Money;
  destination: { sourceId?: string | undefined; account: string; display: string };
  idempotencyKey: string;
  requestHash: string;
  holdExpiresAt: Date;
}

const money = (m: Money) => ({ amount: formatAmount(m.amount, m.currency), currency: m.currency });

/**
 * Holds the gross and records the withdrawal 'received' (one transaction; see the module invariants).
 * A replay (same client, key and body) returns the existing withdrawal with replayed = true.
 */
export async function createWithdrawal(
  input: CreateWithdrawalInput,
  ctx: { actor: AuditActor; requestId: string },
): Promise<{ withdrawal: WithdrawalItem; replayed: boolean }> {
  const withdrawalId = withdrawalIdFor(input.clientId, input.idempotencyKey);
  let created: WithdrawalItem | undefined;
  const { replayed } = await placeHold({
    holdId: withdrawalId,
    accountId: input.walletId,
    amount: input.gross,
    expiresAt: input.holdExpiresAt,
    reference: withdrawalId,
    idempotency: { scope: withdrawalScope(input.clientId), key: input.idempotencyKey, requestHash: input.requestHash },
    actor: ctx.actor,
    requestId: ctx.requestId,
    clientId: input.clientId,
    extra: (at) => {
      const item = indexed(
        newItem(
          {
            ...paymentKeys.withdrawal(withdrawalId),
            type: paymentKeys.withdrawalType,
            withdrawalId,
            clientId: input.clientId,
            walletId: input.walletId,
            methodId: input.methodId,
            methodKind: input.methodKind,
            provider: input.provider,
            gross: money(input.gross),
            fee: money(input.fee),
            net: money(input.net),
            destination: {
              ...(input.destination.sourceId ? { sourceId: input.destination.sourceId } : {}),
              account: input.destination.account,
              display: input.destination.display,
            },
            holdId: withdrawalId,
            status: 'received' as const,
            timeline: [{ status: 'received' as const, at }],
            idempotencyKey: input.idempotencyKey,
            requestHash: input.requestHash,
            ...paymentKeys.clientWithdrawalsIndex(input.clientId, at, withdrawalId),
            gsi2pk: '',
            gsi2sk: '',
          },
          at,
        ) as WithdrawalItem,
      );
      created = item;
      return {
        writes: [
          putNew(
            item,
            new DomainError('withdrawal_exists', 'conflict', 'A withdrawal with this id exists', [], { withdrawalId }),
          ),
        ],
        audit: [withdrawalAudit(null, item, 'payment.withdrawal.received', ctx)],
        outbox: [{ detailType: 'payment.withdrawal.received', detail: withdrawalEventDetail(item) }],
      };
    },
  });
  if (!replayed && created) return { withdrawal: created, replayed: false };
  const existing = await getWithdrawal(withdrawalId, { consistent: true });
  if (!existing) throw new Error(`withdrawals: hold ${withdrawalId} exists without its withdrawal`);
  return { withdrawal: existing, replayed: true };
}

// ------------------------------------------------------------------------------------------------ cancel

/** May the client still cancel? received, or under_review without a recorded decision. */
export const isCancellable = (w: WithdrawalItem) =>
  (w.status === 'received' || w.status === 'under_review') && !w.review?.decision;

const notCancellable = (w: WithdrawalItem) =>
  new DomainError('withdrawal_not_cancellable', 'conflict', `A withdrawal that is ${w.status} cannot be cancelled`, [], {
    withdrawalId: w.withdrawalId,
    status: w.status,
  });

/**
 * The client cancels its own withdrawal (404 withdrawal_not_found for another client's; 409
 * withdrawal_not_cancellable unless received / under review and undecided): the hold is voided and the
 * withdrawal 'cancelled' (reason cancelled_by_client) in one transaction; then an execution waiting in
 * review is answered { decision: 'cancelled' } (best effort: otherwise its review timeout ends it, and
 * finalize finds it already cancelled).
 */
export async function cancelWithdrawal(
  id: string,
  ctx: { clientId: string; actor: AuditActor; requestId: string },
): Promise<WithdrawalItem> {
  const first = await getWithdrawal(id, { consistent: true });
  if (!first || first.clientId !== ctx.clientId) throw withdrawalNotFound(id);
  if (!isCancellable(first)) throw notCancellable(first);
  let committed: WithdrawalItem | undefined;
  try {
    await voidHold(first.holdId, {
      reason: 'cancelled_by_client',
      actor: ctx.actor,
      requestId: ctx.requestId,
      extra: async (at) => {
        const w = (await getWithdrawal(id, { consistent: true }))!;
        if (!isCancellable(w)) throw notCancellable(w);
        const next = withdrawalMoved(w, 'cancelled', at, 'cancelled_by_client');
        committed = next;
        return {
          writes: [replaceWithdrawal(w, next, at)],
          audit: [withdrawalAudit(w, next, 'payment.withdrawal.cancelled', { ...ctx, reason: 'cancelled_by_client' })],
          outbox: [
            {
              detailType: 'payment.withdrawal.cancelled',
              detail: withdrawalEventDetail(next, { reason: 'cancelled_by_client' }),
            },
          ],
        };
      },
    });
  } catch (err) {
    if (isDomainError(err) && err.code === 'hold_not_pending') {
      const now = await getWithdrawal(id, { consistent: true });
      throw notCancellable(now ?? first);
    }
    throw err;
  }
  const done = committed!;
  if (done.reviewTaskToken) {
    await answerTask(done.reviewTaskToken, { decision: 'cancelled' }, { withdrawalId: id, what: 'cancel' });
  }
  return (await getWithdrawal(id, { consistent: true })) ?? done;
}

// ------------------------------------------------------------------------------------------------ decide

export interface WithdrawalDecisionInput {
  decision: 'approve' | 'reject';
  /** A WITHDRAWAL_REJECTION_REASONS code; required for reject. */
  reason?: string | undefined;
  note?: string | undefined;
}

const notUnderReview = (w: WithdrawalItem) =>
  new DomainError('withdrawal_not_under_review', 'conflict', `The withdrawal is ${w.status}, not waiting for a decision`, [], {
    withdrawalId: w.withdrawalId,
    status: w.status,
    ...(w.review?.decision ? { decision: w.review.decision } : {}),
  });

const MAX_DECISION_ATTEMPTS = 5;

/**
 * A finance / compliance decision on a withdrawal under review (see the module invariants). Refusals
 * write nothing: 404 withdrawal_not_found, 409 withdrawal_not_under_review (any other status, or already
 * decided: of two concurrent decisions one wins, the other gets this), 400 reason_required /
 * unknown_rejection_reason / note_required (validateWithdrawalRejection), 403 reason_not_allowed_for_role.
 */
export async function decideWithdrawal(
  id: string,
  input: WithdrawalDecisionInput,
  ctx: { actor: AuditActor; role: string; requestId: string },
): Promise<WithdrawalItem> {
  const note = input.note?.trim() || undefined;
  let reason: string | undefined;
  if (input.decision === 'reject') {
    const entry = validateWithdrawalRejection(input.reason, note);
    if (!(entry.roles as readonly string[]).includes(ctx.role)) {
      throw new DomainError('reason_not_allowed_for_role', 'forbidden', `Role ${ctx.role} cannot reject for ${entry.code}`);
    }
    reason = entry.code;
  }
  let committed: WithdrawalItem | undefined;
  for (let attempt = 1; !committed; attempt++) {
    const w = await getWithdrawal(id, { consistent: true });
    if (!w) throw withdrawalNotFound(id);
    if (w.status !== 'under_review' || w.review?.decision) throw notUnderReview(w);
    const now = new Date();
    const at = now.toISOString();
    const review = {
      openedAt: w.review?.openedAt ?? at,
      decidedAt: at,
      decidedBy: ctx.actor.id,
      decidedByRole: ctx.role,
      decision: input.decision,
      ...(reason ? { reason } : {}),
      ...(note ? { note } : {}),
    };
    const decided: WithdrawalItem = { ...w, review };
    const next = input.decision === 'approve' ? withdrawalMoved(decided, 'approved', at) : decided;
    try {
      await commit({
        writes: [replaceWithdrawal(w, next, at)],
        audit: withdrawalAudit(w, next, 'payment.withdrawal.review_decided', {
          actor: ctx.actor,
          requestId: ctx.requestId,
          reason,
          evidence: { decision: input.decision, role: ctx.role, ...(note ? { note } : {}) },
        }),
        outbox:
          input.decision === 'approve'
            ? [{ detailType: 'payment.withdrawal.approved', detail: withdrawalEventDetail(next, { by: 'review' }) }]
            : [],
        now: () => now,
      });
      committed = next;
    } catch (err) {
      if (!(isDomainError(err) && (err.code === 'concurrent_modification' || err.code === 'conflict'))) throw err;
      if (attempt >= MAX_DECISION_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** attempt));
    }
  }
  if (committed.reviewTaskToken) {
    await answerTask(
      committed.reviewTaskToken,
      { decision: input.decision, ...(reason ? { reason } : {}) },
      { withdrawalId: id, what: 'decision' },
    );
  }
  return committed;
}

// ------------------------------------------------------------------------------------------------ lists

export interface ListOptions {
  limit: number;
  cursor?: string | undefined;
}

/** The client's withdrawals, newest first. */
export function listClientWithdrawals(clientId: string, opts: ListOptions): Promise<Page<WithdrawalItem>> {
  return queryPage<WithdrawalItem>({
    index: 'gsi1',
    partition: paymentKeys.clientWithdrawalsPartition(clientId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });
}

/** Withdrawals in a status, oldest first (by the time they entered it): the review queue. */
export function listWithdrawalsByStatus(status: WithdrawalStatus, opts: ListOptions): Promise<Page<WithdrawalItem>> {
  return queryPage<WithdrawalItem>({
    index: 'gsi2',
    partition: paymentKeys.withdrawalStatusPartition(status),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: true,
  });
}

/** The statuses a withdrawal waits in for something to happen: every one that is not final. */
export const OPEN_WITHDRAWAL_STATUSES: readonly WithdrawalStatus[] = WITHDRAWAL_STATUSES.filter((s) => !isTerminalWithdrawal(s));

export interface AttentionOptions extends ListOptions {
  /** ISO time: a withdrawal in its status since before this needs attention. */
  before: string;
  /** Default: every open status. */
  statuses?: readonly WithdrawalStatus[];
}

/** A withdrawal's place in its status queue (gsi2 sort key `<statusAt>#<withdrawalId>`), unique across the queues. */
const queueKey = (w: WithdrawalItem) =>
  paymentKeys.withdrawalStatusIndex(w.status, w.timeline.at(-1)?.at ?? w.createdAt, w.withdrawalId).gsi2sk;

const invalidCursor = () => new DomainError('invalid_cursor', 'validation', 'The cursor is not valid for this list');

/** The attention cursor: `{ after: <queue key> }`, checked before use (anything else is 400 invalid_cursor). */
function attentionAfter(cursor: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const after = (parsed as { after?: unknown } | null)?.after;
  if (
    !parsed ||
    typeof parsed !== 'object' ||
    Object.keys(parsed).length !== 1 ||
    typeof after !== 'string' ||
    after.length > 200 ||
    !/^\d{4}-\d{2}-\d{2}T[0-9:.]+Z#[A-Za-z0-9_-]+$/.test(after)
  ) {
    throw invalidCursor();
  }
  return after;
}

/** One status queue's first `want` withdrawals past `after` that need attention, in queue order. */
async function attentionIn(status: WithdrawalStatus, before: string, want: number, after?: string): Promise<WithdrawalItem[]> {
  const found: WithdrawalItem[] = [];
  for await (const page of queryPages<WithdrawalItem>({
    IndexName: 'gsi2',
    KeyConditionExpression: after ? 'gsi2pk = :pk AND gsi2sk > :after' : 'gsi2pk = :pk',
    ExpressionAttributeValues: { ':pk': paymentKeys.withdrawalStatusPartition(status), ...(after ? { ':after': after } : {}) },
    Limit: want,
  })) {
    for (const w of page) {
      if (queueKey(w) < before || w.stalledAt) found.push(w);
      if (found.length >= want) return found;
    }
  }
  return found;
}

/**
 * Withdrawals that need attention: not final, and in their status since before `before` or marked stalled by the
 * withdrawal watchdog (stalledAt), oldest first by the time they entered their status, across the open statuses.
 * Reads the gsi2 status queues (WITHDRAWALQ#<status>), never a scan: each queue's older part only as far as the
 * page needs; its newer part (the arrivals since `before`, so few) through to the end, for stalled items. The
 * cursor is the last row's queue key.
 */
export async function listWithdrawalsNeedingAttention(opts: AttentionOptions): Promise<Page<WithdrawalItem>> {
  const after = opts.cursor ? attentionAfter(opts.cursor) : undefined;
  const statuses = (opts.statuses ?? OPEN_WITHDRAWAL_STATUSES).filter((s) => !isTerminalWithdrawal(s));
  const perQueue = await Promise.all(statuses.map((s) => attentionIn(s, opts.before, opts.limit + 1, after)));
  const merged = perQueue.flat().sort((a, b) => (queueKey(a) < queueKey(b) ? -1 : 1));
  if (merged.length <= opts.limit) return { items: merged, hasMore: false };
  const items = merged.slice(0, opts.limit);
  return { items, hasMore: true, nextCursor: encodeCursor({ after: queueKey(items.at(-1)!) }) };
}

// ------------------------------------------------------------------------------------------------ view

/**
 * The API shape. A client sees its timeline with client-safe reasons (a confidential code shows as its
 * neutral public code and text); staff also see the raw codes, the checks with evidence, the review, the
 * payout, the hold, the journal and the destination account. Never the task tokens.
 */
export function withdrawalView(w: WithdrawalItem, locale: string, opts: { staff?: boolean } = {}) {
  const method = findMethod(tenantConfig(), w.methodId);
  const staff = opts.staff === true;
  return {
    withdrawalId: w.withdrawalId,
    status: w.status,
    walletId: w.walletId,
    method: { id: w.methodId, kind: w.methodKind, label: method ? labelFor(method, locale) : w.methodId },
    gross: w.gross,
    fee: w.fee,
    net: w.net,
    destination: staff
      ? {
          display: w.destination.display,
          account: w.destination.account,
          ...(w.destination.sourceId ? { sourceId: w.destination.sourceId } : {}),
        }
      : { display: w.destination.display },
    timeline: w.timeline.map((t) => {
      if (!t.reason) return { status: t.status, at: t.at };
      const shown = clientReason(t.reason, locale);
      return {
        status: t.status,
        at: t.at,
        ...(staff ? { reason: t.reason } : shown.code ? { reason: shown.code } : {}),
        reasonText: shown.text,
      };
    }),
    cancellable: isCancellable(w),
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
    ...(staff
      ? {
          clientId: w.clientId,
          holdId: w.holdId,
          provider: w.provider,
          checks: w.checks ?? [],
          ...(w.review ? { review: w.review } : {}),
          ...(w.payout ? { payout: w.payout } : {}),
          ...(w.journalId ? { journalId: w.journalId } : {}),
          ...(w.execution ? { execution: w.execution } : {}),
          ...(w.stalledAt ? { stalledAt: w.stalledAt } : {}),
        }
      : {}),
  };
}
