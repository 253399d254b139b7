/**
 * The sandbox document analyzer (aws-sdk-client-mock on S3Client): JSON document descriptions from
 * test/fixtures/kyc/ become Textract-shaped responses mapped by the Textract mappers; MRZ-derived fields,
 * overrides, confidence, validation, test hooks, unreadable images; and the domain's runKycChecks on the
 * fixtures gives each one's expected issues.
 */
import { readFileSync } from 'node:fs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AnalysisFailedError, AnalysisTransientError, type S3Ref } from '#adapters/kyc/port.ts';
import {
  analyzeDocumentResponseFor,
  analyzeIdResponseFor,
  parseSandboxDocument,
  sandboxAnalyzer,
} from '#adapters/kyc/sandbox.ts';
import { type KycInput, type RegistrationProfile, runKycChecks } from '#domain/kyc/index.ts';
import { SAMPLE_SANCTIONS_LIST } from '#domain/kyc/sample-list.ts';

const BUCKET = 'docs-bucket';
const now = new Date('2026-11-25T12:00:00Z');
const s3mock = mockClient(S3Client);
const analyzer = sandboxAnalyzer(new S3Client({ region: 'eu-central-1' }), { now: () => now });

const fixtureText = (name: string) => readFileSync(new URL(`../fixtures/kyc/${name}`, import.meta.url), 'utf8');
// @smithy/util-stream (sdkStreamMixin) is not a resolvable dependency here: a Body with transformToString is
// all the analyzer reads.
const body = (text: string) => ({ transformToString: async () => text }) as never;

/** Serves an object: a fixture file (JSON) or raw text, with the stored content type. */
function serve(key: string, text: string, contentType = 'application/json') {
  s3mock.on(GetObjectCommand, { Bucket: BUCKET, Key: key }).resolves({ ContentType: contentType, Body: body(text) });
}
const serveFixture = (name: string) => serve(`kyc/${name}`, fixtureText(name));
const ref = (key: string, contentType = 'application/json'): S3Ref => ({ bucket: BUCKET, key, contentType });

async function identity(name: string, documentType: 'passport' | 'national_id' | 'driving_licence' = 'passport') {
  serveFixture(name);
  return analyzer.analyzeIdentity({ documentType, pages: [ref(`kyc/${name}`)] });
}
async function addressProof(name: string) {
  serveFixture(name);
  return analyzer.analyzeAddressProof({ page: ref(`kyc/${name}`) });
}

beforeEach(() => s3mock.reset());
afterAll(() => s3mock.restore());

const MRZ = 'P<D<<ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nC4F7KL9M22D<<8408129F3103142<<<<<<<<<<<<<<04';

describe('identity documents', () => {
  it('reads the pinned object version when it is known (the file checked at upload), and only then', async () => {
    serveFixture('passport-valid.json');
    await analyzer.analyzeIdentity({ documentType: 'passport', pages: [{ ...ref('kyc/passport-valid.json'), version: 'v-3' }] });
    await analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('kyc/passport-valid.json')] });
    expect(s3mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: 'kyc/passport-valid.json', VersionId: 'v-3' },
      { Bucket: BUCKET, Key: 'kyc/passport-valid.json' },
    ]);
  });

  it('reads the fields from the MRZ, as AnalyzeID reports them, with confidence x 100', async () => {
    const doc = await identity('passport-valid.json');
    expect(s3mock.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: BUCKET, Key: 'kyc/passport-valid.json' });
    expect(doc).toEqual({
      documentType: 'passport',
      givenNames: 'ANNA MARIA',
      surname: 'ERIKSSON',
      documentNumber: 'C4F7KL9M2',
      dateOfBirth: '1984-08-12',
      expiryDate: '2031-03-14',
      mrz: MRZ,
      issuingCountry: 'DE',
      nationality: 'DE',
      fieldConfidence: {
        documentType: 98,
        givenNames: 98,
        surname: 98,
        documentNumber: 98,
        dateOfBirth: 98,
        expiryDate: 98,
        mrz: 98,
        issuingCountry: 98,
        nationality: 98,
      },
    });
  });

  it('lets explicit fields override individual MRZ values (a visual zone that disagrees)', async () => {
    const doc = await identity('passport-name-swapped.json');
    expect(doc).toMatchObject({
      givenNames: 'Eriksson',
      surname: 'Ánna María',
      documentNumber: 'C4F7KL9M2',
      dateOfBirth: '1984-08-12',
    });
  });

  it('maps the document confidence to every field', async () => {
    const doc = await identity('passport-low-confidence.json');
    expect(new Set(Object.values(doc.fieldConfidence))).toEqual(new Set([40]));
    expect(Object.keys(doc.fieldConfidence)).toContain('dateOfBirth');
  });

  it('merges an identity card front (visual fields) and back (TD1 MRZ) read in one analysis', async () => {
    serveFixture('id-card-front.json');
    serveFixture('id-card-back.json');
    const doc = await analyzer.analyzeIdentity({
      documentType: 'national_id',
      pages: [ref('kyc/id-card-front.json'), ref('kyc/id-card-back.json')],
    });
    expect(s3mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      'kyc/id-card-front.json',
      'kyc/id-card-back.json',
    ]);
    expect(doc).toMatchObject({
      documentType: 'national_id',
      givenNames: 'Anna Maria', // front (97) beats the MRZ reading on the back (95)
      surname: 'Eriksson',
      documentNumber: 'L01X4R7T9',
      dateOfBirth: '1984-08-12',
      expiryDate: '2032-01-01',
      issuingCountry: 'DE',
      nationality: 'DE',
      mrz: 'IDD<<L01X4R7T93<<<<<<<<<<<<<<<\n8408129F3201015D<<<<<<<<<<<<<4\nERIKSSON<<ANNA<MARIA<<<<<<<<<<',
    });
    expect(doc.fieldConfidence).toMatchObject({ givenNames: 97, mrz: 95, nationality: 95 });
  });

  it('builds a response of exactly the AnalyzeID shape, every normalised field present', () => {
    const doc = parseSandboxDocument(fixtureText('passport-valid.json'));
    const out = analyzeIdResponseFor([{ kind: 'json', doc }], now);
    expect(out.DocumentMetadata).toEqual({ Pages: 1 });
    const fields = out.IdentityDocuments?.[0]?.IdentityDocumentFields ?? [];
    expect(fields.find((f) => f.Type?.Text === 'DATE_OF_BIRTH')).toEqual({
      Type: { Text: 'DATE_OF_BIRTH' },
      ValueDetection: {
        Text: '1984-08-12',
        NormalizedValue: { Value: '1984-08-12T00:00:00', ValueType: 'DATE' },
        Confidence: 98,
      },
    });
    expect(fields.find((f) => f.Type?.Text === 'MIDDLE_NAME')?.ValueDetection?.Text).toBe('');
    expect(fields.find((f) => f.Type?.Text === 'ID_TYPE')?.ValueDetection?.Text).toBe('PASSPORT');
  });

  it('passes a non-ISO date as text only, so the mapper leaves an ambiguous one out', async () => {
    serve(
      'kyc/dl.json',
      JSON.stringify({
        documentType: 'driving_licence',
        fields: { firstName: 'ANNA', lastName: 'ERIKSSON', dateOfBirth: '08/12/1984', expiryDate: '12 AUG 2030' },
        confidence: 0.9,
      }),
    );
    const doc = await analyzer.analyzeIdentity({ documentType: 'driving_licence', pages: [ref('kyc/dl.json')] });
    expect(doc.dateOfBirth).toBeUndefined();
    expect(doc.fieldConfidence['dateOfBirth']).toBeUndefined();
    expect(doc.expiryDate).toBe('2030-08-12');
  });

  it('maps a US licence state name to the issuing country US', async () => {
    const doc = await identity('driving-licence-us.json', 'driving_licence');
    expect(doc).toMatchObject({ documentType: 'driving_licence', issuingCountry: 'US', documentNumber: '123 456 789' });
    expect(doc.mrz).toBeUndefined();
  });
});

describe('proofs of address', () => {
  it('answers the QUERIES from the fields, through the Textract mapper', async () => {
    const proof = await addressProof('proof-of-address-valid.json');
    expect(proof).toEqual({
      issueDate: '2026-11-01',
      addressLines: ['Hauptstraße 5', 'Berlin'],
      postalCode: '10115',
      country: 'DE',
      nameOnDocument: 'Anna Maria Eriksson',
      fieldConfidence: { issueDate: 96, addressLines: 96, postalCode: 96, country: 96, nameOnDocument: 96 },
    });
  });

  it('leaves unanswered queries without an ANSWER relationship, as Textract does', () => {
    const out = analyzeDocumentResponseFor({
      kind: 'json',
      doc: { documentType: 'proof_of_address', confidence: 0.9, fields: {} },
    });
    const queries = (out.Blocks ?? []).filter((b) => b.BlockType === 'QUERY');
    expect(queries.map((q) => q.Query?.Alias)).toEqual(['ISSUE_DATE', 'ADDRESS', 'POSTAL_CODE', 'COUNTRY', 'NAME']);
    expect(queries.every((q) => q.Relationships === undefined)).toBe(true);
    expect((out.Blocks ?? []).some((b) => b.BlockType === 'QUERY_RESULT')).toBe(false);
  });
});

describe('validation, test hooks and unreadable pages', () => {
  it.each([
    ['not JSON', '{"documentType": '],
    ['confidence missing', JSON.stringify({ documentType: 'passport' })],
    ['confidence above 1', JSON.stringify({ documentType: 'passport', confidence: 1.5 })],
    ['unknown document type', JSON.stringify({ documentType: 'library_card', confidence: 0.9 })],
    ['unknown field', JSON.stringify({ documentType: 'passport', confidence: 0.9, fields: { nickname: 'Ann' } })],
    ['MRZ not a list of lines', JSON.stringify({ documentType: 'passport', confidence: 0.9, mrz: 'P<D<<' })],
    ['unknown simulation', JSON.stringify({ documentType: 'passport', confidence: 0.9, simulate: 'explode' })],
  ])('%s -> KycAnalysisFailed invalid_document_content', async (_, text) => {
    serve('kyc/bad.json', text);
    const p = analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('kyc/bad.json')] });
    await expect(p).rejects.toBeInstanceOf(AnalysisFailedError);
    await expect(p).rejects.toMatchObject({ name: 'KycAnalysisFailed', reason: 'invalid_document_content' });
  });

  it("simulate 'throttle' throws the transient error, 'bad_document' the failure", async () => {
    serve('kyc/t.json', JSON.stringify({ documentType: 'passport', confidence: 0.9, simulate: 'throttle' }));
    serve('kyc/b.json', JSON.stringify({ documentType: 'proof_of_address', confidence: 0.9, simulate: 'bad_document' }));
    const t = analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('kyc/t.json')] });
    await expect(t).rejects.toBeInstanceOf(AnalysisTransientError);
    await expect(t).rejects.toMatchObject({ name: 'KycAnalysisTransient' });
    await expect(analyzer.analyzeAddressProof({ page: ref('kyc/b.json') })).rejects.toMatchObject({
      name: 'KycAnalysisFailed',
      reason: 'bad_document',
    });
  });

  it('reads nothing from an image or PDF: no fields, confidence 0, no error', async () => {
    serve('kyc/photo.jpg', '\xff\xd8\xff', 'image/jpeg');
    serve('kyc/bill.pdf', '%PDF-1.7', 'application/pdf');
    const doc = await analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('kyc/photo.jpg', 'image/jpeg')] });
    expect(doc).toEqual({ documentType: 'passport', fieldConfidence: {} });
    const proof = await analyzer.analyzeAddressProof({ page: ref('kyc/bill.pdf', 'application/pdf') });
    expect(proof).toEqual({ fieldConfidence: {} });
    // The checks then send it to manual review as unreadable.
    const issues = runKycChecks({ ...baseInput, identity: doc });
    expect(issues.map((i) => i.code)).toEqual(['low_confidence']);
    expect(issues[0]!.evidence['fields']).toEqual(['documentNumber', 'givenNames', 'surname', 'dateOfBirth', 'expiryDate']);
  });

  it('uses the reference content type when the object is stored as octet-stream; refuses other types', async () => {
    serve('kyc/p.json', fixtureText('passport-valid.json'), 'binary/octet-stream');
    await expect(analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('kyc/p.json')] })).resolves.toMatchObject({
      surname: 'ERIKSSON',
    });
    serve('kyc/p.gif', 'GIF89a', 'image/gif');
    await expect(
      analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('kyc/p.gif', 'image/gif')] }),
    ).rejects.toMatchObject({ reason: 'unsupported_document' });
  });

  it('maps S3 errors like Textract would: missing => document_not_found, denied => access_denied, 5xx => transient', async () => {
    const s3err = (name: string, httpStatusCode: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });
    s3mock.on(GetObjectCommand, { Key: 'kyc/missing.json' }).rejects(s3err('NoSuchKey', 404));
    s3mock.on(GetObjectCommand, { Key: 'kyc/denied.json' }).rejects(s3err('AccessDenied', 403));
    s3mock.on(GetObjectCommand, { Key: 'kyc/slow.json' }).rejects(s3err('SlowDown', 503));
    const read = (key: string) => analyzer.analyzeAddressProof({ page: ref(key) });
    await expect(read('kyc/missing.json')).rejects.toMatchObject({ name: 'KycAnalysisFailed', reason: 'document_not_found' });
    await expect(read('kyc/denied.json')).rejects.toMatchObject({ name: 'KycAnalysisFailed', reason: 'access_denied' });
    await expect(read('kyc/slow.json')).rejects.toMatchObject({ name: 'KycAnalysisTransient' });
  });

  it('uses the shared s3() client when none is given', async () => {
    serveFixture('passport-valid.json');
    const doc = await sandboxAnalyzer(undefined, { now: () => now }).analyzeIdentity({
      documentType: 'passport',
      pages: [ref('kyc/passport-valid.json')],
    });
    expect(doc.surname).toBe('ERIKSSON');
  });
});

// ------------------------------------------------------------------------------------------------------
// The domain checks on the fixtures (now = 2026-11-25).

const anna: RegistrationProfile = {
  givenNames: 'Anna Maria',
  surname: 'Eriksson',
  dateOfBirth: '1984-08-12',
  country: 'DE',
  address: { lines: ['Hauptstraße 5', 'Berlin'], postalCode: '10115', country: 'DE' },
};
const baseInput: Omit<KycInput, 'identity'> = {
  now,
  profile: anna,
  tenant: { restrictedCountries: ['US'] },
  duplicateClientIds: [],
  sanctionsList: SAMPLE_SANCTIONS_LIST,
};
const codes = async (file: string, profile: RegistrationProfile = anna, proofFile?: string) => {
  const identityDoc = await identity(file, file.startsWith('driving') ? 'driving_licence' : 'passport');
  const proof = proofFile ? await addressProof(proofFile) : undefined;
  return runKycChecks({ ...baseInput, profile, identity: identityDoc, ...(proof ? { addressProof: proof } : {}) }).map(
    (i) => i.code,
  );
};

describe('runKycChecks on the fixtures', () => {
  it('passport-valid + proof-of-address-valid: no issue', async () => {
    expect(await codes('passport-valid.json', anna, 'proof-of-address-valid.json')).toEqual([]);
  });

  it('id-card front + back: no issue', async () => {
    serveFixture('id-card-front.json');
    serveFixture('id-card-back.json');
    const doc = await analyzer.analyzeIdentity({
      documentType: 'national_id',
      pages: [ref('kyc/id-card-front.json'), ref('kyc/id-card-back.json')],
    });
    expect(runKycChecks({ ...baseInput, identity: doc })).toEqual([]);
  });

  it('passport-name-swapped (order and diacritics): no issue', async () => {
    expect(await codes('passport-name-swapped.json')).toEqual([]);
  });

  it('passport-expired: document_expired (hard)', async () => {
    const doc = await identity('passport-expired.json');
    const issues = runKycChecks({ ...baseInput, identity: doc });
    expect(issues.map((i) => [i.code, i.severity])).toEqual([['document_expired', 'hard']]);
    expect(issues[0]!.evidence).toMatchObject({ expiryDate: '2024-06-07' });
  });

  it('passport-bad-check-digit: mrz_invalid naming the composite check digit', async () => {
    const doc = await identity('passport-bad-check-digit.json');
    const issues = runKycChecks({ ...baseInput, identity: doc });
    expect(issues.map((i) => i.code)).toEqual(['mrz_invalid']);
    expect(issues[0]!.evidence).toMatchObject({ reason: 'check_digit', failed: ['compositeCheckDigit'] });
  });

  it('passport-underage: underage (hard), alone for her own profile', async () => {
    const lena: RegistrationProfile = { givenNames: 'Lena', surname: 'Eriksson', dateOfBirth: '2012-03-04', country: 'DE' };
    expect(await codes('passport-underage.json', lena)).toEqual(['underage']);
    expect(await codes('passport-underage.json')).toEqual(['name_mismatch', 'dob_mismatch', 'underage']);
  });

  it('passport-low-confidence: one low_confidence naming every required field', async () => {
    const doc = await identity('passport-low-confidence.json');
    const issues = runKycChecks({ ...baseInput, identity: doc });
    expect(issues.map((i) => i.code)).toEqual(['low_confidence']);
    expect(issues[0]!.evidence).toMatchObject({
      fields: ['documentNumber', 'givenNames', 'surname', 'dateOfBirth', 'expiryDate'],
      minConfidence: 80,
    });
  });

  it('passport-sanctioned: sanctions_hit on the sample entry', async () => {
    const bjorn: RegistrationProfile = {
      givenNames: 'Björn',
      surname: 'Åkesson Lindqvist',
      dateOfBirth: '1988-08-08',
      country: 'SE',
    };
    const doc = await identity('passport-sanctioned.json');
    const issues = runKycChecks({ ...baseInput, profile: bjorn, identity: doc });
    expect(issues.map((i) => [i.code, i.severity])).toEqual([['sanctions_hit', 'hard']]);
    expect(issues[0]!.evidence).toMatchObject({ entryId: 'SMPL-0009', dobMatch: true });
    expect(await codes('passport-sanctioned.json')).toContain('sanctions_hit');
  });

  it('driving-licence-us: country_restricted (hard)', async () => {
    expect(await codes('driving-licence-us.json')).toEqual(['country_restricted']);
  });

  it('proof-of-address-old: address_proof_too_old', async () => {
    expect(await codes('passport-valid.json', anna, 'proof-of-address-old.json')).toEqual(['address_proof_too_old']);
  });
});
