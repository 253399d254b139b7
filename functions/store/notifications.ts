/**
 * Sent-email records and notification de-duplication markers.
 *
 * Invariants:
 * - the email item and the marker are declared once as entities (emailEntity, notifiedEntity): keys and the
 *   recipient index are computed from their attributes; they are written here with plain transactions (a
 *   notification is a side effect of an audited change, not one itself)
 * - at most one email per dedupe id (the domain event's eventId): the NOTIFIED#<eventId> marker is
 *   put with attribute_not_exists in the same transaction as the email item
 * - a provider that sends outside the table first claims the marker (status 'sending'), and turns
 *   it into 'sent' together with the email item; a failed send releases the claim so a redelivery
 *   can retry; a claim older than CLAIM_STALE_SECONDS may be taken over
 * - markers expire after MARKER_TTL_DAYS, longer than any redelivery window (SQS retention <= 14 days)
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ddb } from '#shared/clients.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { epochSeconds, tableName } from './items.ts';
import { emailKeys, notifiedKeys } from './keys.ts';
import { optionalString } from './schemas.ts';

export const MARKER_TTL_DAYS = 30;
export const CLAIM_STALE_SECONDS = 300;

const storedEmailSchema = z.object({
  messageId: z.string().min(1),
  to: z.string().min(1),
  from: z.string(),
  subject: z.string(),
  text: z.string(),
  html: optionalString(),
  template: z.string(),
  locale: z.string(),
  provider: z.string(),
  providerMessageId: optionalString(),
  dedupeId: z.string().min(1),
});
export type StoredEmail = z.output<typeof storedEmailSchema>;

/** A sent email; gsi1: one recipient's messages, oldest first (the local runtime and tests read them). */
export const emailEntity = defineEntity({
  type: emailKeys.type,
  schema: storedEmailSchema,
  key: (e) => emailKeys.key(e.messageId),
  indexes: (e) => emailKeys.recipientIndex(e.to, e.createdAt, e.messageId),
});

/** The de-duplication marker of one dedupe id (the domain event's eventId). */
export const notifiedEntity = defineEntity({
  type: notifiedKeys.type,
  schema: z.object({
    dedupeId: z.string().min(1),
    status: z.enum(['sending', 'sent']),
    messageId: optionalString(),
    /** Epoch seconds of the claim (a 'sending' claim older than CLAIM_STALE_SECONDS may be taken over). */
    claimedAt: z.number().int(),
    /** TTL (epoch seconds). */
    expiresAt: z.number().int(),
  }),
  key: (m) => notifiedKeys.key(m.dedupeId),
});

export type EmailItem = ItemOf<typeof emailEntity>;
export type NotifiedItem = ItemOf<typeof notifiedEntity>;

const emailItem = (e: StoredEmail, now: Date): EmailItem => emailEntity.item(e, now.toISOString());

const marker = (dedupeId: string, status: 'sending' | 'sent', now: Date, messageId?: string): NotifiedItem =>
  notifiedEntity.item(
    {
      dedupeId,
      status,
      messageId,
      claimedAt: epochSeconds(now),
      expiresAt: epochSeconds(now) + MARKER_TTL_DAYS * 86_400,
    },
    now.toISOString(),
  );

/** Writes the email item and its marker together; false when the dedupe id was already used. */
export async function recordEmailOnce(e: StoredEmail, now = new Date()): Promise<boolean> {
  const table = tableName();
  try {
    await ddb().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: table,
              Item: marker(e.dedupeId, 'sent', now, e.messageId),
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          { Put: { TableName: table, Item: emailItem(e, now), ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed')
      return false;
    throw err;
  }
}

/** Claims a dedupe id before an external send; false when it is sent or being sent. */
export async function claimNotification(dedupeId: string, now = new Date()): Promise<boolean> {
  try {
    await ddb().send(
      new PutCommand({
        TableName: tableName(),
        Item: marker(dedupeId, 'sending', now),
        ConditionExpression: 'attribute_not_exists(pk) OR (#s = :sending AND claimedAt < :stale)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':sending': 'sending', ':stale': epochSeconds(now) - CLAIM_STALE_SECONDS },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

export async function releaseNotification(dedupeId: string): Promise<void> {
  await ddb()
    .send(
      new DeleteCommand({
        TableName: tableName(),
        Key: notifiedKeys.key(dedupeId),
        ConditionExpression: '#s = :sending',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':sending': 'sending' },
      }),
    )
    .catch((err: unknown) => {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    });
}

/** Completes a claimed send: the email item plus the marker turned to 'sent'. */
export async function completeNotification(e: StoredEmail, now = new Date()): Promise<void> {
  const table = tableName();
  await ddb().send(
    new TransactWriteCommand({
      TransactItems: [
        { Put: { TableName: table, Item: marker(e.dedupeId, 'sent', now, e.messageId) } },
        { Put: { TableName: table, Item: emailItem(e, now), ConditionExpression: 'attribute_not_exists(pk)' } },
      ],
    }),
  );
}
