/**
 * The reasons a compliance officer picks when deciding a manual KYC review, and how automatic
 * rejections map to what the client must do next. Pure data and validation.
 *
 * Invariants:
 * - every reason has en, de and es client messages; confidential reasons (suspected_forgery,
 *   sanctions_confirmed, duplicate_account) share ONE generic message that names no list, score,
 *   other client or suspicion, so the client cannot tell them apart
 * - a reason is usable only with the decisions it lists: approve-only reasons (verified_manually,
 *   expiring_soon_accepted) never justify a rejection, reject-only reasons (sanctions_confirmed,
 *   underage, country_restricted, duplicate_account) never justify an approval or a document request
 * - reject and request_documents need at least one reason; approve needs none
 * - 'other' needs a note of at least 5 characters (after trimming)
 * - a reject is final (canResubmit false) when any of its reasons is final; request_documents can
 *   always be answered with new documents; approve has nothing to resubmit (canResubmit true)
 * - every bad reason code is named in its own field error, so the officer sees all of them at once
 * - an automatic rejection is final only for facts new documents cannot change: underage,
 *   country_restricted, sanctions_hit (hard)
 * - a rejected file carries the reasons about its category or about no category (all of them when
 *   none match), review reasons and issue codes alike
 */
import { DomainError, type FieldError } from '../errors.ts';
import { textsOf } from '../messages/catalogue.ts';
import { REQUIRED_ADDRESS_FIELDS } from './checks.ts';
import { ISSUE_CATALOGUE, type Locale } from './decision.ts';
import type { KycIssue, KycIssueCode } from './model.ts';
import type { DocumentCategory, ReviewDecisionKind } from './submission.ts';

export const REVIEW_REASON_CODES = [
  'document_unreadable',
  'document_expired',
  'document_type_not_accepted',
  'document_incomplete',
  'name_mismatch',
  'dob_mismatch',
  'address_proof_too_old',
  'address_mismatch',
  'address_proof_not_accepted',
  'selfie_mismatch',
  'suspected_forgery',
  'sanctions_confirmed',
  'underage',
  'country_restricted',
  'duplicate_account',
  'verified_manually',
  'expiring_soon_accepted',
  'other',
] as const;
export type ReviewReasonCode = (typeof REVIEW_REASON_CODES)[number];

export interface ReviewReason {
  /** The decisions this reason may justify. */
  decisions: ReviewDecisionKind[];
  /** The document category the client must upload again, when the reason is about one document. */
  category?: DocumentCategory;
  /** A rejection with this reason cannot be fixed by new documents (canResubmit false). */
  final: boolean;
  /** The client message is the shared generic one; the code itself is never shown to the client. */
  confidential: boolean;
  clientMessage: Record<Locale, string>;
}

/** Shared by every confidential reason: says nothing about why. */
export const CONFIDENTIAL_REVIEW_MESSAGE: Readonly<Record<Locale, string>> = textsOf('kyc.review.confidential_review_message');

const NEGATIVE: ReviewDecisionKind[] = ['reject', 'request_documents'];
const REJECT: ReviewDecisionKind[] = ['reject'];
const APPROVE: ReviewDecisionKind[] = ['approve'];

export const REVIEW_REASONS: Readonly<Record<ReviewReasonCode, ReviewReason>> = {
  document_unreadable: {
    decisions: NEGATIVE,
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.document_unreadable'),
  },
  document_expired: {
    decisions: NEGATIVE,
    category: 'identity',
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.document_expired'),
  },
  document_type_not_accepted: {
    decisions: NEGATIVE,
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.document_type_not_accepted'),
  },
  document_incomplete: {
    decisions: NEGATIVE,
    category: 'identity',
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.document_incomplete'),
  },
  name_mismatch: {
    decisions: NEGATIVE,
    category: 'identity',
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.name_mismatch'),
  },
  dob_mismatch: {
    decisions: NEGATIVE,
    category: 'identity',
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.dob_mismatch'),
  },
  address_proof_too_old: {
    decisions: NEGATIVE,
    category: 'proof_of_address',
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.address_proof_too_old'),
  },
  address_mismatch: {
    decisions: NEGATIVE,
    category: 'proof_of_address',
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.address_mismatch'),
  },
  address_proof_not_accepted: {
    decisions: NEGATIVE,
    category: 'proof_of_address',
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.address_proof_not_accepted'),
  },
  selfie_mismatch: {
    decisions: NEGATIVE,
    category: 'selfie',
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.selfie_mismatch'),
  },
  suspected_forgery: { decisions: NEGATIVE, final: true, confidential: true, clientMessage: CONFIDENTIAL_REVIEW_MESSAGE },
  sanctions_confirmed: { decisions: REJECT, final: true, confidential: true, clientMessage: CONFIDENTIAL_REVIEW_MESSAGE },
  underage: {
    decisions: REJECT,
    final: true,
    confidential: false,
    clientMessage: textsOf('kyc.review.underage'),
  },
  country_restricted: {
    decisions: REJECT,
    final: true,
    confidential: false,
    clientMessage: textsOf('kyc.review.country_restricted'),
  },
  duplicate_account: { decisions: REJECT, final: true, confidential: true, clientMessage: CONFIDENTIAL_REVIEW_MESSAGE },
  verified_manually: {
    decisions: APPROVE,
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.verified_manually'),
  },
  expiring_soon_accepted: {
    decisions: APPROVE,
    category: 'identity',
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.expiring_soon_accepted'),
  },
  other: {
    decisions: ['approve', 'reject', 'request_documents'],
    final: false,
    confidential: false,
    clientMessage: textsOf('kyc.review.other'),
  },
};

export const isReviewReasonCode = (code: unknown): code is ReviewReasonCode =>
  typeof code === 'string' && Object.hasOwn(REVIEW_REASONS, code);

export const MIN_NOTE_LENGTH = 5;

/**
 * Checks the reasons an officer gave for a decision; DomainError (all 400, kind 'validation'):
 * reasons_required (reject / request_documents without a reason), unknown_reason (one field error per
 * unknown code), reason_not_allowed (one field error per reason the decision does not allow),
 * note_required ('other' without a note of >= 5 characters). Checked in that order.
 */
export function validateReviewDecision(
  decision: ReviewDecisionKind,
  reasons: readonly string[],
  note?: string,
): { canResubmit: boolean } {
  if (decision !== 'approve' && reasons.length === 0) {
    throw new DomainError('reasons_required', 'validation', `A ${decision} decision needs at least one reason`, [
      { field: 'reasons', code: 'reasons_required', message: 'pick at least one reason' },
    ]);
  }
  const unknown: FieldError[] = [];
  const notAllowed: FieldError[] = [];
  reasons.forEach((code, i) => {
    if (!isReviewReasonCode(code)) {
      unknown.push({ field: `reasons.${i}`, code: 'unknown_reason', message: `unknown reason ${JSON.stringify(code)}` });
    } else if (!REVIEW_REASONS[code].decisions.includes(decision)) {
      notAllowed.push({ field: `reasons.${i}`, code: 'reason_not_allowed', message: `${code} cannot justify ${decision}` });
    }
  });
  if (unknown.length > 0) {
    const codes = reasons.filter((c) => !isReviewReasonCode(c));
    throw new DomainError('unknown_reason', 'validation', `Unknown reason(s): ${codes.join(', ')}`, unknown, { codes });
  }
  if (notAllowed.length > 0) {
    const codes = reasons.filter((c) => isReviewReasonCode(c) && !REVIEW_REASONS[c].decisions.includes(decision));
    throw new DomainError('reason_not_allowed', 'validation', `Not allowed for ${decision}: ${codes.join(', ')}`, notAllowed, {
      codes,
      decision,
    });
  }
  if (reasons.includes('other') && (note ?? '').trim().length < MIN_NOTE_LENGTH) {
    throw new DomainError(
      'note_required',
      'validation',
      `Reason 'other' needs a note of at least ${MIN_NOTE_LENGTH} characters`,
      [{ field: 'note', code: 'note_required', message: `at least ${MIN_NOTE_LENGTH} characters` }],
    );
  }
  const final = reasons.some((c) => REVIEW_REASONS[c as ReviewReasonCode].final);
  return { canResubmit: decision !== 'reject' || !final };
}

/** The client message for a reason; confidential reasons give the shared generic message. */
export function reviewReasonMessage(code: ReviewReasonCode, locale: Locale = 'en'): string {
  return REVIEW_REASONS[code].clientMessage[locale];
}

/** The category to upload again for each automatic issue; undefined when no new document fixes it. */
const ISSUE_DOCUMENT: Readonly<Record<KycIssueCode, DocumentCategory | undefined>> = {
  mrz_invalid: 'identity',
  mrz_mismatch: 'identity',
  document_expired: 'identity',
  document_expiring_soon: 'identity',
  document_data_invalid: 'identity',
  name_mismatch: 'identity',
  dob_mismatch: 'identity',
  low_confidence: 'identity',
  address_proof_too_old: 'proof_of_address',
  address_mismatch: 'proof_of_address',
  underage: undefined,
  country_restricted: undefined,
  sanctions_hit: undefined,
  sanctions_possible_match: undefined,
  duplicate_document: undefined,
  analysis_failed: undefined,
  verification_stalled: undefined,
};

const ADDRESS_FIELDS: ReadonlySet<string> = new Set(REQUIRED_ADDRESS_FIELDS);

/**
 * The document category the client must upload again to fix an automatic issue, or undefined
 * (nothing to upload: a fact about the client, a confidential finding, or an inspection by a human).
 * Given only a code, low_confidence and document_data_invalid point at the identity document; given the
 * issue, they point at the proof of address when every field they name is an address-proof field
 * (checks.ts REQUIRED_ADDRESS_FIELDS, e.g. an unreadable issueDate).
 */
export function issueRequiresNewDocument(issue: KycIssueCode | Pick<KycIssue, 'code' | 'field'>): DocumentCategory | undefined {
  const code = typeof issue === 'string' ? issue : issue.code;
  const field = typeof issue === 'string' ? undefined : issue.field;
  if ((code === 'low_confidence' || code === 'document_data_invalid') && field) {
    const fields = field.split(',').map((f) => f.trim());
    if (fields.every((f) => ADDRESS_FIELDS.has(f))) return 'proof_of_address';
  }
  return ISSUE_DOCUMENT[code];
}

/** Hard issues no new document can fix. */
export const FINAL_ISSUE_CODES: readonly KycIssueCode[] = ['underage', 'country_restricted', 'sanctions_hit'];

/** True when an automatic rejection cannot be fixed by new documents (a hard underage, country_restricted or sanctions_hit). */
export function autoRejectionIsFinal(issues: readonly Pick<KycIssue, 'code' | 'severity'>[]): boolean {
  return issues.some((i) => i.severity === 'hard' && FINAL_ISSUE_CODES.includes(i.code));
}

/** The document category a reason is about (review reasons and issue codes); undefined = the whole submission. */
export function reasonCategory(reason: string): DocumentCategory | undefined {
  if (isReviewReasonCode(reason)) return REVIEW_REASONS[reason].category;
  if (Object.hasOwn(ISSUE_CATALOGUE, reason)) return issueRequiresNewDocument(reason as KycIssueCode);
  return undefined;
}

/** The reasons that concern one file: those about its category or about no category; all of them when none match. */
export function reasonsForDocument(reasons: readonly string[], category: DocumentCategory): string[] {
  const own = reasons.filter((r) => {
    const c = reasonCategory(r);
    return c === undefined || c === category;
  });
  return own.length > 0 ? own : [...reasons];
}
