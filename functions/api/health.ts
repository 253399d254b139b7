/**
 * Liveness and the OpenAPI document. Both public.
 *
 * Guarantees:
 * - GET /health answers 200 { status: 'ok', tenant, version, time } without touching any dependency
 *   (liveness, not readiness), so it stays cheap and cannot leak data
 * - GET /openapi.json serves the cached document generated from the running route definitions
 */
import * as z from 'zod';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import pkg from '../../package.json' with { type: 'json' };
import { openApiDocument } from './openapi.ts';

export const HealthSchema = z.object({
  status: z.literal('ok'),
  tenant: z.string(),
  version: z.string(),
  time: z.iso.datetime(),
});

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Liveness',
    tags: ['meta'],
    auth: 'public',
    responses: { 200: { description: 'The service is up', schema: HealthSchema } },
    handler: async () => ({
      status: 200,
      body: {
        status: 'ok',
        tenant: tenantConfig().tenant,
        version: process.env.APP_VERSION ?? pkg.version,
        time: new Date().toISOString(),
      } satisfies z.infer<typeof HealthSchema>,
    }),
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
