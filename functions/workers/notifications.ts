/**
 * Notifications: SQS (EventBridge envelopes routed by the manifest's rules) -> an email to the client,
 * through the use case functions/app/platform/notify-client.ts (recipient, locale, templates, send).
 *
 * Emails, each in the client's locale (the tenant's default locale when the profile has none or an
 * unsupported one), with the brand name and the support address (adapters/email/templates.ts):
 * - 'client.registered'        -> welcome
 * - 'kyc.approved'             -> kyc_approved (verified, the account can be funded)
 * - 'kyc.rejected'             -> kyc_rejected_resubmit (canResubmit: upload new documents, with the
 *                                 client-safe reasons) | kyc_rejected_final (contact support, no reason)
 * - 'kyc.documents_requested'  -> kyc_documents_requested (the document categories to upload again, from
 *                                 the reasons and the named files, with the client-safe reasons)
 * - 'kyc.document_expiring'    -> kyc_document_expiring (the date and the days left)
 * - 'kyc.expired'              -> kyc_expired (renew the verification; trading/withdrawals may be limited)
 * - 'payment.deposit.completed'   -> deposit_completed (the amount credited: the net)
 * - 'payment.deposit.failed'      -> deposit_failed (the amount, the reason's client text, try again)
 * - 'payment.withdrawal.completed' -> withdrawal_completed (the amount, what is paid out, the fee)
 * - 'payment.withdrawal.rejected' / 'payment.withdrawal.failed' -> withdrawal_rejected / withdrawal_failed
 * - 'payment.refund.completed'    -> refund_completed (the amount refunded to the original method)
 * - 'payment.chargeback.received' -> chargeback_received (disputed, debited, still owed; withdrawals paused)
 *                                 (the reason's client text, the funds are available again)
 *
 * Invariants:
 * - idempotent per domain event: the dedupe id is detail.eventId (the outbox eventId, stable
 *   across relay retries), else the envelope id; the email port writes at most one email per id
 * - other detail types are acknowledged and logged (no retry, no DLQ)
 * - every detail is parsed against the event catalogue (domain/events parseEvent): a malformed envelope,
 *   a detail that breaks its contract (EventContractError), or a missing client fails its record (retried,
 *   then DLQ)
 * - reason codes reach the email only through the templates' client-safe messages (domain/kyc
 *   clientReasons; for payments domain/payments/reasons.ts via payment-templates.ts): confidential
 *   codes never appear in an email
 * - payment amounts are the event's decimal strings (the catalogue's schemas), never floats
 * - partial batch failures via Powertools batch processing; no PII in logs (ids, template, status only)
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type ClientNotification, notifyClient } from '#app/platform/notify-client.ts';
import { parseEvent } from '#domain/events/index.ts';
import { dedupeIdOf, type EventEnvelope, parseEnvelope } from '#shared/envelope.ts';
import { instrumented } from '#shared/handler.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';

const processor = new BatchProcessor(EventType.SQS);

export { dedupeIdOf, type EventEnvelope, parseEnvelope } from '#shared/envelope.ts';

/** Emails the event's client (functions/app/platform/notify-client.ts); an unknown client fails the record. */
async function notify(e: EventEnvelope, notification: ClientNotification): Promise<void> {
  await notifyClient(
    {
      clientId: typeof e.detail.clientId === 'string' ? e.detail.clientId : '',
      dedupeId: dedupeIdOf(e),
      detailType: e['detail-type'],
      notification,
    },
    { requestId: e.id, locale: tenantConfig().defaultLocale },
  );
}

async function clientRegistered(e: EventEnvelope): Promise<void> {
  parseEvent('client.registered', e.detail);
  await notify(e, { kind: 'welcome' });
}

async function kycApproved(e: EventEnvelope): Promise<void> {
  parseEvent('kyc.approved', e.detail);
  await notify(e, { kind: 'kyc_approved' });
}

async function kycRejected(e: EventEnvelope): Promise<void> {
  const { canResubmit, reasons } = parseEvent('kyc.rejected', e.detail);
  await notify(e, { kind: 'kyc_rejected', canResubmit, reasons });
}

async function kycDocumentsRequested(e: EventEnvelope): Promise<void> {
  const { reasons, documentIds } = parseEvent('kyc.documents_requested', e.detail);
  await notify(e, { kind: 'kyc_documents_requested', reasons, documentIds });
}

async function kycDocumentExpiring(e: EventEnvelope): Promise<void> {
  const { identityExpiresOn, daysLeft } = parseEvent('kyc.document_expiring', e.detail);
  await notify(e, { kind: 'kyc_document_expiring', identityExpiresOn, daysLeft });
}

async function kycExpired(e: EventEnvelope): Promise<void> {
  const { identityExpiresOn } = parseEvent('kyc.expired', e.detail);
  await notify(e, { kind: 'kyc_expired', identityExpiresOn });
}

async function depositCompleted(e: EventEnvelope): Promise<void> {
  const { amount, currency } = parseEvent('payment.deposit.completed', e.detail);
  await notify(e, { kind: 'deposit_completed', amount, currency });
}

async function depositFailed(e: EventEnvelope): Promise<void> {
  const { gross, currency, reason } = parseEvent('payment.deposit.failed', e.detail);
  await notify(e, { kind: 'deposit_failed', amount: gross, currency, reason });
}

async function withdrawalCompleted(e: EventEnvelope): Promise<void> {
  const { amount, net, fee, currency } = parseEvent('payment.withdrawal.completed', e.detail);
  await notify(e, { kind: 'withdrawal_completed', amount, net, fee, currency });
}

const withdrawalNotCompleted = (outcome: 'rejected' | 'failed') => async (e: EventEnvelope) => {
  const { amount, currency, reason } = parseEvent(
    outcome === 'rejected' ? 'payment.withdrawal.rejected' : 'payment.withdrawal.failed',
    e.detail,
  );
  await notify(e, { kind: 'withdrawal_not_completed', amount, currency, reason, outcome });
};

async function refundCompleted(e: EventEnvelope): Promise<void> {
  const { amount, currency } = parseEvent('payment.refund.completed', e.detail);
  await notify(e, { kind: 'refund_completed', amount, currency });
}

async function chargebackReceived(e: EventEnvelope): Promise<void> {
  const { amount, fromWallet, receivable, currency } = parseEvent('payment.chargeback.received', e.detail);
  await notify(e, { kind: 'chargeback_received', amount, currency, fromWallet, owed: receivable });
}

const HANDLERS: Record<string, (e: EventEnvelope) => Promise<void>> = {
  'client.registered': clientRegistered,
  'kyc.approved': kycApproved,
  'kyc.rejected': kycRejected,
  'kyc.documents_requested': kycDocumentsRequested,
  'kyc.document_expiring': kycDocumentExpiring,
  'kyc.expired': kycExpired,
  'payment.deposit.completed': depositCompleted,
  'payment.deposit.failed': depositFailed,
  'payment.withdrawal.completed': withdrawalCompleted,
  'payment.withdrawal.rejected': withdrawalNotCompleted('rejected'),
  'payment.withdrawal.failed': withdrawalNotCompleted('failed'),
  'payment.refund.completed': refundCompleted,
  'payment.chargeback.received': chargebackReceived,
};

async function recordHandler(record: SQSRecord): Promise<void> {
  const e = parseEnvelope(record.body, 'notifications');
  const h = Object.hasOwn(HANDLERS, e['detail-type']) ? HANDLERS[e['detail-type']] : undefined;
  if (!h) {
    logger.info('event ignored: no notification for this type', { detailType: e['detail-type'], eventId: dedupeIdOf(e) });
    return;
  }
  await h(e);
}

export const handler = instrumented(handle);

async function handle(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, recordHandler, processor, { context });
}
