/**
 * Emails a client about something that happened to its account (the notifications worker, one call per
 * domain event it handles: functions/workers/notifications.ts parses the event into a ClientNotification).
 *
 * Invariants:
 * - the recipient is the client's profile: its email and first name, in its locale (the tenant's default
 *   locale when the profile has none or an unsupported one), with the brand name and support address; an
 *   unknown client throws (the worker fails the record: retried, then DLQ)
 * - at most one email per dedupeId (the domain event's eventId): the email port writes at most one per id
 * - KYC rejections that allow a resubmission, and requests for documents, name the document categories to
 *   upload again: those the reason codes are about, and those of the named documents OF THIS CLIENT
 * - reason codes reach the email only through the templates' client-safe messages; a final rejection shows
 *   no reason at all
 * - payment amounts are decimal strings, passed through as they are (never floats)
 * - no PII in logs: client id, event id, template and send status only
 */
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
import type { CommandContext } from '#app/context.ts';
import { reasonCategory } from '#domain/kyc/review-reasons.ts';
import type { DocumentCategory } from '#domain/kyc/submission.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { getClientProfile } from '#store/clients.ts';
import { getKycDocuments } from '#store/kyc.ts';

/** A payment's amount: decimal strings and the currency code. */
interface Amount {
  amount: string;
  currency: string;
}

/** What to tell the client, by email template. */
export type ClientNotification =
  | { kind: 'welcome' }
  | { kind: 'kyc_approved' }
  | { kind: 'kyc_rejected'; canResubmit: boolean; reasons: string[] }
  | { kind: 'kyc_documents_requested'; reasons: string[]; documentIds: string[] }
  | { kind: 'kyc_document_expiring'; identityExpiresOn: string; daysLeft: number }
  | { kind: 'kyc_expired'; identityExpiresOn: string }
  | ({ kind: 'deposit_completed' } & Amount)
  | ({ kind: 'deposit_failed'; reason?: string | undefined } & Amount)
  | ({ kind: 'withdrawal_completed'; net: string; fee: string } & Amount)
  | ({ kind: 'withdrawal_not_completed'; outcome: 'rejected' | 'failed'; reason?: string | undefined } & Amount)
  | ({ kind: 'refund_completed' } & Amount)
  | ({ kind: 'chargeback_received'; fromWallet: string; owed: string } & Amount);

export interface NotifyClientInput {
  /** The client to email ('' or unknown: an error). */
  clientId: string;
  /** The domain event's eventId (else its envelope id): at most one email per id. */
  dedupeId: string;
  /** The event's detail-type, for errors. */
  detailType: string;
  notification: ClientNotification;
}

export interface NotifyClientResult {
  template: string;
  status: string;
}

/** The template basics of a client; throws for an unknown client. */
async function recipient(clientId: string, detailType: string): Promise<EmailBaseInput> {
  const profile = clientId ? await getClientProfile(clientId) : undefined;
  if (!profile) throw new Error(`notifications: ${detailType} for an unknown client`);
  const cfg = tenantConfig();
  return {
    to: profile.email,
    firstName: profile.firstName,
    brandName: cfg.brand.name,
    supportEmail: cfg.brand.supportEmail,
    locale: profile.locale ?? cfg.defaultLocale,
    fallbackLocale: cfg.defaultLocale,
  };
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

async function messageFor(clientId: string, base: EmailBaseInput, n: ClientNotification): Promise<EmailMessage> {
  switch (n.kind) {
    case 'welcome':
      return welcomeEmail(base);
    case 'kyc_approved':
      return kycApprovedEmail(base);
    case 'kyc_rejected': {
      const categories = n.canResubmit ? await categoriesToUpload(clientId, n.reasons, []) : [];
      return kycRejectedEmail({ ...base, canResubmit: n.canResubmit, reasons: n.canResubmit ? n.reasons : [], categories });
    }
    case 'kyc_documents_requested': {
      const categories = await categoriesToUpload(clientId, n.reasons, n.documentIds);
      return kycDocumentsRequestedEmail({ ...base, reasons: n.reasons, categories });
    }
    case 'kyc_document_expiring':
      return kycDocumentExpiringEmail({ ...base, identityExpiresOn: n.identityExpiresOn, daysLeft: n.daysLeft });
    case 'kyc_expired':
      return kycExpiredEmail({ ...base, identityExpiresOn: n.identityExpiresOn });
    case 'deposit_completed':
      return depositCompletedEmail({ ...base, amount: n.amount, currency: n.currency });
    case 'deposit_failed':
      return depositFailedEmail({ ...base, amount: n.amount, currency: n.currency, reason: n.reason });
    case 'withdrawal_completed':
      return withdrawalCompletedEmail({ ...base, amount: n.amount, net: n.net, fee: n.fee, currency: n.currency });
    case 'withdrawal_not_completed':
      return withdrawalNotCompletedEmail({
        ...base,
        amount: n.amount,
        currency: n.currency,
        reason: n.reason,
        outcome: n.outcome,
      });
    case 'refund_completed':
      return refundCompletedEmail({ ...base, amount: n.amount, currency: n.currency });
    case 'chargeback_received':
      return chargebackReceivedEmail({
        ...base,
        amount: n.amount,
        currency: n.currency,
        fromWallet: n.fromWallet,
        owed: n.owed,
      });
  }
}

export async function notifyClient(input: NotifyClientInput, _ctx: CommandContext): Promise<NotifyClientResult> {
  const { clientId, dedupeId } = input;
  const base = await recipient(clientId, input.detailType);
  const message = await messageFor(clientId, base, input.notification);
  const res = await emailSender().send(message, { dedupeId });
  logger.info('notification email', { clientId, eventId: dedupeId, template: message.template, status: res.status });
  return { template: message.template, status: res.status };
}
