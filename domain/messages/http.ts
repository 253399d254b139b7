/**
 * Messages of the HTTP edge: the localized `detail` of each problem+json code the middleware itself
 * emits (functions/middleware/messages.ts keeps the codes and their stable English titles).
 * DomainError messages from handlers are not here: the error middleware passes them through.
 */
import { defineMessages } from './define.ts';

export const HTTP_MESSAGES = defineMessages({
  route_not_found: {
    en: 'No such route.',
    de: 'Diese Route gibt es nicht.',
    es: 'Esta ruta no existe.',
  },
  method_not_allowed: {
    en: 'This method is not allowed on this resource.',
    de: 'Diese Methode ist für diese Ressource nicht erlaubt.',
    es: 'Este método no está permitido en este recurso.',
  },
  unauthenticated: {
    en: 'Sign in to use this resource.',
    de: 'Bitte melden Sie sich an, um diese Ressource zu nutzen.',
    es: 'Inicie sesión para usar este recurso.',
  },
  forbidden_role: {
    en: 'Your role does not allow this action.',
    de: 'Ihre Rolle erlaubt diese Aktion nicht.',
    es: 'Su rol no permite esta acción.',
  },
  not_found: {
    en: 'The resource does not exist.',
    de: 'Die Ressource existiert nicht.',
    es: 'El recurso no existe.',
  },
  unsupported_media_type: {
    en: 'Send the request body as application/json.',
    de: 'Senden Sie den Anfragetext als application/json.',
    es: 'Envíe el cuerpo de la solicitud como application/json.',
  },
  body_too_large: {
    en: 'The request body exceeds 64 KiB.',
    de: 'Der Anfragetext ist größer als 64 KiB.',
    es: 'El cuerpo de la solicitud supera los 64 KiB.',
  },
  malformed_json: {
    en: 'The request body is not valid JSON.',
    de: 'Der Anfragetext ist kein gültiges JSON.',
    es: 'El cuerpo de la solicitud no es JSON válido.',
  },
  validation_failed: {
    en: 'Some fields are invalid.',
    de: 'Einige Felder sind ungültig.',
    es: 'Algunos campos no son válidos.',
  },
  idempotency_key_required: {
    en: 'This request requires an Idempotency-Key header.',
    de: 'Diese Anfrage erfordert einen Idempotency-Key-Header.',
    es: 'Esta solicitud requiere una cabecera Idempotency-Key.',
  },
  invalid_idempotency_key: {
    en: 'The Idempotency-Key header must be 8-255 characters of A-Z, a-z, 0-9, -, _, :, or .',
    de: 'Der Idempotency-Key-Header muss 8-255 Zeichen aus A-Z, a-z, 0-9, -, _, : oder . enthalten.',
    es: 'La cabecera Idempotency-Key debe tener 8-255 caracteres de A-Z, a-z, 0-9, -, _, : o .',
  },
  idempotency_key_reused: {
    en: 'This Idempotency-Key was already used with a different request body.',
    de: 'Dieser Idempotency-Key wurde bereits mit einem anderen Anfragetext verwendet.',
    es: 'Esta Idempotency-Key ya se usó con un cuerpo de solicitud distinto.',
  },
  idempotency_in_progress: {
    en: 'A request with this Idempotency-Key is still in progress. Retry later.',
    de: 'Eine Anfrage mit diesem Idempotency-Key wird noch bearbeitet. Bitte später erneut versuchen.',
    es: 'Una solicitud con esta Idempotency-Key sigue en curso. Inténtelo más tarde.',
  },
  internal_error: {
    en: 'Something went wrong on our side. Quote the correlation id when contacting support.',
    de: 'Bei uns ist ein Fehler aufgetreten. Nennen Sie dem Support die Korrelations-ID.',
    es: 'Algo falló de nuestro lado. Indique el identificador de correlación al contactar con soporte.',
  },
});
