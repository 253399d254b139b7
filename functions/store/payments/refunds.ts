/**
 * Refunds of completed deposits (pk REFUND#<refundId>, sk REFUND; gsi1 DEPOSITREFUNDS#<depositId>): the
 * stored item, its reads and the writes the refund use cases commit (functions/app/payments/
 * refund-deposit.ts, complete-refund.ts, fail-refund.ts). The money rules are domain/payments/refunds.ts;
 * ADR 0008 "refund completed".
 *
 * Invariants:
 * - a refund id is derived from (deposit, Idempotency-Key): `rf_<hash>`; it is also the id of the
 *   wallet hold that reserves the refund's funds and the PSP idempotency key, so a retried request
 *   finds the same hold, the same refund and the same provider refund
 * - a new refund is put-if-absent (409 refund_exists) with status 'pending' and one timeline entry
 * - the deposit's `refundsPending` is changed only by a replace conditioned on the version read, whose
 *   lost race is concurrent_modification (the ledger's loop re-reads and retries), never 409; it never
 *   goes below zero
 * - the provider's reference of a sent refund is recorded once, with its provider-ref item and audit
 *   entry (recordRefundSent); a second call fails on the provider-ref item (409 provider_ref_taken)
 *
 * - the refund item is declared once (refundEntity); reads parse (a malformed item is a StoredItemError)
 *
 * This module keeps `refundsPending` (money JSON, declared in types.ts DepositSchema) on the deposit item: the
 * pending total must be read consistently with `refunded` and the deposit's version.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { formatAmount, type MoneyJson, toMinor } from '#domain/money/index.ts';
import { REFUND_REASONS, REFUND_STATUSES } from '#domain/payments/refunds.ts';
import { commit } from '../audit.ts';
import { defineEntity, type ItemOf } from '../entity.ts';
import type { CommitWrite } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import type { Page } from '../pagination.ts';
import { type ChargebackItem, chargebackEntity } from './chargebacks.ts';
import { depositNotFound, getDeposit, type StoredDeposit } from './deposits.ts';
import { depositEntity, MoneyJsonSchema, timelineEntrySchema } from './types.ts';
import { providerRefWrite } from './webhook-events.ts';

/** The deposit as this module reads it (its pending refund total, refundsPending, is in types.ts DepositSchema). */
export type DepositWithRefunds = StoredDeposit;

export const RefundSchema = z.object({
  refundId: z.string().min(1),
  depositId: z.string().min(1),
  clientId: z.string().min(1),
  walletId: z.string().min(1),
  provider: z.string().min(1),
  /** The deposit's provider reference (what the provider refunds). */
  depositProviderRef: z.string().min(1),
  amount: MoneyJsonSchema,
  reason: z.enum(REFUND_REASONS),
  note: z.string().optional(),
  status: z.enum(REFUND_STATUSES),
  timeline: z.array(timelineEntrySchema(REFUND_STATUSES)).min(1),
  /** The finance user who asked for it. */
  requestedBy: z.string().min(1),
  /** The wallet hold reserving the funds (= refundId). */
  holdId: z.string().min(1),
  idempotencyKey: z.string(),
  requestHash: z.string(),
  /** The provider's refund reference, once the provider accepted the request. */
  providerRef: z.string().optional(),
  sentAt: z.string().optional(),
  journalId: z.string().optional(),
  completedAt: z.string().optional(),
  failureReason: z.string().optional(),
});

/**
 * pk REFUND#<refundId> / REFUND
 * gsi1 DEPOSITREFUNDS#<depositId> / <createdAt>#<refundId>   (a deposit's refunds)
 */
export const refundEntity = defineEntity({
  type: paymentKeys.refundType,
  schema: RefundSchema,
  key: (r) => paymentKeys.refund(r.refundId),
  indexes: (r) => paymentKeys.depositRefundsIndex(r.depositId, r.createdAt, r.refundId),
});

export const REFUND_ENTITY = refundEntity.type;

export type RefundFields = z.output<typeof RefundSchema>;
export type RefundItem = ItemOf<typeof refundEntity>;

/** The deterministic refund id of a refund request on `depositId` with this Idempotency-Key. */
export const refundIdFor = (depositId: string, idempotencyKey: string) =>
  `rf_${createHash('sha256').update(`${depositId}\u0000${idempotencyKey}`, 'utf8').digest('hex').slice(0, 32)}`;

export const refundJournalId = (refundId: string) => `refund_${refundId}`;

export const getRefund = (refundId: string, opts: { consistent?: boolean } = {}): Promise<RefundItem | undefined> =>
  refundEntity.get(paymentKeys.refund(refundId), opts);

/** A deposit's refunds, newest first (eventually consistent: a list, never a limit check). */
export function listDepositRefunds(
  depositId: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<RefundItem>> {
  return refundEntity.query({
    index: 'gsi1',
    partition: paymentKeys.depositRefundsPartition(depositId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });
}

// ----------------------------------------------------------------------------------------------- helpers

/** Minor units of an optional money JSON (0 when absent). */
export const minorOf = (m: MoneyJson | undefined, currency: string) => (m ? toMinor(m.amount, currency) : 0n);
export const moneyJson = (amount: bigint, currency: string): MoneyJson => ({ amount: formatAmount(amount, currency), currency });
/** A lost version race the ledger's loop retries (concurrent_modification), not answered 409. */
export const raceLost = (what: string) => new DomainError('concurrent_modification', 'conflict', `The ${what} changed; retry`);

type Retried = StoredDeposit | RefundItem | ChargebackItem;

/**
 * A versioned replace of a deposit, refund or chargeback (through its entity: keys and indexes recomputed) whose
 * lost race is retried by the ledger's loop (concurrent_modification), not answered 409.
 */
export function retriedReplace<T extends Retried>(read: T, next: T, at: string, what: string): CommitWrite {
  const onRace = raceLost(what);
  const r: Retried = read;
  const n: Retried = next;
  if (r.type === 'deposit' && n.type === 'deposit') return depositEntity.replace(r, n, at, { onRace });
  if (r.type === 'refund' && n.type === 'refund') return refundEntity.replace(r, n, at, { onRace });
  if (r.type === 'chargeback' && n.type === 'chargeback') return chargebackEntity.replace(r, n, at, { onRace });
  throw new Error(`retriedReplace: cannot replace a ${r.type} with a ${n.type}`);
}

export function refundSnapshot(r: RefundItem) {
  return {
    refundId: r.refundId,
    depositId: r.depositId,
    status: r.status,
    amount: r.amount,
    reason: r.reason,
    ...(r.note ? { note: r.note } : {}),
    ...(r.providerRef ? { providerRef: r.providerRef } : {}),
    ...(r.journalId ? { journalId: r.journalId } : {}),
    ...(r.failureReason ? { failureReason: r.failureReason } : {}),
  };
}

export const depositRefundSnapshot = (d: DepositWithRefunds) => ({
  depositId: d.depositId,
  status: d.status,
  net: d.net,
  refunded: d.refunded ?? moneyJson(0n, d.net.currency),
  refundsPending: d.refundsPending ?? moneyJson(0n, d.net.currency),
});

export async function readDepositWithRefunds(depositId: string): Promise<DepositWithRefunds> {
  const d = await getDeposit(depositId, { consistent: true });
  if (!d) throw depositNotFound();
  return d;
}

/** The deposit with its pending refund total changed by `delta` (minor units, never below 0), and its versioned write. */
export function withRefundsPending(d: DepositWithRefunds, delta: bigint, at: string) {
  const cur = d.net.currency;
  const pending = minorOf(d.refundsPending, cur) + delta;
  const next: DepositWithRefunds = { ...d, refundsPending: moneyJson(pending < 0n ? 0n : pending, cur) };
  return { next, write: retriedReplace(d, next, at, 'deposit') };
}

// ----------------------------------------------------------------------------------------------- writes

/** What a new refund is made of; the status 'pending', its timeline, keys and envelope are added here. */
export type NewRefundFields = Omit<RefundFields, 'status' | 'timeline'>;

/** A new refund in 'pending', in its deposit's refund list, and its put (409 refund_exists when the id is taken). */
export function newRefund(f: NewRefundFields, at: string): { refund: RefundItem; write: CommitWrite } {
  const refund = refundEntity.item({ ...f, status: 'pending', timeline: [{ status: 'pending', at }] }, at);
  return {
    refund,
    write: refundEntity.putNew(refund, new DomainError('refund_exists', 'conflict', 'A refund with this id exists')),
  };
}

export const refundEventDetail = (r: RefundItem) => ({
  refundId: r.refundId,
  depositId: r.depositId,
  clientId: r.clientId,
  walletId: r.walletId,
  amount: r.amount.amount,
  currency: r.amount.currency,
  reason: r.reason,
});

/**
 * Records the provider's reference of a sent refund with its provider-ref item and audit entry, once: a
 * second call fails on the provider-ref item (409 provider_ref_taken) and changes nothing.
 */
export async function recordRefundSent(
  refund: RefundItem,
  providerRef: string,
  ctx: { actor: AuditActor; requestId: string },
): Promise<void> {
  const at = new Date().toISOString();
  await commit({
    writes: [
      {
        Update: {
          Key: paymentKeys.refund(refund.refundId),
          // if_not_exists: a webhook that completed the refund first may have recorded the reference already
          UpdateExpression: 'SET providerRef = if_not_exists(providerRef, :r), sentAt = :t, updatedAt = :t, #v = #v + :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':r': providerRef, ':t': at, ':one': 1 },
        },
        conditionFailedError: new DomainError('refund_not_found', 'not_found', 'No refund with this id'),
      },
      providerRefWrite(refund.provider, providerRef, { paymentKind: 'refund', paymentId: refund.refundId }, at),
    ],
    audit: {
      actor: ctx.actor,
      action: 'payment.refund.sent',
      entity: { type: REFUND_ENTITY, id: refund.refundId },
      clientId: refund.clientId,
      before: { providerRef: null },
      after: { providerRef, sentAt: at },
      requestId: ctx.requestId,
    },
  });
}
