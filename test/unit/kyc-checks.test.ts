import { describe, expect, it } from 'vitest';
import {
  checkAddressProof,
  checkAge,
  checkConfidence,
  checkDateOfBirth,
  checkDuplicateDocument,
  checkExpiry,
  checkName,
  checkRestrictedCountry,
  looksLikeSlip,
  REQUIRED_IDENTITY_FIELDS,
} from '#domain/kyc/checks.ts';
import type { ExtractedAddressProof, ExtractedIdentity, RegistrationProfile } from '#domain/kyc/model.ts';
import { levenshtein, nameSimilarity, similarity, tokenSortKey } from '#domain/kyc/text.ts';

const now = new Date('2026-03-15T10:00:00Z');
const doc: ExtractedIdentity = {
  documentType: 'passport',
  documentNumber: 'X1234567',
  givenNames: 'José María',
  surname: 'García-López',
  dateOfBirth: '1985-04-20',
  expiryDate: '2030-01-01',
  issuingCountry: 'ESP',
  fieldConfidence: { documentNumber: 99, givenNames: 98, surname: 97, dateOfBirth: 99, expiryDate: 95 },
};
const profile: RegistrationProfile = {
  givenNames: 'Jose Maria',
  surname: 'Garcia Lopez',
  dateOfBirth: '1985-04-20',
  country: 'ES',
  address: { lines: ['Calle Mayor 12, 3º B'], postalCode: '28013', country: 'ES' },
};

describe('a document is valid through its expiry date; expired => hard, within 30 days => review', () => {
  it('no issue when far from expiry', () => expect(checkExpiry(doc, now)).toEqual([]));
  it('expiry today is still valid but expiring soon', () => {
    expect(checkExpiry({ ...doc, expiryDate: '2026-03-15' }, now)).toEqual([
      expect.objectContaining({
        code: 'document_expiring_soon',
        severity: 'review',
        evidence: expect.objectContaining({ daysLeft: 0 }),
      }),
    ]);
  });
  it('yesterday is expired (hard)', () => {
    expect(checkExpiry({ ...doc, expiryDate: '2026-03-14' }, now)).toEqual([
      expect.objectContaining({ code: 'document_expired', severity: 'hard', suggestedAction: 'request_new_document' }),
    ]);
  });
  it('30 days left is expiring soon, 31 days left is fine', () => {
    expect(checkExpiry({ ...doc, expiryDate: '2026-04-14' }, now)[0]?.code).toBe('document_expiring_soon');
    expect(checkExpiry({ ...doc, expiryDate: '2026-04-15' }, now)).toEqual([]);
  });
  it('an unreal expiry date is document_data_invalid', () => {
    expect(checkExpiry({ ...doc, expiryDate: '2026-02-30' }, now)[0]?.code).toBe('document_data_invalid');
  });
});

describe('names match independent of case, diacritics, punctuation and word order; the score is recorded', () => {
  it("'José María García-López' matches 'GARCIA LOPEZ JOSE MARIA'", () => {
    expect(tokenSortKey('José María García-López')).toBe(tokenSortKey('GARCIA LOPEZ JOSE MARIA'));
    expect(nameSimilarity('José María García-López', 'GARCIA LOPEZ JOSE MARIA').score).toBe(1);
    expect(checkName(doc, { givenNames: 'GARCIA LOPEZ', surname: 'JOSE MARIA' })).toEqual([]);
  });
  it('folds letters NFD cannot decompose (ß, ø, ł)', () => {
    expect(tokenSortKey('Łukasz Weiß Møller')).toBe('lukasz moller weiss');
  });
  it('a missing middle name is not a mismatch (token subset)', () => {
    expect(nameSimilarity('Anna Maria Eriksson', 'Anna Eriksson')).toMatchObject({ score: 1, method: 'token_subset' });
  });
  it('a different person is review name_mismatch with the similarity in evidence', () => {
    const issues = checkName(doc, { givenNames: 'Juan', surname: 'Pérez' });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'name_mismatch', severity: 'review', field: 'name' });
    expect(issues[0]?.evidence['similarity']).toBeTypeOf('number');
    expect(issues[0]?.evidence['similarity']).toBeLessThan(0.85);
  });
  it('edit-distance tolerance boundary: 3 edits in 20 characters (0.85) pass, 4 (0.80) fail', () => {
    // 'abcdefghij klmnopqrs' is 20 characters once tokens are sorted and joined.
    const base = { givenNames: 'abcdefghij', surname: 'klmnopqrs' };
    expect(levenshtein('abcdefghij', 'abcdefgxyz')).toBe(3);
    expect(similarity('abcdefghij klmnopqrs', 'abcdefgxyz klmnopqrs')).toBeCloseTo(0.85, 10);
    expect(checkName({ givenNames: 'abcdefgxyz', surname: 'klmnopqrs' }, base)).toEqual([]);
    const four = checkName({ givenNames: 'abcdefwxyz', surname: 'klmnopqrs' }, base);
    expect(four[0]?.evidence['similarity']).toBe(0.8);
  });
  it('levenshtein basics', () => {
    expect(levenshtein('', 'abc')).toBe(3);
    expect(levenshtein('kitten', 'sitting')).toBe(3);
    expect(levenshtein('same', 'same')).toBe(0);
  });
});

describe('a DOB mismatch is hard unless it looks like a keying slip (review)', () => {
  it('equal DOB => no issue', () => expect(checkDateOfBirth(doc, profile)).toEqual([]));
  it('a different year and day => hard', () => {
    expect(checkDateOfBirth({ dateOfBirth: '1979-11-02' }, profile)).toEqual([
      expect.objectContaining({
        code: 'dob_mismatch',
        severity: 'hard',
        evidence: expect.objectContaining({ likelySlip: false }),
      }),
    ]);
  });
  it('one digit off or day/month swapped => review', () => {
    expect(checkDateOfBirth({ dateOfBirth: '1985-04-21' }, profile)[0]?.severity).toBe('review');
    expect(looksLikeSlip('1985-04-03', '1985-03-04')).toBe(true);
    expect(checkDateOfBirth({ dateOfBirth: '1985-03-04' }, { dateOfBirth: '1985-04-03' })[0]?.severity).toBe('review');
  });
});

describe('the client is an adult (>= 18) by the document DOB, else the registered DOB', () => {
  it('18 today passes', () => expect(checkAge({ dateOfBirth: '2008-03-15' }, profile, now)).toEqual([]));
  it('18 tomorrow is hard underage', () => {
    expect(checkAge({ dateOfBirth: '2008-03-16' }, profile, now)).toEqual([
      expect.objectContaining({ code: 'underage', severity: 'hard', evidence: expect.objectContaining({ source: 'document' }) }),
    ]);
  });
  it('falls back to the registered DOB', () => {
    expect(checkAge({}, { dateOfBirth: '2010-01-01' }, now)[0]?.evidence['source']).toBe('registration');
  });
});

describe('proof of address: issued within N days (default 90), postal code + country equal, street fuzzy', () => {
  const proof: ExtractedAddressProof = {
    issueDate: '2026-01-10',
    addressLines: ['C. Mayor, 12 - 3º B'],
    postalCode: '28 013',
    country: 'ESP',
    fieldConfidence: {},
  };
  it('a recent, matching proof has no issue', () => expect(checkAddressProof(proof, profile, { now })).toEqual([]));
  it('90 days old passes, 91 days is review address_proof_too_old', () => {
    expect(checkAddressProof({ ...proof, issueDate: '2025-12-15' }, profile, { now })).toEqual([]);
    expect(checkAddressProof({ ...proof, issueDate: '2025-12-14' }, profile, { now })).toEqual([
      expect.objectContaining({
        code: 'address_proof_too_old',
        severity: 'review',
        evidence: expect.objectContaining({ ageDays: 91 }),
      }),
    ]);
  });
  it('N comes from input', () => {
    expect(checkAddressProof({ ...proof, issueDate: '2026-01-10' }, profile, { now, maxAgeDays: 30 })[0]?.code).toBe(
      'address_proof_too_old',
    );
  });
  it('a different postal code, country or street is review address_mismatch naming the fields', () => {
    const issues = checkAddressProof(
      { ...proof, postalCode: '08001', country: 'FR', addressLines: ['Avenue des Champs 99'] },
      profile,
      { now },
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'address_mismatch', severity: 'review' });
    expect(issues[0]?.evidence['fields']).toEqual(['postalCode', 'country', 'addressLines']);
  });
});

describe('street abbreviations and the name on the proof are matched fuzzily', () => {
  const de: RegistrationProfile = {
    givenNames: 'Jörg',
    surname: 'Müller',
    dateOfBirth: '1964-08-12',
    country: 'DE',
    address: { lines: ['Hauptstraße 5'], postalCode: '10115', country: 'DE' },
  };
  const bill: ExtractedAddressProof = {
    issueDate: '2026-03-01',
    addressLines: ['Hauptstr. 5'],
    postalCode: '10115',
    country: 'DEU',
    nameOnDocument: 'Joerg Mueller',
    fieldConfidence: {},
  };
  it("'Hauptstr. 5' matches 'Hauptstraße 5' and 'Joerg Mueller' matches 'Jörg Müller'", () => {
    expect(checkAddressProof(bill, de, { now })).toEqual([]);
  });
  it('a different name on the proof is an address_mismatch naming nameOnDocument', () => {
    const issues = checkAddressProof({ ...bill, nameOnDocument: 'Petra Schmidt' }, de, { now });
    expect(issues[0]?.evidence['fields']).toEqual(['nameOnDocument']);
    expect(issues[0]?.evidence['nameSimilarity']).toBeLessThan(0.85);
  });
});

describe('every required field has confidence >= 80; a missing field counts as 0', () => {
  it('high confidence => no issue', () => expect(checkConfidence(doc, REQUIRED_IDENTITY_FIELDS)).toEqual([]));
  it('names every low or missing field', () => {
    const issues = checkConfidence(
      { fieldConfidence: { documentNumber: 79.9, givenNames: 80, surname: 99, dateOfBirth: 99 } },
      REQUIRED_IDENTITY_FIELDS,
    );
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'low_confidence',
        severity: 'review',
        evidence: expect.objectContaining({ fields: ['documentNumber', 'expiryDate'] }),
      }),
    ]);
  });
  it('threshold comes from input', () =>
    expect(checkConfidence(doc, REQUIRED_IDENTITY_FIELDS, 99)[0]?.code).toBe('low_confidence'));
});

describe('a document number used by other clients => review duplicate_document (fraud flag)', () => {
  it('no other clients => no issue', () => expect(checkDuplicateDocument(doc, [])).toEqual([]));
  it('names the other clients, deduplicated and sorted', () => {
    expect(checkDuplicateDocument(doc, ['c2', 'c1', 'c2'])).toEqual([
      expect.objectContaining({
        code: 'duplicate_document',
        severity: 'review',
        evidence: expect.objectContaining({ otherClientIds: ['c1', 'c2'], fraudFlag: true }),
      }),
    ]);
  });
});

describe('residence or document issuing country restricted => hard country_restricted', () => {
  const cfg = { restrictedCountries: ['US', 'KP'] };
  it('clean', () => expect(checkRestrictedCountry(cfg, profile, doc)).toEqual([]));
  it('residence restricted', () =>
    expect(checkRestrictedCountry(cfg, { country: 'US' }, doc).map((i) => i.field)).toEqual(['country']));
  it('alpha-3 issuing country restricted', () => {
    expect(checkRestrictedCountry(cfg, profile, { issuingCountry: 'PRK' })).toEqual([
      expect.objectContaining({
        code: 'country_restricted',
        severity: 'hard',
        field: 'issuingCountry',
        evidence: { country: 'KP', raw: 'PRK' },
      }),
    ]);
  });
});
