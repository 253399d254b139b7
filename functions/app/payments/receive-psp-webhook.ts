/**
 * Receive a payment provider's webhook (POST /v1/webhooks/psp/{provider}, docs/decisions/0008-payments.md):
 * authenticate, de-duplicate, and hand the event to the use case of its kind.
 *
 * Invariants:
 * - an unknown provider is 404 unknown_provider, before anything else; nothing is written
 * - the signature is verified FIRST, on the raw body, by the provider's adapter (401 signature_missing,
 *   signature_malformed, signature_expired, signature_invalid; 400 webhook_malformed for a signed body it
 *   cannot read): an unsigned, stale or tampered request writes nothing but its security event
 *   (webhook_signature_rejected, by the request's source, aimed at psp:<provider>, the code as detail;
 *   recorded best effort), and the refusal is rethrown
 * - an event id already recorded is answered 'duplicate' and writes nothing; a concurrent duplicate
 *   loses its transaction on the marker (webhook_duplicate) and is answered 'duplicate' too
 * - deposit.* -> applyDepositEvent, payout.* -> applyPayoutEvent, refund.* -> applyRefundEvent,
 *   chargeback.* -> applyChargebackEvent; each commits the marker with its change
 * - an event that changes nothing (late, out of order, unknown payment, amount mismatch, a type we do
 *   not handle) is recorded: the marker and a `psp.webhook.ignored` audit entry (entity psp-event
 *   `<provider>:<eventId>`) naming the reason, in one commit; answered 'ignored'
 * - transient failures propagate: the provider retries the delivery, nothing was half-applied
 */
import { isConfiguredProvider, pspFor } from '#adapters/psp/index.ts';
import { webhookSecrets } from '#adapters/psp/secrets.ts';
import type { CommandContext } from '#app/context.ts';
import { recordSecurityEvent } from '#app/platform/record-security-event.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { PspEvent } from '#domain/payments/ports.ts';
import { commit } from '#store/audit.ts';
import { paymentKeys } from '#store/keys.ts';
import { hasWebhookEvent, webhookMarker } from '#store/payments/webhook-events.ts';
import { applyChargebackEvent } from './apply-chargeback-event.ts';
import { applyDepositEvent } from './apply-deposit-event.ts';
import { applyPayoutEvent } from './apply-payout-event.ts';
import { applyRefundEvent } from './apply-refund-event.ts';
import { pspActor, type WebhookEffect, type WebhookOutcome } from './webhook-effect.ts';

export interface PspWebhookInput {
  provider: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The body exactly as received. */
  rawBody: string;
  /** Where the request came from (domain/security sourceOf): the `by` of a signature refusal's security event. */
  source: string;
}

export interface PspWebhookResult {
  status: 'applied' | 'ignored' | 'duplicate';
  eventId: string;
  type: string;
  paymentId?: string;
}

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
async function recordIgnored(
  provider: string,
  event: PspEvent,
  outcome: Extract<WebhookOutcome, { outcome: 'ignored' }>,
  at: { now: Date; requestId: string },
) {
  await commit({
    writes: [
      webhookMarker(provider, event.eventId, {
        type: event.type,
        providerRef: event.providerRef,
        receivedAt: at.now.toISOString(),
      }),
    ],
    audit: {
      actor: pspActor(provider),
      action: 'psp.webhook.ignored',
      entity: { type: paymentKeys.webhookEventType, id: `${provider}:${event.eventId}` },
      newEntity: true,
      before: null,
      after: {
        provider,
        eventId: event.eventId,
        type: event.type,
        providerRef: event.providerRef,
        ...(outcome.paymentId ? { paymentId: outcome.paymentId } : {}),
      },
      reason: outcome.reason,
      requestId: at.requestId,
    },
    now: () => at.now,
  });
}

/** The provider's event, verified on the raw body; a signature refusal is recorded as a security event. */
async function verified(input: PspWebhookInput, now: Date, requestId: string): Promise<PspEvent> {
  try {
    return pspFor(input.provider).verifyWebhook({
      headers: input.headers,
      rawBody: input.rawBody,
      now,
      secrets: await webhookSecrets(input.provider),
    });
  } catch (err) {
    if (isDomainError(err) && err.code.startsWith('signature_')) {
      await recordSecurityEvent({
        kind: 'webhook_signature_rejected',
        by: input.source,
        target: `psp:${input.provider}`,
        source: input.source,
        requestId,
        detail: { code: err.code },
      });
    }
    throw err;
  }
}

/** Verifies, de-duplicates and applies one provider webhook (see the module invariants). */
export async function receivePspWebhook(input: PspWebhookInput, ctx: CommandContext): Promise<PspWebhookResult> {
  const { provider } = input;
  const now = ctx.now ?? new Date();
  const requestId = ctx.requestId;
  if (!isConfiguredProvider(provider)) {
    throw new DomainError('unknown_provider', 'not_found', 'No such payment provider');
  }
  const event = await verified(input, now, requestId);
  const base = { eventId: event.eventId, type: event.type };
  if (await hasWebhookEvent(provider, event.eventId)) return { status: 'duplicate', ...base };

  const marker = webhookMarker(provider, event.eventId, {
    type: event.type,
    providerRef: event.providerRef,
    receivedAt: now.toISOString(),
  });
  const effect = effectFor(event.type);
  let outcome: WebhookOutcome;
  try {
    outcome = effect
      ? await effect({ provider, event, marker, requestId, actor: pspActor(provider) })
      : { outcome: 'ignored', reason: 'unsupported_event_type' };
  } catch (err) {
    if (isDuplicate(err)) return { status: 'duplicate', ...base };
    throw err;
  }
  if (outcome.outcome === 'applied') return { status: 'applied', ...base, paymentId: outcome.paymentId };
  try {
    await recordIgnored(provider, event, outcome, { now, requestId });
  } catch (err) {
    if (isDuplicate(err)) return { status: 'duplicate', ...base };
    throw err;
  }
  return { status: 'ignored', ...base, ...(outcome.paymentId ? { paymentId: outcome.paymentId } : {}) };
}
