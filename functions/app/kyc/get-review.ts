/**
 * Use case: one review for a compliance officer (GET /v1/admin/kyc/reviews/{reviewId}): the submission with
 * its checks, the extracted data beside the registered data (review-comparison.ts), analysis failures and
 * short-lived links to the files. A review's id is its submission's id.
 *
 * Invariants:
 * - reading a review shows PII, so every read writes one audit item 'kyc.review.viewed' (who looked, when,
 *   at which files) in one commit with no other change, BEFORE the data is returned: a read whose audit
 *   cannot be written returns nothing
 * - document links are presigned GETs valid for DOCUMENT_URL_TTL_SECONDS, inline, of the S3 version
 *   recorded when the upload was confirmed (when the bucket gave one); the bucket stays private and the
 *   links are never stored or logged
 * - the task token never leaves the server (the submission is returned in its domain shape)
 * - 404 review_not_found for an unknown submission or one that never went to a manual review
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { type DocumentCategory, type KycSubmission, submissionDocumentIds } from '#domain/kyc/submission.ts';
import { s3 } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { getKycDocuments, getKycExtractions, getKycSubmission } from '#store/kyc.ts';
import { addressRows, type ComparisonRow, identityRows } from './review-comparison.ts';
import { type ReviewTiming, reviewNotFound, reviewTiming, toKycSubmission } from './shared.ts';

/** How long a document link in the review detail works. */
export const DOCUMENT_URL_TTL_SECONDS = 300;

export interface ReviewDocument {
  documentId: string;
  category: DocumentCategory;
  documentType: string;
  side?: 'front' | 'back';
  contentType: string;
  size?: number;
  status: string;
  url: string;
  urlExpiresInSeconds: number;
}

export interface ReviewDetail {
  submission: KycSubmission;
  timing: ReviewTiming;
  /** The registered data shown beside the extraction (null when the profile is gone). */
  client: { firstName: string; lastName: string; dateOfBirth: string; countryOfResidence: string; kycStatus: string } | null;
  comparison: ComparisonRow[];
  analysisFailures: { unit: 'identity' | 'address'; error: string }[];
  documents: ReviewDocument[];
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

export async function getReview(input: { reviewId: string }, caller: Caller, ctx: CommandContext): Promise<ReviewDetail> {
  const now = ctx.now ?? new Date();
  const s = await getKycSubmission(input.reviewId);
  if (!s?.review) throw reviewNotFound();
  const fileIds = submissionDocumentIds(s);
  const [profile, extractions, files] = await Promise.all([
    getClientProfile(s.clientId),
    getKycExtractions(s.submissionId),
    getKycDocuments(fileIds),
  ]);

  const comparison: ComparisonRow[] = [];
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
        presignedGet(f.s3Key, f.contentType, f.versionId).then(
          (url): ReviewDocument => ({
            documentId: f.documentId,
            category: f.category,
            documentType: f.documentType,
            ...(f.side ? { side: f.side } : {}),
            contentType: f.contentType,
            ...(f.size !== undefined ? { size: f.size } : {}),
            status: f.status,
            url,
            urlExpiresInSeconds: DOCUMENT_URL_TTL_SECONDS,
          }),
        ),
      ];
    }),
  );

  // Who looked at this client's PII, and when: written before anything is returned.
  await commit({
    writes: [],
    audit: {
      actor: actorFrom(caller, ['compliance', 'admin']),
      action: 'kyc.review.viewed',
      entity: { type: 'kyc-submission', id: s.submissionId },
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

  return {
    submission: toKycSubmission(s),
    timing: reviewTiming(s, now),
    client: profile
      ? {
          firstName: profile.firstName,
          lastName: profile.lastName,
          dateOfBirth: profile.dateOfBirth,
          countryOfResidence: profile.countryOfResidence,
          kycStatus: profile.kycStatus ?? 'not_started',
        }
      : null,
    comparison,
    analysisFailures,
    documents,
  };
}
