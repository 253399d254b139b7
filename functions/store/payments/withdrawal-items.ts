/**
 * The withdrawal item's reads and writers shared by the store (withdrawals.ts) and the withdrawal use
 * cases (functions/app/payments/*withdrawal*.ts, the payout webhook effect): item I/O only, no decisions
 * and no workflow calls.
 *
 * Invariants:
 * - a status moves only along domain/payments/status.ts (withdrawalMoved), appending one timeline entry
 * - every replacement is conditioned on the version read (replaceWithdrawal) and its indexes are recomputed
 *   by the entity (types.ts withdrawalEntity; gsi2: status + the time it was entered); reads parse (a malformed
 *   item is a StoredItemError); a lost race fails with `concurrent_modification`,
 *   which the hold functions and retryOnRace (the paymentRace retry policy) retry after re-reading
 * - audit snapshots and events never carry the task tokens
 */
import { createHash } from 'node:crypto';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { assertTransition, WITHDRAWAL_TRANSITIONS, type WithdrawalStatus } from '#domain/payments/status.ts';
import { withRetry } from '#shared/retry.ts';
import type { AuditInput } from '../audit.ts';
import type { CommitWrite } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import { type WithdrawalItem, withdrawalEntity } from './types.ts';

export const WITHDRAWAL_ENTITY = withdrawalEntity.type;

/** Deterministic id of the withdrawal a (client, Idempotency-Key) pair creates; also its hold id. */
export const withdrawalIdFor = (clientId: string, idempotencyKey: string): string =>
  `wd_${createHash('sha256').update(`${clientId}\u0000${idempotencyKey}`, 'utf8').digest('hex').slice(0, 32)}`;

export const getWithdrawal = (id: string, opts: { consistent?: boolean } = {}): Promise<WithdrawalItem | undefined> =>
  withdrawalEntity.get(paymentKeys.withdrawal(id), opts);

export const withdrawalNotFound = (withdrawalId: string) =>
  new DomainError('withdrawal_not_found', 'not_found', 'No such withdrawal', [], { withdrawalId });

/** A lost version race: the hold functions retry it (their `extra` re-reads the withdrawal). */
const raced = () => new DomainError('concurrent_modification', 'conflict', 'The withdrawal changed; retry');

/**
 * Replaces `read` with `next` (version + 1, updatedAt = at, status index refreshed), conditioned on the
 * version read; a concurrent change fails with `concurrent_modification` (or `onRace` when given).
 */
export const replaceWithdrawal = (read: WithdrawalItem, next: WithdrawalItem, at: string, onRace?: DomainError): CommitWrite =>
  withdrawalEntity.replace(read, next, at, { onRace: onRace ?? raced() });

/** `w` moved to `to` (checked against WITHDRAWAL_TRANSITIONS) with its timeline entry; not yet written. */
export function withdrawalMoved(w: WithdrawalItem, to: WithdrawalStatus, at: string, reason?: string): WithdrawalItem {
  assertTransition('withdrawal', WITHDRAWAL_TRANSITIONS, w.status, to);
  return { ...w, status: to, timeline: [...w.timeline, { status: to, at, ...(reason ? { reason } : {}) }] };
}

/** What an audit entry shows of a withdrawal (never the task tokens). */
export function withdrawalSnapshot(w: WithdrawalItem) {
  return {
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

/** The audit entry of a withdrawal change. */
export function withdrawalAudit(
  before: WithdrawalItem | null,
  after: WithdrawalItem,
  action: string,
  ctx: { actor: AuditActor; requestId: string; reason?: string | undefined; evidence?: unknown },
): AuditInput {
  return {
    actor: ctx.actor,
    action,
    entity: { type: WITHDRAWAL_ENTITY, id: after.withdrawalId },
    clientId: after.clientId,
    before: before ? withdrawalSnapshot(before) : null,
    after: withdrawalSnapshot(after),
    ...(ctx.reason ? { reason: ctx.reason } : {}),
    ...(ctx.evidence !== undefined ? { evidence: ctx.evidence } : {}),
    requestId: ctx.requestId,
    ...(before ? {} : { newEntity: true }),
  };
}

/** The detail every payment.withdrawal.* event carries (plus the event's own fields: domain/events/payments.ts). */
// biome-ignore lint/complexity/noBannedTypes: {} = no extra fields (the default)
export function withdrawalEventDetail<E extends object = {}>(w: WithdrawalItem, extra: E = {} as E) {
  return {
    withdrawalId: w.withdrawalId,
    clientId: w.clientId,
    walletId: w.walletId,
    methodId: w.methodId,
    status: w.status,
    amount: w.gross.amount,
    net: w.net.amount,
    fee: w.fee.amount,
    currency: w.gross.currency,
    ...extra,
  };
}

/** A lost version race on a withdrawal (or a conflict on an item committed with it): re-read and retry. */
export const isWithdrawalRace = (err: unknown) =>
  isDomainError(err) && (err.code === 'concurrent_modification' || err.code === 'conflict');

/**
 * Runs `attempt` again (re-reading) when it lost a version race, under the paymentRace policy; other errors
 * pass.
 */
export function retryOnRace<T>(attempt: () => Promise<T>): Promise<T> {
  return withRetry('paymentRace', () => attempt(), isWithdrawalRace);
}
