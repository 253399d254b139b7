/**
 * Refund (part of) a completed deposit to its source (POST /v1/admin/deposits/{depositId}/refunds; finance;
 * the money rules in domain/payments/refunds.ts, ADR 0008 "refund completed"): the funds are held at once,
 * the provider is asked, and the outcome arrives by webhook (apply-refund-event.ts).
 *
 * Invariants:
 * - a refund is checked completely before money moves: the reason (400 unknown_reason / note_required),
 *   the amount (parseMoney codes), the deposit (404 deposit_not_found; 422 deposit_not_refundable,
 *   currency_mismatch, refund_exceeds_deposit) and the wallet (422 insufficient_funds); any of these
 *   writes nothing
 * - requesting is ONE transaction (placeHold's `extra`): the hold on the wallet, the refund 'pending', the
 *   deposit's `refundsPending` raised, their audit entries and the outbox event. The deposit is re-read
 *   inside every attempt and its write is conditioned on the version read, so two concurrent refunds of
 *   one deposit are serialised and never exceed what is refundable (net - refunded - refundsPending, read
 *   consistently from the deposit itself, never from an index)
 * - only then is the provider asked (idempotency key = refund id). Its refusal fails the refund (hold
 *   voided, reason refund_declined); the provider unreachable fails it too (reason provider_unavailable)
 *   and throws PaymentProviderUnavailable: money is never left reserved for a request the provider never
 *   took. A synchronous 'succeeded' completes it at once
 * - exactly once: the refund id is derived from (deposit, Idempotency-Key) and its hold carries the
 *   ledger's own idempotency item, so a retry finds the same refund and never holds twice; another input
 *   under the same key is 422 idempotency_key_reused
 * - the actor of every audit entry is the caller, as finance
 */
import { createHash } from 'node:crypto';
import { pspFor } from '#adapters/psp/index.ts';
import type { CommandContext } from '#app/context.ts';
import type { MoneyInput } from '#app/ledger/schemas.ts';
import { canonicalJson } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { type Money, parseMoney, toMinor } from '#domain/money/index.ts';
import { assertRefundable, REFUND_HOLD_DAYS, validateRefundReason } from '#domain/payments/refunds.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom } from '#store/audit.ts';
import { placeHold } from '#store/ledger/index.ts';
import { DEPOSIT_ENTITY } from '#store/payments/deposits.ts';
import {
  type DepositWithRefunds,
  depositRefundSnapshot,
  getRefund,
  minorOf,
  moneyJson,
  newRefund,
  REFUND_ENTITY,
  readDepositWithRefunds,
  recordRefundSent,
  refundEventDetail,
  refundIdFor,
  refundSnapshot,
  withRefundsPending,
} from '#store/payments/refunds.ts';
import { completeRefund } from './complete-refund.ts';
import { failRefund } from './fail-refund.ts';
import { PaymentProviderUnavailable } from './provider-unavailable.ts';
import type { Refund, RefundOutcomeContext } from './refund-shared.ts';

/** The role a refund is requested as (the audit actor's role). */
const REFUNDERS: readonly Role[] = ['finance'];

export interface RefundDepositInput {
  depositId: string;
  amount: MoneyInput;
  /** One of domain/payments/refunds.ts REFUND_REASONS. */
  reason: string;
  note?: string | undefined;
}

/** sha256 of the refund request (deposit + body, canonical JSON): what the hold's idempotency item remembers. */
const refundRequestHash = (input: RefundDepositInput) => createHash('sha256').update(canonicalJson(input), 'utf8').digest('hex');

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

/**
 * Reserves the refund: hold + refund 'pending' + deposit refundsPending, in one transaction (see the
 * module invariants). A retry with the same key and input returns the same refund.
 */
async function requestRefund(
  input: { depositId: string; amount: Money; reason: ReturnType<typeof validateRefundReason>; note?: string | undefined },
  o: { idempotencyKey: string; requestHash: string; ctx: RefundOutcomeContext },
): Promise<Refund> {
  const { actor, requestId } = o.ctx;
  const first = await readDepositWithRefunds(input.depositId);
  const refundId = refundIdFor(input.depositId, o.idempotencyKey);
  // A clear answer before touching the ledger; the binding check runs again inside the transaction.
  if (!(await getRefund(refundId, { consistent: true }))) checkRefundable(first, input.amount);
  if (!first.providerRef) {
    throw new DomainError('deposit_not_refundable', 'unprocessable', 'The deposit has no provider reference to refund');
  }
  let created: Refund | undefined;
  const { replayed } = await placeHold({
    holdId: refundId,
    accountId: first.walletId,
    amount: input.amount,
    expiresAt: new Date(Date.now() + REFUND_HOLD_DAYS * 24 * 3600_000),
    reference: `refund:${input.depositId}`,
    idempotency: { scope: 'psp-refund', key: refundId, requestHash: o.requestHash },
    actor,
    requestId,
    clientId: first.clientId,
    extra: async (at) => {
      const d = await readDepositWithRefunds(input.depositId);
      checkRefundable(d, input.amount);
      const { next, write } = withRefundsPending(d, input.amount.amount, at);
      const { refund, write: put } = newRefund(
        {
          refundId,
          depositId: d.depositId,
          clientId: d.clientId,
          walletId: d.walletId,
          provider: d.provider,
          depositProviderRef: d.providerRef!,
          amount: moneyJson(input.amount.amount, first.net.currency),
          reason: input.reason,
          note: input.note,
          requestedBy: actor.id,
          holdId: refundId,
          idempotencyKey: o.idempotencyKey,
          requestHash: o.requestHash,
        },
        at,
      );
      created = refund;
      return {
        writes: [put, write],
        audit: [
          {
            actor,
            action: 'payment.refund.requested',
            entity: { type: REFUND_ENTITY, id: refundId },
            newEntity: true,
            clientId: d.clientId,
            before: null,
            after: refundSnapshot(refund),
            requestId,
          },
          {
            actor,
            action: 'payment.deposit.refund_requested',
            entity: { type: DEPOSIT_ENTITY, id: d.depositId },
            clientId: d.clientId,
            before: depositRefundSnapshot(d),
            after: depositRefundSnapshot(next),
            requestId,
          },
        ],
        outbox: [{ detailType: 'payment.refund.requested', detail: refundEventDetail(refund) }],
      };
    },
  });
  if (replayed || !created) {
    const prior = await getRefund(refundId, { consistent: true });
    if (!prior) throw new Error(`refunds: hold ${refundId} has no refund item`);
    return prior;
  }
  return created;
}

/** Asks the provider for a pending refund it has not been sent yet, and records the answer. */
async function sendToProvider(refund: Refund, ctx: RefundOutcomeContext): Promise<void> {
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
    await failRefund({ refundId: refund.refundId, reason: 'provider_unavailable' }, ctx);
    throw new PaymentProviderUnavailable('The payment provider could not be reached; nothing was refunded');
  }
  if (answer.status === 'failed') {
    await failRefund({ refundId: refund.refundId, reason: 'refund_declined' }, { ...ctx, providerRef: answer.providerRef });
    return;
  }
  try {
    await recordRefundSent(refund, answer.providerRef, ctx);
  } catch (err) {
    // A retry of a request whose answer was already recorded: the reference is there already.
    if (!(isDomainError(err) && err.code === 'provider_ref_taken')) throw err;
  }
  if (answer.status === 'succeeded') {
    await completeRefund({ refundId: refund.refundId }, { ...ctx, providerRef: answer.providerRef });
  }
}

/** Requests the refund, asks the provider, and returns the refund as it stands (see the module invariants). */
export async function refundDeposit(input: RefundDepositInput, caller: Caller, ctx: CommandContext): Promise<Refund> {
  const idempotencyKey = ctx.idempotencyKey;
  if (!idempotencyKey) throw new DomainError('idempotency_key_required', 'validation', 'A refund needs an Idempotency-Key');
  const reason = validateRefundReason(input.reason, input.note);
  const amount = parseMoney(input.amount, tenantConfig().currencies);
  const outcomeCtx: RefundOutcomeContext = { actor: actorFrom(caller, REFUNDERS), requestId: ctx.requestId };
  const refund = await requestRefund(
    { depositId: input.depositId, amount, reason, note: input.note },
    { idempotencyKey, requestHash: refundRequestHash(input), ctx: outcomeCtx },
  );
  if (refund.status === 'pending' && !refund.providerRef) await sendToProvider(refund, outcomeCtx);
  return (await getRefund(refund.refundId, { consistent: true })) ?? refund;
}
