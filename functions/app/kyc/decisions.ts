/**
 * Applying a KYC decision (automatic, by the finalize-submission use case, or a compliance officer's, by
 * decide-review) to the submission, its files, the client's profile and the expiry watch. Shared by those
 * two use cases; moved here from the store (a decision is business, the store only writes it).
 *
 * Invariants:
 * - a submission is decided exactly once: a final submission (approved | rejected | documents_requested)
 *   is refused with 409 `review_already_decided`, also when a concurrent decision wins the race
 * - everything a decision changes is written in ONE commit(): the submission (status = outcome, the
 *   decision block, review 'decided', timeline 'decided'; a stored task token is KEPT and callbackPending
 *   set, so a callback lost after the commit can be sent again), every file of the
 *   submission (accepted, or rejected with its reasons), the profile (kycStatus, onboarding stage, kyc
 *   block), on approval the expiry watch, the audit item 'kyc.submission.decided' and the outbox event
 *   ('kyc.approved' | 'kyc.rejected' | 'kyc.documents_requested')
 * - every write is conditioned on the version read; a lost race re-reads everything and tries again
 *   (RETRY_POLICIES.decisionConflict), so a decision never overwrites a change it did not see
 * - approval: kycStatus 'approved', stage 'approved', kyc.approvedAt/approvedSubmissionId/identityExpiresOn
 *   (the officer's identityExpiresOn when given, else the identity extraction's expiryDate when one was
 *   read; its source is in the audit evidence) set and kyc.expiredAt cleared;
 *   a final rejection (canResubmit false): 'rejected' / 'rejected'; otherwise 'action_required' and
 *   the stage back to 'profile_completed', so details can be corrected before the next submission
 * - a renewal (the profile's kyc.renewalSubmissionId is this submission) is decided the same way except
 *   that a rejection that may be fixed (canResubmit) or a document request leaves kycStatus, stage and the
 *   earlier approval (approvedAt, approvedSubmissionId, identityExpiresOn, the expiry watch) untouched: the
 *   client stays approved until that document expires. A final rejection closes verification as for any
 *   submission. Every decision of the renewal clears kyc.renewalSubmissionId
 * - on rejection or a document request, the files named in decision.documentIds (all of them when the
 *   list is empty) are 'rejected' with the reasons that concern their category; the others are 'accepted'
 * - the task token never appears in the audit item or an event
 * - applyKycDecision returns the submission as committed: its taskToken is the token of the version the
 *   decision was committed over (the one to resume), whatever an earlier read saw
 * - the token and callbackPending are removed once the callback went through (or the token is gone) by
 *   callbacks.ts resumeDecidedReview (store/kyc.ts clearReviewCallback), never here
 * - nothing here logs: submissions, documents and extractions are PII
 */
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import type { KycStatus, OnboardingStage } from '#domain/identity/onboarding.ts';
import { reasonsForDocument } from '#domain/kyc/review-reasons.ts';
import { isFinalSubmissionStatus, type SubmissionDecision, submissionDocumentIds } from '#domain/kyc/submission.ts';
import { withRetry } from '#shared/retry.ts';
import { commit } from '#store/audit.ts';
import { type ClientProfileItem, getClientProfile, replaceClientProfile } from '#store/clients.ts';
import type { CommitWrite } from '#store/items.ts';
import {
  getKycDocuments,
  getKycExtractions,
  getKycSubmission,
  type KycDocumentItem,
  type KycSubmissionItem,
  kycExpiryItem,
  putKycExpiry,
  replaceKycDocument,
  replaceKycSubmission,
} from '#store/kyc.ts';
import type { OutboxEvent } from '#store/outbox.ts';

export interface KycDecisionInput {
  submissionId: string;
  decision: Omit<SubmissionDecision, 'decidedAt'>;
  actor: AuditActor;
  requestId: string;
  /**
   * Approval only: the identity document's expiry date (YYYY-MM-DD) as a compliance officer read it; used
   * instead of the identity extraction's (which may be missing, e.g. after a failed analysis).
   */
  identityExpiresOn?: string | undefined;
  now?: Date;
}

export const reviewAlreadyDecided = () =>
  new DomainError('review_already_decided', 'conflict', 'This submission has already been decided');

const submissionNotFound = (submissionId: string) =>
  new DomainError('submission_not_found', 'not_found', `No submission ${submissionId}`);

/**
 * The client's profile, read consistently: a version-conditioned write must start from the latest
 * version, or a retry after a lost race could read the same stale item again.
 */
function profileAfter(
  profile: ClientProfileItem,
  submission: KycSubmissionItem,
  decision: SubmissionDecision,
  identityExpiresOn: string | undefined,
): ClientProfileItem {
  const { outcome, canResubmit, decidedAt } = decision;
  let kycStatus: KycStatus;
  let stage: OnboardingStage;
  const renewal = profile.kyc?.renewalSubmissionId === submission.submissionId;
  const { renewalSubmissionId: _renewal, ...kept } = profile.kyc ?? {};
  let kyc = {
    ...(renewal ? kept : profile.kyc),
    currentSubmissionId: profile.kyc?.currentSubmissionId ?? submission.submissionId,
  };
  if (renewal && outcome !== 'approved' && canResubmit) {
    // A refused renewal leaves the earlier approval as it is (the expiry job still acts on its document).
    return { ...profile, kyc };
  }
  if (outcome === 'approved') {
    kycStatus = 'approved';
    stage = 'approved';
    const { expiredAt: _expired, identityExpiresOn: _previous, ...rest } = kyc;
    kyc = {
      ...rest,
      approvedAt: decidedAt,
      approvedSubmissionId: submission.submissionId,
      ...(identityExpiresOn ? { identityExpiresOn } : {}),
    };
  } else if (outcome === 'rejected' && !canResubmit) {
    kycStatus = 'rejected';
    stage = 'rejected';
  } else {
    kycStatus = 'action_required';
    stage = 'profile_completed';
  }
  return { ...profile, kycStatus, onboarding: { ...profile.onboarding, stage }, kyc };
}

function documentAfter(doc: KycDocumentItem, decision: SubmissionDecision, rejectedIds: ReadonlySet<string>): KycDocumentItem {
  const { rejectionReasons: _old, ...rest } = doc;
  if (decision.outcome === 'approved' || !rejectedIds.has(doc.documentId)) return { ...rest, status: 'accepted' };
  return { ...rest, status: 'rejected', rejectionReasons: reasonsForDocument(decision.reasons, doc.category) };
}

function outboxEvent(
  profile: ClientProfileItem,
  submission: KycSubmissionItem,
  decision: SubmissionDecision,
  identityExpiresOn: string | undefined,
): OutboxEvent {
  const ids = { clientId: submission.clientId, submissionId: submission.submissionId };
  if (decision.outcome === 'approved') {
    return {
      detailType: 'kyc.approved',
      detail: {
        ...ids,
        approvedAt: decision.decidedAt,
        jurisdiction: profile.jurisdiction,
        identityExpiresOn: identityExpiresOn ?? null,
      },
    };
  }
  if (decision.outcome === 'rejected') {
    return {
      detailType: 'kyc.rejected',
      detail: { ...ids, canResubmit: decision.canResubmit, reasons: [...decision.reasons] },
    };
  }
  return {
    detailType: 'kyc.documents_requested',
    detail: { ...ids, reasons: [...decision.reasons], documentIds: [...decision.documentIds] },
  };
}

/** The officer's expiry date, for an approval only. */
const reviewerExpiry = (input: KycDecisionInput) => (input.decision.outcome === 'approved' ? input.identityExpiresOn : undefined);

async function attempt(input: KycDecisionInput, now: Date): Promise<KycSubmissionItem> {
  const submission = await getKycSubmission(input.submissionId);
  if (!submission) throw submissionNotFound(input.submissionId);
  if (isFinalSubmissionStatus(submission.status)) throw reviewAlreadyDecided();
  const profile = await getClientProfile(submission.clientId, { consistent: true });
  if (!profile) throw new DomainError('profile_not_found', 'not_found', 'No profile exists for this client');

  const at = now.toISOString();
  const fileIds = submissionDocumentIds(submission);
  const [documents, extractions] = await Promise.all([getKycDocuments(fileIds), getKycExtractions(submission.submissionId)]);
  const extracted = extractions.find((e) => e.unit === 'identity')?.identity?.expiryDate;
  const identityExpiresOn = reviewerExpiry(input) ?? extracted;

  const d = input.decision;
  const decision: SubmissionDecision = {
    outcome: d.outcome,
    decidedBy: d.decidedBy,
    decidedAt: at,
    reasons: [...d.reasons],
    ...(d.note !== undefined ? { note: d.note } : {}),
    documentIds: [...d.documentIds],
    canResubmit: d.canResubmit,
  };

  // The task token is kept until the waiting execution has been resumed (clearReviewCallback): if the
  // callback is lost after this commit, the kyc-watchdog job finds callbackPending and sends it again.
  const nextSubmission: KycSubmissionItem = {
    ...submission,
    ...(submission.taskToken ? { callbackPending: true as const } : {}),
    status: d.outcome,
    decision,
    ...(submission.review ? { review: { ...submission.review, status: 'decided', decidedAt: at } } : {}),
    timeline: [...submission.timeline, { step: 'decided', at, detail: { outcome: d.outcome } }],
  };
  const rejectedIds = new Set(d.documentIds.length > 0 ? d.documentIds : fileIds);
  const documentChanges = fileIds.flatMap((id) => {
    const doc = documents.get(id);
    return doc ? [{ read: doc, next: documentAfter(doc, decision, rejectedIds) }] : [];
  });
  const nextProfile = profileAfter(profile, submission, decision, identityExpiresOn);

  const submissionWrite = replaceKycSubmission(submission, nextSubmission, at);
  const writes: CommitWrite[] = [
    submissionWrite,
    ...documentChanges.map((c) => replaceKycDocument(c.read, c.next, at)),
    replaceClientProfile(profile, nextProfile, at),
  ];
  if (d.outcome === 'approved' && identityExpiresOn) {
    writes.push(
      putKycExpiry(
        kycExpiryItem({ clientId: submission.clientId, submissionId: submission.submissionId, identityExpiresOn }, at),
      ),
    );
  }

  await commit({
    writes,
    audit: {
      actor: input.actor,
      action: 'kyc.submission.decided',
      entity: { type: 'kyc-submission', id: submission.submissionId },
      clientId: submission.clientId,
      before: {
        status: submission.status,
        review: submission.review ?? null,
        kycStatus: profile.kycStatus ?? 'not_started',
        stage: profile.onboarding?.stage ?? 'registered',
      },
      after: {
        status: nextSubmission.status,
        decision,
        review: nextSubmission.review ?? null,
        kycStatus: nextProfile.kycStatus,
        stage: nextProfile.onboarding.stage,
        kyc: nextProfile.kyc ?? null,
        documents: documentChanges.map((c) => ({
          documentId: c.next.documentId,
          status: c.next.status,
          ...(c.next.rejectionReasons ? { rejectionReasons: c.next.rejectionReasons } : {}),
        })),
      },
      evidence: {
        reasons: decision.reasons,
        note: decision.note ?? null,
        issues: submission.checks?.issues ?? [],
        ...(d.outcome === 'approved'
          ? {
              identityExpiresOn: identityExpiresOn
                ? { value: identityExpiresOn, source: reviewerExpiry(input) ? 'reviewer' : 'extraction' }
                : null,
            }
          : {}),
      },
      requestId: input.requestId,
    },
    outbox: [outboxEvent(profile, submission, decision, identityExpiresOn)],
    now: () => now,
  });
  return (submissionWrite as { Put: { Item: KycSubmissionItem } }).Put.Item;
}

/** A version race lost to another writer (the commit's condition): worth re-reading and trying again. */
export const isConflict = (err: unknown) => err instanceof DomainError && err.code === 'conflict';

/**
 * Decides a submission (see the module invariants). Throws 404 submission_not_found, 409
 * review_already_decided (also when a concurrent decision won the race: each attempt re-reads the
 * submission), or the commit's error when retrying cannot help.
 */
export function applyKycDecision(input: KycDecisionInput): Promise<KycSubmissionItem> {
  return withRetry('decisionConflict', () => attempt(input, input.now ?? new Date()), isConflict);
}
