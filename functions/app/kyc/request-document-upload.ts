/**
 * Use case: a client registers a file it is about to upload (an identity document side, a proof of address
 * or a selfie) and gets a presigned POST for it (POST /v1/kyc/documents).
 *
 * Invariants:
 * - only the caller's own profile, once past 'registered' (409 profile_incomplete), while verification is
 *   open (409 verification_closed)
 * - bad input is refused with a stable code and NOTHING is written (domain/kyc/submission.ts
 *   checkDocumentRequest: unknown_document_type, document_type_not_accepted per the client's jurisdiction and
 *   client type, invalid_side, unsupported_content_type, file_too_large, invalid_size)
 * - the presigned POST only accepts the declared content type and 1..declared size bytes (never above
 *   MAX_UPLOAD_BYTES), at the document's own key, for UPLOAD_WINDOW_SECONDS; the document's uploadDeadline
 *   is the same instant. The S3 key is never part of the result
 * - the file is created in one audited commit ('kyc.document.requested')
 */
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { ulid } from 'ulid';
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { checkDocumentRequest, type DocumentRequest, MAX_UPLOAD_BYTES } from '#domain/kyc/submission.ts';
import { s3 } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { listClientSubmissions, newKycDocument, putKycDocument } from '#store/kyc.ts';
import { assertVerificationOpen, latestOf, ownProfile, profileIncomplete, requirementsOf, stageOf } from './shared.ts';

/** How long a presigned upload works (seconds); the document's uploadDeadline is the same instant. */
export const UPLOAD_WINDOW_SECONDS = 900;

export interface DocumentUpload {
  documentId: string;
  status: 'awaiting_upload';
  upload: { url: string; fields: Record<string, string>; expiresAt: string };
}

export async function requestDocumentUpload(
  input: DocumentRequest,
  caller: Caller,
  ctx: CommandContext,
): Promise<DocumentUpload> {
  const now = ctx.now ?? new Date();
  const profile = await ownProfile(caller);
  if (stageOf(profile) === 'registered') throw profileIncomplete();
  const { contentType } = checkDocumentRequest(input, requirementsOf(profile).documents, env.kycAnalyzer);
  const latest = latestOf(await listClientSubmissions(profile.clientId));
  assertVerificationOpen(latest, profile);

  const at = now.toISOString();
  const expires = new Date(now.getTime() + UPLOAD_WINDOW_SECONDS * 1000);
  const item = newKycDocument(
    {
      documentId: ulid(now.getTime()),
      clientId: profile.clientId,
      category: input.category,
      documentType: input.documentType,
      ...(input.side ? { side: input.side } : {}),
      contentType,
      declaredSize: input.size,
      status: 'awaiting_upload',
      uploadDeadline: expires.toISOString(),
    },
    at,
  );
  const upload = await createPresignedPost(s3(), {
    Bucket: env.documentsBucket,
    Key: item.s3Key,
    Conditions: [
      ['content-length-range', 1, Math.min(input.size, MAX_UPLOAD_BYTES)],
      ['eq', '$Content-Type', contentType],
    ],
    Fields: { 'Content-Type': contentType },
    Expires: UPLOAD_WINDOW_SECONDS,
  });
  await commit({
    writes: [putKycDocument(item)],
    audit: {
      actor: actorFrom(caller, ['client']),
      action: 'kyc.document.requested',
      entity: { type: 'kyc-document', id: item.documentId },
      clientId: profile.clientId,
      before: null,
      after: {
        category: item.category,
        documentType: item.documentType,
        side: item.side ?? null,
        contentType,
        declaredSize: item.declaredSize,
        status: item.status,
        uploadDeadline: item.uploadDeadline,
      },
      requestId: ctx.requestId,
      newEntity: true,
    },
    now: () => now,
  });
  return {
    documentId: item.documentId,
    status: 'awaiting_upload',
    upload: { url: upload.url, fields: upload.fields, expiresAt: item.uploadDeadline },
  };
}
