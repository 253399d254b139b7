/**
 * Use case: a compliance officer decides a pending review (POST /v1/admin/kyc/reviews/{reviewId}/decision):
 * approve, reject or request new documents; then the waiting kyc-review execution is resumed.
 *
 * Invariants:
 * - a decision is checked completely before anything is written: the reasons (domain/kyc/review-reasons.ts
 *   validateReviewDecision: reasons_required, unknown_reason, reason_not_allowed, note_required), the review
 *   (404 review_not_found; 409 review_not_pending while the submission is still being processed; 409
 *   review_already_decided once it is final), the files (400 document_not_in_submission for a file of
 *   another submission; 400 document_ids_not_allowed on an approval) and the expiry date an approval
 *   watches (the identity extraction's, or the officer's identityExpiresOn, which corrects it: 400
 *   expiry_date_required when neither exists, identity_document_expired for a past date,
 *   expiry_date_not_allowed on a rejection or request). Any of these leaves everything unchanged
 * - the decision is applied by decisions.ts applyKycDecision in ONE commit, which refuses a final
 *   submission; of two concurrent decisions exactly one succeeds, the other gets 409 review_already_decided
 * - the waiting execution is resumed only AFTER the decision committed (callbacks.ts resumeDecidedReview),
 *   with the token of the version the decision committed over (the item applyKycDecision returns, not the
 *   earlier read: AwaitReview may have swapped the token in between). A failed or lost callback never undoes
 *   the decision: it stands, the callback stays pending for the kyc-watchdog job, and the result is the same
 * - a submission the kyc-watchdog job gave up on (executionStalledAt) has no token: it is decided like any
 *   review and no callback is sent
 * - the decider is the caller (decidedBy, and the audit actor with its compliance role)
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { classifyExpiry } from '#domain/kyc/expiry.ts';
import { validateReviewDecision } from '#domain/kyc/review-reasons.ts';
import {
  isFinalSubmissionStatus,
  type ReviewDecisionKind,
  type SubmissionDecision,
  submissionDocumentIds,
} from '#domain/kyc/submission.ts';
import { logger } from '#shared/powertools.ts';
import { actorFrom } from '#store/audit.ts';
import { getKycExtractions, getKycSubmission, type KycSubmissionItem } from '#store/kyc.ts';
import { resumeDecidedReview } from './callbacks.ts';
import { applyKycDecision, reviewAlreadyDecided } from './decisions.ts';
import { reviewNotFound } from './shared.ts';

export interface ReviewDecisionRequest {
  reviewId: string;
  decision: ReviewDecisionKind;
  reasons: string[];
  note?: string | undefined;
  /** The files to upload again (reject / request_documents); absent or empty = the whole submission. */
  documentIds?: string[] | undefined;
  /** Approve only: the identity document's expiry date (YYYY-MM-DD) as the officer read it. */
  identityExpiresOn?: string | undefined;
}

export interface ReviewDecisionResult {
  reviewId: string;
  status: SubmissionDecision['outcome'];
  decision: SubmissionDecision;
}

const OUTCOME: Record<ReviewDecisionKind, SubmissionDecision['outcome']> = {
  approve: 'approved',
  reject: 'rejected',
  request_documents: 'documents_requested',
};

const reviewNotPending = () =>
  new DomainError('review_not_pending', 'conflict', 'This submission is still being processed; it has no open review yet');

/**
 * The expiry date an approval watches: the officer's (identityExpiresOn) or the identity extraction's.
 * 400 expiry_date_not_allowed (a date on a rejection or request), expiry_date_required (an approval with
 * neither: without a date the approval could never expire), identity_document_expired (a date in the past).
 */
async function approvalExpiry(
  submissionId: string,
  input: ReviewDecisionRequest,
  now: Date,
): Promise<{ value: string; source: 'reviewer' | 'extraction' } | undefined> {
  const given = input.identityExpiresOn;
  if (input.decision !== 'approve') {
    if (given === undefined) return undefined;
    throw new DomainError('expiry_date_not_allowed', 'validation', 'Only an approval records the expiry date', [
      { field: 'identityExpiresOn', code: 'expiry_date_not_allowed', message: 'only for approve' },
    ]);
  }
  if (given !== undefined) {
    if (classifyExpiry(given, now) === 'expired') {
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

export async function decideReview(
  input: ReviewDecisionRequest,
  caller: Caller,
  ctx: CommandContext,
): Promise<ReviewDecisionResult> {
  const { canResubmit } = validateReviewDecision(input.decision, input.reasons, input.note);
  const s = await getKycSubmission(input.reviewId);
  if (!s) throw reviewNotFound();
  if (!s.review) {
    // Decided automatically (never queued) or still being processed (not queued yet).
    if (isFinalSubmissionStatus(s.status)) throw reviewNotFound();
    throw reviewNotPending();
  }
  if (s.review.status !== 'pending' || isFinalSubmissionStatus(s.status)) throw reviewAlreadyDecided();
  if (s.status !== 'in_review') throw reviewNotPending();

  const documentIds = [...new Set(input.documentIds ?? [])];
  if (input.decision === 'approve' && documentIds.length > 0) {
    throw new DomainError('document_ids_not_allowed', 'validation', 'An approval names no files to upload again', [
      { field: 'documentIds', code: 'document_ids_not_allowed', message: 'only for reject or request_documents' },
    ]);
  }
  const expiry = await approvalExpiry(s.submissionId, input, ctx.now ?? new Date());
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

  let decided: KycSubmissionItem;
  try {
    decided = await applyKycDecision({
      submissionId: s.submissionId,
      decision: {
        outcome: OUTCOME[input.decision],
        decidedBy: caller.sub,
        reasons: [...input.reasons],
        ...(input.note !== undefined ? { note: input.note } : {}),
        documentIds,
        canResubmit,
      },
      actor: actorFrom(caller, ['compliance']),
      requestId: ctx.requestId,
      ...(expiry?.source === 'reviewer' ? { identityExpiresOn: expiry.value } : {}),
      ...(ctx.now ? { now: ctx.now } : {}),
    });
  } catch (err) {
    if (isDomainError(err) && err.code === 'submission_not_found') throw reviewNotFound();
    throw err;
  }

  // The token of the version the decision committed over (`decided`), not of the read above: AwaitReview may
  // have been retried in between (open-review swaps the token), and only the newest token is waited on.
  if (decided.taskToken) await resumeDecidedReview(decided);
  else if (s.executionStalledAt)
    logger.info('kyc review of a stalled submission decided; no execution waits', { reviewId: s.submissionId });
  else logger.warn('kyc review decided without a task token', { reviewId: s.submissionId });

  return {
    reviewId: s.submissionId,
    status: decided.status as SubmissionDecision['outcome'],
    decision: decided.decision!,
  };
}
