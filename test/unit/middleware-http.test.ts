import type { APIGatewayProxyResult } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { assertOwnerOrStaff, defineRoute, httpHandler } from '#middleware/http.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';
import { useDemoTenant } from '../support/tenant.ts';

beforeAll(() => {
  process.env.STAGE = 'local';
  useDemoTenant();
});

const CreateThing = z.strictObject({
  name: z.string().min(2).max(40),
  amount: z.string().regex(/^\d+$/),
  address: z.strictObject({ country: z.string().length(2) }).optional(),
});

const Password = z.strictObject({
  password: z
    .string()
    .refine((p) => p.length >= 12, { message: 'Use at least 12 characters', params: { code: 'weak_password' } })
    .refine((p) => /\d/.test(p), { message: 'Add a digit', params: { code: 'weak_password' } }),
});

const ClientParams = z.strictObject({ clientId: z.string().min(3).max(40) });
const ListQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(100).optional() });

const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/things',
    operationId: 'createThing',
    summary: 'Create a thing',
    tags: ['test'],
    auth: 'authenticated',
    body: CreateThing,
    responses: { 201: { description: 'created' } },
    handler: async ({ body, caller, locale }) => ({
      status: 201,
      body: { name: body.name, amount: BigInt(body.amount) * 2n, owner: caller?.sub, locale },
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/things',
    operationId: 'listThings',
    summary: 'List',
    tags: ['test'],
    auth: ['admin', 'finance'],
    query: ListQuery,
    responses: { 200: { description: 'ok' } },
    handler: async ({ query }) => ({ status: 200, body: { limit: query.limit ?? 20 } }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/passwords',
    operationId: 'setPassword',
    summary: 'Password',
    tags: ['test'],
    auth: 'public',
    body: Password,
    responses: { 204: { description: 'done' } },
    handler: async () => ({ status: 204 }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/clients/{clientId}/audit',
    operationId: 'clientAudit',
    summary: 'Audit',
    tags: ['test'],
    auth: ['client', 'compliance', 'admin', 'sales'],
    params: ClientParams,
    responses: { 200: { description: 'ok' } },
    handler: async ({ params, caller }) => {
      assertOwnerOrStaff(caller, params.clientId, ['compliance', 'admin']);
      return { status: 200, body: { clientId: params.clientId } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/public',
    operationId: 'publicThing',
    summary: 'Public',
    tags: ['test'],
    auth: 'public',
    responses: { 200: { description: 'ok' } },
    handler: async ({ caller, body }) => ({ status: 200, body: { caller: caller?.sub ?? null, body: body ?? null } }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/boom',
    operationId: 'boom',
    summary: 'Fails',
    tags: ['test'],
    auth: 'public',
    responses: { 200: { description: 'never' } },
    handler: async () => {
      throw new Error('database password is hunter2');
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/conflict',
    operationId: 'conflict',
    summary: 'Domain error',
    tags: ['test'],
    auth: 'public',
    responses: { 200: { description: 'never' } },
    handler: async () => {
      throw new DomainError('email_taken', 'conflict', 'This email is already registered.');
    },
  }),
];

const handler = httpHandler(...routes);
const call = (e: Parameters<typeof apiEvent>[0]): Promise<APIGatewayProxyResult> => handler(apiEvent(e), lambdaContext());
const client = claimsFor('client-1', ['client']);
const admin = claimsFor('staff-1', ['admin']);

function expectProblem(res: APIGatewayProxyResult, status: number, code: string) {
  expect(res.statusCode).toBe(status);
  expect(res.headers?.['content-type']).toBe('application/problem+json');
  const p = bodyOf(res);
  expect(p).toMatchObject({ status, code, type: `https://errors.backoffice.dev/${code}` });
  expect(typeof p.title).toBe('string');
  expect(typeof p.detail).toBe('string');
  expect(p.correlationId).toBe(res.headers?.['x-correlation-id']);
  return p as { detail: string; errors?: { field: string; code: string; message: string }[]; instance: string };
}

describe('routing', () => {
  it('an unknown path is 404 route_not_found', async () => {
    expectProblem(await call({ method: 'GET', resource: '/v1/nope' }), 404, 'route_not_found');
  });
  it('a known path with another method is 405 method_not_allowed with allow', async () => {
    const res = await call({ method: 'DELETE', resource: '/v1/things', claims: admin });
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers?.allow).toBe('POST, GET');
  });
  it('problem instance is the request path', async () => {
    const res = await call({
      method: 'GET',
      resource: '/v1/admin/clients/{clientId}/audit',
      pathParameters: { clientId: 'other-9' },
      claims: client,
    });
    expect(expectProblem(res, 404, 'not_found').instance).toBe('/v1/admin/clients/other-9/audit');
  });
});

describe('auth', () => {
  it('a non-public route without claims is 401 unauthenticated', async () => {
    expectProblem(
      await call({ method: 'POST', resource: '/v1/things', body: { name: 'ab', amount: '1' } }),
      401,
      'unauthenticated',
    );
  });
  it('claims without a subject are 401', async () => {
    expectProblem(await call({ method: 'GET', resource: '/v1/things', claims: { email: 'x@y.z' } }), 401, 'unauthenticated');
  });
  it('a role outside the route roles is 403 forbidden_role', async () => {
    expectProblem(await call({ method: 'GET', resource: '/v1/things', claims: client }), 403, 'forbidden_role');
  });
  it.each([
    ['[admin finance]', 200],
    ['["finance"]', 200],
    ['client,finance', 200],
    ['client sales', 403],
    [['admin'], 200],
  ])('cognito:groups %j is parsed (status %i)', async (groups, status) => {
    const res = await call({ method: 'GET', resource: '/v1/things', claims: { sub: 's', 'cognito:groups': groups } });
    expect(res.statusCode).toBe(status);
  });
  it("a client on another client's resource is 404 not_found (existence not revealed)", async () => {
    const res = await call({
      method: 'GET',
      resource: '/v1/admin/clients/{clientId}/audit',
      pathParameters: { clientId: 'client-2' },
      claims: client,
    });
    expectProblem(res, 404, 'not_found');
  });
  it('a client on its own resource passes', async () => {
    const res = await call({
      method: 'GET',
      resource: '/v1/admin/clients/{clientId}/audit',
      pathParameters: { clientId: 'client-1' },
      claims: client,
    });
    expect(res.statusCode).toBe(200);
  });
  it('staff without one of the staff roles get 403 forbidden_role', async () => {
    const res = await call({
      method: 'GET',
      resource: '/v1/admin/clients/{clientId}/audit',
      pathParameters: { clientId: 'client-1' },
      claims: claimsFor('s2', ['sales']),
    });
    expectProblem(res, 403, 'forbidden_role');
  });
  it('staff with a staff role pass', async () => {
    const res = await call({
      method: 'GET',
      resource: '/v1/admin/clients/{clientId}/audit',
      pathParameters: { clientId: 'client-1' },
      claims: admin,
    });
    expect(res.statusCode).toBe(200);
  });
  it('public routes parse claims when present and give null otherwise', async () => {
    expect(bodyOf(await call({ method: 'GET', resource: '/v1/public' })).caller).toBeNull();
    expect(bodyOf(await call({ method: 'GET', resource: '/v1/public', claims: client })).caller).toBe('client-1');
  });
  it('assertOwnerOrStaff throws DomainErrors with stable codes', () => {
    const c = { sub: 'c1', email: '', roles: ['client' as const], isStaff: false };
    expect(() => assertOwnerOrStaff(c, 'c2', ['admin'])).toThrow(
      expect.objectContaining({ code: 'not_found', kind: 'not_found' }),
    );
    expect(() => assertOwnerOrStaff(null, 'c2', ['admin'])).toThrow(DomainError);
    expect(() => assertOwnerOrStaff({ sub: 's', email: '', roles: ['finance'], isStaff: true }, 'c2', ['admin'])).toThrow(
      expect.objectContaining({ code: 'forbidden_role', kind: 'forbidden' }),
    );
  });
});

describe('body', () => {
  it('malformed JSON is 400 malformed_json', async () => {
    expectProblem(
      await call({
        method: 'POST',
        resource: '/v1/things',
        claims: client,
        body: '{"name": ',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      'malformed_json',
    );
  });
  it('a body over 64 KiB is 413 body_too_large', async () => {
    const res = await call({
      method: 'POST',
      resource: '/v1/things',
      claims: client,
      body: { name: 'x'.repeat(70_000), amount: '1' },
    });
    expectProblem(res, 413, 'body_too_large');
  });
  it('a non-JSON content type is 415 unsupported_media_type', async () => {
    const res = await call({
      method: 'POST',
      resource: '/v1/things',
      claims: client,
      body: 'name=ab',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(res, 415, 'unsupported_media_type');
  });
  it('application/json with a charset is accepted', async () => {
    const res = await call({
      method: 'POST',
      resource: '/v1/things',
      claims: client,
      body: '{"name":"ab","amount":"1"}',
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    expect(res.statusCode).toBe(201);
  });
  it('a missing body on a route with a body schema is 400 validation_failed', async () => {
    const p = expectProblem(await call({ method: 'POST', resource: '/v1/things', claims: client }), 400, 'validation_failed');
    expect(p.errors).toEqual([expect.objectContaining({ field: 'body', code: 'invalid_type' })]);
  });
  it('a body sent to a route without a body schema is ignored', async () => {
    const res = await call({
      method: 'GET',
      resource: '/v1/public',
      body: 'not json',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.statusCode).toBe(200);
    expect(bodyOf(res).body).toBeNull();
  });
});

describe('validation', () => {
  it('unknown fields are unknown_field errors naming the key (nested too)', async () => {
    const res = await call({
      method: 'POST',
      resource: '/v1/things',
      claims: client,
      body: { name: 'ab', amount: '1', admin: true, address: { country: 'DE', zip: '1' } },
    });
    const p = expectProblem(res, 400, 'validation_failed');
    expect(p.errors).toEqual(
      expect.arrayContaining([
        { field: 'admin', code: 'unknown_field', message: expect.any(String) },
        { field: 'address.zip', code: 'unknown_field', message: expect.any(String) },
      ]),
    );
  });
  it('every failing field is reported with a stable code', async () => {
    const p = expectProblem(
      await call({
        method: 'POST',
        resource: '/v1/things',
        claims: client,
        body: { name: 'a', amount: 'x', address: { country: 5 } },
      }),
      400,
      'validation_failed',
    );
    expect(p.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'name', code: 'too_small' }),
        expect.objectContaining({ field: 'amount', code: 'invalid_format' }),
        expect.objectContaining({ field: 'address.country', code: 'invalid_type' }),
      ]),
    );
  });
  it('a refinement code shared by all issues becomes the problem code', async () => {
    const p = expectProblem(
      await call({ method: 'POST', resource: '/v1/passwords', body: { password: 'short' } }),
      400,
      'weak_password',
    );
    expect(p.errors).toEqual([
      { field: 'password', code: 'weak_password', message: 'Use at least 12 characters' },
      { field: 'password', code: 'weak_password', message: 'Add a digit' },
    ]);
    expect(p.detail).toBe('Use at least 12 characters');
  });
  it('mixed issues keep validation_failed with per-field codes', async () => {
    const p = expectProblem(
      await call({ method: 'POST', resource: '/v1/passwords', body: { password: 'short', extra: 1 } }),
      400,
      'validation_failed',
    );
    expect(p.errors?.map((e) => e.code).sort()).toEqual(['unknown_field', 'weak_password', 'weak_password']);
  });
  it('query strings are validated (and coerced) and unknown query keys rejected', async () => {
    expect(bodyOf(await call({ method: 'GET', resource: '/v1/things', claims: admin, query: { limit: '5' } }))).toEqual({
      limit: 5,
    });
    const p = expectProblem(
      await call({ method: 'GET', resource: '/v1/things', claims: admin, query: { limit: '500', sort: 'x' } }),
      400,
      'validation_failed',
    );
    expect(p.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'limit', code: 'too_big' }),
        expect.objectContaining({ field: 'sort', code: 'unknown_field' }),
      ]),
    );
  });
  it('path parameters are validated', async () => {
    const res = await call({
      method: 'GET',
      resource: '/v1/admin/clients/{clientId}/audit',
      pathParameters: { clientId: 'x' },
      claims: admin,
    });
    expect(expectProblem(res, 400, 'validation_failed').errors).toEqual([
      expect.objectContaining({ field: 'clientId', code: 'too_small' }),
    ]);
  });
});

describe('locale of detail', () => {
  it.each([
    ['de-DE,de;q=0.9,en;q=0.5', 'Einige Felder sind ungültig.'],
    ['es', 'Algunos campos no son válidos.'],
    ['fr-FR, en;q=0.1', 'Some fields are invalid.'],
    ['fr', 'Some fields are invalid.'],
  ])('Accept-Language %s', async (lang, detail) => {
    const res = await call({
      method: 'POST',
      resource: '/v1/things',
      claims: client,
      body: {},
      headers: { 'Accept-Language': lang },
    });
    expect(bodyOf(res).detail).toBe(detail);
  });
  it('handlers see the resolved tenant locale', async () => {
    const res = await call({
      method: 'POST',
      resource: '/v1/things',
      claims: client,
      body: { name: 'ab', amount: '1' },
      headers: { 'accept-language': 'es-MX' },
    });
    expect(bodyOf(res).locale).toBe('es');
  });
  it('DomainError messages pass through with the status of their kind', async () => {
    const p = expectProblem(
      await call({ method: 'GET', resource: '/v1/conflict', headers: { 'accept-language': 'de' } }),
      409,
      'email_taken',
    );
    expect(p.detail).toBe('This email is already registered.');
  });
});

describe('correlation id', () => {
  it('a sane x-correlation-id is echoed on success and error', async () => {
    const ok = await call({ method: 'GET', resource: '/v1/public', headers: { 'X-Correlation-Id': 'abc-123:x.y_z' } });
    expect(ok.headers?.['x-correlation-id']).toBe('abc-123:x.y_z');
    const err = await call({ method: 'GET', resource: '/v1/nope', headers: { 'x-correlation-id': 'trace-42' } });
    expect(err.headers?.['x-correlation-id']).toBe('trace-42');
    expect(bodyOf(err).correlationId).toBe('trace-42');
  });
  it('an insane one is replaced by the API Gateway request id', async () => {
    const res = await call({
      method: 'GET',
      resource: '/v1/public',
      headers: { 'x-correlation-id': '<script>' },
      requestId: 'req-1',
    });
    expect(res.headers?.['x-correlation-id']).toBe('req-1');
    const long = await call({
      method: 'GET',
      resource: '/v1/public',
      headers: { 'x-correlation-id': 'a'.repeat(129) },
      requestId: 'req-2',
    });
    expect(long.headers?.['x-correlation-id']).toBe('req-2');
  });
  it('one is generated when there is nothing usable', async () => {
    const event = apiEvent({ method: 'GET', resource: '/v1/public' });
    (event.requestContext as { requestId?: string }).requestId = undefined;
    const res = await handler(event, lambdaContext());
    expect(res.headers?.['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('responses', () => {
  it('bigint serialises as a decimal string', async () => {
    const res = await call({
      method: 'POST',
      resource: '/v1/things',
      claims: client,
      body: { name: 'ab', amount: '9007199254740993' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.body).toContain('"amount":"18014398509481986"');
    expect(res.headers?.['content-type']).toBe('application/json');
  });
  it('204 has no body and no content type', async () => {
    const res = await call({ method: 'POST', resource: '/v1/passwords', body: { password: 'long-enough-password-1' } });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers?.['content-type']).toBeUndefined();
  });
  it('authenticated responses are no-store; CORS headers are on every response', async () => {
    const auth = await call({ method: 'GET', resource: '/v1/things', claims: admin });
    expect(auth.headers?.['cache-control']).toBe('no-store');
    expect(auth.headers?.['access-control-allow-origin']).toBe('*');
    const denied = await call({ method: 'GET', resource: '/v1/things' });
    expect(denied.headers?.['cache-control']).toBe('no-store');
    expect(denied.headers?.['access-control-allow-origin']).toBe('*');
    const pub = await call({ method: 'GET', resource: '/v1/public' });
    expect(pub.headers?.['cache-control']).toBeUndefined();
  });
  it('CORS_ORIGINS: an allowed Origin is echoed with Vary, any other origin gets no CORS headers', async () => {
    process.env.CORS_ORIGINS = 'https://demo.test,https://app.demo.test';
    try {
      const ok = await call({ method: 'GET', resource: '/v1/public', headers: { Origin: 'https://app.demo.test' } });
      expect(ok.headers?.['access-control-allow-origin']).toBe('https://app.demo.test');
      expect(ok.headers?.vary).toBe('Origin');
      const other = await call({ method: 'GET', resource: '/v1/public', headers: { Origin: 'https://evil.example' } });
      expect(other.headers?.['access-control-allow-origin']).toBeUndefined();
      const none = await call({ method: 'GET', resource: '/v1/public' });
      expect(none.headers?.['access-control-allow-origin']).toBeUndefined();
    } finally {
      delete process.env.CORS_ORIGINS;
    }
  });
  it('unknown errors are 500 internal_error with a generic detail', async () => {
    const res = await call({ method: 'GET', resource: '/v1/boom' });
    const p = expectProblem(res, 500, 'internal_error');
    expect(res.body).not.toContain('hunter2');
    expect(p.detail).toMatch(/correlation id/);
  });
});

describe('route table', () => {
  it('duplicate routes are rejected when the handler is built', () => {
    expect(() => httpHandler(routes[0]!, routes[0]!)).toThrow(/duplicate route POST \/v1\/things/);
  });
});
