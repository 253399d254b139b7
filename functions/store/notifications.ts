/**
 * Sent-email records and notification de-duplication markers.
 *
 * Invariants:
 * - at most one email per dedupe id (the domain event's eventId): the NOTIFIED#<eventId> marker is
 *   put with attribute_not_exists in the same transaction as the email item
 * - a provider that sends outside the table first claims the marker (status 'sending'), and turns
 *   it into 'sent' together with the email item; a failed send releases the claim so a redelivery
 *   can retry; a claim older than CLAIM_STALE_SECONDS may be taken over
 * - markers expire after MARKER_TTL_DAYS, longer than any redelivery window (SQS retention <= 14 days)
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ddb } from '#shared/clients.ts';
import { epochSeconds, newItem, tableName } from './items.ts';
import { emailKeys, notifiedKeys } from './keys.ts';

export const MARKER_TTL_DAYS = 30;
export const CLAIM_STALE_SECONDS = 300;

export interface StoredEmail {
  messageId: string;
  to: string;
  from: string;
  subject: string;
  text: string;
  html?: string | undefined;
  template: string;
  locale: string;
  provider: string;
  providerMessageId?: string | undefined;
  dedupeId: string;
}

function emailItem(e: StoredEmail, now: Date) {
  const at = now.toISOString();
  return newItem(
    { ...emailKeys.key(e.messageId), type: emailKeys.type, ...e, ...emailKeys.recipientIndex(e.to, at, e.messageId) },
    at,
  );
}

function marker(dedupeId: string, status: 'sending' | 'sent', now: Date, messageId?: string) {
  const at = now.toISOString();
  return newItem(
    {
      ...notifiedKeys.key(dedupeId),
      type: notifiedKeys.type,
      dedupeId,
      status,
      ...(messageId ? { messageId } : {}),
      claimedAt: epochSeconds(now),
      expiresAt: epochSeconds(now) + MARKER_TTL_DAYS * 86_400,
    },
    at,
  );
}

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
