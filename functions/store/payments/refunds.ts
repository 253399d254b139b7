/**
 * Refunds of completed deposits (pk REFUND#<refundId>, sk REFUND; gsi1 DEPOSITREFUNDS#<depositId>).
 * The money rules are domain/payments/refunds.ts; ADR 0008 "refund completed".
 *
 * Invariants:
 * - a refund id is derived from (deposit, Idempotency-Key): `rf_<hash>`; it is also the id of the
 *   wallet hold that reserves the refund's funds and the PSP idempotency key, so a retried request
 *   finds the same hold, the same refund and the same provider refund
 * - requesting a refund is ONE transaction (placeHold's `extra`): the hold on the wallet, the refund
 *   item 'pending', the deposit's `refundsPending` raised, their audit entries and the outbox event.
 *   The deposit is re-read inside every attempt and its write is conditioned on the version read, so
 *   two concurrent refunds of one deposit are serialised and never exceed what is refundable
 *   (net - refunded - refundsPending, read consistently from the deposit itself, never from an index)
 * - insufficient available funds (422 insufficient_funds), a deposit that is not completed (422
 *   deposit_not_refundable) or an amount above the refundable (422 refund_exceeds_deposit) write nothing
 * - a completed refund is the hold posted (wallet -amount, psp_clearing +amount) in ONE transaction
 *   with the refund 'completed', the deposit's `refunded` raised / `refundsPending` lowered (status
 *   'refunded' once the whole net is refunded), the funding source's `returned`, the webhook marker
 *   when a webhook caused it, audit entries and outbox 'payment.refund.completed'
 * - a failed refund is the hold voided in ONE transaction with the refund 'failed' (reason), the
 *   deposit's `refundsPending` lowered, the marker, audit and outbox 'payment.refund.failed'
 * - a refund leaves 'pending' exactly once: completing or failing a refund that is no longer pending
 *   changes nothing and reports it (the webhook effect answers 'ignored')
 *
 * Keys: this module stores `refundsPending` (money JSON) on the deposit item besides DepositItem's
 * fields: the pending total must be read consistently with `refunded` and the deposit's version.
 */
import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { formatAmount, type Money, type MoneyJson, toMinor } from '#domain/money/index.ts';
import {
  assertRefundable,
  depositAfterRefund,
  REFUND_HOLD_DAYS,
  type RefundReason,
  type RefundStatus,
} from '#domain/payments/refunds.ts';
import { ddb } from '#shared/clients.ts';
import { type AuditInput, commit } from '../audit.ts';
import { type CommitWrite, newItem, putNew, replaceVersioned, tableName } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import { houseAccount, placeHold, postHold, voidHold } from '../ledger/index.ts';
import type { OutboxEvent } from '../outbox.ts';
import { type Page, queryPage } from '../pagination.ts';
import type { BaseItem } from '../table.ts';
import { fundingSourceReturn } from './client-state.ts';
import { DEPOSIT_ENTITY, depositNotFound, depositTransition, getDeposit, type StoredDeposit } from './deposits.ts';
import type { TimelineEntry } from './types.ts';
import { providerRefWrite } from './webhook-events.ts';

export const REFUND_ENTITY = paymentKeys.refundType;

/** The deposit as this module reads it: DepositItem plus the pending refund total (see the module comment). */
export type DepositWithRefunds = StoredDeposit & { refundsPending?: MoneyJson | undefined };

export interface RefundFields {
  refundId: string;
  depositId: string;
  clientId: string;
  walletId: string;
  provider: string;
  /** The deposit's provider reference (what the provider refunds). */
  depositProviderRef: string;
  amount: MoneyJson;
  reason: RefundReason;
  note?: string | undefined;
  status: RefundStatus;
  timeline: TimelineEntry<RefundStatus>[];
  /** The finance user who asked for it. */
  requestedBy: string;
  /** The wallet hold reserving the funds (= refundId). */
  holdId: string;
  idempotencyKey: string;
  requestHash: string;
  /** The provider's refund reference, once the provider accepted the request. */
  providerRef?: string | undefined;
  sentAt?: string | undefined;
  journalId?: string | undefined;
  completedAt?: string | undefined;
  failureReason?: string | undefined;
  gsi1pk: string;
  gsi1sk: string;
}

export type RefundItem = RefundFields & {
  pk: string;
  sk: string;
  type: 'refund';
  tenant: string;
  createdAt: string;
  updatedAt: string;
  version: number;
};

/** The deterministic refund id of a refund request on `depositId` with this Idempotency-Key. */
export const refundIdFor = (depositId: string, idempotencyKey: string) =>
  `rf_${createHash('sha256').update(`${depositId}\u0000${idempotencyKey}`, 'utf8').digest('hex').slice(0, 32)}`;

export const refundJournalId = (refundId: string) => `refund_${refundId}`;

export async function getRefund(refundId: string, opts: { consistent?: boolean } = {}): Promise<RefundItem | undefined> {
  const res = await ddb().send(
    new GetCommand({ TableName: tableName(), Key: paymentKeys.refund(refundId), ConsistentRead: opts.consistent ?? false }),
  );
  return res.Item as RefundItem | undefined;
}

/** A deposit's refunds, newest first (eventually consistent: a list, never a limit check). */
export function listDepositRefunds(
  depositId: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<RefundItem>> {
  return queryPage<RefundItem>({
    index: 'gsi1',
    partition: paymentKeys.depositRefundsPartition(depositId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });
}

// ----------------------------------------------------------------------------------------------- helpers

const minorOf = (m: MoneyJson | undefined, currency: string) => (m ? toMinor(m.amount, currency) : 0n);
const json = (amount: bigint, currency: string): MoneyJson => ({ amount: formatAmount(amount, currency), currency });
const race = (what: string) => new DomainError('concurrent_modification', 'conflict', `The ${what} changed; retry`);

/** A versioned replace whose lost race is retried by the ledger's loop (concurrent_modification), not answered 409. */
export function retriedReplace<T extends BaseItem>(read: T, next: T, at: string, what: string): CommitWrite {
  return { ...replaceVersioned(read, next, at, what), conditionFailedError: race(what) };
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

const depositRefundSnapshot = (d: DepositWithRefunds) => ({
  depositId: d.depositId,
  status: d.status,
  net: d.net,
  refunded: d.refunded ?? json(0n, d.net.currency),
  refundsPending: d.refundsPending ?? json(0n, d.net.currency),
});

async function readDeposit(depositId: string): Promise<DepositWithRefunds> {
  const d = (await getDeposit(depositId, { consistent: true })) as DepositWithRefunds | undefined;
  if (!d) throw depositNotFound();
  return d;
}

/** The deposit with its pending refund total changed by `delta` (minor units), and its versioned write. */
function withPending(d: DepositWithRefunds, delta: bigint, at: string) {
  const cur = d.net.currency;
  const pending = minorOf(d.refundsPending, cur) + delta;
  const next: DepositWithRefunds = { ...d, refundsPending: json(pending < 0n ? 0n : pending, cur) };
  return { next, write: retriedReplace(d, next, at, 'deposit') };
}

// ----------------------------------------------------------------------------------------------- request

export interface RequestRefundInput {
  depositId: string;
  amount: Money;
  reason: RefundReason;
  note?: string | undefined;
  idempotencyKey: string;
  requestHash: string;
  actor: AuditActor;
  requestId: string;
}

/**
 * Reserves the refund: hold + refund 'pending' + deposit refundsPending, in one transaction (see the
 * module invariants). A retry with the same key and body returns the same refund (`replayed`); the same
 * key with another body is 422 idempotency_key_reused.
 */
export async function requestRefund(input: RequestRefundInput): Promise<{ refund: RefundItem; replayed: boolean }> {
  const first = await readDeposit(input.depositId);
  const refundId = refundIdFor(input.depositId, input.idempotencyKey);
  const cur = first.net.currency;
  // A clear answer before touching the ledger; the binding check runs again inside the transaction.
  if (!(await getRefund(refundId, { consistent: true }))) checkRefundable(first, input.amount);
  if (!first.providerRef) {
    throw new DomainError('deposit_not_refundable', 'unprocessable', 'The deposit has no provider reference to refund');
  }
  let created: RefundItem | undefined;
  const { replayed } = await placeHold({
    holdId: refundId,
    accountId: first.walletId,
    amount: input.amount,
    expiresAt: new Date(Date.now() + REFUND_HOLD_DAYS * 24 * 3600_000),
    reference: `refund:${input.depositId}`,
    idempotency: { scope: 'psp-refund', key: refundId, requestHash: input.requestHash },
    actor: input.actor,
    requestId: input.requestId,
    clientId: first.clientId,
    extra: async (at) => {
      const d = await readDeposit(input.depositId);
      checkRefundable(d, input.amount);
      const { next, write } = withPending(d, input.amount.amount, at);
      const refund = newItem(
        {
          ...paymentKeys.refund(refundId),
          type: 'refund' as const,
          refundId,
          depositId: d.depositId,
          clientId: d.clientId,
          walletId: d.walletId,
          provider: d.provider,
          depositProviderRef: d.providerRef!,
          amount: json(input.amount.amount, cur),
          reason: input.reason,
          ...(input.note ? { note: input.note } : {}),
          status: 'pending' as RefundStatus,
          timeline: [{ status: 'pending' as RefundStatus, at }],
          requestedBy: input.actor.id,
          holdId: refundId,
          idempotencyKey: input.idempotencyKey,
          requestHash: input.requestHash,
          ...paymentKeys.depositRefundsIndex(d.depositId, at, refundId),
        },
        at,
      ) as RefundItem;
      created = refund;
      return {
        writes: [putNew(refund, new DomainError('refund_exists', 'conflict', 'A refund with this id exists')), write],
        audit: [
          {
            actor: input.actor,
            action: 'payment.refund.requested',
            entity: { type: REFUND_ENTITY, id: refundId },
            newEntity: true,
            clientId: d.clientId,
            before: null,
            after: refundSnapshot(refund),
            requestId: input.requestId,
          },
          {
            actor: input.actor,
            action: 'payment.deposit.refund_requested',
            entity: { type: DEPOSIT_ENTITY, id: d.depositId },
            clientId: d.clientId,
            before: depositRefundSnapshot(d),
            after: depositRefundSnapshot(next),
            requestId: input.requestId,
          },
        ],
        outbox: [
          {
            detailType: 'payment.refund.requested',
            detail: refundEventDetail(refund),
          },
        ],
      };
    },
  });
  if (replayed || !created) {
    const prior = await getRefund(refundId, { consistent: true });
    if (!prior) throw new Error(`refunds: hold ${refundId} has no refund item`);
    return { refund: prior, replayed: true };
  }
  return { refund: created, replayed: false };
}

function checkRefundable(d: DepositWithRefunds, amount: Money): void {
  const cur = d.net.currency;
  assertRefundable(
    {
      status: d.status,
      currency: cur,
      net: toMinor(d.net.amount, cur),
      refunded: minorOf(d.refunded, cur),
      pending: minorOf(d.refundsPending, cur),
    },
    amount,
  );
}

const refundEventDetail = (r: RefundItem) => ({
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

// ---------------------------------------------------------------------------------------------- outcomes

export type RefundOutcome = { applied: true; refund: RefundItem } | { applied: false; reason: string; refund?: RefundItem };

interface OutcomeCtx {
  actor: AuditActor;
  requestId: string;
  /** The webhook event marker, committed in the same transaction when a webhook causes the outcome. */
  marker?: CommitWrite | undefined;
  /** The provider's reference of the refund, when the outcome names it. */
  providerRef?: string | undefined;
}

class NotPending extends Error {
  constructor(readonly refund: RefundItem) {
    super('refund not pending');
  }
}

async function pendingRefund(refundId: string): Promise<RefundItem> {
  const r = await getRefund(refundId, { consistent: true });
  if (!r) throw new DomainError('refund_not_found', 'not_found', 'No refund with this id');
  if (r.status !== 'pending') throw new NotPending(r);
  return r;
}

const markerWrites = (ctx: OutcomeCtx) => (ctx.marker ? [ctx.marker] : []);

/** Posts the refund's hold (see the module invariants). A refund that is not pending: { applied: false }. */
export async function completeRefund(refundId: string, ctx: OutcomeCtx): Promise<RefundOutcome> {
  let r: RefundItem;
  try {
    r = await pendingRefund(refundId);
  } catch (err) {
    if (err instanceof NotPending) return { applied: false, reason: 'refund_not_pending', refund: err.refund };
    throw err;
  }
  const cur = r.amount.currency;
  const amount = toMinor(r.amount.amount, cur);
  const clearing = await houseAccount('psp_clearing', cur);
  const providerRef = r.providerRef ?? ctx.providerRef ?? r.refundId;
  let done: RefundItem | undefined;
  try {
    await postHold(r.holdId, {
      counterPostings: [{ accountId: clearing.accountId, amount }],
      journalId: refundJournalId(r.refundId),
      type: 'reversal',
      reference: `refund:${r.depositId}`,
      description: 'Refund of a deposit',
      metadata: { psp: { provider: r.provider, providerRef, kind: 'refund' }, refundId: r.refundId, depositId: r.depositId },
      idempotency: { scope: 'psp-refund-post', key: r.refundId, requestHash: r.refundId },
      actor: ctx.actor,
      requestId: ctx.requestId,
      clientId: r.clientId,
      extra: async (at) => {
        const cur2 = await pendingRefund(refundId);
        const d = await readDeposit(cur2.depositId);
        const dcur = d.net.currency;
        const after = depositAfterRefund({ net: toMinor(d.net.amount, dcur), refunded: minorOf(d.refunded, dcur) }, amount);
        const pending = minorOf(d.refundsPending, dcur) - amount;
        const patch = { refunded: json(after.refunded, dcur), refundsPending: json(pending < 0n ? 0n : pending, dcur) };
        let depositNext: DepositWithRefunds;
        let depositWrite: CommitWrite;
        if (after.full && d.status === 'completed') {
          const t = depositTransition(d, 'refunded', { at, patch });
          depositNext = t.next;
          depositWrite = { ...t.write, conditionFailedError: race('deposit') };
        } else {
          depositNext = { ...d, ...patch };
          depositWrite = retriedReplace(d, depositNext, at, 'deposit');
        }
        const next: RefundItem = {
          ...cur2,
          status: 'completed',
          timeline: [...cur2.timeline, { status: 'completed', at }],
          journalId: refundJournalId(r.refundId),
          completedAt: at,
          ...(cur2.providerRef || !ctx.providerRef ? {} : { providerRef: ctx.providerRef }),
        };
        done = { ...next, version: cur2.version + 1, updatedAt: at };
        const writes: CommitWrite[] = [retriedReplace(cur2, next, at, 'refund'), depositWrite, ...markerWrites(ctx)];
        if (d.sourceId) writes.push(fundingSourceReturn(d.clientId, d.sourceId, { minor: amount, currency: dcur }));
        const audit: AuditInput[] = [
          {
            actor: ctx.actor,
            action: 'payment.refund.completed',
            entity: { type: REFUND_ENTITY, id: r.refundId },
            clientId: r.clientId,
            before: refundSnapshot(cur2),
            after: refundSnapshot(next),
            requestId: ctx.requestId,
          },
          {
            actor: ctx.actor,
            action: depositNext.status === 'refunded' ? 'payment.deposit.refunded' : 'payment.deposit.partially_refunded',
            entity: { type: DEPOSIT_ENTITY, id: d.depositId },
            clientId: d.clientId,
            before: depositRefundSnapshot(d),
            after: depositRefundSnapshot(depositNext),
            requestId: ctx.requestId,
          },
        ];
        const outbox: OutboxEvent[] = [
          {
            detailType: 'payment.refund.completed',
            detail: { ...refundEventDetail(next), full: depositNext.status === 'refunded', journalId: next.journalId },
          },
        ];
        return { writes, audit, outbox };
      },
    });
  } catch (err) {
    if (err instanceof NotPending) return { applied: false, reason: 'refund_not_pending', refund: err.refund };
    if (isDomainError(err) && (err.code === 'hold_not_pending' || err.code === 'idempotency_key_reused')) {
      const now = await getRefund(refundId, { consistent: true });
      if (now && now.status !== 'pending') return { applied: false, reason: 'refund_not_pending', refund: now };
    }
    throw err;
  }
  return { applied: true, refund: done! };
}

/** Voids the refund's hold (see the module invariants). A refund that is not pending: { applied: false }. */
export async function failRefund(refundId: string, reason: string, ctx: OutcomeCtx): Promise<RefundOutcome> {
  let r: RefundItem;
  try {
    r = await pendingRefund(refundId);
  } catch (err) {
    if (err instanceof NotPending) return { applied: false, reason: 'refund_not_pending', refund: err.refund };
    throw err;
  }
  let done: RefundItem | undefined;
  try {
    await voidHold(r.holdId, {
      reason,
      actor: ctx.actor,
      requestId: ctx.requestId,
      extra: async (at) => {
        const cur2 = await pendingRefund(refundId);
        const amount = toMinor(cur2.amount.amount, cur2.amount.currency);
        const d = await readDeposit(cur2.depositId);
        const { next: depositNext, write } = withPending(d, -amount, at);
        const next: RefundItem = {
          ...cur2,
          status: 'failed',
          timeline: [...cur2.timeline, { status: 'failed', at, reason }],
          failureReason: reason,
          ...(cur2.providerRef || !ctx.providerRef ? {} : { providerRef: ctx.providerRef }),
        };
        done = { ...next, version: cur2.version + 1, updatedAt: at };
        return {
          writes: [retriedReplace(cur2, next, at, 'refund'), write, ...markerWrites(ctx)],
          audit: [
            {
              actor: ctx.actor,
              action: 'payment.refund.failed',
              entity: { type: REFUND_ENTITY, id: r.refundId },
              clientId: r.clientId,
              before: refundSnapshot(cur2),
              after: refundSnapshot(next),
              reason,
              requestId: ctx.requestId,
            },
            {
              actor: ctx.actor,
              action: 'payment.deposit.refund_released',
              entity: { type: DEPOSIT_ENTITY, id: d.depositId },
              clientId: d.clientId,
              before: depositRefundSnapshot(d),
              after: depositRefundSnapshot(depositNext),
              requestId: ctx.requestId,
            },
          ],
          outbox: [
            {
              detailType: 'payment.refund.failed',
              detail: { ...refundEventDetail(next), reason: next.reason, failureReason: reason },
            },
          ],
        };
      },
    });
  } catch (err) {
    if (err instanceof NotPending) return { applied: false, reason: 'refund_not_pending', refund: err.refund };
    if (isDomainError(err) && err.code === 'hold_not_pending') {
      const now = await getRefund(refundId, { consistent: true });
      if (now && now.status !== 'pending') return { applied: false, reason: 'refund_not_pending', refund: now };
    }
    throw err;
  }
  return { applied: true, refund: done! };
}

/** The refund as the back office sees it. */
export function refundView(r: RefundItem) {
  return {
    refundId: r.refundId,
    depositId: r.depositId,
    clientId: r.clientId,
    walletId: r.walletId,
    status: r.status,
    amount: r.amount,
    reason: r.reason,
    ...(r.note ? { note: r.note } : {}),
    requestedBy: r.requestedBy,
    provider: r.provider,
    ...(r.providerRef ? { providerRef: r.providerRef } : {}),
    ...(r.journalId ? { journalId: r.journalId } : {}),
    ...(r.failureReason ? { failureReason: r.failureReason } : {}),
    timeline: r.timeline,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}
