/**
 * Message catalogue for the HTTP edge's own error codes.
 *
 * Guarantees:
 * - every code the middleware can emit has an English title (stable, not localised: RFC 9457 `title`)
 *   and a `detail` in every catalogue locale (en, de, es); a test checks the catalogue is complete
 * - `detailFor` never throws: an unknown locale falls back to English, an unknown code to undefined
 *   (DomainError messages from handlers are passed through by the error middleware instead)
 */
export const CATALOGUE_LOCALES = ['en', 'de', 'es'] as const;
export type CatalogueLocale = (typeof CATALOGUE_LOCALES)[number];

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

const DETAILS: Record<CatalogueLocale, Record<EdgeCode, string>> = {
  en: {
    route_not_found: 'No such route.',
    method_not_allowed: 'This method is not allowed on this resource.',
    unauthenticated: 'Sign in to use this resource.',
    forbidden_role: 'Your role does not allow this action.',
    not_found: 'The resource does not exist.',
    unsupported_media_type: 'Send the request body as application/json.',
    body_too_large: 'The request body exceeds 64 KiB.',
    malformed_json: 'The request body is not valid JSON.',
    validation_failed: 'Some fields are invalid.',
    idempotency_key_required: 'This request requires an Idempotency-Key header.',
    invalid_idempotency_key: 'The Idempotency-Key header must be 8-255 characters of A-Z, a-z, 0-9, -, _, :, or .',
    idempotency_key_reused: 'This Idempotency-Key was already used with a different request body.',
    idempotency_in_progress: 'A request with this Idempotency-Key is still in progress. Retry later.',
    internal_error: 'Something went wrong on our side. Quote the correlation id when contacting support.',
  },
  de: {
    route_not_found: 'Diese Route gibt es nicht.',
    method_not_allowed: 'Diese Methode ist für diese Ressource nicht erlaubt.',
    unauthenticated: 'Bitte melden Sie sich an, um diese Ressource zu nutzen.',
    forbidden_role: 'Ihre Rolle erlaubt diese Aktion nicht.',
    not_found: 'Die Ressource existiert nicht.',
    unsupported_media_type: 'Senden Sie den Anfragetext als application/json.',
    body_too_large: 'Der Anfragetext ist größer als 64 KiB.',
    malformed_json: 'Der Anfragetext ist kein gültiges JSON.',
    validation_failed: 'Einige Felder sind ungültig.',
    idempotency_key_required: 'Diese Anfrage erfordert einen Idempotency-Key-Header.',
    invalid_idempotency_key: 'Der Idempotency-Key-Header muss 8-255 Zeichen aus A-Z, a-z, 0-9, -, _, : oder . enthalten.',
    idempotency_key_reused: 'Dieser Idempotency-Key wurde bereits mit einem anderen Anfragetext verwendet.',
    idempotency_in_progress: 'Eine Anfrage mit diesem Idempotency-Key wird noch bearbeitet. Bitte später erneut versuchen.',
    internal_error: 'Bei uns ist ein Fehler aufgetreten. Nennen Sie dem Support die Korrelations-ID.',
  },
  es: {
    route_not_found: 'Esta ruta no existe.',
    method_not_allowed: 'Este método no está permitido en este recurso.',
    unauthenticated: 'Inicie sesión para usar este recurso.',
    forbidden_role: 'Su rol no permite esta acción.',
    not_found: 'El recurso no existe.',
    unsupported_media_type: 'Envíe el cuerpo de la solicitud como application/json.',
    body_too_large: 'El cuerpo de la solicitud supera los 64 KiB.',
    malformed_json: 'El cuerpo de la solicitud no es JSON válido.',
    validation_failed: 'Algunos campos no son válidos.',
    idempotency_key_required: 'Esta solicitud requiere una cabecera Idempotency-Key.',
    invalid_idempotency_key: 'La cabecera Idempotency-Key debe tener 8-255 caracteres de A-Z, a-z, 0-9, -, _, : o .',
    idempotency_key_reused: 'Esta Idempotency-Key ya se usó con un cuerpo de solicitud distinto.',
    idempotency_in_progress: 'Una solicitud con esta Idempotency-Key sigue en curso. Inténtelo más tarde.',
    internal_error: 'Algo falló de nuestro lado. Indique el identificador de correlación al contactar con soporte.',
  },
};

export const isEdgeCode = (code: string): code is EdgeCode => (EDGE_CODES as readonly string[]).includes(code);

/** The localised detail for one of the edge's own codes; English when the locale has no catalogue. */
export function detailFor(code: string, locale: string): string | undefined {
  if (!isEdgeCode(code)) return undefined;
  const primary = locale.toLowerCase().split('-')[0] as CatalogueLocale;
  const table = DETAILS[primary] ?? DETAILS.en;
  return table[code];
}

export function titleFor(code: string): string {
  return isEdgeCode(code) ? TITLES[code] : code.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/** For tests: every locale has every code. */
export const catalogue = DETAILS;
