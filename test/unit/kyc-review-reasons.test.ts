import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import { ISSUE_CATALOGUE } from '#domain/kyc/decision.ts';
import type { KycIssueCode } from '#domain/kyc/model.ts';
import {
  autoRejectionIsFinal,
  CONFIDENTIAL_REVIEW_MESSAGE,
  issueRequiresNewDocument,
  REVIEW_REASON_CODES,
  REVIEW_REASONS,
  type ReviewReasonCode,
  reasonCategory,
  reasonsForDocument,
  reviewReasonMessage,
  validateReviewDecision,
} from '#domain/kyc/review-reasons.ts';
import type { ReviewDecisionKind } from '#domain/kyc/submission.ts';
import { thrown } from '../support/errors.ts';

const LOCALES = ['en', 'de', 'es'] as const;
const DECISIONS: ReviewDecisionKind[] = ['approve', 'reject', 'request_documents'];

describe('the reason catalogue', () => {
  it('holds every required reason, each with en, de and es messages and at least one decision', () => {
    for (const code of [
      'document_unreadable',
      'document_expired',
      'document_type_not_accepted',
      'document_incomplete',
      'name_mismatch',
      'dob_mismatch',
      'address_proof_too_old',
      'address_mismatch',
      'address_proof_not_accepted',
      'selfie_mismatch',
      'suspected_forgery',
      'sanctions_confirmed',
      'underage',
      'country_restricted',
      'duplicate_account',
      'verified_manually',
      'expiring_soon_accepted',
      'other',
    ]) {
      expect(REVIEW_REASON_CODES).toContain(code);
    }
    for (const code of REVIEW_REASON_CODES) {
      const r = REVIEW_REASONS[code];
      expect(r.decisions.length).toBeGreaterThan(0);
      for (const l of LOCALES) expect(r.clientMessage[l].length).toBeGreaterThan(10);
    }
  });

  it('confidential reasons share one generic message that reveals nothing', () => {
    const confidential = REVIEW_REASON_CODES.filter((c) => REVIEW_REASONS[c].confidential);
    expect(confidential.sort()).toEqual(['duplicate_account', 'sanctions_confirmed', 'suspected_forgery']);
    for (const l of LOCALES) {
      const msgs = new Set(confidential.map((c) => reviewReasonMessage(c, l)));
      expect([...msgs]).toEqual([CONFIDENTIAL_REVIEW_MESSAGE[l]]);
      expect(CONFIDENTIAL_REVIEW_MESSAGE[l]).not.toMatch(/sanction|sanktion|fraud|forg|fälsch|falsif|duplicat|list|pep/i);
    }
  });

  it('final reasons are exactly the ones new documents cannot fix', () => {
    const final = REVIEW_REASON_CODES.filter((c) => REVIEW_REASONS[c].final).sort();
    expect(final).toEqual(['country_restricted', 'duplicate_account', 'sanctions_confirmed', 'suspected_forgery', 'underage']);
  });

  it('reviewReasonMessage speaks the client locale', () => {
    expect(reviewReasonMessage('document_expired', 'de')).toBe(
      'Ihr Ausweisdokument ist abgelaufen. Bitte laden Sie ein gültiges Ausweisdokument hoch.',
    );
    expect(reviewReasonMessage('underage', 'es')).toMatch(/18 años/);
    expect(reviewReasonMessage('underage')).toMatch(/18 years/);
  });
});

describe('validateReviewDecision', () => {
  it('reject and request_documents need a reason; approve does not', () => {
    for (const d of ['reject', 'request_documents'] as const) {
      const e = thrown(() => validateReviewDecision(d, []));
      expect(e.code).toBe('reasons_required');
      expect(e.kind).toBe('validation');
    }
    expect(validateReviewDecision('approve', [])).toEqual({ canResubmit: true });
  });

  it('names every unknown code in its own field error', () => {
    const e = thrown(() => validateReviewDecision('reject', ['document_unreadable', 'blurry', 'SANCTIONS_CONFIRMED']));
    expect(e.code).toBe('unknown_reason');
    expect(e.kind).toBe('validation');
    expect(e.errors).toEqual([
      { field: 'reasons.1', code: 'unknown_reason', message: expect.stringContaining('blurry') },
      { field: 'reasons.2', code: 'unknown_reason', message: expect.stringContaining('SANCTIONS_CONFIRMED') },
    ]);
    expect(e.meta).toEqual({ codes: ['blurry', 'SANCTIONS_CONFIRMED'] });
  });

  it('prototype keys are unknown reasons, not catalogue entries', () => {
    expect(thrown(() => validateReviewDecision('reject', ['toString', '__proto__'])).errors).toHaveLength(2);
  });

  it('names every reason the decision does not allow', () => {
    const e = thrown(() => validateReviewDecision('reject', ['verified_manually', 'document_expired', 'expiring_soon_accepted']));
    expect(e.code).toBe('reason_not_allowed');
    expect(e.errors.map((x) => [x.field, x.code])).toEqual([
      ['reasons.0', 'reason_not_allowed'],
      ['reasons.2', 'reason_not_allowed'],
    ]);
    expect(e.errors[0]!.message).toContain('verified_manually');
    expect(e.errors[1]!.message).toContain('expiring_soon_accepted');
    expect(thrown(() => validateReviewDecision('approve', ['underage'])).code).toBe('reason_not_allowed');
    expect(thrown(() => validateReviewDecision('request_documents', ['sanctions_confirmed'])).code).toBe('reason_not_allowed');
    expect(thrown(() => validateReviewDecision('approve', ['name_mismatch'])).code).toBe('reason_not_allowed');
  });

  it('reports unknown codes before codes that are not allowed', () => {
    expect(thrown(() => validateReviewDecision('approve', ['underage', 'nope'])).code).toBe('unknown_reason');
  });

  it("'other' needs a note of at least 5 characters after trimming", () => {
    for (const note of [undefined, '', '    ', '  abcd  ']) {
      const e = thrown(() => validateReviewDecision('request_documents', ['other'], note));
      expect(e.code).toBe('note_required');
      expect(e.errors[0]!.field).toBe('note');
    }
    expect(validateReviewDecision('request_documents', ['other'], '  abcde ')).toEqual({ canResubmit: true });
    expect(validateReviewDecision('approve', ['other'], 'checked against the original')).toEqual({ canResubmit: true });
    expect(validateReviewDecision('reject', ['other'], 'see case file 123')).toEqual({ canResubmit: true });
  });

  it('a rejection is final when any reason is final; a document request never is', () => {
    expect(validateReviewDecision('reject', ['document_expired', 'address_mismatch'])).toEqual({ canResubmit: true });
    expect(validateReviewDecision('reject', ['document_unreadable', 'sanctions_confirmed'])).toEqual({ canResubmit: false });
    expect(validateReviewDecision('reject', ['suspected_forgery'])).toEqual({ canResubmit: false });
    expect(validateReviewDecision('request_documents', ['suspected_forgery'])).toEqual({ canResubmit: true });
    expect(validateReviewDecision('approve', ['verified_manually', 'expiring_soon_accepted'])).toEqual({ canResubmit: true });
  });

  it('property: accepts exactly the allowed combinations; canResubmit = not (reject and a final reason)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...DECISIONS),
        fc.array(fc.constantFrom<ReviewReasonCode>(...REVIEW_REASON_CODES), { maxLength: 5 }),
        (decision, reasons) => {
          const valid =
            (decision === 'approve' || reasons.length > 0) &&
            reasons.every((r) => REVIEW_REASONS[r].decisions.includes(decision));
          let result: { canResubmit: boolean } | undefined;
          try {
            result = validateReviewDecision(decision, reasons, 'a sufficient note');
          } catch (e) {
            expect(e).toBeInstanceOf(DomainError);
          }
          expect(result !== undefined).toBe(valid);
          if (result) {
            expect(result.canResubmit).toBe(!(decision === 'reject' && reasons.some((r) => REVIEW_REASONS[r].final)));
          }
        },
      ),
    );
  });
});

describe('automatic rejections', () => {
  it('issueRequiresNewDocument names the category to upload again', () => {
    expect(issueRequiresNewDocument('document_expired')).toBe('identity');
    expect(issueRequiresNewDocument('mrz_invalid')).toBe('identity');
    expect(issueRequiresNewDocument('dob_mismatch')).toBe('identity');
    expect(issueRequiresNewDocument('address_proof_too_old')).toBe('proof_of_address');
    expect(issueRequiresNewDocument('address_mismatch')).toBe('proof_of_address');
    for (const c of [
      'underage',
      'country_restricted',
      'sanctions_hit',
      'sanctions_possible_match',
      'duplicate_document',
    ] as const) {
      expect(issueRequiresNewDocument(c)).toBeUndefined();
    }
  });

  it('an unreadable address-proof field points at the proof of address, an identity field at the identity document', () => {
    expect(issueRequiresNewDocument({ code: 'low_confidence', field: 'issueDate,postalCode' })).toBe('proof_of_address');
    expect(issueRequiresNewDocument({ code: 'document_data_invalid', field: 'issueDate' })).toBe('proof_of_address');
    expect(issueRequiresNewDocument({ code: 'low_confidence', field: 'givenNames,surname' })).toBe('identity');
    expect(issueRequiresNewDocument({ code: 'document_data_invalid', field: 'expiryDate' })).toBe('identity');
  });

  it('every issue code is mapped (no runtime gaps)', () => {
    for (const code of Object.keys(ISSUE_CATALOGUE) as KycIssueCode[]) {
      expect(['identity', 'proof_of_address', 'selfie', undefined]).toContain(issueRequiresNewDocument(code));
    }
  });

  it('autoRejectionIsFinal: only hard underage, country_restricted or sanctions_hit', () => {
    expect(autoRejectionIsFinal([])).toBe(false);
    expect(autoRejectionIsFinal([{ code: 'document_expired', severity: 'hard' }])).toBe(false);
    expect(autoRejectionIsFinal([{ code: 'dob_mismatch', severity: 'hard' }])).toBe(false);
    expect(
      autoRejectionIsFinal([
        { code: 'document_expired', severity: 'hard' },
        { code: 'underage', severity: 'hard' },
      ]),
    ).toBe(true);
    expect(autoRejectionIsFinal([{ code: 'country_restricted', severity: 'hard' }])).toBe(true);
    expect(autoRejectionIsFinal([{ code: 'sanctions_hit', severity: 'hard' }])).toBe(true);
    expect(autoRejectionIsFinal([{ code: 'sanctions_possible_match', severity: 'review' }])).toBe(false);
  });
});

describe('analysis_failed issue', () => {
  it('is a non-confidential review issue with a manual inspection and three messages', () => {
    const e = ISSUE_CATALOGUE.analysis_failed;
    expect(e).toMatchObject({ severity: 'review', suggestedAction: 'manual_document_inspection', confidential: false });
    expect(e.clientMessage.en).toBe('We could not process your document automatically; a specialist will check it.');
    for (const l of LOCALES) expect(e.clientMessage[l].length).toBeGreaterThan(10);
  });
});

describe('the reasons of one file', () => {
  it('reasonCategory: a review reason or issue code names its category; undefined for the whole submission', () => {
    expect(reasonCategory('selfie_mismatch')).toBe('selfie');
    expect(reasonCategory('address_proof_too_old')).toBe('proof_of_address');
    expect(reasonCategory('mrz_invalid')).toBe('identity');
    expect(reasonCategory('suspected_forgery')).toBeUndefined();
    expect(reasonCategory('sanctions_hit')).toBeUndefined();
    expect(reasonCategory('not_a_reason')).toBeUndefined();
    expect(reasonCategory('constructor')).toBeUndefined();
  });

  it('reasonsForDocument keeps the reasons about the category or no category; all of them when none match', () => {
    const reasons = ['name_mismatch', 'address_mismatch', 'other'];
    expect(reasonsForDocument(reasons, 'identity')).toEqual(['name_mismatch', 'other']);
    expect(reasonsForDocument(reasons, 'proof_of_address')).toEqual(['address_mismatch', 'other']);
    expect(reasonsForDocument(reasons, 'selfie')).toEqual(['other']);
    expect(reasonsForDocument(['name_mismatch', 'address_mismatch'], 'selfie')).toEqual(['name_mismatch', 'address_mismatch']);
  });
});
