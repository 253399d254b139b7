/**
 * The compliance review queue: GET /v1/admin/kyc/reviews, GET /v1/admin/kyc/reviews/{reviewId}
 * (compliance and admin) and POST /v1/admin/kyc/reviews/{reviewId}/decision (compliance only).
 * A review's id is its submission's id; the queue is gsi2 (store/kyc-reviews.ts).
 *
 * Invariants:
 * - the queue lists pending reviews oldest first (queuedAt) and decided ones newest first (decidedAt).
 *   High-priority reviews are NOT moved to the front across pages (the index is ordered by time only):
 *   each item carries `priority` so the UI can filter or highlight them. SLA: a review older than the
 *   tenant's kyc.reviewSlaHours is `slaBreached` (for a decided review: decided after the SLA)
 * - reading a review shows PII (extracted fields, registration data, document links), so every read
 *   writes one audit item 'kyc.review.viewed' (who looked, when, at which files) in one commit with no
 *   other change, BEFORE the data is returned: a read whose audit cannot be written returns nothing
 * - document links are presigned GETs valid for DOCUMENT_URL_TTL_SECONDS (300 s), shown inline, of the S3
 *   version recorded when the upload was confirmed (when the bucket gave one); the bucket stays private
 *   and the links are never stored or logged
 * - the Step Functions task token never leaves the server (it is read from the submission, used for
 *   the callback and never put in a response, an audit item or a log line)
 * - a decision is checked completely before anything is written: the body (strict schema), the
 *   reasons (domain/kyc/review-reasons.ts validateReviewDecision: 400 reasons_required, unknown_reason,
 *   reason_not_allowed, note_required), the review (404 review_not_found; 409 review_not_pending while
 *   the submission is still being processed; 409 review_already_decided once it is final) and the
 *   files (400 document_not_in_submission for a file of another submission; 400
 *   document_ids_not_allowed on an approval) and the expiry date an approval watches (the identity
 *   extraction's, or the officer's identityExpiresOn, which corrects it: 400 expiry_date_required when
 *   neither exists, identity_document_expired for a past date, expiry_date_not_allowed on a rejection or
 *   request). Any of these leaves everything unchanged
 * - a submission is decided once: the decision is applied by store/kyc-decision.ts applyKycDecision in
 *   ONE commit (submission, files, profile, expiry watch, audit 'kyc.submission.decided', outbox), which
 *   refuses a final submission; of two concurrent decisions exactly one succeeds, the other gets 409
 *   review_already_decided
 * - the waiting state machine is resumed only AFTER the decision committed (steps/kyc-callback.ts
 *   resumeDecidedReview): SendTaskSuccess with the token of the version the decision committed over (the
 *   item applyKycDecision returns, not the route's earlier read: AwaitReview may have swapped the token in
 *   between) and output { submissionId, decision: <outcome> }, retried CALLBACK_ATTEMPTS times. The decision
 *   commit keeps the token with callbackPending; once the callback went through (or TaskTimedOut /
 *   InvalidToken / TaskDoesNotExist: nothing waits) both are cleared. Exhausted retries, or a crash after
 *   the commit, leave them set and the kyc-watchdog job sends the same callback later. None of this ever
 *   undoes the decision: it stands, a warning (error for exhausted retries) is logged with ids and the
 *   error name only, and the call still answers 200. The kyc-finalize step is idempotent (it reads the
 *   stored decision), so a resumed, re-sent or re-driven execution cannot decide twice
 * - a submission the kyc-watchdog job gave up on (executionStalledAt) is queued without a token: it is
 *   decided like any review and no callback is sent
 * - role checks are the middleware's: clients, partners and other staff get 403 forbidden_role; admins
 *   read the queue but cannot decide
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as z from 'zod';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { checkAddressProof, checkName } from '#domain/kyc/checks.ts';
import { epochDay } from '#domain/kyc/dates.ts';
import { ISSUE_CATALOGUE, type Locale } from '#domain/kyc/decision.ts';
import { classifyExpiry } from '#domain/kyc/expiry.ts';
import { type ExtractedAddressProof, type ExtractedIdentity, toIso2 } from '#domain/kyc/model.ts';
import { REVIEW_REASON_CODES, REVIEW_REASONS, validateReviewDecision } from '#domain/kyc/review-reasons.ts';
import {
  isFinalSubmissionStatus,
  type ReviewDecisionKind,
  type SubmissionDecision,
  submissionDocumentIds,
} from '#domain/kyc/submission.ts';
import type { Role } from '#functions/manifest.ts';
import { resumeDecidedReview } from '#functions/steps/kyc-callback.ts';
import { type Caller, defineRoute, httpHandler } from '#middleware/http.ts';
import { s3 } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { type ClientProfileItem, getClientProfile, registrationProfileOf } from '#store/clients.ts';
import { getKycDocuments, getKycExtractions, getKycSubmission, type KycSubmissionItem } from '#store/kyc.ts';
import { applyKycDecision } from '#store/kyc-decision.ts';
import { listReviews } from '#store/kyc-reviews.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';

const READERS: readonly Role[] = ['compliance', 'admin'];
const DECIDERS: readonly Role[] = ['compliance'];
const ENTITY = 'kyc-submission';

/** How long a document link in the review detail works. */
export const DOCUMENT_URL_TTL_SECONDS = 300;

const OUTCOME: Record<ReviewDecisionKind, SubmissionDecision['outcome']> = {
  approve: 'approved',
  reject: 'rejected',
  request_documents: 'documents_requested',
};

// ------------------------------------------------------------------------------------------------ schemas

const ReviewId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/);
export const ReviewParams = z.strictObject({ reviewId: ReviewId });

const STATUSES = ['pending', 'decided'] as const;
export const ListReviewsQuery = z.strictObject({
  status: z
    .string()
    .refine((s) => (STATUSES as readonly string[]).includes(s), {
      message: `status must be one of ${STATUSES.join(', ')}`,
      params: { code: 'invalid_status' },
    })
    .transform((s) => s as (typeof STATUSES)[number])
    .default('pending'),
  limit: limitParam(100, 50),
  cursor: cursorParam.optional(),
});

export const ReviewDecisionBody = z.strictObject({
  decision: z.enum(['approve', 'reject', 'request_documents']),
  reasons: z.array(z.string().min(1).max(64)).max(10),
  note: z.string().trim().min(1).max(2000).optional(),
  /** The files to upload again (reject / request_documents); absent or empty = the whole submission. */
  documentIds: z.array(ReviewId).max(10).optional(),
  /**
   * Approve only: the identity document's expiry date (YYYY-MM-DD) as the officer read it. Required when the
   * analysis read none (400 expiry_date_required); otherwise it corrects the extracted one.
   */
  identityExpiresOn: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'must be a date YYYY-MM-DD' })
    .refine((d) => epochDay(d) !== undefined, { message: 'must be a real calendar date' })
    .optional(),
});
export type ReviewDecisionInput = z.infer<typeof ReviewDecisionBody>;

const DecisionView = z.object({
  outcome: z.enum(['approved', 'rejected', 'documents_requested']),
  decidedBy: z.string(),
  decidedAt: z.string(),
  reasons: z.array(z.string()),
  note: z.string().optional(),
  documentIds: z.array(z.string()),
  canResubmit: z.boolean(),
});

const QueueItem = z.object({
  reviewId: z.string(),
  clientId: z.string(),
  clientName: z.string().nullable(),
  country: z.string().nullable(),
  priority: z.enum(['high', 'normal']),
  status: z.enum(['pending', 'decided']),
  queuedAt: z.string(),
  ageMinutes: z.number().int(),
  slaHours: z.number().int(),
  slaBreached: z.boolean(),
  flags: z.array(z.string()),
  decidedAt: z.string().optional(),
  decision: DecisionView.optional(),
});

const ComparisonRow = z.object({
  source: z.enum(['identity', 'address_proof']),
  field: z.string(),
  extracted: z.string().nullable(),
  registered: z.string().nullable(),
  /** Present only where the two are comparable. */
  match: z.boolean().optional(),
  /** The analyser's confidence (0..100) for the extracted value. */
  confidence: z.number().optional(),
});

const ReviewDetail = z.object({
  reviewId: z.string(),
  submissionId: z.string(),
  clientId: z.string(),
  submissionStatus: z.string(),
  review: QueueItem.omit({ reviewId: true, clientId: true, clientName: true, country: true, flags: true, decision: true }),
  client: z
    .object({
      firstName: z.string(),
      lastName: z.string(),
      dateOfBirth: z.string(),
      countryOfResidence: z.string(),
      kycStatus: z.string(),
    })
    .nullable(),
  flags: z.array(
    z.object({
      code: z.string(),
      severity: z.enum(['hard', 'review']),
      field: z.string().optional(),
      evidence: z.record(z.string(), z.unknown()),
      suggestedAction: z.string(),
      confidential: z.boolean(),
      clientMessage: z.string(),
    }),
  ),
  comparison: z.array(ComparisonRow),
  analysisFailures: z.array(z.object({ unit: z.enum(['identity', 'address']), error: z.string() })),
  documents: z.array(
    z.object({
      documentId: z.string(),
      category: z.string(),
      documentType: z.string(),
      side: z.enum(['front', 'back']).optional(),
      contentType: z.string(),
      size: z.number().optional(),
      status: z.string(),
      url: z.string(),
      urlExpiresInSeconds: z.number(),
    }),
  ),
  timeline: z.array(z.object({ step: z.string(), at: z.string(), detail: z.record(z.string(), z.unknown()).optional() })),
  decision: DecisionView.optional(),
  reasonCatalogue: z.record(
    z.enum(['approve', 'reject', 'request_documents']),
    z.array(z.object({ code: z.string(), category: z.string().optional(), final: z.boolean(), confidential: z.boolean() })),
  ),
});

const DecisionResult = z.object({
  reviewId: z.string(),
  status: z.enum(['approved', 'rejected', 'documents_requested']),
  decision: DecisionView,
});

// ---------------------------------------------------------------------------------------------- helpers

const reviewNotFound = () => new DomainError('review_not_found', 'not_found', 'No review with this id');
const reviewNotPending = () =>
  new DomainError('review_not_pending', 'conflict', 'This submission is still being processed; it has no open review yet');
const reviewAlreadyDecided = () =>
  new DomainError('review_already_decided', 'conflict', 'This submission has already been decided');

const catalogueLocale = (locale: string): Locale => {
  const l = locale.toLowerCase().split('-')[0];
  return l === 'de' || l === 'es' ? l : 'en';
};

const minutesBetween = (from: string, to: number) => Math.max(0, Math.floor((to - Date.parse(from)) / 60_000));

/** Age and SLA of a review: pending ones age until now, decided ones are measured to their decision. */
function reviewTiming(s: KycSubmissionItem, now: Date) {
  const r = s.review!;
  const slaHours = tenantConfig().kyc.reviewSlaHours;
  const end = r.status === 'decided' && r.decidedAt ? Date.parse(r.decidedAt) : now.getTime();
  const ageMinutes = minutesBetween(r.queuedAt, end);
  return {
    status: r.status,
    priority: r.priority,
    queuedAt: r.queuedAt,
    ageMinutes,
    slaHours,
    slaBreached: ageMinutes > slaHours * 60,
    ...(r.decidedAt ? { decidedAt: r.decidedAt } : {}),
  };
}

function decisionView(d: SubmissionDecision) {
  return {
    outcome: d.outcome,
    decidedBy: d.decidedBy,
    decidedAt: d.decidedAt,
    reasons: [...d.reasons],
    ...(d.note !== undefined ? { note: d.note } : {}),
    documentIds: [...d.documentIds],
    canResubmit: d.canResubmit,
  };
}

// ------------------------------------------------------------------------------------------------- queue

export async function listReviewQueue(q: z.infer<typeof ListReviewsQuery>, now = new Date()) {
  const page = await listReviews({ status: q.status, limit: q.limit, cursor: q.cursor });
  const clientIds = [...new Set(page.items.map((s) => s.clientId))];
  const profiles = new Map(
    (await Promise.all(clientIds.map((id) => getClientProfile(id)))).flatMap((p) => (p ? [[p.clientId, p] as const] : [])),
  );
  const items = page.items
    .filter((s) => s.review)
    .map((s) => {
      const p = profiles.get(s.clientId);
      const { status, priority, queuedAt, ageMinutes, slaHours, slaBreached, decidedAt } = reviewTiming(s, now);
      return {
        reviewId: s.submissionId,
        clientId: s.clientId,
        clientName: p ? `${p.firstName} ${p.lastName}` : null,
        country: p?.countryOfResidence ?? null,
        priority,
        status,
        queuedAt,
        ageMinutes,
        slaHours,
        slaBreached,
        flags: (s.checks?.issues ?? []).map((i) => i.code),
        ...(decidedAt ? { decidedAt } : {}),
        ...(s.decision ? { decision: decisionView(s.decision) } : {}),
      };
    });
  return { items, hasMore: page.hasMore, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
}

// ------------------------------------------------------------------------------------------------ detail

type Row = z.infer<typeof ComparisonRow>;

const conf = (c: Record<string, number>, ...fields: string[]) => {
  const values = fields.map((f) => c[f]).filter((v): v is number => typeof v === 'number');
  return values.length === fields.length ? { confidence: Math.min(...values) } : {};
};

/** Extracted identity fields beside the registration data. */
function identityRows(doc: ExtractedIdentity, p: ClientProfileItem | undefined): Row[] {
  const reg = p ? registrationProfileOf(p) : undefined;
  const c = doc.fieldConfidence ?? {};
  const hasName = Boolean(doc.givenNames || doc.surname);
  const extractedName = hasName ? [doc.givenNames, doc.surname].filter(Boolean).join(' ') : null;
  const nationality = p?.personalDetails?.nationality;
  const rows: Row[] = [
    { source: 'identity', field: 'documentType', extracted: doc.documentType, registered: null },
    {
      source: 'identity',
      field: 'documentNumber',
      extracted: doc.documentNumber ?? null,
      registered: null,
      ...conf(c, 'documentNumber'),
    },
    {
      source: 'identity',
      field: 'name',
      extracted: extractedName,
      registered: reg ? `${reg.givenNames} ${reg.surname}` : null,
      ...(reg && hasName ? { match: checkName(doc, reg, tenantConfig().kyc.nameThreshold).length === 0 } : {}),
      ...conf(c, 'givenNames', 'surname'),
    },
    {
      source: 'identity',
      field: 'dateOfBirth',
      extracted: doc.dateOfBirth ?? null,
      registered: reg?.dateOfBirth ?? null,
      ...(reg && doc.dateOfBirth ? { match: doc.dateOfBirth === reg.dateOfBirth } : {}),
      ...conf(c, 'dateOfBirth'),
    },
    {
      source: 'identity',
      field: 'nationality',
      extracted: doc.nationality ?? null,
      registered: nationality ?? null,
      ...(doc.nationality && nationality ? { match: toIso2(doc.nationality) === toIso2(nationality) } : {}),
      ...conf(c, 'nationality'),
    },
    // The issuing country need not be the country of residence: shown side by side, not compared.
    {
      source: 'identity',
      field: 'issuingCountry',
      extracted: doc.issuingCountry ?? null,
      registered: reg?.country ?? null,
      ...conf(c, 'issuingCountry'),
    },
    { source: 'identity', field: 'expiryDate', extracted: doc.expiryDate ?? null, registered: null, ...conf(c, 'expiryDate') },
  ];
  return rows;
}

/** Extracted proof-of-address fields beside the registered address (match as the address check sees it). */
function addressRows(proof: ExtractedAddressProof, p: ClientProfileItem | undefined, now: Date): Row[] {
  const reg = p ? registrationProfileOf(p) : undefined;
  const c = proof.fieldConfidence ?? {};
  const comparable = reg?.address !== undefined;
  const mismatch = comparable ? checkAddressProof(proof, reg!, { now }).find((i) => i.code === 'address_mismatch') : undefined;
  const mismatched = new Set(((mismatch?.evidence as { fields?: string[] } | undefined)?.fields ?? []) as string[]);
  const match = (field: string, present: boolean) => (comparable && present ? { match: !mismatched.has(field) } : {});
  return [
    {
      source: 'address_proof',
      field: 'nameOnDocument',
      extracted: proof.nameOnDocument ?? null,
      registered: reg ? `${reg.givenNames} ${reg.surname}` : null,
      ...match('nameOnDocument', Boolean(proof.nameOnDocument)),
      ...conf(c, 'nameOnDocument'),
    },
    {
      source: 'address_proof',
      field: 'addressLines',
      extracted: proof.addressLines?.length ? proof.addressLines.join(', ') : null,
      registered: reg?.address ? reg.address.lines.join(', ') : null,
      ...match('addressLines', Boolean(proof.addressLines?.length)),
      ...conf(c, 'addressLines'),
    },
    {
      source: 'address_proof',
      field: 'postalCode',
      extracted: proof.postalCode ?? null,
      registered: reg?.address?.postalCode ?? null,
      ...match('postalCode', proof.postalCode !== undefined),
      ...conf(c, 'postalCode'),
    },
    {
      source: 'address_proof',
      field: 'country',
      extracted: proof.country ?? null,
      registered: reg?.address?.country ?? reg?.country ?? null,
      ...match('country', proof.country !== undefined),
      ...conf(c, 'country'),
    },
    {
      source: 'address_proof',
      field: 'issueDate',
      extracted: proof.issueDate ?? null,
      registered: null,
      ...conf(c, 'issueDate'),
    },
  ];
}

function reasonCatalogue() {
  const out: Record<ReviewDecisionKind, { code: string; category?: string; final: boolean; confidential: boolean }[]> = {
    approve: [],
    reject: [],
    request_documents: [],
  };
  for (const code of REVIEW_REASON_CODES) {
    const r = REVIEW_REASONS[code];
    for (const d of r.decisions) {
      out[d].push({ code, ...(r.category ? { category: r.category } : {}), final: r.final, confidential: r.confidential });
    }
  }
  return out;
}

/** A short-lived link to the file as checked at upload (its recorded S3 version, when the bucket gave one). */
async function presignedGet(s3Key: string, contentType: string, versionId: string | undefined): Promise<string> {
  return getSignedUrl(
    s3(),
    new GetObjectCommand({
      Bucket: env.documentsBucket,
      Key: s3Key,
      ...(versionId ? { VersionId: versionId } : {}),
      ResponseContentDisposition: 'inline',
      ResponseContentType: contentType,
    }),
    { expiresIn: DOCUMENT_URL_TTL_SECONDS },
  );
}

export async function reviewDetail(reviewId: string, caller: Caller, ctx: { requestId: string; locale: string }) {
  const now = new Date();
  const s = await getKycSubmission(reviewId);
  if (!s?.review) throw reviewNotFound();
  const fileIds = submissionDocumentIds(s);
  const [profile, extractions, files] = await Promise.all([
    getClientProfile(s.clientId),
    getKycExtractions(s.submissionId),
    getKycDocuments(fileIds),
  ]);
  const locale = catalogueLocale(ctx.locale);

  const comparison: Row[] = [];
  const analysisFailures: { unit: 'identity' | 'address'; error: string }[] = [];
  for (const unit of ['identity', 'address'] as const) {
    const e = extractions.find((x) => x.unit === unit);
    if (e?.failure) analysisFailures.push({ unit, error: e.failure.error });
    if (unit === 'identity' && e?.identity) comparison.push(...identityRows(e.identity, profile));
    if (unit === 'address' && e?.addressProof) comparison.push(...addressRows(e.addressProof, profile, now));
  }

  const documents = await Promise.all(
    fileIds.flatMap((id) => {
      const f = files.get(id);
      if (!f) return [];
      return [
        presignedGet(f.s3Key, f.contentType, f.versionId).then((url) => ({
          documentId: f.documentId,
          category: f.category,
          documentType: f.documentType,
          ...(f.side ? { side: f.side } : {}),
          contentType: f.contentType,
          ...(f.size !== undefined ? { size: f.size } : {}),
          status: f.status,
          url,
          urlExpiresInSeconds: DOCUMENT_URL_TTL_SECONDS,
        })),
      ];
    }),
  );

  // Who looked at this client's PII, and when: written before anything is returned.
  await commit({
    writes: [],
    audit: {
      actor: actorFrom(caller, READERS),
      action: 'kyc.review.viewed',
      entity: { type: ENTITY, id: s.submissionId },
      clientId: s.clientId,
      before: null,
      after: null,
      evidence: {
        reviewStatus: s.review.status,
        documentIds: documents.map((d) => d.documentId),
        urlExpiresInSeconds: DOCUMENT_URL_TTL_SECONDS,
      },
      requestId: ctx.requestId,
    },
    now: () => now,
  });

  const { status, priority, queuedAt, ageMinutes, slaHours, slaBreached, decidedAt } = reviewTiming(s, now);
  return {
    reviewId: s.submissionId,
    submissionId: s.submissionId,
    clientId: s.clientId,
    submissionStatus: s.status,
    review: { status, priority, queuedAt, ageMinutes, slaHours, slaBreached, ...(decidedAt ? { decidedAt } : {}) },
    client: profile
      ? {
          firstName: profile.firstName,
          lastName: profile.lastName,
          dateOfBirth: profile.dateOfBirth,
          countryOfResidence: profile.countryOfResidence,
          kycStatus: profile.kycStatus ?? 'not_started',
        }
      : null,
    flags: (s.checks?.issues ?? []).map((i) => {
      const entry = ISSUE_CATALOGUE[i.code];
      return {
        code: i.code,
        severity: i.severity,
        ...(i.field !== undefined ? { field: i.field } : {}),
        evidence: i.evidence,
        suggestedAction: i.suggestedAction,
        confidential: entry?.confidential ?? false,
        clientMessage: entry?.clientMessage[locale] ?? '',
      };
    }),
    comparison,
    analysisFailures,
    documents,
    timeline: s.timeline,
    ...(s.decision ? { decision: decisionView(s.decision) } : {}),
    reasonCatalogue: reasonCatalogue(),
  };
}

// ---------------------------------------------------------------------------------------------- decision

/**
 * The expiry date an approval watches: the officer's (body.identityExpiresOn) or the identity extraction's.
 * 400 expiry_date_not_allowed (a date on a rejection or request), expiry_date_required (an approval with
 * neither: without a date the approval could never expire), identity_document_expired (a date in the past).
 */
async function approvalExpiry(
  submissionId: string,
  body: ReviewDecisionInput,
): Promise<{ value: string; source: 'reviewer' | 'extraction' } | undefined> {
  const given = body.identityExpiresOn;
  if (body.decision !== 'approve') {
    if (given === undefined) return undefined;
    throw new DomainError('expiry_date_not_allowed', 'validation', 'Only an approval records the expiry date', [
      { field: 'identityExpiresOn', code: 'expiry_date_not_allowed', message: 'only for approve' },
    ]);
  }
  if (given !== undefined) {
    if (classifyExpiry(given, new Date()) === 'expired') {
      throw new DomainError('identity_document_expired', 'validation', 'The identity document has expired', [
        { field: 'identityExpiresOn', code: 'identity_document_expired', message: 'the date has passed' },
      ]);
    }
    return { value: given, source: 'reviewer' };
  }
  const identity = (await getKycExtractions(submissionId)).find((e) => e.unit === 'identity' && !e.failure)?.identity;
  if (identity?.expiryDate) return { value: identity.expiryDate, source: 'extraction' };
  throw new DomainError(
    'expiry_date_required',
    'validation',
    "The identity document's expiry date could not be read; give it (identityExpiresOn) to approve",
    [{ field: 'identityExpiresOn', code: 'expiry_date_required', message: 'required: no expiry date was extracted' }],
  );
}

export async function decideReview(reviewId: string, body: ReviewDecisionInput, caller: Caller, requestId: string) {
  const { canResubmit } = validateReviewDecision(body.decision, body.reasons, body.note);
  const s = await getKycSubmission(reviewId);
  if (!s) throw reviewNotFound();
  if (!s.review) {
    // Decided automatically (never queued) or still being processed (not queued yet).
    if (isFinalSubmissionStatus(s.status)) throw reviewNotFound();
    throw reviewNotPending();
  }
  if (s.review.status !== 'pending' || isFinalSubmissionStatus(s.status)) throw reviewAlreadyDecided();
  if (s.status !== 'in_review') throw reviewNotPending();

  const documentIds = [...new Set(body.documentIds ?? [])];
  if (body.decision === 'approve' && documentIds.length > 0) {
    throw new DomainError('document_ids_not_allowed', 'validation', 'An approval names no files to upload again', [
      { field: 'documentIds', code: 'document_ids_not_allowed', message: 'only for reject or request_documents' },
    ]);
  }
  const expiry = await approvalExpiry(s.submissionId, body);
  const own = new Set(submissionDocumentIds(s));
  const foreign = documentIds.filter((id) => !own.has(id));
  if (foreign.length > 0) {
    throw new DomainError(
      'document_not_in_submission',
      'validation',
      'Some files are not part of this submission',
      foreign.map((id) => ({ field: 'documentIds', code: 'document_not_in_submission', message: id })),
    );
  }

  const outcome = OUTCOME[body.decision];
  let decided: KycSubmissionItem;
  try {
    decided = await applyKycDecision({
      submissionId: s.submissionId,
      decision: {
        outcome,
        decidedBy: caller.sub,
        reasons: [...body.reasons],
        ...(body.note !== undefined ? { note: body.note } : {}),
        documentIds,
        canResubmit,
      },
      actor: actorFrom(caller, DECIDERS),
      requestId,
      ...(expiry?.source === 'reviewer' ? { identityExpiresOn: expiry.value } : {}),
    });
  } catch (err) {
    if (isDomainError(err) && err.code === 'submission_not_found') throw reviewNotFound();
    throw err;
  }

  // The token of the version the decision committed over (`decided`), not of the read above: AwaitReview may
  // have been retried in between (kyc-open-review swaps the token), and only the newest token is waited on.
  if (decided.taskToken) await resumeDecidedReview(decided);
  else if (s.executionStalledAt)
    logger.info('kyc review of a stalled submission decided; no execution waits', { reviewId: s.submissionId });
  else logger.warn('kyc review decided without a task token', { reviewId: s.submissionId });

  return {
    reviewId: s.submissionId,
    status: decided.status as SubmissionDecision['outcome'],
    decision: decisionView(decided.decision!),
  };
}

// ------------------------------------------------------------------------------------------------ routes

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/kyc/reviews',
    operationId: 'listKycReviews',
    summary: 'The KYC review queue: pending reviews oldest first (default), or decided ones newest first',
    tags: ['compliance'],
    auth: READERS,
    query: ListReviewsQuery,
    responses: {
      200: {
        description: 'A page of reviews (not re-sorted by priority across pages)',
        schema: z.object({ items: z.array(QueueItem), nextCursor: z.string().optional(), hasMore: z.boolean() }),
      },
      400: { description: 'invalid_status, invalid_cursor' },
    },
    handler: async ({ query }) => ({ status: 200, body: await listReviewQueue(query) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/kyc/reviews/{reviewId}',
    operationId: 'getKycReview',
    summary: 'One review with its flags, extracted vs registered data and short-lived document links (audited read)',
    tags: ['compliance'],
    auth: READERS,
    params: ReviewParams,
    responses: {
      200: { description: 'The review', schema: ReviewDetail },
      404: { description: 'review_not_found' },
    },
    handler: async ({ params, caller, correlationId, locale }) => ({
      status: 200,
      body: await reviewDetail(params.reviewId, caller!, { requestId: correlationId, locale }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/admin/kyc/reviews/{reviewId}/decision',
    operationId: 'decideKycReview',
    summary: 'Approve, reject or request new documents for a pending review; resumes the waiting state machine',
    tags: ['compliance'],
    auth: DECIDERS,
    params: ReviewParams,
    body: ReviewDecisionBody,
    idempotency: 'optional',
    responses: {
      200: { description: 'Decided', schema: DecisionResult },
      400: {
        description:
          'reasons_required, unknown_reason, reason_not_allowed, note_required, document_not_in_submission, document_ids_not_allowed, expiry_date_required, expiry_date_not_allowed, identity_document_expired',
      },
      404: { description: 'review_not_found' },
      409: { description: 'review_not_pending (still processing), review_already_decided' },
    },
    handler: async ({ params, body, caller, correlationId }) => ({
      status: 200,
      body: await decideReview(params.reviewId, body, caller!, correlationId),
    }),
  }),
];

export const handler = httpHandler(...routes);
