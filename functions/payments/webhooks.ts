/**
 * The PSP webhook dispatcher (POST /v1/webhooks/psp/{provider}, docs/decisions/0008-payments.md):
 * authenticate, de-duplicate, route to the effect of the event's kind.
 *
 * Invariants:
 * - an unknown provider is 404 unknown_provider, before anything else; nothing is written
 * - the signature is verified FIRST, on the raw body, by the provider's adapter (401 signature_missing,
 *   signature_malformed, signature_expired, signature_invalid; 400 webhook_malformed for a signed body it
 *   cannot read): an unsigned, stale or tampered request writes nothing
 * - an event id already recorded is answered 'duplicate' and writes nothing; a concurrent duplicate
 *   loses its transaction on the marker (webhook_duplicate) and is answered 'duplicate' too
 * - deposit.* -> applyDepositEvent, payout.* -> applyPayoutEvent, refund.* -> applyRefundEvent,
 *   chargeback.* -> applyChargebackEvent; each commits the marker with its change
 * - an event that changes nothing (late, out of order, unknown payment, amount mismatch, a type we do
 *   not handle) is recorded: the marker and a `psp.webhook.ignored` audit entry (entity psp-event
 *   `<provider>:<eventId>`) naming the reason, in one commit; answered 'ignored'
 * - transient failures propagate (5xx): the provider retries the delivery, nothing was half-applied
 */
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { PspEvent } from '#domain/payments/ports.ts';
import { isConfiguredProvider, pspFor } from '#functions/adapters/psp/index.ts';
import { webhookSecrets } from '#functions/adapters/psp/secrets.ts';
import { applyChargebackEvent } from '#functions/payments/chargeback-effects.ts';
import { applyDepositEvent } from '#functions/payments/deposit-effects.ts';
import { applyPayoutEvent } from '#functions/payments/payout-effects.ts';
import { applyRefundEvent } from '#functions/payments/refund-effects.ts';
import { commit } from '#store/audit.ts';
import { paymentKeys } from '#store/keys.ts';
import { hasWebhookEvent, webhookMarker } from '#store/payments/webhook-events.ts';
import type { WebhookEffect, WebhookOutcome } from './webhook-types.ts';

export interface WebhookRequest {
  provider: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The body exactly as received. */
  rawBody: string;
  now: Date;
  requestId: string;
}

export interface WebhookResult {
  status: 'applied' | 'ignored' | 'duplicate';
  eventId: string;
  type: string;
  paymentId?: string;
}

export const pspActor = (provider: string): AuditActor => ({ id: `system:psp-${provider}`, role: 'system' });

const EFFECTS: Readonly<Record<string, WebhookEffect>> = {
  deposit: applyDepositEvent,
  payout: applyPayoutEvent,
  refund: applyRefundEvent,
  chargeback: applyChargebackEvent,
};

const effectFor = (type: string): WebhookEffect | undefined => {
  const family = type.split('.')[0] ?? '';
  return Object.hasOwn(EFFECTS, family) ? EFFECTS[family] : undefined;
};

const isDuplicate = (err: unknown) => isDomainError(err) && err.code === 'webhook_duplicate';

/** Records an event that changed nothing: the marker and its `psp.webhook.ignored` audit entry. */
async function recordIgnored(req: WebhookRequest, event: PspEvent, outcome: Extract<WebhookOutcome, { outcome: 'ignored' }>) {
  await commit({
    writes: [
      webhookMarker(req.provider, event.eventId, {
        type: event.type,
        providerRef: event.providerRef,
        receivedAt: req.now.toISOString(),
      }),
    ],
    audit: {
      actor: pspActor(req.provider),
      action: 'psp.webhook.ignored',
      entity: { type: paymentKeys.webhookEventType, id: `${req.provider}:${event.eventId}` },
      newEntity: true,
      before: null,
      after: {
        provider: req.provider,
        eventId: event.eventId,
        type: event.type,
        providerRef: event.providerRef,
        ...(outcome.paymentId ? { paymentId: outcome.paymentId } : {}),
      },
      reason: outcome.reason,
      requestId: req.requestId,
    },
    now: () => req.now,
  });
}

/** Verifies, de-duplicates and applies one provider webhook (see the module invariants). */
export async function handlePspWebhook(req: WebhookRequest): Promise<WebhookResult> {
  if (!isConfiguredProvider(req.provider)) {
    throw new DomainError('unknown_provider', 'not_found', 'No such payment provider');
  }
  const event = pspFor(req.provider).verifyWebhook({
    headers: req.headers,
    rawBody: req.rawBody,
    now: req.now,
    secrets: await webhookSecrets(req.provider),
  });
  const base = { eventId: event.eventId, type: event.type };
  if (await hasWebhookEvent(req.provider, event.eventId)) return { status: 'duplicate', ...base };

  const marker = webhookMarker(req.provider, event.eventId, {
    type: event.type,
    providerRef: event.providerRef,
    receivedAt: req.now.toISOString(),
  });
  const effect = effectFor(event.type);
  let outcome: WebhookOutcome;
  try {
    outcome = effect
      ? await effect({ provider: req.provider, event, marker, requestId: req.requestId, actor: pspActor(req.provider) })
      : { outcome: 'ignored', reason: 'unsupported_event_type' };
  } catch (err) {
    if (isDuplicate(err)) return { status: 'duplicate', ...base };
    throw err;
  }
  if (outcome.outcome === 'applied') return { status: 'applied', ...base, paymentId: outcome.paymentId };
  try {
    await recordIgnored(req, event, outcome);
  } catch (err) {
    if (isDuplicate(err)) return { status: 'duplicate', ...base };
    throw err;
  }
  return { status: 'ignored', ...base, ...(outcome.paymentId ? { paymentId: outcome.paymentId } : {}) };
}
