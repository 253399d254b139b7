/**
 * What the adjustment use cases share (request-adjustment, decide-adjustment, list-adjustments): the
 * adjustment's journal, its id, the record finance sees (and the audit trail keeps), and its errors.
 *
 * Invariants:
 * - an adjustment's journal moves money between one client wallet and the house_adjustments account of
 *   its currency: house -> wallet for a credit, wallet -> house for a debit; its metadata keeps the
 *   adjustment id, direction, reason, requester and (once approved) approver
 * - the adjustment id is derived from (requester sub, Idempotency-Key): a retried create finds its request
 * - the record is the same shape in responses and in audit items; a pending request past its expiry
 *   reads 'expired'; a legacy 'approved' request reads 'approved'
 * - only finance acts on adjustments (the role the audit records)
 */
import { createHash } from 'node:crypto';
import { DomainError } from '#domain/errors.ts';
import type { Role } from '#domain/identity/roles.ts';
import { type AdjustmentDirection, type AdjustmentRequest, effectiveStatus } from '#domain/ledger/adjustments.ts';
import { type Account, transferJournal } from '#domain/ledger/index.ts';
import type { Money } from '#domain/money/index.ts';
import type { AdjustmentItem } from '#store/adjustments.ts';
import { houseAccount } from '#store/ledger/accounts.ts';

/** The roles that request and decide adjustments (and read any wallet for them). */
export const ADJUSTMENT_ROLES: readonly Role[] = ['finance'];
export const ADJUSTMENT_ENTITY = 'adjustment';

export const adjustmentNotFound = () => new DomainError('adjustment_not_found', 'not_found', 'No adjustment with this id');

export const alreadyDecided = (status: string) =>
  new DomainError('already_decided', 'conflict', `This adjustment was already decided (${status})`);

/** The adjustment id of (requester, Idempotency-Key): a retried create finds its original request. */
export const adjustmentIdFor = (sub: string, key: string): string =>
  `adj_${createHash('sha256').update(`${sub}\n${key}`, 'utf8').digest('base64url').slice(0, 32)}`;

/** The adjustment's journal: house_adjustments -> wallet for a credit, wallet -> house_adjustments for a debit. */
export async function adjustmentDraft(a: {
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

/** The request as finance sees it and the audit trail records it (a pending request past its expiry reads 'expired'). */
export function adjustmentRecord(a: AdjustmentItem, now = new Date()) {
  return {
    adjustmentId: a.adjustmentId,
    walletId: a.walletId,
    clientId: a.clientId,
    direction: a.direction,
    amount: a.amount,
    reason: a.reason,
    ...(a.reference ? { reference: a.reference } : {}),
    status: a.status === 'approved' ? 'approved' : effectiveStatus({ status: a.status, expiresAt: a.expiresAt }, now),
    requestedBy: a.requestedBy,
    requestedAt: a.requestedAt,
    expiresAt: a.expiresAt,
    ...(a.decision ? { decision: a.decision } : {}),
    ...(a.decidedBy ? { decidedBy: a.decidedBy } : {}),
    ...(a.decidedAt ? { decidedAt: a.decidedAt } : {}),
    ...(a.note ? { note: a.note } : {}),
    ...(a.journalId ? { journalId: a.journalId } : {}),
  };
}
export type AdjustmentRecord = ReturnType<typeof adjustmentRecord>;

/** A legacy 'approved' request without a journal is decided like a pending one. */
export function asPending(item: AdjustmentItem): AdjustmentRequest {
  return { ...item, status: item.status === 'approved' ? 'pending_approval' : item.status };
}
