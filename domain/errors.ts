/**
 * Typed business errors. Every error a caller can cause has a stable machine `code`
 * (snake_case, never renamed once shipped) and a `kind` that the HTTP edge maps to a status:
 *   validation -> 400, unauthorized -> 401, forbidden -> 403, not_found -> 404,
 *   conflict -> 409, unprocessable -> 422, too_large -> 413, unsupported_media -> 415, rate_limited -> 429,
 *   unavailable -> 503 (an outside system we depend on, such as a trading platform, did not answer; retry later)
 */
export type ErrorKind =
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'too_large'
  | 'unsupported_media'
  | 'rate_limited'
  | 'unavailable';

export interface FieldError {
  /** JSON pointer-ish path, e.g. "email" or "address.country" */
  field: string;
  code: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly errors: FieldError[] = [],
    readonly meta: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;
