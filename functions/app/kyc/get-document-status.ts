/**
 * Use case: a file's status for its owner, or for compliance and admin (GET /v1/kyc/documents/{documentId});
 * confirms a finished upload on the way (uploads.ts confirmUpload).
 *
 * Invariants:
 * - a client only ever sees its own files: another client's document is 404 document_not_found, exactly as
 *   for a missing one (and marked as a cross-client probe); staff need compliance or admin
 * - the S3 key and version of the stored file are never part of the result
 * - a confirmation (the only write) is audited with the caller as the actor
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import type { KycDocument } from '#domain/kyc/submission.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import { actorFrom } from '#store/audit.ts';
import { getKycDocument } from '#store/kyc.ts';
import { documentNotFound, toKycDocument } from './shared.ts';
import { confirmUpload, type UploadProblem } from './uploads.ts';

/** Staff roles that may read any client's file. */
const STAFF_READERS: readonly Role[] = ['compliance', 'admin'];

export type { UploadProblem };

/** A file as its owner or an officer may see it: the domain shape plus when it was registered and its upload window. */
export type KycDocumentStatus = KycDocument & { createdAt: string; uploadDeadline: string };

export interface DocumentStatusResult {
  document: KycDocumentStatus;
  /** Why an uploaded object was not accepted (the file stays awaiting_upload). */
  uploadProblem?: UploadProblem;
}

export async function getDocumentStatus(
  input: { documentId: string },
  caller: Caller,
  ctx: CommandContext,
): Promise<DocumentStatusResult> {
  const doc = await getKycDocument(input.documentId);
  if (!doc) throw documentNotFound();
  if (doc.clientId !== caller.sub) {
    if (!caller.isStaff) throw crossClientProbe(documentNotFound(), caller, doc.clientId);
    if (!caller.roles.some((r) => STAFF_READERS.includes(r))) {
      throw new DomainError('forbidden_role', 'forbidden', 'Your role may not read this document');
    }
  }
  const { doc: current, problem } = await confirmUpload(
    doc,
    actorFrom(caller, ['client', ...STAFF_READERS]),
    ctx.requestId,
    ctx.now,
  );
  return {
    document: { ...toKycDocument(current), createdAt: current.createdAt, uploadDeadline: current.uploadDeadline },
    ...(problem ? { uploadProblem: problem } : {}),
  };
}
