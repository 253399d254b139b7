/**
 * The local API gateway: an HTTP server that does what API Gateway REST does in front of our
 * Lambda proxy integrations, so the same handlers run locally unchanged.
 *
 * - routes come from the manifest (functions/manifest.ts), path templates like /v1/x/{id}
 * - non-public routes need `Authorization: Bearer <Cognito ID token>`; the token is verified the way
 *   the Cognito authorizer does (signature, issuer, audience, expiry) and its claims reach the handler
 *   under requestContext.authorizer.claims with every value a string, as in AWS
 * - missing or bad tokens are refused with 401 before any handler runs (AWS: a gateway response,
 *   which infra/ maps to the same problem+json shape)
 * - the event is an APIGatewayProxyEvent (REST, payload v1), the result an APIGatewayProxyResult
 *
 * Not emulated: usage plans, WAF, request validators, binary media types.
 */

import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { allRoutes, type FunctionSpec, type RouteSpec } from '#functions/manifest.ts';
import { gatewayProblem, gatewayProblemBody } from '#shared/gateway-problems.ts';
import { SECURITY_HEADERS } from '#shared/security-headers.ts';

export type TokenVerifier = (token: string) => Promise<Record<string, unknown> | null>;
export type Invoker = (fnName: string, event: unknown) => Promise<unknown>;

interface CompiledRoute {
  fn: FunctionSpec;
  route: RouteSpec;
  regex: RegExp;
  params: string[];
}

/** API Gateway's 10 MB payload limit. The handlers' own limit is lower. */
const MAX_PAYLOAD = 10 * 1024 * 1024;

export function compileRoutes(): CompiledRoute[] {
  return allRoutes().map(({ fn, route }) => {
    const params: string[] = [];
    const pattern = route.path
      .split('/')
      .map((segment) => {
        const param = /^\{([A-Za-z0-9_]+)(\+?)\}$/.exec(segment);
        if (!param) return segment.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&');
        params.push(param[1]!);
        return param[2] ? '(.+)' : '([^/]+)';
      })
      .join('/');
    return { fn, route, regex: new RegExp(`^${pattern}$`), params };
  });
}

/** Cognito authorizer claims: every value is a string, arrays are comma-joined, times are dates. */
export function stringifyClaims(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(claims)) {
    if (Array.isArray(v)) out[k] = v.join(',');
    else if ((k === 'exp' || k === 'iat' || k === 'auth_time') && typeof v === 'number') {
      out[k] = k === 'auth_time' ? String(v) : new Date(v * 1000).toUTCString().replace('GMT', 'UTC');
    } else out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** API Gateway's own answers, from the list infra/ deploys as gateway responses. */
function problem(type: string, correlationId: string): APIGatewayProxyResult {
  const p = gatewayProblem(type);
  const status = p.status ?? (type === 'DEFAULT_5XX' ? 502 : 400);
  return {
    statusCode: status,
    headers: {
      ...SECURITY_HEADERS,
      'content-type': 'application/problem+json',
      'x-correlation-id': correlationId,
      'access-control-allow-origin': '*',
    },
    body: JSON.stringify(gatewayProblemBody(p, status, correlationId)),
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer | 'too_large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit the rest is read and dropped (not the socket destroyed), so the client gets its 413
    // problem+json answer, as from API Gateway, instead of a reset connection.
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_PAYLOAD) {
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_PAYLOAD ? 'too_large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface GatewayOptions {
  port: number;
  host?: string;
  verify: TokenVerifier;
  invoke: Invoker;
  stage?: string;
  log?: (line: string) => void;
}

export interface Gateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function handleRequest(
  routes: CompiledRoute[],
  opts: Pick<GatewayOptions, 'verify' | 'invoke' | 'stage'>,
  req: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer | 'too_large'; sourceIp: string },
): Promise<APIGatewayProxyResult> {
  const requestId = randomUUID();
  const url = new URL(req.url, 'http://local');
  const method = req.method.toUpperCase();
  if (method === 'OPTIONS') {
    return {
      statusCode: 204,
      headers: {
        ...SECURITY_HEADERS,
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,OPTIONS',
        'access-control-allow-headers': 'authorization,content-type,idempotency-key,x-correlation-id,accept-language',
        'access-control-max-age': '600',
      },
      body: '',
    };
  }
  if (req.body === 'too_large') return problem('REQUEST_TOO_LARGE', requestId);

  const candidates = routes.filter((r) => r.regex.test(url.pathname));
  // An unknown path and an undefined method on a known path look the same, as in API Gateway.
  const match = candidates.find((r) => r.route.method === method);
  if (!match) return problem('MISSING_AUTHENTICATION_TOKEN', requestId);

  let claims: Record<string, string> | undefined;
  if (match.route.auth !== 'public') {
    const header = req.headers.authorization ?? '';
    const token = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim();
    const verified = token ? await opts.verify(token) : null;
    if (!verified) return problem('UNAUTHORIZED', requestId);
    claims = stringifyClaims(verified);
  }

  const values = match.regex.exec(url.pathname)!.slice(1);
  const pathParameters = match.params.length
    ? Object.fromEntries(match.params.map((p, i) => [p, decodeURIComponent(values[i] ?? '')]))
    : null;
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    const list = Array.isArray(v) ? v : [v];
    headers[k] = list[list.length - 1]!;
    multiValueHeaders[k] = list;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    multiQuery[k] = [...(multiQuery[k] ?? []), v];
  }
  const stage = opts.stage ?? 'local';
  const event: APIGatewayProxyEvent = {
    resource: match.route.path,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
    pathParameters,
    stageVariables: null,
    body: req.body.length ? req.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: claims ? { claims } : undefined,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.sourceIp,
        user: null,
        userAgent: headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/${stage}${url.pathname}`,
      stage,
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: match.route.path,
    },
  };
  try {
    const result = (await opts.invoke(match.fn.name, event)) as APIGatewayProxyResult;
    if (!result || typeof result.statusCode !== 'number') {
      return problem('DEFAULT_5XX', requestId);
    }
    return result;
  } catch (err) {
    console.error(`[gateway] ${match.fn.name} threw:`, err);
    return problem('DEFAULT_5XX', requestId);
  }
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const routes = compileRoutes();
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer(async (req, res) => {
    const started = Date.now();
    try {
      const body = await readBody(req);
      const result = await handleRequest(routes, opts, {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      });
      const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
      for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
      res.writeHead(result.statusCode, headers);
      res.end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined);
      opts.log?.(`${req.method} ${req.url} -> ${result.statusCode} ${Date.now() - started}ms`);
    } catch (err) {
      console.error('[gateway] request failed', err);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ status: 500, code: 'internal_error', detail: 'The local gateway failed.' }));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? 'localhost'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
