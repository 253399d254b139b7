/**
 * The client's own verification: POST /v1/kyc/documents (a presigned upload for one file),
 * GET /v1/kyc/documents/{documentId} (a file's status), POST /v1/kyc/submissions (submit a set of files
 * for review) and GET /v1/kyc (status, next step, requirements, what is missing, ETA).
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
 * - an upload is confirmed lazily by HeadObject: a file becomes 'uploaded' only when the object exists with
 *   the declared content type and at most the declared size, in one audited commit ('kyc.document.uploaded')
 *   that records the object's S3 VersionId (the bucket is versioned; absent locally); otherwise it stays
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
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { ulid } from 'ulid';
import * as z from 'zod';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { clientKycView, clientReasons } from '#domain/kyc/client-status.ts';
import type { Locale } from '#domain/kyc/decision.ts';
import { estimateReviewEta } from '#domain/kyc/eta.ts';
import { classifyExpiry, type ExpiryState } from '#domain/kyc/expiry.ts';
import {
  checkDocumentRequest,
  DOCUMENT_CATEGORIES,
  type DocumentCategory,
  documentsMissing,
  type KycDocument,
  type KycSubmission,
  MAX_UPLOAD_BYTES,
  planSubmission,
  type SubmittableFile,
  uploadContentTypes,
} from '#domain/kyc/submission.ts';
import { type OnboardingRequirements, requirementsFor } from '#domain/onboarding/requirements.ts';
import type { Role } from '#functions/manifest.ts';
import { assertOwnerOrStaff, type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { s3 } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { type ClientProfileItem, getClientProfile, replaceClientProfile } from '#store/clients.ts';
import {
  getKycDocument,
  getKycDocuments,
  type KycDocumentItem,
  type KycSubmissionItem,
  listClientDocuments,
  listClientSubmissions,
  newKycDocument,
  newKycSubmission,
  putKycDocument,
  putKycSubmission,
  replaceKycDocument,
  submissionView,
} from '#store/kyc.ts';
import { reviewQueueStats } from '#store/kyc-reviews.ts';
import { listWallets } from '#store/ledger/accounts.ts';

const CLIENTS: readonly Role[] = ['client'];
const STAFF_READERS: Role[] = ['compliance', 'admin'];
const DOCUMENT_READERS: readonly Role[] = ['client', ...STAFF_READERS];

/** How long a presigned upload works (seconds); the document's uploadDeadline is the same instant. */
export const UPLOAD_WINDOW_SECONDS = 900;
export const MAX_SUBMISSION_FILES = 6;
/** Document ids are ULIDs (Crockford base32, 26 characters). */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

const LOCALES: readonly Locale[] = ['en', 'de', 'es'];
const toLocale = (l: string): Locale => (LOCALES.includes(l as Locale) ? (l as Locale) : 'en');

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

// ---------------------------------------------------------------------------------------------- helpers

const profileNotFound = () => new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');
const documentNotFound = () => new DomainError('document_not_found', 'not_found', 'No document with this id');
const profileIncomplete = () =>
  new DomainError('profile_incomplete', 'conflict', 'Complete your profile before uploading or submitting documents');

async function ownProfile(caller: Caller): Promise<ClientProfileItem> {
  const profile = await getClientProfile(caller.sub, { consistent: true });
  if (!profile) throw profileNotFound();
  return profile;
}

const requirementsOf = (p: ClientProfileItem): OnboardingRequirements =>
  requirementsFor(tenantConfig(), { country: p.countryOfResidence, clientType: p.clientType });

const stageOf = (p: ClientProfileItem) => p.onboarding?.stage ?? 'registered';

/** The latest submission (by submittedAt, then id). */
function latestOf(submissions: readonly KycSubmissionItem[]): KycSubmissionItem | undefined {
  return [...submissions].sort((a, b) =>
    a.submittedAt === b.submittedAt ? a.submissionId.localeCompare(b.submissionId) : a.submittedAt.localeCompare(b.submittedAt),
  )[submissions.length - 1];
}

/**
 * The client's current approval: 'none' (not approved), 'valid', 'expiring_soon' (within the tenant's
 * kyc.expiringSoonDays of the approved document's expiry: a renewal may be submitted) or 'expired' (by the
 * expiry job's flag or by date). An approval without a known expiry date stays 'valid'.
 */
function approvalState(p: ClientProfileItem, now: Date, windowDays: number): 'none' | ExpiryState {
  if (p.kycStatus !== 'approved') return 'none';
  if (p.kyc?.expiredAt) return 'expired';
  const on = p.kyc?.identityExpiresOn;
  return on ? classifyExpiry(on, now, windowDays) : 'valid';
}

function assertVerificationOpen(latest: KycSubmissionItem | undefined, p: ClientProfileItem): void {
  const closed =
    p.kycStatus === 'rejected' ||
    (latest?.status === 'rejected' && latest.decision !== undefined && !latest.decision.canResubmit);
  if (closed) {
    throw new DomainError('verification_closed', 'conflict', 'Verification cannot be retried; please contact support');
  }
}

const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

export type UploadProblem = 'content_type_mismatch' | 'size_mismatch' | 'upload_expired';

/**
 * Confirms an awaiting upload: HeadObject, then 'uploaded' with the object's VersionId (one audited,
 * version-conditioned commit) when the object matches what was declared. Returns the document as it now is
 * and, when the object was not accepted, why. Any other status (uploaded, submitted, decided) is returned as
 * it is, without touching S3: what was checked is never re-read.
 */
export async function confirmUpload(
  doc: KycDocumentItem,
  actor: AuditActor,
  requestId: string,
  now: Date = new Date(),
): Promise<{ doc: KycDocumentItem; problem?: UploadProblem }> {
  if (doc.status !== 'awaiting_upload') return { doc };
  let head: {
    ContentType?: string | undefined;
    ContentLength?: number | undefined;
    LastModified?: Date | undefined;
    VersionId?: string | undefined;
  };
  try {
    head = await s3().send(new HeadObjectCommand({ Bucket: env.documentsBucket, Key: doc.s3Key }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return Date.parse(doc.uploadDeadline) < now.getTime() ? { doc, problem: 'upload_expired' } : { doc };
  }
  const contentType = (head.ContentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== doc.contentType) return { doc, problem: 'content_type_mismatch' };
  const size = head.ContentLength ?? 0;
  if (size < 1 || size > doc.declaredSize) return { doc, problem: 'size_mismatch' };
  const at = now.toISOString();
  const uploadedAt = head.LastModified ? head.LastModified.toISOString() : at;
  // The version checked here is the one analysed and shown to reviewers (absent without bucket versioning).
  const versionId = head.VersionId && head.VersionId !== 'null' ? head.VersionId : undefined;
  const next: KycDocumentItem = { ...doc, status: 'uploaded', size, uploadedAt, ...(versionId ? { versionId } : {}) };
  const write = replaceKycDocument(doc, next, at);
  try {
    await commit({
      writes: [write],
      audit: {
        actor,
        action: 'kyc.document.uploaded',
        entity: { type: 'kyc-document', id: doc.documentId },
        clientId: doc.clientId,
        before: { status: doc.status },
        after: { status: next.status, size, uploadedAt, contentType, versionId: versionId ?? null },
        requestId,
      },
      now: () => now,
    });
  } catch (err) {
    if (!(err instanceof DomainError) || err.code !== 'conflict') throw err;
    // Someone else confirmed (or submitted) it first: report it as it is now.
    return { doc: (await getKycDocument(doc.documentId)) ?? doc };
  }
  return { doc: (write as { Put: { Item: KycDocumentItem } }).Put.Item };
}

/** The file as a client or an officer sees it: no S3 key, no URL. */
function documentStatusView(doc: KycDocumentItem, locale: Locale, problem?: UploadProblem) {
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
    reasons: clientReasons(doc.rejectionReasons ?? [], locale, { closed: doc.status === 'rejected' }),
    ...(problem ? { uploadProblem: problem } : {}),
  };
}

/** The domain shape of a stored file (storage attributes dropped). */
function kycDocumentOf(d: KycDocumentItem): KycDocument {
  return {
    documentId: d.documentId,
    clientId: d.clientId,
    category: d.category,
    documentType: d.documentType,
    ...(d.side ? { side: d.side } : {}),
    contentType: d.contentType,
    declaredSize: d.declaredSize,
    status: d.status,
    ...(d.uploadedAt ? { uploadedAt: d.uploadedAt } : {}),
    ...(d.size !== undefined ? { size: d.size } : {}),
    ...(d.submissionId ? { submissionId: d.submissionId } : {}),
    ...(d.rejectionReasons ? { rejectionReasons: d.rejectionReasons } : {}),
  };
}

const submittable = (d: KycDocumentItem): SubmittableFile => ({
  documentId: d.documentId,
  clientId: d.clientId,
  category: d.category,
  documentType: d.documentType,
  ...(d.side ? { side: d.side } : {}),
  status: d.status,
});

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

function requirementsView(req: OnboardingRequirements) {
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
    contentTypes: uploadContentTypes(env.kycAnalyzer),
    maxFileBytes: MAX_UPLOAD_BYTES,
  };
}

// ---------------------------------------------------------------------------------------------- commands

/** Registers a file the client is about to upload and returns its presigned POST (one audited commit). */
export async function requestDocumentUpload(body: CreateDocumentBody, caller: Caller, requestId: string, now = new Date()) {
  const profile = await ownProfile(caller);
  if (stageOf(profile) === 'registered') throw profileIncomplete();
  const { contentType } = checkDocumentRequest(body, requirementsOf(profile).documents, env.kycAnalyzer);
  const latest = latestOf(await listClientSubmissions(profile.clientId));
  assertVerificationOpen(latest, profile);

  const at = now.toISOString();
  const expires = new Date(now.getTime() + UPLOAD_WINDOW_SECONDS * 1000);
  const item = newKycDocument(
    {
      documentId: ulid(now.getTime()),
      clientId: profile.clientId,
      category: body.category as DocumentCategory,
      documentType: body.documentType,
      ...(body.side ? { side: body.side } : {}),
      contentType,
      declaredSize: body.size,
      status: 'awaiting_upload',
      uploadDeadline: expires.toISOString(),
    },
    at,
  );
  const upload = await createPresignedPost(s3(), {
    Bucket: env.documentsBucket,
    Key: item.s3Key,
    Conditions: [
      ['content-length-range', 1, Math.min(body.size, MAX_UPLOAD_BYTES)],
      ['eq', '$Content-Type', contentType],
    ],
    Fields: { 'Content-Type': contentType },
    Expires: UPLOAD_WINDOW_SECONDS,
  });
  await commit({
    writes: [putKycDocument(item)],
    audit: {
      actor: actorFrom(caller, CLIENTS),
      action: 'kyc.document.requested',
      entity: { type: 'kyc-document', id: item.documentId },
      clientId: profile.clientId,
      before: null,
      after: {
        category: item.category,
        documentType: item.documentType,
        side: item.side ?? null,
        contentType,
        declaredSize: item.declaredSize,
        status: item.status,
        uploadDeadline: item.uploadDeadline,
      },
      requestId,
      newEntity: true,
    },
    now: () => now,
  });
  return {
    documentId: item.documentId,
    status: item.status,
    upload: { url: upload.url, fields: upload.fields, expiresAt: item.uploadDeadline },
  };
}

/** A file's status for its owner or an officer; confirms a pending upload on the way. */
export async function documentStatus(documentId: string, caller: Caller, locale: Locale, requestId: string) {
  const doc = await getKycDocument(documentId);
  if (!doc) throw documentNotFound();
  assertOwnerOrStaff(caller, doc.clientId, STAFF_READERS, documentNotFound);
  const { doc: current, problem } = await confirmUpload(doc, actorFrom(caller, DOCUMENT_READERS), requestId);
  return documentStatusView(current, locale, problem);
}

/** Submits a set of the caller's files for review (one audited commit with the outbox event). */
export async function createSubmission(body: CreateSubmissionBody, caller: Caller, requestId: string, now = new Date()) {
  const profile = await ownProfile(caller);
  if (stageOf(profile) === 'registered') throw profileIncomplete();
  const latest = latestOf(await listClientSubmissions(profile.clientId));
  if (latest && (latest.status === 'processing' || latest.status === 'in_review')) {
    throw new DomainError('submission_in_progress', 'conflict', 'Your documents are already being checked', [], {
      submissionId: latest.submissionId,
    });
  }
  const approval = approvalState(profile, now, tenantConfig().kyc.expiringSoonDays);
  if (approval === 'valid') throw new DomainError('already_verified', 'conflict', 'Your identity is already verified');
  assertVerificationOpen(latest, profile);
  // Before the approved document expires, a new one renews the approval: the client stays approved meanwhile.
  const renewal = approval === 'expiring_soon';

  if (new Set(body.documentIds).size !== body.documentIds.length) {
    throw new DomainError('duplicate_document_in_set', 'validation', 'Each document and side may be submitted once', [
      { field: 'documentIds', code: 'duplicate_document_in_set', message: 'a document id is listed twice' },
    ]);
  }
  const found = await getKycDocuments(body.documentIds);
  const actor = actorFrom(caller, CLIENTS);
  const files: KycDocumentItem[] = [];
  for (const id of body.documentIds) {
    const doc = found.get(id);
    if (!doc) {
      throw new DomainError('document_not_found', 'not_found', `No document ${id}`, [
        { field: 'documentIds', code: 'document_not_found', message: id },
      ]);
    }
    if (doc.clientId === profile.clientId && doc.status === 'awaiting_upload') {
      files.push((await confirmUpload(doc, actor, requestId, now)).doc);
    } else files.push(doc);
  }
  const plan = planSubmission(profile.clientId, files.map(submittable), requirementsOf(profile).documents);

  const at = now.toISOString();
  const submissionId = ulid(now.getTime());
  const item = newKycSubmission(
    {
      submissionId,
      clientId: profile.clientId,
      status: 'processing',
      ...plan,
      submittedAt: at,
      ...(renewal ? { renewal: true } : {}),
      timeline: [{ step: 'submitted', at }],
    },
    at,
  );
  const nextProfile: ClientProfileItem = renewal
    ? { ...profile, kyc: { ...profile.kyc, currentSubmissionId: submissionId, renewalSubmissionId: submissionId } }
    : {
        ...profile,
        kycStatus: 'in_review',
        onboarding: { ...profile.onboarding, stage: 'kyc_submitted' },
        kyc: { ...profile.kyc, currentSubmissionId: submissionId },
      };
  await commit({
    writes: [
      putKycSubmission(item),
      ...files.map((f) => replaceKycDocument(f, { ...f, status: 'submitted', submissionId }, at)),
      replaceClientProfile(profile, nextProfile, at),
    ],
    audit: {
      actor,
      action: 'kyc.submission.created',
      entity: { type: 'kyc-submission', id: submissionId },
      clientId: profile.clientId,
      before: { kycStatus: profile.kycStatus ?? 'not_started', stage: stageOf(profile) },
      after: {
        submission: submissionView(item),
        kycStatus: nextProfile.kycStatus ?? 'not_started',
        stage: stageOf(nextProfile),
        ...(renewal ? { renewalOf: profile.kyc?.approvedSubmissionId ?? null } : {}),
      },
      requestId,
      newEntity: true,
    },
    outbox: [{ detailType: 'kyc.submission.created', detail: { submissionId, clientId: profile.clientId } }],
    now: () => now,
  });
  return submissionCreatedView(item);
}

/** Awaiting uploads worth a HeadObject when the client looks at its status (still within, or just past, the window). */
const worthConfirming = (d: KycDocumentItem, now: Date) =>
  d.status === 'awaiting_upload' && Date.parse(d.uploadDeadline) + 60 * 60 * 1000 > now.getTime();

/** The caller's verification status (clientKycView) with requirements, what is missing, the ETA and deposit rule. */
export async function kycStatus(caller: Caller, locale: Locale, requestId: string, now = new Date()) {
  const profile = await ownProfile(caller);
  const req = requirementsOf(profile);
  const [stored, submissions, funded] = await Promise.all([
    listClientDocuments(profile.clientId),
    listClientSubmissions(profile.clientId),
    // Only an approved client's next step depends on it ('fund_account' until money arrived).
    profile.kycStatus === 'approved'
      ? listWallets(profile.clientId).then((ws) => ws.some((w) => w.balance.ledger > 0n))
      : Promise.resolve(false),
  ]);
  const actor = actorFrom(caller, CLIENTS);
  const documents: KycDocumentItem[] = [];
  for (const d of stored) documents.push(worthConfirming(d, now) ? (await confirmUpload(d, actor, requestId, now)).doc : d);

  const latest = latestOf(submissions);
  let eta: { minutes: number; basis: string } | undefined;
  if (latest?.status === 'in_review' && latest.review?.status === 'pending') {
    const stats = await reviewQueueStats(now, latest.review.queuedAt);
    eta = estimateReviewEta({
      now,
      queuePosition: stats.queuePosition,
      recentDurationsMinutes: stats.recentDurationsMinutes,
      decisionsLast24h: stats.decisionsLast24h,
    });
  }
  const view = clientKycView({
    now,
    locale,
    profileComplete: stageOf(profile) !== 'registered',
    documents: documents.map(kycDocumentOf),
    submissions: submissions.map(submissionView),
    identityExpiresOn: profile.kyc?.identityExpiresOn,
    expired: profile.kyc?.expiredAt !== undefined,
    eta,
    funded,
  });
  // Something to upload: also for an approved client whose renewal was refused (status stays 'approved').
  const open =
    view.status === 'not_started' ||
    view.status === 'documents_required' ||
    view.status === 'action_required' ||
    view.next.action === 'upload_new_documents' ||
    view.next.action === 'upload_requested_documents';
  const missing = open ? documentsMissing(documents.filter((d) => d.status === 'uploaded').map(submittable), req.documents) : [];
  const rule = req.preVerificationDeposit;
  const preVerificationDeposit =
    rule && view.status !== 'approved'
      ? {
          limit: { ...rule.limit },
          maxDays: rule.maxDays,
          until: new Date(Date.parse(profile.createdAt) + rule.maxDays * 86_400_000).toISOString(),
        }
      : null;
  return { ...view, requirements: requirementsView(req), missing, preVerificationDeposit };
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
      body: await kycStatus(caller!, toLocale(locale), correlationId),
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
    handler: async ({ body, caller, correlationId }) => ({
      status: 201,
      body: await requestDocumentUpload(body, caller!, correlationId),
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
      body: await documentStatus(params.documentId, caller!, toLocale(locale), correlationId),
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
    handler: async ({ body, caller, correlationId }) => ({
      status: 202,
      body: await createSubmission(body, caller!, correlationId),
    }),
  }),
];

export const handler = httpHandler(...routes);
