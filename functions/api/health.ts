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
 * - GET /openapi.json serves the document generated from the running route definitions of every API module
 *   (apiModules, this module's own included), built once per container and cached
 *
 * The document IS every route, so this module (the API's meta function) is the one API module that imports
 * the others, for their `routes` only, and only when the document is first asked for: the documented
 * exception to the no-api-to-api dependency rule (.dependency-cruiser.cjs). The builder is
 * functions/api/shared/openapi.ts.
 * To add an API module: add `import('./name.ts')` to apiModules. The list is static (not read from the
 * manifest at run time) so esbuild can bundle it; test/unit/routes-manifest.test.ts and
 * test/unit/openapi.test.ts check it covers the manifest.
 */
import * as z from 'zod';
import { type AnyRoute, defineRoute, httpHandler } from '#middleware/http.ts';
import { isReady } from '#shared/readiness.ts';
import { tenantConfig } from '#shared/tenant.ts';
import pkg from '../../package.json' with { type: 'json' };
import { buildOpenApiDocument } from './shared/openapi.ts';

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
    handler: async () => ({ status: 200, body: await openApiDocument(`${tenantConfig().brand.name} back office API`) }),
  }),
];

/**
 * Every API module (functions/api/*.ts, this one included): each exports `routes`. Imported on first use, so
 * that the liveness route (and this function's cold start) does not load the whole API.
 */
export function apiModules(): Promise<ReadonlyArray<{ routes: readonly AnyRoute[] }>> {
  return Promise.all([
    import('./adjustments.ts'),
    import('./audit.ts'),
    import('./copy-admin.ts'),
    import('./deposits.ts'),
    { routes },
    import('./jobs.ts'),
    import('./kyc.ts'),
    import('./kyc-admin.ts'),
    import('./ledger-admin.ts'),
    import('./me.ts'),
    import('./onboarding.ts'),
    import('./partner-dashboard.ts'),
    import('./partner-payouts.ts'),
    import('./partners.ts'),
    import('./partners-admin.ts'),
    import('./partners-reports.ts'),
    import('./payment-methods.ts'),
    import('./payments-admin.ts'),
    import('./psp-reconciliation.ts'),
    import('./psp-webhooks.ts'),
    import('./registrations.ts'),
    import('./security-events.ts'),
    import('./sessions.ts'),
    import('./staff.ts'),
    import('./strategies.ts'),
    import('./trading-account-types.ts'),
    import('./trading-accounts.ts'),
    import('./trading-admin.ts'),
    import('./transfers.ts'),
    import('./wallets.ts'),
    import('./withdrawals.ts'),
    import('./withdrawals-admin.ts'),
  ]);
}

let cached: Promise<ReturnType<typeof buildOpenApiDocument>> | undefined;

/** The document for all API modules, built on first use. */
export function openApiDocument(title = 'Back office API'): Promise<ReturnType<typeof buildOpenApiDocument>> {
  cached ??= apiModules().then(
    (modules) =>
      buildOpenApiDocument(
        modules.flatMap((m) => m.routes),
        { title, version: process.env.APP_VERSION ?? pkg.version },
      ),
    (err: unknown) => {
      cached = undefined; // a failed load is not cached: the next request tries again
      throw err;
    },
  );
  return cached;
}

export const handler = httpHandler(...routes);
