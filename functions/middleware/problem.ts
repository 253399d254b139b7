/**
 * Errors to RFC 9457 problem+json, and HTTP results to API Gateway proxy results.
 *
 * Guarantees:
 * - every error becomes `application/problem+json` with `{ type, title, status, code, detail, errors?,
 *   correlationId, instance }`; `type` is `https://errors.backoffice.dev/<code>` and `code` is stable
 * - a DomainError's status comes only from its `kind` (validation 400, unauthorized 401, forbidden 403,
 *   not_found 404, conflict 409, unprocessable 422, too_large 413, unsupported_media 415, rate_limited 429,
 *   unavailable 503)
 * - `detail` is localised for the edge's own codes (messages.ts); other DomainError messages pass through
 * - anything that is not a DomainError is a 500 `internal_error` with a generic detail: internal
 *   messages, stacks and request bodies never reach the caller
 * - a rate_limited or unavailable DomainError whose `meta.retryAfterSeconds` is a number is answered with `Retry-After` (whole
 *   seconds, at least 1): the caller is told when to come back, in the header HTTP defines for it
 * - JSON bodies serialise bigint as a decimal string (money is bigint in code, strings in JSON);
 *   204 responses have no body and no content-type
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { DomainError, type ErrorKind, type FieldError } from '#domain/errors.ts';
import { detailFor, titleFor } from './messages.ts';

export const PROBLEM_TYPE_BASE = 'https://errors.backoffice.dev/';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const JSON_CONTENT_TYPE = 'application/json';

export const KIND_STATUS: Record<ErrorKind, number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  too_large: 413,
  unsupported_media: 415,
  rate_limited: 429,
  unavailable: 503,
};

const STATUS_KIND: Record<number, ErrorKind> = {
  400: 'validation',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'not_found',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported_media',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'unavailable',
};

/**
 * An error raised by the HTTP edge itself. It is a DomainError (so `isDomainError` holds), its detail
 * is always taken from the message catalogue in the caller's locale, and it may carry a status that
 * has no domain kind (405, 500) plus response headers (e.g. `allow`).
 */
export class EdgeError extends DomainError {
  constructor(
    code: string,
    readonly status: number,
    errors: FieldError[] = [],
    readonly headers: Record<string, string> = {},
    /** Overrides the catalogue detail (used for author-provided refinement codes). */
    readonly detailOverride?: string,
  ) {
    super(code, STATUS_KIND[status] ?? 'validation', detailOverride ?? detailFor(code, 'en') ?? code, errors);
    this.name = 'EdgeError';
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  errors?: FieldError[];
  correlationId: string;
  instance: string;
}

export interface ProblemContext {
  correlationId: string;
  locale: string;
  instance: string;
}

function retryAfterOf(error: DomainError): Record<string, string> {
  const seconds = error.meta.retryAfterSeconds;
  if ((error.kind !== 'rate_limited' && error.kind !== 'unavailable') || typeof seconds !== 'number' || !Number.isFinite(seconds))
    return {};
  return { 'retry-after': String(Math.max(1, Math.ceil(seconds))) };
}

/** Maps any thrown value to a problem. `internal` tells the caller to log it as an unexpected failure. */
export function toProblem(
  error: unknown,
  ctx: ProblemContext,
): { problem: Problem; headers: Record<string, string>; internal: boolean } {
  if (error instanceof DomainError) {
    const status = error instanceof EdgeError ? error.status : KIND_STATUS[error.kind];
    const localised = error instanceof EdgeError && !error.detailOverride ? detailFor(error.code, ctx.locale) : undefined;
    const problem: Problem = {
      type: PROBLEM_TYPE_BASE + error.code,
      title: titleFor(error.code),
      status,
      code: error.code,
      detail: localised ?? error.message,
      correlationId: ctx.correlationId,
      instance: ctx.instance,
    };
    if (error.errors.length > 0) problem.errors = error.errors;
    const headers = { ...(error instanceof EdgeError ? error.headers : {}), ...retryAfterOf(error) };
    return { problem, headers, internal: false };
  }
  return {
    problem: {
      type: PROBLEM_TYPE_BASE + 'internal_error',
      title: titleFor('internal_error'),
      status: 500,
      code: 'internal_error',
      detail: detailFor('internal_error', ctx.locale) ?? 'Internal error',
      correlationId: ctx.correlationId,
      instance: ctx.instance,
    },
    headers: {},
    internal: true,
  };
}

/** JSON.stringify replacer: bigint becomes its decimal string. */
export const jsonReplacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

export const toJson = (value: unknown): string => JSON.stringify(value, jsonReplacer);

/** A JSON-safe deep copy (bigint -> string, Dates -> ISO strings, undefined dropped). */
export const toJsonSafe = <T = unknown>(value: unknown): T =>
  value === undefined ? (undefined as T) : JSON.parse(toJson(value));

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  if (status === 204 || body === undefined) {
    const { 'content-type': _omit, ...rest } = headers;
    return { statusCode: status, headers: rest, body: '' };
  }
  // A handler that names a non-JSON content type (a CSV statement, say) and returns text gets it sent as is.
  const type = headers['content-type'];
  if (typeof body === 'string' && type !== undefined && !/[/+]json\b/i.test(type)) {
    return { statusCode: status, headers, body };
  }
  return { statusCode: status, headers: { 'content-type': JSON_CONTENT_TYPE, ...headers }, body: toJson(body) };
}

export function problemResponse(problem: Problem, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: problem.status, headers: { ...headers, 'content-type': PROBLEM_CONTENT_TYPE }, body: toJson(problem) };
}
