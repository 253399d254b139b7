/**
 * Invariants: the OpenAPI document is 3.1, lists every manifest route with its method, secures every
 * non-public route with the bearer JWT scheme, documents problem+json errors, x-roles, the correlation
 * header and Idempotency-Key where a route is idempotent.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { handler, openApiDocument } from '#functions/api/health.ts';
import { buildOpenApiDocument } from '#functions/api/shared/openapi.ts';
import { allRoutes, ROLES } from '#functions/manifest.ts';
import { defineRoute } from '#middleware/http.ts';
import { apiEvent, bodyOf, lambdaContext } from '../support/events.ts';
import { useDemoTenant } from '../support/tenant.ts';

useDemoTenant();

type Op = {
  operationId: string;
  security?: Record<string, string[]>[];
  'x-roles': string[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }>; headers?: Record<string, unknown> }>;
};
type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Op>>;
  components: {
    securitySchemes: Record<string, { type: string; scheme: string; bearerFormat: string }>;
    schemas: Record<string, unknown>;
  };
};

const doc = (await openApiDocument()) as unknown as Doc;

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1.0 with info and a bearer JWT scheme', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.components.schemas.Problem).toBeDefined();
  });

  it('has every manifest route with its method, and nothing else', () => {
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const manifest = allRoutes().map(({ route }) => `${route.method} ${route.path}`);
    expect(documented.sort()).toEqual(manifest.sort());
  });

  it('secures non-public routes and leaves public ones open; x-roles match the manifest', () => {
    for (const { route } of allRoutes()) {
      const op = doc.paths[route.path]![route.method.toLowerCase()]!;
      if (route.auth === 'public') {
        expect(op.security, route.path).toEqual([]);
        expect(op['x-roles']).toEqual([]);
      } else {
        expect(op.security, route.path).toEqual([{ bearerAuth: [] }]);
        expect(op['x-roles']).toEqual(route.auth === 'authenticated' ? [...ROLES] : [...route.auth]);
      }
      expect(op.operationId).toBeTruthy();
      expect(op.parameters?.some((p) => p.in === 'header' && p.name === 'X-Correlation-Id')).toBe(true);
      expect(op.responses['500']?.content?.['application/problem+json']?.schema.$ref).toBe('#/components/schemas/Problem');
      expect(Object.values(op.responses).every((r) => r.headers && 'X-Correlation-Id' in r.headers)).toBe(true);
    }
  });

  it('documents bodies, path params and Idempotency-Key', () => {
    const built = buildOpenApiDocument(
      [
        defineRoute({
          method: 'POST',
          path: '/v1/clients/{clientId}/deposits',
          operationId: 'createDeposit',
          summary: 'Deposit',
          tags: ['wallets'],
          auth: ['client'],
          idempotency: 'required',
          params: z.strictObject({ clientId: z.string() }),
          query: z.strictObject({ dryRun: z.enum(['true', 'false']).optional() }),
          body: z.strictObject({ amount: z.string() }),
          responses: { 201: { description: 'created', schema: z.object({ id: z.string() }) } },
          handler: async () => ({ status: 201 }),
        }),
      ],
      { title: 't', version: '1.0.0' },
    ) as unknown as Doc;
    const op = built.paths['/v1/clients/{clientId}/deposits']!.post!;
    expect(op.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }),
        expect.objectContaining({ name: 'clientId', in: 'path', required: true }),
        expect.objectContaining({ name: 'dryRun', in: 'query' }),
      ]),
    );
    expect(op.requestBody?.content['application/json']).toBeDefined();
    expect(op.responses['201']?.content?.['application/json']).toBeDefined();
    expect(op.responses['400']?.content?.['application/problem+json']).toBeDefined();
  });

  it('is served at GET /openapi.json and cached', async () => {
    const res = await handler(apiEvent({ method: 'GET', resource: '/openapi.json' }), lambdaContext());
    expect(res.statusCode).toBe(200);
    expect(bodyOf<Doc>(res).openapi).toBe('3.1.0');
    expect(openApiDocument()).toBe(openApiDocument());
  });

  it('GET /health is 200 with status, tenant, version and time', async () => {
    const res = await handler(apiEvent({ method: 'GET', resource: '/health' }), lambdaContext());
    expect(res.statusCode).toBe(200);
    const body = bodyOf(res);
    expect(body).toMatchObject({ status: 'ok', tenant: 'demo' });
    expect(typeof body.version).toBe('string');
    expect(Number.isNaN(Date.parse(body.time as string))).toBe(false);
  });
});
