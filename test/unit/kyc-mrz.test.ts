import { describe, expect, it } from 'vitest';
import type { ExtractedIdentity } from '#domain/kyc/model.ts';
import { toIso2 } from '#domain/kyc/model.ts';
import { checkMrz, parseMrz } from '#domain/kyc/mrz.ts';

const now = new Date('2010-06-01T12:00:00Z');
// ICAO 9303 Part 4 specimen (TD3 passport) and Part 5 specimen (TD1 identity card).
const TD3 = 'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10';
const TD3_BAD = 'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C37UTO7408122F1204159ZE184226B<<<<<10';
const TD1 = 'I<UTOD23145890<1233<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<2\nERIKSSON<<ANNA<MARIA<<<<<<<<<<';

const viz: ExtractedIdentity = {
  documentType: 'passport',
  documentNumber: 'L898902C3',
  givenNames: 'Anna María',
  surname: 'Eriksson',
  dateOfBirth: '1974-08-12',
  expiryDate: '2012-04-15',
  issuingCountry: 'UTO',
  nationality: 'UTO',
  mrz: TD3,
  fieldConfidence: {},
};

describe('every failed check digit is named, separately from other field-format errors', () => {
  it('parses the ICAO TD3 specimen with all check digits valid', () => {
    const r = parseMrz(TD3, now);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.format).toBe('TD3');
    expect(r.checkDigitFailures).toEqual([]);
    expect(r.fieldErrors).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.fields).toMatchObject({
      documentCode: 'P',
      documentNumber: 'L898902C3',
      surname: 'ERIKSSON',
      givenNames: 'ANNA MARIA',
      dateOfBirth: '1974-08-12',
      expiryDate: '2012-04-15',
      issuingState: 'UTO',
      nationality: 'UTO',
    });
  });
  it('parses the ICAO TD1 specimen including the long document number', () => {
    const r = parseMrz(TD1, now);
    expect(r.ok && r.format).toBe('TD1');
    if (!r.ok) return;
    expect(r.valid).toBe(true);
    expect(r.fields.documentNumber).toBe('D23145890123');
    expect(r.fields.dateOfBirth).toBe('1974-08-12');
  });
  it('names the broken document-number and composite check digits', () => {
    const r = parseMrz(TD3_BAD, now);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.valid).toBe(false);
    expect(r.checkDigitFailures.sort()).toEqual(['compositeCheckDigit', 'documentNumberCheckDigit']);
  });
});

describe('parsing never throws: an unreadable MRZ is ok:false', () => {
  it('returns the parser reason', () => {
    const r = parseMrz('NOT AN MRZ ###', now);
    expect(r.ok).toBe(false);
  });
  it('maps to review mrz_invalid unparseable', () => {
    const issues = checkMrz({ ...viz, mrz: 'garbage' }, { now });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'mrz_invalid', severity: 'review', evidence: { reason: 'unparseable' } });
  });
});

describe('MRZ birth century is the latest not after now; expiry is 20YY', () => {
  it('resolves 74 to 1974 and 12 expiry to 2012', () => {
    const r = parseMrz(TD3, new Date('2030-01-01T00:00:00Z'));
    expect(r.ok && r.fields.dateOfBirth).toBe('1974-08-12');
    expect(r.ok && r.fields.expiryDate).toBe('2012-04-15');
  });
  it('resolves a birth year equal to the current two digits into this century', () => {
    const r = parseMrz(TD3.replace('740812', '100101').replace('7408122', '1001012'), new Date('2010-06-01T00:00:00Z'));
    expect(r.ok && r.fields.dateOfBirth).toBe('2010-01-01');
  });
});

describe('the ICAO specimen state UTO parses but is never a real document', () => {
  it('flags hard mrz_invalid specimen_document by default', () => {
    const issues = checkMrz(viz, { now });
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'mrz_invalid',
        severity: 'hard',
        evidence: expect.objectContaining({ reason: 'specimen_document' }),
      }),
    ]);
  });
  it('is accepted with allowSpecimen (a clean specimen gives no issue)', () => {
    expect(checkMrz(viz, { now, allowSpecimen: true })).toEqual([]);
  });
});

describe('check digit / format => mrz_invalid; MRZ vs VIZ disagreement => one mrz_mismatch per field', () => {
  it('a broken check digit gives review mrz_invalid naming the digits', () => {
    const issues = checkMrz({ ...viz, mrz: TD3_BAD }, { now, allowSpecimen: true });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ code: 'mrz_invalid', severity: 'review', evidence: { reason: 'check_digit' } });
    expect(issues[0]?.evidence['failed']).toContain('documentNumberCheckDigit');
  });
  it('an invalid (non-specimen) state code is a format error', () => {
    // ZZZ is not a state; check digits do not cover the state code, so only the format error shows.
    const issues = checkMrz(
      { ...viz, issuingCountry: undefined, mrz: TD3.replace('P<UTO', 'P<ZZZ') },
      { now, allowSpecimen: true },
    );
    expect(issues).toEqual([
      expect.objectContaining({ code: 'mrz_invalid', evidence: expect.objectContaining({ reason: 'format' }) }),
    ]);
  });
  it('flags visual fields that disagree with the MRZ', () => {
    const issues = checkMrz(
      { ...viz, documentNumber: 'L898902C4', dateOfBirth: '1974-08-13', surname: 'Johansson', expiryDate: '2013-04-15' },
      { now, allowSpecimen: true },
    );
    expect(issues.map((i) => [i.code, i.field])).toEqual([
      ['mrz_mismatch', 'documentNumber'],
      ['mrz_mismatch', 'name'],
      ['mrz_mismatch', 'dateOfBirth'],
      ['mrz_mismatch', 'expiryDate'],
    ]);
    expect(issues[1]?.evidence['similarity']).toBeLessThan(0.85);
  });
  it('tolerates transliteration (Müller vs MUELLER) and diacritics', () => {
    const de = 'P<D<<MUELLER<<JOERG<<<<<<<<<<<<<<<<<<<<<<<<<\nC01X00T478D<<6408125M2702283<<<<<<<<<<<<<<<4';
    const r = parseMrz(de, now);
    expect(r.ok && r.checkDigitFailures).toEqual([]);
    const issues = checkMrz(
      {
        documentType: 'passport',
        documentNumber: 'C01X00T47',
        givenNames: 'Jörg',
        surname: 'Müller',
        dateOfBirth: '1964-08-12',
        expiryDate: '2027-02-28',
        issuingCountry: 'DEU',
        nationality: 'DE',
        mrz: de,
        fieldConfidence: {},
      },
      { now },
    );
    expect(issues).toEqual([]);
  });
  it('compares country codes across alpha-2, alpha-3 and ICAO D', () => {
    expect(toIso2('DEU')).toBe('DE');
    expect(toIso2('D<<')).toBe('DE');
    expect(toIso2('gbr')).toBe('GB');
    expect(toIso2('UTO')).toBeUndefined();
    const issues = checkMrz({ ...viz, mrz: TD3.replace(/UTO/g, 'FRA'), issuingCountry: 'ES', nationality: 'FR' }, { now });
    expect(issues.map((i) => i.field)).toEqual(['issuingCountry']);
  });
  it('a document without an MRZ has no MRZ issues', () => {
    expect(checkMrz({ ...viz, mrz: undefined }, { now })).toEqual([]);
  });
});
