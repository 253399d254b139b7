/**
 * Whole journeys over HTTP against the local runtime: the same gateway, handlers, emulated Cognito,
 * stream relay, bus, queue and worker that `npm start` runs.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { ddb } from '#shared/clients.ts';
import { SECURITY_HEADERS } from '#shared/security-headers.ts';
import { emailKeys } from '#store/keys.ts';
import { useRuntime } from './harness.ts';

const e2e = useRuntime();

const registration = (email: string) => ({
  email,
  password: 'Str0ng-Passw0rd!',
  firstName: 'Émilie',
  lastName: 'Durand',
  dateOfBirth: '1991-02-03',
  countryOfResidence: 'FR',
  clientType: 'retail',
});

describe('a newcomer can reach the product', () => {
  it('answers /health and serves the OpenAPI document', async () => {
    const health = await e2e.call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', tenant: 'demo' });
    expect(health.headers.get('x-correlation-id')).toBeTruthy();
    const doc = await e2e.call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toContain('/v1/registrations');
  });

  it('has one seeded user per role, each able to sign in', async () => {
    for (const [email, role] of [
      ['client@demo.test', 'client'],
      ['partner@demo.test', 'partner'],
      ['sales@demo.test', 'sales'],
      ['compliance@demo.test', 'compliance'],
      ['finance@demo.test', 'finance'],
      ['admin@demo.test', 'admin'],
    ] as const) {
      const token = await e2e.signIn(email);
      expect(decodeJwt(token)['cognito:groups']).toContain(role);
      const me = await e2e.call('GET', '/v1/me', { token });
      expect(me.status).toBe(200);
      expect(me.body.roles).toContain(role);
    }
  });
});

describe('security headers and the gateway edge', () => {
  const expectSecurityHeaders = (headers: Headers, what: string) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(headers.get(name), `${what}: ${name}`).toBe(value);
  };

  it('every kind of response carries them: handler, handler error, gateway error, preflight', async () => {
    expectSecurityHeaders((await e2e.call('GET', '/health')).headers, 'GET /health');
    expectSecurityHeaders((await e2e.call('POST', '/v1/registrations', { body: {} })).headers, '400 from a handler');
    expectSecurityHeaders((await e2e.call('GET', '/v1/me')).headers, '401 from the gateway');
    expectSecurityHeaders((await e2e.call('GET', '/v1/nowhere')).headers, '404 from the gateway');
    const preflight = await fetch(`${e2e.rt.apiUrl}/v1/me`, { method: 'OPTIONS' });
    expectSecurityHeaders(preflight.headers, 'preflight');
    expect(SECURITY_HEADERS['content-security-policy']).toContain("frame-ancestors 'none'");
  });

  it('a body over 10 MB gets 413 body_too_large as problem+json, not a reset connection', async () => {
    const big = 'x'.repeat(11 * 1024 * 1024);
    const res = await fetch(`${e2e.rt.apiUrl}/v1/registrations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: big,
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('body_too_large');
  });
});

describe('registration journey', () => {
  it('registers, signs in, sees its profile, and leaves an audit trail compliance can read', async () => {
    const reg = await e2e.call('POST', '/v1/registrations', { body: registration('emilie@example.com') });
    expect(reg.status).toBe(201);
    const clientId = reg.body.clientId as string;

    const token = await e2e.signIn('emilie@example.com', 'Str0ng-Passw0rd!');
    const me = await e2e.call('GET', '/v1/me', { token });
    expect(me.body.profile).toMatchObject({ clientId, firstName: 'Émilie', countryOfResidence: 'FR' });
    expect(me.body.profile.password).toBeUndefined();

    const compliance = await e2e.signIn('compliance@demo.test');
    const trail = await e2e.call('GET', `/v1/admin/clients/${clientId}/audit`, { token: compliance });
    expect(trail.status).toBe(200);
    expect(trail.body.items.map((i: { action: string }) => i.action)).toContain('client.registered');
  });

  it('sends the welcome email through outbox -> stream -> bus -> queue -> worker, exactly once', async () => {
    await e2e.call('POST', '/v1/registrations', { body: registration('welcome@example.com') });
    await e2e.rt.settle();
    const res = await ddb().send(
      new QueryCommand({
        TableName: e2e.rt.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': emailKeys.recipientPartition('welcome@example.com') },
      }),
    );
    expect(res.Items?.length).toBe(1);
  });

  it('refuses a second registration with the same email (any case) and writes nothing', async () => {
    const again = await e2e.call('POST', '/v1/registrations', { body: registration('EMILIE@example.com') });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(again.body.code).toBe('email_taken');
  });
});

describe('bad input gets a specific problem+json and changes nothing', () => {
  const cases: [string, { raw?: string; body?: unknown; headers?: Record<string, string> }, number, string][] = [
    ['malformed JSON', { raw: '{"email":', headers: { 'content-type': 'application/json' } }, 400, 'malformed_json'],
    ['unknown field', { body: { ...registration('x1@example.com'), isAdmin: true } }, 400, 'validation_failed'],
    ['oversize body', { body: { ...registration('x2@example.com'), firstName: 'a'.repeat(70 * 1024) } }, 413, 'body_too_large'],
    ['bad email', { body: registration('not-an-email') }, 400, 'invalid_email'],
    ['weak password', { body: { ...registration('x3@example.com'), password: 'password' } }, 400, 'weak_password'],
    [
      'wrong content type',
      { raw: 'a=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
      415,
      'unsupported_media_type',
    ],
  ];
  for (const [name, req, status, code] of cases) {
    it(name, async () => {
      const r = await e2e.call('POST', '/v1/registrations', req);
      expect(r.status).toBe(status);
      expect(r.body.code).toBe(code);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    });
  }

  it('names the unknown field', async () => {
    const r = await e2e.call('POST', '/v1/registrations', { body: { ...registration('x4@example.com'), isAdmin: true } });
    expect(r.body.errors).toContainEqual(expect.objectContaining({ field: 'isAdmin', code: 'unknown_field' }));
    const signIn = await e2e.call('POST', '/v1/sessions', { body: { email: 'x4@example.com', password: 'Str0ng-Passw0rd!' } });
    expect(signIn.status).toBe(401);
  });

  it('wrong password and unknown email look the same', async () => {
    const a = await e2e.call('POST', '/v1/sessions', { body: { email: 'client@demo.test', password: 'Wrong-Passw0rd!' } });
    const b = await e2e.call('POST', '/v1/sessions', { body: { email: 'nobody@demo.test', password: 'Wrong-Passw0rd!' } });
    expect([a.status, b.status]).toEqual([401, 401]);
    expect(a.body.code).toBe('invalid_credentials');
    expect(b.body.code).toBe('invalid_credentials');
  });
});

describe("the attacker's run (issue 12): sign-in is throttled and leaves a trace", () => {
  it('200 wrong passwords at full speed, then the right one: 429 with Retry-After; an unknown email looks the same', async () => {
    const reg = await e2e.call('POST', '/v1/registrations', { body: registration('target@example.com') });
    const clientId = reg.body.clientId as string;
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      statuses.push(
        (await e2e.call('POST', '/v1/sessions', { body: { email: 'target@example.com', password: 'Wrong-Passw0rd!' } })).status,
      );
    }
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(195);
    const right = await e2e.call('POST', '/v1/sessions', { body: { email: 'target@example.com', password: 'Str0ng-Passw0rd!' } });
    expect(right.status).toBe(429);
    expect(right.body.code).toBe('sign_in_locked');
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(right.headers.get('access-control-expose-headers')).toContain('retry-after');

    const unknown: number[] = [];
    for (let i = 0; i < 6; i++) {
      unknown.push(
        (await e2e.call('POST', '/v1/sessions', { body: { email: 'ghost@example.com', password: 'Wrong-Passw0rd!' } })).status,
      );
    }
    expect(unknown).toEqual([401, 401, 401, 401, 401, 429]);

    const compliance = await e2e.signIn('compliance@demo.test');
    const events = await e2e.call('GET', '/v1/admin/security-events', { token: compliance });
    expect(events.status).toBe(200);
    expect(events.body.summary.byKind.sign_in_failed).toBeGreaterThanOrEqual(6);
    expect(events.body.summary.byKind.sign_in_locked).toBeGreaterThanOrEqual(1);
    expect(events.body.summary.topTargets.map((t: { target: string }) => t.target)).toContain(`client:${clientId}`);
    const trail = await e2e.call('GET', `/v1/admin/clients/${clientId}/audit`, { token: compliance });
    expect(trail.body.items.filter((i: { entryType: string }) => i.entryType === 'security-event').length).toBeGreaterThanOrEqual(
      1,
    );
  });
});

describe('authentication and authorisation at the edge', () => {
  it('401 for a missing, forged or tampered token', async () => {
    expect((await e2e.call('GET', '/v1/me')).status).toBe(401);
    const { privateKey } = await generateKeyPair('RS256');
    const real = decodeJwt(await e2e.signIn('client@demo.test'));
    const forged = await new SignJWT({ ...real }).setProtectedHeader({ alg: 'RS256', kid: 'forged' }).sign(privateKey);
    expect((await e2e.call('GET', '/v1/me', { token: forged })).status).toBe(401);
    const token = await e2e.signIn('client@demo.test');
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = [h, Buffer.from(JSON.stringify({ ...payload, 'cognito:groups': ['admin'] })).toString('base64url'), s].join(
      '.',
    );
    const r = await e2e.call('GET', '/v1/admin/staff', { token: tampered });
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('unauthenticated');
  });

  it('a client token on a staff route gets 403, on every staff route', async () => {
    const client = await e2e.signIn('client@demo.test');
    const me = await e2e.call('GET', '/v1/me', { token: client });
    const own = me.body.profile.clientId as string;
    for (const [method, path] of [
      ['GET', '/v1/admin/staff'],
      ['POST', '/v1/admin/staff'],
      ['GET', `/v1/admin/clients/${own}/audit`],
      ['POST', '/v1/admin/jobs/audit-verify/runs'],
    ] as const) {
      const r = await e2e.call(method, path, { token: client, ...(method === 'POST' ? { body: {} } : {}) });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.code).toBe('forbidden_role');
    }
  });

  it('staff without the right role are refused, with the right role allowed', async () => {
    const sales = await e2e.signIn('sales@demo.test');
    const finance = await e2e.signIn('finance@demo.test');
    const client = await e2e.signIn('client@demo.test');
    const clientId = (await e2e.call('GET', '/v1/me', { token: client })).body.profile.clientId;
    expect((await e2e.call('GET', `/v1/admin/clients/${clientId}/audit`, { token: sales })).status).toBe(403);
    expect((await e2e.call('GET', '/v1/admin/staff', { token: finance })).status).toBe(403);
    const admin = await e2e.signIn('admin@demo.test');
    expect((await e2e.call('GET', `/v1/admin/clients/${clientId}/audit`, { token: admin })).status).toBe(200);
  });

  it('only an admin creates staff, and the new staff member can sign in with their role', async () => {
    const admin = await e2e.signIn('admin@demo.test');
    const created = await e2e.call('POST', '/v1/admin/staff', {
      token: admin,
      body: {
        email: 'retention@demo.test',
        firstName: 'Rita',
        lastName: 'Retention',
        roles: ['retention'],
        temporaryPassword: 'Temp-Passw0rd!',
      },
    });
    expect(created.status).toBe(201);
    const list = await e2e.call('GET', '/v1/admin/staff?limit=100', { token: admin });
    expect(list.body.items.map((s: { email: string }) => s.email)).toContain('retention@demo.test');
  });
});

describe('jobs run on demand through the bus', () => {
  it('an admin runs the audit verification job and the run completes with no findings', async () => {
    const admin = await e2e.signIn('admin@demo.test');
    const r = await e2e.call('POST', '/v1/admin/jobs/audit-verify/runs', { token: admin });
    expect(r.status).toBe(202);
    const unknown = await e2e.call('POST', '/v1/admin/jobs/no-such-job/runs', { token: admin });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('job_not_found');
    await e2e.rt.settle();
    const { getJobRun } = await import('#store/job-runs.ts');
    let run = await getJobRun('audit-verify', r.body.runId);
    for (let i = 0; i < 50 && run?.status !== 'succeeded' && run?.status !== 'failed'; i++) {
      await new Promise((res) => setTimeout(res, 100));
      run = await getJobRun('audit-verify', r.body.runId);
    }
    expect(run?.status).toBe('succeeded');
    // The result is readable through the API: by admins, and by compliance for audit-verify.
    for (const token of [admin, await e2e.signIn('compliance@demo.test')]) {
      const read = await e2e.call('GET', `/v1/admin/jobs/audit-verify/runs/${r.body.runId}`, { token });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        runId: r.body.runId,
        status: 'succeeded',
        summary: { chainsBroken: 0, archivesMissing: 0 },
      });
    }
    const runs = await e2e.call('GET', '/v1/admin/jobs/audit-verify/runs', { token: admin });
    expect(runs.body.items.map((i: { runId: string }) => i.runId)).toContain(r.body.runId);
  });
});
