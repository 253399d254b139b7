/**
 * The HTTP edge's own error codes: their stable English titles, and their localized details, which
 * live in the message catalogue (domain/messages/http.ts, keys 'http.<code>').
 *
 * Guarantees:
 * - every code the middleware can emit has an English title (stable, not localised: RFC 9457 `title`)
 *   and a `detail` in every catalogue locale (en, de, es); a test checks the catalogue is complete
 * - `detailFor` never throws: an unknown locale falls back by the catalogue's rule (its language,
 *   then English), an unknown code to undefined (DomainError messages from handlers are passed through
 *   by the error middleware instead)
 */
import { MESSAGE_LOCALES, type MessageLocale, text } from '#domain/messages/catalogue.ts';

export const CATALOGUE_LOCALES = MESSAGE_LOCALES;
export type CatalogueLocale = MessageLocale;

export const EDGE_CODES = [
  'route_not_found',
  'method_not_allowed',
  'unauthenticated',
  'forbidden_role',
  'not_found',
  'unsupported_media_type',
  'body_too_large',
  'malformed_json',
  'validation_failed',
  'idempotency_key_required',
  'invalid_idempotency_key',
  'idempotency_key_reused',
  'idempotency_in_progress',
  'internal_error',
] as const;
export type EdgeCode = (typeof EDGE_CODES)[number];

export const TITLES: Record<EdgeCode, string> = {
  route_not_found: 'Route not found',
  method_not_allowed: 'Method not allowed',
  unauthenticated: 'Unauthenticated',
  forbidden_role: 'Forbidden',
  not_found: 'Not found',
  unsupported_media_type: 'Unsupported media type',
  body_too_large: 'Request body too large',
  malformed_json: 'Malformed JSON',
  validation_failed: 'Validation failed',
  idempotency_key_required: 'Idempotency key required',
  invalid_idempotency_key: 'Invalid idempotency key',
  idempotency_key_reused: 'Idempotency key reused',
  idempotency_in_progress: 'Request in progress',
  internal_error: 'Internal error',
};

/** The details, from the message catalogue ('http.<code>'): locale -> code -> detail. */
const DETAILS: Record<CatalogueLocale, Record<EdgeCode, string>> = Object.fromEntries(
  CATALOGUE_LOCALES.map((l) => [l, Object.fromEntries(EDGE_CODES.map((c) => [c, text(`http.${c}`, l)]))]),
) as Record<CatalogueLocale, Record<EdgeCode, string>>;

export const isEdgeCode = (code: string): code is EdgeCode => (EDGE_CODES as readonly string[]).includes(code);

/** The localised detail for one of the edge's own codes; English when the locale has no catalogue. */
export function detailFor(code: string, locale: string): string | undefined {
  return isEdgeCode(code) ? text(`http.${code}`, locale) : undefined;
}

export function titleFor(code: string): string {
  return isEdgeCode(code) ? TITLES[code] : code.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** For tests: every locale has every code. */
export const catalogue = DETAILS;
