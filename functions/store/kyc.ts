/**
 * KYC persistence: document files, submissions, extraction results, document-number claims and the
 * expiry watch (keys in keys.ts, kycKeys). Shapes come from domain/kyc/submission.ts.
 *
 * Invariants:
 * - documents and submissions are created with putNew and only ever replaced whole, conditioned on the
 *   version read (optimistic concurrency, 409 conflict on a race), with the version bumped by one
 * - a submission's gsi2 is derived from its status and `review` block on every write: KYCPROCESSING (by
 *   submittedAt) while it is 'processing' without a review (the kyc-watchdog job's work list), then the
 *   review queue while a manual review exists (KYCREVIEWS#pending by queuedAt, then KYCREVIEWS#decided by
 *   decidedAt), absent otherwise (an automatic decision), so neither list can disagree with the submission
 * - the Step Functions task token of an open review is stored on the submission and never leaves the
 *   store through an API view (submissionView strips it, and the callbackPending flag)
 * - the one write that is not a whole replacement: clearReviewCallback (store/kyc-decision.ts), a conditional
 *   UpdateItem that removes the token and callbackPending once the callback went through - bookkeeping, not
 *   a business change, so it has no audit item; it still bumps the version, so a replacement based on an
 *   earlier read fails its condition instead of bringing the token back
 * - extraction results are keyed by (submission, unit) and overwritten by a re-analysis, so a retried
 *   analysis step is idempotent
 * - document numbers are claimed per (issuing country, normalised number, client); the duplicate check
 *   reads every claim of the number
 * - no attribute here is named `expiresAt` (the table's TTL attribute)
 * - nothing here logs: documents and extractions are PII
 */
import { BatchGetCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import type { ExtractedAddressProof, ExtractedIdentity } from '#domain/kyc/model.ts';
import type { KycDocument, KycSubmission } from '#domain/kyc/submission.ts';
import { ddb } from '#shared/clients.ts';
import { type CommitWrite, newItem, putNew, replaceVersioned, tableName } from './items.ts';
import { type Key, kycKeys } from './keys.ts';
import { queryPages } from './pagination.ts';
import type { BaseItem } from './table.ts';

/** Upper bound on the files and submissions a client's list reads (far above any real client). */
export const MAX_CLIENT_ITEMS = 500;

export type KycDocumentItem = BaseItem &
  KycDocument & {
    type: 'kyc-document';
    /** Object key in the documents bucket. */
    s3Key: string;
    /** The presigned upload stops working at this time (ISO). */
    uploadDeadline: string;
    gsi1pk: string;
    gsi1sk: string;
  };

export type KycSubmissionItem = BaseItem &
  KycSubmission & {
    type: 'kyc-submission';
    /**
     * Name of the submission's current kyc-review execution: the submissionId, or `<submissionId>-r<n>`
     * once the kyc-watchdog job restarted it n times.
     */
    executionName: string;
    /** Restarts by the kyc-watchdog job so far (absent = none). */
    executionAttempt?: number | undefined;
    /** Set when the kyc-watchdog job gave up restarting the execution (and queued it for a manual decision). */
    executionStalledAt?: string | undefined;
    /**
     * Task token of the open manual review (secret: never in an API view). Kept by the decision commit
     * (with callbackPending) until the waiting execution has been resumed.
     */
    taskToken?: string | undefined;
    /**
     * Set by the decision commit when an execution waits on taskToken: the callback (SendTaskSuccess) is
     * still owed. Cleared, with the token, once it went through or the token is gone (clearReviewCallback);
     * the kyc-watchdog job re-sends it when it stays set. Never in an API view.
     */
    callbackPending?: true | undefined;
    gsi1pk: string;
    gsi1sk: string;
    gsi2pk?: string | undefined;
    gsi2sk?: string | undefined;
  };

export interface KycExtractionItem extends BaseItem {
  type: 'kyc-extraction';
  submissionId: string;
  unit: 'identity' | 'address';
  documentIds: string[];
  identity?: ExtractedIdentity | undefined;
  addressProof?: ExtractedAddressProof | undefined;
  /** Set when the analysis failed for good (after retries); the checks turn it into an analysis_failed issue. */
  failure?: { error: string; reason?: string | undefined } | undefined;
  analysedAt: string;
}

export interface KycExpiryItem extends BaseItem {
  type: 'kyc-expiry';
  clientId: string;
  submissionId: string;
  identityExpiresOn: string;
  /** Set once the client was told the document expires soon / once it was moved to action_required. */
  expiringSoonFlaggedAt?: string | undefined;
  expiredFlaggedAt?: string | undefined;
  gsi1pk: string;
  gsi1sk: string;
}

async function getItem<T>(key: Key): Promise<T | undefined> {
  const res = await ddb().send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }));
  return res.Item as T | undefined;
}

async function listIndex<T>(partition: string): Promise<T[]> {
  const out: T[] = [];
  for await (const page of queryPages<T>({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :pk',
    ExpressionAttributeValues: { ':pk': partition },
  })) {
    out.push(...page);
    if (out.length >= MAX_CLIENT_ITEMS) break;
  }
  return out.slice(0, MAX_CLIENT_ITEMS);
}

// ---------------------------------------------------------------------------------------------- documents

export function newKycDocument(fields: KycDocument & { uploadDeadline: string }, now: string): KycDocumentItem {
  return newItem(
    {
      ...kycKeys.document(fields.documentId),
      type: kycKeys.documentType,
      ...fields,
      s3Key: kycKeys.objectKey(fields.clientId, fields.documentId),
      ...kycKeys.clientDocumentsIndex(fields.clientId, now, fields.documentId),
    },
    now,
  ) as KycDocumentItem;
}

export const putKycDocument = (item: KycDocumentItem): CommitWrite =>
  putNew(item, new DomainError('conflict', 'conflict', 'This document already exists'));

export const getKycDocument = (documentId: string) => getItem<KycDocumentItem>(kycKeys.document(documentId));

/** Several documents by id (missing ids are absent from the map). */
export async function getKycDocuments(documentIds: readonly string[]): Promise<Map<string, KycDocumentItem>> {
  const out = new Map<string, KycDocumentItem>();
  const ids = [...new Set(documentIds)];
  for (let i = 0; i < ids.length; i += 100) {
    let keys: Key[] | undefined = ids.slice(i, i + 100).map((id) => kycKeys.document(id));
    for (let attempt = 0; keys && keys.length > 0; attempt++) {
      if (attempt > 8) throw new Error('kyc: BatchGet kept returning unprocessed keys');
      const res = await ddb().send(
        new BatchGetCommand({ RequestItems: { [tableName()]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of (res.Responses?.[tableName()] ?? []) as KycDocumentItem[]) out.set(item.documentId, item);
      keys = res.UnprocessedKeys?.[tableName()]?.Keys as Key[] | undefined;
      if (keys?.length) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
    }
  }
  return out;
}

/** A client's files, oldest first. */
export const listClientDocuments = (clientId: string) => listIndex<KycDocumentItem>(kycKeys.clientDocumentsPartition(clientId));

export const replaceKycDocument = (read: KycDocumentItem, next: KycDocumentItem, now: string) =>
  replaceVersioned(read, next, now, 'document');

// -------------------------------------------------------------------------------------------- submissions

/** gsi2 as the status and review block say: the processing list, then the review queue. */
function reviewIndex(s: Pick<KycSubmission, 'review' | 'status' | 'submittedAt' | 'submissionId'>) {
  const r = s.review;
  if (!r) {
    return s.status === 'processing'
      ? kycKeys.processingIndex(s.submittedAt, s.submissionId)
      : { gsi2pk: undefined, gsi2sk: undefined };
  }
  return r.status === 'pending'
    ? kycKeys.reviewQueueIndex('pending', r.queuedAt, s.submissionId)
    : kycKeys.reviewQueueIndex('decided', r.decidedAt ?? r.queuedAt, s.submissionId);
}

function withIndexes(item: KycSubmissionItem): KycSubmissionItem {
  const { gsi2pk, gsi2sk } = reviewIndex(item);
  const { gsi2pk: _a, gsi2sk: _b, ...rest } = item;
  return (gsi2pk ? { ...rest, gsi2pk, gsi2sk } : rest) as KycSubmissionItem;
}

export function newKycSubmission(fields: KycSubmission, now: string): KycSubmissionItem {
  return withIndexes(
    newItem(
      {
        ...kycKeys.submission(fields.submissionId),
        type: kycKeys.submissionType,
        ...fields,
        executionName: fields.submissionId,
        ...kycKeys.clientSubmissionsIndex(fields.clientId, fields.submittedAt, fields.submissionId),
      },
      now,
    ) as KycSubmissionItem,
  );
}

export const putKycSubmission = (item: KycSubmissionItem): CommitWrite =>
  putNew(item, new DomainError('conflict', 'conflict', 'This submission already exists'));

export const getKycSubmission = (submissionId: string) => getItem<KycSubmissionItem>(kycKeys.submission(submissionId));

/** A client's submissions, oldest first. */
export const listClientSubmissions = (clientId: string) =>
  listIndex<KycSubmissionItem>(kycKeys.clientSubmissionsPartition(clientId));

/** Replaces a submission read at `read.version`; gsi2 follows `next.status` and `next.review`. */
export const replaceKycSubmission = (read: KycSubmissionItem, next: KycSubmissionItem, now: string) =>
  replaceVersioned(read, withIndexes(next), now, 'submission');

/** The submission without storage attributes and without the task token. */
export function submissionView(s: KycSubmissionItem): KycSubmission {
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

// -------------------------------------------------------------------------------------------- extractions

export function kycExtractionItem(
  fields: Omit<KycExtractionItem, keyof BaseItem | 'type'>,
  now: string,
): KycExtractionItem & { pk: string; sk: string } {
  return newItem(
    { ...kycKeys.extraction(fields.submissionId, fields.unit), type: kycKeys.extractionType, ...fields },
    now,
  ) as KycExtractionItem;
}

/** An extraction result: a plain Put, so a retried analysis overwrites its own earlier result. */
export const putKycExtraction = (item: KycExtractionItem): CommitWrite => ({ Put: { Item: item as never } });

export async function getKycExtractions(submissionId: string): Promise<KycExtractionItem[]> {
  const out: KycExtractionItem[] = [];
  const { pk } = kycKeys.submission(submissionId);
  for await (const page of queryPages<KycExtractionItem>({
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
  const number = normaliseDocumentNumber(documentNumber);
  return {
    Put: {
      Item: newItem(
        {
          ...kycKeys.documentNumber(country, number, clientId),
          type: kycKeys.documentNumberType,
          country,
          documentNumber: number,
          clientId,
          submissionId,
        },
        now,
      ),
    },
  };
}

/** Every client that presented this document number. */
export async function documentNumberHolders(country: string, documentNumber: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of queryPages<{ clientId: string }>({
    KeyConditionExpression: 'pk = :pk',
    ExpressionAttributeValues: { ':pk': kycKeys.documentNumberPartition(country, normaliseDocumentNumber(documentNumber)) },
  })) {
    out.push(...page.map((i) => i.clientId));
  }
  return out;
}

// ------------------------------------------------------------------------------------------- expiry watch

export function kycExpiryItem(
  fields: { clientId: string; submissionId: string; identityExpiresOn: string },
  now: string,
): KycExpiryItem {
  return newItem(
    {
      ...kycKeys.expiry(fields.clientId),
      type: kycKeys.expiryType,
      ...fields,
      ...kycKeys.expiryIndex(fields.identityExpiresOn, fields.clientId),
    },
    now,
  ) as KycExpiryItem;
}

/** Starts (or restarts, after a re-verification) watching the client's approved identity document. */
export const putKycExpiry = (item: KycExpiryItem): CommitWrite => ({ Put: { Item: item as never } });

export const getKycExpiry = (clientId: string) => getItem<KycExpiryItem>(kycKeys.expiry(clientId));

export const replaceKycExpiry = (read: KycExpiryItem, next: KycExpiryItem, now: string) =>
  replaceVersioned(read, next, now, 'expiry watch');
