/**
 * PSP webhook signatures (issue 5): HMAC-SHA256 over the timestamp and the RAW request body, in a
 * header of the form `t=<unix seconds>,v1=<hex>[,v1=<hex>...]` (several v1 values while a provider
 * rotates its secret). The sandbox PSP signs with `signWebhook`; the webhook route verifies with
 * `verifyWebhook` before it parses anything.
 *
 * Invariants:
 * - the signed payload is `${t}.${rawBody}`, byte for byte: a re-serialised JSON body never verifies
 * - a timestamp more than `toleranceSeconds` (default 300) away from now, in either direction, is
 *   refused, so a captured request cannot be replayed later (replays inside the window are stopped by
 *   the route's idempotency on the provider event id)
 * - signatures are compared in constant time; any accepted secret (rotation) may match
 * - every refusal is a DomainError with its own code and kind 'unauthorized' (401), and says nothing
 *   about which part matched
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from '#domain/errors.ts';

export const SIGNATURE_HEADER = 'x-psp-signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;
const MAX_HEADER_LENGTH = 1024;

const refuse = (code: string, message: string) => new DomainError(code, 'unauthorized', message);

const hmacHex = (secret: string, t: number, rawBody: string | Buffer) =>
  createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest('hex');

/** The header value for `rawBody` signed with `secret` at `at` (the sandbox PSP and tests use it). */
export function signWebhook(secret: string, rawBody: string | Buffer, at: Date = new Date()): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${hmacHex(secret, t, rawBody)}`;
}

/** Parses `t=...,v1=...`; undefined when malformed. */
export function parseSignatureHeader(header: string): { t: number; v1: string[] } | undefined {
  if (header.length > MAX_HEADER_LENGTH) return undefined;
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const [key, value, ...rest] = part.trim().split('=');
    if (rest.length > 0 || !value) return undefined;
    if (key === 't') {
      if (t !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      t = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return undefined;
      v1.push(value);
    }
    // other schemes (v0, future versions) are ignored, as providers add them over time
  }
  return t === undefined || v1.length === 0 ? undefined : { t, v1 };
}

/**
 * Verifies a webhook: throws 401 `signature_missing`, `signature_malformed`, `signature_expired`
 * (timestamp outside the tolerance) or `signature_invalid` (no accepted secret produces any v1).
 * Returns the signed timestamp.
 */
export function verifyWebhook(input: {
  header: string | undefined;
  rawBody: string | Buffer;
  secrets: readonly string[];
  now?: Date;
  toleranceSeconds?: number;
}): { signedAt: Date } {
  if (!input.header) throw refuse('signature_missing', 'The webhook is not signed');
  const parsed = parseSignatureHeader(input.header);
  if (!parsed) throw refuse('signature_malformed', 'The webhook signature header is malformed');
  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - parsed.t) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) {
    throw refuse('signature_expired', 'The webhook timestamp is outside the accepted window');
  }
  const given = parsed.v1.map((h) => Buffer.from(h, 'hex'));
  for (const secret of input.secrets) {
    if (!secret) continue;
    const expected = Buffer.from(hmacHex(secret, parsed.t, input.rawBody), 'hex');
    if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) {
      return { signedAt: new Date(parsed.t * 1000) };
    }
  }
  throw refuse('signature_invalid', 'The webhook signature does not match');
}

/**
 * A verified webhook body read against the provider's schema: JSON, then `schema`; anything else is the
 * provider's `malformed` error (400 webhook_malformed) with `notJson` / `notEvent` as its message.
 */
export function readWebhookBody<T>(
  rawBody: string,
  schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false } },
  malformed: (message: string) => Error,
  messages: { notJson: string; notEvent: string },
): T {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw malformed(messages.notJson);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw malformed(messages.notEvent);
  return parsed.data;
}
