/**
 * Confirming a client's upload: the one place a KYC use case looks at an uploaded object (HeadObject).
 * Used by the document status, the client's status and the submission, which all confirm an awaiting file
 * on the way.
 *
 * Invariants:
 * - an upload is confirmed lazily by HeadObject: a file becomes 'uploaded' only when the object exists with
 *   the declared content type and at most the declared size, in one audited, version-conditioned commit
 *   ('kyc.document.uploaded') that records the object's S3 VersionId (the bucket is versioned; absent
 *   locally); otherwise it stays awaiting_upload and the caller is told why (UploadProblem)
 * - only an awaiting file is ever looked at: once uploaded (or submitted) it is not read again, and analysis
 *   and review links use the recorded version, so a later upload through the still-valid presigned POST
 *   replaces nothing that was checked
 * - a lost race (someone else confirmed or submitted it first) is not an error: the file is returned as it
 *   now is
 * - nothing here logs: documents are PII
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { s3 } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { commit } from '#store/audit.ts';
import { getKycDocument, type KycDocumentItem, replaceKycDocument } from '#store/kyc.ts';

export type UploadProblem = 'content_type_mismatch' | 'size_mismatch' | 'upload_expired';

const isNotFound = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
};

/**
 * Confirms an awaiting upload: HeadObject, then 'uploaded' with the object's VersionId (one audited,
 * version-conditioned commit) when the object matches what was declared. Returns the document as it now is
 * and, when the object was not accepted, why. Any other status (uploaded, submitted, decided) is returned as
 * it is, without touching S3: what was checked is never re-read.
 */
export async function confirmUpload(
  doc: KycDocumentItem,
  actor: AuditActor,
  requestId: string,
  now: Date = new Date(),
): Promise<{ doc: KycDocumentItem; problem?: UploadProblem }> {
  if (doc.status !== 'awaiting_upload') return { doc };
  let head: {
    ContentType?: string | undefined;
    ContentLength?: number | undefined;
    LastModified?: Date | undefined;
    VersionId?: string | undefined;
  };
  try {
    head = await s3().send(new HeadObjectCommand({ Bucket: env.documentsBucket, Key: doc.s3Key }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return Date.parse(doc.uploadDeadline) < now.getTime() ? { doc, problem: 'upload_expired' } : { doc };
  }
  const contentType = (head.ContentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== doc.contentType) return { doc, problem: 'content_type_mismatch' };
  const size = head.ContentLength ?? 0;
  if (size < 1 || size > doc.declaredSize) return { doc, problem: 'size_mismatch' };
  const at = now.toISOString();
  const uploadedAt = head.LastModified ? head.LastModified.toISOString() : at;
  // The version checked here is the one analysed and shown to reviewers (absent without bucket versioning).
  const versionId = head.VersionId && head.VersionId !== 'null' ? head.VersionId : undefined;
  const next: KycDocumentItem = { ...doc, status: 'uploaded', size, uploadedAt, ...(versionId ? { versionId } : {}) };
  const write = replaceKycDocument(doc, next, at);
  try {
    await commit({
      writes: [write],
      audit: {
        actor,
        action: 'kyc.document.uploaded',
        entity: { type: 'kyc-document', id: doc.documentId },
        clientId: doc.clientId,
        before: { status: doc.status },
        after: { status: next.status, size, uploadedAt, contentType, versionId: versionId ?? null },
        requestId,
      },
      now: () => now,
    });
  } catch (err) {
    if (!(err instanceof DomainError) || err.code !== 'conflict') throw err;
    // Someone else confirmed (or submitted) it first: report it as it is now.
    return { doc: (await getKycDocument(doc.documentId)) ?? doc };
  }
  return { doc: (write as { Put: { Item: KycDocumentItem } }).Put.Item };
}
