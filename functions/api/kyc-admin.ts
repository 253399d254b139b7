/**
 * The compliance review queue: GET /v1/admin/kyc/reviews, GET /v1/admin/kyc/reviews/{reviewId}
 * (compliance and admin) and POST /v1/admin/kyc/reviews/{reviewId}/decision (compliance only).
 * A review's id is its submission's id. Each route parses, checks the role and calls one use case
 * (functions/app/kyc/list-reviews.ts, get-review.ts, decide-review.ts); the views below present them.
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
 * - a submission is decided once: the decision is applied by functions/app/kyc/decisions.ts applyKycDecision in
 *   ONE commit (submission, files, profile, expiry watch, audit 'kyc.submission.decided', outbox), which
 *   refuses a final submission; of two concurrent decisions exactly one succeeds, the other gets 409
 *   review_already_decided
 * - the waiting state machine is resumed only AFTER the decision committed (functions/app/kyc/callbacks.ts
 *   resumeDecidedReview, through the workflow port): SendTaskSuccess with the token of the version the decision committed over (the
 *   item applyKycDecision returns, not the route's earlier read: AwaitReview may have swapped the token in
 *   between) and output { submissionId, decision: <outcome> }, retried (RETRY_POLICIES.workflowCallback). The decision
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
import * as z from 'zod';
import { decideReview } from '#app/kyc/decide-review.ts';
import { getReview, type ReviewDetail as ReviewDetailResult } from '#app/kyc/get-review.ts';
import { listReviews, type ReviewQueueItem } from '#app/kyc/list-reviews.ts';
import type { Role } from '#domain/identity/roles.ts';
import { epochDay } from '#domain/kyc/dates.ts';
import { ISSUE_CATALOGUE, type Locale } from '#domain/kyc/decision.ts';
import { REVIEW_REASON_CODES, REVIEW_REASONS } from '#domain/kyc/review-reasons.ts';
import type { ReviewDecisionKind, SubmissionDecision } from '#domain/kyc/submission.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, pageBody } from './shared/pages.ts';

const READERS: readonly Role[] = ['compliance', 'admin'];
const DECIDERS: readonly Role[] = ['compliance'];

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

// ------------------------------------------------------------------------------------------------ views

const catalogueLocale = (locale: string): Locale => {
  const l = locale.toLowerCase().split('-')[0];
  return l === 'de' || l === 'es' ? l : 'en';
};

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

function queueItemView({ submission: s, timing, clientName, country }: ReviewQueueItem) {
  const { status, priority, queuedAt, ageMinutes, slaHours, slaBreached, decidedAt } = timing;
  return {
    reviewId: s.submissionId,
    clientId: s.clientId,
    clientName,
    country,
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

function reviewDetailView(r: ReviewDetailResult, requestLocale: string) {
  const s = r.submission;
  const locale = catalogueLocale(requestLocale);
  const { status, priority, queuedAt, ageMinutes, slaHours, slaBreached, decidedAt } = r.timing;
  return {
    reviewId: s.submissionId,
    submissionId: s.submissionId,
    clientId: s.clientId,
    submissionStatus: s.status,
    review: { status, priority, queuedAt, ageMinutes, slaHours, slaBreached, ...(decidedAt ? { decidedAt } : {}) },
    client: r.client,
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
    comparison: r.comparison,
    analysisFailures: r.analysisFailures,
    documents: r.documents,
    timeline: s.timeline,
    ...(s.decision ? { decision: decisionView(s.decision) } : {}),
    reasonCatalogue: reasonCatalogue(),
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
    handler: async ({ query, correlationId, locale }) => ({
      status: 200,
      body: pageBody(await listReviews(query, { requestId: correlationId, locale }), queueItemView),
    }),
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
      body: reviewDetailView(
        await getReview({ reviewId: params.reviewId }, caller!, { requestId: correlationId, locale }),
        locale,
      ),
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
    handler: async ({ params, body, caller, correlationId, locale }) => {
      const r = await decideReview({ reviewId: params.reviewId, ...body }, caller!, { requestId: correlationId, locale });
      return { status: 200, body: { reviewId: r.reviewId, status: r.status, decision: decisionView(r.decision) } };
    },
  }),
];

export const handler = httpHandler(...routes);
