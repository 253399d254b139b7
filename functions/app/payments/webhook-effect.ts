/**
 * The contract between the PSP webhook use case (receive-psp-webhook.ts) and the use cases that apply
 * each kind of event (apply-deposit-event.ts, apply-payout-event.ts, apply-refund-event.ts,
 * apply-chargeback-event.ts).
 *
 * Rules every effect keeps:
 * - it commits `ctx.marker` (the put-if-absent webhook event item) in the SAME transaction as the
 *   change it makes; a concurrent duplicate then fails that transaction on the marker with the
 *   DomainError `webhook_duplicate` (conflict), which the dispatcher answers 'duplicate'
 * - when the event changes nothing (stale, out of order, unknown payment, amount that does not
 *   match), it commits nothing and returns { outcome: 'ignored', reason }: the dispatcher then
 *   commits the marker with a `psp.webhook.ignored` audit entry naming the reason
 * - it throws for transient failures (the provider retries the delivery); it never half-applies
 */
import type { AuditActor } from '#domain/audit/chain.ts';
import type { PspEvent } from '#domain/payments/ports.ts';
import type { CommitWrite } from '#store/items.ts';

export interface WebhookContext {
  provider: string;
  event: PspEvent;
  /** The webhook event marker write: include it in the effect's commit. */
  marker: CommitWrite;
  requestId: string;
  /** `system:psp-<provider>`: the actor of every audit entry the webhook causes. */
  actor: AuditActor;
}

export type WebhookOutcome =
  | { outcome: 'applied'; paymentId: string }
  | { outcome: 'ignored'; reason: string; paymentId?: string };

export type WebhookEffect = (ctx: WebhookContext) => Promise<WebhookOutcome>;

/** `system:psp-<provider>`: who acts when a provider's webhook changes something. */
export const pspActor = (provider: string): AuditActor => ({ id: `system:psp-${provider}`, role: 'system' });
