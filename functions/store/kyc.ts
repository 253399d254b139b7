/**
 * KYC persistence: document files, submissions, extraction results, document-number claims and the
 * expiry watch, each declared once as an entity (functions/store/entity.ts; keys in keys.ts, kycKeys).
 * Shapes come from domain/kyc/submission.ts and domain/kyc/model.ts; the schemas here are their stored form.
 *
 * Invariants:
 * - every item read is parsed by its entity's schema (a malformed one is a StoredItemError naming the
 *   entity and the attribute); keys and index attributes are computed by the entity on every write
 * - documents and submissions are created with putNew and only ever replaced whole, conditioned on the
 *   version read (optimistic concurrency, 409 conflict on a race), with the version bumped by one
 * - a submission's gsi2 is derived from its status and `review` block on every write (kycSubmissionEntity):
 *   KYCPROCESSING (by submittedAt) while it is 'processing' without a review (the kyc-watchdog job's work
 *   list), then the review queue while a manual review exists (KYCREVIEWS#pending by queuedAt, then
 *   KYCREVIEWS#decided by decidedAt), absent otherwise (an automatic decision: a replace writes the whole
 *   item, so the attributes are gone), so neither list can disagree with the submission
 * - the Step Functions task token of an open review is stored on the submission; the use cases' domain
 *   shape of a submission (functions/app/kyc/shared.ts toKycSubmission) strips it and callbackPending, so
 *   it never reaches a view, an audit item or an event
 * - the one write that is not a whole replacement: clearReviewCallback, a conditional UpdateItem that
 *   removes the token and callbackPending once the callback went through - bookkeeping, not a business
 *   change, so it has no audit item; it still bumps the version, so a replacement based on an earlier read
 *   fails its condition instead of bringing the token back
 * - the work lists of the kyc-watchdog and kyc-expiry jobs are named queries here (staleSubmissions,
 *   decidedWithPendingCallback, dueExpiryWatches), page by page on their index, never a scan
 * - extraction results are keyed by (submission, unit) and overwritten by a re-analysis, so a retried
 *   analysis step is idempotent
 * - document numbers are claimed per (issuing country, normalised number, client); the duplicate check
 *   reads every claim of the number
 * - no attribute here is named `expiresAt` (the table's TTL attribute)
 * - nothing here logs: documents and extractions are PII
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import type { DocumentType, ExtractedAddressProof, ExtractedIdentity, KycIssue, KycIssueCode } from '#domain/kyc/model.ts';
import type {
  DocumentCategory,
  DocumentStatus,
  KycDocument,
  KycSubmission,
  SubmissionStatus,
  SubmissionStep,
} from '#domain/kyc/submission.ts';
import { ddb } from '#shared/clients.ts';
import { defineEntity, type FieldsOf, type ItemOf } from './entity.ts';
import { type CommitWrite, tableName } from './items.ts';
import { kycKeys } from './keys.ts';
import { nested, oneOf, optionalString } from './schemas.ts';

/** Upper bound on the files and submissions a client's list reads (far above any real client). */
export const MAX_CLIENT_ITEMS = 500;

// ------------------------------------------------------------------------------------------------ schemas

const documentTypeSchema = oneOf<DocumentType>({
  passport: true,
  national_id: true,
  driving_licence: true,
  residence_permit: true,
});

const issueCodeSchema = oneOf<KycIssueCode>({
  mrz_invalid: true,
  mrz_mismatch: true,
  document_expired: true,
  document_expiring_soon: true,
  document_data_invalid: true,
  name_mismatch: true,
  dob_mismatch: true,
  underage: true,
  address_proof_too_old: true,
  address_mismatch: true,
  low_confidence: true,
  duplicate_document: true,
  sanctions_hit: true,
  sanctions_possible_match: true,
  country_restricted: true,
  analysis_failed: true,
  verification_stalled: true,
});

const issueSchema = nested({
  code: issueCodeSchema,
  severity: z.enum(['hard', 'review']),
  field: optionalString(),
  evidence: z.record(z.string(), z.unknown()),
  suggestedAction: z.string(),
}) satisfies z.ZodType<KycIssue>;

const documentSchema = z.object({
  documentId: z.string().min(1),
  clientId: z.string().min(1),
  category: oneOf<DocumentCategory>({ identity: true, proof_of_address: true, selfie: true }),
  documentType: z.string().min(1),
  side: z.enum(['front', 'back']).optional(),
  contentType: z.string(),
  declaredSize: z.number().int(),
  status: oneOf<DocumentStatus>({ awaiting_upload: true, uploaded: true, submitted: true, accepted: true, rejected: true }),
  uploadedAt: optionalString(),
  size: z.number().int().optional(),
  versionId: optionalString(),
  submissionId: optionalString(),
  rejectionReasons: z.array(z.string()).optional(),
  /** Object key in the documents bucket (kycKeys.objectKey). */
  s3Key: z.string().min(1),
  /** The presigned upload stops working at this time (ISO). */
  uploadDeadline: z.string(),
}) satisfies z.ZodType<KycDocument>;

/** The review block of a submission (also read alone, projected, by kyc-reviews.ts). */
export const submissionReviewSchema = nested({
  status: z.enum(['pending', 'decided']),
  queuedAt: z.string(),
  priority: z.enum(['high', 'normal']),
  decidedAt: optionalString(),
});

const submissionSchema = z.object({
  submissionId: z.string().min(1),
  clientId: z.string().min(1),
  status: oneOf<SubmissionStatus>({
    processing: true,
    in_review: true,
    approved: true,
    rejected: true,
    documents_requested: true,
  }),
  identity: nested({ documentType: documentTypeSchema, documentIds: z.array(z.string()) }),
  addressProof: nested({ documentType: z.string(), documentId: z.string() }).optional(),
  selfie: nested({ documentId: z.string() }).optional(),
  submittedAt: z.string().min(1),
  renewal: z.boolean().optional(),
  timeline: z.array(
    nested({
      step: oneOf<SubmissionStep>({
        submitted: true,
        analysis_completed: true,
        analysis_failed: true,
        checks_completed: true,
        review_opened: true,
        decided: true,
      }),
      at: z.string(),
      detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    }),
  ),
  checks: nested({
    issues: z.array(issueSchema),
    outcome: z.enum(['approve', 'reject', 'manual_review']),
    priority: z.enum(['high', 'normal']).optional(),
  }).optional(),
  review: submissionReviewSchema.optional(),
  decision: nested({
    outcome: z.enum(['approved', 'rejected', 'documents_requested']),
    decidedBy: z.string(),
    decidedAt: z.string(),
    reasons: z.array(z.string()),
    note: optionalString(),
    documentIds: z.array(z.string()),
    canResubmit: z.boolean(),
  }).optional(),
  /**
   * Name of the submission's current kyc-review execution: the submissionId, or `<submissionId>-r<n>`
   * once the kyc-watchdog job restarted it n times.
   */
  executionName: z.string().min(1),
  /** Restarts by the kyc-watchdog job so far (absent = none). */
  executionAttempt: z.number().int().optional(),
  /** Set when the kyc-watchdog job gave up restarting the execution (and queued it for a manual decision). */
  executionStalledAt: optionalString(),
  /**
   * Task token of the open manual review (secret: never in an API view). Kept by the decision commit
   * (with callbackPending) until the waiting execution has been resumed.
   */
  taskToken: optionalString(),
  /**
   * Set by the decision commit when an execution waits on taskToken: the callback (SendTaskSuccess) is
   * still owed. Cleared, with the token, once it went through or the token is gone (clearReviewCallback);
   * the kyc-watchdog job re-sends it when it stays set. Never in an API view.
   */
  callbackPending: z.literal(true).optional(),
}) satisfies z.ZodType<KycSubmission>;

const fieldConfidence = z.record(z.string(), z.number());

const extractionSchema = z.object({
  submissionId: z.string().min(1),
  unit: z.enum(['identity', 'address']),
  documentIds: z.array(z.string()),
  identity: nested({
    documentType: documentTypeSchema,
    documentNumber: optionalString(),
    givenNames: optionalString(),
    surname: optionalString(),
    dateOfBirth: optionalString(),
    expiryDate: optionalString(),
    issuingCountry: optionalString(),
    nationality: optionalString(),
    mrz: optionalString(),
    fieldConfidence,
  }).optional() satisfies z.ZodType<ExtractedIdentity | undefined>,
  addressProof: nested({
    issueDate: optionalString(),
    addressLines: z.array(z.string()).optional(),
    postalCode: optionalString(),
    country: optionalString(),
    nameOnDocument: optionalString(),
    fieldConfidence,
  }).optional() satisfies z.ZodType<ExtractedAddressProof | undefined>,
  /** Set when the analysis failed for good (after retries); the checks turn it into an analysis_failed issue. */
  failure: nested({ error: z.string(), reason: optionalString() }).optional(),
  analysedAt: z.string(),
});

const documentNumberSchema = z.object({
  country: z.string().min(1),
  /** Normalised (normaliseDocumentNumber). */
  documentNumber: z.string().min(1),
  clientId: z.string().min(1),
  submissionId: z.string().min(1),
});

const expirySchema = z.object({
  clientId: z.string().min(1),
  submissionId: z.string().min(1),
  /** YYYY-MM-DD */
  identityExpiresOn: z.string().min(1),
  /** Set once the client was told the document expires soon / once it was moved to action_required. */
  expiringSoonFlaggedAt: optionalString(),
  expiredFlaggedAt: optionalString(),
});

// ----------------------------------------------------------------------------------------------- entities

/** gsi2 as the status and review block say: the processing list, then the review queue, else none. */
function reviewIndex(s: Pick<KycSubmission, 'review' | 'status' | 'submittedAt' | 'submissionId'>) {
  const r = s.review;
  if (!r) return s.status === 'processing' ? kycKeys.processingIndex(s.submittedAt, s.submissionId) : {};
  return r.status === 'pending'
    ? kycKeys.reviewQueueIndex('pending', r.queuedAt, s.submissionId)
    : kycKeys.reviewQueueIndex('decided', r.decidedAt ?? r.queuedAt, s.submissionId);
}

export const kycDocumentEntity = defineEntity({
  type: kycKeys.documentType,
  schema: documentSchema,
  key: (d) => kycKeys.document(d.documentId),
  indexes: (d) => kycKeys.clientDocumentsIndex(d.clientId, d.createdAt, d.documentId),
  what: 'document',
});

export const kycSubmissionEntity = defineEntity({
  type: kycKeys.submissionType,
  schema: submissionSchema,
  key: (s) => kycKeys.submission(s.submissionId),
  indexes: (s) => ({
    ...kycKeys.clientSubmissionsIndex(s.clientId, s.submittedAt, s.submissionId),
    ...reviewIndex(s),
  }),
  what: 'submission',
});

export const kycExtractionEntity = defineEntity({
  type: kycKeys.extractionType,
  schema: extractionSchema,
  key: (e) => kycKeys.extraction(e.submissionId, e.unit),
});

export const kycDocumentNumberEntity = defineEntity({
  type: kycKeys.documentNumberType,
  schema: documentNumberSchema,
  key: (n) => kycKeys.documentNumber(n.country, n.documentNumber, n.clientId),
});

export const kycExpiryEntity = defineEntity({
  type: kycKeys.expiryType,
  schema: expirySchema,
  key: (e) => kycKeys.expiry(e.clientId),
  indexes: (e) => kycKeys.expiryIndex(e.identityExpiresOn, e.clientId),
  what: 'expiry watch',
});

export type KycDocumentItem = ItemOf<typeof kycDocumentEntity>;
export type KycSubmissionItem = ItemOf<typeof kycSubmissionEntity>;
export type KycExtractionItem = ItemOf<typeof kycExtractionEntity>;
export type KycExpiryItem = ItemOf<typeof kycExpiryEntity>;

async function listIndex<E extends typeof kycDocumentEntity | typeof kycSubmissionEntity>(
  entity: E,
  partition: string,
): Promise<ItemOf<E>[]> {
  const out: ItemOf<E>[] = [];
  for await (const page of entity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': partition },
  })) {
    out.push(...(page as ItemOf<E>[]));
    if (out.length >= MAX_CLIENT_ITEMS) break;
  }
  return out.slice(0, MAX_CLIENT_ITEMS);
}

// ---------------------------------------------------------------------------------------------- documents

export function newKycDocument(fields: KycDocument & { uploadDeadline: string }, now: string): KycDocumentItem {
  return kycDocumentEntity.item({ ...fields, s3Key: kycKeys.objectKey(fields.clientId, fields.documentId) }, now);
}

export const putKycDocument = (item: KycDocumentItem): CommitWrite =>
  kycDocumentEntity.putNew(item, new DomainError('conflict', 'conflict', 'This document already exists'));

export const getKycDocument = (documentId: string) => kycDocumentEntity.get(kycKeys.document(documentId), { consistent: true });

/** Several documents by id (missing ids are absent from the map). */
export async function getKycDocuments(documentIds: readonly string[]): Promise<Map<string, KycDocumentItem>> {
  const items = await kycDocumentEntity.getMany([...new Set(documentIds)].map((id) => kycKeys.document(id)));
  return new Map(items.map((item) => [item.documentId, item]));
}

/** A client's files, oldest first. */
export const listClientDocuments = (clientId: string) => listIndex(kycDocumentEntity, kycKeys.clientDocumentsPartition(clientId));

export const replaceKycDocument = (read: KycDocumentItem, next: KycDocumentItem, now: string) =>
  kycDocumentEntity.replace(read, next, now);

// -------------------------------------------------------------------------------------------- submissions

export function newKycSubmission(fields: KycSubmission, now: string): KycSubmissionItem {
  return kycSubmissionEntity.item({ ...fields, executionName: fields.submissionId }, now);
}

export const putKycSubmission = (item: KycSubmissionItem): CommitWrite =>
  kycSubmissionEntity.putNew(item, new DomainError('conflict', 'conflict', 'This submission already exists'));

export const getKycSubmission = (submissionId: string) =>
  kycSubmissionEntity.get(kycKeys.submission(submissionId), { consistent: true });

/** A client's submissions, oldest first. */
export const listClientSubmissions = (clientId: string) =>
  listIndex(kycSubmissionEntity, kycKeys.clientSubmissionsPartition(clientId));

/** Replaces a submission read at `read.version`; gsi2 follows `next.status` and `next.review`. */
export const replaceKycSubmission = (read: KycSubmissionItem, next: KycSubmissionItem, now: string) =>
  kycSubmissionEntity.replace(read, next, now);

/**
 * After the decided review's execution was resumed (or its token turned out to be gone): removes the task
 * token and callbackPending. A plain conditional UpdateItem, deliberately not a commit(): it changes no
 * business state (the decision, its audit item and its event are already committed), so it has no audit
 * item. Conditioned on the token still being the one resumed and the callback still pending; the version is
 * bumped so no replacement based on an earlier read can bring the token back. False when there was nothing
 * to clear (already cleared, e.g. by a concurrent watchdog run).
 */
export async function clearReviewCallback(submissionId: string, taskToken: string, now = new Date()): Promise<boolean> {
  try {
    await ddb().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: kycKeys.submission(submissionId),
        UpdateExpression: 'SET #v = #v + :one, #u = :now REMOVE #t, #cp',
        ConditionExpression: '#t = :token AND #cp = :true',
        ExpressionAttributeNames: { '#v': 'version', '#u': 'updatedAt', '#t': 'taskToken', '#cp': 'callbackPending' },
        ExpressionAttributeValues: { ':one': 1, ':now': now.toISOString(), ':token': taskToken, ':true': true },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/**
 * The submissions on a gsi2 work list ('processing': KYCPROCESSING, status processing without a review;
 * 'pending': KYCREVIEWS#pending, open manual reviews) listed before `before` (gsi2sk is `<at>#<submissionId>`,
 * so every earlier `at` sorts first), oldest first, page by page.
 */
export function staleSubmissions(list: 'processing' | 'pending', before: string): AsyncGenerator<KycSubmissionItem[]> {
  const partition = list === 'processing' ? kycKeys.processingPartition : kycKeys.reviewQueuePartition('pending');
  return kycSubmissionEntity.queryPages({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk < :before',
    ExpressionAttributeValues: { ':pk': partition, ':before': before },
  });
}

/** Decided reviews (KYCREVIEWS#decided, by decidedAt) in [from, before] whose callback is still pending, page by page. */
export function decidedWithPendingCallback(from: string, before: string): AsyncGenerator<KycSubmissionItem[]> {
  return kycSubmissionEntity.queryPages({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk BETWEEN :from AND :before',
    FilterExpression: '#cp = :true',
    ExpressionAttributeNames: { '#cp': 'callbackPending' },
    ExpressionAttributeValues: {
      ':pk': kycKeys.reviewQueuePartition('decided'),
      ':from': from,
      ':before': before,
      ':true': true,
    },
  });
}

// -------------------------------------------------------------------------------------------- extractions

export const kycExtractionItem = (fields: FieldsOf<typeof kycExtractionEntity>, now: string): KycExtractionItem =>
  kycExtractionEntity.item(fields, now);

/** An extraction result: a plain Put, so a retried analysis overwrites its own earlier result. */
export const putKycExtraction = (item: KycExtractionItem): CommitWrite => ({ Put: { Item: kycExtractionEntity.indexed(item) } });

export async function getKycExtractions(submissionId: string): Promise<KycExtractionItem[]> {
  const out: KycExtractionItem[] = [];
  const { pk } = kycKeys.submission(submissionId);
  for await (const page of kycExtractionEntity.queryPages({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
    ExpressionAttributeValues: { ':pk': pk, ':p': 'EXTRACTION#' },
    ConsistentRead: true,
  })) {
    out.push(...page);
  }
  return out;
}

// --------------------------------------------------------------------------------------- document numbers

/** Upper case, without spaces, dashes, dots and MRZ fillers. */
export const normaliseDocumentNumber = (n: string) => n.toUpperCase().replace(/[\s.<-]/g, '');

/** Records that `clientId` presented this document number (idempotent Put). */
export function claimDocumentNumber(
  country: string,
  documentNumber: string,
  clientId: string,
  submissionId: string,
  now: string,
): CommitWrite {
  const item = kycDocumentNumberEntity.item(
    { country, documentNumber: normaliseDocumentNumber(documentNumber), clientId, submissionId },
    now,
  );
  return { Put: { Item: item } };
}

/** Every client that presented this document number. */
export async function documentNumberHolders(country: string, documentNumber: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of kycDocumentNumberEntity.queryPages({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': kycKeys.documentNumberPartition(country, normaliseDocumentNumber(documentNumber)) },
  })) {
    out.push(...page.map((i) => i.clientId));
  }
  return out;
}

// ------------------------------------------------------------------------------------------- expiry watch

export const kycExpiryItem = (
  fields: { clientId: string; submissionId: string; identityExpiresOn: string },
  now: string,
): KycExpiryItem => kycExpiryEntity.item(fields, now);

/** Starts (or restarts, after a re-verification) watching the client's approved identity document. */
export const putKycExpiry = (item: KycExpiryItem): CommitWrite => ({ Put: { Item: kycExpiryEntity.indexed(item) } });

export const getKycExpiry = (clientId: string) => kycExpiryEntity.get(kycKeys.expiry(clientId), { consistent: true });

export const replaceKycExpiry = (read: KycExpiryItem, next: KycExpiryItem, now: string) =>
  kycExpiryEntity.replace(read, next, now);

/**
 * The expiry watch items whose identityExpiresOn is before `beforeDay` (YYYY-MM-DD), soonest first, page by
 * page (gsi1 KYCEXPIRIES; gsi1sk is '<YYYY-MM-DD>#<clientId>', so every earlier date sorts first).
 */
export function dueExpiryWatches(beforeDay: string): AsyncGenerator<KycExpiryItem[]> {
  return kycExpiryEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :before',
    ExpressionAttributeValues: { ':pk': kycKeys.expiryPartition, ':before': beforeDay },
  });
}
