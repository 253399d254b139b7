/**
 * Use case (the kyc-analyze step): analyses one unit of a submission (the identity document, all its sides
 * as pages, front first; or the proof of address) with the document analyzer and stores the extracted
 * fields; or, given the error the state machine's retries could not fix, records the failure.
 *
 * Invariants:
 * - the extraction (keyed by submission and unit, so a retry overwrites its own earlier result) and its
 *   audit item ('kyc.document.analysed' with the fields in `after` and the per-field confidence as evidence,
 *   or 'kyc.document.analysis_failed') are written in ONE commit
 * - analyzer errors propagate by name (KycAnalysisTransient: the state machine retries; KycAnalysisFailed
 *   and anything else: caught and recorded as a failure), so the execution itself never fails on a document
 * - once the submission's checks have run, nothing is analysed or recorded again (a late retry cannot
 *   change what was assessed)
 * - each file is analysed at the S3 version recorded when its upload was confirmed (versionId), so an object
 *   replaced afterwards through the still-valid presigned POST is never what gets analysed
 * - a recorded failure keeps the error name and, for KycAnalysisFailed, its stable reason; never document
 *   content; nothing here logs PII (ids, units and error names only)
 */

import { documentAnalyzer, type S3Ref } from '#adapters/kyc/index.ts';
import { ANALYSIS_FAILURE_REASONS } from '#adapters/kyc/port.ts';
import type { CommandContext } from '#app/context.ts';
import type { ExtractedAddressProof, ExtractedIdentity } from '#domain/kyc/model.ts';
import { env } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';
import { commit, systemActor } from '#store/audit.ts';
import {
  getKycDocuments,
  getKycExtractions,
  getKycSubmission,
  type KycDocumentItem,
  type KycSubmissionItem,
  kycExtractionItem,
  putKycExtraction,
} from '#store/kyc.ts';

export type Unit = 'identity' | 'address';

export interface AnalyzeInput {
  submissionId: string;
  unit: Unit;
  /** Set by the state machine's Catch: the error the analysis failed with after its retries (and its Cause). */
  failed?: { error?: string | undefined; cause?: string | undefined } | undefined;
}

export interface AnalyzeResult {
  unit: Unit;
  ok: boolean;
}

const ACTOR = systemActor('kyc-analyze');

async function submissionOf(submissionId: string): Promise<KycSubmissionItem> {
  const s = await getKycSubmission(submissionId);
  if (!s) throw new Error(`kyc-analyze: no submission ${submissionId}`);
  return s;
}

function unitDocumentIds(s: KycSubmissionItem, unit: Unit): string[] {
  if (unit === 'identity') return [...s.identity.documentIds];
  if (!s.addressProof) throw new Error(`kyc-analyze: submission ${s.submissionId} has no proof of address`);
  return [s.addressProof.documentId];
}

/** The file as checked at upload: its recorded S3 version when the bucket gave one (absent locally). */
const refOf = (d: KycDocumentItem): S3Ref => ({
  bucket: env.documentsBucket,
  key: d.s3Key,
  contentType: d.contentType,
  ...(d.versionId ? { version: d.versionId } : {}),
});

/**
 * The stable reason of a KycAnalysisFailed from the Cause Lambda reports ({"errorType","errorMessage",...};
 * local/aws/states.ts reports the same shape), or from a plain-text cause: the message starts with the
 * reason (AnalysisFailedError guarantees `<reason>` or `<reason>: <detail>`).
 */
export function failureReason(error: string | undefined, cause: string | undefined): string | undefined {
  if (error !== 'KycAnalysisFailed' || !cause) return undefined;
  let message = cause;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    /* a plain-text cause */
  }
  return (ANALYSIS_FAILURE_REASONS as readonly string[]).find((r) => message === r || message.startsWith(`${r}: `));
}

async function analyse(s: KycSubmissionItem, unit: Unit, documentIds: string[]) {
  const docs = await getKycDocuments(documentIds);
  const files = documentIds.map((id) => {
    const d = docs.get(id);
    if (!d) throw new Error(`kyc-analyze: document ${id} of submission ${s.submissionId} is missing`);
    return d;
  });
  const analyzer = documentAnalyzer();
  if (unit === 'identity') {
    const identity: ExtractedIdentity = await analyzer.analyzeIdentity({
      documentType: s.identity.documentType,
      pages: files.map(refOf),
    });
    return { identity };
  }
  const addressProof: ExtractedAddressProof = await analyzer.analyzeAddressProof({ page: refOf(files[0]!) });
  return { addressProof };
}

export async function analyzeDocuments(input: AnalyzeInput, ctx: CommandContext): Promise<AnalyzeResult> {
  const { submissionId, unit } = input;
  const submission = await submissionOf(submissionId);
  if (submission.checks) {
    const existing = (await getKycExtractions(submissionId)).find((e) => e.unit === unit);
    logger.info('kyc-analyze: checks already ran; nothing analysed', { submissionId, unit });
    return { unit, ok: existing !== undefined && !existing.failure };
  }
  const documentIds = unitDocumentIds(submission, unit);
  const now = ctx.now ?? new Date();
  const at = now.toISOString();

  if (input.failed) {
    const error = input.failed.error || 'Unknown';
    const reason = failureReason(input.failed.error, input.failed.cause);
    const failure = { error, ...(reason ? { reason } : {}) };
    const item = kycExtractionItem({ submissionId, unit, documentIds, failure, analysedAt: at }, at);
    await commit({
      writes: [putKycExtraction(item)],
      audit: {
        actor: ACTOR,
        action: 'kyc.document.analysis_failed',
        entity: { type: 'kyc-submission', id: submissionId },
        clientId: submission.clientId,
        before: null,
        after: { unit, failure },
        evidence: { unit, documentIds, error, reason: reason ?? null },
        requestId: ctx.requestId,
      },
      now: () => now,
    });
    logger.warn('kyc-analyze: analysis failed for good', { submissionId, unit, error, reason });
    return { unit, ok: false };
  }

  const extracted = await analyse(submission, unit, documentIds);
  const fields = extracted.identity ?? extracted.addressProof!;
  const { fieldConfidence, ...values } = fields;
  const item = kycExtractionItem({ submissionId, unit, documentIds, ...extracted, analysedAt: at }, at);
  await commit({
    writes: [putKycExtraction(item)],
    audit: {
      actor: ACTOR,
      action: 'kyc.document.analysed',
      entity: { type: 'kyc-submission', id: submissionId },
      clientId: submission.clientId,
      before: null,
      after: { unit, ...values },
      evidence: { unit, documentIds, fieldConfidence },
      requestId: ctx.requestId,
    },
    now: () => now,
  });
  logger.info('kyc-analyze: analysed', { submissionId, unit });
  return { unit, ok: true };
}
