/**
 * The payment reason catalogue (domain/payments/reasons.ts), named after its invariants: every code
 * speaks en / de / es; confidential codes (AML, fraud) never reveal themselves to a client; unknown
 * codes and locales fall back safely; a reviewer's rejection reasons are validated with stable codes.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import {
  clientReason,
  clientReasonCode,
  GENERIC_REASON,
  isClientSafeReason,
  isPaymentReasonCode,
  NEUTRAL_NOT_COMPLETED,
  NEUTRAL_UNDER_REVIEW,
  PAYMENT_REASON_CODES,
  PAYMENT_REASON_LOCALES,
  paymentReasonLocale,
  paymentReasonText,
  validateWithdrawalRejection,
  WITHDRAWAL_REJECTION_REASONS,
} from '#domain/payments/reasons.ts';
import { CHECK_ORDER } from '#domain/payments/withdrawal-checks.ts';
import { thrown } from '../support/errors.ts';

const CONFIDENTIAL = ['aml_large_amount', 'aml_round_trip', 'suspected_fraud'] as const;

/** Words that would tell a client why a confidential reason applied. */
const INTERNAL_WORDS =
  /aml|money laundering|laundering|geldwäsche|blanqueo|fraud|betrug|fraude|sanction|sanktion|sanci|suspic|verdacht|sospech|threshold|schwellen|umbral|round.?trip|large amount|aml_/i;

describe('every code has a client text in every locale', () => {
  it.each(PAYMENT_REASON_CODES.flatMap((code) => PAYMENT_REASON_LOCALES.map((loc) => [code, loc] as const)))(
    '%s in %s',
    (code, loc) => {
      const text = paymentReasonText(code, loc);
      expect(text.trim().length).toBeGreaterThan(10);
      expect(text).not.toContain(code);
    },
  );

  it('the locales really differ (no English text copied into de / es)', () => {
    for (const code of PAYMENT_REASON_CODES) {
      expect(paymentReasonText(code, 'de')).not.toBe(paymentReasonText(code, 'en'));
      expect(paymentReasonText(code, 'es')).not.toBe(paymentReasonText(code, 'en'));
    }
  });

  it("covers every reason the withdrawal checks can produce and the issue's named codes", () => {
    const checkReasons = ['kyc_not_approved', 'kyc_expired', ...CHECK_ORDER.slice(1), 'manual_review'];
    for (const code of [
      ...checkReasons,
      'payment_declined',
      'provider_unavailable',
      'intent_expired',
      'amount_mismatch',
      'review_expired',
      'payout_failed',
      'payout_expired',
      'rejected_by_compliance',
      'rejected_by_finance',
      'cancelled_by_client',
      'insufficient_funds',
    ]) {
      expect(isPaymentReasonCode(code), code).toBe(true);
    }
  });
});

describe('locale fallback', () => {
  it('uses the primary language of a regional locale', () => {
    expect(paymentReasonLocale('de-AT')).toBe('de');
    expect(paymentReasonText('payout_failed', 'es-MX')).toBe(paymentReasonText('payout_failed', 'es'));
  });

  it('falls back to English for an unknown or empty locale', () => {
    expect(paymentReasonText('payout_failed', 'fr')).toBe(paymentReasonText('payout_failed', 'en'));
    expect(paymentReasonText('payout_failed', '')).toBe(paymentReasonText('payout_failed', 'en'));
  });

  it('gives an unknown code a generic, client-safe sentence that never echoes the code', () => {
    for (const loc of PAYMENT_REASON_LOCALES) {
      expect(paymentReasonText('psp_internal_error_7', loc)).toBe(GENERIC_REASON[loc]);
    }
    expect(paymentReasonText('toString', 'en')).toBe(GENERIC_REASON.en);
    expect(isClientSafeReason('psp_internal_error_7')).toBe(false);
    expect(clientReason('psp_internal_error_7', 'de')).toEqual({ text: GENERIC_REASON.de });
  });
});

describe('confidential reasons are never revealed to a client', () => {
  it.each(CONFIDENTIAL)('%s is not client-safe and reads as a neutral sentence', (code) => {
    expect(isClientSafeReason(code)).toBe(false);
    for (const loc of PAYMENT_REASON_LOCALES) {
      const text = paymentReasonText(code, loc);
      expect(text).toMatch(/./);
      expect(text).not.toMatch(INTERNAL_WORDS);
      expect([NEUTRAL_UNDER_REVIEW[loc], NEUTRAL_NOT_COMPLETED[loc]]).toContain(text);
    }
  });

  it('no client text anywhere in the catalogue uses AML / fraud / sanctions wording', () => {
    for (const code of PAYMENT_REASON_CODES) {
      for (const loc of PAYMENT_REASON_LOCALES)
        expect(paymentReasonText(code, loc), `${code}/${loc}`).not.toMatch(INTERNAL_WORDS);
    }
  });

  it('AML holds read as "under review"; a fraud rejection as "could not be completed"', () => {
    expect(paymentReasonText('aml_large_amount', 'en')).toBe(NEUTRAL_UNDER_REVIEW.en);
    expect(paymentReasonText('aml_round_trip', 'de')).toBe(paymentReasonText('manual_review', 'de'));
    expect(paymentReasonText('suspected_fraud', 'es')).toBe(NEUTRAL_NOT_COMPLETED.es);
  });

  it('the public code replaces a confidential one, so two confidential reasons cannot be told apart', () => {
    expect(clientReasonCode('aml_large_amount')).toBe('manual_review');
    expect(clientReasonCode('aml_round_trip')).toBe('manual_review');
    expect(clientReasonCode('suspected_fraud')).toBe('rejected_by_compliance');
    expect(clientReason('aml_round_trip', 'en')).toEqual(clientReason('aml_large_amount', 'en'));
    expect(clientReason('suspected_fraud', 'de')).toEqual({
      code: 'rejected_by_compliance',
      text: paymentReasonText('rejected_by_compliance', 'de'),
    });
  });

  it('every public code is itself client-safe, and a safe code is shown as is', () => {
    for (const code of PAYMENT_REASON_CODES) {
      const pub = clientReasonCode(code);
      expect(pub && isClientSafeReason(pub), code).toBe(true);
      if (isClientSafeReason(code)) expect(pub).toBe(code);
    }
    expect(clientReason('closed_loop', 'en')).toEqual({ code: 'closed_loop', text: paymentReasonText('closed_loop', 'en') });
  });
});

describe('withdrawal rejection reasons', () => {
  it('are the reviewer catalogue, each a known code with a client text', () => {
    expect(WITHDRAWAL_REJECTION_REASONS.map((r) => r.code)).toEqual([
      'closed_loop_violation',
      'source_of_funds_required',
      'suspected_fraud',
      'third_party_account',
      'other',
    ]);
    for (const r of WITHDRAWAL_REJECTION_REASONS) expect(isPaymentReasonCode(r.code)).toBe(true);
  });

  it('accepts a reason without a note when none is needed', () => {
    expect(validateWithdrawalRejection('third_party_account').code).toBe('third_party_account');
  });

  it('refuses a missing or unknown reason with a stable code', () => {
    const missing = thrown(() => validateWithdrawalRejection(undefined));
    expect(missing).toBeInstanceOf(DomainError);
    expect(missing).toMatchObject({ code: 'reason_required', kind: 'validation' });
    expect(thrown(() => validateWithdrawalRejection('aml_large_amount'))).toMatchObject({ code: 'unknown_rejection_reason' });
  });

  it.each(['other', 'suspected_fraud'])('%s needs a note of at least 5 characters', (code) => {
    expect(thrown(() => validateWithdrawalRejection(code))).toMatchObject({ code: 'note_required' });
    expect(thrown(() => validateWithdrawalRejection(code, '   abcd   '))).toMatchObject({ code: 'note_required' });
    expect(validateWithdrawalRejection(code, 'abcde').code).toBe(code);
  });
});
