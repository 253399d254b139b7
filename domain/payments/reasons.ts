/**
 * The payment reason catalogue: the stable machine codes a deposit's or a withdrawal's timeline
 * carries when it is delayed or refused, their client text in en / de / es, and the reasons a
 * finance or compliance reviewer may pick when rejecting a withdrawal. Pure data.
 *
 * Invariants:
 * - every code in PAYMENT_REASON_CODES has a non-empty text in every locale of PAYMENT_REASON_LOCALES
 * - an unknown code gets a generic, client-safe, localised sentence (never the code, never empty);
 *   an unknown locale falls back by primary language ('de-AT' -> de), then to en
 * - confidential codes (AML, fraud: `isClientSafeReason` false) are never revealed to a client: their
 *   client text is one of two neutral sentences ("under review" while pending, "could not be
 *   completed" once refused) that name no rule, threshold, list or suspicion; staff views show the
 *   code itself. `clientReasonCode` gives the neutral public code an API shows in their place
 * - unknown codes count as not client-safe (an unvetted code is never shown)
 * - every reviewer rejection reason is a catalogue code; those with `needsNote` need a note
 *   (at least WITHDRAWAL_REJECTION_NOTE_MIN characters after trimming): validateWithdrawalRejection
 */
import { DomainError } from '../errors.ts';

export const PAYMENT_REASON_LOCALES = ['en', 'de', 'es'] as const;
export type PaymentReasonLocale = (typeof PAYMENT_REASON_LOCALES)[number];

export const PAYMENT_REASON_CODES = [
  // deposits
  'payment_declined',
  'provider_unavailable',
  'intent_expired',
  'amount_mismatch',
  // withdrawals: automatic checks and lifecycle
  'kyc_not_approved',
  'kyc_expired',
  'closed_loop',
  'aml_large_amount',
  'aml_round_trip',
  'documents_requested',
  'withdrawals_frozen',
  'manual_review',
  'review_expired',
  'payout_failed',
  'payout_expired',
  'rejected_by_compliance',
  'rejected_by_finance',
  'cancelled_by_client',
  'insufficient_funds',
  // rejection reasons a reviewer picks
  'closed_loop_violation',
  'source_of_funds_required',
  'suspected_fraud',
  'third_party_account',
  'other',
] as const;
export type PaymentReasonCode = (typeof PAYMENT_REASON_CODES)[number];

type Texts = Readonly<Record<PaymentReasonLocale, string>>;

/** Shown for a confidential reason while the payment is still pending a decision. */
export const NEUTRAL_UNDER_REVIEW: Texts = {
  en: 'Your request is being reviewed by our team. We will let you know as soon as it has been processed.',
  de: 'Ihr Auftrag wird von unserem Team geprüft. Wir informieren Sie, sobald er bearbeitet wurde.',
  es: 'Nuestro equipo está revisando su solicitud. Le informaremos en cuanto se haya procesado.',
};

/** Shown for a confidential reason once the payment was refused. */
export const NEUTRAL_NOT_COMPLETED: Texts = {
  en: 'Your request could not be completed. Please contact our support team for more information.',
  de: 'Ihr Auftrag konnte nicht ausgeführt werden. Bitte wenden Sie sich für weitere Informationen an unseren Kundenservice.',
  es: 'No se ha podido completar su solicitud. Póngase en contacto con nuestro equipo de soporte para más información.',
};

/** For a code the catalogue does not know. */
export const GENERIC_REASON: Texts = {
  en: 'Your request could not be processed as expected. Please contact our support team if you need help.',
  de: 'Ihr Auftrag konnte nicht wie erwartet bearbeitet werden. Bitte wenden Sie sich bei Fragen an unseren Kundenservice.',
  es: 'No se ha podido procesar su solicitud como se esperaba. Póngase en contacto con nuestro equipo de soporte si necesita ayuda.',
};

interface ReasonEntry {
  /** May the code and its own text be shown to the client? */
  clientSafe: boolean;
  /** For a confidential code: the neutral public code shown in its place. */
  publicCode?: PaymentReasonCode;
  text: Texts;
}

const safe = (text: Texts): ReasonEntry => ({ clientSafe: true, text });
const pending = (): ReasonEntry => ({ clientSafe: false, publicCode: 'manual_review', text: NEUTRAL_UNDER_REVIEW });
const refused = (publicCode: PaymentReasonCode): ReasonEntry => ({ clientSafe: false, publicCode, text: NEUTRAL_NOT_COMPLETED });

const CATALOGUE: Readonly<Record<PaymentReasonCode, ReasonEntry>> = {
  payment_declined: safe({
    en: 'The payment was declined by the payment provider. Please try again or use another payment method.',
    de: 'Die Zahlung wurde vom Zahlungsanbieter abgelehnt. Bitte versuchen Sie es erneut oder wählen Sie eine andere Zahlungsart.',
    es: 'El proveedor de pagos ha rechazado el pago. Inténtelo de nuevo o utilice otro método de pago.',
  }),
  provider_unavailable: safe({
    en: 'The payment provider is temporarily unavailable. Please try again later.',
    de: 'Der Zahlungsanbieter ist vorübergehend nicht erreichbar. Bitte versuchen Sie es später erneut.',
    es: 'El proveedor de pagos no está disponible temporalmente. Inténtelo de nuevo más tarde.',
  }),
  intent_expired: safe({
    en: 'The payment was not completed in time and has expired. Please start a new deposit.',
    de: 'Die Zahlung wurde nicht rechtzeitig abgeschlossen und ist abgelaufen. Bitte starten Sie eine neue Einzahlung.',
    es: 'El pago no se completó a tiempo y ha caducado. Inicie un nuevo depósito.',
  }),
  amount_mismatch: safe({
    en: 'The amount received does not match the amount of your deposit request. Our team will contact you.',
    de: 'Der eingegangene Betrag stimmt nicht mit Ihrem Einzahlungsauftrag überein. Unser Team wird sich bei Ihnen melden.',
    es: 'El importe recibido no coincide con el de su solicitud de depósito. Nuestro equipo se pondrá en contacto con usted.',
  }),
  kyc_not_approved: safe({
    en: 'Your identity verification must be approved before you can withdraw.',
    de: 'Ihre Identitätsprüfung muss abgeschlossen sein, bevor Sie eine Auszahlung vornehmen können.',
    es: 'Su verificación de identidad debe estar aprobada antes de poder retirar fondos.',
  }),
  kyc_expired: safe({
    en: 'Your identity document has expired. Please upload a valid document to continue.',
    de: 'Ihr Ausweisdokument ist abgelaufen. Bitte laden Sie ein gültiges Dokument hoch, um fortzufahren.',
    es: 'Su documento de identidad ha caducado. Suba un documento válido para continuar.',
  }),
  closed_loop: safe({
    en: 'Withdrawals must first be returned to the payment methods you deposited with, up to the amounts deposited.',
    de: 'Auszahlungen müssen zuerst auf die Zahlungsmittel zurückgehen, mit denen Sie eingezahlt haben, bis zur Höhe der Einzahlungen.',
    es: 'Los retiros deben devolverse primero a los métodos de pago con los que depositó, hasta los importes depositados.',
  }),
  aml_large_amount: pending(),
  aml_round_trip: pending(),
  documents_requested: safe({
    en: 'We have asked you for documents. Your withdrawal will continue once they have been received and reviewed.',
    de: 'Wir haben Dokumente bei Ihnen angefordert. Ihre Auszahlung wird fortgesetzt, sobald diese eingegangen und geprüft sind.',
    es: 'Le hemos solicitado documentos. Su retiro continuará cuando los hayamos recibido y revisado.',
  }),
  withdrawals_frozen: safe({
    en: 'Withdrawals from your account are on hold at the moment. Please contact our support team.',
    de: 'Auszahlungen von Ihrem Konto sind derzeit ausgesetzt. Bitte wenden Sie sich an unseren Kundenservice.',
    es: 'Los retiros de su cuenta están en espera en este momento. Póngase en contacto con nuestro equipo de soporte.',
  }),
  manual_review: safe(NEUTRAL_UNDER_REVIEW),
  review_expired: safe({
    en: 'Your withdrawal could not be reviewed in time and was not carried out. The funds are available in your wallet again.',
    de: 'Ihre Auszahlung konnte nicht rechtzeitig geprüft werden und wurde nicht ausgeführt. Der Betrag steht wieder in Ihrer Wallet zur Verfügung.',
    es: 'Su retiro no pudo revisarse a tiempo y no se ha realizado. Los fondos vuelven a estar disponibles en su monedero.',
  }),
  payout_failed: safe({
    en: 'The payout could not be sent to your account. The funds are available in your wallet again.',
    de: 'Die Auszahlung konnte nicht an Ihr Konto gesendet werden. Der Betrag steht wieder in Ihrer Wallet zur Verfügung.',
    es: 'No se pudo enviar el pago a su cuenta. Los fondos vuelven a estar disponibles en su monedero.',
  }),
  payout_expired: safe({
    en: 'The payment provider did not confirm the payout in time. The funds are available in your wallet again.',
    de: 'Der Zahlungsanbieter hat die Auszahlung nicht rechtzeitig bestätigt. Der Betrag steht wieder in Ihrer Wallet zur Verfügung.',
    es: 'El proveedor de pagos no confirmó el pago a tiempo. Los fondos vuelven a estar disponibles en su monedero.',
  }),
  rejected_by_compliance: safe(NEUTRAL_NOT_COMPLETED),
  rejected_by_finance: safe({
    en: 'Your withdrawal was not approved. The funds are available in your wallet again. Please contact our support team for details.',
    de: 'Ihre Auszahlung wurde nicht genehmigt. Der Betrag steht wieder in Ihrer Wallet zur Verfügung. Für Einzelheiten wenden Sie sich bitte an unseren Kundenservice.',
    es: 'Su retiro no ha sido aprobado. Los fondos vuelven a estar disponibles en su monedero. Póngase en contacto con nuestro equipo de soporte para más detalles.',
  }),
  cancelled_by_client: safe({
    en: 'You cancelled this withdrawal. The funds are available in your wallet again.',
    de: 'Sie haben diese Auszahlung storniert. Der Betrag steht wieder in Ihrer Wallet zur Verfügung.',
    es: 'Ha cancelado este retiro. Los fondos vuelven a estar disponibles en su monedero.',
  }),
  insufficient_funds: safe({
    en: 'There are not enough available funds in your wallet for this withdrawal.',
    de: 'Ihre Wallet enthält nicht genügend verfügbares Guthaben für diese Auszahlung.',
    es: 'No hay suficientes fondos disponibles en su monedero para este retiro.',
  }),
  closed_loop_violation: safe({
    en: 'Your withdrawal was not approved because it must first be returned to the payment method you deposited with. Please request it to that method.',
    de: 'Ihre Auszahlung wurde nicht genehmigt, da sie zuerst auf das Zahlungsmittel zurückgehen muss, mit dem Sie eingezahlt haben. Bitte beantragen Sie sie auf dieses Zahlungsmittel.',
    es: 'Su retiro no ha sido aprobado porque debe devolverse primero al método de pago con el que depositó. Solicítelo a ese método.',
  }),
  source_of_funds_required: safe({
    en: 'Before we can process your withdrawal, we need proof of the source of your funds. Please contact our support team.',
    de: 'Bevor wir Ihre Auszahlung bearbeiten können, benötigen wir einen Nachweis über die Herkunft Ihrer Mittel. Bitte wenden Sie sich an unseren Kundenservice.',
    es: 'Antes de procesar su retiro necesitamos un justificante del origen de sus fondos. Póngase en contacto con nuestro equipo de soporte.',
  }),
  suspected_fraud: refused('rejected_by_compliance'),
  third_party_account: safe({
    en: 'We can only pay out to an account in your own name. Please choose an account held by you.',
    de: 'Wir können nur auf ein Konto auf Ihren eigenen Namen auszahlen. Bitte wählen Sie ein Konto, dessen Inhaber Sie sind.',
    es: 'Solo podemos pagar a una cuenta a su nombre. Elija una cuenta de la que sea titular.',
  }),
  other: safe({
    en: 'Your withdrawal was not approved. Please contact our support team for details.',
    de: 'Ihre Auszahlung wurde nicht genehmigt. Für Einzelheiten wenden Sie sich bitte an unseren Kundenservice.',
    es: 'Su retiro no ha sido aprobado. Póngase en contacto con nuestro equipo de soporte para más detalles.',
  }),
};

export const isPaymentReasonCode = (code: string): code is PaymentReasonCode => Object.hasOwn(CATALOGUE, code);

/** The catalogue locale for a tenant / client locale such as 'de-DE' (primary language), else 'en'. */
export function paymentReasonLocale(locale: string): PaymentReasonLocale {
  const primary = (locale ?? '').toLowerCase().split('-')[0] as PaymentReasonLocale;
  return (PAYMENT_REASON_LOCALES as readonly string[]).includes(primary) ? primary : 'en';
}

/** The client's text for `code` in `locale` (neutral for confidential codes, generic for unknown ones). */
export function paymentReasonText(code: string, locale: string): string {
  const loc = paymentReasonLocale(locale);
  return isPaymentReasonCode(code) ? CATALOGUE[code].text[loc] : GENERIC_REASON[loc];
}

/** May the code itself (and its specific text) be shown to the client? Unknown codes: no. */
export function isClientSafeReason(code: string): boolean {
  return isPaymentReasonCode(code) && CATALOGUE[code].clientSafe;
}

/**
 * The code an API shows a client: the code itself when client-safe, the neutral public code
 * ('manual_review' while pending, 'rejected_by_compliance' once refused) for a confidential one,
 * undefined for an unknown code (show only the generic text).
 */
export function clientReasonCode(code: string): PaymentReasonCode | undefined {
  if (!isPaymentReasonCode(code)) return undefined;
  const entry = CATALOGUE[code];
  return entry.clientSafe ? code : entry.publicCode;
}

/** What a client-facing view carries for a reason: the public code and its text in the client's locale. */
export function clientReason(code: string, locale: string): { code?: PaymentReasonCode; text: string } {
  const pub = clientReasonCode(code);
  return pub ? { code: pub, text: paymentReasonText(pub, locale) } : { text: paymentReasonText(code, locale) };
}

/** Minimum note length (after trimming) for a rejection reason that needs a note. */
export const WITHDRAWAL_REJECTION_NOTE_MIN = 5;

export interface WithdrawalRejectionReason {
  code: PaymentReasonCode;
  /** The reviewer must explain (note of at least WITHDRAWAL_REJECTION_NOTE_MIN characters). */
  needsNote: boolean;
  /** The roles that may pick it. */
  roles: readonly ('finance' | 'compliance')[];
}

const BOTH = ['finance', 'compliance'] as const;

/** The catalogue a reviewer picks a rejection reason from. */
export const WITHDRAWAL_REJECTION_REASONS: readonly WithdrawalRejectionReason[] = [
  { code: 'closed_loop_violation', needsNote: false, roles: BOTH },
  { code: 'source_of_funds_required', needsNote: false, roles: BOTH },
  { code: 'suspected_fraud', needsNote: true, roles: BOTH },
  { code: 'third_party_account', needsNote: false, roles: BOTH },
  { code: 'other', needsNote: true, roles: BOTH },
];

export const WITHDRAWAL_REJECTION_CODES = WITHDRAWAL_REJECTION_REASONS.map((r) => r.code);

export function withdrawalRejectionReason(code: string): WithdrawalRejectionReason | undefined {
  return WITHDRAWAL_REJECTION_REASONS.find((r) => r.code === code);
}

/**
 * Checks a reviewer's rejection of a withdrawal; DomainError (400, 'validation'): reason_required (no
 * reason), unknown_rejection_reason (not in WITHDRAWAL_REJECTION_REASONS), note_required (a reason
 * that needs a note, without one of at least WITHDRAWAL_REJECTION_NOTE_MIN characters). Returns the
 * catalogue entry.
 */
export function validateWithdrawalRejection(reason: string | undefined, note?: string): WithdrawalRejectionReason {
  if (!reason) {
    throw new DomainError('reason_required', 'validation', 'A rejection needs a reason', [
      { field: 'reason', code: 'reason_required', message: 'pick a rejection reason' },
    ]);
  }
  const entry = withdrawalRejectionReason(reason);
  if (!entry) {
    throw new DomainError('unknown_rejection_reason', 'validation', `Unknown rejection reason ${JSON.stringify(reason)}`, [
      { field: 'reason', code: 'unknown_rejection_reason', message: `one of ${WITHDRAWAL_REJECTION_CODES.join(', ')}` },
    ]);
  }
  if (entry.needsNote && (note ?? '').trim().length < WITHDRAWAL_REJECTION_NOTE_MIN) {
    throw new DomainError(
      'note_required',
      'validation',
      `Reason '${entry.code}' needs a note of at least ${WITHDRAWAL_REJECTION_NOTE_MIN} characters`,
      [{ field: 'note', code: 'note_required', message: `at least ${WITHDRAWAL_REJECTION_NOTE_MIN} characters` }],
    );
  }
  return entry;
}
