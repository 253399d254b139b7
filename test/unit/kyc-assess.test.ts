import { describe, expect, it } from 'vitest';
import { assessKyc, type KycInput, runKycChecks } from '#domain/kyc/assess.ts';
import { SAMPLE_SANCTIONS_LIST } from '#domain/kyc/sample-list.ts';

const now = new Date('2026-03-15T10:00:00Z');
const conf = { documentNumber: 99, givenNames: 99, surname: 99, dateOfBirth: 99, expiryDate: 99 };
const input: KycInput = {
  now,
  identity: {
    documentType: 'passport',
    documentNumber: 'C01X00T47',
    givenNames: 'Jörg',
    surname: 'Müller',
    dateOfBirth: '1964-08-12',
    expiryDate: '2027-02-28',
    issuingCountry: 'DEU',
    nationality: 'DEU',
    mrz: 'P<D<<MUELLER<<JOERG<<<<<<<<<<<<<<<<<<<<<<<<<\nC01X00T478D<<6408125M2702283<<<<<<<<<<<<<<<4',
    fieldConfidence: conf,
  },
  addressProof: {
    issueDate: '2026-02-01',
    addressLines: ['Hauptstr. 5'],
    postalCode: '10115',
    country: 'DE',
    nameOnDocument: 'Herr Jörg Müller',
    fieldConfidence: { issueDate: 95, addressLines: 95, postalCode: 95, country: 95 },
  },
  profile: {
    givenNames: 'Joerg',
    surname: 'Mueller',
    dateOfBirth: '1964-08-12',
    country: 'DE',
    address: { lines: ['Hauptstrasse 5'], postalCode: '10115', country: 'DE' },
  },
  tenant: { restrictedCountries: ['US'] },
  duplicateClientIds: [],
  sanctionsList: SAMPLE_SANCTIONS_LIST,
};

describe('the same input gives the same issues, in a fixed order', () => {
  it('a clean German passport and utility bill is approved', () => {
    expect(runKycChecks(input)).toEqual([]);
    expect(assessKyc(input, { escalate: [] }).outcome).toBe('approve');
  });
  it('several findings are all reported, and the decision follows the table', () => {
    const bad: KycInput = {
      ...input,
      now: new Date('2027-02-10T00:00:00Z'),
      duplicateClientIds: ['client-9'],
      addressProof: { ...input.addressProof!, issueDate: '2026-06-01' },
    };
    const d = assessKyc(bad, { escalate: [] });
    expect(d.issues.map((i) => i.code)).toEqual(['document_expiring_soon', 'duplicate_document', 'address_proof_too_old']);
    expect(d.outcome).toBe('manual_review');
  });
  it('a sanctions hit on the document name rejects unless escalated', () => {
    const hit: KycInput = {
      ...input,
      identity: { ...input.identity, mrz: undefined, givenNames: 'Zülfikar', surname: 'Özdemir', dateOfBirth: '1975-07-29' },
      profile: { ...input.profile, givenNames: 'Zulfikar', surname: 'Ozdemir', dateOfBirth: '1975-07-29' },
    };
    expect(assessKyc(hit, { escalate: [] }).outcome).toBe('reject');
    expect(assessKyc(hit, { escalate: ['sanctions_hit'] })).toMatchObject({ outcome: 'manual_review', priority: 'high' });
  });
});
