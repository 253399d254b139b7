/**
 * Apply a provider's chargeback.* webhook event (the WebhookEffect contract in webhook-effect.ts; the
 * money and the case in open-chargeback.ts / resolve-chargeback.ts and docs/decisions/0008-payments.md).
 *
 * Invariants:
 * - every chargeback event names its dispute (event.dispute, else ignored 'dispute_missing'); one
 *   dispute is one chargeback (id derived from provider + dispute id), whatever event ids deliver it
 * - chargeback.opened: event.providerRef is the DEPOSIT's provider reference (event.merchantRef, when
 *   given, our deposit id); an unknown deposit -> ignored 'unknown_payment'; a deposit that is not
 *   completed, another currency or more than the deposit's gross -> ignored with the reason; otherwise
 *   ONE transaction: the chargeback journal (the wallet never negative, the shortfall into
 *   chargeback_receivable), deposit 'charged_back', withdrawals frozen, compliance case opened, marker,
 *   audit, outbox. The same dispute again -> ignored 'chargeback_already_opened' (one journal)
 * - chargeback.won: the exact reverse journal; chargeback.lost: no money moves; both only from 'open'
 *   (else ignored 'chargeback_not_open'), with the marker in the same transaction
 * - a concurrent duplicate of the SAME event fails on the marker: webhook_duplicate propagates
 */
import { formatMoney } from '#domain/money/index.ts';
import { chargebackIdFor } from '#store/payments/chargebacks.ts';
import { getDeposit } from '#store/payments/deposits.ts';
import { lookupProviderRef } from '#store/payments/webhook-events.ts';
import type { Deposit } from './deposit-shared.ts';
import { openChargeback } from './open-chargeback.ts';
import { resolveChargeback } from './resolve-chargeback.ts';
import type { WebhookContext, WebhookEffect, WebhookOutcome } from './webhook-effect.ts';

async function findDeposit(ctx: WebhookContext): Promise<Deposit | undefined> {
  const { event, provider } = ctx;
  const ref = await lookupProviderRef(provider, event.providerRef);
  if (ref?.paymentKind === 'deposit') return getDeposit(ref.paymentId, { consistent: true });
  if (event.merchantRef) {
    const d = await getDeposit(event.merchantRef, { consistent: true });
    if (d && d.provider === provider && d.providerRef === event.providerRef) return d;
  }
  return undefined;
}

const outcomeOf = (r: { applied: boolean; reason?: string; chargebackId?: string }, fallbackId?: string): WebhookOutcome => {
  const paymentId = r.chargebackId ?? fallbackId;
  if (r.applied && paymentId) return { outcome: 'applied', paymentId };
  return { outcome: 'ignored', reason: r.reason ?? 'not_applied', ...(paymentId ? { paymentId } : {}) };
};

export const applyChargebackEvent: WebhookEffect = async (ctx) => {
  const { event, provider } = ctx;
  const dispute = event.dispute;
  if (!dispute?.id) return { outcome: 'ignored', reason: 'dispute_missing' };
  const opts = { actor: ctx.actor, requestId: ctx.requestId, marker: ctx.marker };
  switch (event.type) {
    case 'chargeback.opened': {
      const deposit = await findDeposit(ctx);
      if (!deposit) return { outcome: 'ignored', reason: 'unknown_payment' };
      const r = await openChargeback({ provider, deposit, dispute, amount: formatMoney(event.amount) }, opts);
      return r.applied ? { outcome: 'applied', paymentId: r.chargeback.chargebackId } : outcomeOf(r, deposit.depositId);
    }
    case 'chargeback.won':
    case 'chargeback.lost': {
      const chargebackId = chargebackIdFor(provider, dispute.id);
      const r = await resolveChargeback({ chargebackId, outcome: event.type === 'chargeback.won' ? 'won' : 'lost' }, opts);
      return r.applied ? { outcome: 'applied', paymentId: r.chargeback.chargebackId } : outcomeOf(r);
    }
    default:
      return { outcome: 'ignored', reason: 'unsupported_event' };
  }
};
