/**
 * The KYC document analyzer port: reads an identity document or a proof of address stored in S3 and
 * returns the domain's extracted shapes (domain/kyc/model.ts). Adapters: `textract` (Amazon Textract
 * AnalyzeID / AnalyzeDocument with QUERIES) and `sandbox` (local runs and tests: reads a JSON description
 * of the document and maps it through the same Textract mappers).
 *
 * Invariants:
 * - an adapter never guesses: a value it cannot read or normalise is left out of the result (which the
 *   checks then treat as confidence 0), never filled with a default
 * - every failure is one of two errors, told apart by `name` (Step Functions Retry/Catch match on it):
 *   `KycAnalysisTransient` (throttling, 5xx, network, timeouts: worth retrying) and `KycAnalysisFailed`
 *   (the document or its location is the problem: retrying cannot help), the latter with a stable `reason`
 *   that also starts its message (`<reason>: ...`), so it survives the trip through Step Functions
 * - document contents (PII) never appear in error messages
 */
import type { DocumentType, ExtractedAddressProof, ExtractedIdentity } from '#domain/kyc/model.ts';

export interface S3Ref {
  bucket: string;
  key: string;
  contentType: string;
  /** The object version to read (the one checked at upload); absent = the current object (unversioned stores). */
  version?: string | undefined;
}

export interface DocumentAnalyzer {
  /** One identity document: its pages (front, then back when there is one) in ONE AnalyzeID call. */
  analyzeIdentity(input: { documentType: DocumentType; pages: S3Ref[] }): Promise<ExtractedIdentity>;
  /** A proof of address (utility bill, bank statement...): AnalyzeDocument with QUERIES. */
  analyzeAddressProof(input: { page: S3Ref }): Promise<ExtractedAddressProof>;
}

/** Retry-worthy (throttling, 5xx, network, timeouts). name === 'KycAnalysisTransient' (Step Functions Retry matches the error name). */
export class AnalysisTransientError extends Error {
  override readonly name = 'KycAnalysisTransient';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const ANALYSIS_FAILURE_REASONS = [
  'unsupported_document',
  'bad_document',
  'document_too_large',
  'document_not_found',
  'access_denied',
  'invalid_document_content',
] as const;
export type AnalysisFailureReason = (typeof ANALYSIS_FAILURE_REASONS)[number];

/**
 * Not retry-worthy: unsupported/bad/too large/unreadable document, access denied. name === 'KycAnalysisFailed'.
 * The message always starts with the reason (`<reason>: <detail>`, or just `<reason>`): the error crosses
 * Step Functions as the Cause Lambda reports ({"errorType","errorMessage"}), where only name and message
 * survive, and kyc-analyze's failureReason reads the reason back from the message.
 */
export class AnalysisFailedError extends Error {
  override readonly name = 'KycAnalysisFailed';
  readonly reason: AnalysisFailureReason;
  constructor(reason: AnalysisFailureReason, message: string = reason, options?: { cause?: unknown }) {
    super(message === reason || message.startsWith(`${reason}: `) ? message : `${reason}: ${message}`, options);
    this.reason = reason;
  }
}

/** Content types the Textract synchronous APIs accept (JPEG, PNG, single-page PDF). */
export const SUPPORTED_CONTENT_TYPES = ['image/jpeg', 'image/png', 'application/pdf'] as const;

/** 'Image/JPEG; charset=x' -> 'image/jpeg' ('image/jpg', a common mislabel, counts as JPEG). */
export function normaliseContentType(contentType: string | undefined): string {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return base === 'image/jpg' || base === 'image/pjpeg' ? 'image/jpeg' : base;
}

export function isSupportedContentType(contentType: string | undefined): boolean {
  return (SUPPORTED_CONTENT_TYPES as readonly string[]).includes(normaliseContentType(contentType));
}
