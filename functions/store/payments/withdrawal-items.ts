/**
 * The withdrawal item's reads and writers shared by the store (withdrawals.ts), the approval steps
 * (functions/steps/withdrawal-*.ts) and the payout webhook effect. No Step Functions calls here: the
 * steps that import only this module need no states:callback permission.
 *
 * Invariants:
 * - a status moves only along domain/payments/status.ts (withdrawalMoved), appending one timeline entry
 * - every replacement is conditioned on the version read (replaceWithdrawal) and refreshes the status
 *   index (gsi2: status + the time it was entered); a lost race fails with `concurrent_modification`,
 *   which the hold functions and retryOnRace retry after re-reading
 * - audit snapshots and events never carry the task tokens
 */
import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { assertTransition, WITHDRAWAL_TRANSITIONS, type WithdrawalStatus } from '#domain/payments/status.ts';
import { ddb } from '#shared/clients.ts';
import type { AuditInput } from '../audit.ts';
import { type CommitWrite, tableName } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import type { WithdrawalItem } from './types.ts';

export const WITHDRAWAL_ENTITY = 'withdrawal';

/** Deterministic id of the withdrawal a (client, Idempotency-Key) pair creates; also its hold id. */
export const withdrawalIdFor = (clientId: string, idempotencyKey: string): string =>
  `wd_${createHash('sha256').update(`${clientId}\u0000${idempotencyKey}`, 'utf8').digest('hex').slice(0, 32)}`;

/**
 * The ledger idempotency scope of a client's withdrawals: the same rule as ledgerScope('withdrawal', sub)
 * in functions/api/transfers.ts (`withdrawal:<sub>` when it fits 64 characters, else a hash of the sub),
 * kept here so the store does not depend on an API module.
 */
export function withdrawalScope(clientId: string): string {
  const command = 'withdrawal';
  const plain = `${command}:${clientId}`;
  return plain.length <= 64
    ? plain
    : `${command}:${createHash('sha256')
        .update(clientId, 'utf8')
        .digest('hex')
        .slice(0, 63 - command.length)}`;
}

export async function getWithdrawal(id: string, opts: { consistent?: boolean } = {}): Promise<WithdrawalItem | undefined> {
  const res = await ddb().send(
    new GetCommand({ TableName: tableName(), Key: paymentKeys.withdrawal(id), ConsistentRead: opts.consistent ?? false }),
  );
  return res.Item as WithdrawalItem | undefined;
}

export const withdrawalNotFound = (withdrawalId: string) =>
  new DomainError('withdrawal_not_found', 'not_found', 'No such withdrawal', [], { withdrawalId });

/** A lost version race: the hold functions retry it (their `extra` re-reads the withdrawal). */
const raced = () => new DomainError('concurrent_modification', 'conflict', 'The withdrawal changed; retry');

/** The item with its status index set from its status and the time it entered it. */
export function indexed(w: WithdrawalItem): WithdrawalItem {
  const statusAt = w.timeline.at(-1)?.at ?? w.createdAt;
  return { ...w, ...paymentKeys.withdrawalStatusIndex(w.status, statusAt, w.withdrawalId) };
}

/**
 * Replaces `read` with `next` (version + 1, updatedAt = at, status index refreshed), conditioned on the
 * version read; a concurrent change fails with `concurrent_modification` (or `onRace` when given).
 */
export function replaceWithdrawal(read: WithdrawalItem, next: WithdrawalItem, at: string, onRace?: DomainError): CommitWrite {
  return {
    Put: {
      Item: { ...indexed(next), version: read.version + 1, updatedAt: at },
      ConditionExpression: '#v = :v',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':v': read.version },
    },
    conditionFailedError: onRace ?? raced(),
  };
}

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

/** The detail every payment.withdrawal.* event carries. */
export function withdrawalEventDetail(w: WithdrawalItem, extra: Record<string, unknown> = {}) {
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

/** Runs `attempt` again (after a short jittered pause) when it lost a version race; other errors pass. */
export async function retryOnRace<T>(attempt: () => Promise<T>, attempts = 8): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const race = isDomainError(err) && (err.code === 'concurrent_modification' || err.code === 'conflict');
      if (!race || n >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * 2 ** n));
    }
  }
}
