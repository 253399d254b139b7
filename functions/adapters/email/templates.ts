/**
 * Email templates, per locale with an English fallback. The texts are the message catalogue's
 * (domain/messages/email.ts, keys 'email.<template>.<part>'); this module assembles and renders them.
 *
 * Templates: 'welcome' (client.registered) and the KYC outcomes: 'kyc_approved', 'kyc_rejected_resubmit'
 * and 'kyc_rejected_final' (kyc.rejected), 'kyc_documents_requested', 'kyc_document_expiring' and
 * 'kyc_expired'.
 *
 * Invariants:
 * - every template exists in 'en', 'de' and 'es'; a locale falls back to its language, then to the
 *   given fallback (the tenant's default locale) and its language, then to 'en' (the catalogue's rule,
 *   resolveMessageLocale)
 * - template inputs are escaped before they go into HTML; text and HTML carry the same paragraphs
 * - no personal data beyond the first name (and the expiry date of the client's own document)
 * - KYC reasons are shown ONLY as the client-safe messages of domain/kyc clientReasons (the same as the
 *   client's own KYC view): a reason code never appears in an email, and confidential reasons
 *   (sanctions, fraud, duplicates) read as the shared generic message, several of them as one
 * - a final rejection names no reason at all
 */
import { clientReasons } from '#domain/kyc/client-status.ts';
import { ISSUE_CATALOGUE, type Locale } from '#domain/kyc/decision.ts';
import { isReviewReasonCode } from '#domain/kyc/review-reasons.ts';
import { DOCUMENT_CATEGORIES, type DocumentCategory } from '#domain/kyc/submission.ts';
import { resolveMessageLocale, text } from '#domain/messages/catalogue.ts';
import type { EmailMessage } from './port.ts';

export const EMAIL_LOCALES = ['en', 'de', 'es'] as const satisfies readonly Locale[];

/** What every template needs: the recipient, the first name, the brand and the locale. */
export interface EmailBaseInput {
  to: string;
  firstName: string;
  brandName: string;
  supportEmail: string;
  /** The client's locale (BCP 47, e.g. 'de' or 'de-AT'). */
  locale: string;
  /** The tenant's default locale, used when `locale` is not one of EMAIL_LOCALES. */
  fallbackLocale?: string | undefined;
}

export type WelcomeInput = EmailBaseInput;

export type KycApprovedInput = EmailBaseInput;

export interface KycRejectedInput extends EmailBaseInput {
  canResubmit: boolean;
  /** Reason codes of the decision (review reasons or issue codes); only used when canResubmit. */
  reasons: readonly string[];
  /** Document categories to upload again, when known. */
  categories?: readonly DocumentCategory[] | undefined;
  /** The reasons come from the automatic checks; inferred from the codes when not given. */
  automatic?: boolean | undefined;
}

export interface KycDocumentsRequestedInput extends EmailBaseInput {
  reasons: readonly string[];
  /** Document categories to upload again, when known. */
  categories?: readonly DocumentCategory[] | undefined;
  automatic?: boolean | undefined;
}

export interface KycDocumentExpiringInput extends EmailBaseInput {
  /** YYYY-MM-DD. */
  identityExpiresOn: string;
  daysLeft: number;
}

export interface KycExpiredInput extends EmailBaseInput {
  /** YYYY-MM-DD. */
  identityExpiresOn: string;
}

const DATE_LOCALES: Readonly<Record<Locale, string>> = { en: 'en-GB', de: 'de-DE', es: 'es-ES' };

/** The opening line of every e-mail. */
export const greeting = (locale: Locale, name: string) => text('email.greeting', locale, { name });
/** The closing line of every e-mail. */
export const help = (locale: Locale, support: string) => text('email.help', locale, { support });

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The template locale for a client locale: itself, its language, the fallback, its language, then 'en'. */
export function resolveLocale(locale: string, fallback?: string): Locale {
  return resolveMessageLocale(locale, fallback);
}

/** A YYYY-MM-DD day in the locale's long form ('31 March 2027', '31. März 2027', '31 de marzo de 2027'). */
export function formatDay(day: string, locale: Locale): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : Number.NaN;
  if (!Number.isFinite(ms)) return day;
  return new Intl.DateTimeFormat(DATE_LOCALES[locale], {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(ms));
}

/** A paragraph, or a list (rendered as '- item' lines in text and <ul> in HTML). */
type Block = string | { list: readonly string[] };

export function render(
  template: string,
  locale: Locale,
  to: string,
  subject: string,
  blocks: readonly (Block | undefined | false)[],
): EmailMessage {
  const kept = blocks.filter((b): b is Block => b !== undefined && b !== false && (typeof b === 'string' || b.list.length > 0));
  const text = kept.map((b) => (typeof b === 'string' ? b : b.list.map((i) => `- ${i}`).join('\n'))).join('\n\n');
  const html = kept
    .map((b) =>
      typeof b === 'string' ? `<p>${escapeHtml(b)}</p>` : `<ul>${b.list.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`,
    )
    .join('');
  return { to, subject, text, html, template, locale };
}

export const localeOf = (i: EmailBaseInput) => resolveLocale(i.locale, i.fallbackLocale);

/** Categories in their canonical order, labelled in the locale. */
const categoryLabels = (categories: readonly DocumentCategory[] | undefined, locale: Locale) =>
  DOCUMENT_CATEGORIES.filter((c) => categories?.includes(c)).map((c) => text(`email.category.${c}`, locale));

/**
 * Whether reason codes come from the automatic checks: decide() lines ('code:severity') or an issue code
 * no officer can pick. Only changes which of two client-safe messages a shared code gets.
 */
export function looksAutomatic(reasons: readonly string[]): boolean {
  return reasons.some((r) => {
    const code = r.split(':', 1)[0]!.trim();
    return r.includes(':') || (Object.hasOwn(ISSUE_CATALOGUE, code) && !isReviewReasonCode(code));
  });
}

/** The client-safe messages for reason codes (domain/kyc clientReasons; never a code). */
function reasonMessages(reasons: readonly string[], locale: Locale, closed: boolean, automatic: boolean | undefined): string[] {
  return clientReasons(reasons, locale, { closed, automatic: automatic ?? looksAutomatic(reasons) }).map((r) => r.message);
}

export function welcomeEmail(i: WelcomeInput): EmailMessage {
  const locale = localeOf(i);
  const brand = i.brandName;
  return render('welcome', locale, i.to, text('email.welcome.subject', locale, { brand }), [
    greeting(locale, i.firstName),
    text('email.welcome.body', locale, { brand }),
    help(locale, i.supportEmail),
  ]);
}

/** kyc.approved: the account is verified and can be funded. */
export function kycApprovedEmail(i: KycApprovedInput): EmailMessage {
  const locale = localeOf(i);
  const brand = i.brandName;
  return render('kyc_approved', locale, i.to, text('email.kyc_approved.subject', locale, { brand }), [
    greeting(locale, i.firstName),
    text('email.kyc_approved.body', locale, { brand }),
    text('email.kyc_approved.next', locale),
    help(locale, i.supportEmail),
  ]);
}

/**
 * kyc.rejected: canResubmit -> upload new documents, with the categories and the client-safe reasons;
 * otherwise the account cannot be opened, contact support, and NO reason is named.
 */
export function kycRejectedEmail(i: KycRejectedInput): EmailMessage {
  const locale = localeOf(i);
  const brand = i.brandName;
  if (!i.canResubmit) {
    return render('kyc_rejected_final', locale, i.to, text('email.kyc_rejected_final.subject', locale, { brand }), [
      greeting(locale, i.firstName),
      text('email.kyc_rejected_final.body', locale, { brand }),
      text('email.kyc_rejected_final.contact', locale, { support: i.supportEmail }),
    ]);
  }
  const labels = categoryLabels(i.categories, locale);
  const messages = reasonMessages(i.reasons, locale, true, i.automatic);
  return render('kyc_rejected_resubmit', locale, i.to, text('email.kyc_rejected_resubmit.subject', locale, { brand }), [
    greeting(locale, i.firstName),
    text('email.kyc_rejected_resubmit.body', locale),
    labels.length > 0 && text('email.upload_again.documents', locale),
    { list: labels },
    messages.length > 0 && text('email.upload_again.reasons', locale),
    { list: messages },
    help(locale, i.supportEmail),
  ]);
}

/** kyc.documents_requested: which documents to upload again, with the client-safe reasons. */
export function kycDocumentsRequestedEmail(i: KycDocumentsRequestedInput): EmailMessage {
  const locale = localeOf(i);
  const labels = categoryLabels(i.categories, locale);
  const messages = reasonMessages(i.reasons, locale, false, i.automatic);
  const subject = text('email.kyc_documents_requested.subject', locale, { brand: i.brandName });
  return render('kyc_documents_requested', locale, i.to, subject, [
    greeting(locale, i.firstName),
    text('email.kyc_documents_requested.body', locale),
    labels.length > 0 ? text('email.upload_again.documents', locale) : text('email.kyc_documents_requested.upload', locale),
    { list: labels },
    messages.length > 0 && text('email.upload_again.reasons', locale),
    { list: messages },
    help(locale, i.supportEmail),
  ]);
}

/** kyc.document_expiring: the expiry date, the days left, upload the renewed document. */
export function kycDocumentExpiringEmail(i: KycDocumentExpiringInput): EmailMessage {
  const locale = localeOf(i);
  const day = formatDay(i.identityExpiresOn, locale);
  const left = text('email.kyc_document_expiring.left', locale, { days: i.daysLeft });
  return render('kyc_document_expiring', locale, i.to, text('email.kyc_document_expiring.subject', locale, { day }), [
    greeting(locale, i.firstName),
    text('email.kyc_document_expiring.body', locale, { brand: i.brandName, day, left }),
    text('email.kyc_document_expiring.upload', locale),
    help(locale, i.supportEmail),
  ]);
}

/** kyc.expired: the verification needs renewing; trading and withdrawals may be limited until then. */
export function kycExpiredEmail(i: KycExpiredInput): EmailMessage {
  const locale = localeOf(i);
  return render('kyc_expired', locale, i.to, text('email.kyc_expired.subject', locale, { brand: i.brandName }), [
    greeting(locale, i.firstName),
    text('email.kyc_expired.body', locale, { day: formatDay(i.identityExpiresOn, locale) }),
    text('email.kyc_expired.upload', locale),
    text('email.kyc_expired.limits', locale),
    help(locale, i.supportEmail),
  ]);
}
