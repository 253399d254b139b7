/**
 * Notifications: SQS (EventBridge envelopes routed by the manifest's rules) -> the email port.
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
 * - a malformed envelope, a detail missing a field its email needs, or a missing client fails its
 *   record (retried, then DLQ)
 * - reason codes reach the email only through the templates' client-safe messages (domain/kyc
 *   clientReasons; for payments domain/payments/reasons.ts via payment-templates.ts): confidential
 *   codes never appear in an email
 * - payment amounts are the event's decimal strings (checked to be decimal strings), never floats
 * - partial batch failures via Powertools batch processing; no PII in logs (ids, template, status only)
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { emailSender } from '#adapters/email/index.ts';
import {
  chargebackReceivedEmail,
  depositCompletedEmail,
  depositFailedEmail,
  refundCompletedEmail,
  withdrawalCompletedEmail,
  withdrawalNotCompletedEmail,
} from '#adapters/email/payment-templates.ts';
import type { EmailMessage } from '#adapters/email/port.ts';
import {
  type EmailBaseInput,
  kycApprovedEmail,
  kycDocumentExpiringEmail,
  kycDocumentsRequestedEmail,
  kycExpiredEmail,
  kycRejectedEmail,
  welcomeEmail,
} from '#adapters/email/templates.ts';
import { reasonCategory } from '#domain/kyc/review-reasons.ts';
import type { DocumentCategory } from '#domain/kyc/submission.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { getClientProfile } from '#store/clients.ts';
import { getKycDocuments } from '#store/kyc.ts';

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

const malformed = (e: EventEnvelope, field: string) => new Error(`notifications: ${e['detail-type']} without a valid ${field}`);

function stringField(e: EventEnvelope, field: string): string {
  const v = e.detail[field];
  if (typeof v !== 'string' || v === '') throw malformed(e, field);
  return v;
}

function stringList(e: EventEnvelope, field: string): string[] {
  const v = e.detail[field] ?? [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw malformed(e, field);
  return v;
}

/** The recipient and the template basics; throws (fails the record) for an unknown client. */
async function recipient(e: EventEnvelope): Promise<{ clientId: string; base: EmailBaseInput }> {
  const clientId = typeof e.detail.clientId === 'string' ? e.detail.clientId : '';
  const profile = clientId ? await getClientProfile(clientId) : undefined;
  if (!profile) throw new Error(`notifications: ${e['detail-type']} for an unknown client`);
  const cfg = tenantConfig();
  return {
    clientId,
    base: {
      to: profile.email,
      firstName: profile.firstName,
      brandName: cfg.brand.name,
      supportEmail: cfg.brand.supportEmail,
      locale: profile.locale ?? cfg.defaultLocale,
      fallbackLocale: cfg.defaultLocale,
    },
  };
}

async function send(e: EventEnvelope, clientId: string, message: EmailMessage): Promise<void> {
  const eventId = dedupeIdOf(e);
  const res = await emailSender().send(message, { dedupeId: eventId });
  logger.info('notification email', { clientId, eventId, template: message.template, status: res.status });
}

/** The categories to upload again: those the reasons are about, and those of the named files of this client. */
async function categoriesToUpload(clientId: string, reasons: readonly string[], documentIds: readonly string[]) {
  const found = new Set<DocumentCategory>();
  for (const r of reasons) {
    const c = reasonCategory(r.split(':', 1)[0]!.trim());
    if (c) found.add(c);
  }
  if (documentIds.length > 0) {
    for (const doc of (await getKycDocuments(documentIds)).values()) if (doc.clientId === clientId) found.add(doc.category);
  }
  return [...found];
}

async function clientRegistered(e: EventEnvelope): Promise<void> {
  const { clientId, base } = await recipient(e);
  await send(e, clientId, welcomeEmail(base));
}

async function kycApproved(e: EventEnvelope): Promise<void> {
  const { clientId, base } = await recipient(e);
  await send(e, clientId, kycApprovedEmail(base));
}

async function kycRejected(e: EventEnvelope): Promise<void> {
  const canResubmit = e.detail.canResubmit;
  if (typeof canResubmit !== 'boolean') throw malformed(e, 'canResubmit');
  const reasons = stringList(e, 'reasons');
  const { clientId, base } = await recipient(e);
  const categories = canResubmit ? await categoriesToUpload(clientId, reasons, []) : [];
  await send(e, clientId, kycRejectedEmail({ ...base, canResubmit, reasons: canResubmit ? reasons : [], categories }));
}

async function kycDocumentsRequested(e: EventEnvelope): Promise<void> {
  const reasons = stringList(e, 'reasons');
  const documentIds = stringList(e, 'documentIds');
  const { clientId, base } = await recipient(e);
  const categories = await categoriesToUpload(clientId, reasons, documentIds);
  await send(e, clientId, kycDocumentsRequestedEmail({ ...base, reasons, categories }));
}

async function kycDocumentExpiring(e: EventEnvelope): Promise<void> {
  const identityExpiresOn = stringField(e, 'identityExpiresOn');
  const daysLeft = e.detail.daysLeft;
  if (typeof daysLeft !== 'number' || !Number.isFinite(daysLeft)) throw malformed(e, 'daysLeft');
  const { clientId, base } = await recipient(e);
  await send(e, clientId, kycDocumentExpiringEmail({ ...base, identityExpiresOn, daysLeft }));
}

async function kycExpired(e: EventEnvelope): Promise<void> {
  const identityExpiresOn = stringField(e, 'identityExpiresOn');
  const { clientId, base } = await recipient(e);
  await send(e, clientId, kycExpiredEmail({ ...base, identityExpiresOn }));
}

const DECIMAL = /^\d+(\.\d+)?$/;
const CURRENCY = /^[A-Z0-9]{3,5}$/;

/** A decimal amount string of the event (never parsed into a float). */
function amountField(e: EventEnvelope, field: string): string {
  const v = stringField(e, field);
  if (!DECIMAL.test(v)) throw malformed(e, field);
  return v;
}

function currencyField(e: EventEnvelope): string {
  const v = stringField(e, 'currency');
  if (!CURRENCY.test(v)) throw malformed(e, 'currency');
  return v;
}

const optionalReason = (e: EventEnvelope) =>
  typeof e.detail.reason === 'string' && e.detail.reason !== '' ? e.detail.reason : undefined;

async function depositCompleted(e: EventEnvelope): Promise<void> {
  const amount = amountField(e, 'amount');
  const currency = currencyField(e);
  const { clientId, base } = await recipient(e);
  await send(e, clientId, depositCompletedEmail({ ...base, amount, currency }));
}

async function depositFailed(e: EventEnvelope): Promise<void> {
  const amount = amountField(e, 'gross');
  const currency = currencyField(e);
  const { clientId, base } = await recipient(e);
  await send(e, clientId, depositFailedEmail({ ...base, amount, currency, reason: optionalReason(e) }));
}

async function withdrawalCompleted(e: EventEnvelope): Promise<void> {
  const amount = amountField(e, 'amount');
  const net = amountField(e, 'net');
  const fee = amountField(e, 'fee');
  const currency = currencyField(e);
  const { clientId, base } = await recipient(e);
  await send(e, clientId, withdrawalCompletedEmail({ ...base, amount, net, fee, currency }));
}

const withdrawalNotCompleted = (outcome: 'rejected' | 'failed') => async (e: EventEnvelope) => {
  const amount = amountField(e, 'amount');
  const currency = currencyField(e);
  const { clientId, base } = await recipient(e);
  await send(e, clientId, withdrawalNotCompletedEmail({ ...base, amount, currency, reason: optionalReason(e), outcome }));
};

async function refundCompleted(e: EventEnvelope): Promise<void> {
  const amount = amountField(e, 'amount');
  const currency = currencyField(e);
  const { clientId, base } = await recipient(e);
  await send(e, clientId, refundCompletedEmail({ ...base, amount, currency }));
}

async function chargebackReceived(e: EventEnvelope): Promise<void> {
  const amount = amountField(e, 'amount');
  const fromWallet = amountField(e, 'fromWallet');
  const owed = amountField(e, 'receivable');
  const currency = currencyField(e);
  const { clientId, base } = await recipient(e);
  await send(e, clientId, chargebackReceivedEmail({ ...base, amount, currency, fromWallet, owed }));
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
  const e = parseEnvelope(record.body);
  const h = Object.hasOwn(HANDLERS, e['detail-type']) ? HANDLERS[e['detail-type']] : undefined;
  if (!h) {
    logger.info('event ignored: no notification for this type', { detailType: e['detail-type'], eventId: dedupeIdOf(e) });
    return;
  }
  await h(e);
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, recordHandler, processor, { context });
}
