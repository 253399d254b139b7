/**
 * Failed password sign-ins, counted per account and per source (domain/identity/sign-in-throttle.ts has the
 * policy; keys: signInThrottleKeys).
 *
 * Invariants:
 * - counting is one UpdateItem ADD per counter, so concurrent failures are each counted exactly once, and
 *   the count a failure gets back (ALL_NEW) is the one its own answer is decided on
 * - a counter whose last failure is older than the policy's reset window counts as zero, whether or not TTL
 *   has removed it yet; the first failure after that starts again at 1 (a SET conditioned on the item still
 *   being stale, so two racing "first failures" still count 2)
 * - every counter carries the TTL attribute (last failure + reset window): nothing here outlives an hour of quiet
 * - the account is keyed by a hash of the normalised email, known or not; nothing here names the email
 * - a successful sign-in deletes the account counter, and only when it held failures (no write on the
 *   hot path otherwise); the source counter is never reset by a success
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { normalizeEmail } from '#domain/identity/rules.ts';
import {
  ACCOUNT_POLICY,
  type FailureCounter,
  liveCounter,
  lockedUntil,
  retryAfterSeconds,
  SOURCE_POLICY,
  type ThrottlePolicy,
} from '#domain/identity/sign-in-throttle.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { tableName } from './items.ts';
import { type Key, signInThrottleKeys } from './keys.ts';

export const accountHash = (email: string) => createHash('sha256').update(normalizeEmail(email), 'utf8').digest('hex');

export interface ThrottleSubject {
  /** Any email, normalised here. */
  email: string;
  /** domain/security sourceOf(sourceIp). */
  source: string;
}

export interface ThrottleCounters {
  account?: FailureCounter | undefined;
  source?: FailureCounter | undefined;
}

const keysOf = (s: ThrottleSubject) => ({
  account: signInThrottleKeys.account(accountHash(s.email)),
  source: signInThrottleKeys.source(s.source),
});

const toCounter = (item: Record<string, unknown> | undefined): FailureCounter | undefined =>
  item && typeof item.failures === 'number' && typeof item.lastFailureAt === 'number'
    ? { failures: item.failures, lastFailureAt: item.lastFailureAt }
    : undefined;

async function read(key: Key): Promise<FailureCounter | undefined> {
  const res = await ddb().send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }));
  return toCounter(res.Item);
}

/** The live counters of an account and a source (stale ones are undefined). */
export async function readCounters(s: ThrottleSubject, now: number): Promise<ThrottleCounters> {
  const keys = keysOf(s);
  const [account, source] = await Promise.all([read(keys.account), read(keys.source)]);
  return { account: liveCounter(ACCOUNT_POLICY, account, now), source: liveCounter(SOURCE_POLICY, source, now) };
}

const isConditionFailed = (err: unknown) => err instanceof ConditionalCheckFailedException;

/** Counts one failure on one counter atomically; returns the counter as it is after this failure. */
async function countFailure(
  key: Key,
  policy: ThrottlePolicy,
  subject: 'account' | 'source',
  now: number,
): Promise<FailureCounter> {
  const iso = new Date(now).toISOString();
  const values = {
    ':one': 1,
    ':now': now,
    ':stale': now - policy.resetAfterSeconds * 1000,
    ':exp': Math.ceil(now / 1000) + policy.resetAfterSeconds,
    ':type': signInThrottleKeys.type,
    ':tenant': env.tenant,
    ':subject': subject,
    ':iso': iso,
  };
  const set =
    'lastFailureAt = :now, expiresAt = :exp, #type = :type, tenant = :tenant, subject = :subject, ' +
    'createdAt = if_not_exists(createdAt, :iso), updatedAt = :iso';
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: key,
          UpdateExpression: `SET ${set} ADD failures :one, version :one`,
          ConditionExpression: 'attribute_not_exists(pk) OR lastFailureAt > :stale',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toCounter(res.Attributes)!;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
    // The item is stale (TTL has not removed it yet): start again at one, unless a racing failure just did.
    try {
      const res = await ddb().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: key,
          UpdateExpression: `SET failures = :one, ${set} ADD version :one`,
          ConditionExpression: 'lastFailureAt <= :stale',
          ExpressionAttributeNames: { '#type': 'type' },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toCounter(res.Attributes)!;
    } catch (err) {
      if (!isConditionFailed(err)) throw err;
    }
  }
  throw new Error('sign-in throttle: the counter kept changing under this failure');
}

/** Counts one failed sign-in against the account and the source; returns both counters after it. */
export async function countSignInFailure(s: ThrottleSubject, now: number): Promise<Required<ThrottleCounters>> {
  const keys = keysOf(s);
  const [account, source] = await Promise.all([
    countFailure(keys.account, ACCOUNT_POLICY, 'account', now),
    countFailure(keys.source, SOURCE_POLICY, 'source', now),
  ]);
  return { account, source };
}

/** A successful sign-in: the account starts again from zero. */
export async function resetAccount(email: string): Promise<void> {
  await ddb().send(new DeleteCommand({ TableName: tableName(), Key: signInThrottleKeys.account(accountHash(email)) }));
}

export interface SignInLock {
  /** Epoch ms when sign-in is possible again (the later of the account's and the source's lock). */
  until: number;
  retryAfterSeconds: number;
  /** Which counters lock. */
  by: ('account' | 'source')[];
}

/** The lock the counters put on sign-in at `now`, if any. */
export function lockOf(c: ThrottleCounters, now: number): SignInLock | undefined {
  const account = lockedUntil(ACCOUNT_POLICY, c.account, now);
  const source = lockedUntil(SOURCE_POLICY, c.source, now);
  if (account === undefined && source === undefined) return undefined;
  const until = Math.max(account ?? 0, source ?? 0);
  const by = [...(account !== undefined ? ['account' as const] : []), ...(source !== undefined ? ['source' as const] : [])];
  return { until, retryAfterSeconds: retryAfterSeconds(until, now), by };
}
