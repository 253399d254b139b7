/**
 * API Gateway REST (proxy) events and Lambda contexts for unit tests, shaped like what API Gateway's
 * Cognito authorizer - and local/gateway.ts - hand to a handler.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

export interface ApiEventInput {
  method: string;
  /** the path template, e.g. /v1/admin/clients/{clientId}/audit */
  resource: string;
  /** the concrete path; defaults to the resource with pathParameters substituted */
  path?: string;
  /** an object is JSON-encoded (and gets content-type application/json unless headers say otherwise) */
  body?: unknown;
  headers?: Record<string, string>;
  /** authorizer claims as API Gateway passes them (string values) */
  claims?: Record<string, unknown>;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  requestId?: string;
  /** requestContext.identity.sourceIp (default 127.0.0.1) */
  sourceIp?: string;
}

export function apiEvent(input: ApiEventInput): APIGatewayProxyEvent {
  const headers: Record<string, string> = { ...(input.headers ?? {}) };
  let body: string | null = null;
  if (typeof input.body === 'string') body = input.body;
  else if (input.body !== undefined) {
    body = JSON.stringify(input.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  const pathParameters = input.pathParameters ?? null;
  const path =
    input.path ??
    input.resource.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(pathParameters?.[name] ?? name));
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers)) multiValueHeaders[k] = [v];
  return {
    httpMethod: input.method,
    resource: input.resource,
    path,
    body,
    isBase64Encoded: false,
    headers,
    multiValueHeaders,
    pathParameters,
    queryStringParameters: input.query ?? null,
    multiValueQueryStringParameters: input.query
      ? Object.fromEntries(Object.entries(input.query).map(([k, v]) => [k, [v]]))
      : null,
    stageVariables: null,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: input.claims ? { claims: input.claims } : null,
      protocol: 'HTTP/1.1',
      httpMethod: input.method,
      identity: {
        sourceIp: input.sourceIp ?? '127.0.0.1',
        userAgent: 'vitest',
      } as APIGatewayProxyEvent['requestContext']['identity'],
      path,
      stage: 'v1',
      requestId: input.requestId ?? randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: input.resource,
    },
  };
}

/** Claims for a signed-in user, in API Gateway's string form for cognito:groups. */
const STAFF_GROUPS = new Set(['sales', 'retention', 'compliance', 'finance', 'admin']);

/**
 * Claims as API Gateway's Cognito authorizer passes them. `iss` names the pool the groups live in
 * (staff pool for staff roles), as a real token would; the auth middleware only honours a role
 * issued by its own pool.
 */
export function claimsFor(sub: string, groups: string[], email = `${sub}@example.test`): Record<string, string> {
  const staff = groups.some((g) => STAFF_GROUPS.has(g));
  const claims: Record<string, string> = {
    sub,
    email,
    'cognito:groups': `[${groups.join(' ')}]`,
    email_verified: 'true',
    token_use: 'id',
  };
  // Read when the handler runs, so claims built at module load follow pool ids a test sets later.
  Object.defineProperty(claims, 'iss', {
    enumerable: true,
    get: () => {
      const pool = (staff ? process.env.STAFF_USER_POOL_ID : process.env.USER_POOL_ID) ?? (staff ? 'test_staff' : 'test_clients');
      return `https://cognito-idp.us-east-1.amazonaws.com/${pool}`;
    },
  });
  return claims;
}

export function lambdaContext(name = 'test-fn', timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Parses a proxy result's JSON body. */
export const bodyOf = <T = Record<string, unknown>>(res: { body: string }): T => JSON.parse(res.body) as T;
