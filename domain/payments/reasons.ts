/**
 * The payment reason catalogue: the stable machine codes a deposit's or a withdrawal's timeline
 * carries when it is delayed or refused, which of them a client may see, their client text in en / de /
 * es (kept in the message catalogue, domain/messages/payments.ts), and the reasons a finance or
 * compliance reviewer may pick when rejecting a withdrawal. Pure data.
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
import {
  MESSAGE_LOCALES,
  type MessageKey,
  type MessageLocale,
  resolveMessageLocale,
  text,
  textsOf,
} from '../messages/catalogue.ts';

export const PAYMENT_REASON_LOCALES = MESSAGE_LOCALES;
export type PaymentReasonLocale = MessageLocale;

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
export const NEUTRAL_UNDER_REVIEW: Texts = textsOf('payments.neutral_under_review');

/** Shown for a confidential reason once the payment was refused. */
export const NEUTRAL_NOT_COMPLETED: Texts = textsOf('payments.neutral_not_completed');

/** For a code the catalogue does not know. */
export const GENERIC_REASON: Texts = textsOf('payments.generic_reason');

interface ReasonEntry {
  /** May the code and its own text be shown to the client? */
  clientSafe: boolean;
  /** For a confidential code: the neutral public code shown in its place. */
  publicCode?: PaymentReasonCode;
  /** Its client text in the message catalogue (domain/messages/payments.ts). */
  text: PlainPaymentMessage;
}

type PlainPaymentMessage = Extract<MessageKey, `payments.reason.${string}` | `payments.neutral_${string}`>;

const safe = (text: PlainPaymentMessage): ReasonEntry => ({ clientSafe: true, text });
const pending = (): ReasonEntry => ({ clientSafe: false, publicCode: 'manual_review', text: 'payments.neutral_under_review' });
const refused = (publicCode: PaymentReasonCode): ReasonEntry => ({
  clientSafe: false,
  publicCode,
  text: 'payments.neutral_not_completed',
});

const CATALOGUE: Readonly<Record<PaymentReasonCode, ReasonEntry>> = {
  payment_declined: safe('payments.reason.payment_declined'),
  provider_unavailable: safe('payments.reason.provider_unavailable'),
  intent_expired: safe('payments.reason.intent_expired'),
  amount_mismatch: safe('payments.reason.amount_mismatch'),
  kyc_not_approved: safe('payments.reason.kyc_not_approved'),
  kyc_expired: safe('payments.reason.kyc_expired'),
  closed_loop: safe('payments.reason.closed_loop'),
  aml_large_amount: pending(),
  aml_round_trip: pending(),
  documents_requested: safe('payments.reason.documents_requested'),
  withdrawals_frozen: safe('payments.reason.withdrawals_frozen'),
  manual_review: safe('payments.neutral_under_review'),
  review_expired: safe('payments.reason.review_expired'),
  payout_failed: safe('payments.reason.payout_failed'),
  payout_expired: safe('payments.reason.payout_expired'),
  rejected_by_compliance: safe('payments.neutral_not_completed'),
  rejected_by_finance: safe('payments.reason.rejected_by_finance'),
  cancelled_by_client: safe('payments.reason.cancelled_by_client'),
  insufficient_funds: safe('payments.reason.insufficient_funds'),
  closed_loop_violation: safe('payments.reason.closed_loop_violation'),
  source_of_funds_required: safe('payments.reason.source_of_funds_required'),
  suspected_fraud: refused('rejected_by_compliance'),
  third_party_account: safe('payments.reason.third_party_account'),
  other: safe('payments.reason.other'),
};

export const isPaymentReasonCode = (code: string): code is PaymentReasonCode => Object.hasOwn(CATALOGUE, code);

/** The catalogue locale for a tenant / client locale such as 'de-DE' (primary language), else 'en'. */
export function paymentReasonLocale(locale: string): PaymentReasonLocale {
  return resolveMessageLocale(locale);
}

/** The client's text for `code` in `locale` (neutral for confidential codes, generic for unknown ones). */
export function paymentReasonText(code: string, locale: string): string {
  return text(isPaymentReasonCode(code) ? CATALOGUE[code].text : 'payments.generic_reason', locale);
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
