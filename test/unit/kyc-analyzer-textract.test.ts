/**
 * The Textract document analyzer: the exact AnalyzeID / AnalyzeDocument requests (aws-sdk-client-mock on
 * TextractClient), the mapping of responses shaped as the AWS API reference documents them
 * (test/fixtures/kyc/textract/), date normalisation, front/back merging, and every error mapping.
 */
import { readFileSync } from 'node:fs';
import {
  AccessDeniedException,
  AnalyzeDocumentCommand,
  type AnalyzeDocumentCommandOutput,
  AnalyzeIDCommand,
  type AnalyzeIDCommandOutput,
  BadDocumentException,
  DocumentTooLargeException,
  InternalServerError,
  InvalidParameterException,
  InvalidS3ObjectException,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  TextractClient,
  ThrottlingException,
  UnsupportedDocumentException,
} from '@aws-sdk/client-textract';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { analyzerKind, documentAnalyzer, setDocumentAnalyzer } from '#adapters/kyc/index.ts';
import { AnalysisFailedError, AnalysisTransientError, type S3Ref } from '#adapters/kyc/port.ts';
import { textractAnalyzer } from '#adapters/kyc/textract.ts';
import {
  ADDRESS_PROOF_QUERIES,
  addressLines,
  countryTextToIso2,
  mapAddressProofResponse,
  mapAnalyzeIdResponse,
  mrzLines,
  normaliseDate,
} from '#adapters/kyc/textract-mapping.ts';
import { failureReason } from '#app/kyc/analyze-documents.ts';

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/kyc/textract/${name}`, import.meta.url), 'utf8')) as T;
const passportResponse = () => ({
  $metadata: {},
  ...fixture<Omit<AnalyzeIDCommandOutput, '$metadata'>>('analyze-id-passport.json'),
});
const idCardResponse = () => ({
  $metadata: {},
  ...fixture<Omit<AnalyzeIDCommandOutput, '$metadata'>>('analyze-id-id-card-front-back.json'),
});
const billResponse = () => ({
  $metadata: {},
  ...fixture<Omit<AnalyzeDocumentCommandOutput, '$metadata'>>('analyze-document-utility-bill.json'),
});

const textract = mockClient(TextractClient);
const analyzer = textractAnalyzer(new TextractClient({ region: 'eu-central-1' }));
const ref = (key: string, contentType = 'image/jpeg'): S3Ref => ({ bucket: 'docs-bucket', key, contentType });
const PASSPORT_MRZ = 'P<D<<ERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nC4F7KL9M22D<<8408129F3103142<<<<<<<<<<<<<<04';
const ID_CARD_MRZ = 'IDD<<L01X4R7T93<<<<<<<<<<<<<<<\n8408129F3201015D<<<<<<<<<<<<<4\nERIKSSON<<ANNA<MARIA<<<<<<<<<<';

beforeEach(() => textract.reset());
afterAll(() => textract.restore());

describe('analyzeIdentity sends one AnalyzeID call with every page', () => {
  it('passes front and back as S3 objects, in order, and merges the two IdentityDocuments', async () => {
    textract.on(AnalyzeIDCommand).resolves(idCardResponse());
    const doc = await analyzer.analyzeIdentity({
      documentType: 'national_id',
      pages: [ref('kyc/c1/front.jpg'), ref('kyc/c1/back.png', 'image/png')],
    });
    const calls = textract.commandCalls(AnalyzeIDCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      DocumentPages: [
        { S3Object: { Bucket: 'docs-bucket', Name: 'kyc/c1/front.jpg' } },
        { S3Object: { Bucket: 'docs-bucket', Name: 'kyc/c1/back.png' } },
      ],
    });
    // Fields from the front fill the back's gaps; the MRZ (and the nationality it carries) only on the back.
    expect(doc).toEqual({
      documentType: 'national_id',
      givenNames: 'ANNA MARIA',
      surname: 'ERIKSSON',
      documentNumber: 'L01X4R7T9',
      dateOfBirth: '1984-08-12',
      expiryDate: '2032-01-01', // '01.01.2032' without NormalizedValue: dotted dates are day-first
      mrz: ID_CARD_MRZ,
      issuingCountry: 'DE',
      nationality: 'DE',
      fieldConfidence: {
        documentType: 95.2,
        givenNames: 97.9, // MIDDLE_NAME is empty on both pages: only FIRST_NAME counts
        surname: 98.2,
        documentNumber: 96.8,
        dateOfBirth: 97.7,
        expiryDate: 97.5,
        mrz: 94.6,
        issuingCountry: 94.6,
        nationality: 94.6,
      },
    });
  });

  it('pins the S3 object version when it is known (the file checked at upload), and only then', async () => {
    textract.on(AnalyzeIDCommand).resolves(idCardResponse());
    textract.on(AnalyzeDocumentCommand).resolves(billResponse());
    await analyzer.analyzeIdentity({
      documentType: 'national_id',
      pages: [{ ...ref('kyc/c1/front.jpg'), version: 'v-front-1' }, ref('kyc/c1/back.png', 'image/png')],
    });
    expect(textract.commandCalls(AnalyzeIDCommand)[0]!.args[0].input.DocumentPages).toEqual([
      { S3Object: { Bucket: 'docs-bucket', Name: 'kyc/c1/front.jpg', Version: 'v-front-1' } },
      { S3Object: { Bucket: 'docs-bucket', Name: 'kyc/c1/back.png' } },
    ]);
    await analyzer.analyzeAddressProof({ page: { ...ref('kyc/c1/bill.pdf', 'application/pdf'), version: 'v-bill-7' } });
    expect(textract.commandCalls(AnalyzeDocumentCommand)[0]!.args[0].input.Document).toEqual({
      S3Object: { Bucket: 'docs-bucket', Name: 'kyc/c1/bill.pdf', Version: 'v-bill-7' },
    });
  });

  it('maps the documented passport response: names combined, NormalizedValue dates, MRZ split into lines', async () => {
    textract.on(AnalyzeIDCommand).resolves(passportResponse());
    const doc = await analyzer.analyzeIdentity({
      documentType: 'passport',
      pages: [ref('kyc/c1/passport.pdf', 'application/pdf')],
    });
    expect(textract.commandCalls(AnalyzeIDCommand)[0]!.args[0].input.DocumentPages).toHaveLength(1);
    expect(doc).toEqual({
      documentType: 'passport',
      givenNames: 'ANNA MARIA',
      surname: 'ERIKSSON',
      documentNumber: 'C4F7KL9M2',
      dateOfBirth: '1984-08-12',
      expiryDate: '2031-03-14',
      mrz: PASSPORT_MRZ,
      issuingCountry: 'DE',
      nationality: 'DE',
      fieldConfidence: {
        documentType: 98.66,
        givenNames: 97.42, // min(FIRST_NAME 98.69, MIDDLE_NAME 97.42)
        surname: 98.91,
        documentNumber: 96.37,
        dateOfBirth: 98.62,
        expiryDate: 98.8,
        mrz: 95.41,
        issuingCountry: 95.41,
        nationality: 95.41,
      },
    });
  });

  it('lets a recognised ID_TYPE win over the declared type, and keeps the declared one otherwise', () => {
    expect(mapAnalyzeIdResponse(passportResponse(), 'national_id').documentType).toBe('passport');
    const noIdType = mapAnalyzeIdResponse(
      {
        IdentityDocuments: [
          { IdentityDocumentFields: [{ Type: { Text: 'ID_TYPE' }, ValueDetection: { Text: 'OTHER', Confidence: 90 } }] },
        ],
      },
      'residence_permit',
    );
    expect(noIdType).toEqual({ documentType: 'residence_permit', fieldConfidence: {} });
  });

  it('leaves out empty detections and dates it cannot normalise unambiguously (never guessed)', () => {
    const doc = mapAnalyzeIdResponse(
      {
        IdentityDocuments: [
          {
            DocumentIndex: 1,
            IdentityDocumentFields: [
              { Type: { Text: 'FIRST_NAME' }, ValueDetection: { Text: '  ', Confidence: 99 } },
              { Type: { Text: 'LAST_NAME' }, ValueDetection: { Text: 'SAMPLE', Confidence: 99 } },
              { Type: { Text: 'DATE_OF_BIRTH' }, ValueDetection: { Text: '01/02/1984', Confidence: 99 } },
              { Type: { Text: 'EXPIRATION_DATE' }, ValueDetection: { Text: '31 JAN 29', Confidence: 99 } },
            ],
          },
        ],
      },
      'driving_licence',
    );
    expect(doc).toEqual({ documentType: 'driving_licence', surname: 'SAMPLE', fieldConfidence: { surname: 99 } });
  });

  it('prefers NormalizedValue over the printed text, and accepts the documented lower-case type names', () => {
    const doc = mapAnalyzeIdResponse(
      {
        IdentityDocuments: [
          {
            IdentityDocumentFields: [
              {
                Type: { Text: 'date of birth' },
                ValueDetection: {
                  Text: '08/12/1984',
                  NormalizedValue: { Value: '1984-08-12T00:00:00', ValueType: 'DATE' },
                  Confidence: 97,
                },
              },
              { Type: { Text: 'first name' }, ValueDetection: { Text: 'jennifer', Confidence: 99.99908447265625 } },
            ],
          },
        ],
      },
      'driving_licence',
    );
    expect(doc.dateOfBirth).toBe('1984-08-12');
    expect(doc.givenNames).toBe('jennifer');
  });

  it('merges pages by confidence: the better reading of a field present on both pages wins', () => {
    const doc = mapAnalyzeIdResponse(
      {
        IdentityDocuments: [
          {
            DocumentIndex: 1,
            IdentityDocumentFields: [
              { Type: { Text: 'DOCUMENT_NUMBER' }, ValueDetection: { Text: 'L01X4R7T8', Confidence: 61 } },
            ],
          },
          {
            DocumentIndex: 2,
            IdentityDocumentFields: [
              { Type: { Text: 'DOCUMENT_NUMBER' }, ValueDetection: { Text: 'L01X4R7T9', Confidence: 97 } },
            ],
          },
        ],
      },
      'national_id',
    );
    expect(doc.documentNumber).toBe('L01X4R7T9');
    expect(doc.fieldConfidence['documentNumber']).toBe(97);
  });

  it('takes the issuing country from STATE_NAME when there is no MRZ (US state names mean US)', () => {
    const withState = (text: string) =>
      mapAnalyzeIdResponse(
        {
          IdentityDocuments: [
            { IdentityDocumentFields: [{ Type: { Text: 'STATE_NAME' }, ValueDetection: { Text: text, Confidence: 90 } }] },
          ],
        },
        'driving_licence',
      ).issuingCountry;
    expect(withState('NEW YORK')).toBe('US');
    expect(withState('DEU')).toBe('DE');
    expect(withState('Germany')).toBe('DE');
    expect(withState('NY')).toBeUndefined(); // a state abbreviation, not ISO 'NY'
    expect(withState('Atlantis')).toBeUndefined();
  });

  it('refuses a content type Textract cannot read, before calling it', async () => {
    await expect(
      analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('kyc/c1/p.gif', 'image/gif')] }),
    ).rejects.toMatchObject({ name: 'KycAnalysisFailed', reason: 'unsupported_document' });
    await expect(
      analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('a'), ref('b'), ref('c')] }),
    ).rejects.toMatchObject({ reason: 'unsupported_document' });
    expect(textract.calls()).toHaveLength(0);
    textract.on(AnalyzeIDCommand).resolves(passportResponse());
    await analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('kyc/c1/p.jpg', 'Image/JPG; charset=binary')] });
    expect(textract.calls()).toHaveLength(1);
  });
});

describe('analyzeAddressProof asks the five QUERIES', () => {
  it('sends AnalyzeDocument with FeatureTypes QUERIES and the aliases, and maps the documented response', async () => {
    textract.on(AnalyzeDocumentCommand).resolves(billResponse());
    const proof = await analyzer.analyzeAddressProof({ page: ref('kyc/c1/bill.pdf', 'application/pdf') });
    const input = textract.commandCalls(AnalyzeDocumentCommand)[0]!.args[0].input;
    expect(input.Document).toEqual({ S3Object: { Bucket: 'docs-bucket', Name: 'kyc/c1/bill.pdf' } });
    expect(input.FeatureTypes).toEqual(['QUERIES']);
    expect(input.QueriesConfig?.Queries?.map((q) => q.Alias)).toEqual([
      'ISSUE_DATE',
      'ADDRESS',
      'POSTAL_CODE',
      'COUNTRY',
      'NAME',
    ]);
    expect(input.QueriesConfig?.Queries?.every((q) => (q.Text ?? '').endsWith('?'))).toBe(true);
    expect(proof).toEqual({
      issueDate: '2026-11-01', // '01.11.2026'
      addressLines: ['Hauptstr. 5', 'Berlin'], // postal code and country answered separately: removed from the lines
      postalCode: '10115',
      country: 'DE', // 'Deutschland'
      nameOnDocument: 'Anna Maria Eriksson',
      fieldConfidence: { issueDate: 94, addressLines: 88, postalCode: 97, country: 91, nameOnDocument: 96 },
    });
  });

  it('leaves out an unanswered query and takes the most confident of several answers', () => {
    const proof = mapAddressProofResponse({
      Blocks: [
        { BlockType: 'QUERY', Id: 'q1', Query: { Text: '?', Alias: 'ISSUE_DATE' } },
        {
          BlockType: 'QUERY',
          Id: 'q2',
          Query: { Text: '?', Alias: 'NAME' },
          Relationships: [{ Type: 'ANSWER', Ids: ['a1', 'a2'] }],
        },
        { BlockType: 'QUERY_RESULT', Id: 'a1', Text: 'A. Eriksson', Confidence: 55 },
        { BlockType: 'QUERY_RESULT', Id: 'a2', Text: 'Anna Maria  Eriksson', Confidence: 93 },
        {
          BlockType: 'QUERY',
          Id: 'q3',
          Query: { Text: '?', Alias: 'ADDRESS' },
          Relationships: [{ Type: 'ANSWER', Ids: ['a3'] }],
        },
        { BlockType: 'QUERY_RESULT', Id: 'a3', Text: 'Hauptstraße 5\n10115 Berlin', Confidence: 90 },
        {
          BlockType: 'QUERY',
          Id: 'q4',
          Query: { Text: '?', Alias: 'COUNTRY' },
          Relationships: [{ Type: 'ANSWER', Ids: ['a4'] }],
        },
        { BlockType: 'QUERY_RESULT', Id: 'a4', Text: 'Atlantis', Confidence: 90 },
      ],
    });
    // No POSTAL_CODE answer: the address keeps its postal code; an unknown country is left out.
    expect(proof).toEqual({
      addressLines: ['Hauptstraße 5', '10115 Berlin'],
      nameOnDocument: 'Anna Maria Eriksson',
      fieldConfidence: { addressLines: 90, nameOnDocument: 93 },
    });
  });

  it('splits addresses on newlines, commas and semicolons and strips separately answered parts', () => {
    expect(
      addressLines('Flat 2, 10 Downing St\nLondon SW1A 2AA\nUnited Kingdom', { postalCode: 'SW1A 2AA', country: 'GB' }),
    ).toEqual(['Flat 2', '10 Downing St', 'London']);
    expect(addressLines('Calle Mayor 1; 28013 Madrid; ES', { postalCode: '28013', country: 'ES' })).toEqual([
      'Calle Mayor 1',
      'Madrid',
    ]);
  });

  it('exports the query texts it sends', () => {
    expect(ADDRESS_PROOF_QUERIES.map((q) => q.Alias)).toEqual(['ISSUE_DATE', 'ADDRESS', 'POSTAL_CODE', 'COUNTRY', 'NAME']);
  });
});

describe('date normalisation: unambiguous forms only', () => {
  it.each([
    ['2029-01-31', '2029-01-31'],
    ['2029-01-31T00:00:00', '2029-01-31'],
    ['2029/01/31', '2029-01-31'],
    ['31 JAN 2029', '2029-01-31'],
    ['31 Jan 2029', '2029-01-31'],
    ['12 AUG/AOÛT 1984', '1984-08-12'],
    ['14 MAR/MARS 2031', '2031-03-14'],
    ['31-JAN-2029', '2029-01-31'],
    ['January 31, 2029', '2029-01-31'],
    ['November 1st, 2026', '2026-11-01'],
    ['1. November 2026', '2026-11-01'],
    ['1 de noviembre de 2026', '2026-11-01'],
    ['31.01.2029', '2029-01-31'],
    ['31/01/2029', '2029-01-31'],
    ['01/31/2029', '2029-01-31'],
    ['05/05/2029', '2029-05-05'],
  ])('%s -> %s', (text, iso) => {
    expect(normaliseDate(text)).toBe(iso);
  });

  it.each([
    '01/02/2029', // 1 February or January 2nd
    '31 JAN 29', // two-digit year
    '31.02.2029', // not a calendar date
    '2029-13-01',
    'JAN 2029', // no day
    '31 JAN/FEB 2029', // two months
    'soon',
    '',
  ])('%s -> undefined', (text) => {
    expect(normaliseDate(text)).toBeUndefined();
  });
});

describe('MRZ_CODE lines', () => {
  it('cuts newline- or space-separated MRZ text into TD1 / TD2 / TD3 lines', () => {
    expect(mrzLines(PASSPORT_MRZ.replace('\n', ' '))).toEqual(PASSPORT_MRZ.split('\n'));
    expect(mrzLines(ID_CARD_MRZ.replace(/\n/g, ' '))).toEqual(ID_CARD_MRZ.split('\n'));
    const td2 = ['I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<', 'D231458907UTO7408122F1204159<<<<<<<6'];
    expect(mrzLines(td2.join('  \n'))).toEqual(td2);
  });
  it('keeps the given lines when the length matches no format (the MRZ check judges them)', () => {
    expect(mrzLines('P<D<<ERIKSSON<<ANNA\nC4F7KL9M22D<<')).toEqual(['P<D<<ERIKSSON<<ANNA', 'C4F7KL9M22D<<']);
    expect(mrzLines('   ')).toBeUndefined();
  });
});

describe('country texts', () => {
  it('maps codes and names in several languages to alpha-2, and nothing it does not know', () => {
    expect(countryTextToIso2('D')).toBe('DE');
    expect(countryTextToIso2('Deutschland')).toBe('DE');
    expect(countryTextToIso2('Allemagne')).toBe('DE');
    expect(countryTextToIso2('United States of America')).toBe('US');
    expect(countryTextToIso2('DE')).toBeUndefined();
    expect(countryTextToIso2('DE', { alpha2: true })).toBe('DE');
    expect(countryTextToIso2('ZZ', { alpha2: true })).toBeUndefined();
    expect(countryTextToIso2('TEXAS')).toBeUndefined();
    expect(countryTextToIso2('TEXAS', { usStates: true })).toBe('US');
  });
});

describe('error mapping', () => {
  const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
  const transient: [string, unknown][] = [
    ['ThrottlingException', new ThrottlingException({ message: 'Slow down', ...meta(400) })],
    ['ProvisionedThroughputExceededException', new ProvisionedThroughputExceededException({ message: 'x', ...meta(400) })],
    ['InternalServerError', new InternalServerError({ message: 'x', ...meta(500) })],
    ['LimitExceededException', new LimitExceededException({ message: 'x', ...meta(400) })],
    ['a 503 of any name', Object.assign(new Error('unavailable'), { name: 'ServiceUnavailable', ...meta(503) })],
    ['a network error (no HTTP status)', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ];
  const failed: [string, unknown, string][] = [
    ['UnsupportedDocumentException', new UnsupportedDocumentException({ message: 'x', ...meta(400) }), 'unsupported_document'],
    ['BadDocumentException', new BadDocumentException({ message: 'x', ...meta(400) }), 'bad_document'],
    ['DocumentTooLargeException', new DocumentTooLargeException({ message: 'x', ...meta(400) }), 'document_too_large'],
    ['InvalidS3ObjectException', new InvalidS3ObjectException({ message: 'x', ...meta(400) }), 'document_not_found'],
    ['AccessDeniedException', new AccessDeniedException({ message: 'x', ...meta(403) }), 'access_denied'],
    ['InvalidParameterException', new InvalidParameterException({ message: 'x', ...meta(400) }), 'bad_document'],
    [
      'a 403 of another name',
      Object.assign(new Error('bad token'), { name: 'UnrecognizedClientException', ...meta(403) }),
      'access_denied',
    ],
  ];

  it.each(transient)('%s -> KycAnalysisTransient (both operations)', async (_, err) => {
    textract.on(AnalyzeIDCommand).rejects(err as Error);
    textract.on(AnalyzeDocumentCommand).rejects(err as Error);
    const a = analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('p.jpg')] });
    await expect(a).rejects.toBeInstanceOf(AnalysisTransientError);
    await expect(a).rejects.toMatchObject({ name: 'KycAnalysisTransient', cause: err });
    await expect(analyzer.analyzeAddressProof({ page: ref('b.pdf', 'application/pdf') })).rejects.toMatchObject({
      name: 'KycAnalysisTransient',
    });
  });

  it.each(failed)('%s -> KycAnalysisFailed', async (_, err, reason) => {
    textract.on(AnalyzeIDCommand).rejects(err as Error);
    textract.on(AnalyzeDocumentCommand).rejects(err as Error);
    const a = analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('p.jpg')] });
    await expect(a).rejects.toBeInstanceOf(AnalysisFailedError);
    await expect(a).rejects.toMatchObject({ name: 'KycAnalysisFailed', reason });
    await expect(analyzer.analyzeAddressProof({ page: ref('b.png', 'image/png') })).rejects.toMatchObject({ reason });
  });

  it.each(failed)(
    '%s: the reason survives Step Functions (Cause {"errorType","errorMessage"} -> failureReason)',
    async (_, err, reason) => {
      textract.on(AnalyzeIDCommand).rejects(err as Error);
      const thrown = (await analyzer
        .analyzeIdentity({ documentType: 'passport', pages: [ref('p.jpg')] })
        .catch((e: unknown) => e)) as Error;
      expect(thrown.message.startsWith(`${reason}: `), thrown.message).toBe(true);
      // What Lambda reports as the task's Cause (and local/aws/states.ts the same way).
      const cause = JSON.stringify({ errorType: thrown.name, errorMessage: thrown.message, trace: ['at x (index.mjs:1:1)'] });
      expect(failureReason('KycAnalysisFailed', cause)).toBe(reason);
      expect(failureReason('KycAnalysisFailed', thrown.message)).toBe(reason);
    },
  );

  it('every AnalysisFailedError message starts with its reason, without doubling it', () => {
    expect(new AnalysisFailedError('bad_document', 'Textract refused the document (x)').message).toBe(
      'bad_document: Textract refused the document (x)',
    );
    expect(new AnalysisFailedError('document_too_large').message).toBe('document_too_large');
    expect(new AnalysisFailedError('access_denied', 'access_denied: already prefixed').message).toBe(
      'access_denied: already prefixed',
    );
    expect(failureReason('KycAnalysisTransient', JSON.stringify({ errorMessage: 'bad_document: x' }))).toBeUndefined();
    expect(failureReason('KycAnalysisFailed', JSON.stringify({ errorMessage: 'something else' }))).toBeUndefined();
  });

  it('rethrows an unexpected 4xx unchanged (a bug on our side, not a document problem)', async () => {
    const err = Object.assign(new Error('1 validation error detected'), { name: 'ValidationException', ...meta(400) });
    textract.on(AnalyzeIDCommand).rejects(err);
    await expect(analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('p.jpg')] })).rejects.toBe(err);
  });

  it('error messages carry no document content', async () => {
    textract.on(AnalyzeIDCommand).rejects(new BadDocumentException({ message: 'x', ...meta(400) }));
    await expect(analyzer.analyzeIdentity({ documentType: 'passport', pages: [ref('p.jpg')] })).rejects.toThrow(
      'Textract refused the document (BadDocumentException)',
    );
  });
});

describe('documentAnalyzer() picks the adapter from KYC_ANALYZER', () => {
  const saved = process.env.KYC_ANALYZER;
  afterEach(() => {
    if (saved === undefined) delete process.env.KYC_ANALYZER;
    else process.env.KYC_ANALYZER = saved;
    setDocumentAnalyzer(undefined);
  });

  it('defaults to textract, accepts sandbox, refuses anything else', () => {
    expect(analyzerKind(undefined)).toBe('textract');
    expect(analyzerKind('Sandbox')).toBe('sandbox');
    expect(() => analyzerKind('rekognition')).toThrow(/KYC_ANALYZER/);
  });

  it('is memoised per setting, and can be overridden for tests', async () => {
    delete process.env.KYC_ANALYZER;
    const a = documentAnalyzer();
    expect(documentAnalyzer()).toBe(a);
    textract.on(AnalyzeIDCommand).resolves(passportResponse());
    await expect(a.analyzeIdentity({ documentType: 'passport', pages: [ref('p.jpg')] })).resolves.toMatchObject({
      surname: 'ERIKSSON',
    });
    process.env.KYC_ANALYZER = 'sandbox';
    const b = documentAnalyzer();
    expect(b).not.toBe(a);
    expect(documentAnalyzer()).toBe(b);
    const fake = {
      analyzeIdentity: async () => ({ documentType: 'passport' as const, fieldConfidence: {} }),
      analyzeAddressProof: async () => ({ fieldConfidence: {} }),
    };
    setDocumentAnalyzer(fake);
    expect(documentAnalyzer()).toBe(fake);
  });
});
