/**
 * The KYC decision and the issue catalogue.
 *
 * Invariants:
 * - no issues => 'approve'; 'approve' only when there are no issues
 * - any hard issue whose code the tenant policy does not escalate => 'reject'
 * - otherwise (review issues and/or escalated hard issues) => 'manual_review', every issue named in
 *   `reasons`; escalated hard issues (e.g. sanctions_hit) raise the review priority to 'high'
 * - client messages are client-safe: sanctions and fraud issues share one generic 'under review'
 *   message and never reveal list, score or other-client detail
 * - every issue code has en, de and es messages and a default suggested action
 */

import { textsOf } from '../messages/catalogue.ts';
import type { KycIssue, KycIssueCode, Severity } from './model.ts';

export interface DecisionPolicy {
  /** Hard issue codes that go to manual review (high priority) instead of automatic rejection. */
  escalate: readonly string[];
}

export type Outcome = 'approve' | 'reject' | 'manual_review';

export interface KycDecision {
  outcome: Outcome;
  issues: KycIssue[];
  /** One line per issue: '<code>:<severity>[:escalated]', in input order. */
  reasons: string[];
  /** Review queue priority; undefined unless the outcome is manual_review. */
  priority?: 'high' | 'normal';
}

export function decide(issues: readonly KycIssue[], policy: DecisionPolicy = { escalate: [] }): KycDecision {
  const escalate = new Set(policy.escalate);
  const isEscalated = (i: KycIssue) => i.severity === 'hard' && escalate.has(i.code);
  const reasons = issues.map((i) => `${i.code}:${i.severity}${isEscalated(i) ? ':escalated' : ''}`);
  const list = [...issues];
  if (list.length === 0) return { outcome: 'approve', issues: list, reasons };
  if (list.some((i) => i.severity === 'hard' && !isEscalated(i))) return { outcome: 'reject', issues: list, reasons };
  return { outcome: 'manual_review', issues: list, reasons, priority: list.some(isEscalated) ? 'high' : 'normal' };
}

export type Locale = 'en' | 'de' | 'es';

export interface IssueCatalogueEntry {
  /** Severity the checks emit by default (dob_mismatch and mrz_invalid may be either; see checks). */
  severity: Severity;
  suggestedAction: string;
  /** True when the client message is deliberately generic (sanctions, fraud). */
  confidential: boolean;
  clientMessage: Record<Locale, string>;
}

const UNDER_REVIEW: Readonly<Record<Locale, string>> = textsOf('kyc.issue.under_review');

export const ISSUE_CATALOGUE: Readonly<Record<KycIssueCode, IssueCatalogueEntry>> = {
  mrz_invalid: {
    severity: 'review',
    suggestedAction: 'request_new_document_image',
    confidential: false,
    clientMessage: textsOf('kyc.issue.mrz_invalid'),
  },
  mrz_mismatch: {
    severity: 'review',
    suggestedAction: 'manual_document_inspection',
    confidential: false,
    clientMessage: textsOf('kyc.issue.mrz_mismatch'),
  },
  document_expired: {
    severity: 'hard',
    suggestedAction: 'request_new_document',
    confidential: false,
    clientMessage: textsOf('kyc.issue.document_expired'),
  },
  document_expiring_soon: {
    severity: 'review',
    suggestedAction: 'request_renewed_document_before_expiry',
    confidential: false,
    clientMessage: textsOf('kyc.issue.document_expiring_soon'),
  },
  document_data_invalid: {
    severity: 'review',
    suggestedAction: 'request_new_document_image',
    confidential: false,
    clientMessage: textsOf('kyc.issue.document_data_invalid'),
  },
  name_mismatch: {
    severity: 'review',
    suggestedAction: 'verify_name_or_request_name_change_proof',
    confidential: false,
    clientMessage: textsOf('kyc.issue.name_mismatch'),
  },
  dob_mismatch: {
    severity: 'hard',
    suggestedAction: 'request_new_document',
    confidential: false,
    clientMessage: textsOf('kyc.issue.dob_mismatch'),
  },
  underage: {
    severity: 'hard',
    suggestedAction: 'reject_application',
    confidential: false,
    clientMessage: textsOf('kyc.issue.underage'),
  },
  address_proof_too_old: {
    severity: 'review',
    suggestedAction: 'request_recent_address_proof',
    confidential: false,
    clientMessage: textsOf('kyc.issue.address_proof_too_old'),
  },
  address_mismatch: {
    severity: 'review',
    suggestedAction: 'request_matching_address_proof',
    confidential: false,
    clientMessage: textsOf('kyc.issue.address_mismatch'),
  },
  low_confidence: {
    severity: 'review',
    suggestedAction: 'request_new_document_image',
    confidential: false,
    clientMessage: textsOf('kyc.issue.low_confidence'),
  },
  duplicate_document: { severity: 'review', suggestedAction: 'fraud_review', confidential: true, clientMessage: UNDER_REVIEW },
  sanctions_hit: { severity: 'hard', suggestedAction: 'compliance_escalation', confidential: true, clientMessage: UNDER_REVIEW },
  sanctions_possible_match: {
    severity: 'review',
    suggestedAction: 'compliance_review',
    confidential: true,
    clientMessage: UNDER_REVIEW,
  },
  country_restricted: {
    severity: 'hard',
    suggestedAction: 'reject_application',
    confidential: false,
    clientMessage: textsOf('kyc.issue.country_restricted'),
  },
  analysis_failed: {
    severity: 'review',
    suggestedAction: 'manual_document_inspection',
    confidential: false,
    clientMessage: textsOf('kyc.issue.analysis_failed'),
  },
  verification_stalled: {
    severity: 'review',
    suggestedAction: 'manual_decision',
    confidential: false,
    clientMessage: textsOf('kyc.issue.verification_stalled'),
  },
};

/** Client-facing messages for a set of issues (deduplicated, in order); never includes evidence. */
export function clientMessages(issues: readonly KycIssue[], locale: Locale = 'en'): string[] {
  return [...new Set(issues.map((i) => ISSUE_CATALOGUE[i.code].clientMessage[locale]))];
}
