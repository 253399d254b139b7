/**
 * PSP webhook event markers and provider references (keys: paymentKeys.webhookEvent / providerRef).
 *
 * Invariants:
 * - a webhook event marker (pk PSPEVENT#<provider>#<eventId>) is put-if-absent in the SAME transaction
 *   as the change the event causes (or with its `psp.webhook.ignored` audit entry): an event id is
 *   applied at most once; a concurrent duplicate fails that transaction with 409 webhook_duplicate
 * - a provider reference item maps (provider, providerRef) to exactly one of our payments; it is
 *   written once (put-if-absent) with the payment's 'pending' transition and never changes
 * - reads that decide whether an event was seen are strongly consistent; a provider reference read is parsed
 *   (providerRefEntity: a malformed item is a StoredItemError)
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { ddb } from '#shared/clients.ts';
import { defineEntity } from '../entity.ts';
import { type CommitWrite, tableName } from '../items.ts';
import { paymentKeys } from '../keys.ts';

export const PAYMENT_KINDS = ['deposit', 'withdrawal', 'refund'] as const;
export type PaymentKind = (typeof PAYMENT_KINDS)[number];

/** pk PSPEVENT#<provider>#<eventId> / PSPEVENT: one provider event, applied (or recorded as ignored) once. */
export const webhookEventEntity = defineEntity({
  type: paymentKeys.webhookEventType,
  schema: z.object({
    provider: z.string().min(1),
    eventId: z.string().min(1),
    eventType: z.string(),
    providerRef: z.string(),
    receivedAt: z.string().min(1),
  }),
  key: (e) => paymentKeys.webhookEvent(e.provider, e.eventId),
});

/** pk PSPREF#<provider>#<providerRef> / PSPREF: which of our payments a provider reference names. */
export const providerRefEntity = defineEntity({
  type: paymentKeys.providerRefType,
  schema: z.object({
    provider: z.string().min(1),
    providerRef: z.string().min(1),
    paymentKind: z.enum(PAYMENT_KINDS),
    paymentId: z.string().min(1),
  }),
  key: (r) => paymentKeys.providerRef(r.provider, r.providerRef),
});

export interface ProviderRefItem {
  provider: string;
  providerRef: string;
  paymentKind: PaymentKind;
  paymentId: string;
}

export const webhookDuplicate = () =>
  new DomainError('webhook_duplicate', 'conflict', 'This webhook event was already processed');

/** The marker of one provider event, put-if-absent (409 webhook_duplicate when it exists). */
export function webhookMarker(
  provider: string,
  eventId: string,
  info: { type: string; providerRef: string; receivedAt: string },
): CommitWrite {
  return webhookEventEntity.putNew(
    webhookEventEntity.item(
      { provider, eventId, eventType: info.type, providerRef: info.providerRef, receivedAt: info.receivedAt },
      info.receivedAt,
    ),
    webhookDuplicate(),
  );
}

/** Whether the provider event was already applied or recorded (consistent read). */
export async function hasWebhookEvent(provider: string, eventId: string): Promise<boolean> {
  const res = await ddb().send(
    new GetCommand({
      TableName: tableName(),
      Key: paymentKeys.webhookEvent(provider, eventId),
      ConsistentRead: true,
      ProjectionExpression: 'pk',
    }),
  );
  return res.Item !== undefined;
}

/** The provider reference item of a payment, put-if-absent (409 provider_ref_taken when another payment has it). */
export function providerRefWrite(
  provider: string,
  providerRef: string,
  payment: { paymentKind: PaymentKind; paymentId: string },
  now: string = new Date().toISOString(),
): CommitWrite {
  return providerRefEntity.putNew(
    providerRefEntity.item({ provider, providerRef, paymentKind: payment.paymentKind, paymentId: payment.paymentId }, now),
    new DomainError('provider_ref_taken', 'conflict', 'This provider reference already belongs to a payment'),
  );
}

/** Which of our payments a provider reference names, if any. */
export async function lookupProviderRef(provider: string, providerRef: string): Promise<ProviderRefItem | undefined> {
  const item = await providerRefEntity.get(paymentKeys.providerRef(provider, providerRef), { consistent: true });
  if (!item) return undefined;
  return { provider: item.provider, providerRef: item.providerRef, paymentKind: item.paymentKind, paymentId: item.paymentId };
}
