/**
 * The HTTP edge: route definitions and the middy stack every API Lambda runs.
 *
 * Guarantees:
 * - a request reaches a route handler only after its route was matched on method + API Gateway path
 *   template (404 `route_not_found`, 405 `method_not_allowed` with `allow`), its caller was authorised
 *   (401 `unauthenticated`, 403 `forbidden_role`), and its body, query and path parameters passed the
 *   route's strict zod schemas (400 `validation_failed` with per-field `errors[]`, or the schema
 *   authors' shared refinement code such as `weak_password`)
 * - body: only read when the route has a body schema; 64 KiB max (413 `body_too_large`), JSON only
 *   (415 `unsupported_media_type`), parseable (400 `malformed_json`)
 * - idempotency (routes with `idempotency: 'optional' | 'required'`): see idempotency.ts; 'required'
 *   without the header is 400 `idempotency_key_required`, a malformed key 400 `invalid_idempotency_key`.
 *   Routes with 'none' (the default) ignore the header. 'command' requires and checks the key like
 *   'required' but writes no edge record: the use case's own transaction holds the key (a ledger
 *   journal's idempotency item), replays the original result itself and says so (the handler sets
 *   `idempotent-replayed`); see docs/decisions/0014-one-idempotency-record-per-money-command.md
 * - every response, errors included, carries `x-correlation-id` and the CORS headers; responses to
 *   non-public routes (or to any signed-in caller) carry `cache-control: no-store`
 * - every error is problem+json (problem.ts); unknown errors are logged with their stack and answered
 *   500 `internal_error`; request bodies are never logged, and the logger redacts PII (powertools.ts)
 * - one metric `HttpRequests` (Count) per request, dimensions `route` ('GET /v1/me' or 'unmatched') and
 *   `statusClass` ('2xx'..'5xx')
 *
 * Stack (outermost first): Powertools logger (injectLambdaContext) -> metrics (logMetrics) -> tracer
 * (captureLambdaHandler) -> correlation id + edge headers + request metric/log -> header normalizer ->
 * router + locale -> auth -> body -> validation -> idempotency key -> errors (innermost onError).
 * The route handler runs as the middy handler, wrapped in Powertools idempotency when a key applies.
 */

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddlewareObj, type Request } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import type { HttpMethod, RouteSpec } from '#functions/manifest.ts';
import { logger, metrics, tracer } from '#shared/powertools.ts';
import { SECURITY_HEADERS } from '#shared/security-headers.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { authorize } from './auth.ts';
import { readJsonBody } from './body.ts';
import { CORRELATION_HEADER, correlationIdOf } from './correlation.ts';
import { IDEMPOTENCY_HEADER, isValidIdempotencyKey, REPLAYED_HEADER, runIdempotent } from './idempotency.ts';
import { resolveLocale } from './locale.ts';
import { EdgeError, jsonResponse, problemResponse, toProblem } from './problem.ts';
import { noteRefusal } from './security.ts';
import { mergeValidationErrors, parsePart } from './validation.ts';

export { assertOwnerOrStaff, crossClientProbe } from './auth.ts';
export { EdgeError } from './problem.ts';

/** isStaff: has any role other than client/partner. */
import type { Caller } from '#domain/identity/roles.ts';

export type { Caller };
/** Set by a route whose use case replayed (idempotency 'command'), as the edge record's replay sets it. */
export { REPLAYED_HEADER };

export interface HttpRequest<B = unknown, Q = unknown, P = unknown> {
  body: B;
  query: Q;
  params: P;
  /** null only on public routes */
  caller: Caller | null;
  correlationId: string;
  /** from Accept-Language, restricted to the tenant's locales, else the tenant default */
  locale: string;
  /** lower-cased names */
  headers: Record<string, string>;
  idempotencyKey?: string;
  event: APIGatewayProxyEvent;
  context: Context;
}

export interface HttpResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RouteDef<B = unknown, Q = unknown, P = unknown> {
  method: HttpMethod;
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  auth: RouteSpec['auth'];
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /**
   * default 'none'; 'required' => 400 idempotency_key_required when the header is missing; 'command' =>
   * required too, but the use case's own transaction is the only idempotency record (no edge record)
   */
  idempotency?: 'required' | 'optional' | 'command' | 'none';
  handler: (req: HttpRequest<B, Q, P>) => Promise<HttpResult>;
}

/** Identity with inference: `defineRoute({ body: Schema, handler: async ({ body }) => ... })`. */
export function defineRoute<B, Q, P>(def: RouteDef<B, Q, P>): RouteDef<B, Q, P> {
  return def;
}

// biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of routes
export type AnyRoute = RouteDef<any, any, any>;

/** Per-request state shared by the middlewares and the dispatcher, keyed by the event object. */
interface EdgeState {
  correlationId: string;
  locale?: string;
  route?: AnyRoute;
  routeKey?: string;
  caller: Caller | null;
  headers: Record<string, string>;
  rawBody?: unknown;
  body?: unknown;
  query?: unknown;
  params?: unknown;
  idempotencyKey?: string;
  startedAt: number;
}

const states = new WeakMap<APIGatewayProxyEvent, EdgeState>();
type EdgeRequest = Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;
type Mw = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;

function stateOf(event: APIGatewayProxyEvent): EdgeState {
  const s = states.get(event);
  if (!s) throw new Error('edge state missing: the correlation middleware did not run');
  return s;
}

const routeKeyOf = (r: { method: string; path: string }) => `${r.method} ${r.path}`;

function lowerCaseHeaders(event: APIGatewayProxyEvent): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

function safeLocale(state: EdgeState | undefined, event: APIGatewayProxyEvent): string {
  if (state?.locale) return state.locale;
  try {
    const cfg = tenantConfig();
    return resolveLocale(lowerCaseHeaders(event)['accept-language'], cfg.locales, cfg.defaultLocale);
  } catch {
    return 'en';
  }
}

/**
 * CORS for actual responses (API Gateway answers the preflight). CORS_ORIGINS lists the allowed
 * origins (set by infra from the tenant's domain); a request Origin on the list is echoed with
 * `Vary: Origin`; '*' (or the local runtime without a list) allows any origin; otherwise no CORS
 * headers, and the browser refuses the response.
 */
export function corsHeaders(requestOrigin?: string): Record<string, string> {
  const configured = process.env.CORS_ORIGINS ?? process.env.CORS_ORIGIN ?? (process.env.STAGE === 'local' ? '*' : '');
  const allowed = configured
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  const expose = { 'access-control-expose-headers': `${CORRELATION_HEADER}, ${REPLAYED_HEADER}, retry-after` };
  if (allowed.includes('*')) return { 'access-control-allow-origin': '*', ...expose };
  if (requestOrigin && allowed.includes(requestOrigin)) {
    return { 'access-control-allow-origin': requestOrigin, vary: 'Origin', ...expose };
  }
  return {};
}

/** Correlation id in, and on the way out: correlation header, CORS, no-store, the request metric and log line. */
function edge(): Mw {
  const finish = (request: EdgeRequest) => {
    const state = states.get(request.event);
    const response = request.response;
    if (!state || !response) return;
    const authenticated = state.caller !== null || (state.route !== undefined && state.route.auth !== 'public');
    response.headers = {
      ...response.headers,
      ...SECURITY_HEADERS,
      ...corsHeaders(request.event.headers?.origin ?? request.event.headers?.Origin),
      ...(authenticated ? { 'cache-control': 'no-store' } : {}),
      [CORRELATION_HEADER]: state.correlationId,
    };
    const status = response.statusCode;
    const route = state.routeKey ?? 'unmatched';
    // published by logMetrics when the invocation ends (dimensions are cleared after each flush)
    metrics.addDimensions({ route, statusClass: `${Math.floor(status / 100)}xx` });
    metrics.addMetric('HttpRequests', MetricUnit.Count, 1);
    logger.info('request completed', { route, status, durationMs: Date.now() - state.startedAt });
  };
  return {
    before: (request) => {
      const correlationId = correlationIdOf(request.event);
      states.set(request.event, { correlationId, caller: null, headers: {}, startedAt: Date.now() });
      logger.appendKeys({ correlationId });
    },
    after: finish,
    onError: finish,
  };
}

type RouteTable = Map<string, Map<HttpMethod, AnyRoute>>;

function buildTable(routes: AnyRoute[]): RouteTable {
  const table: RouteTable = new Map();
  for (const r of routes) {
    const byMethod = table.get(r.path) ?? new Map<HttpMethod, AnyRoute>();
    if (byMethod.has(r.method)) throw new Error(`httpHandler: duplicate route ${routeKeyOf(r)}`);
    byMethod.set(r.method, r);
    table.set(r.path, byMethod);
  }
  return table;
}

/** Matches method + path template; resolves the locale. */
function router(table: RouteTable): Mw {
  return {
    before: (request) => {
      const { event } = request;
      const state = stateOf(event);
      state.headers = lowerCaseHeaders(event);
      const cfg = tenantConfig();
      state.locale = resolveLocale(state.headers['accept-language'], cfg.locales, cfg.defaultLocale);
      const byMethod = table.get(event.resource ?? event.path);
      if (!byMethod) throw new EdgeError('route_not_found', 404);
      const route = byMethod.get(event.httpMethod?.toUpperCase() as HttpMethod);
      if (!route) throw new EdgeError('method_not_allowed', 405, [], { allow: [...byMethod.keys()].join(', ') });
      state.route = route;
      state.routeKey = routeKeyOf(route);
      logger.appendKeys({ route: state.routeKey });
    },
  };
}

function authentication(): Mw {
  return {
    before: ({ event }) => {
      const state = stateOf(event);
      state.caller = authorize(event, state.route!.auth);
      if (state.caller) logger.appendKeys({ callerSub: state.caller.sub });
    },
  };
}

function jsonBody(): Mw {
  return {
    before: ({ event }) => {
      const state = stateOf(event);
      if (state.route!.body) state.rawBody = readJsonBody(event, state.headers);
    },
  };
}

function validation(): Mw {
  return {
    before: async ({ event }) => {
      const state = stateOf(event);
      const route = state.route!;
      const failures: EdgeError[] = [];
      const run = async <T>(schema: z.ZodType<T> | undefined, input: unknown, part: 'body' | 'query' | 'params') => {
        if (!schema) return input;
        try {
          return await parsePart(schema, input, part);
        } catch (e) {
          if (e instanceof EdgeError) failures.push(e);
          else throw e;
          return undefined;
        }
      };
      state.params = await run(route.params, event.pathParameters ?? {}, 'params');
      state.query = await run(route.query, event.queryStringParameters ?? {}, 'query');
      state.body = route.body ? await run(route.body, state.rawBody, 'body') : undefined;
      if (failures.length > 0) throw mergeValidationErrors(failures);
    },
  };
}

function idempotencyKey(): Mw {
  return {
    before: ({ event }) => {
      const state = stateOf(event);
      const mode = state.route!.idempotency ?? 'none';
      if (mode === 'none') return;
      const key = state.headers[IDEMPOTENCY_HEADER];
      if (key === undefined || key === '') {
        if (mode !== 'optional') throw new EdgeError('idempotency_key_required', 400);
        return;
      }
      if (!isValidIdempotencyKey(key)) throw new EdgeError('invalid_idempotency_key', 400);
      state.idempotencyKey = key;
    },
  };
}

/** Innermost onError: every error becomes problem+json; a refusal that is a security event is recorded (security.ts). */
function errors(): Mw {
  return {
    onError: async (request) => {
      const state = states.get(request.event);
      const correlationId = state?.correlationId ?? correlationIdOf(request.event);
      const { problem, headers, internal } = toProblem(request.error, {
        correlationId,
        locale: safeLocale(state, request.event),
        instance: request.event.path ?? request.event.resource ?? '',
      });
      if (internal) logger.error('unhandled error', request.error as Error);
      else logger.info('request rejected', { code: problem.code, status: problem.status });
      request.response = problemResponse(problem, headers);
      if (!internal) await noteRefusal(request.error, { event: request.event, routeKey: state?.routeKey, correlationId });
    },
  };
}

/** Builds a Lambda handler serving `routes` (dispatch on event.httpMethod + event.resource). */
export function httpHandler(
  ...routes: AnyRoute[]
): (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult> {
  const table = buildTable(routes);
  const dispatch = async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const state = stateOf(event);
    const route = state.route!;
    const req: HttpRequest = {
      body: state.body,
      query: state.query,
      params: state.params,
      caller: state.caller,
      correlationId: state.correlationId,
      locale: state.locale!,
      headers: state.headers,
      event,
      context,
    };
    if (state.idempotencyKey) req.idempotencyKey = state.idempotencyKey;
    const result =
      state.idempotencyKey !== undefined && route.idempotency !== 'command'
        ? await runIdempotent({
            callerSub: state.caller?.sub ?? null,
            route: state.routeKey!,
            key: state.idempotencyKey,
            rawBody: state.rawBody,
            pathParameters: event.pathParameters ?? null,
            query: event.queryStringParameters ?? null,
            context,
            execute: () => route.handler(req),
          })
        : await route.handler(req);
    return jsonResponse(result.status, result.body, result.headers ?? {});
  };
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>(dispatch)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: false }))
    .use(edge())
    .use(httpHeaderNormalizer() as unknown as Mw)
    .use(router(table))
    .use(authentication())
    .use(jsonBody())
    .use(validation())
    .use(idempotencyKey())
    .use(errors());
  return (event, context) => handler(event, context);
}
