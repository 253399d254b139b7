/**
 * PSP webhook event markers and provider references (keys: paymentKeys.webhookEvent / providerRef).
 *
 * Invariants:
 * - a webhook event marker (pk PSPEVENT#<provider>#<eventId>) is put-if-absent in the SAME transaction
 *   as the change the event causes (or with its `psp.webhook.ignored` audit entry): an event id is
 *   applied at most once; a concurrent duplicate fails that transaction with 409 webhook_duplicate
 * - a provider reference item maps (provider, providerRef) to exactly one of our payments; it is
 *   written once (put-if-absent) with the payment's 'pending' transition and never changes
 * - reads that decide whether an event was seen are strongly consistent
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import { ddb } from '#shared/clients.ts';
import { type CommitWrite, newItem, putNew, tableName } from '../items.ts';
import { paymentKeys } from '../keys.ts';

export type PaymentKind = 'deposit' | 'withdrawal' | 'refund';

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
  return putNew(
    newItem(
      {
        ...paymentKeys.webhookEvent(provider, eventId),
        type: paymentKeys.webhookEventType,
        provider,
        eventId,
        eventType: info.type,
        providerRef: info.providerRef,
        receivedAt: info.receivedAt,
      },
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
  return putNew(
    newItem(
      {
        ...paymentKeys.providerRef(provider, providerRef),
        type: paymentKeys.providerRefType,
        provider,
        providerRef,
        paymentKind: payment.paymentKind,
        paymentId: payment.paymentId,
      },
      now,
    ),
    new DomainError('provider_ref_taken', 'conflict', 'This provider reference already belongs to a payment'),
  );
}

/** Which of our payments a provider reference names, if any. */
export async function lookupProviderRef(provider: string, providerRef: string): Promise<ProviderRefItem | undefined> {
  const res = await ddb().send(
    new GetCommand({ TableName: tableName(), Key: paymentKeys.providerRef(provider, providerRef), ConsistentRead: true }),
  );
  const item = res.Item;
  if (!item) return undefined;
  return {
    provider: String(item.provider),
    providerRef: String(item.providerRef),
    paymentKind: item.paymentKind as PaymentKind,
    paymentId: String(item.paymentId),
  };
}
