import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkDocumentRequest,
  type DocumentRequest,
  documentsMissing,
  isFinalSubmissionStatus,
  MAX_UPLOAD_BYTES,
  planSubmission,
  type SubmittableFile,
  submissionDocumentIds,
  uploadContentTypes,
} from '#domain/kyc/submission.ts';
import type { DocumentRequirements } from '#domain/onboarding/requirements.ts';
import { thrown } from '../support/errors.ts';

const REQ: DocumentRequirements = {
  identity: {
    accepted: [
      { type: 'passport', sides: ['front'] },
      { type: 'national_id', sides: ['front', 'back'] },
    ],
  },
  proofOfAddress: { required: true, maxAgeDays: 90, accepted: ['utility_bill', 'bank_statement'] },
  selfie: { required: true },
};
const LIGHT: DocumentRequirements = {
  ...REQ,
  proofOfAddress: { ...REQ.proofOfAddress, required: false },
  selfie: { required: false },
};

const file = (id: string, over: Partial<SubmittableFile> = {}): SubmittableFile => ({
  documentId: id,
  clientId: 'c1',
  category: 'identity',
  documentType: 'national_id',
  side: 'front',
  status: 'uploaded',
  ...over,
});
const FRONT = file('id-front');
const BACK = file('id-back', { side: 'back' });
const POA = file('poa', { category: 'proof_of_address', documentType: 'utility_bill', side: undefined });
const SELFIE = file('selfie', { category: 'selfie', documentType: 'selfie', side: undefined });
const FULL = [FRONT, BACK, POA, SELFIE];

describe('planSubmission: a complete set', () => {
  it('groups the files, identity front before back, whatever the input order', () => {
    const plan = planSubmission('c1', [SELFIE, BACK, POA, FRONT], REQ);
    expect(plan).toEqual({
      identity: { documentType: 'national_id', documentIds: ['id-front', 'id-back'] },
      addressProof: { documentType: 'utility_bill', documentId: 'poa' },
      selfie: { documentId: 'selfie' },
    });
    expect(submissionDocumentIds(plan)).toEqual(['id-front', 'id-back', 'poa', 'selfie']);
  });

  it('a passport needs its front only; address proof and selfie only when required', () => {
    const passport = file('pp', { documentType: 'passport' });
    expect(planSubmission('c1', [passport], LIGHT)).toEqual({ identity: { documentType: 'passport', documentIds: ['pp'] } });
  });

  it('property: any order of a complete set gives the same plan', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(FULL, { minLength: 4, maxLength: 4 }), (files) => {
        expect(planSubmission('c1', files, REQ)).toEqual(planSubmission('c1', FULL, REQ));
      }),
    );
  });
});

describe('planSubmission: every refusal', () => {
  it("document_not_found: a file that is not the caller's", () => {
    const e = thrown(() => planSubmission('c1', [...FULL.slice(1), file('x', { clientId: 'c2' })], REQ));
    expect(e.code).toBe('document_not_found');
    expect(e.message).toContain('x');
  });

  it('document_not_uploaded (409): a file still awaiting its upload, named in the field error', () => {
    const e = thrown(() => planSubmission('c1', [FRONT, { ...BACK, status: 'awaiting_upload' }, POA, SELFIE], REQ));
    expect(e).toMatchObject({ code: 'document_not_uploaded', kind: 'conflict' });
    expect(e.errors).toEqual([{ field: 'documentIds', code: 'document_not_uploaded', message: 'id-back' }]);
  });

  it('document_already_submitted (409): a file submitted, accepted or rejected before', () => {
    for (const status of ['submitted', 'accepted', 'rejected'] as const) {
      const e = thrown(() => planSubmission('c1', [FRONT, BACK, { ...POA, status }, SELFIE], REQ));
      expect(e).toMatchObject({ code: 'document_already_submitted', kind: 'conflict' });
      expect(e.errors[0]).toMatchObject({ field: 'documentIds', message: 'poa' });
    }
  });

  it('duplicate_document_in_set (400): the same side twice, two address proofs, two selfies or two identity types', () => {
    const cases: SubmittableFile[][] = [
      [FRONT, BACK, file('front-2'), POA, SELFIE],
      [FRONT, BACK, POA, { ...POA, documentId: 'poa-2' }, SELFIE],
      [FRONT, BACK, POA, SELFIE, { ...SELFIE, documentId: 'selfie-2' }],
      [FRONT, BACK, file('pp', { documentType: 'passport', side: 'front' }), POA, SELFIE],
      [FRONT, FRONT, BACK, POA, SELFIE],
    ];
    for (const files of cases) {
      const e = thrown(() => planSubmission('c1', files, REQ));
      expect(e).toMatchObject({ code: 'duplicate_document_in_set', kind: 'validation' });
      expect(e.errors[0]).toMatchObject({ field: 'documentIds', code: 'duplicate_document_in_set' });
    }
  });

  it('documents_missing (400): one field error per missing piece, and meta.missing', () => {
    const e = thrown(() => planSubmission('c1', [FRONT], REQ));
    expect(e).toMatchObject({ code: 'documents_missing', kind: 'validation' });
    expect(e.errors).toEqual([
      { field: 'identity', code: 'identity_side_missing', message: 'national_id back' },
      { field: 'proof_of_address', code: 'proof_of_address_missing', message: 'proof_of_address' },
      { field: 'selfie', code: 'selfie_missing', message: 'selfie' },
    ]);
    expect(e.meta['missing']).toEqual(documentsMissing([FRONT], REQ));
  });

  it('documents_missing for an empty set; document_type_not_accepted for a type, side or proof the tenant does not list', () => {
    expect(thrown(() => planSubmission('c1', [], LIGHT)).errors).toEqual([
      { field: 'identity', code: 'identity_document_missing', message: 'identity' },
    ]);
    const licence = file('dl', { documentType: 'driving_licence' });
    const notAccepted = (files: SubmittableFile[], req = LIGHT) => {
      const e = thrown(() => planSubmission('c1', files, req));
      expect(e).toMatchObject({ code: 'document_type_not_accepted', kind: 'validation' });
      return e.errors[0]!.message;
    };
    expect(notAccepted([licence, { ...licence, documentId: 'dl2', side: 'back' }])).toBe('dl');
    // a passport has no back page
    expect(notAccepted([FRONT, BACK, file('pp', { documentType: 'passport', side: 'back' }), POA, SELFIE], REQ)).toBe('pp');
    // a proof of address of a type the jurisdiction does not accept
    expect(notAccepted([FRONT, BACK, { ...POA, documentType: 'payslip' }, SELFIE], REQ)).toBe(POA.documentId);
  });

  it('documentsMissing judges the identity type closest to complete, whatever the file order', () => {
    const passport = file('pp', { documentType: 'passport', side: 'front' });
    expect(documentsMissing([FRONT, passport, POA, SELFIE], REQ)).toEqual([]);
    expect(documentsMissing([passport, FRONT, POA, SELFIE], REQ)).toEqual([]);
  });
});

describe('documentsMissing', () => {
  it('is empty for a complete set and names each missing piece otherwise', () => {
    expect(documentsMissing(FULL, REQ)).toEqual([]);
    expect(documentsMissing([BACK, POA], REQ)).toEqual([
      { code: 'identity_side_missing', category: 'identity', documentType: 'national_id', side: 'front' },
      { code: 'selfie_missing', category: 'selfie' },
    ]);
    expect(documentsMissing([], REQ).map((m) => m.code)).toEqual([
      'identity_document_missing',
      'proof_of_address_missing',
      'selfie_missing',
    ]);
    expect(documentsMissing([POA, SELFIE], LIGHT).map((m) => m.code)).toEqual(['identity_document_missing']);
  });
});

describe('final statuses', () => {
  it('approved, rejected and documents_requested are final; processing and in_review are not', () => {
    expect(['approved', 'rejected', 'documents_requested'].every((s) => isFinalSubmissionStatus(s as never))).toBe(true);
    expect(isFinalSubmissionStatus('processing')).toBe(false);
    expect(isFinalSubmissionStatus('in_review')).toBe(false);
  });
});

describe('checkDocumentRequest', () => {
  const passport = (over: Partial<DocumentRequest> = {}): DocumentRequest => ({
    category: 'identity',
    documentType: 'passport',
    side: 'front',
    contentType: 'image/jpeg',
    size: 4096,
    ...over,
  });
  const bill = (over: Partial<DocumentRequest> = {}): DocumentRequest => ({
    category: 'proof_of_address',
    documentType: 'utility_bill',
    contentType: 'application/pdf',
    size: 4096,
    ...over,
  });
  const selfie: DocumentRequest = { category: 'selfie', documentType: 'selfie', contentType: 'image/jpeg', size: 10 };

  it('accepts a listed type with its sides, and returns the content type in lower case', () => {
    expect(checkDocumentRequest(passport({ contentType: 'IMAGE/JPEG' }), REQ, 'textract')).toEqual({
      contentType: 'image/jpeg',
    });
    expect(checkDocumentRequest(passport({ documentType: 'national_id', side: 'back' }), REQ, 'textract')).toEqual({
      contentType: 'image/jpeg',
    });
    expect(checkDocumentRequest(bill(), REQ, 'textract')).toEqual({ contentType: 'application/pdf' });
    expect(checkDocumentRequest(selfie, REQ, 'textract')).toEqual({ contentType: 'image/jpeg' });
    expect(checkDocumentRequest(passport({ size: MAX_UPLOAD_BYTES }), REQ, 'textract')).toEqual({ contentType: 'image/jpeg' });
  });

  it.each<[string, DocumentRequest, DocumentRequirements, string, string]>([
    [
      'identity type that does not exist',
      passport({ documentType: 'library_card' }),
      REQ,
      'unknown_document_type',
      'documentType',
    ],
    ['identity type as proof of address', bill({ documentType: 'passport' }), REQ, 'unknown_document_type', 'documentType'],
    ['a selfie with another type', { ...selfie, documentType: 'photo' }, REQ, 'unknown_document_type', 'documentType'],
    [
      'an identity type the requirements do not list',
      passport({ documentType: 'driving_licence' }),
      REQ,
      'document_type_not_accepted',
      'documentType',
    ],
    [
      'a proof of address type the requirements do not list',
      bill({ documentType: 'tax_document' }),
      REQ,
      'document_type_not_accepted',
      'documentType',
    ],
    ['a proof of address where none is required', bill(), LIGHT, 'document_type_not_accepted', 'documentType'],
    ['a selfie where none is required', selfie, LIGHT, 'document_type_not_accepted', 'documentType'],
    ['the back of a passport', passport({ side: 'back' }), REQ, 'invalid_side', 'side'],
    ['an identity card without a side', passport({ documentType: 'national_id', side: undefined }), REQ, 'invalid_side', 'side'],
    ['a side on a proof of address', bill({ side: 'front' }), REQ, 'invalid_side', 'side'],
    ['a side on a selfie', { ...selfie, side: 'front' }, REQ, 'invalid_side', 'side'],
    ['a GIF', passport({ contentType: 'image/gif' }), REQ, 'unsupported_content_type', 'contentType'],
    ['an empty file', passport({ size: 0 }), REQ, 'invalid_size', 'size'],
    ['a negative size', passport({ size: -5 }), REQ, 'invalid_size', 'size'],
    ['more than 10 MB', passport({ size: MAX_UPLOAD_BYTES + 1 }), REQ, 'file_too_large', 'size'],
  ])('refuses %s: 400 %s', (_what, body, req, code, fieldName) => {
    const e = thrown(() => checkDocumentRequest(body, req, 'sandbox'));
    expect(e.code).toBe(code);
    expect(e.kind).toBe('validation');
    expect(e.errors).toEqual([expect.objectContaining({ field: fieldName, code })]);
  });

  it('file_too_large names the limit in meta', () => {
    expect(thrown(() => checkDocumentRequest(passport({ size: MAX_UPLOAD_BYTES + 1 }), REQ, 'textract')).meta).toEqual({
      maxBytes: MAX_UPLOAD_BYTES,
    });
  });

  it('accepts application/json (the sandbox format) only with the sandbox analyzer', () => {
    const json = passport({ contentType: 'application/json' });
    expect(checkDocumentRequest(json, REQ, 'sandbox')).toEqual({ contentType: 'application/json' });
    expect(thrown(() => checkDocumentRequest(json, REQ, 'textract')).code).toBe('unsupported_content_type');
    expect(uploadContentTypes('sandbox')).toEqual(['image/jpeg', 'image/png', 'application/pdf', 'application/json']);
    expect(uploadContentTypes('textract')).toEqual(['image/jpeg', 'image/png', 'application/pdf']);
  });
});
