/**
 * The HTTP edge's idempotency records (the persistence of functions/middleware/idempotency.ts; keys:
 * keys.ts idempotencyRecordKeys): item I/O with the conditional-write protocol of Powertools' own
 * DynamoDB layer. These records are not business state: they are written directly, not through commit()
 * (no audit item), and expire through the table's TTL attribute.
 *
 * Invariants:
 * - one item per Powertools key: pk IDEMPOTENCY#<key>, sk IDEMPOTENCY, type 'idempotency', the envelope
 *   (tenant, createdAt, updatedAt, version) and expiresAt (epoch seconds, the TTL attribute)
 * - a record is created only when none exists, the existing one has expired (TTL not yet run), or it is
 *   an in-progress lock whose holder's time ran out; otherwise `putIdempotencyRecord` answers false
 * - every update bumps version and updatedAt; reads are strongly consistent and parsed (a malformed record
 *   is a StoredItemError)
 */
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ddb } from '#shared/clients.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { idempotencyRecordKeys } from './keys.ts';
import { TTL_ATTRIBUTE } from './table.ts';

export const IDEMPOTENCY_STATUSES = ['INPROGRESS', 'COMPLETED', 'EXPIRED'] as const;
export type IdempotencyStatus = (typeof IDEMPOTENCY_STATUSES)[number];

export const idempotencyRecordEntity = defineEntity({
  type: idempotencyRecordKeys.type,
  schema: z.object({
    /** Powertools' key; absent on records written before it was stored (they expire within 24 hours). */
    idemKey: z.string().min(1).optional(),
    /** Epoch seconds: the table's TTL attribute (TTL_ATTRIBUTE). */
    expiresAt: z.number().int().optional(),
    idemStatus: z.enum(IDEMPOTENCY_STATUSES),
    /** Epoch milliseconds: an in-progress lock older than this may be taken over. */
    idemInProgressExpiresAt: z.number().int().optional(),
    idemPayloadHash: z.string().optional(),
    /** The stored result ({ status, body, headers }), JSON. */
    idemResponse: z.unknown().optional(),
  }),
  key: (r) => {
    if (!r.idemKey) throw new Error('idempotency record: idemKey is required to compute its key');
    return idempotencyRecordKeys.key(r.idemKey);
  },
});

export type IdempotencyRecordItem = ItemOf<typeof idempotencyRecordEntity>;

export interface NewIdempotencyRecord {
  idempotencyKey: string;
  status: IdempotencyStatus;
  /** Epoch seconds (TTL). */
  expiresAt: number | undefined;
  inProgressExpiresAt: number | undefined;
  payloadHash: string | undefined;
}

const isConditionalCheckFailed = (e: unknown) => e instanceof Error && e.name === 'ConditionalCheckFailedException';

/** Creates the record (see the module invariants); false when a live record holds the key. */
export async function putIdempotencyRecord(
  table: string,
  r: NewIdempotencyRecord,
  opts: { tenant: string; nowMs: number },
): Promise<boolean> {
  const at = new Date(opts.nowMs).toISOString();
  const item = {
    ...idempotencyRecordEntity.item(
      {
        idemKey: r.idempotencyKey,
        expiresAt: r.expiresAt,
        idemStatus: r.status,
        idemInProgressExpiresAt: r.inProgressExpiresAt,
        idemPayloadHash: r.payloadHash,
      },
      at,
    ),
    tenant: opts.tenant,
  };
  try {
    await ddb().send(
      new PutCommand({
        TableName: table,
        Item: item,
        // a new key; or an expired record not yet removed by TTL; or an in-progress lock whose Lambda died
        ConditionExpression:
          'attribute_not_exists(#pk) OR #expiry < :now OR (#status = :inProgress AND #inProgressExpiry < :nowMs)',
        ExpressionAttributeNames: {
          '#pk': 'pk',
          '#expiry': TTL_ATTRIBUTE,
          '#status': 'idemStatus',
          '#inProgressExpiry': 'idemInProgressExpiresAt',
        },
        ExpressionAttributeValues: { ':now': Math.floor(opts.nowMs / 1000), ':nowMs': opts.nowMs, ':inProgress': 'INPROGRESS' },
      }),
    );
    return true;
  } catch (e) {
    if (isConditionalCheckFailed(e)) return false;
    throw e;
  }
}

/** The record under a Powertools key (consistent read), parsed. */
export const getIdempotencyRecord = (table: string, idempotencyKey: string): Promise<IdempotencyRecordItem | undefined> =>
  idempotencyRecordEntity.get(idempotencyRecordKeys.key(idempotencyKey), { consistent: true, table });

/** Records the outcome: status and expiry, and the response and payload hash when given. */
export async function updateIdempotencyRecord(
  table: string,
  idempotencyKey: string,
  change: { status: IdempotencyStatus; expiresAt: number | undefined; response?: unknown; payloadHash?: string | undefined },
): Promise<void> {
  const names: Record<string, string> = {
    '#expiry': TTL_ATTRIBUTE,
    '#status': 'idemStatus',
    '#updatedAt': 'updatedAt',
    '#version': 'version',
  };
  const values: Record<string, unknown> = {
    ':expiry': change.expiresAt,
    ':status': change.status,
    ':updatedAt': new Date().toISOString(),
    ':one': 1,
  };
  const sets = ['#expiry = :expiry', '#status = :status', '#updatedAt = :updatedAt', '#version = #version + :one'];
  if (change.response !== undefined) {
    names['#response'] = 'idemResponse';
    values[':response'] = change.response;
    sets.push('#response = :response');
  }
  if (change.payloadHash !== undefined) {
    names['#payloadHash'] = 'idemPayloadHash';
    values[':payloadHash'] = change.payloadHash;
    sets.push('#payloadHash = :payloadHash');
  }
  await ddb().send(
    new UpdateCommand({
      TableName: table,
      Key: idempotencyRecordKeys.key(idempotencyKey),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
}

export async function deleteIdempotencyRecord(table: string, idempotencyKey: string): Promise<void> {
  await ddb().send(new DeleteCommand({ TableName: table, Key: idempotencyRecordKeys.key(idempotencyKey) }));
}
