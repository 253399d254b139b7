/**
 * The REST API as one OpenAPI 3.0 document with API Gateway's extensions, built from the manifest's
 * routes (docs/decisions/0009-deployment-layout.md). CloudFormation creates the whole API from it as ONE
 * AWS::ApiGateway::RestApi: paths, methods, the CORS preflight of every path, the authorizer, the request
 * validator and the gateway responses cost no resource of their own (as AWS::ApiGateway::Resource / Method
 * / GatewayResponse they were 190 of the stack's 500, 65 of them preflight OPTIONS).
 *
 * - Every route: a Lambda proxy integration (`aws_proxy`, POST to the function's invocation ARN), path
 *   parameters required, the `params` validator; non-public routes carry the Cognito authorizer over both
 *   user pools (ID tokens; role checks stay in the handlers) or, in the LocalStack build, the Lambda TOKEN
 *   authorizer.
 * - Every path: an OPTIONS mock answering the CORS preflight (204) for the tenant's origins: a single
 *   origin is answered as is; with several, the request's Origin is echoed back when it is one of them
 *   (the same VTL CDK's addCorsPreflight renders).
 * - Gateway responses: the problem+json list of functions/shared/gateway-problems.ts, with the security
 *   headers of every API response (functions/shared/security-headers.ts).
 *
 * API Gateway imports OpenAPI 3.0.x (not 3.1); the public document served at /openapi.json is generated
 * from the zod schemas and is a different, richer document.
 */
import type { HttpMethod, RouteSpec } from '#functions/manifest.ts';
import { GATEWAY_PROBLEMS, gatewayProblemBody } from '#shared/gateway-problems.ts';
import { SECURITY_HEADERS } from '#shared/security-headers.ts';

export const CORS_ALLOW_HEADERS = [
  'Content-Type',
  'X-Amz-Date',
  'Authorization',
  'X-Api-Key',
  'X-Amz-Security-Token',
  'X-Amz-User-Agent',
  'Idempotency-Key',
  'X-Correlation-Id',
];
export const CORS_MAX_AGE_SECONDS = 3600;
export const REQUEST_VALIDATOR = 'params';
export const AUTHORIZER = 'backoffice-authorizer';

export interface SpecRoute {
  route: RouteSpec;
  /** The integrated function's ARN (a token at synth time). */
  functionArn: string;
}

export type SpecAuthorizer =
  | { kind: 'cognito'; userPoolArns: string[]; ttlSeconds: number }
  | { kind: 'token'; functionArn: string; ttlSeconds: number };

export interface ApiSpecProps {
  title: string;
  description: string;
  routes: readonly SpecRoute[];
  authorizer: SpecAuthorizer;
  corsOrigins: readonly string[];
  /** `${AWS::Region}` (a token) and `${AWS::Partition}`, to build the invocation ARNs. */
  region: string;
  partition: string;
}

type Json = Record<string, unknown>;

const invocationUri = (p: Pick<ApiSpecProps, 'region' | 'partition'>, functionArn: string) =>
  `arn:${p.partition}:apigateway:${p.region}:lambda:path/2015-03-31/functions/${functionArn}/invocations`;

export const pathParameters = (path: string) => [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]!);

/** The OpenAPI document (a plain object with tokens), ready for SpecRestApi's ApiDefinition.fromInline. */
export function buildApiSpec(p: ApiSpecProps): Json {
  const paths: Record<string, Json> = {};
  for (const { route, functionArn } of p.routes) {
    const item = paths[route.path] ?? {};
    paths[route.path] = item;
    const method = route.method.toLowerCase();
    if (item[method]) throw new Error(`api spec: ${route.method} ${route.path} is declared twice`);
    item[method] = operation(p, route, functionArn);
  }
  for (const [path, item] of Object.entries(paths)) item.options = preflight(path, p.corsOrigins);

  return {
    openapi: '3.0.1',
    info: { title: p.title, description: p.description, version: '1' },
    paths,
    components: { securitySchemes: { [AUTHORIZER]: securityScheme(p, p.authorizer) } },
    'x-amazon-apigateway-request-validators': {
      [REQUEST_VALIDATOR]: { validateRequestParameters: true, validateRequestBody: false },
    },
    'x-amazon-apigateway-gateway-responses': gatewayResponses(p.corsOrigins),
  };
}

function operation(p: ApiSpecProps, route: RouteSpec, functionArn: string): Json {
  const params = pathParameters(route.path);
  return {
    operationId: operationId(route.method, route.path),
    ...(params.length
      ? { parameters: params.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })) }
      : {}),
    ...(route.auth === 'public' ? { security: [] } : { security: [{ [AUTHORIZER]: [] }] }),
    responses: { default: { description: 'problem+json on errors; see /openapi.json' } },
    'x-amazon-apigateway-request-validator': REQUEST_VALIDATOR,
    'x-amazon-apigateway-integration': {
      type: 'aws_proxy',
      httpMethod: 'POST',
      uri: invocationUri(p, functionArn),
      passthroughBehavior: 'when_no_match',
      timeoutInMillis: 29_000,
    },
  };
}

/** `GET /v1/admin/clients/{clientId}/audit` -> `getV1AdminClientsClientIdAudit` (unique per method and path). */
export function operationId(method: HttpMethod | 'OPTIONS', path: string): string {
  const words = path
    .replace(/[{}+]/g, '')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1));
  return method.toLowerCase() + (words.join('') || 'Root');
}

function securityScheme(p: ApiSpecProps, a: SpecAuthorizer): Json {
  if (a.kind === 'cognito') {
    return {
      type: 'apiKey',
      name: 'Authorization',
      in: 'header',
      'x-amazon-apigateway-authtype': 'cognito_user_pools',
      'x-amazon-apigateway-authorizer': {
        type: 'cognito_user_pools',
        providerARNs: a.userPoolArns,
        identitySource: 'method.request.header.Authorization',
        authorizerResultTtlInSeconds: a.ttlSeconds,
      },
    };
  }
  return {
    type: 'apiKey',
    name: 'Authorization',
    in: 'header',
    'x-amazon-apigateway-authtype': 'custom',
    'x-amazon-apigateway-authorizer': {
      type: 'token',
      authorizerUri: invocationUri(p, a.functionArn),
      identitySource: 'method.request.header.Authorization',
      authorizerResultTtlInSeconds: a.ttlSeconds,
    },
  };
}

/** The VTL that echoes an allowed Origin back (several origins); `corsOrigins[0]` is the static default. */
export function corsOriginTemplate(origins: readonly string[]): string | undefined {
  if (origins.length <= 1) return undefined;
  const condition = origins
    .slice(1)
    .map((o) => `$origin == "${o}"`)
    .join(' || ');
  return [
    '#set($origin = $input.params().header.get("Origin"))',
    '#if($origin == "")',
    '  #set($origin = $input.params().header.get("origin"))',
    '#end',
    `#if(${condition})`,
    '  #set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)',
    '#end',
  ].join('\n');
}

function preflight(path: string, origins: readonly string[]): Json {
  const headers: Record<string, string> = {
    'Access-Control-Allow-Headers': `'${CORS_ALLOW_HEADERS.join(',')}'`,
    'Access-Control-Allow-Origin': `'${origins[0]}'`,
    'Access-Control-Allow-Methods': "'OPTIONS,GET,PUT,POST,DELETE,PATCH,HEAD'",
    'Access-Control-Max-Age': `'${CORS_MAX_AGE_SECONDS}'`,
    ...(origins[0] === '*' ? {} : { Vary: "'Origin'" }),
    ...Object.fromEntries(Object.entries(SECURITY_HEADERS).map(([h, v]) => [h, `'${v}'`])),
  };
  const template = corsOriginTemplate(origins);
  return {
    operationId: operationId('OPTIONS', path),
    summary: 'CORS preflight',
    ...(pathParameters(path).length
      ? { parameters: pathParameters(path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } })) }
      : {}),
    security: [],
    responses: {
      '204': {
        description: 'CORS preflight',
        headers: Object.fromEntries(Object.keys(headers).map((h) => [h, { schema: { type: 'string' } }])),
      },
    },
    'x-amazon-apigateway-integration': {
      type: 'mock',
      requestTemplates: { 'application/json': '{ "statusCode": 200 }' },
      passthroughBehavior: 'when_no_match',
      responses: {
        default: {
          statusCode: '204',
          responseParameters: Object.fromEntries(Object.entries(headers).map(([h, v]) => [`method.response.header.${h}`, v])),
          ...(template ? { responseTemplates: { 'application/json': template } } : {}),
        },
      },
    },
  };
}

/**
 * Problem+json gateway responses. A gateway response can name one static origin only: the first, the trader
 * room, so the app that signs clients in can read API Gateway's own errors (never `*`).
 */
function gatewayResponses(origins: readonly string[]): Json {
  const origin = origins[0]!;
  return Object.fromEntries(
    GATEWAY_PROBLEMS.map((problem) => {
      // Without a fixed status (DEFAULT_4XX/5XX keep API Gateway's own), the body names no status.
      const { status: _unknown, ...withoutStatus } = gatewayProblemBody(problem, 0, '$context.requestId');
      const body = problem.status ? gatewayProblemBody(problem, problem.status, '$context.requestId') : withoutStatus;
      return [
        problem.type,
        {
          ...(problem.status ? { statusCode: String(problem.status) } : {}),
          responseParameters: {
            'gatewayresponse.header.Content-Type': "'application/problem+json'",
            'gatewayresponse.header.x-correlation-id': 'context.requestId',
            'gatewayresponse.header.Access-Control-Allow-Origin': `'${origin}'`,
            ...Object.fromEntries(Object.entries(SECURITY_HEADERS).map(([h, v]) => [`gatewayresponse.header.${h}`, `'${v}'`])),
          },
          responseTemplates: { 'application/json': JSON.stringify(body) },
        },
      ];
    }),
  );
}
