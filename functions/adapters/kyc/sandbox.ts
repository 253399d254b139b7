/**
 * The sandbox document analyzer, for local runs and tests: instead of calling Textract it reads each page
 * object from S3 and, when the object is a JSON description of a document (format below), builds the response
 * Textract would return (an AnalyzeIDCommandOutput / AnalyzeDocumentCommandOutput of exactly the documented
 * shape), then maps it with the same mappers as the Textract adapter (textract-mapping.ts).
 *
 * Document format (application/json; validated, anything else is `invalid_document_content`):
 *   { "documentType": "passport" | "national_id" | "driving_licence" | "residence_permit" | "proof_of_address",
 *     "mrz": ["line", ...]?,                     // reported as MRZ_CODE; the identity fields are read from it
 *     "fields": { "firstName", "lastName", "dateOfBirth", "documentNumber", "expiryDate", "issuingCountry",
 *                 "address", "issueDate", "postalCode", "country", "name" }?,   // each optional, all strings
 *     "confidence": 0..1,                        // every detection's Confidence = confidence * 100
 *     "simulate": "throttle" | "bad_document"?,  // test hook: the error Textract would raise
 *     "description": "..."? }                    // free text for fixture authors, ignored
 *
 * Invariants:
 * - where `mrz` parses, the identity fields are the MRZ's (as AnalyzeID reads them); an explicit `fields` value
 *   overrides its field only (a visual zone that disagrees with the MRZ); dates given as YYYY-MM-DD also get a
 *   NormalizedValue, any other date text is passed as Text only (so the mapper's rules apply)
 * - every normalised AnalyzeID field is present in the built response, with Text '' when the document has no
 *   value, as Textract reports them
 * - a JPEG/PNG/PDF page (nothing to read in the sandbox) yields fields with empty text and confidence 0, so the
 *   checks send it to manual review as unreadable; it never throws. Other content types are refused like Textract
 *   refuses them (`unsupported_document`)
 * - `simulate: 'throttle'` throws AnalysisTransientError, `'bad_document'` AnalysisFailedError('bad_document')
 * - S3 errors map like Textract's: missing object => `document_not_found`, denied => `access_denied`,
 *   network/5xx => transient
 * - a page with a `version` is read at that version (GetObject VersionId), as Textract reads S3Object.Version
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { GetObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import type {
  AnalyzeDocumentCommandOutput,
  AnalyzeIDCommandOutput,
  Block,
  IdentityDocument,
  IdentityDocumentField,
} from '@aws-sdk/client-textract';
import * as z from 'zod';
import { epochDay } from '#domain/kyc/dates.ts';
import type { DocumentType } from '#domain/kyc/model.ts';
import { parseMrz } from '#domain/kyc/mrz.ts';
import { s3 } from '#shared/clients.ts';
import {
  AnalysisFailedError,
  AnalysisTransientError,
  type DocumentAnalyzer,
  isSupportedContentType,
  normaliseContentType,
  type S3Ref,
} from './port.ts';
import { toAnalysisError } from './textract.ts';
import {
  ADDRESS_PROOF_QUERIES,
  type AddressProofAlias,
  mapAddressProofResponse,
  mapAnalyzeIdResponse,
} from './textract-mapping.ts';

export const SandboxDocumentSchema = z
  .object({
    documentType: z.enum(['passport', 'national_id', 'driving_licence', 'residence_permit', 'proof_of_address']),
    mrz: z.array(z.string().min(1)).min(1).optional(),
    fields: z
      .object({
        firstName: z.string(),
        lastName: z.string(),
        dateOfBirth: z.string(),
        documentNumber: z.string(),
        expiryDate: z.string(),
        issuingCountry: z.string(),
        address: z.string(),
        issueDate: z.string(),
        postalCode: z.string(),
        country: z.string(),
        name: z.string(),
      })
      .partial()
      .strict()
      .optional(),
    confidence: z.number().min(0).max(1),
    simulate: z.enum(['throttle', 'bad_document']).optional(),
    description: z.string().optional(),
  })
  .strict();
export type SandboxDocument = z.infer<typeof SandboxDocumentSchema>;

/** A page as the sandbox read it: a described document, or an image/PDF it cannot read. */
type SandboxPage = { kind: 'json'; doc: SandboxDocument } | { kind: 'unreadable' };

/** The normalised AnalyzeID fields (https://docs.aws.amazon.com/textract/latest/dg/identitydocumentfields.html). */
const ID_FIELD_TYPES = [
  'FIRST_NAME',
  'LAST_NAME',
  'MIDDLE_NAME',
  'SUFFIX',
  'DOCUMENT_NUMBER',
  'EXPIRATION_DATE',
  'DATE_OF_BIRTH',
  'STATE_NAME',
  'DATE_OF_ISSUE',
  'ID_TYPE',
  'PLACE_OF_BIRTH',
  'MRZ_CODE',
] as const;
type IdFieldType = (typeof ID_FIELD_TYPES)[number];
const DATE_TYPES = new Set<IdFieldType>(['EXPIRATION_DATE', 'DATE_OF_BIRTH', 'DATE_OF_ISSUE']);

const ID_TYPE_TEXT: Record<DocumentType, string> = {
  passport: 'PASSPORT',
  national_id: 'IDENTIFICATION CARD',
  driving_licence: 'DRIVER LICENSE FRONT',
  residence_permit: 'RESIDENCE PERMIT',
};

function detection(type: IdFieldType, text: string, confidence: number): IdentityDocumentField {
  const iso = DATE_TYPES.has(type) && /^\d{4}-\d{2}-\d{2}$/.test(text) && epochDay(text) !== undefined ? text : undefined;
  return {
    Type: { Text: type },
    ValueDetection: {
      Text: text,
      ...(iso ? { NormalizedValue: { Value: `${iso}T00:00:00`, ValueType: 'DATE' } } : {}),
      Confidence: confidence,
    },
  };
}

/** The IdentityDocument AnalyzeID would return for one sandbox page. */
export function identityDocumentFor(page: SandboxPage, index: number, now: Date): IdentityDocument {
  const values: Partial<Record<IdFieldType, string>> = {};
  let confidence = 0;
  if (page.kind === 'json') {
    const { doc } = page;
    confidence = doc.confidence * 100;
    if (doc.documentType !== 'proof_of_address') values.ID_TYPE = ID_TYPE_TEXT[doc.documentType];
    if (doc.mrz) {
      values.MRZ_CODE = doc.mrz.join('\n');
      const r = parseMrz(values.MRZ_CODE, now);
      if (r.ok) {
        values.FIRST_NAME = r.fields.givenNames;
        values.LAST_NAME = r.fields.surname;
        values.DOCUMENT_NUMBER = r.fields.documentNumber;
        values.DATE_OF_BIRTH = r.fields.dateOfBirth;
        values.EXPIRATION_DATE = r.fields.expiryDate;
      }
    }
    const f = doc.fields ?? {};
    const overrides: [IdFieldType, string | undefined][] = [
      ['FIRST_NAME', f.firstName],
      ['LAST_NAME', f.lastName],
      ['DOCUMENT_NUMBER', f.documentNumber],
      ['DATE_OF_BIRTH', f.dateOfBirth],
      ['EXPIRATION_DATE', f.expiryDate],
      ['STATE_NAME', f.issuingCountry],
    ];
    for (const [type, value] of overrides) if (value !== undefined) values[type] = value;
  }
  return {
    DocumentIndex: index,
    IdentityDocumentFields: ID_FIELD_TYPES.map((type) => detection(type, values[type] ?? '', confidence)),
  };
}

export function analyzeIdResponseFor(pages: SandboxPage[], now: Date): AnalyzeIDCommandOutput {
  return {
    $metadata: {},
    AnalyzeIDModelVersion: 'sandbox',
    DocumentMetadata: { Pages: pages.length },
    IdentityDocuments: pages.map((p, i) => identityDocumentFor(p, i + 1, now)),
  };
}

const ADDRESS_FIELD_BY_ALIAS: Record<AddressProofAlias, keyof NonNullable<SandboxDocument['fields']>> = {
  ISSUE_DATE: 'issueDate',
  ADDRESS: 'address',
  POSTAL_CODE: 'postalCode',
  COUNTRY: 'country',
  NAME: 'name',
};

/** The AnalyzeDocument (QUERIES) response for one sandbox page: a QUERY block per query, answered where the document has the value. */
export function analyzeDocumentResponseFor(page: SandboxPage): AnalyzeDocumentCommandOutput {
  const blocks: Block[] = [{ BlockType: 'PAGE', Id: 'page-1', Page: 1, Confidence: 99 }];
  for (const q of ADDRESS_PROOF_QUERIES) {
    const text = page.kind === 'json' ? page.doc.fields?.[ADDRESS_FIELD_BY_ALIAS[q.Alias]] : undefined;
    const answerId = `answer-${q.Alias.toLowerCase()}`;
    blocks.push({
      BlockType: 'QUERY',
      Id: `query-${q.Alias.toLowerCase()}`,
      Page: 1,
      Query: { Text: q.Text, Alias: q.Alias },
      ...(text ? { Relationships: [{ Type: 'ANSWER', Ids: [answerId] }] } : {}),
    });
    if (text && page.kind === 'json') {
      blocks.push({ BlockType: 'QUERY_RESULT', Id: answerId, Page: 1, Text: text, Confidence: page.doc.confidence * 100 });
    }
  }
  return { $metadata: {}, AnalyzeDocumentModelVersion: 'sandbox', DocumentMetadata: { Pages: 1 }, Blocks: blocks };
}

/** Parses and validates a sandbox document (JSON text); invalid => AnalysisFailedError('invalid_document_content'). */
export function parseSandboxDocument(text: string): SandboxDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AnalysisFailedError('invalid_document_content', 'sandbox document is not JSON');
  }
  const r = SandboxDocumentSchema.safeParse(json);
  if (!r.success) {
    const where = [...new Set(r.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new AnalysisFailedError('invalid_document_content', `invalid sandbox document at: ${where}`);
  }
  return r.data;
}

function simulated(doc: SandboxDocument): void {
  if (doc.simulate === 'throttle') throw new AnalysisTransientError('Textract is unavailable (ThrottlingException, simulated)');
  if (doc.simulate === 'bad_document') throw new AnalysisFailedError('bad_document', 'Textract refused the document (simulated)');
}

const S3_FAILURES: Record<string, 'document_not_found' | 'access_denied'> = {
  NoSuchKey: 'document_not_found',
  NoSuchBucket: 'document_not_found',
  NotFound: 'document_not_found',
  AccessDenied: 'access_denied',
  Forbidden: 'access_denied',
};
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

export interface SandboxOptions {
  /** Clock for MRZ birth centuries; defaults to the system clock. */
  now?: () => Date;
}

export function sandboxAnalyzer(s3Client?: S3Client, opts: SandboxOptions = {}): DocumentAnalyzer {
  const client = () => s3Client ?? s3();
  const now = opts.now ?? (() => new Date());

  async function readPage(ref: S3Ref): Promise<SandboxPage> {
    let res: GetObjectCommandOutput;
    try {
      res = await client().send(
        new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, ...(ref.version ? { VersionId: ref.version } : {}) }),
      );
    } catch (err) {
      const reason = S3_FAILURES[(err as { name?: string } | null)?.name ?? ''];
      if (reason) throw new AnalysisFailedError(reason, `cannot read the document object (${reason})`, { cause: err });
      throw toAnalysisError(err);
    }
    const stored = normaliseContentType(res.ContentType);
    const contentType = GENERIC_TYPES.has(stored) ? normaliseContentType(ref.contentType) : stored;
    const body = res.Body as { transformToString?: (encoding?: string) => Promise<string>; destroy?: () => void } | undefined;
    if (contentType === 'application/json') {
      const text = (await body?.transformToString?.('utf-8')) ?? '';
      const doc = parseSandboxDocument(text);
      simulated(doc);
      return { kind: 'json', doc };
    }
    body?.destroy?.();
    if (isSupportedContentType(contentType)) return { kind: 'unreadable' };
    throw new AnalysisFailedError('unsupported_document', `Textract cannot read content type '${contentType}'`);
  }

  return {
    async analyzeIdentity({ documentType, pages }) {
      if (pages.length < 1 || pages.length > 2) {
        throw new AnalysisFailedError('unsupported_document', `AnalyzeID takes one or two pages, got ${pages.length}`);
      }
      const read: SandboxPage[] = [];
      for (const p of pages) read.push(await readPage(p));
      return mapAnalyzeIdResponse(analyzeIdResponseFor(read, now()), documentType);
    },
    async analyzeAddressProof({ page }) {
      return mapAddressProofResponse(analyzeDocumentResponseFor(await readPage(page)));
    },
  };
}
