/**
 * Use case: a client submits a set of its uploaded files for verification (POST /v1/kyc/submissions).
 *
 * Invariants:
 * - a submission is created in ONE commit with its files (version-conditioned, -> 'submitted'), the
 *   profile (kycStatus in_review, stage kyc_submitted; for a renewal kycStatus and stage unchanged and
 *   kyc.renewalSubmissionId set), the audit item and the outbox event 'kyc.submission.created'; the state
 *   machine is started from that event (rule -> kyc-start-review, start-review.ts), never here, so a
 *   committed submission is never left unreviewed
 * - at most one submission runs at a time (409 submission_in_progress); a verified client cannot submit
 *   again while its approved document is valid (409 already_verified). Within the tenant's
 *   kyc.expiringSoonDays of its expiry the submission is a RENEWAL: the client stays 'approved' while it is
 *   checked; once the document expired it is an ordinary submission. A final rejection closes
 *   verification (409 verification_closed)
 * - the set is checked completely before anything is written (duplicate_document_in_set,
 *   document_not_found, and domain/kyc/submission.ts planSubmission); the caller's own files still
 *   awaiting their upload are confirmed first (uploads.ts)
 */
import { ulid } from 'ulid';
import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { type KycSubmission, planSubmission } from '#domain/kyc/submission.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { type ClientProfileItem, replaceClientProfile } from '#store/clients.ts';
import {
  getKycDocuments,
  type KycDocumentItem,
  listClientSubmissions,
  newKycSubmission,
  putKycSubmission,
  replaceKycDocument,
} from '#store/kyc.ts';
import {
  approvalState,
  assertVerificationOpen,
  latestOf,
  ownProfile,
  profileIncomplete,
  requirementsOf,
  stageOf,
  submittable,
  toKycSubmission,
} from './shared.ts';
import { confirmUpload } from './uploads.ts';

export interface SubmissionRequest {
  /** The files to submit (ids returned by requestDocumentUpload), each once. */
  documentIds: string[];
}

/** The submission as created ('processing'). */
export async function createSubmission(input: SubmissionRequest, caller: Caller, ctx: CommandContext): Promise<KycSubmission> {
  const now = ctx.now ?? new Date();
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

  if (new Set(input.documentIds).size !== input.documentIds.length) {
    throw new DomainError('duplicate_document_in_set', 'validation', 'Each document and side may be submitted once', [
      { field: 'documentIds', code: 'duplicate_document_in_set', message: 'a document id is listed twice' },
    ]);
  }
  const found = await getKycDocuments(input.documentIds);
  const actor = actorFrom(caller, ['client']);
  const files: KycDocumentItem[] = [];
  for (const id of input.documentIds) {
    const doc = found.get(id);
    if (!doc) {
      throw new DomainError('document_not_found', 'not_found', `No document ${id}`, [
        { field: 'documentIds', code: 'document_not_found', message: id },
      ]);
    }
    if (doc.clientId === profile.clientId && doc.status === 'awaiting_upload') {
      files.push((await confirmUpload(doc, actor, ctx.requestId, now)).doc);
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
        submission: toKycSubmission(item),
        kycStatus: nextProfile.kycStatus ?? 'not_started',
        stage: stageOf(nextProfile),
        ...(renewal ? { renewalOf: profile.kyc?.approvedSubmissionId ?? null } : {}),
      },
      requestId: ctx.requestId,
      newEntity: true,
    },
    outbox: [{ detailType: 'kyc.submission.created', detail: { submissionId, clientId: profile.clientId } }],
    now: () => now,
  });
  return toKycSubmission(item);
}
