/**
 * Email uniqueness per tenant: one item per normalised email, written with attribute_not_exists in
 * the same transaction as the client or staff user that owns it.
 *
 * Invariants:
 * - at most one owner (client or staff) per normalised email
 * - the item records which pool the owner lives in (kind) and the owner's id, which is how sign-in
 *   picks the user pool without trying both
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import { normalizeEmail } from '#domain/identity/rules.ts';
import { ddb } from '#shared/clients.ts';
import { type CommitWrite, newItem, putNew, tableName } from './items.ts';
import { uniqueEmailKeys } from './keys.ts';

export type EmailOwnerKind = 'client' | 'staff';

export interface UniqueEmailItem {
  pk: string;
  sk: string;
  type: 'unique-email';
  kind: EmailOwnerKind;
  ownerId: string;
  tenant: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export const emailTaken = () =>
  new DomainError('email_taken', 'conflict', 'An account with this email already exists', [
    { field: 'email', code: 'email_taken', message: 'already registered' },
  ]);

export function claimEmail(email: string, kind: EmailOwnerKind, ownerId: string, now: string): CommitWrite {
  return putNew(newItem({ ...uniqueEmailKeys.key(email), type: uniqueEmailKeys.type, kind, ownerId }, now), emailTaken());
}

export async function findEmailOwner(email: string): Promise<UniqueEmailItem | undefined> {
  const res = await ddb().send(new GetCommand({ TableName: tableName(), Key: uniqueEmailKeys.key(normalizeEmail(email)) }));
  return res.Item as UniqueEmailItem | undefined;
}
