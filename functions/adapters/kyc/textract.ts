/**
 * Amazon Textract behind the document analyzer port: AnalyzeID for identity documents (all pages of one
 * document in one call) and AnalyzeDocument with QUERIES for a proof of address. Textract reads the objects
 * straight from S3; this module never downloads document bytes. One TextractClient per container (lazy, region
 * and endpoint from the standard AWS variables), unless the caller passes its own.
 *
 * Invariants:
 * - a page whose content type Textract's synchronous APIs do not accept (JPEG, PNG, single-page PDF) is refused
 *   with `unsupported_document` before any call; AnalyzeID gets one or two pages (its documented limit)
 * - every Textract error becomes one of the port's two errors (see `toAnalysisError`): throttling, quota, 5xx and
 *   network/timeouts (no HTTP status) are transient; a refused document or location is a failure with a reason.
 *   An unexpected 4xx other than 401/403 is rethrown unchanged (a bug on our side, not a document problem)
 * - the responses are mapped by the pure mappers of textract-mapping.ts and nothing else
 * - a page with a `version` is read at that S3 object version (S3Object.Version), never a later upload
 */
import {
  AnalyzeDocumentCommand,
  type AnalyzeDocumentCommandOutput,
  AnalyzeIDCommand,
  type AnalyzeIDCommandOutput,
  TextractClient,
} from '@aws-sdk/client-textract';
import {
  AnalysisFailedError,
  type AnalysisFailureReason,
  AnalysisTransientError,
  type DocumentAnalyzer,
  isSupportedContentType,
  type S3Ref,
} from './port.ts';
import { ADDRESS_PROOF_QUERIES, mapAddressProofResponse, mapAnalyzeIdResponse } from './textract-mapping.ts';

let defaultClient: TextractClient | undefined;
const textract = () => (defaultClient ??= new TextractClient({}));

const TRANSIENT_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'InternalServerError',
  'LimitExceededException',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const FAILED_ERRORS: Record<string, AnalysisFailureReason> = {
  UnsupportedDocumentException: 'unsupported_document',
  BadDocumentException: 'bad_document',
  DocumentTooLargeException: 'document_too_large',
  InvalidS3ObjectException: 'document_not_found',
  AccessDeniedException: 'access_denied',
  InvalidParameterException: 'bad_document',
};

interface SdkErrorLike {
  name?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/** The port error for an error thrown by a Textract call (or the error itself when it is not Textract's to classify). */
export function toAnalysisError(err: unknown): unknown {
  if (err instanceof AnalysisFailedError || err instanceof AnalysisTransientError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SdkErrorLike;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const reason = FAILED_ERRORS[name];
  if (reason) return new AnalysisFailedError(reason, `Textract refused the document (${name})`, { cause: err });
  if (TRANSIENT_ERRORS.has(name) || status === undefined || status >= 500 || status === 429 || e.$fault === 'server') {
    return new AnalysisTransientError(`Textract is unavailable (${name || 'network error'}${status ? `, HTTP ${status}` : ''})`, {
      cause: err,
    });
  }
  if (status === 401 || status === 403) {
    return new AnalysisFailedError('access_denied', `Textract refused the request (${name}, HTTP ${status})`, { cause: err });
  }
  return err;
}

function assertSupported(pages: S3Ref[]): void {
  for (const p of pages) {
    if (!isSupportedContentType(p.contentType)) {
      throw new AnalysisFailedError('unsupported_document', `Textract cannot read content type '${p.contentType}'`);
    }
  }
}

/** The S3 object Textract reads: the pinned version when one is known. */
const s3Object = (p: S3Ref) => ({ S3Object: { Bucket: p.bucket, Name: p.key, ...(p.version ? { Version: p.version } : {}) } });

export function textractAnalyzer(client?: TextractClient): DocumentAnalyzer {
  const c = () => client ?? textract();
  return {
    async analyzeIdentity({ documentType, pages }) {
      if (pages.length < 1 || pages.length > 2) {
        throw new AnalysisFailedError('unsupported_document', `AnalyzeID takes one or two pages, got ${pages.length}`);
      }
      assertSupported(pages);
      let out: AnalyzeIDCommandOutput;
      try {
        out = await c().send(new AnalyzeIDCommand({ DocumentPages: pages.map(s3Object) }));
      } catch (err) {
        throw toAnalysisError(err);
      }
      return mapAnalyzeIdResponse(out, documentType);
    },

    async analyzeAddressProof({ page }) {
      assertSupported([page]);
      let out: AnalyzeDocumentCommandOutput;
      try {
        out = await c().send(
          new AnalyzeDocumentCommand({
            Document: s3Object(page),
            FeatureTypes: ['QUERIES'],
            QueriesConfig: { Queries: ADDRESS_PROOF_QUERIES.map((q) => ({ Text: q.Text, Alias: q.Alias })) },
          }),
        );
      } catch (err) {
        throw toAnalysisError(err);
      }
      return mapAddressProofResponse(out);
    },
  };
}
