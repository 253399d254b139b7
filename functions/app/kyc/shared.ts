/**
 * What several KYC use cases share: the caller's own profile and what it requires, the client's latest
 * submission and approval, the domain shapes of stored files and submissions, the kyc-review execution's
 * input, and a review's age against its SLA.
 *
 * Invariants:
 * - a client only ever reaches its own profile, looked up by the caller's sub (404 profile_not_found)
 * - the domain shape of a submission (toKycSubmission) never carries the task token, callbackPending or
 *   any storage attribute, so neither reaches a view, an audit item or an event
 * - the execution input is { submissionId, clientId, units } for kyc-start and the kyc-watchdog job alike,
 *   so a restarted (or late-started) execution gets exactly the input the first start would have sent
 * - a review's SLA clock runs from queuedAt to its decision (or to now while it is pending)
 */

import type { StateMachineName } from '#app/ports/workflow.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { Locale } from '#domain/kyc/decision.ts';
import { classifyExpiry, type ExpiryState } from '#domain/kyc/expiry.ts';
import type { KycDocument, KycSubmission, SubmittableFile } from '#domain/kyc/submission.ts';
import { type OnboardingRequirements, requirementsFor } from '#domain/onboarding/requirements.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type ClientProfileItem, getClientProfile } from '#store/clients.ts';
import type { KycDocumentItem, KycSubmissionItem } from '#store/kyc.ts';

/** The state machine every submission is reviewed by. */
export const KYC_REVIEW_MACHINE = 'kyc-review' satisfies StateMachineName;

const LOCALES: readonly Locale[] = ['en', 'de', 'es'];
/** The client-facing catalogues' locale for the request locale (exact match, else English). */
export const clientLocale = (l: string): Locale => (LOCALES.includes(l as Locale) ? (l as Locale) : 'en');

export const profileNotFound = () => new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');
export const documentNotFound = () => new DomainError('document_not_found', 'not_found', 'No document with this id');
export const profileIncomplete = () =>
  new DomainError('profile_incomplete', 'conflict', 'Complete your profile before uploading or submitting documents');
export const reviewNotFound = () => new DomainError('review_not_found', 'not_found', 'No review with this id');

/** The caller's own profile, read consistently (404 profile_not_found). */
export async function ownProfile(caller: Caller): Promise<ClientProfileItem> {
  const profile = await getClientProfile(caller.sub, { consistent: true });
  if (!profile) throw profileNotFound();
  return profile;
}

/** What the client's jurisdiction and client type require. */
export const requirementsOf = (p: ClientProfileItem): OnboardingRequirements =>
  requirementsFor(tenantConfig(), { country: p.countryOfResidence, clientType: p.clientType });

export const stageOf = (p: ClientProfileItem) => p.onboarding?.stage ?? 'registered';

/** The latest submission (by submittedAt, then id). */
export function latestOf(submissions: readonly KycSubmissionItem[]): KycSubmissionItem | undefined {
  return [...submissions].sort((a, b) =>
    a.submittedAt === b.submittedAt ? a.submissionId.localeCompare(b.submissionId) : a.submittedAt.localeCompare(b.submittedAt),
  )[submissions.length - 1];
}

/**
 * The client's current approval: 'none' (not approved), 'valid', 'expiring_soon' (within the tenant's
 * kyc.expiringSoonDays of the approved document's expiry: a renewal may be submitted) or 'expired' (by the
 * expiry job's flag or by date). An approval without a known expiry date stays 'valid'.
 */
export function approvalState(p: ClientProfileItem, now: Date, windowDays: number): 'none' | ExpiryState {
  if (p.kycStatus !== 'approved') return 'none';
  if (p.kyc?.expiredAt) return 'expired';
  const on = p.kyc?.identityExpiresOn;
  return on ? classifyExpiry(on, now, windowDays) : 'valid';
}

/** 409 verification_closed after a final rejection. */
export function assertVerificationOpen(latest: KycSubmissionItem | undefined, p: ClientProfileItem): void {
  const closed =
    p.kycStatus === 'rejected' ||
    (latest?.status === 'rejected' && latest.decision !== undefined && !latest.decision.canResubmit);
  if (closed) {
    throw new DomainError('verification_closed', 'conflict', 'Verification cannot be retried; please contact support');
  }
}

/** The domain shape of a stored file (storage attributes dropped). */
export function toKycDocument(d: KycDocumentItem): KycDocument {
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

/** A stored file as planSubmission / documentsMissing see it. */
export const submittable = (d: KycDocumentItem): SubmittableFile => ({
  documentId: d.documentId,
  clientId: d.clientId,
  category: d.category,
  documentType: d.documentType,
  ...(d.side ? { side: d.side } : {}),
  status: d.status,
});

/** The submission without storage attributes and without the task token. */
export function toKycSubmission(s: KycSubmissionItem): KycSubmission {
  const {
    pk: _pk,
    sk: _sk,
    gsi1pk: _a,
    gsi1sk: _b,
    gsi2pk: _c,
    gsi2sk: _d,
    taskToken: _t,
    callbackPending: _cp,
    tenant: _tn,
    type: _ty,
    executionName: _e,
    executionAttempt: _ea,
    executionStalledAt: _es,
    version: _v,
    createdAt: _cr,
    updatedAt: _u,
    ...rest
  } = s;
  return rest;
}

/** The kyc-review execution input for a submission: { submissionId, clientId, units }. */
export function reviewExecutionInput(s: Pick<KycSubmissionItem, 'submissionId' | 'clientId' | 'addressProof'>) {
  const units = ['identity', ...(s.addressProof ? ['address'] : [])];
  return { submissionId: s.submissionId, clientId: s.clientId, units };
}

/** A review's queue facts: its age (pending: until now; decided: until the decision) against the tenant's SLA. */
export interface ReviewTiming {
  status: 'pending' | 'decided';
  priority: 'high' | 'normal';
  queuedAt: string;
  ageMinutes: number;
  slaHours: number;
  slaBreached: boolean;
  decidedAt?: string;
}

const minutesBetween = (from: string, to: number) => Math.max(0, Math.floor((to - Date.parse(from)) / 60_000));

/** Age and SLA of a review (the submission must have one). */
export function reviewTiming(s: KycSubmissionItem, now: Date): ReviewTiming {
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
