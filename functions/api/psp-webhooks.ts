/**
 * POST /v1/webhooks/psp/{provider}: the payment providers' webhooks (public: the signature is the
 * authentication). The use case functions/app/payments/receive-psp-webhook.ts does the work.
 *
 * Invariants:
 * - the body is read RAW (no body schema: the edge never parses or re-serialises it), base64-decoded
 *   when API Gateway delivers it encoded, and at most MAX_WEBHOOK_BYTES (413 body_too_large)
 * - headers reach the verifier with lower-cased names
 * - answers 200 { status: 'applied' | 'ignored' | 'duplicate', eventId }; refusals are problem+json:
 *   404 unknown_provider, 401 signature_*, 400 webhook_malformed
 * - every 401 signature_* is a security event (webhook_signature_rejected, by the request's source, aimed at
 *   psp:<provider>, the code as detail): the use case records it best effort, after nothing else was written
 */
import * as z from 'zod';
import { receivePspWebhook } from '#app/payments/receive-psp-webhook.ts';
import { defineRoute, EdgeError, httpHandler } from '#middleware/http.ts';
import { sourceOfEvent } from '#middleware/security.ts';

export const MAX_WEBHOOK_BYTES = 64 * 1024;

const Params = z.strictObject({ provider: z.string().min(1).max(40) });
const WebhookAnswer = z.object({ status: z.enum(['applied', 'ignored', 'duplicate']), eventId: z.string() });

/** The request body exactly as sent. */
export function rawBodyOf(event: { body: string | null; isBase64Encoded?: boolean }): string {
  const body = event.body ?? '';
  const raw = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  if (Buffer.byteLength(raw, 'utf8') > MAX_WEBHOOK_BYTES) throw new EdgeError('body_too_large', 413);
  return raw;
}

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/webhooks/psp/{provider}',
    operationId: 'receivePspWebhook',
    summary: "A payment provider's signed event: applied once per event id",
    tags: ['payments'],
    auth: 'public',
    params: Params,
    responses: {
      200: { description: 'Applied, ignored (recorded, changed nothing) or a duplicate', schema: WebhookAnswer },
      400: { description: 'webhook_malformed' },
      401: { description: 'signature_missing, signature_malformed, signature_expired, signature_invalid' },
      404: { description: 'unknown_provider' },
      413: { description: 'body_too_large' },
    },
    handler: async ({ params, headers, event, correlationId, locale }) => {
      const result = await receivePspWebhook(
        { provider: params.provider, headers, rawBody: rawBodyOf(event), source: sourceOfEvent(event) },
        { requestId: correlationId, locale, now: new Date() },
      );
      return { status: 200, body: { status: result.status, eventId: result.eventId } };
    },
  }),
];

export const handler = httpHandler(...routes);
