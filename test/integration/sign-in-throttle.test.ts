/**
 * The sign-in throttle (GitHub issue 12, finding 1): POST /v1/sessions against a real table on DynamoDB Local
 * and the local Cognito (local/aws/cognito.ts, with its own Cognito-like lockout) over HTTP through the real SDK.
 * Each test signs in from its own source address, so the per-source counter of one test never locks another.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CognitoIdentityProviderClient, InitiateAuthCommand } from '@aws-sdk/client-cognito-identity-provider';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flushSecurityEvents } from '#app/platform/record-security-event.ts';
import { ACCOUNT_POLICY, SOURCE_POLICY } from '#domain/identity/sign-in-throttle.ts';
import { hourBucket } from '#domain/security/events.ts';
import { LocalCognito } from '#local/aws/cognito.ts';
import { type AwsEmulator, startAwsEmulator } from '#local/aws/server.ts';
import { ddb } from '#shared/clients.ts';
import { securityEventKeys, signInThrottleKeys, uniqueEmailKeys } from '#store/keys.ts';
import { type CaseKind, caseIdFor, getCase } from '#store/payments/cases.ts';
import { eventIdOf, type SecurityEventItem } from '#store/security-events.ts';
import { accountHash, countSignInFailure } from '#store/sign-in-throttle.ts';
import { TEST_POOL_ENV, useHandlerEnv } from '../support/api-env.ts';
import { seedClient } from '../support/clients.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

type Result = { statusCode: number; body: string; headers?: Record<string, unknown> };
type Handler = (e: ReturnType<typeof apiEvent>, c: ReturnType<typeof lambdaContext>) => Promise<Result>;

const PASSWORD = 'Right-Passw0rd!';
const WRONG = 'Wrong-Passw0rd!';

let table: string;
let dir: string;
let emulator: AwsEmulator;
let localCognito: LocalCognito;
let sessions: Handler;
let audit: Handler;

beforeAll(async () => {
  table = await useHandlerEnv('signin', TEST_POOL_ENV);
  dir = await mkdtemp(path.join(tmpdir(), 'signin-throttle-'));
  localCognito = new LocalCognito({
    dataFile: path.join(dir, 'cognito.json'),
    issuerBaseUrl: () => emulator.url,
    pools: [
      { id: TEST_POOL_ENV.USER_POOL_ID, clientId: TEST_POOL_ENV.USER_POOL_CLIENT_ID, groups: ['client', 'partner'] },
      {
        id: TEST_POOL_ENV.STAFF_USER_POOL_ID,
        clientId: TEST_POOL_ENV.STAFF_USER_POOL_CLIENT_ID,
        groups: ['admin', 'compliance'],
      },
    ],
  });
  emulator = await startAwsEmulator({ port: 0, services: [], cognito: localCognito });
  process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER = emulator.url;
  sessions = (await import('#functions/api/sessions.ts')).handler as unknown as Handler;
  audit = (await import('#functions/api/audit.ts')).handler as unknown as Handler;
});
afterAll(async () => {
  await flushSecurityEvents();
  await emulator?.close();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let nextIp = 1;
/** A source address of its own for each test. */
const freshIp = () => `198.51.100.${nextIp++}`;

/** A client as registration leaves it: a Cognito user, an active email claim, a profile. */
async function client(): Promise<{ clientId: string; email: string }> {
  const email = `trader.${randomUUID().slice(0, 8)}@example.com`;
  const { sub } = await localCognito.ensureUser(TEST_POOL_ENV.USER_POOL_ID, { email, password: PASSWORD, groups: ['client'] });
  const now = new Date().toISOString();
  await ddb().send(
    new PutCommand({
      TableName: table,
      Item: {
        ...uniqueEmailKeys.key(email),
        type: 'unique-email',
        kind: 'client',
        status: 'active',
        ownerId: sub,
        tenant: 'demo',
        createdAt: now,
        updatedAt: now,
        version: 1,
      },
    }),
  );
  await seedClient({ clientId: sub, email });
  return { clientId: sub, email };
}

const signIn = (email: string, password: string, sourceIp: string) =>
  sessions(apiEvent({ method: 'POST', resource: '/v1/sessions', body: { email, password }, sourceIp }), lambdaContext());

/** What a caller can observe of an answer, minus the per-request correlation id. */
const observed = (r: Result) => {
  const { correlationId: _c, ...body } = bodyOf<Record<string, unknown>>(r);
  return { status: r.statusCode, retryAfter: r.headers?.['retry-after'], body };
};

const counter = async (key: { pk: string; sk: string }) =>
  (await ddb().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

/** Every security event aimed at `target` (any source), read from the kind index. */
async function eventsAt(target: string): Promise<SecurityEventItem[]> {
  const out: SecurityEventItem[] = [];
  for (const kind of ['sign_in_failed', 'sign_in_locked']) {
    const res = await ddb().send(
      new QueryCommand({
        TableName: table,
        IndexName: 'gsi3',
        KeyConditionExpression: 'gsi3pk = :p',
        FilterExpression: 'target = :t',
        ExpressionAttributeValues: { ':p': securityEventKeys.kindPartition(kind), ':t': target },
      }),
    );
    out.push(...((res.Items ?? []) as SecurityEventItem[]));
  }
  return out;
}
const sumOf = (items: SecurityEventItem[], kind: string) =>
  items.filter((i) => i.kind === kind).reduce((n, i) => n + Number(i.count), 0);

/** Signs in with the right password, waiting out each Retry-After, as a well-behaved app does. */
async function signInWhenAllowed(email: string, ip: string): Promise<{ final: Result; refusals: Result[] }> {
  const refusals: Result[] = [];
  for (let i = 0; i < 10; i++) {
    const r = await signIn(email, PASSWORD, ip);
    if (r.statusCode !== 429) return { final: r, refusals };
    refusals.push(r);
    await sleep(Number(r.headers?.['retry-after']) * 1000 + 100);
  }
  throw new Error('still locked after 10 waits');
}

describe('the policy', () => {
  it('is Cognito-like per account and higher per source, and forgets after an hour', () => {
    expect(ACCOUNT_POLICY).toEqual({ freeFailures: 5, baseLockSeconds: 1, maxLockSeconds: 900, resetAfterSeconds: 3600 });
    expect(SOURCE_POLICY).toMatchObject({ freeFailures: 100, baseLockSeconds: 1, maxLockSeconds: 900 });
  });
});

describe('POST /v1/sessions: the per-account throttle', () => {
  it('five failures are 401; the sixth locks: 429 sign_in_locked with Retry-After, and then even the right password waits', async () => {
    const { email } = await client();
    const ip = freshIp();
    for (let i = 1; i <= 5; i++) {
      const r = await signIn(email, WRONG, ip);
      expect(r.statusCode, `failure ${i}`).toBe(401);
      expect(bodyOf(r).code).toBe('invalid_credentials');
      expect(r.headers?.['retry-after']).toBeUndefined();
    }
    const sixth = await signIn(email, WRONG, ip);
    expect(sixth.statusCode).toBe(429);
    expect(sixth.headers?.['content-type']).toBe('application/problem+json');
    expect(bodyOf(sixth)).toMatchObject({
      code: 'sign_in_locked',
      status: 429,
      type: 'https://errors.backoffice.dev/sign_in_locked',
    });
    expect(sixth.headers?.['retry-after']).toBe('1');

    const right = await signIn(email, PASSWORD, ip);
    expect(right.statusCode).toBe(429);
    expect(bodyOf(right).code).toBe('sign_in_locked');
    expect(Number(right.headers?.['retry-after'])).toBeGreaterThanOrEqual(1);

    const c = await counter(signInThrottleKeys.account(accountHash(email)));
    expect(c).toMatchObject({ type: 'sign-in-throttle', failures: 6 });
    // Expires by TTL an hour after the last failure.
    expect(c?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 3500);
    expect(c?.expiresAt).toBeLessThanOrEqual(Date.now() / 1000 + 3601);
  });

  it('200 wrong passwords at full speed, then the right one: 429, and every attempt is a counted security event', async () => {
    const { clientId, email } = await client();
    const ip = freshIp();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const r = await signIn(email, WRONG, ip);
      statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
    }
    expect(statuses.get(401)).toBe(5);
    expect(statuses.get(429)).toBe(195);
    const right = await signIn(email, PASSWORD, ip);
    expect(right.statusCode).toBe(429);
    expect(bodyOf(right).code).toBe('sign_in_locked');

    await flushSecurityEvents();
    const events = await eventsAt(`client:${clientId}`);
    expect(sumOf(events, 'sign_in_failed') + sumOf(events, 'sign_in_locked')).toBe(201);
    expect(events.every((e) => e.by === `ip:${ip}` && e.clientId === clientId)).toBe(true);
    // The per-client count reached 20 in this hour: one sign_in_attack case, opened once.
    const bucket = hourBucket(new Date());
    const opened = await getCase(caseIdFor('sign_in_attack' as unknown as CaseKind, `${clientId}:${bucket}`));
    expect(opened).toMatchObject({ kind: 'sign_in_attack', clientId, status: 'open', evidence: { threshold: 20 } });
    expect(Number(opened?.evidence.count)).toBeGreaterThanOrEqual(20);

    // Compliance sees the events and the case on the client's trail.
    const trail = await audit(
      apiEvent({
        method: 'GET',
        resource: '/v1/admin/clients/{clientId}/audit',
        pathParameters: { clientId },
        query: { limit: '100' },
        claims: claimsFor('compliance-1', ['compliance']),
      }),
      lambdaContext(),
    );
    const items = bodyOf<{ items: { entryType: string; kind?: string; action?: string; by?: string; count?: number }[] }>(
      trail,
    ).items;
    expect(items.filter((i) => i.entryType === 'security-event').map((i) => i.kind)).toEqual(
      expect.arrayContaining(['sign_in_failed', 'sign_in_locked']),
    );
    expect(items.find((i) => i.entryType === 'security-event')).toMatchObject({ by: `ip:${ip}` });
    expect(items.filter((i) => i.action === 'compliance.case.opened')).toHaveLength(1);
    expect(items.find((i) => i.action === 'client.registered')).toMatchObject({ entryType: 'audit' });
  });

  it('an unknown email gets exactly the same answers, in the same order, with the same Retry-After', async () => {
    const { email } = await client();
    const unknown = `nobody.${randomUUID().slice(0, 8)}@example.com`;
    const known: ReturnType<typeof observed>[] = [];
    const missing: ReturnType<typeof observed>[] = [];
    const [ipA, ipB] = [freshIp(), freshIp()];
    for (let i = 0; i < 8; i++) {
      known.push(observed(await signIn(email, WRONG, ipA)));
      missing.push(observed(await signIn(unknown, WRONG, ipB)));
    }
    expect(missing).toEqual(known);
    expect(known.map((k) => k.status)).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    expect(known[5]!.retryAfter).toBe('1');
    // Nothing about the email is kept: the counter is keyed by a hash, the events name a hash.
    expect(await counter(signInThrottleKeys.account(accountHash(unknown)))).toMatchObject({ failures: 6 });
    await flushSecurityEvents();
    const events = await eventsAt(`account:${accountHash(unknown).slice(0, 16)}`);
    expect(sumOf(events, 'sign_in_failed')).toBe(6);
    expect(JSON.stringify(events)).not.toContain(unknown);
  });

  it('a successful sign-in resets the account counter', async () => {
    const { email } = await client();
    const ip = freshIp();
    for (let i = 0; i < 4; i++) expect((await signIn(email, WRONG, ip)).statusCode).toBe(401);
    const ok = await signIn(email, PASSWORD, ip);
    expect(ok.statusCode).toBe(200);
    expect(bodyOf(ok).idToken).toBeTruthy();
    expect(await counter(signInThrottleKeys.account(accountHash(email)))).toBeUndefined();
    // Counting starts again from zero: five free failures (without the reset the 2nd below would lock), the 6th locks.
    for (let i = 0; i < 5; i++) expect((await signIn(email, WRONG, ip)).statusCode, `failure ${i + 1} after success`).toBe(401);
    const sixth = await signIn(email, WRONG, ip);
    expect([sixth.statusCode, bodyOf(sixth).code]).toEqual([429, 'sign_in_locked']);
  });

  it('a lockout ends: after waiting out Retry-After the right password signs in and the counter is gone', async () => {
    const { email } = await client();
    const ip = freshIp();
    for (let i = 0; i < 6; i++) await signIn(email, WRONG, ip);
    const { final, refusals } = await signInWhenAllowed(email, ip);
    expect(final.statusCode).toBe(200);
    expect(refusals.length).toBeGreaterThanOrEqual(1);
    expect(refusals.every((r) => bodyOf(r).code === 'sign_in_locked')).toBe(true);
    expect(await counter(signInThrottleKeys.account(accountHash(email)))).toBeUndefined();
  });

  it("Cognito's own lockout (Password attempts exceeded) is the same 429 sign_in_locked", async () => {
    const { email } = await client();
    // Five wrong passwords straight at Cognito (not through the API, so our counter is clean): Cognito locks.
    const direct = new CognitoIdentityProviderClient({
      endpoint: emulator.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    for (let i = 0; i < 5; i++) {
      await direct
        .send(
          new InitiateAuthCommand({
            AuthFlow: 'USER_PASSWORD_AUTH',
            ClientId: TEST_POOL_ENV.USER_POOL_CLIENT_ID,
            AuthParameters: { USERNAME: email, PASSWORD: WRONG },
          }),
        )
        .catch(() => undefined);
    }
    direct.destroy();
    const r = await signIn(email, PASSWORD, freshIp());
    expect(r.statusCode).toBe(429);
    expect(bodyOf(r).code).toBe('sign_in_locked');
    expect(r.headers?.['retry-after']).toBe('1');
  });
});

describe('counting is atomic', () => {
  it('50 concurrent failures on one counter are 50, each seeing its own count', async () => {
    const subject = { email: `race.${randomUUID().slice(0, 8)}@example.com`, source: `ip:${freshIp()}` };
    const now = Date.now();
    const results = await Promise.all(Array.from({ length: 50 }, () => countSignInFailure(subject, now)));
    expect(results.map((r) => r.account.failures).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await counter(signInThrottleKeys.account(accountHash(subject.email)))).toMatchObject({ failures: 50 });
    expect(await counter(signInThrottleKeys.source(subject.source))).toMatchObject({ failures: 50 });
  });

  it('25 concurrent wrong sign-ins from 25 addresses: every counted failure is in the counter, once', async () => {
    const email = `burst.${randomUUID().slice(0, 8)}@example.com`;
    const answers = await Promise.all(Array.from({ length: 25 }, () => signIn(email, WRONG, freshIp())));
    expect(answers.every((a) => a.statusCode === 401 || a.statusCode === 429)).toBe(true);
    await flushSecurityEvents();
    const events = await eventsAt(`account:${accountHash(email).slice(0, 16)}`);
    const failed = sumOf(events, 'sign_in_failed');
    expect(failed + sumOf(events, 'sign_in_locked')).toBe(25);
    expect(failed).toBeGreaterThanOrEqual(6);
    expect(await counter(signInThrottleKeys.account(accountHash(email)))).toMatchObject({ failures: failed });
  });
});

describe('POST /v1/sessions: the per-source throttle', () => {
  it('one address gets 100 free failures across accounts, then 429 for any account, a right password included', async () => {
    const ip = freshIp();
    const emails = Array.from({ length: 100 }, (_, i) => `stuffed.${i}.${randomUUID().slice(0, 6)}@example.com`);
    for (let i = 0; i < emails.length; i += 10) {
      const batch = await Promise.all(emails.slice(i, i + 10).map((e) => signIn(e, WRONG, ip)));
      expect(batch.map((r) => r.statusCode)).toEqual(Array(10).fill(401));
    }
    const next = await signIn(`stuffed.next@example.com`, WRONG, ip);
    expect(next.statusCode).toBe(429);
    expect(bodyOf(next).code).toBe('sign_in_locked');
    expect(next.headers?.['retry-after']).toBe('1');
    const { email } = await client();
    const fromThere = await signIn(email, PASSWORD, ip);
    expect(observed(fromThere)).toMatchObject({ status: 429, body: { code: 'sign_in_locked' } });
    expect((await signIn(email, PASSWORD, freshIp())).statusCode).toBe(200);

    // One address trying many accounts is a bounded number of items (20 targets, then '*'), counts exact.
    await flushSecurityEvents();
    const res = await ddb().send(
      new QueryCommand({
        TableName: table,
        IndexName: 'gsi3',
        KeyConditionExpression: 'gsi3pk = :p',
        FilterExpression: '#by = :by',
        ExpressionAttributeNames: { '#by': 'by' },
        ExpressionAttributeValues: { ':p': securityEventKeys.kindPartition('sign_in_failed'), ':by': `ip:${ip}` },
      }),
    );
    const items = (res.Items ?? []) as SecurityEventItem[];
    expect(items.length).toBeLessThanOrEqual(21);
    expect(items.reduce((n, i) => n + Number(i.count), 0)).toBe(101);
    const overflow = await counter(securityEventKeys.key(eventIdOf('sign_in_failed', `ip:${ip}`, '*', hourBucket(new Date()))));
    expect(Number(overflow?.count)).toBeGreaterThanOrEqual(81);
  });
});
