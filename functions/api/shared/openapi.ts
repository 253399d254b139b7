/**
 * The OpenAPI 3.1 document builder: a document from route definitions (and their zod schemas), the same
 * definitions the handlers run. Which routes: every API module's, listed where the document is served
 * (functions/api/health.ts, GET /openapi.json).
 *
 * Guarantees:
 * - every route given appears once, with its method, path, operationId, summary, tags, body/query/path
 *   schemas, declared responses and `x-roles`
 * - non-public operations require the `bearerAuth` scheme (Cognito ID token, JWT); public ones declare
 *   `security: []`
 * - every operation documents the problem+json error responses the edge can produce, the optional
 *   `X-Correlation-Id` request header and the `X-Correlation-Id` response header; idempotent routes
 *   document `Idempotency-Key` (required or optional as the route says)
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { ROLES } from '#functions/manifest.ts';
import type { AnyRoute } from '#middleware/http.ts';
import { IDEMPOTENCY_TTL_SECONDS } from '#middleware/idempotency.ts';

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
      ...(idem === 'required' || idem === 'command' ? { 'Idempotency-Key': IDEMPOTENCY_KEY } : {}),
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
