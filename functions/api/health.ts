/**
 * Liveness, readiness and the OpenAPI document. All public.
 *
 * Guarantees:
 * - GET /health is liveness: always 200 { status: 'ok', ready, tenant, version, time }, without touching any
 *   dependency, so it stays cheap and cannot leak data. Unknown query parameters are ignored (cache busters)
 * - GET /health?ready (or ?ready=true, ?ready=1) is readiness: the same body with 200 when the process is ready
 *   (#shared/readiness.ts), else 503 { status: 'starting', ready: false, ... } with `retry-after: 1`. In AWS a
 *   handler that runs is ready; the local runtime answers 503 until its start-up (resumed workflows, demo seed)
 *   has finished, so a script that waits for it can sign in the demo users at once. The 503 is a health report,
 *   not a problem+json error. Neither answer is cached (cache-control: no-store)
 * - GET /openapi.json serves the cached document generated from the running route definitions
 */
import * as z from 'zod';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { isReady } from '#shared/readiness.ts';
import { tenantConfig } from '#shared/tenant.ts';
import pkg from '../../package.json' with { type: 'json' };
import { openApiDocument } from './openapi.ts';

export const HealthSchema = z.object({
  status: z.enum(['ok', 'starting']),
  ready: z.boolean(),
  tenant: z.string(),
  version: z.string(),
  time: z.iso.datetime(),
});

/** Not strict on purpose: a liveness probe with a cache buster must not fail. */
export const HealthQuery = z.object({
  ready: z
    .enum(['', 'true', '1'])
    .optional()
    .meta({ description: 'Present: answer readiness (503 until ready) instead of liveness' }),
});

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness; with ?ready, readiness',
    tags: ['meta'],
    auth: 'public',
    query: HealthQuery,
    responses: {
      200: { description: 'The service is up (with ?ready: and ready)', schema: HealthSchema },
      503: { description: 'With ?ready: still starting (retry-after: 1)', schema: HealthSchema },
    },
    handler: async ({ query }) => {
      const ready = isReady();
      const probe = query.ready !== undefined;
      const body: z.infer<typeof HealthSchema> = {
        status: probe && !ready ? 'starting' : 'ok',
        ready,
        tenant: tenantConfig().tenant,
        version: process.env.APP_VERSION ?? pkg.version,
        time: new Date().toISOString(),
      };
      const headers: Record<string, string> = { 'cache-control': 'no-store' };
      if (probe && !ready) return { status: 503, body, headers: { ...headers, 'retry-after': '1' } };
      return { status: 200, body, headers };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This OpenAPI 3.1 document',
    tags: ['meta'],
    auth: 'public',
    responses: { 200: { description: 'OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) } },
    handler: async () => ({ status: 200, body: openApiDocument(`${tenantConfig().brand.name} back office API`) }),
  }),
];

export const handler = httpHandler(...routes);
