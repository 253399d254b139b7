/**
 * The errors API Gateway answers by itself, before any handler runs (authorizer refusals, unknown
 * routes, throttling, WAF blocks, oversize payloads, integration failures), as problem+json with the
 * same stable codes the handlers use. infra/ turns this list into gateway responses; the local gateway
 * (local/gateway.ts) answers the same cases from the same list, so local and AWS agree.
 */
export interface GatewayProblem {
  /** API Gateway response type, e.g. UNAUTHORIZED */
  type: string;
  /** Omitted: keep the status API Gateway chose (e.g. DEFAULT_4XX covers 403s and 415s). */
  status?: number;
  code: string;
  detail: string;
}

const AUTH: Omit<GatewayProblem, 'type'> = { status: 401, code: 'unauthenticated', detail: 'A valid bearer token is required.' };
const NO_ROUTE: Omit<GatewayProblem, 'type'> = { status: 404, code: 'route_not_found', detail: 'No such route.' };
const THROTTLED: Omit<GatewayProblem, 'type'> = { status: 429, code: 'rate_limited', detail: 'Too many requests; retry later.' };

export const GATEWAY_PROBLEMS: readonly GatewayProblem[] = [
  { type: 'UNAUTHORIZED', ...AUTH },
  { type: 'EXPIRED_TOKEN', ...AUTH },
  { type: 'INVALID_SIGNATURE', ...AUTH },
  { type: 'ACCESS_DENIED', status: 403, code: 'forbidden', detail: 'The caller may not perform this action.' },
  // API Gateway answers an undefined method on a defined path the same way as an unknown path.
  { type: 'MISSING_AUTHENTICATION_TOKEN', ...NO_ROUTE },
  { type: 'RESOURCE_NOT_FOUND', ...NO_ROUTE },
  { type: 'THROTTLED', ...THROTTLED },
  { type: 'QUOTA_EXCEEDED', ...THROTTLED },
  { type: 'WAF_FILTERED', status: 403, code: 'request_blocked', detail: 'The request was blocked.' },
  { type: 'REQUEST_TOO_LARGE', status: 413, code: 'body_too_large', detail: 'The request body is too large.' },
  { type: 'BAD_REQUEST_BODY', status: 400, code: 'validation_failed', detail: 'The request body is invalid.' },
  {
    type: 'INTEGRATION_TIMEOUT',
    status: 504,
    code: 'upstream_timeout',
    detail: 'The service did not answer in time; retrying with the same Idempotency-Key is safe.',
  },
  { type: 'DEFAULT_4XX', code: 'bad_request', detail: 'The request could not be processed.' },
  { type: 'DEFAULT_5XX', code: 'bad_gateway', detail: 'The service failed; retry later.' },
];

export function gatewayProblem(type: string): GatewayProblem {
  const p = GATEWAY_PROBLEMS.find((g) => g.type === type);
  if (!p) throw new Error(`No gateway problem for ${type}`);
  return p;
}

/** The problem+json body API Gateway renders (correlationId is API Gateway's request id). */
export function gatewayProblemBody(p: GatewayProblem, status: number, correlationId: string) {
  return {
    type: `https://errors.backoffice.dev/${p.code}`,
    title: p.code,
    status,
    code: p.code,
    detail: p.detail,
    correlationId,
  };
}
