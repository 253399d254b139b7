/**
 * The KYC submission lifecycle as plain data: documents, submissions, their steps and the rules for
 * which document set may be submitted. Pure; the store (functions/store/kyc.ts) persists these shapes.
 *
 * A client uploads document files (one item per file: an identity card's front and back are two), then
 * submits a set of them. A submission runs through the kyc-review state machine:
 *   processing -> (approved | rejected | in_review)    automatic decision
 *   in_review  -> (approved | rejected | documents_requested)   compliance decision
 * A submission is decided exactly once. A new submission (after a rejection that may be fixed, a
 * document request, an expired document, or a renewal while the approved document expires soon) uses
 * new files and keeps the earlier ones as history.
 *
 * Invariants:
 * - a submittable set holds exactly ONE accepted identity document type with every side the tenant
 *   requires for it and no other side, a proof of address of an accepted type when required (one file),
 *   a selfie when required (one file), and nothing else (an optional proof of address or selfie may be
 *   added); every file is the caller's own, uploaded, and not part of another submission
 * - `documentsMissing` names each missing piece with a stable code, so the client is told exactly
 *   what to add
 * - final submission statuses never change again (isFinalSubmissionStatus)
 * - a file may be uploaded only as a known type of its category that the requirements accept, with
 *   the sides that type has (none outside identity), of an upload content type (the sandbox's JSON only
 *   with the sandbox analyzer) and 1..MAX_UPLOAD_BYTES bytes (checkDocumentRequest)
 */
import { DomainError } from '../errors.ts';
import { IDENTITY_DOCUMENT_TYPES, PROOF_OF_ADDRESS_TYPES } from '../onboarding/catalog.ts';
import type { DocumentRequirements } from '../onboarding/requirements.ts';
import type { DocumentType, KycIssue } from './model.ts';

export const DOCUMENT_CATEGORIES = ['identity', 'proof_of_address', 'selfie'] as const;
export type DocumentCategory = (typeof DOCUMENT_CATEGORIES)[number];

/** Upload content types. application/json is the sandbox analyzer's document format, accepted only when it runs. */
export const UPLOAD_CONTENT_TYPES = ['image/jpeg', 'image/png', 'application/pdf'] as const;
export const SANDBOX_CONTENT_TYPE = 'application/json';
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** The content types a client may upload with this analyzer (the sandbox's JSON format only with the sandbox). */
export const uploadContentTypes = (analyzer: 'sandbox' | 'textract'): string[] =>
  analyzer === 'sandbox' ? [...UPLOAD_CONTENT_TYPES, SANDBOX_CONTENT_TYPE] : [...UPLOAD_CONTENT_TYPES];

export type DocumentStatus = 'awaiting_upload' | 'uploaded' | 'submitted' | 'accepted' | 'rejected';

/** One uploaded file. */
export interface KycDocument {
  documentId: string;
  clientId: string;
  category: DocumentCategory;
  /** passport | national_id | driving_licence | residence_permit, a proof-of-address type, or 'selfie'. */
  documentType: string;
  side?: 'front' | 'back' | undefined;
  contentType: string;
  declaredSize: number;
  status: DocumentStatus;
  /** Set once the object is confirmed in S3. */
  uploadedAt?: string | undefined;
  size?: number | undefined;
  /**
   * The S3 version of the object that was checked when the upload was confirmed (a versioned bucket; absent
   * where the store does not version, e.g. the local S3). Analysis and review links read this version, so
   * a file uploaded again through the still-valid presigned POST cannot replace what was checked.
   */
  versionId?: string | undefined;
  submissionId?: string | undefined;
  /** Reason codes (domain/kyc review reasons or issue codes) when rejected. */
  rejectionReasons?: string[] | undefined;
}

export type SubmissionStatus = 'processing' | 'in_review' | 'approved' | 'rejected' | 'documents_requested';
export const FINAL_SUBMISSION_STATUSES: readonly SubmissionStatus[] = ['approved', 'rejected', 'documents_requested'];
export const isFinalSubmissionStatus = (s: SubmissionStatus) => FINAL_SUBMISSION_STATUSES.includes(s);

export type SubmissionStep =
  | 'submitted'
  | 'analysis_completed'
  | 'analysis_failed'
  | 'checks_completed'
  | 'review_opened'
  | 'decided';

export interface TimelineEntry {
  step: SubmissionStep;
  at: string;
  /** Non-PII detail for the client view (e.g. { outcome: 'approve' }). */
  detail?: Record<string, string | number | boolean> | undefined;
}

export type ReviewDecisionKind = 'approve' | 'reject' | 'request_documents';

export interface SubmissionDecision {
  outcome: 'approved' | 'rejected' | 'documents_requested';
  /** 'system' for automatic decisions, else the reviewer's sub. */
  decidedBy: string;
  decidedAt: string;
  /** Review-reason codes (manual) or issue codes (automatic). */
  reasons: string[];
  note?: string | undefined;
  /** Document ids the reasons apply to (rejected or requested again); empty = the whole submission. */
  documentIds: string[];
  /** False when the rejection is final (under age, restricted country, confirmed sanctions or fraud). */
  canResubmit: boolean;
}

export interface KycSubmission {
  submissionId: string;
  clientId: string;
  status: SubmissionStatus;
  identity: { documentType: DocumentType; documentIds: string[] };
  addressProof?: { documentType: string; documentId: string } | undefined;
  selfie?: { documentId: string } | undefined;
  submittedAt: string;
  /**
   * True when the submission renews a current approval: submitted while the approved identity document
   * was expiring soon (not yet expired). The client stays approved while it is checked, and keeps the
   * earlier approval unless it is approved (new approval) or finally rejected.
   */
  renewal?: boolean | undefined;
  timeline: TimelineEntry[];
  /** Result of the checks step. */
  checks?:
    | { issues: KycIssue[]; outcome: 'approve' | 'reject' | 'manual_review'; priority?: 'high' | 'normal' | undefined }
    | undefined;
  review?:
    | {
        status: 'pending' | 'decided';
        queuedAt: string;
        priority: 'high' | 'normal';
        decidedAt?: string | undefined;
      }
    | undefined;
  decision?: SubmissionDecision | undefined;
}

export interface SubmittableFile {
  documentId: string;
  clientId: string;
  category: DocumentCategory;
  documentType: string;
  side?: 'front' | 'back' | undefined;
  status: DocumentStatus;
}

export interface MissingDocument {
  code: 'identity_document_missing' | 'identity_side_missing' | 'proof_of_address_missing' | 'selfie_missing';
  category: DocumentCategory;
  documentType?: string;
  side?: 'front' | 'back';
}

/** A file's identity side; a file without one is its front (a passport's photo page). */
const sideOf = (f: Pick<SubmittableFile, 'side'>) => f.side ?? 'front';

/**
 * What the set still lacks for the requirements (empty when complete). Among several identity
 * document types in the set, the accepted one closest to complete is judged (ties: the one uploaded
 * last, i.e. later in the list), so the answer does not depend on file order.
 */
export function documentsMissing(files: readonly SubmittableFile[], req: DocumentRequirements): MissingDocument[] {
  const missing: MissingDocument[] = [];
  const identity = files.filter((f) => f.category === 'identity');
  let best: { type: string; sides: ('front' | 'back')[]; lacking: ('front' | 'back')[]; last: number } | undefined;
  for (const accepted of req.identity.accepted) {
    const ofType = identity.map((f, i) => ({ f, i })).filter(({ f }) => f.documentType === accepted.type);
    if (ofType.length === 0) continue;
    const lacking = accepted.sides.filter((side) => !ofType.some(({ f }) => sideOf(f) === side));
    const last = Math.max(...ofType.map(({ i }) => i));
    if (!best || lacking.length < best.lacking.length || (lacking.length === best.lacking.length && last > best.last)) {
      best = { type: accepted.type, sides: [...accepted.sides], lacking, last };
    }
  }
  if (!best) missing.push({ code: 'identity_document_missing', category: 'identity' });
  else {
    for (const side of best.lacking) {
      missing.push({ code: 'identity_side_missing', category: 'identity', documentType: best.type, side });
    }
  }
  if (req.proofOfAddress.required && !files.some((f) => f.category === 'proof_of_address')) {
    missing.push({ code: 'proof_of_address_missing', category: 'proof_of_address' });
  }
  if (req.selfie.required && !files.some((f) => f.category === 'selfie')) {
    missing.push({ code: 'selfie_missing', category: 'selfie' });
  }
  return missing;
}

/**
 * Checks a set of files for submission and groups them; DomainError otherwise:
 * 404 document_not_found (not the caller's: indistinguishable from an unknown id), 409 document_not_uploaded,
 * 409 document_already_submitted, 400 duplicate_document_in_set (same category/side twice, or two identity
 * types), 400 document_type_not_accepted (an identity type, side or proof-of-address type the requirements
 * do not list), 400 documents_missing (one field error per missing piece). A proof of address or selfie the
 * tenant does not require may be included (it is checked like a required one).
 */
export function planSubmission(
  clientId: string,
  files: readonly SubmittableFile[],
  req: DocumentRequirements,
): Pick<KycSubmission, 'identity' | 'addressProof' | 'selfie'> {
  for (const f of files) {
    if (f.clientId !== clientId) throw new DomainError('document_not_found', 'not_found', `No document ${f.documentId}`);
    if (f.status === 'awaiting_upload') {
      throw new DomainError('document_not_uploaded', 'conflict', `Document ${f.documentId} has not been uploaded yet`, [
        { field: 'documentIds', code: 'document_not_uploaded', message: f.documentId },
      ]);
    }
    if (f.status !== 'uploaded') {
      throw new DomainError('document_already_submitted', 'conflict', `Document ${f.documentId} is part of another submission`, [
        { field: 'documentIds', code: 'document_already_submitted', message: f.documentId },
      ]);
    }
  }
  const notAccepted = (f: SubmittableFile, what: string) =>
    new DomainError('document_type_not_accepted', 'validation', `${what} is not accepted for your jurisdiction`, [
      { field: 'documentIds', code: 'document_type_not_accepted', message: f.documentId },
    ]);
  for (const f of files) {
    if (f.category === 'identity') {
      const accepted = req.identity.accepted.find((a) => a.type === f.documentType);
      if (!accepted?.sides.includes(sideOf(f))) throw notAccepted(f, `${f.documentType} ${sideOf(f)}`);
    } else if (
      f.category === 'proof_of_address' &&
      !(req.proofOfAddress.accepted as readonly string[]).includes(f.documentType)
    ) {
      throw notAccepted(f, f.documentType);
    } else if (f.category === 'selfie' && f.documentType !== 'selfie') {
      throw notAccepted(f, f.documentType);
    }
  }
  const slot = (f: SubmittableFile) => (f.category === 'identity' ? `identity:${sideOf(f)}` : f.category);
  const slots = new Set<string>();
  const identityTypes = new Set(files.filter((f) => f.category === 'identity').map((f) => f.documentType));
  for (const f of files) {
    if (slots.has(slot(f)) || identityTypes.size > 1) {
      throw new DomainError('duplicate_document_in_set', 'validation', 'Each document and side may be submitted once', [
        { field: 'documentIds', code: 'duplicate_document_in_set', message: f.documentId },
      ]);
    }
    slots.add(slot(f));
  }
  const missing = documentsMissing(files, req);
  if (missing.length > 0) {
    throw new DomainError(
      'documents_missing',
      'validation',
      'Some required documents are missing',
      missing.map((m) => ({
        field: m.category,
        code: m.code,
        message: [m.documentType, m.side].filter(Boolean).join(' ') || m.category,
      })),
      { missing },
    );
  }
  const sideOrder = (f: SubmittableFile) => (f.side === 'back' ? 1 : 0);
  const identity = files.filter((f) => f.category === 'identity').sort((a, b) => sideOrder(a) - sideOrder(b));
  const address = files.find((f) => f.category === 'proof_of_address');
  const selfie = files.find((f) => f.category === 'selfie');
  return {
    identity: { documentType: identity[0]!.documentType as DocumentType, documentIds: identity.map((f) => f.documentId) },
    ...(address ? { addressProof: { documentType: address.documentType, documentId: address.documentId } } : {}),
    ...(selfie ? { selfie: { documentId: selfie.documentId } } : {}),
  };
}

/** Every file id of a submission, identity first. */
export function submissionDocumentIds(s: Pick<KycSubmission, 'identity' | 'addressProof' | 'selfie'>): string[] {
  return [
    ...s.identity.documentIds,
    ...(s.addressProof ? [s.addressProof.documentId] : []),
    ...(s.selfie ? [s.selfie.documentId] : []),
  ];
}

/** What a client declares before uploading one file (POST /v1/kyc/documents). */
export interface DocumentRequest {
  category: DocumentCategory;
  documentType: string;
  side?: 'front' | 'back' | undefined;
  contentType: string;
  /** Bytes of the file the client is about to upload. */
  size: number;
}

const field = (name: string, code: string, message: string) => [{ field: name, code, message }];

/**
 * Checks what a client wants to upload against the catalogue and its requirements; DomainError (400,
 * kind 'validation') otherwise, with one field error: unknown_document_type, document_type_not_accepted
 * (per the requirements), invalid_side, unsupported_content_type (application/json only when the
 * analyzer is 'sandbox'), invalid_size (< 1 byte), file_too_large (> MAX_UPLOAD_BYTES). Checked in that
 * order. Returns the canonical (lower-case) content type.
 */
export function checkDocumentRequest(
  body: DocumentRequest,
  req: DocumentRequirements,
  analyzer: 'sandbox' | 'textract',
): { contentType: string } {
  const { category, documentType, side } = body;
  const known =
    category === 'identity'
      ? (IDENTITY_DOCUMENT_TYPES as readonly string[]).includes(documentType)
      : category === 'proof_of_address'
        ? (PROOF_OF_ADDRESS_TYPES as readonly string[]).includes(documentType)
        : documentType === 'selfie';
  if (!known) {
    throw new DomainError(
      'unknown_document_type',
      'validation',
      `${documentType} is not a ${category} document type`,
      field('documentType', 'unknown_document_type', `not a ${category} document type`),
    );
  }
  const notAccepted = () =>
    new DomainError(
      'document_type_not_accepted',
      'validation',
      `We do not accept ${documentType} for your country and account type`,
      field('documentType', 'document_type_not_accepted', 'not accepted for your country and account type'),
    );
  if (category === 'identity') {
    const accepted = req.identity.accepted.find((a) => a.type === documentType);
    if (!accepted) throw notAccepted();
    if (!side || !accepted.sides.includes(side)) {
      throw new DomainError(
        'invalid_side',
        'validation',
        `A ${documentType} is uploaded as: ${accepted.sides.join(', ')}`,
        field('side', 'invalid_side', `must be one of ${accepted.sides.join(', ')}`),
      );
    }
  } else {
    if (
      category === 'proof_of_address' &&
      (!req.proofOfAddress.required || !req.proofOfAddress.accepted.includes(documentType as never))
    ) {
      throw notAccepted();
    }
    if (category === 'selfie' && !req.selfie.required) throw notAccepted();
    if (side !== undefined) {
      throw new DomainError(
        'invalid_side',
        'validation',
        `A ${category} has no sides`,
        field('side', 'invalid_side', 'must be omitted'),
      );
    }
  }
  const contentType = body.contentType.toLowerCase();
  const types = uploadContentTypes(analyzer);
  if (!types.includes(contentType)) {
    throw new DomainError(
      'unsupported_content_type',
      'validation',
      `Upload a file of type ${types.join(', ')}`,
      field('contentType', 'unsupported_content_type', `must be one of ${types.join(', ')}`),
    );
  }
  if (body.size < 1) {
    throw new DomainError(
      'invalid_size',
      'validation',
      'The file size must be at least 1 byte',
      field('size', 'invalid_size', 'must be >= 1'),
    );
  }
  if (body.size > MAX_UPLOAD_BYTES) {
    throw new DomainError(
      'file_too_large',
      'validation',
      `Files may be at most ${MAX_UPLOAD_BYTES / (1024 * 1024)} MB`,
      field('size', 'file_too_large', `must be <= ${MAX_UPLOAD_BYTES}`),
      { maxBytes: MAX_UPLOAD_BYTES },
    );
  }
  return { contentType };
}
