/**
 * Failed password sign-ins, counted per account and per source (domain/identity/sign-in-throttle.ts has the
 * policy; keys: signInThrottleKeys).
 *
 * Invariants:
 * - declared once as an entity (signInThrottleEntity): every counter read (and every ALL_NEW answer) is parsed;
 *   the counters are written only by an UpdateItem ADD (no audit item: bookkeeping, not a business change)
 * - counting is one UpdateItem ADD per counter, so concurrent failures are each counted exactly once, and
 *   the count a failure gets back (ALL_NEW) is the one its own answer is decided on
 * - a counter whose last failure is older than the policy's reset window counts as zero, whether or not TTL
 *   has removed it yet; the first failure after that starts again at 1 (a SET conditioned on the item still
 *   being stale, so two racing "first failures" still count 2)
 * - every counter carries the TTL attribute (last failure + reset window): nothing here outlives an hour of quiet
 * - the account is keyed by a hash of the normalised email, known or not; nothing here names the email
 * - a successful sign-in deletes the account counter, and only when it held failures (no write on the
 *   hot path otherwise); the source counter is never reset by a success
 * - counting only: whether the counters lock sign-in is decided by the create-session use case
 *   (functions/app/identity/create-session.ts lockOf)
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { normalizeEmail } from '#domain/identity/rules.ts';
import {
  ACCOUNT_POLICY,
  type FailureCounter,
  liveCounter,
  SOURCE_POLICY,
  type ThrottlePolicy,
} from '#domain/identity/sign-in-throttle.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { withRetry } from '#shared/retry.ts';
import { defineEntity } from './entity.ts';
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

type Subject = 'account' | 'source';

const keyOf = (subject: Subject, subjectId: string): Key =>
  subject === 'account' ? signInThrottleKeys.account(subjectId) : signInThrottleKeys.source(subjectId);

/** One failure counter. Written only by countFailure's UpdateItem (an atomic ADD), read through the entity. */
export const signInThrottleEntity = defineEntity({
  type: signInThrottleKeys.type,
  schema: z.object({
    subject: z.enum(['account', 'source']),
    /** The account's email hash or the source (absent on counters written before it was recorded). */
    subjectId: z.string().min(1).optional(),
    failures: z.number().int().min(1),
    /** Epoch milliseconds of the latest failure. */
    lastFailureAt: z.number(),
    /** TTL (epoch seconds): last failure + the policy's reset window. */
    expiresAt: z.number().int(),
  }),
  key: (c) => {
    if (!c.subjectId) throw new Error('sign-in throttle: a counter built from attributes needs its subjectId');
    return keyOf(c.subject, c.subjectId);
  },
});

const idsOf = (s: ThrottleSubject) => ({ account: accountHash(s.email), source: s.source });

const toCounter = (raw: Record<string, unknown> | undefined): FailureCounter | undefined => {
  if (raw === undefined) return undefined;
  const item = signInThrottleEntity.parse(raw);
  return { failures: item.failures, lastFailureAt: item.lastFailureAt };
};

async function read(key: Key): Promise<FailureCounter | undefined> {
  const item = await signInThrottleEntity.get(key, { consistent: true });
  return item && { failures: item.failures, lastFailureAt: item.lastFailureAt };
}

/** The live counters of an account and a source (stale ones are undefined). */
export async function readCounters(s: ThrottleSubject, now: number): Promise<ThrottleCounters> {
  const ids = idsOf(s);
  const [account, source] = await Promise.all([read(keyOf('account', ids.account)), read(keyOf('source', ids.source))]);
  return { account: liveCounter(ACCOUNT_POLICY, account, now), source: liveCounter(SOURCE_POLICY, source, now) };
}

const isConditionFailed = (err: unknown) => err instanceof ConditionalCheckFailedException;

/** Counts one failure on one counter atomically; returns the counter as it is after this failure. */
async function countFailure(subject: Subject, subjectId: string, policy: ThrottlePolicy, now: number): Promise<FailureCounter> {
  const key = keyOf(subject, subjectId);
  const iso = new Date(now).toISOString();
  const values = {
    ':one': 1,
    ':now': now,
    ':stale': now - policy.resetAfterSeconds * 1000,
    ':exp': Math.ceil(now / 1000) + policy.resetAfterSeconds,
    ':type': signInThrottleKeys.type,
    ':tenant': env.tenant,
    ':subject': subject,
    ':sid': subjectId,
    ':iso': iso,
  };
  const set =
    'lastFailureAt = :now, expiresAt = :exp, #type = :type, tenant = :tenant, subject = :subject, subjectId = :sid, ' +
    'createdAt = if_not_exists(createdAt, :iso), updatedAt = :iso';
  const once = async (): Promise<FailureCounter> => {
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
    // The item is stale (TTL has not removed it yet): start again at one, unless a racing failure just did
    // (then this condition fails too, and the next attempt counts on top of it).
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
  };
  try {
    return await withRetry('stateReread', once, isConditionFailed);
  } catch (err) {
    if (isConditionFailed(err)) throw new Error('sign-in throttle: the counter kept changing under this failure');
    throw err;
  }
}

/** Counts one failed sign-in against the account and the source; returns both counters after it. */
export async function countSignInFailure(s: ThrottleSubject, now: number): Promise<Required<ThrottleCounters>> {
  const ids = idsOf(s);
  const [account, source] = await Promise.all([
    countFailure('account', ids.account, ACCOUNT_POLICY, now),
    countFailure('source', ids.source, SOURCE_POLICY, now),
  ]);
  return { account, source };
}

/** A successful sign-in: the account starts again from zero. */
export async function resetAccount(email: string): Promise<void> {
  await ddb().send(new DeleteCommand({ TableName: tableName(), Key: signInThrottleKeys.account(accountHash(email)) }));
}
