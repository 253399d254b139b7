/**
 * Identity handlers against a real table on DynamoDB Local, with Cognito (and EventBridge) mocked
 * by aws-sdk-client-mock.
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
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JOB_DETAIL_TYPE, JOB_SOURCE } from '#functions/manifest.ts';
import { ddb } from '#shared/clients.ts';
import { auditKeys, clientKeys, staffKeys, uniqueEmailKeys } from '#store/keys.ts';
import { TEST_POOL_ENV, useHandlerEnv } from '../support/api-env.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

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
let audit: Handler;
let jobs: Handler;

beforeAll(async () => {
  table = await useHandlerEnv('identity', TEST_POOL_ENV);
  registrations = (await import('#functions/api/registrations.ts')).handler as Handler;
  sessions = (await import('#functions/api/sessions.ts')).handler as Handler;
  me = (await import('#functions/api/me.ts')).handler as Handler;
  staff = (await import('#functions/api/staff.ts')).handler as Handler;
  audit = (await import('#functions/api/audit.ts')).handler as Handler;
  jobs = (await import('#functions/api/jobs.ts')).handler as Handler;
});
afterAll(() => {
  cognito.restore();
  bus.restore();
});

let nextSub = '';
beforeEach(() => {
  cognito.reset();
  bus.reset();
  cognito.on(AdminCreateUserCommand).callsFake(async () => {
    nextSub = randomUUID();
    return { User: { Attributes: [{ Name: 'sub', Value: nextSub }] } };
  });
  cognito.on(AdminSetUserPasswordCommand).resolves({});
  cognito.on(AdminAddUserToGroupCommand).resolves({});
  cognito.on(AdminDeleteUserCommand).resolves({});
});

const get = async (key: { pk: string; sk: string }) =>
  (await ddb().send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
const count = async () =>
  (await ddb().send(new ScanCommand({ TableName: table, Select: 'COUNT', ConsistentRead: true }))).Count ?? 0;
const call = (h: Handler, input: Parameters<typeof apiEvent>[0]) => h(apiEvent(input), lambdaContext());

const registration = (over: Record<string, unknown> = {}) => ({
  email: `Alice.${randomUUID().slice(0, 8)}@Example.com`,
  password: 'Sup3r-Secret!',
  firstName: 'Alice',
  lastName: 'Trader',
  dateOfBirth: '1990-04-12',
  countryOfResidence: 'DE',
  clientType: 'retail',
  referralCode: 'IB-42',
  marketingSource: { utmSource: 'google' },
  ...over,
});
const register = (body: unknown) => call(registrations, { method: 'POST', resource: '/v1/registrations', body });

const admin = claimsFor('admin-1', ['admin']);
const compliance = claimsFor('compliance-1', ['compliance']);

describe('POST /v1/registrations', () => {
  it('writes profile + unique email + audit + outbox in one commit and answers 201', async () => {
    const body = registration();
    const res = await register(body);
    expect(res.statusCode).toBe(201);
    const out = bodyOf<{ clientId: string; status: string; onboarding: unknown }>(res);
    expect(out).toEqual({ clientId: nextSub, status: 'active', onboarding: { stage: 'registered', next: 'complete_profile' } });

    const email = body.email.toLowerCase();
    const create = cognito.commandCalls(AdminCreateUserCommand)[0]!.args[0].input;
    expect(create).toMatchObject({ UserPoolId: 'us-east-1_clients', Username: email, MessageAction: 'SUPPRESS' });
    expect(create.UserAttributes).toContainEqual({ Name: 'email_verified', Value: 'false' });
    expect(cognito.commandCalls(AdminSetUserPasswordCommand)[0]!.args[0].input).toMatchObject({ Permanent: true });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand)[0]!.args[0].input).toMatchObject({ GroupName: 'client' });

    const profile = await get(clientKeys.key(out.clientId));
    expect(profile).toMatchObject({
      type: 'client',
      tenant: 'demo',
      version: 1,
      email,
      countryOfResidence: 'DE',
      jurisdiction: 'EU',
    });
    expect(JSON.stringify(profile)).not.toContain(body.password);
    expect(await get(uniqueEmailKeys.key(email))).toMatchObject({ kind: 'client', ownerId: out.clientId });
    expect(await get(auditKeys.item('client', out.clientId, 1))).toMatchObject({
      action: 'client.registered',
      actor: { id: out.clientId, role: 'client' },
      before: null,
    });
    const outbox = await ddb().send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        FilterExpression: '#t = :o AND detail.clientId = :c',
        ExpressionAttributeNames: { '#t': 'type' },
        ExpressionAttributeValues: { ':o': 'outbox', ':c': out.clientId },
      }),
    );
    expect(outbox.Items).toHaveLength(1);
    expect(outbox.Items![0]).toMatchObject({
      detailType: 'client.registered',
      detail: { clientId: out.clientId, country: 'DE', clientType: 'retail', referralCode: 'IB-42', locale: 'en' },
    });
  });

  it('a duplicate email (any case) is 409 email_taken and writes nothing new', async () => {
    const body = registration();
    expect((await register(body)).statusCode).toBe(201);
    cognito.resetHistory();
    const before = await count();
    const res = await register({ ...body, email: body.email.toUpperCase() });
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).code).toBe('email_taken');
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
    expect(await count()).toBe(before);
  });

  it('Cognito UsernameExists that survives replacing the orphan is 409 email_taken', async () => {
    cognito.on(AdminCreateUserCommand).rejects(Object.assign(new Error('exists'), { name: 'UsernameExistsException' }));
    cognito.on(AdminGetUserCommand).rejects(Object.assign(new Error('gone'), { name: 'UserNotFoundException' }));
    const before = await count();
    const res = await register(registration());
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).code).toBe('email_taken');
    expect(await count()).toBe(before);
  });

  it('Cognito ok but the transaction fails => the Cognito user is deleted (compensation)', async () => {
    const body = registration();
    // A concurrent registration claims the email between the pre-check and the commit.
    cognito.on(AdminAddUserToGroupCommand).callsFake(async () => {
      await ddb().send(
        new PutCommand({
          TableName: table,
          Item: {
            ...uniqueEmailKeys.key(body.email),
            type: 'unique-email',
            kind: 'client',
            ownerId: 'someone-else',
            tenant: 'demo',
            createdAt: new Date().toISOString(),
            updatedAt: new Date().toISOString(),
            version: 1,
          },
        }),
      );
      return {};
    });
    const res = await register(body);
    expect(res.statusCode).toBe(409);
    expect(bodyOf(res).code).toBe('email_taken');
    expect(cognito.commandCalls(AdminDeleteUserCommand)[0]!.args[0].input).toMatchObject({
      UserPoolId: 'us-east-1_clients',
      Username: body.email.toLowerCase(),
    });
    expect(await get(clientKeys.key(nextSub))).toBeUndefined();
    expect(await get(auditKeys.head('client', nextSub))).toBeUndefined();
  });

  it.each([
    ['invalid_email', { email: 'not-an-email' }],
    ['weak_password', { password: 'password' }],
    ['underage', { dateOfBirth: `${new Date().getUTCFullYear() - 17}-01-01` }],
    ['invalid_date', { dateOfBirth: '1990-02-30' }],
    ['country_restricted', { countryOfResidence: 'US' }],
    ['country_not_served', { countryOfResidence: 'JP' }],
    ['invalid_country', { countryOfResidence: 'germany' }],
    ['unsupported_locale', { locale: 'fr' }],
    ['validation_failed', { extra: 'field' }],
  ])('bad input => 400 %s and nothing written', async (code, over) => {
    const before = await count();
    const res = await register(registration(over));
    expect(res.statusCode).toBe(400);
    expect(bodyOf(res).code).toBe(code);
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
    expect(await count()).toBe(before);
  });

  it('weak_password names every violation in errors[]', async () => {
    const res = await register(registration({ password: 'abc' }));
    const errors = bodyOf<{ errors: { field: string; code: string }[] }>(res).errors;
    expect(errors.length).toBe(4);
    expect(errors.every((e) => e.field === 'password' && e.code === 'weak_password')).toBe(true);
  });
});

describe('POST /v1/sessions', () => {
  it('wrong credentials and unknown emails are both 401 invalid_credentials', async () => {
    const body = registration();
    await register(body);
    cognito.on(InitiateAuthCommand).rejects(Object.assign(new Error('x'), { name: 'NotAuthorizedException' }));
    const wrong = await call(sessions, {
      method: 'POST',
      resource: '/v1/sessions',
      body: { email: body.email, password: 'Wrong-pass1!' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(bodyOf(wrong).code).toBe('invalid_credentials');
    cognito.on(InitiateAuthCommand).rejects(Object.assign(new Error('x'), { name: 'UserNotFoundException' }));
    const unknown = await call(sessions, {
      method: 'POST',
      resource: '/v1/sessions',
      body: { email: 'nobody@example.com', password: 'Whatever1!' },
    });
    expect(unknown.statusCode).toBe(401);
    expect(bodyOf(unknown).code).toBe('invalid_credentials');
  });

  it('returns tokens; the pool is chosen by the email owner kind', async () => {
    cognito.on(InitiateAuthCommand).resolves({
      AuthenticationResult: { IdToken: 'id', AccessToken: 'acc', RefreshToken: 'ref', ExpiresIn: 3600, TokenType: 'Bearer' },
    });
    const body = registration();
    await register(body);
    const res = await call(sessions, {
      method: 'POST',
      resource: '/v1/sessions',
      body: { email: body.email, password: body.password },
    });
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res)).toEqual({ idToken: 'id', accessToken: 'acc', refreshToken: 'ref', expiresIn: 3600, tokenType: 'Bearer' });
    expect(cognito.commandCalls(InitiateAuthCommand)[0]!.args[0].input).toMatchObject({
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: 'client-app',
    });

    const created = await call(staff, {
      method: 'POST',
      resource: '/v1/admin/staff',
      claims: admin,
      body: { email: 'ops@demo.test', firstName: 'O', lastName: 'P', roles: ['finance'] },
    });
    expect(created.statusCode).toBe(201);
    cognito.resetHistory();
    await call(sessions, { method: 'POST', resource: '/v1/sessions', body: { email: 'OPS@demo.test', refreshToken: 'r' } });
    expect(cognito.commandCalls(InitiateAuthCommand)[0]!.args[0].input).toMatchObject({
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: 'staff-app',
    });
  });
});

describe('GET /v1/me', () => {
  it('a client gets its own profile, onboarding state and roles, never a password', async () => {
    const body = registration();
    const { clientId } = bodyOf<{ clientId: string }>(await register(body));
    const res = await call(me, { method: 'GET', resource: '/v1/me', claims: claimsFor(clientId, ['client']) });
    expect(res.statusCode).toBe(200);
    const out = bodyOf<Record<string, unknown>>(res);
    expect(out).toMatchObject({
      kind: 'client',
      profile: { clientId, firstName: 'Alice' },
      onboarding: { stage: 'registered', kycStatus: 'not_started', next: 'complete_profile' },
      roles: ['client'],
    });
    expect(res.body).not.toContain(body.password);
  });
  it('a signed-in caller without a profile is 404 profile_not_found', async () => {
    const res = await call(me, { method: 'GET', resource: '/v1/me', claims: claimsFor('ghost', ['client']) });
    expect(res.statusCode).toBe(404);
    expect(bodyOf(res).code).toBe('profile_not_found');
  });
});

describe('GET /v1/admin/clients/{clientId}/audit', () => {
  it('a client cannot read the admin audit route, not even its own trail, nor another client', async () => {
    const a = bodyOf<{ clientId: string }>(await register(registration())).clientId;
    const b = bodyOf<{ clientId: string }>(await register(registration())).clientId;
    for (const target of [a, b]) {
      const res = await call(audit, {
        method: 'GET',
        resource: '/v1/admin/clients/{clientId}/audit',
        pathParameters: { clientId: target },
        claims: claimsFor(a, ['client']),
      });
      expect(res.statusCode).toBe(403);
    }
  });

  it('compliance reads the trail newest first with cursor pagination; unknown client is 404', async () => {
    const { clientId } = bodyOf<{ clientId: string }>(await register(registration()));
    const { commit } = await import('#store/audit.ts');
    await commit({
      writes: [],
      audit: {
        actor: { id: 'compliance-1', role: 'compliance' },
        action: 'client.noted',
        entity: { type: 'client', id: clientId },
        clientId,
        before: null,
        after: { note: 1 },
        requestId: 'r',
      },
    });
    const page1 = await call(audit, {
      method: 'GET',
      resource: '/v1/admin/clients/{clientId}/audit',
      pathParameters: { clientId },
      query: { limit: '1' },
      claims: compliance,
    });
    expect(page1.statusCode).toBe(200);
    const p1 = bodyOf<{ items: { action: string }[]; nextCursor: string; hasMore: boolean }>(page1);
    expect(p1.items.map((i) => i.action)).toEqual(['client.noted']);
    expect(p1.hasMore).toBe(true);
    const page2 = bodyOf<{ items: { action: string }[]; hasMore: boolean; nextCursor?: string }>(
      await call(audit, {
        method: 'GET',
        resource: '/v1/admin/clients/{clientId}/audit',
        pathParameters: { clientId },
        query: { limit: '1', cursor: p1.nextCursor },
        claims: compliance,
      }),
    );
    expect(page2.items.map((i) => i.action)).toEqual(['client.registered']);
    expect(page2.hasMore).toBe(false);
    expect(page2.nextCursor).toBeUndefined();

    const bad = await call(audit, {
      method: 'GET',
      resource: '/v1/admin/clients/{clientId}/audit',
      pathParameters: { clientId },
      query: { cursor: 'eyJ4IjoxfQ' },
      claims: compliance,
    });
    expect(bad.statusCode).toBe(400);
    expect(bodyOf(bad).code).toBe('invalid_cursor');
    const missing = await call(audit, {
      method: 'GET',
      resource: '/v1/admin/clients/{clientId}/audit',
      pathParameters: { clientId: 'nope' },
      claims: compliance,
    });
    expect(missing.statusCode).toBe(404);
    expect(bodyOf(missing).code).toBe('client_not_found');
  });
});

describe('staff users: admin only', () => {
  it('an admin creates a staff user: Cognito user in the staff pool, one group per role, STAFF item, unique email, audit', async () => {
    const res = await call(staff, {
      method: 'POST',
      resource: '/v1/admin/staff',
      claims: admin,
      body: {
        email: 'Eve@demo.test',
        firstName: 'Eve',
        lastName: 'C',
        roles: ['compliance', 'sales'],
        temporaryPassword: 'Temp-Pass1!',
      },
    });
    expect(res.statusCode).toBe(201);
    const out = bodyOf<{ staffId: string; roles: string[] }>(res);
    expect(cognito.commandCalls(AdminCreateUserCommand)[0]!.args[0].input).toMatchObject({
      UserPoolId: 'us-east-1_staff',
      Username: 'eve@demo.test',
      TemporaryPassword: 'Temp-Pass1!',
    });
    expect(cognito.commandCalls(AdminAddUserToGroupCommand).map((c) => c.args[0].input.GroupName)).toEqual([
      'compliance',
      'sales',
    ]);
    expect(await get(staffKeys.key(out.staffId))).toMatchObject({
      type: 'staff',
      roles: ['compliance', 'sales'],
      createdBy: 'admin-1',
    });
    expect(await get(uniqueEmailKeys.key('eve@demo.test'))).toMatchObject({ kind: 'staff', ownerId: out.staffId });
    expect(await get(auditKeys.item('staff', out.staffId, 1))).toMatchObject({
      action: 'staff.created',
      actor: { id: 'admin-1', role: 'admin' },
    });

    const meRes = await call(me, { method: 'GET', resource: '/v1/me', claims: claimsFor(out.staffId, ['compliance', 'sales']) });
    expect(bodyOf(meRes)).toMatchObject({ kind: 'staff', profile: { staffId: out.staffId }, roles: ['compliance', 'sales'] });
  });

  it('non-admins (compliance, client) get 403; bad roles are 400', async () => {
    for (const claims of [compliance, claimsFor('c1', ['client'])]) {
      const res = await call(staff, {
        method: 'POST',
        resource: '/v1/admin/staff',
        claims,
        body: { email: 'x@demo.test', firstName: 'X', lastName: 'Y', roles: ['finance'] },
      });
      expect(res.statusCode).toBe(403);
    }
    for (const roles of [[], ['client'], ['finance', 'finance']]) {
      const res = await call(staff, {
        method: 'POST',
        resource: '/v1/admin/staff',
        claims: admin,
        body: { email: 'x@demo.test', firstName: 'X', lastName: 'Y', roles },
      });
      expect(res.statusCode).toBe(400);
    }
    expect(cognito.commandCalls(AdminCreateUserCommand)).toHaveLength(0);
  });

  it('lists staff newest first with a cursor', async () => {
    for (const n of [1, 2, 3]) {
      await call(staff, {
        method: 'POST',
        resource: '/v1/admin/staff',
        claims: admin,
        body: { email: `list${n}@demo.test`, firstName: 'L', lastName: `${n}`, roles: ['sales'] },
      });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await call(staff, {
        method: 'GET',
        resource: '/v1/admin/staff',
        claims: admin,
        query: { limit: '2', ...(cursor ? { cursor } : {}) },
      });
      expect(res.statusCode).toBe(200);
      const page = bodyOf<{ items: { email: string; createdAt: string }[]; nextCursor?: string; hasMore: boolean }>(res);
      seen.push(...page.items.map((i) => i.createdAt));
      cursor = page.hasMore ? page.nextCursor : undefined;
    } while (cursor);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect([...seen].sort().reverse()).toEqual(seen);
  });
});

describe('POST /v1/admin/jobs/{job}/runs', () => {
  it('writes a run + audit and puts the request on the bus; unknown jobs are 404', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const res = await call(jobs, {
      method: 'POST',
      resource: '/v1/admin/jobs/{job}/runs',
      pathParameters: { job: 'audit-verify' },
      claims: admin,
    });
    expect(res.statusCode).toBe(202);
    const out = bodyOf<{ runId: string; job: string; status: string }>(res);
    expect(out).toMatchObject({ job: 'audit-verify', status: 'requested' });
    const entry = bus.commandCalls(PutEventsCommand)[0]!.args[0].input.Entries![0]!;
    expect(entry).toMatchObject({ Source: JOB_SOURCE, DetailType: JOB_DETAIL_TYPE, EventBusName: 'bus' });
    expect(JSON.parse(entry.Detail!)).toEqual({ job: 'audit-verify', runId: out.runId, requestedBy: 'admin-1' });
    expect(await get({ pk: 'JOB#audit-verify', sk: `RUN#${out.runId}` })).toMatchObject({ type: 'job-run', status: 'requested' });
    const trail = await ddb().send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': auditKeys.partition('job', 'audit-verify') },
      }),
    );
    expect((trail.Items ?? []).some((i) => i.action === 'job.run.requested')).toBe(true);

    const unknown = await call(jobs, {
      method: 'POST',
      resource: '/v1/admin/jobs/{job}/runs',
      pathParameters: { job: 'nope' },
      claims: admin,
    });
    expect(unknown.statusCode).toBe(404);
    expect(bodyOf(unknown).code).toBe('job_not_found');
  });

  it('psp-reconciliation takes a report date and a provider, carried to the job and recorded on the run', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const res = await call(jobs, {
      method: 'POST',
      resource: '/v1/admin/jobs/{job}/runs',
      pathParameters: { job: 'psp-reconciliation' },
      claims: admin,
      body: { date: '2026-11-20', provider: 'sandbox' },
    });
    expect(res.statusCode, res.body).toBe(202);
    const out = bodyOf<{ runId: string }>(res);
    expect(out).toMatchObject({ job: 'psp-reconciliation', parameters: { date: '2026-11-20', provider: 'sandbox' } });
    const entry = bus.commandCalls(PutEventsCommand).at(-1)!.args[0].input.Entries![0]!;
    expect(JSON.parse(entry.Detail!)).toEqual({
      job: 'psp-reconciliation',
      runId: out.runId,
      requestedBy: 'admin-1',
      date: '2026-11-20',
      provider: 'sandbox',
    });
    expect(await get({ pk: 'JOB#psp-reconciliation', sk: `RUN#${out.runId}` })).toMatchObject({
      parameters: { date: '2026-11-20', provider: 'sandbox' },
    });
  });

  it('a parameter the job does not take, an impossible or future date, an unknown provider: 400, nothing written or sent', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e' }] });
    const sent = bus.commandCalls(PutEventsCommand).length;
    const future = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const cases: [string, unknown, string][] = [
      ['audit-verify', { date: '2026-11-20' }, 'job_parameter_unsupported'],
      ['psp-reconciliation', { date: '2026-02-30' }, 'invalid_report_date'],
      ['psp-reconciliation', { date: '20-11-2026' }, 'invalid_report_date'],
      ['psp-reconciliation', { date: future }, 'report_date_in_future'],
      ['psp-reconciliation', { provider: 'paypal' }, 'unknown_provider'],
      ['psp-reconciliation', { day: '2026-11-20' }, 'validation_failed'],
    ];
    for (const [job, body, code] of cases) {
      const runs = await ddb().send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': `JOB#${job}` },
        }),
      );
      const res = await call(jobs, {
        method: 'POST',
        resource: '/v1/admin/jobs/{job}/runs',
        pathParameters: { job },
        claims: admin,
        body,
      });
      expect([res.statusCode, bodyOf(res).code], JSON.stringify(body)).toEqual([400, code]);
      const after = await ddb().send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': `JOB#${job}` },
        }),
      );
      expect(after.Items?.length).toBe(runs.Items?.length);
    }
    expect(bus.commandCalls(PutEventsCommand).length).toBe(sent);
  });
});
