/**
 * Email uniqueness per tenant: one item per normalised email (one namespace for clients and staff).
 *
 * Lifecycle (functions/app/identity/provision-user.ts drives it):
 *   reserveEmail   -> status 'pending', a reservation id and a short TTL (expiresAt, epoch seconds,
 *                     also the table's TTL attribute), written before the identity provider is touched
 *   activateEmail  -> status 'active' + ownerId, in the SAME commit as the owner's profile, conditioned
 *                     on our reservation id; expiresAt is removed (an owned email never expires)
 *   releaseEmail   -> deletes our own pending reservation after a clean compensation
 *
 * Invariants:
 * - declared once as an entity (uniqueEmailEntity): every claim read is parsed; new items carry their
 *   normalised email (older ones only have it in their key)
 * - at most one owner (client or staff) per normalised email; an item without `status` (written
 *   before reservations existed) is an active owner
 * - a reservation can be taken over only once it is pending AND expired, so a crashed provisioning
 *   never locks an email out for longer than RESERVATION_TTL_SECONDS
 * - RESERVATION_TTL_SECONDS is far above the API functions' timeout (15 s, API Gateway caps at 29 s),
 *   so a reservation is never taken over while the attempt that made it can still be running
 * - findEmailOwner only ever returns active owners: a pending reservation owns nothing (sign-in,
 *   seed and pre-checks treat it as unknown)
 * - the item records which pool the owner lives in (kind) and the owner's id, which is how sign-in
 *   picks the user pool without trying both
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { normalizeEmail } from '#domain/identity/rules.ts';
import { ddb } from '#shared/clients.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { type CommitWrite, epochSeconds, tableName } from './items.ts';
import { uniqueEmailKeys } from './keys.ts';

export type EmailOwnerKind = 'client' | 'staff';
export type EmailClaimStatus = 'pending' | 'active';

/** How long a reservation blocks its email when the attempt that made it never finishes. */
export const RESERVATION_TTL_SECONDS = 5 * 60;

const uniqueEmailSchema = z.object({
  /** The normalised email (absent on items written before the entity model: their key is all they have). */
  email: z.string().min(1).optional(),
  kind: z.enum(['client', 'staff']),
  /** Absent on items written before reservations existed: those are active. */
  status: z.enum(['pending', 'active']).optional(),
  /** Set once active. */
  ownerId: z.string().min(1).optional(),
  /** The attempt that reserved (and, once active, claimed) the email. */
  reservationId: z.string().min(1).optional(),
  /** Pending only: epoch seconds after which the reservation may be taken over (and TTL-deleted). */
  expiresAt: z.number().int().optional(),
});

export const uniqueEmailEntity = defineEntity({
  type: uniqueEmailKeys.type,
  schema: uniqueEmailSchema,
  key: (u) => {
    // Only new items (reserveEmail) are built from attributes; older items are addressed by the email given.
    if (!u.email) throw new Error('unique-email: an item built from attributes needs its email');
    return uniqueEmailKeys.key(u.email);
  },
  what: 'email claim',
});

export type UniqueEmailItem = ItemOf<typeof uniqueEmailEntity>;

export type EmailOwner = UniqueEmailItem & { ownerId: string };

export interface EmailReservation {
  email: string;
  kind: EmailOwnerKind;
  reservationId: string;
  expiresAt: number;
}

export const emailTaken = () =>
  new DomainError('email_taken', 'conflict', 'An account with this email already exists', [
    { field: 'email', code: 'email_taken', message: 'already registered' },
  ]);

export const isEmailTaken = (e: unknown) => e instanceof DomainError && e.code === 'email_taken';

export const isActiveClaim = (item: UniqueEmailItem): item is EmailOwner => item.status !== 'pending' && !!item.ownerId;

/**
 * Reserves an email for one provisioning attempt: succeeds when the email is free or its
 * reservation is pending and expired; a live reservation or an active owner is 409 email_taken.
 */
export async function reserveEmail(email: string, kind: EmailOwnerKind, now: Date = new Date()): Promise<EmailReservation> {
  const normalized = normalizeEmail(email);
  const reservation: EmailReservation = {
    email: normalized,
    kind,
    reservationId: randomUUID(),
    expiresAt: epochSeconds(now) + RESERVATION_TTL_SECONDS,
  };
  const item = uniqueEmailEntity.item(
    {
      email: normalized,
      kind,
      status: 'pending',
      reservationId: reservation.reservationId,
      expiresAt: reservation.expiresAt,
    },
    now.toISOString(),
  );
  try {
    await ddb().send(
      new PutCommand({
        TableName: tableName(),
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk) OR (#status = :pending AND #expiresAt < :now)',
        ExpressionAttributeNames: { '#status': 'status', '#expiresAt': 'expiresAt' },
        ExpressionAttributeValues: { ':pending': 'pending', ':now': epochSeconds(now) },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw emailTaken();
    throw err;
  }
  return reservation;
}

/**
 * The commit write that turns our reservation into the owner's claim. Fails (email_taken) when the
 * reservation is no longer ours: taken over after expiry, TTL-deleted, or already active.
 */
export function activateEmail(reservation: EmailReservation, ownerId: string, now: string): CommitWrite {
  return {
    Update: {
      Key: uniqueEmailKeys.key(reservation.email),
      UpdateExpression:
        'SET #status = :active, #ownerId = :owner, #kind = :kind, #updatedAt = :now, #version = #version + :one REMOVE #expiresAt',
      ConditionExpression: '#status = :pending AND #rid = :rid',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#ownerId': 'ownerId',
        '#kind': 'kind',
        '#updatedAt': 'updatedAt',
        '#version': 'version',
        '#expiresAt': 'expiresAt',
        '#rid': 'reservationId',
      },
      ExpressionAttributeValues: {
        ':active': 'active',
        ':pending': 'pending',
        ':owner': ownerId,
        ':kind': reservation.kind,
        ':now': now,
        ':one': 1,
        ':rid': reservation.reservationId,
      },
    },
    conditionFailedError: emailTaken(),
  };
}

/** Deletes our reservation if it is still ours and pending; false when it is not (nothing deleted). */
export async function releaseEmail(reservation: EmailReservation): Promise<boolean> {
  try {
    await ddb().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: uniqueEmailKeys.key(reservation.email),
        ConditionExpression: '#status = :pending AND #rid = :rid',
        ExpressionAttributeNames: { '#status': 'status', '#rid': 'reservationId' },
        ExpressionAttributeValues: { ':pending': 'pending', ':rid': reservation.reservationId },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/** The email's item whatever its status (pending reservations included); strongly consistent. */
export function findEmailClaim(email: string): Promise<UniqueEmailItem | undefined> {
  return uniqueEmailEntity.get(uniqueEmailKeys.key(normalizeEmail(email)), { consistent: true });
}

/** The email's active owner, if any. A pending reservation is not an owner. */
export async function findEmailOwner(email: string): Promise<EmailOwner | undefined> {
  const item = await findEmailClaim(email);
  return item && isActiveClaim(item) ? item : undefined;
}
