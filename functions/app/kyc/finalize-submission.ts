/**
 * Use case (the kyc-finalize step): applies the decision the checks took. Returns the submission's status.
 *
 * Invariants:
 * - a submission already decided (by a compliance officer through decide-review, or by an earlier run
 *   of this use case) is left as it is and its status returned: finalizing twice decides once and publishes
 *   one event
 * - otherwise the checks decide: 'approve' -> approved by 'system'; 'reject' -> rejected with the hard
 *   issue codes as reasons, the files of the categories those issues ask to replace as documentIds (all of
 *   them when no category is named), and canResubmit unless the rejection is final (autoRejectionIsFinal)
 * - a submission that went to manual review but carries no decision is an error (the execution fails
 *   loudly rather than approving or rejecting on its own)
 * - everything is written by decisions.ts applyKycDecision in one commit; a lost race is retried there, and losing to a
 *   reviewer's decision returns the reviewer's status
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { KycIssue } from '#domain/kyc/model.ts';
import { autoRejectionIsFinal, issueRequiresNewDocument } from '#domain/kyc/review-reasons.ts';
import { isFinalSubmissionStatus, type KycSubmission, type SubmissionStatus } from '#domain/kyc/submission.ts';
import { logger } from '#shared/powertools.ts';
import { systemActor } from '#store/audit.ts';
import { getKycSubmission } from '#store/kyc.ts';
import { applyKycDecision } from './decisions.ts';

export interface FinalizeInput {
  submissionId: string;
}

export interface FinalizeResult {
  status: SubmissionStatus;
}

const ACTOR = systemActor('kyc-finalize');

export class ReviewNotDecidedError extends Error {
  override readonly name = 'KycReviewNotDecided';
}

/** The automatic rejection: hard issue codes, the files to replace, and whether new documents can fix it. */
function automaticRejection(s: Pick<KycSubmission, 'identity' | 'addressProof' | 'selfie'>, issues: readonly KycIssue[]) {
  const hard = issues.filter((i) => i.severity === 'hard');
  const reasons = [...new Set(hard.map((i) => i.code))];
  const categories = new Set(hard.map((i) => issueRequiresNewDocument(i)).filter((c) => c !== undefined));
  const documentIds = [
    ...(categories.has('identity') ? s.identity.documentIds : []),
    ...(categories.has('proof_of_address') && s.addressProof ? [s.addressProof.documentId] : []),
    ...(categories.has('selfie') && s.selfie ? [s.selfie.documentId] : []),
  ];
  return { reasons, documentIds, canResubmit: !autoRejectionIsFinal(issues) };
}

export async function finalizeSubmission(input: FinalizeInput, ctx: CommandContext): Promise<FinalizeResult> {
  const { submissionId } = input;
  const submission = await getKycSubmission(submissionId);
  if (!submission) throw new Error(`kyc-finalize: no submission ${submissionId}`);
  if (isFinalSubmissionStatus(submission.status)) return { status: submission.status };
  const checks = submission.checks;
  if (!checks) throw new Error(`kyc-finalize: submission ${submissionId} has not been assessed`);
  if (checks.outcome === 'manual_review') {
    throw new ReviewNotDecidedError(`kyc-finalize: submission ${submissionId} was sent to review but has no decision`);
  }
  const decision =
    checks.outcome === 'approve'
      ? { outcome: 'approved' as const, decidedBy: 'system', reasons: [], documentIds: [], canResubmit: true }
      : { outcome: 'rejected' as const, decidedBy: 'system', ...automaticRejection(submission, checks.issues) };
  try {
    const decided = await applyKycDecision({
      submissionId,
      decision,
      actor: ACTOR,
      requestId: ctx.requestId,
      ...(ctx.now ? { now: ctx.now } : {}),
    });
    logger.info('kyc-finalize: decided', { submissionId, status: decided.status });
    return { status: decided.status };
  } catch (err) {
    if (!(err instanceof DomainError) || err.code !== 'review_already_decided') throw err;
    const current = await getKycSubmission(submissionId);
    return { status: current?.status ?? submission.status };
  }
}
