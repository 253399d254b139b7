/**
 * The client's own verification: POST /v1/kyc/documents (a presigned upload for one file),
 * GET /v1/kyc/documents/{documentId} (a file's status), POST /v1/kyc/submissions (submit a set of files
 * for review) and GET /v1/kyc (status, next step, requirements, what is missing, ETA). Each route parses,
 * checks the role and calls one use case (functions/app/kyc/); the views below present their results.
 *
 * Invariants:
 * - clients only ever read and write their own files and submissions (looked up by the token's sub); a
 *   client asking for another client's document gets 404 document_not_found, exactly as for a missing one;
 *   compliance and admin may read any document's status
 * - bad input is refused with a stable code and NOTHING is written: unknown_document_type,
 *   document_type_not_accepted (per the client's jurisdiction and client type), invalid_side,
 *   unsupported_content_type (application/json only with the sandbox analyzer), file_too_large, invalid_size
 * - a presigned POST only accepts the declared content type and 1..declared size bytes (never above
 *   MAX_UPLOAD_BYTES), at the document's own key, for 15 minutes; the S3 key and URLs of stored files are
 *   never part of a response
 * - an upload is confirmed lazily by HeadObject (functions/app/kyc/uploads.ts): a file becomes 'uploaded'
 *   only when the object exists with the declared content type and at most the declared size, in one
 *   audited commit ('kyc.document.uploaded') that records the object's S3 VersionId; otherwise it stays
 *   awaiting_upload and the response says why (uploadProblem). Only an awaiting file is ever looked at:
 *   once uploaded (or submitted) it is not read again, and analysis and review links use the recorded
 *   version, so a later upload through the still-valid presigned POST replaces nothing that was checked
 * - a submission is created in ONE commit with its files (version-conditioned, -> 'submitted'), the
 *   profile (kycStatus in_review, stage kyc_submitted; for a renewal kycStatus and stage unchanged and
 *   kyc.renewalSubmissionId set), the audit item and the outbox event 'kyc.submission.created'; the state
 *   machine is started from that event (rule -> kyc-start-review), never by this route, so a committed
 *   submission is never left unreviewed
 * - at most one submission runs at a time (409 submission_in_progress); a verified client cannot submit
 *   again while its approved document is valid (409 already_verified). Within the tenant's
 *   kyc.expiringSoonDays of its expiry (the expiring-soon email asks for the renewed document) the
 *   submission is a RENEWAL: the client stays 'approved' (deposits and trading key on it) while it is
 *   checked, and GET /v1/kyc shows its progress; once the document expired it is an ordinary submission.
 *   A final rejection closes verification (409 verification_closed)
 * - client-facing reasons come from the domain catalogues in the request locale; evidence, notes, scores
 *   and reviewer identities are never returned
 * - nothing here logs: documents and profiles are PII
 */
import * as z from 'zod';
import { createSubmission } from '#app/kyc/create-submission.ts';
import { type DocumentStatusResult, getDocumentStatus } from '#app/kyc/get-document-status.ts';
import { getKycStatus, type KycStatusResult } from '#app/kyc/get-kyc-status.ts';
import { requestDocumentUpload } from '#app/kyc/request-document-upload.ts';
import { clientLocale } from '#app/kyc/shared.ts';
import type { Role } from '#domain/identity/roles.ts';
import { clientReasons } from '#domain/kyc/client-status.ts';
import { DOCUMENT_CATEGORIES, type KycSubmission, MAX_UPLOAD_BYTES } from '#domain/kyc/submission.ts';
import type { OnboardingRequirements } from '#domain/onboarding/requirements.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';

const CLIENTS: readonly Role[] = ['client'];
const DOCUMENT_READERS: readonly Role[] = ['client', 'compliance', 'admin'];

export const MAX_SUBMISSION_FILES = 6;
/** Document ids are ULIDs (Crockford base32, 26 characters). */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

// ------------------------------------------------------------------------------------------------ schemas

export const CreateDocumentBody = z.strictObject({
  category: z.enum(DOCUMENT_CATEGORIES),
  documentType: z
    .string()
    .min(1)
    .max(40)
    .regex(/^[a-z_]+$/),
  side: z.enum(['front', 'back']).optional(),
  contentType: z.string().trim().min(1).max(100),
  /** Bytes of the file the client is about to upload (1..MAX_UPLOAD_BYTES). */
  size: z.number().int(),
});
export type CreateDocumentBody = z.infer<typeof CreateDocumentBody>;

const DocumentIdParams = z.strictObject({ documentId: z.string().min(1).max(64) });

export const CreateSubmissionBody = z.strictObject({
  documentIds: z
    .array(z.string().regex(ULID, { message: 'must be a document id returned by POST /v1/kyc/documents' }))
    .min(1)
    .max(MAX_SUBMISSION_FILES),
});
export type CreateSubmissionBody = z.infer<typeof CreateSubmissionBody>;

const Reason = z.object({ code: z.string(), message: z.string() });

export const DocumentUpload = z.object({
  documentId: z.string(),
  status: z.string(),
  upload: z.object({
    url: z.string(),
    fields: z.record(z.string(), z.string()),
    expiresAt: z.string(),
  }),
});

export const DocumentStatusView = z.object({
  documentId: z.string(),
  clientId: z.string(),
  category: z.enum(DOCUMENT_CATEGORIES),
  documentType: z.string(),
  side: z.enum(['front', 'back']).nullable(),
  contentType: z.string(),
  declaredSize: z.number().int(),
  size: z.number().int().nullable(),
  status: z.string(),
  createdAt: z.string(),
  uploadDeadline: z.string(),
  uploadedAt: z.string().nullable(),
  submissionId: z.string().nullable(),
  reasons: z.array(Reason),
  uploadProblem: z
    .enum(['content_type_mismatch', 'size_mismatch', 'upload_expired'])
    .optional()
    .meta({ description: 'Why an uploaded object was not accepted (the file stays awaiting_upload)' }),
});

export const SubmissionCreated = z.object({
  submissionId: z.string(),
  status: z.string(),
  submittedAt: z.string(),
  documentIds: z.array(z.string()),
  timeline: z.array(z.object({ step: z.string(), at: z.string() })),
});

const KycStatusSchema = z.record(z.string(), z.unknown()).meta({
  description:
    'status, next, submission, timeline, documents, history, estimatedCompletion (domain/kyc/client-status.ts) plus requirements, missing and preVerificationDeposit, in the request locale',
});

// ------------------------------------------------------------------------------------------------ views

/** The file as a client or an officer sees it: no S3 key, no URL. */
function documentStatusView({ document: doc, uploadProblem }: DocumentStatusResult, locale: string) {
  return {
    documentId: doc.documentId,
    clientId: doc.clientId,
    category: doc.category,
    documentType: doc.documentType,
    side: doc.side ?? null,
    contentType: doc.contentType,
    declaredSize: doc.declaredSize,
    size: doc.size ?? null,
    status: doc.status,
    createdAt: doc.createdAt,
    uploadDeadline: doc.uploadDeadline,
    uploadedAt: doc.uploadedAt ?? null,
    submissionId: doc.submissionId ?? null,
    reasons: clientReasons(doc.rejectionReasons ?? [], clientLocale(locale), { closed: doc.status === 'rejected' }),
    ...(uploadProblem ? { uploadProblem } : {}),
  };
}

function submissionCreatedView(s: KycSubmission) {
  return {
    submissionId: s.submissionId,
    status: s.status,
    submittedAt: s.submittedAt,
    documentIds: [
      ...s.identity.documentIds,
      ...(s.addressProof ? [s.addressProof.documentId] : []),
      ...(s.selfie ? [s.selfie.documentId] : []),
    ],
    timeline: s.timeline.map((t) => ({ step: t.step, at: t.at })),
  };
}

function requirementsView(req: OnboardingRequirements, contentTypes: string[]) {
  const d = req.documents;
  return {
    jurisdiction: req.jurisdiction,
    identity: { oneOf: d.identity.accepted.map((a) => ({ documentType: a.type, sides: [...a.sides] })) },
    proofOfAddress: {
      required: d.proofOfAddress.required,
      maxAgeDays: d.proofOfAddress.maxAgeDays,
      accepted: [...d.proofOfAddress.accepted],
    },
    selfie: { required: d.selfie.required },
    contentTypes,
    maxFileBytes: MAX_UPLOAD_BYTES,
  };
}

function kycStatusView(r: KycStatusResult) {
  const { requirements, acceptedContentTypes, missing, preVerificationDeposit, ...view } = r;
  return { ...view, requirements: requirementsView(requirements, acceptedContentTypes), missing, preVerificationDeposit };
}

// ------------------------------------------------------------------------------------------------- routes

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/kyc',
    operationId: 'getKycStatus',
    summary: "The caller's verification: status, next step, requirements, what is missing and the estimated completion",
    tags: ['kyc'],
    auth: CLIENTS,
    responses: {
      200: { description: 'The verification status in the request locale', schema: KycStatusSchema },
      404: { description: 'profile_not_found' },
    },
    handler: async ({ caller, locale, correlationId }) => ({
      status: 200,
      body: kycStatusView(await getKycStatus(caller!, { requestId: correlationId, locale })),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/kyc/documents',
    operationId: 'createKycDocument',
    summary: 'Register one file (an identity document side, a proof of address or a selfie) and get a presigned upload',
    tags: ['kyc'],
    auth: CLIENTS,
    body: CreateDocumentBody,
    idempotency: 'optional',
    responses: {
      201: { description: 'The document and its presigned POST (15 minutes)', schema: DocumentUpload },
      400: {
        description:
          'validation_failed, unknown_document_type, document_type_not_accepted, invalid_side, unsupported_content_type, file_too_large, invalid_size',
      },
      404: { description: 'profile_not_found' },
      409: { description: 'profile_incomplete, verification_closed' },
    },
    handler: async ({ body, caller, locale, correlationId }) => ({
      status: 201,
      body: await requestDocumentUpload(body, caller!, { requestId: correlationId, locale }),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/kyc/documents/{documentId}',
    operationId: 'getKycDocument',
    summary: "A file's status (its owner, compliance or admin); confirms a finished upload",
    tags: ['kyc'],
    auth: DOCUMENT_READERS,
    params: DocumentIdParams,
    responses: {
      200: { description: 'The file status, without its storage location', schema: DocumentStatusView },
      404: { description: 'document_not_found' },
    },
    handler: async ({ params, caller, locale, correlationId }) => ({
      status: 200,
      body: documentStatusView(
        await getDocumentStatus({ documentId: params.documentId }, caller!, { requestId: correlationId, locale }),
        locale,
      ),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/kyc/submissions',
    operationId: 'createKycSubmission',
    summary: 'Submit uploaded files for verification; the review starts at once',
    tags: ['kyc'],
    auth: CLIENTS,
    body: CreateSubmissionBody,
    idempotency: 'optional',
    responses: {
      202: { description: 'The submission, being processed', schema: SubmissionCreated },
      400: { description: 'validation_failed, duplicate_document_in_set, documents_missing' },
      404: { description: 'profile_not_found, document_not_found' },
      409: {
        description:
          'profile_incomplete, submission_in_progress, already_verified, verification_closed, document_not_uploaded, document_already_submitted, conflict',
      },
    },
    handler: async ({ body, caller, locale, correlationId }) => ({
      status: 202,
      body: submissionCreatedView(await createSubmission(body, caller!, { requestId: correlationId, locale })),
    }),
  }),
];

export const handler = httpHandler(...routes);
