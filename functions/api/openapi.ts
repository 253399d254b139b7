/**
 * The OpenAPI 3.1 document, generated from the same route definitions (and zod schemas) the handlers run.
 *
 * Guarantees:
 * - every route exported by an API module listed in API_MODULES appears once, with its method, path,
 *   operationId, summary, tags, body/query/path schemas, declared responses and `x-roles`
 * - non-public operations require the `bearerAuth` scheme (Cognito ID token, JWT); public ones declare
 *   `security: []`
 * - every operation documents the problem+json error responses the edge can produce, the optional
 *   `X-Correlation-Id` request header and the `X-Correlation-Id` response header; idempotent routes
 *   document `Idempotency-Key` (required or optional as the route says)
 * - the document is built once per container and cached
 *
 * To add an API module: add `import * as name from './name.ts';` and `name` to API_MODULES.
 * The list is static (not read from the manifest at run time) so esbuild can bundle it;
 * test/unit/routes-manifest.test.ts and test/unit/openapi.test.ts check it covers the manifest.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { ROLES } from '#functions/manifest.ts';
import type { AnyRoute } from '#middleware/http.ts';
import { IDEMPOTENCY_TTL_SECONDS } from '#middleware/idempotency.ts';
import pkg from '../../package.json' with { type: 'json' };
import * as adjustments from './adjustments.ts';
import * as audit from './audit.ts';
import * as deposits from './deposits.ts';
import * as health from './health.ts';
import * as jobs from './jobs.ts';
import * as kyc from './kyc.ts';
import * as kycAdmin from './kyc-admin.ts';
import * as ledgerAdmin from './ledger-admin.ts';
import * as me from './me.ts';
import * as onboarding from './onboarding.ts';
import * as paymentMethods from './payment-methods.ts';
import * as paymentsAdmin from './payments-admin.ts';
import * as pspReconciliation from './psp-reconciliation.ts';
import * as pspWebhooks from './psp-webhooks.ts';
import * as registrations from './registrations.ts';
import * as securityEvents from './security-events.ts';
import * as sessions from './sessions.ts';
import * as staff from './staff.ts';
import * as transfers from './transfers.ts';
import * as wallets from './wallets.ts';
import * as withdrawals from './withdrawals.ts';
import * as withdrawalsAdmin from './withdrawals-admin.ts';

/** Every API module (functions/api/*.ts): each exports `routes`. */
export const API_MODULES: ReadonlyArray<{ routes: readonly AnyRoute[] }> = [
  adjustments,
  audit,
  deposits,
  health,
  jobs,
  kyc,
  kycAdmin,
  ledgerAdmin,
  me,
  onboarding,
  paymentMethods,
  paymentsAdmin,
  pspReconciliation,
  pspWebhooks,
  registrations,
  securityEvents,
  sessions,
  staff,
  transfers,
  wallets,
  withdrawals,
  withdrawalsAdmin,
];

export const FieldErrorSchema = z.object({
  field: z.string().meta({ description: 'Dotted path of the offending field, e.g. "address.country"' }),
  code: z.string().meta({ description: 'Stable machine code, e.g. unknown_field, too_small, weak_password' }),
  message: z.string(),
});

export const ProblemSchema = z
  .object({
    type: z.url().meta({ example: 'https://errors.backoffice.dev/validation_failed' }),
    title: z.string(),
    status: z.number().int(),
    code: z.string().meta({ description: 'Stable machine code a program can branch on' }),
    detail: z.string().meta({ description: "Human explanation in the caller's locale (Accept-Language)" }),
    errors: z.array(FieldErrorSchema).optional(),
    correlationId: z.string(),
    instance: z.string(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details (application/problem+json)' });

const IDEMPOTENCY_KEY = z
  .string()
  .min(8)
  .max(255)
  .regex(/^[A-Za-z0-9\-_:.]+$/)
  .meta({ description: `Client-chosen key; replays within ${IDEMPOTENCY_TTL_SECONDS / 3600} h return the original result` });
const CORRELATION_ID = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9\-_.:]+$/)
  .meta({ description: 'Optional; echoed back. Generated when absent or malformed.' });

const ERROR_RESPONSES: Record<number, string> = {
  400: 'Invalid request (validation_failed, malformed_json, invalid_idempotency_key, ...)',
  401: 'unauthenticated',
  403: 'forbidden_role',
  404: 'not_found / route_not_found',
  409: 'Conflict (e.g. idempotency_in_progress)',
  413: 'body_too_large',
  415: 'unsupported_media_type',
  422: 'Unprocessable (e.g. idempotency_key_reused)',
  500: 'internal_error',
};

export function buildOpenApiDocument(routes: readonly AnyRoute[], info: { title: string; version: string }) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'Cognito ID token',
  });
  const problem = ProblemSchema; // a component through its meta id
  const correlationHeader = registry.registerComponent('headers', 'CorrelationId', {
    description: 'The request correlation id (also in every log line)',
    schema: { type: 'string' },
  });
  const responseHeaders = { 'X-Correlation-Id': correlationHeader.ref };
  const problemContent = { 'application/problem+json': { schema: problem } };

  for (const route of routes) {
    const responses: Record<string, { description: string; headers: typeof responseHeaders; content?: object }> = {};
    for (const [status, r] of Object.entries(route.responses)) {
      responses[status] = {
        description: r.description,
        headers: responseHeaders,
        ...(r.schema ? { content: { 'application/json': { schema: r.schema } } } : {}),
      };
    }
    for (const [status, description] of Object.entries(ERROR_RESPONSES)) {
      responses[status] ??= { description, headers: responseHeaders, content: problemContent };
    }
    const idem = route.idempotency ?? 'none';
    const headers = z.object({
      'X-Correlation-Id': CORRELATION_ID.optional(),
      ...(idem === 'required' ? { 'Idempotency-Key': IDEMPOTENCY_KEY } : {}),
      ...(idem === 'optional' ? { 'Idempotency-Key': IDEMPOTENCY_KEY.optional() } : {}),
    });
    const roles = route.auth === 'public' ? [] : route.auth === 'authenticated' ? [...ROLES] : [...route.auth];
    registry.registerPath({
      method: route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete',
      path: route.path,
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      security: route.auth === 'public' ? [] : [{ [bearer.name]: [] }],
      'x-roles': roles,
      'x-auth': route.auth === 'public' || route.auth === 'authenticated' ? route.auth : 'roles',
      request: {
        headers,
        ...(route.params ? { params: route.params as z.ZodObject } : {}),
        ...(route.query ? { query: route.query as z.ZodObject } : {}),
        ...(route.body ? { body: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
      },
      responses,
    });
  }

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: info.title, version: info.version, description: 'Errors are application/problem+json with a stable code.' },
  });
}

let cached: ReturnType<typeof buildOpenApiDocument> | undefined;

/** The document for all API modules, built on first use. */
export function openApiDocument(title = 'Back office API') {
  cached ??= buildOpenApiDocument(
    API_MODULES.flatMap((m) => m.routes),
    { title, version: process.env.APP_VERSION ?? pkg.version },
  );
  return cached;
}
