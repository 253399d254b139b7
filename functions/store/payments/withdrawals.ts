/**
 * Withdrawals in the store (item shape: types.ts WithdrawalItem; keys: paymentKeys.withdrawal and its
 * indexes): creation with its hold, and the lists (the client's, the status queues, the attention list,
 * the watchdog's stale ones). The use cases (functions/app/payments/*withdrawal*.ts) move it further with
 * the item writers of withdrawal-items.ts (re-exported here) inside their own commits.
 *
 * Invariants:
 * - a withdrawal and its hold are created in ONE transaction (placeHold's `extra`): the hold (id = the
 *   withdrawal id, the caller's ledger idempotency scope with the Idempotency-Key), the withdrawal
 *   'received', its audit entry and the outbox event 'payment.withdrawal.received' (which starts the
 *   approval execution). Refused (insufficient_funds, account_frozen, idempotency_key_reused): nothing is
 *   written. The id is derived from (client, key), so a retry finds the same withdrawal and hold
 * - every status change is a version-conditioned replacement committed with its audit entry; a change
 *   that releases or debits the hold (cancel, reject, fail, complete) is committed inside the hold's own
 *   transaction (voidHold / postHold `extra`), so money and status never disagree
 * - gsi2 (paymentKeys.withdrawalStatusIndex: status + the time it was entered) follows every status change (the
 *   entity, types.ts withdrawalEntity, recomputes it on every write);
 *   the back office reads it per status (the review queue) and across the open statuses (the attention list:
 *   waiting longer than a threshold, or stalled), and the watchdog per status up to a cutoff, never by a scan
 * - no business decisions, role checks, workflow calls or presenters here: those are the use cases' and the
 *   API's; task tokens are stored here and never leave the server
 */
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { formatAmount, type Money } from '#domain/money/index.ts';
import { isTerminalWithdrawal, WITHDRAWAL_STATUSES, type WithdrawalStatus } from '#domain/payments/status.ts';
import { paymentKeys } from '../keys.ts';
import { placeHold } from '../ledger/holds.ts';
import { encodeCursor, type Page } from '../pagination.ts';
import { statusAt, type WithdrawalItem, withdrawalEntity } from './types.ts';
import { getWithdrawal, withdrawalAudit, withdrawalEventDetail, withdrawalIdFor } from './withdrawal-items.ts';

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
  withdrawalSnapshot,
} from './withdrawal-items.ts';

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
  /** The ledger idempotency scope of the client's withdrawals (ledgerScope('withdrawal', client)). */
  idempotencyScope: string;
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
    idempotency: { scope: input.idempotencyScope, key: input.idempotencyKey, requestHash: input.requestHash },
    actor: ctx.actor,
    requestId: ctx.requestId,
    clientId: input.clientId,
    extra: (at) => {
      const item = withdrawalEntity.item(
        {
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
          status: 'received',
          timeline: [{ status: 'received', at }],
          idempotencyKey: input.idempotencyKey,
          requestHash: input.requestHash,
        },
        at,
      );
      created = item;
      return {
        writes: [
          withdrawalEntity.putNew(
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

// ------------------------------------------------------------------------------------------------ lists

export interface ListOptions {
  limit: number;
  cursor?: string | undefined;
}

/** The client's withdrawals, newest first. */
export function listClientWithdrawals(clientId: string, opts: ListOptions): Promise<Page<WithdrawalItem>> {
  return withdrawalEntity.query({
    index: 'gsi1',
    partition: paymentKeys.clientWithdrawalsPartition(clientId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });
}

/** Withdrawals in a status, oldest first (by the time they entered it): the review queue. */
export function listWithdrawalsByStatus(status: WithdrawalStatus, opts: ListOptions): Promise<Page<WithdrawalItem>> {
  return withdrawalEntity.query({
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
const queueKey = (w: WithdrawalItem) => paymentKeys.withdrawalStatusIndex(w.status, statusAt(w), w.withdrawalId).gsi2sk;

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
  for await (const page of withdrawalEntity.queryPages({
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

/**
 * The withdrawals in `status` since before `cutoff` (ISO), oldest first by the time they entered it: the gsi2
 * status queue (WITHDRAWALQ#<status>) up to the cutoff, page by page, never a scan. The withdrawal watchdog
 * reads it; it stops reading when the caller stops iterating.
 */
export async function* withdrawalsInStatusBefore(status: WithdrawalStatus, cutoff: string): AsyncGenerator<WithdrawalItem> {
  for await (const page of withdrawalEntity.queryPages({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :cutoff',
    ExpressionAttributeValues: { ':pk': paymentKeys.withdrawalStatusPartition(status), ':cutoff': cutoff },
  })) {
    yield* page;
  }
}
