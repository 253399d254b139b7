/**
 * Shared user provisioning (functions/app/identity/provision-user.ts) against a real table on DynamoDB
 * Local, with Cognito replaced by a small STATEFUL fake (aws-sdk-client-mock), so orphaned users
 * really stay behind and a retry really meets UsernameExists.
 */

import { randomUUID } from 'node:crypto';
import {
  AdminAddUserToGroupCommand,
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminGetUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DeleteCommand, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ddb } from '#shared/clients.ts';
import type * as AuditModule from '#store/audit.ts';
import { auditKeys, clientKeys, staffKeys, uniqueEmailKeys } from '#store/keys.ts';
import { TEST_POOL_ENV, useHandlerEnv } from '../support/api-env.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

// commit() passes through to the real one unless a test makes it fail once.
const commitSpy = vi.hoisted(() => ({ failNext: undefined as Error | undefined }));
vi.mock('#store/audit.ts', async (importOriginal) => {
  const actual = await importOriginal<typeof AuditModule>();
  return {
    ...actual,
    commit: async (input: Parameters<typeof actual.commit>[0]) => {
      const err = commitSpy.failNext;
      commitSpy.failNext = undefined;
      if (err) throw err;
      return actual.commit(input);
    },
  };
});

const cognito = mockClient(CognitoIdentityProviderClient);
const bus = mockClient(EventBridgeClient);

let table: string;
type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string }>;
let registrations: Handler;
let sessions: Handler;
let me: Handler;
let staff: Handler;

beforeAll(async () => {
  table = await useHandlerEnv('provisioning', TEST_POOL_ENV);
  registrations = (await import('#functions/api/registrations.ts')).handler as Handler;
  sessions = (await import('#functions/api/sessions.ts')).handler as Handler;
  me = (await import('#functions/api/me.ts')).handler as Handler;
  staff = (await import('#functions/api/staff.ts')).handler as Handler;
});
afterAll(() => {
  cognito.restore();
  bus.restore();
});

// ------------------------------------------------------------------ a stateful fake Cognito

interface FakeUser {
  sub: string;
  status: string;
  password?: string;
  groups: string[];
  attributes: Record<string, string>;
}
const POOLS: Record<string, string> = { 'client-app': 'us-east-1_clients', 'staff-app': 'us-east-1_staff' };
const users = new Map<string, FakeUser>();
const userKey = (pool: string | undefined, name: string | undefined) => `${pool}|${name}`;
const awsError = (name: string) => Object.assign(new Error(name), { name });
const faults = { deleteFails: 0, setPasswordFails: 0 };
let gate: Promise<void> | undefined;
let onSetPassword: (() => void) | undefined;

beforeEach(() => {
  cognito.reset();
  bus.reset();
  users.clear();
  faults.deleteFails = 0;
  faults.setPasswordFails = 0;
  gate = undefined;
  onSetPassword = undefined;
  commitSpy.failNext = undefined;
  cognito.on(AdminCreateUserCommand).callsFake(async (input) => {
    const key = userKey(input.UserPoolId, input.Username);
    if (users.has(key)) throw awsError('UsernameExistsException');
    const sub = randomUUID();
    const attributes = Object.fromEntries(
      (input.UserAttributes ?? []).map((a: { Name: string; Value: string }) => [a.Name, a.Value]),
    );
    users.set(key, {
      sub,
      status: 'FORCE_CHANGE_PASSWORD',
      ...(input.TemporaryPassword ? { password: input.TemporaryPassword } : {}),
      groups: [],
      attributes,
    });
    return { User: { Attributes: [{ Name: 'sub', Value: sub }] } };
  });
  cognito.on(AdminGetUserCommand).callsFake(async (input) => {
    const u = users.get(userKey(input.UserPoolId, input.Username));
    if (!u) throw awsError('UserNotFoundException');
    return {
      Username: input.Username,
      Enabled: true,
      UserStatus: u.status,
      UserAttributes: [
        { Name: 'sub', Value: u.sub },
        { Name: 'email', Value: input.Username },
      ],
    };
  });
  cognito.on(AdminSetUserPasswordCommand).callsFake(async (input) => {
    onSetPassword?.();
    if (gate) await gate;
    if (faults.setPasswordFails > 0) {
      faults.setPasswordFails--;
      throw awsError('InternalErrorException');
    }
    const u = users.get(userKey(input.UserPoolId, input.Username));
    if (!u) throw awsError('UserNotFoundException');
    u.password = input.Password;
    u.status = input.Permanent ? 'CONFIRMED' : 'FORCE_CHANGE_PASSWORD';
    return {};
  });
  cognito.on(AdminAddUserToGroupCommand).callsFake(async (input) => {
    const u = users.get(userKey(input.UserPoolId, input.Username));
    if (!u) throw awsError('UserNotFoundException');
    if (!u.groups.includes(input.GroupName!)) u.groups.push(input.GroupName!);
    return {};
  });
  cognito.on(AdminDeleteUserCommand).callsFake(async (input) => {
    if (faults.deleteFails > 0) {
      faults.deleteFails--;
      throw awsError('InternalErrorException');
    }
    if (!users.delete(userKey(input.UserPoolId, input.Username))) throw awsError('UserNotFoundException');
    return {};
  });
  cognito.on(InitiateAuthCommand).callsFake(async (input) => {
    const u = users.get(userKey(POOLS[input.ClientId!], input.AuthParameters?.USERNAME));
    if (!u || u.password !== input.AuthParameters?.PASSWORD) throw awsError('NotAuthorizedException');
    return { AuthenticationResult: { IdToken: 'id', AccessToken: 'acc', ExpiresIn: 3600, TokenType: 'Bearer' } };
  });
});

const cognitoUser = (pool: 'client' | 'staff', email: string) =>
  users.get(userKey(pool === 'staff' ? 'us-east-1_staff' : 'us-east-1_clients', email));

// ------------------------------------------------------------------ helpers

const get = async (key: { pk: string; sk: string }) =>
  (await ddb().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
const scanAll = async () => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await ddb().send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start);
  return items;
};
const call = (h: Handler, input: Parameters<typeof apiEvent>[0]) => h(apiEvent(input), lambdaContext());

/** Time travel for one reservation: make it expired, as if RESERVATION_TTL_SECONDS had passed. */
const expireReservation = (email: string) =>
  ddb().send(
    new UpdateCommand({
      TableName: table,
      Key: uniqueEmailKeys.key(email),
      UpdateExpression: 'SET expiresAt = :past',
      ConditionExpression: '#s = :pending',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':past': Math.floor(Date.now() / 1000) - 1, ':pending': 'pending' },
    }),
  );

const registration = (over: Record<string, unknown> = {}) => ({
  email: `Orphan.${randomUUID().slice(0, 8)}@Example.com`,
  password: 'Sup3r-Secret!',
  firstName: 'Olga',
  lastName: 'Orphan',
  dateOfBirth: '1990-04-12',
  countryOfResidence: 'DE',
  clientType: 'retail',
  ...over,
});
const register = (body: unknown) => call(registrations, { method: 'POST', resource: '/v1/registrations', body });
const signIn = (email: string, password: string) =>
  call(sessions, { method: 'POST', resource: '/v1/sessions', body: { email, password } });
const admin = claimsFor('admin-1', ['admin']);
const createStaff = (body: unknown) => call(staff, { method: 'POST', resource: '/v1/admin/staff', claims: admin, body });

/** Everything the table holds about one email: its UNIQUE#EMAIL item and the profiles / staff items using it. */
async function stateOf(email: string) {
  const all = await scanAll();
  return {
    claim: all.find((i) => i.pk === uniqueEmailKeys.key(email).pk),
    profiles: all.filter((i) => i.type === 'client' && i.email === email),
    staffItems: all.filter((i) => i.type === 'staff' && i.email === email),
    registeredEvents: all.filter(
      (i) => i.type === 'outbox' && (i.detail as { clientId?: string } | undefined)?.clientId !== undefined,
    ),
  };
}

// ------------------------------------------------------------------ tests

describe('provisioning: reservation, orphans and compensation', () => {
  it('crash after createUser: the email stays reserved, then a retry adopts the orphan; one profile, one active claim', async () => {
    const body = registration();
    const email = body.email.toLowerCase();
    // The function "dies" in the commit: the commit fails and the compensation never reaches Cognito.
    commitSpy.failNext = new Error('Task timed out after 15.00 seconds');
    faults.deleteFails = 1;
    expect((await register(body)).statusCode).toBe(500);

    const orphan = cognitoUser('client', email)!;
    expect(orphan).toBeDefined();
    let state = await stateOf(email);
    expect(state.claim).toMatchObject({ status: 'pending', kind: 'client' });
    expect(state.claim!.ownerId).toBeUndefined();
    expect(state.claim!.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000));
    expect(state.profiles).toHaveLength(0);
    expect(await get(clientKeys.key(orphan.sub))).toBeUndefined();

    // Once the reservation has expired, the same email registers fine.
    await expireReservation(email);
    cognito.resetHistory();
    const retry = await register({ ...body, password: 'An0ther-Secret!' });
    expect(retry.statusCode).toBe(201);
    const { clientId } = bodyOf<{ clientId: string }>(retry);

    // The orphan was looked up (AdminGetUser), checked to have no profile and replaced by a fresh user.
    expect(cognito.commandCalls(AdminGetUserCommand)).toHaveLength(1);
    expect(cognito.commandCalls(AdminDeleteUserCommand)).toHaveLength(1);
    const adopted = cognitoUser('client', email)!;
    expect(clientId).toBe(adopted.sub);
    expect(clientId).not.toBe(orphan.sub);
    expect(adopted).toMatchObject({ status: 'CONFIRMED', password: 'An0ther-Secret!', groups: ['client'] });
    expect(adopted.attributes.email_verified).toBe('false');

    state = await stateOf(email);
    expect(state.profiles).toHaveLength(1);
    expect(state.profiles[0]).toMatchObject({ clientId, emailVerified: false });
    expect(state.claim).toMatchObject({ status: 'active', kind: 'client', ownerId: clientId, version: 2 });
    expect(state.claim!.expiresAt).toBeUndefined(); // an owned email must never be TTL-deleted
    expect(state.registeredEvents.filter((e) => (e.detail as { clientId: string }).clientId === clientId)).toHaveLength(1);
    expect(await get(auditKeys.item('client', clientId, 1))).toMatchObject({ action: 'client.registered' });
    expect(await get(auditKeys.head('client', orphan.sub))).toBeUndefined();

    expect((await signIn(email, 'An0ther-Secret!')).statusCode).toBe(200);
    const meRes = await call(me, { method: 'GET', resource: '/v1/me', claims: claimsFor(clientId, ['client']) });
    expect(bodyOf(meRes)).toMatchObject({ profile: { clientId, emailVerified: false } });
  });

  it('compensation failure: the reservation blocks the email until it expires, then the next registration adopts', async () => {
    const body = registration();
    const email = body.email.toLowerCase();
    faults.setPasswordFails = 1;
    faults.deleteFails = 1;
    expect((await register(body)).statusCode).toBe(500);
    const orphan = cognitoUser('client', email)!;
    expect(orphan).toBeDefined();
    expect((await stateOf(email)).claim).toMatchObject({ status: 'pending' });

    // The half-registered user owns nothing: the pool lookup ignores the reservation (the orphan has no
    // password here, so sign-in fails as invalid credentials), and a live reservation is a conflict.
    expect(bodyOf(await signIn(email, body.password)).code).toBe('invalid_credentials');
    const blocked = await register(body);
    expect(blocked.statusCode).toBe(409);
    expect(bodyOf(blocked).code).toBe('email_taken');

    await expireReservation(email);
    const later = await register(body);
    expect(later.statusCode).toBe(201);
    const { clientId } = bodyOf<{ clientId: string }>(later);
    expect(cognitoUser('client', email)!.sub).toBe(clientId);
    const state = await stateOf(email);
    expect(state.profiles).toHaveLength(1);
    expect(state.claim).toMatchObject({ status: 'active', ownerId: clientId });
  });

  it('a successful compensation deletes the Cognito user and releases the reservation: an immediate retry succeeds', async () => {
    const body = registration();
    const email = body.email.toLowerCase();
    commitSpy.failNext = new Error('boom');
    expect((await register(body)).statusCode).toBe(500);
    expect(cognitoUser('client', email)).toBeUndefined();
    expect((await stateOf(email)).claim).toBeUndefined();

    cognito.resetHistory();
    const retry = await register(body);
    expect(retry.statusCode).toBe(201);
    expect(cognito.commandCalls(AdminGetUserCommand)).toHaveLength(0); // nothing to adopt
    expect((await stateOf(email)).profiles).toHaveLength(1);
  });

  it('a live pending reservation blocks a concurrent second registration with 409, without touching Cognito', async () => {
    const body = registration();
    const email = body.email.toLowerCase();
    let open!: () => void;
    gate = new Promise<void>((r) => {
      open = r;
    });
    const reached = new Promise<void>((r) => {
      onSetPassword = r;
    });
    const first = register(body);
    await reached; // the first attempt holds the reservation and has created its Cognito user

    const second = await register({ ...body, email: body.email.toUpperCase(), firstName: 'Mallory' });
    expect(second.statusCode).toBe(409);
    expect(bodyOf(second).code).toBe('email_taken');
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(1);

    open();
    const done = await first;
    expect(done.statusCode).toBe(201);
    const state = await stateOf(email);
    expect(state.profiles).toHaveLength(1);
    expect(state.profiles[0]).toMatchObject({ firstName: 'Olga' });
    expect(state.claim).toMatchObject({ status: 'active', ownerId: bodyOf<{ clientId: string }>(done).clientId });
  });

  it('a Cognito user whose sub has a profile is not an orphan: 409, the user is left alone, the reservation released', async () => {
    const body = registration();
    const email = body.email.toLowerCase();
    const { clientId } = bodyOf<{ clientId: string }>(await register(body));
    // Inconsistent data: the profile exists but its email is unowned.
    await ddb().send(new DeleteCommand({ TableName: table, Key: uniqueEmailKeys.key(email) }));

    cognito.resetHistory();
    const res = await register({ ...body, password: 'Attack3r-Pass!' });
    expect(res.statusCode).toBe(409);
    expect(cognito.commandCalls(AdminDeleteUserCommand)).toHaveLength(0);
    expect(cognito.commandCalls(AdminSetUserPasswordCommand)).toHaveLength(0);
    expect(cognitoUser('client', email)).toMatchObject({ sub: clientId, password: body.password });
    expect(await get(clientKeys.key(clientId))).toBeDefined();
    expect((await stateOf(email)).claim).toBeUndefined();
  });

  it('a pending reservation signs in to nothing: a half-created user gets invalid_credentials without reaching Cognito', async () => {
    commitSpy.failNext = new Error('Task timed out');
    faults.deleteFails = 1;
    const res = await createStaff({
      email: 'half@demo.test',
      firstName: 'H',
      lastName: 'S',
      roles: ['finance'],
      temporaryPassword: 'Temp-Pass1!',
    });
    expect(res.statusCode).toBe(500);
    expect(cognitoUser('staff', 'half@demo.test')).toBeDefined();
    const signInRes = await signIn('half@demo.test', 'Temp-Pass1!');
    expect(signInRes.statusCode).toBe(401);
    expect(bodyOf(signInRes).code).toBe('invalid_credentials');
    expect(cognito.commandCalls(InitiateAuthCommand)).toHaveLength(0);
  });
});

describe('staff creation uses the same provisioning', () => {
  it('a crashed attempt blocks, then is adopted: the orphan is replaced, its stale role groups do not survive', async () => {
    const email = `ops.${randomUUID().slice(0, 8)}@demo.test`;
    commitSpy.failNext = new Error('Task timed out');
    faults.deleteFails = 1;
    expect((await createStaff({ email, firstName: 'O', lastName: 'P', roles: ['admin'] })).statusCode).toBe(500);
    const orphan = cognitoUser('staff', email)!;
    expect(orphan.groups).toEqual(['admin']);
    expect((await stateOf(email)).claim).toMatchObject({ status: 'pending', kind: 'staff' });

    // A client registration for the same address is blocked too (one namespace).
    expect((await register(registration({ email }))).statusCode).toBe(409);
    expect((await createStaff({ email, firstName: 'O', lastName: 'P', roles: ['sales'] })).statusCode).toBe(409);

    await expireReservation(email);
    const res = await createStaff({ email, firstName: 'O', lastName: 'P', roles: ['sales'], temporaryPassword: 'Temp-Pass1!' });
    expect(res.statusCode).toBe(201);
    const out = bodyOf<{ staffId: string; roles: string[] }>(res);
    const user = cognitoUser('staff', email)!;
    expect(out.staffId).toBe(user.sub);
    expect(out.staffId).not.toBe(orphan.sub);
    expect(user.groups).toEqual(['sales']);
    expect(user.attributes.email_verified).toBe('true');
    const state = await stateOf(email);
    expect(state.staffItems).toHaveLength(1);
    expect(await get(staffKeys.key(out.staffId))).toMatchObject({ roles: ['sales'] });
    expect(state.claim).toMatchObject({ status: 'active', kind: 'staff', ownerId: out.staffId });
    expect(state.claim!.expiresAt).toBeUndefined();
  });
});
