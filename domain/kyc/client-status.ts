/**
 * The client's view of its own verification: one status, the one thing to do next, the latest
 * submission's progress, its files with client-safe reasons, earlier submissions and an estimate of
 * when the current check completes. Pure; the clock, the expiry flag and the ETA are passed in.
 *
 * Status rules (the latest submission by submittedAt decides; ties by submissionId):
 *   no files, no submission            -> not_started       next complete_profile (profile incomplete) | upload_documents
 *   files, no submission               -> documents_required next complete_profile (profile incomplete)
 *                                                              | submit_documents (a file is uploaded) | upload_documents
 *   processing | in_review             -> in_review         next wait (with estimatedCompletion)
 *   approved                           -> approved          next fund_account ('none' once `funded`)
 *     ... identity expired (flag or date) -> action_required next upload_new_identity_document
 *   rejected, canResubmit false        -> rejected          next contact_support (also when no decision is recorded)
 *   rejected, canResubmit true         -> action_required   next upload_new_documents
 *   documents_requested                -> action_required   next upload_requested_documents
 *   a renewal (submission.renewal: sent while the approved document was expiring soon), as long as that
 *   approved document has not expired:
 *     processing | in_review           -> approved          next wait (with estimatedCompletion)
 *     rejected (canResubmit) | documents_requested -> approved, next upload_new_documents |
 *                                                            upload_requested_documents (the approval stands)
 *     approved / final rejection       -> as above
 *   (once the approved document has expired, a renewal reads like any submission)
 *
 * Invariants:
 * - client-safe: every reason is shown as { code, message } from REVIEW_REASONS or ISSUE_CATALOGUE in
 *   the client's locale; a confidential code (sanctions, fraud, duplicates) is NEVER shown: it becomes
 *   'contact_support' (after a rejection or an officer's reason) or 'under_review' (an issue while the
 *   application is open) with the shared generic message, and several confidential codes collapse into
 *   one entry so their number reveals nothing either; unknown codes become 'contact_support' too;
 *   evidence, notes and the reviewer's identity are never part of the view
 * - reason codes recorded as decide() lines ('code:severity[:escalated]') are read by their code
 * - every next action has an en, de and es message
 * - `submission` and the timeline are always the latest submission's, a renewal's too (its progress is
 *   visible while the status stays 'approved')
 * - the timeline lists the latest submission's steps in order: submitted, automatic_checks,
 *   manual_review (only when a review was opened), decision; states go done* current? pending*;
 *   `at` is when a done step completed or a current step started, null when pending or unknown
 * - estimatedCompletion is set only while a check runs: in automatic processing (the given ETA or
 *   eta.ts's 2 minutes) or in manual review (the given ETA; null without one); `at` = now + minutes
 */

import { textsOf } from '../messages/catalogue.ts';
import type { Locale } from './decision.ts';
import { ISSUE_CATALOGUE } from './decision.ts';
import { estimateProcessingEta } from './eta.ts';
import { classifyExpiry } from './expiry.ts';
import type { KycIssueCode } from './model.ts';
import { CONFIDENTIAL_REVIEW_MESSAGE, isReviewReasonCode, issueRequiresNewDocument, REVIEW_REASONS } from './review-reasons.ts';
import {
  DOCUMENT_CATEGORIES,
  type DocumentCategory,
  type DocumentStatus,
  type KycDocument,
  type KycSubmission,
  type SubmissionStatus,
  type SubmissionStep,
} from './submission.ts';

export type ClientKycStatus = 'not_started' | 'documents_required' | 'in_review' | 'approved' | 'rejected' | 'action_required';

export const CLIENT_NEXT_ACTIONS = [
  'complete_profile',
  'upload_documents',
  'submit_documents',
  'wait',
  'fund_account',
  'none',
  'upload_new_identity_document',
  'upload_new_documents',
  'upload_requested_documents',
  'contact_support',
] as const;
export type ClientNextAction = (typeof CLIENT_NEXT_ACTIONS)[number];

export interface ClientKycInput {
  now: Date;
  locale: Locale;
  /** Onboarding stage past 'registered'. */
  profileComplete: boolean;
  /** All the client's files, any order. */
  documents: readonly KycDocument[];
  /** All the client's submissions, any order (the latest decides). */
  submissions: readonly KycSubmission[];
  /** YYYY-MM-DD expiry of the approved identity document. */
  identityExpiresOn?: string | undefined;
  /** Set by the daily expiry job. */
  expired?: boolean | undefined;
  /** Computed by eta.ts for a submission in review (or processing). */
  eta?: { minutes: number; basis: string } | undefined;
  /** The client has funded its account: an approved client then has nothing left to do ('none'). */
  funded?: boolean | undefined;
}

export interface ClientReason {
  code: string;
  message: string;
}

export interface ClientNext {
  action: ClientNextAction;
  message: string;
  /** The document categories to upload again, when known (upload_* actions only). */
  categories?: DocumentCategory[];
}

export type ClientTimelineStepName = 'submitted' | 'automatic_checks' | 'manual_review' | 'decision';

export interface ClientTimelineStep {
  step: ClientTimelineStepName;
  state: 'done' | 'current' | 'pending';
  /** When a done step completed or a current step started; null when pending or unknown. */
  at: string | null;
}

export interface ClientDocumentView {
  documentId: string;
  category: DocumentCategory;
  documentType: string;
  side: 'front' | 'back' | null;
  status: DocumentStatus;
  uploadedAt: string | null;
  reasons: ClientReason[];
}

export interface ClientSubmissionView {
  submissionId: string;
  status: SubmissionStatus;
  submittedAt: string;
  decidedAt: string | null;
  /** Null until decided. */
  canResubmit: boolean | null;
  /** Client-safe reasons of the decision (empty until decided). */
  reasons: ClientReason[];
}

export interface ClientHistoryItem {
  submissionId: string;
  status: SubmissionStatus;
  submittedAt: string;
  decidedAt: string | null;
}

export interface ClientKycView {
  status: ClientKycStatus;
  next: ClientNext;
  submission: ClientSubmissionView | null;
  timeline: ClientTimelineStep[];
  documents: ClientDocumentView[];
  /** Earlier submissions, newest first. */
  history: ClientHistoryItem[];
  estimatedCompletion: { minutes: number; at: string; basis: string } | null;
}

export const NEXT_ACTION_MESSAGES: Readonly<Record<ClientNextAction, Record<Locale, string>>> = {
  complete_profile: textsOf('kyc.next_action.complete_profile'),
  upload_documents: textsOf('kyc.next_action.upload_documents'),
  submit_documents: textsOf('kyc.next_action.submit_documents'),
  wait: textsOf('kyc.next_action.wait'),
  fund_account: textsOf('kyc.next_action.fund_account'),
  none: textsOf('kyc.next_action.none'),
  upload_new_identity_document: textsOf('kyc.next_action.upload_new_identity_document'),
  upload_new_documents: textsOf('kyc.next_action.upload_new_documents'),
  upload_requested_documents: textsOf('kyc.next_action.upload_requested_documents'),
  contact_support: textsOf('kyc.next_action.contact_support'),
};

/** For a code the catalogues do not know: says nothing about it. */
const UNKNOWN_REASON_MESSAGE: Readonly<Record<Locale, string>> = textsOf('kyc.next_action.unknown_reason_message');

const isIssueCode = (code: string): code is KycIssueCode => Object.hasOwn(ISSUE_CATALOGUE, code);

/** 'code:severity[:escalated]' (decide() reason lines) -> 'code'. */
const bareCode = (code: string) => code.split(':', 1)[0]!.trim();

/**
 * Client-safe { code, message } for reason codes (review reasons or issue codes), deduplicated in order.
 * `closed`: the reasons explain a rejection, so confidential issue codes read 'contact_support' rather
 * than 'under_review'. `automatic`: the codes come from the checks (decidedBy 'system'), so a code in
 * both catalogues (document_expired, name_mismatch...) takes the issue message rather than the reason's.
 */
export function clientReasons(
  codes: readonly string[],
  locale: Locale,
  opts: { closed: boolean; automatic?: boolean },
): ClientReason[] {
  const out: ClientReason[] = [];
  const seen = new Set<string>();
  for (const raw of codes) {
    const code = bareCode(raw);
    let reason: ClientReason;
    if (isReviewReasonCode(code) && !(opts.automatic && isIssueCode(code))) {
      const r = REVIEW_REASONS[code];
      reason = r.confidential
        ? { code: 'contact_support', message: CONFIDENTIAL_REVIEW_MESSAGE[locale] }
        : { code, message: r.clientMessage[locale] };
    } else if (isIssueCode(code)) {
      const e = ISSUE_CATALOGUE[code];
      if (!e.confidential) reason = { code, message: e.clientMessage[locale] };
      else if (opts.closed) reason = { code: 'contact_support', message: CONFIDENTIAL_REVIEW_MESSAGE[locale] };
      else reason = { code: 'under_review', message: e.clientMessage[locale] };
    } else {
      reason = { code: 'contact_support', message: UNKNOWN_REASON_MESSAGE[locale] };
    }
    const key = `${reason.code}\u0000${reason.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(reason);
    }
  }
  return out;
}

const time = (iso: string | undefined) => {
  const t = iso === undefined ? Number.NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : Number.NEGATIVE_INFINITY;
};

/** Newest first: submittedAt, then submissionId (ULIDs sort by time). */
function newestFirst(a: KycSubmission, b: KycSubmission): number {
  const d = time(b.submittedAt) - time(a.submittedAt);
  if (d !== 0 && !Number.isNaN(d)) return d;
  return a.submissionId < b.submissionId ? 1 : a.submissionId > b.submissionId ? -1 : 0;
}

const isDecided = (s: KycSubmission) => s.status !== 'processing' && s.status !== 'in_review';

const decidedAtOf = (s: KycSubmission): string | null =>
  s.decision?.decidedAt ?? s.review?.decidedAt ?? lastAt(s, ['decided']) ?? null;

function lastAt(s: KycSubmission, steps: readonly SubmissionStep[]): string | undefined {
  let best: string | undefined;
  for (const e of s.timeline) {
    if (steps.includes(e.step) && (best === undefined || time(e.at) >= time(best))) best = e.at;
  }
  return best;
}

const AUTOMATIC_STEPS: readonly SubmissionStep[] = ['analysis_completed', 'analysis_failed', 'checks_completed'];

function timelineOf(s: KycSubmission): ClientTimelineStep[] {
  const final = isDecided(s);
  const reviewOpened = lastAt(s, ['review_opened']) ?? s.review?.queuedAt;
  const steps: ClientTimelineStep[] = [{ step: 'submitted', state: 'done', at: lastAt(s, ['submitted']) ?? s.submittedAt }];
  steps.push(
    s.status === 'processing'
      ? { step: 'automatic_checks', state: 'current', at: s.submittedAt }
      : { step: 'automatic_checks', state: 'done', at: lastAt(s, AUTOMATIC_STEPS) ?? null },
  );
  if (s.status === 'in_review' || reviewOpened !== undefined) {
    steps.push(
      s.status === 'in_review'
        ? { step: 'manual_review', state: 'current', at: reviewOpened ?? null }
        : { step: 'manual_review', state: 'done', at: decidedAtOf(s) },
    );
  }
  steps.push(final ? { step: 'decision', state: 'done', at: decidedAtOf(s) } : { step: 'decision', state: 'pending', at: null });
  return steps;
}

/** Categories the client must upload again after a rejection or a document request, when they can be told. */
function categoriesToUpload(s: KycSubmission, documents: readonly KycDocument[]): DocumentCategory[] | undefined {
  const found = new Set<DocumentCategory>();
  const d = s.decision;
  if (!d) return undefined;
  for (const raw of d.reasons) {
    const code = bareCode(raw);
    const category = isReviewReasonCode(code)
      ? REVIEW_REASONS[code].category
      : isIssueCode(code)
        ? issueRequiresNewDocument(code)
        : undefined;
    if (category) found.add(category);
  }
  if (d.decidedBy === 'system') {
    for (const issue of s.checks?.issues ?? []) {
      if (!d.reasons.some((r) => bareCode(r) === issue.code)) continue;
      const category = issueRequiresNewDocument(issue);
      if (category) found.add(category);
    }
  }
  for (const id of d.documentIds) {
    const doc = documents.find((x) => x.documentId === id);
    if (doc) found.add(doc.category);
  }
  return found.size > 0 ? DOCUMENT_CATEGORIES.filter((c) => found.has(c)) : undefined;
}

function documentView(doc: KycDocument, byId: ReadonlyMap<string, KycSubmission>, locale: Locale): ClientDocumentView {
  const submission = doc.submissionId === undefined ? undefined : byId.get(doc.submissionId);
  return {
    documentId: doc.documentId,
    category: doc.category,
    documentType: doc.documentType,
    side: doc.side ?? null,
    status: doc.status,
    uploadedAt: doc.uploadedAt ?? null,
    reasons: clientReasons(doc.rejectionReasons ?? [], locale, {
      closed: doc.status === 'rejected' || submission?.status === 'rejected',
      automatic: submission?.decision?.decidedBy === 'system',
    }),
  };
}

/** Uploaded first in upload order, then files still awaiting upload; ties by documentId. */
function byUpload(a: KycDocument, b: KycDocument): number {
  if (a.uploadedAt === undefined && b.uploadedAt !== undefined) return 1;
  if (b.uploadedAt === undefined && a.uploadedAt !== undefined) return -1;
  const d = time(a.uploadedAt) - time(b.uploadedAt);
  if (d !== 0 && !Number.isNaN(d)) return d;
  return a.documentId < b.documentId ? -1 : a.documentId > b.documentId ? 1 : 0;
}

/** The client's view of its verification; see the module rules. */
export function clientKycView(input: ClientKycInput): ClientKycView {
  const { locale } = input;
  const sorted = [...input.submissions].sort(newestFirst);
  const latest = sorted[0];
  const byId = new Map(input.submissions.map((s) => [s.submissionId, s]));
  const documents = [...input.documents].sort(byUpload).map((d) => documentView(d, byId, locale));
  const next = (action: ClientNextAction, categories?: DocumentCategory[]): ClientNext => ({
    action,
    message: NEXT_ACTION_MESSAGES[action][locale],
    ...(categories && categories.length > 0 ? { categories } : {}),
  });

  if (!latest) {
    const status: ClientKycStatus = input.documents.length === 0 ? 'not_started' : 'documents_required';
    const action: ClientNextAction = !input.profileComplete
      ? 'complete_profile'
      : input.documents.some((d) => d.status === 'uploaded')
        ? 'submit_documents'
        : 'upload_documents';
    return { status, next: next(action), submission: null, timeline: [], documents, history: [], estimatedCompletion: null };
  }

  const decision = latest.decision;
  const closed = latest.status === 'rejected';
  const identityExpired =
    input.expired === true ||
    (input.identityExpiresOn !== undefined && classifyExpiry(input.identityExpiresOn, input.now) === 'expired');
  // A renewal of an approval whose document has not expired yet: the client is still approved.
  const approvedMeanwhile = latest.renewal === true && !identityExpired;
  let status: ClientKycStatus;
  let nextAction: ClientNext;
  let estimatedCompletion: ClientKycView['estimatedCompletion'] = null;
  switch (latest.status) {
    case 'processing':
    case 'in_review': {
      status = approvedMeanwhile ? 'approved' : 'in_review';
      nextAction = next('wait');
      const eta = input.eta ?? (latest.status === 'processing' ? estimateProcessingEta(input.now) : undefined);
      if (eta) {
        const minutes = Math.max(0, Math.ceil(eta.minutes));
        estimatedCompletion = {
          minutes,
          at: new Date(input.now.getTime() + minutes * 60_000).toISOString(),
          basis: eta.basis,
        };
      }
      break;
    }
    case 'approved': {
      status = identityExpired ? 'action_required' : 'approved';
      nextAction = identityExpired
        ? next('upload_new_identity_document', ['identity'])
        : next(input.funded ? 'none' : 'fund_account');
      break;
    }
    case 'rejected': {
      const canResubmit = decision?.canResubmit === true;
      status = canResubmit ? (approvedMeanwhile ? 'approved' : 'action_required') : 'rejected';
      nextAction = canResubmit
        ? next('upload_new_documents', categoriesToUpload(latest, input.documents))
        : next('contact_support');
      break;
    }
    case 'documents_requested': {
      status = approvedMeanwhile ? 'approved' : 'action_required';
      nextAction = next('upload_requested_documents', categoriesToUpload(latest, input.documents));
      break;
    }
  }

  const decided = isDecided(latest);
  return {
    status,
    next: nextAction,
    submission: {
      submissionId: latest.submissionId,
      status: latest.status,
      submittedAt: latest.submittedAt,
      decidedAt: decided ? decidedAtOf(latest) : null,
      canResubmit: decided ? (latest.status === 'rejected' ? decision?.canResubmit === true : true) : null,
      reasons:
        decided && decision
          ? clientReasons(decision.reasons, locale, { closed, automatic: decision.decidedBy === 'system' })
          : [],
    },
    timeline: timelineOf(latest),
    documents,
    history: sorted.slice(1).map((s) => ({
      submissionId: s.submissionId,
      status: s.status,
      submittedAt: s.submittedAt,
      decidedAt: isDecided(s) ? decidedAtOf(s) : null,
    })),
    estimatedCompletion,
  };
}
