/**
 * Applying a KYC decision (automatic, by the kyc-finalize step, or a compliance officer's, by the
 * admin review API) to the submission, its files, the client's profile and the expiry watch.
 *
 * Invariants:
 * - a submission is decided exactly once: a final submission (approved | rejected | documents_requested)
 *   is refused with 409 `review_already_decided`, also when a concurrent decision wins the race
 * - everything a decision changes is written in ONE commit(): the submission (status = outcome, the
 *   decision block, review 'decided', timeline 'decided', the task token removed), every file of the
 *   submission (accepted, or rejected with its reasons), the profile (kycStatus, onboarding stage, kyc
 *   block), on approval the expiry watch, the audit item 'kyc.submission.decided' and the outbox event
 *   ('kyc.approved' | 'kyc.rejected' | 'kyc.documents_requested')
 * - every write is conditioned on the version read; a lost race re-reads everything and tries again
 *   (MAX_DECISION_ATTEMPTS), so a decision never overwrites a change it did not see
 * - approval: kycStatus 'approved', stage 'approved', kyc.approvedAt/approvedSubmissionId/identityExpiresOn
 *   (from the identity extraction's expiryDate when one was read) set and kyc.expiredAt cleared;
 *   a final rejection (canResubmit false): 'rejected' / 'rejected'; otherwise 'action_required' and
 *   the stage back to 'profile_completed', so details can be corrected before the next submission
 * - on rejection or a document request, the files named in decision.documentIds (all of them when the
 *   list is empty) are 'rejected' with the reasons that concern their category; the others are 'accepted'
 * - the task token never appears in the audit item or an event
 * - nothing here logs: submissions, documents and extractions are PII
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import type { KycStatus, OnboardingStage } from '#domain/identity/onboarding.ts';
import { reasonsForDocument } from '#domain/kyc/review-reasons.ts';
import { isFinalSubmissionStatus, type SubmissionDecision, submissionDocumentIds } from '#domain/kyc/submission.ts';
import { ddb } from '#shared/clients.ts';
import { commit } from './audit.ts';
import { type ClientProfileItem, replaceClientProfile } from './clients.ts';
import { type CommitWrite, tableName } from './items.ts';
import { clientKeys } from './keys.ts';
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
} from './kyc.ts';
import type { OutboxEvent } from './outbox.ts';

export const MAX_DECISION_ATTEMPTS = 5;

export interface KycDecisionInput {
  submissionId: string;
  decision: Omit<SubmissionDecision, 'decidedAt'>;
  actor: AuditActor;
  requestId: string;
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
export async function getClientProfileConsistent(clientId: string): Promise<ClientProfileItem | undefined> {
  const res = await ddb().send(new GetCommand({ TableName: tableName(), Key: clientKeys.key(clientId), ConsistentRead: true }));
  return res.Item as ClientProfileItem | undefined;
}

function profileAfter(
  profile: ClientProfileItem,
  submission: KycSubmissionItem,
  decision: SubmissionDecision,
  identityExpiresOn: string | undefined,
): ClientProfileItem {
  const { outcome, canResubmit, decidedAt } = decision;
  let kycStatus: KycStatus;
  let stage: OnboardingStage;
  let kyc = { ...profile.kyc, currentSubmissionId: profile.kyc?.currentSubmissionId ?? submission.submissionId };
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

async function attempt(input: KycDecisionInput, now: Date): Promise<KycSubmissionItem> {
  const submission = await getKycSubmission(input.submissionId);
  if (!submission) throw submissionNotFound(input.submissionId);
  if (isFinalSubmissionStatus(submission.status)) throw reviewAlreadyDecided();
  const profile = await getClientProfileConsistent(submission.clientId);
  if (!profile) throw new DomainError('profile_not_found', 'not_found', 'No profile exists for this client');

  const at = now.toISOString();
  const fileIds = submissionDocumentIds(submission);
  const [documents, extractions] = await Promise.all([getKycDocuments(fileIds), getKycExtractions(submission.submissionId)]);
  const identityExpiresOn = extractions.find((e) => e.unit === 'identity')?.identity?.expiryDate;

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

  const { taskToken: _token, ...withoutToken } = submission;
  const nextSubmission: KycSubmissionItem = {
    ...withoutToken,
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
      },
      requestId: input.requestId,
    },
    outbox: [outboxEvent(profile, submission, decision, identityExpiresOn)],
    now: () => now,
  });
  return (submissionWrite as { Put: { Item: KycSubmissionItem } }).Put.Item;
}

const isConflict = (err: unknown) => err instanceof DomainError && err.code === 'conflict';

/**
 * Runs `attempt` again (re-reading whatever it reads) while it fails with a version conflict, up to
 * `attempts` times with a short jittered backoff; the last conflict is thrown. For the kyc-review steps,
 * which must not fail an execution over a lost race.
 */
export async function retryOnConflict<T>(attempt: () => Promise<T>, attempts = MAX_DECISION_ATTEMPTS): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!isConflict(err) || n >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** n));
    }
  }
}

/**
 * Decides a submission (see the module invariants). Throws 404 submission_not_found, 409
 * review_already_decided, or the commit's error when retrying cannot help.
 */
export async function applyKycDecision(input: KycDecisionInput): Promise<KycSubmissionItem> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(input, input.now ?? new Date());
    } catch (err) {
      if (!isConflict(err) || n >= MAX_DECISION_ATTEMPTS) throw err;
      const fresh = await getKycSubmission(input.submissionId);
      if (fresh && isFinalSubmissionStatus(fresh.status)) throw reviewAlreadyDecided();
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** n));
    }
  }
}
