/**
 * Notifications: SQS (EventBridge envelopes routed by the manifest's rules) -> the email port.
 *
 * Invariants:
 * - idempotent per domain event: the dedupe id is detail.eventId (the outbox eventId, stable
 *   across relay retries), else the envelope id; the email port writes at most one email per id
 * - 'client.registered' sends the welcome email in the client's locale; other detail types are
 *   acknowledged and logged (no retry, no DLQ)
 * - a malformed envelope or a missing client fails its record (retried, then DLQ)
 * - partial batch failures via Powertools batch processing; no PII in logs
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { emailSender } from '#adapters/email/index.ts';
import { welcomeEmail } from '#adapters/email/templates.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { getClientProfile } from '#store/clients.ts';

const processor = new BatchProcessor(EventType.SQS);

export interface EventEnvelope {
  id: string;
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
}

export function parseEnvelope(body: string): EventEnvelope {
  const e = JSON.parse(body) as Partial<EventEnvelope>;
  if (!e || typeof e.id !== 'string' || typeof e['detail-type'] !== 'string' || !e.detail || typeof e.detail !== 'object') {
    throw new Error('notifications: record body is not an EventBridge envelope');
  }
  return e as EventEnvelope;
}

export const dedupeIdOf = (e: EventEnvelope) => (typeof e.detail.eventId === 'string' ? e.detail.eventId : e.id);

async function clientRegistered(e: EventEnvelope): Promise<void> {
  const clientId = String(e.detail.clientId ?? '');
  const profile = clientId ? await getClientProfile(clientId) : undefined;
  if (!profile) throw new Error('notifications: client.registered for an unknown client');
  const cfg = tenantConfig();
  const message = welcomeEmail({
    to: profile.email,
    firstName: profile.firstName,
    brandName: cfg.brand.name,
    supportEmail: cfg.brand.supportEmail,
    locale: profile.locale ?? cfg.defaultLocale,
  });
  const res = await emailSender().send(message, { dedupeId: dedupeIdOf(e) });
  logger.info('welcome email', { clientId, eventId: dedupeIdOf(e), status: res.status });
}

const HANDLERS: Record<string, (e: EventEnvelope) => Promise<void>> = {
  'client.registered': clientRegistered,
};

async function recordHandler(record: SQSRecord): Promise<void> {
  const e = parseEnvelope(record.body);
  const h = HANDLERS[e['detail-type']];
  if (!h) {
    logger.info('event ignored: no notification for this type', { detailType: e['detail-type'], eventId: dedupeIdOf(e) });
    return;
  }
  await h(e);
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, recordHandler, processor, { context });
}
