/**
 * Email templates, per locale with an English fallback.
 *
 * Templates: 'welcome' (client.registered) and the KYC outcomes: 'kyc_approved', 'kyc_rejected_resubmit'
 * and 'kyc_rejected_final' (kyc.rejected), 'kyc_documents_requested', 'kyc_document_expiring' and
 * 'kyc_expired'.
 *
 * Invariants:
 * - every template exists in 'en', 'de' and 'es'; a locale falls back to its language, then to the
 *   given fallback (the tenant's default locale) and its language, then to 'en'
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

export type Copy<T> = Readonly<Record<Locale, T>>;

export const GREETING: Copy<(n: string) => string> = {
  en: (n) => `Hello ${n},`,
  de: (n) => `Hallo ${n},`,
  es: (n) => `Hola ${n}:`,
};

export const HELP: Copy<(s: string) => string> = {
  en: (s) => `Questions? Write to ${s}.`,
  de: (s) => `Fragen? Schreiben Sie an ${s}.`,
  es: (s) => `¿Preguntas? Escriba a ${s}.`,
};

const WELCOME: Copy<{ subject: (b: string) => string; body: (b: string) => string }> = {
  en: {
    subject: (b) => `Welcome to ${b}`,
    body: (b) => `Your ${b} account has been created. The next step is to complete your profile.`,
  },
  de: {
    subject: (b) => `Willkommen bei ${b}`,
    body: (b) => `Ihr ${b}-Konto wurde eröffnet. Als Nächstes vervollständigen Sie bitte Ihr Profil.`,
  },
  es: {
    subject: (b) => `Bienvenido a ${b}`,
    body: (b) => `Su cuenta de ${b} ha sido creada. El siguiente paso es completar su perfil.`,
  },
};

const APPROVED: Copy<{ subject: (b: string) => string; body: (b: string) => string; next: string }> = {
  en: {
    subject: (b) => `Your ${b} account is verified`,
    body: (b) => `Good news: we have verified your identity and your ${b} account is verified.`,
    next: 'You can now fund your account.',
  },
  de: {
    subject: (b) => `Ihr ${b}-Konto ist verifiziert`,
    body: (b) => `Gute Nachrichten: Wir haben Ihre Identität bestätigt, Ihr ${b}-Konto ist verifiziert.`,
    next: 'Sie können jetzt Geld auf Ihr Konto einzahlen.',
  },
  es: {
    subject: (b) => `Su cuenta de ${b} está verificada`,
    body: (b) => `Buenas noticias: hemos verificado su identidad y su cuenta de ${b} está verificada.`,
    next: 'Ya puede depositar fondos en su cuenta.',
  },
};

const CATEGORY_LABELS: Copy<Record<DocumentCategory, string>> = {
  en: { identity: 'Identity document', proof_of_address: 'Proof of address', selfie: 'Selfie' },
  de: { identity: 'Ausweisdokument', proof_of_address: 'Adressnachweis', selfie: 'Selfie' },
  es: { identity: 'Documento de identidad', proof_of_address: 'Justificante de domicilio', selfie: 'Selfi' },
};

const UPLOAD_AGAIN: Copy<{ documents: string; reasons: string }> = {
  en: { documents: 'Documents to upload again:', reasons: 'What we found:' },
  de: { documents: 'Bitte laden Sie diese Dokumente erneut hoch:', reasons: 'Was wir festgestellt haben:' },
  es: { documents: 'Documentos que debe volver a subir:', reasons: 'Lo que hemos detectado:' },
};

const REJECTED_RESUBMIT: Copy<{ subject: (b: string) => string; body: string }> = {
  en: {
    subject: (b) => `${b}: please upload new documents`,
    body: 'We could not verify your documents. Please upload new documents and submit them again.',
  },
  de: {
    subject: (b) => `${b}: Bitte laden Sie neue Dokumente hoch`,
    body: 'Wir konnten Ihre Dokumente nicht verifizieren. Bitte laden Sie neue Dokumente hoch und reichen Sie sie erneut ein.',
  },
  es: {
    subject: (b) => `${b}: suba documentos nuevos`,
    body: 'No pudimos verificar sus documentos. Suba documentos nuevos y envíelos de nuevo.',
  },
};

const REJECTED_FINAL: Copy<{ subject: (b: string) => string; body: (b: string) => string; contact: (s: string) => string }> = {
  en: {
    subject: (b) => `Your ${b} application`,
    body: (b) => `We are sorry, but we cannot open a ${b} account for you.`,
    contact: (s) => `If you have any questions, please contact our support team at ${s}.`,
  },
  de: {
    subject: (b) => `Ihr Antrag bei ${b}`,
    body: (b) => `Es tut uns leid, aber wir können kein ${b}-Konto für Sie eröffnen.`,
    contact: (s) => `Bei Fragen wenden Sie sich bitte an unseren Kundenservice unter ${s}.`,
  },
  es: {
    subject: (b) => `Su solicitud en ${b}`,
    body: (b) => `Lo sentimos, pero no podemos abrir una cuenta de ${b} para usted.`,
    contact: (s) => `Si tiene alguna pregunta, póngase en contacto con nuestro equipo de soporte en ${s}.`,
  },
};

const DOCUMENTS_REQUESTED: Copy<{ subject: (b: string) => string; body: string; upload: string }> = {
  en: {
    subject: (b) => `${b}: we need further documents`,
    body: 'To complete the verification of your account we need further documents from you.',
    upload: 'Please upload the requested documents and submit them.',
  },
  de: {
    subject: (b) => `${b}: Wir benötigen weitere Dokumente`,
    body: 'Um die Verifizierung Ihres Kontos abzuschließen, benötigen wir weitere Dokumente von Ihnen.',
    upload: 'Bitte laden Sie die angeforderten Dokumente hoch und reichen Sie sie ein.',
  },
  es: {
    subject: (b) => `${b}: necesitamos más documentos`,
    body: 'Para completar la verificación de su cuenta necesitamos más documentos.',
    upload: 'Suba los documentos solicitados y envíelos.',
  },
};

const EXPIRING: Copy<{
  subject: (d: string) => string;
  body: (b: string, d: string, left: string) => string;
  upload: string;
  left: (n: number) => string;
}> = {
  en: {
    subject: (d) => `Your identity document expires on ${d}`,
    body: (b, d, left) => `The identity document you verified with ${b} expires on ${d} (${left}).`,
    upload: 'Please upload your renewed identity document before then, so that your account stays verified.',
    left: (n) => (n <= 0 ? 'today' : n === 1 ? '1 day left' : `${n} days left`),
  },
  de: {
    subject: (d) => `Ihr Ausweisdokument läuft am ${d} ab`,
    body: (b, d, left) => `Das Ausweisdokument, mit dem Sie sich bei ${b} verifiziert haben, läuft am ${d} ab (${left}).`,
    upload: 'Bitte laden Sie Ihr erneuertes Ausweisdokument vorher hoch, damit Ihr Konto verifiziert bleibt.',
    left: (n) => (n <= 0 ? 'heute' : n === 1 ? 'noch 1 Tag' : `noch ${n} Tage`),
  },
  es: {
    subject: (d) => `Su documento de identidad caduca el ${d}`,
    body: (b, d, left) => `El documento de identidad con el que se verificó en ${b} caduca el ${d} (${left}).`,
    upload: 'Suba su documento de identidad renovado antes de esa fecha para que su cuenta siga verificada.',
    left: (n) => (n <= 0 ? 'hoy' : n === 1 ? 'queda 1 día' : `quedan ${n} días`),
  },
};

const EXPIRED: Copy<{ subject: (b: string) => string; body: (d: string) => string; upload: string; limits: string }> = {
  en: {
    subject: (b) => `${b}: your verification needs to be renewed`,
    body: (d) => `Your identity document expired on ${d}, so the verification of your account needs to be renewed.`,
    upload: 'Please upload a valid identity document.',
    limits: 'Until we have verified it, trading and withdrawals on your account may be limited.',
  },
  de: {
    subject: (b) => `${b}: Ihre Verifizierung muss erneuert werden`,
    body: (d) => `Ihr Ausweisdokument ist am ${d} abgelaufen, daher muss die Verifizierung Ihres Kontos erneuert werden.`,
    upload: 'Bitte laden Sie ein gültiges Ausweisdokument hoch.',
    limits: 'Bis wir es geprüft haben, können Handel und Auszahlungen auf Ihrem Konto eingeschränkt sein.',
  },
  es: {
    subject: (b) => `${b}: debe renovar su verificación`,
    body: (d) => `Su documento de identidad caducó el ${d}, por lo que la verificación de su cuenta debe renovarse.`,
    upload: 'Suba un documento de identidad válido.',
    limits: 'Hasta que lo hayamos verificado, las operaciones y las retiradas de su cuenta pueden estar limitadas.',
  },
};

const DATE_LOCALES: Copy<string> = { en: 'en-GB', de: 'de-DE', es: 'es-ES' };

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const isEmailLocale = (l: string): l is Locale => (EMAIL_LOCALES as readonly string[]).includes(l);

/** The template locale for a client locale: itself, its language, the fallback, its language, then 'en'. */
export function resolveLocale(locale: string, fallback?: string): Locale {
  for (const l of [locale, fallback]) {
    if (!l) continue;
    if (isEmailLocale(l)) return l;
    const lang = l.split('-')[0] ?? '';
    if (isEmailLocale(lang)) return lang;
  }
  return 'en';
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
  DOCUMENT_CATEGORIES.filter((c) => categories?.includes(c)).map((c) => CATEGORY_LABELS[locale][c]);

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
  const t = WELCOME[locale];
  return render('welcome', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body(i.brandName),
    HELP[locale](i.supportEmail),
  ]);
}

/** kyc.approved: the account is verified and can be funded. */
export function kycApprovedEmail(i: KycApprovedInput): EmailMessage {
  const locale = localeOf(i);
  const t = APPROVED[locale];
  return render('kyc_approved', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body(i.brandName),
    t.next,
    HELP[locale](i.supportEmail),
  ]);
}

/**
 * kyc.rejected: canResubmit -> upload new documents, with the categories and the client-safe reasons;
 * otherwise the account cannot be opened, contact support, and NO reason is named.
 */
export function kycRejectedEmail(i: KycRejectedInput): EmailMessage {
  const locale = localeOf(i);
  if (!i.canResubmit) {
    const t = REJECTED_FINAL[locale];
    return render('kyc_rejected_final', locale, i.to, t.subject(i.brandName), [
      GREETING[locale](i.firstName),
      t.body(i.brandName),
      t.contact(i.supportEmail),
    ]);
  }
  const t = REJECTED_RESUBMIT[locale];
  const labels = categoryLabels(i.categories, locale);
  const messages = reasonMessages(i.reasons, locale, true, i.automatic);
  return render('kyc_rejected_resubmit', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body,
    labels.length > 0 && UPLOAD_AGAIN[locale].documents,
    { list: labels },
    messages.length > 0 && UPLOAD_AGAIN[locale].reasons,
    { list: messages },
    HELP[locale](i.supportEmail),
  ]);
}

/** kyc.documents_requested: which documents to upload again, with the client-safe reasons. */
export function kycDocumentsRequestedEmail(i: KycDocumentsRequestedInput): EmailMessage {
  const locale = localeOf(i);
  const t = DOCUMENTS_REQUESTED[locale];
  const labels = categoryLabels(i.categories, locale);
  const messages = reasonMessages(i.reasons, locale, false, i.automatic);
  return render('kyc_documents_requested', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body,
    labels.length > 0 ? UPLOAD_AGAIN[locale].documents : t.upload,
    { list: labels },
    messages.length > 0 && UPLOAD_AGAIN[locale].reasons,
    { list: messages },
    HELP[locale](i.supportEmail),
  ]);
}

/** kyc.document_expiring: the expiry date, the days left, upload the renewed document. */
export function kycDocumentExpiringEmail(i: KycDocumentExpiringInput): EmailMessage {
  const locale = localeOf(i);
  const t = EXPIRING[locale];
  const day = formatDay(i.identityExpiresOn, locale);
  return render('kyc_document_expiring', locale, i.to, t.subject(day), [
    GREETING[locale](i.firstName),
    t.body(i.brandName, day, t.left(i.daysLeft)),
    t.upload,
    HELP[locale](i.supportEmail),
  ]);
}

/** kyc.expired: the verification needs renewing; trading and withdrawals may be limited until then. */
export function kycExpiredEmail(i: KycExpiredInput): EmailMessage {
  const locale = localeOf(i);
  const t = EXPIRED[locale];
  return render('kyc_expired', locale, i.to, t.subject(i.brandName), [
    GREETING[locale](i.firstName),
    t.body(formatDay(i.identityExpiresOn, locale)),
    t.upload,
    t.limits,
    HELP[locale](i.supportEmail),
  ]);
}
