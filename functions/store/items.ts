/**
 * Item envelope and transaction write shapes shared by every repository.
 *
 * Invariants:
 * - every item written carries type, tenant, createdAt, updatedAt and version (BaseItem)
 * - a new item starts at version 1; `bumped` increments version by exactly one and refreshes updatedAt
 * - write shapes are lib-dynamodb TransactWriteItem shapes with TableName optional (commit fills it)
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import { env } from '#shared/env.ts';
import type { BaseItem } from './table.ts';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Loose<T> = Omit<T, 'TableName'> & { TableName?: string };

export type PutOp = Loose<NonNullable<TransactItem['Put']>>;
export type UpdateOp = Loose<NonNullable<TransactItem['Update']>>;
export type DeleteOp = Loose<NonNullable<TransactItem['Delete']>>;
export type ConditionCheckOp = Loose<NonNullable<TransactItem['ConditionCheck']>>;

/**
 * One state change in a commit. `conditionFailedError` is thrown (not retried) when this write's
 * condition fails, e.g. new DomainError('email_taken', 'conflict', ...).
 */
export type CommitWrite = (
  | { Put: PutOp }
  | { Update: UpdateOp }
  | { Delete: DeleteOp }
  | { ConditionCheck: ConditionCheckOp }
) & {
  conditionFailedError?: DomainError;
};

/** The envelope for a new item. */
export function newItem<T extends { pk: string; sk: string; type: string }>(fields: T, now: string): T & BaseItem {
  return { ...fields, tenant: env.tenant, createdAt: now, updatedAt: now, version: 1 };
}

/** Put a new item that must not exist yet. */
export function putNew(item: object, conditionFailedError?: DomainError): CommitWrite {
  return {
    Put: { Item: item as Record<string, unknown>, ConditionExpression: 'attribute_not_exists(pk)' },
    ...(conditionFailedError ? { conditionFailedError } : {}),
  };
}

/**
 * Replaces an item read at `read.version` with `next` (version + 1, updatedAt = now); a concurrent change
 * fails the commit with 409 conflict naming `what` ("The <what> was changed by another request").
 */
export function replaceVersioned<T extends BaseItem>(read: T, next: T, now: string, what: string): CommitWrite {
  return {
    Put: {
      Item: { ...next, version: read.version + 1, updatedAt: now },
      ConditionExpression: '#v = :v',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':v': read.version },
    },
    conditionFailedError: new DomainError('conflict', 'conflict', `The ${what} was changed by another request; reload and retry`),
  };
}

/** Strips BaseItem/key/index attributes for API output or audit snapshots. */
export function withoutStorage<T extends Record<string, unknown>>(
  item: T,
): Omit<T, 'pk' | 'sk' | 'gsi1pk' | 'gsi1sk' | 'gsi2pk' | 'gsi2sk'> {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ...rest } = item;
  return rest;
}

export const tableName = () => env.tableName;

export const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);
