/**
 * Use case: the caller's verification (GET /v1/kyc): status, next step, submission, timeline, documents and
 * history (domain/kyc/client-status.ts clientKycView, in the request locale), with what the client's
 * jurisdiction requires, what is still missing, the estimated completion and the pre-verification deposit
 * rule.
 *
 * Invariants:
 * - only the caller's own profile, files and submissions (404 profile_not_found)
 * - awaiting uploads still within (or just past) their window are confirmed on the way (uploads.ts)
 * - the ETA is only given for a pending manual review, from the review queue's facts (store/kyc-reviews.ts)
 * - evidence, notes, scores and reviewer identities are never part of the result
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { type ClientKycView, clientKycView } from '#domain/kyc/client-status.ts';
import { estimateReviewEta } from '#domain/kyc/eta.ts';
import { documentsMissing, type MissingDocument, uploadContentTypes } from '#domain/kyc/submission.ts';
import type { OnboardingRequirements } from '#domain/onboarding/requirements.ts';
import { env } from '#shared/env.ts';
import { actorFrom } from '#store/audit.ts';
import { type KycDocumentItem, listClientDocuments, listClientSubmissions } from '#store/kyc.ts';
import { reviewQueueStats } from '#store/kyc-reviews.ts';
import { listWallets } from '#store/ledger/accounts.ts';
import {
  clientLocale,
  latestOf,
  ownProfile,
  requirementsOf,
  stageOf,
  submittable,
  toKycDocument,
  toKycSubmission,
} from './shared.ts';
import { confirmUpload } from './uploads.ts';

type PreVerificationRule = NonNullable<OnboardingRequirements['preVerificationDeposit']>;

export type KycStatusResult = ClientKycView & {
  requirements: OnboardingRequirements;
  /** The content types an upload may declare with this deployment's document analyzer. */
  acceptedContentTypes: string[];
  missing: MissingDocument[];
  preVerificationDeposit: { limit: PreVerificationRule['limit']; maxDays: number; until: string } | null;
};

/** Awaiting uploads worth a HeadObject when the client looks at its status (still within, or just past, the window). */
const worthConfirming = (d: KycDocumentItem, now: Date) =>
  d.status === 'awaiting_upload' && Date.parse(d.uploadDeadline) + 60 * 60 * 1000 > now.getTime();

export async function getKycStatus(caller: Caller, ctx: CommandContext): Promise<KycStatusResult> {
  const now = ctx.now ?? new Date();
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
  const actor = actorFrom(caller, ['client']);
  const documents: KycDocumentItem[] = [];
  for (const d of stored) {
    documents.push(worthConfirming(d, now) ? (await confirmUpload(d, actor, ctx.requestId, now)).doc : d);
  }

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
    locale: clientLocale(ctx.locale),
    profileComplete: stageOf(profile) !== 'registered',
    documents: documents.map(toKycDocument),
    submissions: submissions.map(toKycSubmission),
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
  return {
    ...view,
    requirements: req,
    acceptedContentTypes: uploadContentTypes(env.kycAnalyzer),
    missing,
    preVerificationDeposit,
  };
}
