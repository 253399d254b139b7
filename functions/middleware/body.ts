/**
 * The request body, read only for routes that declare a body schema.
 *
 * Guarantees (checked in this order):
 * - a route without a body schema never looks at the body
 * - bodies over 64 KiB (after base64 decoding) are 413 `body_too_large`, before any parsing
 * - a non-empty body must be `application/json` (or `application/*+json`), else 415 `unsupported_media_type`
 * - a body that is not JSON is 400 `malformed_json`
 * - an empty body is `undefined`, which the route's schema then rejects as 400 `validation_failed`
 * - the body is never logged
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { EdgeError } from './problem.ts';

export const MAX_BODY_BYTES = 64 * 1024;

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const media = value.split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(media);
}

/** Reads and parses the JSON body. `headers` must already be lower-cased. */
export function readJsonBody(event: APIGatewayProxyEvent, headers: Record<string, string>): unknown {
  const raw = event.body;
  if (raw === null || raw === undefined || raw === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw new EdgeError('body_too_large', 413);
  if (!isJsonContentType(headers['content-type'])) throw new EdgeError('unsupported_media_type', 415);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new EdgeError('malformed_json', 400);
  }
}
