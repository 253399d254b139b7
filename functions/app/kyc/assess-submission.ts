/**
 * Use case (the kyc-assess step): runs every KYC check on a submission's extracted documents and decides
 * (domain/kyc assess + decide), with the tenant's KYC policy. Returns { outcome, priority } for the state
 * machine's Choice.
 *
 * Invariants:
 * - assessed once: when the submission already carries `checks`, they are returned unchanged (a retried
 *   step or a redelivered invocation never re-decides)
 * - the checks, the timeline entries (analysis_completed | analysis_failed, then checks_completed), the
 *   document-number claim (when a number was read) and the audit item 'kyc.checks.completed' (evidence:
 *   the checks run, every issue with its evidence, the outcome) are written in ONE version-conditioned
 *   commit; a lost race re-reads and tries again (RETRY_POLICIES.decisionConflict)
 * - a unit whose analysis failed adds an 'analysis_failed' issue (a human inspects the document); when the
 *   identity failed, the identity checks are skipped and sanctions are still screened on the registered name
 * - the duplicate check counts every OTHER client that presented the same (issuing country, number)
 * - nothing here logs PII (ids, outcome and issue codes only)
 */
import type { CommandContext } from '#app/context.ts';
import { runKycChecks } from '#domain/kyc/assess.ts';
import { checkAddressProof, checkConfidence, checkRestrictedCountry, REQUIRED_ADDRESS_FIELDS } from '#domain/kyc/checks.ts';
import { decide, type Outcome } from '#domain/kyc/decision.ts';
import { type ExtractedAddressProof, type ExtractedIdentity, type KycIssue, toIso2 } from '#domain/kyc/model.ts';
import { SAMPLE_SANCTIONS_LIST } from '#domain/kyc/sample-list.ts';
import { screenSanctions } from '#domain/kyc/sanctions.ts';
import type { TimelineEntry } from '#domain/kyc/submission.ts';
import { requirementsFor } from '#domain/onboarding/requirements.ts';
import { logger } from '#shared/powertools.ts';
import { withRetry } from '#shared/retry.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit, systemActor } from '#store/audit.ts';
import { getClientProfile, registrationProfileOf } from '#store/clients.ts';
import type { CommitWrite } from '#store/items.ts';
import {
  claimDocumentNumber,
  documentNumberHolders,
  getKycExtractions,
  getKycSubmission,
  type KycExtractionItem,
  type KycSubmissionItem,
  replaceKycSubmission,
} from '#store/kyc.ts';
import { isConflict } from './decisions.ts';

export interface AssessInput {
  submissionId: string;
}

export interface AssessResult {
  outcome: Outcome;
  priority?: 'high' | 'normal';
}

const ACTOR = systemActor('kyc-assess');

function analysisFailedIssue(e: KycExtractionItem): KycIssue {
  return {
    code: 'analysis_failed',
    severity: 'review',
    field: e.unit === 'identity' ? 'identity' : 'address_proof',
    evidence: {
      unit: e.unit,
      documentIds: e.documentIds,
      error: e.failure?.error ?? 'unknown',
      reason: e.failure?.reason ?? null,
    },
    suggestedAction: 'manual_document_inspection',
  };
}

/** The document number's claim key, when the document gave both a number and a known issuing country. */
function documentNumberOf(identity: ExtractedIdentity | undefined): { country: string; number: string } | undefined {
  if (!identity?.documentNumber) return undefined;
  const country = toIso2(identity.issuingCountry);
  return country ? { country, number: identity.documentNumber } : undefined;
}

async function assess(submissionId: string, ctx: CommandContext): Promise<AssessResult> {
  const submission = await getKycSubmission(submissionId);
  if (!submission) throw new Error(`kyc-assess: no submission ${submissionId}`);
  if (submission.checks) return resultOf(submission.checks);
  const profile = await getClientProfile(submission.clientId, { consistent: true });
  if (!profile) throw new Error(`kyc-assess: no profile for submission ${submissionId}`);

  const cfg = tenantConfig();
  const req = requirementsFor(cfg, { country: profile.countryOfResidence, clientType: profile.clientType });
  const extractions = await getKycExtractions(submissionId);
  const identityX = extractions.find((e) => e.unit === 'identity');
  const addressX = extractions.find((e) => e.unit === 'address');
  const identity = identityX && !identityX.failure ? identityX.identity : undefined;
  const addressProof: ExtractedAddressProof | undefined = addressX && !addressX.failure ? addressX.addressProof : undefined;
  const failed = extractions.filter((e) => e.failure);
  // A unit that has no extraction at all (should not happen: the Map records failures) counts as failed.
  const missingUnits = [
    ...(identityX ? [] : ['identity' as const]),
    ...(submission.addressProof && !addressX ? ['address' as const] : []),
  ];

  const profileForChecks = registrationProfileOf(profile);
  const number = documentNumberOf(identity);
  const duplicates = number
    ? (await documentNumberHolders(number.country, number.number)).filter((c) => c !== submission.clientId)
    : [];
  const options = {
    expiringSoonDays: cfg.kyc.expiringSoonDays,
    minConfidence: cfg.kyc.minConfidence,
    nameThreshold: cfg.kyc.nameThreshold,
    addressProofMaxAgeDays: req.documents.proofOfAddress.maxAgeDays,
  };
  const now = ctx.now ?? new Date();
  const checksRun: string[] = [];
  const issues: KycIssue[] = [];
  if (identity) {
    checksRun.push('country', 'mrz', 'expiry', 'confidence', 'name', 'date_of_birth', 'age', 'duplicate', 'sanctions');
    if (addressProof) checksRun.push('address_confidence', 'address');
    issues.push(
      ...runKycChecks({
        now,
        identity,
        ...(addressProof ? { addressProof } : {}),
        profile: profileForChecks,
        tenant: cfg,
        duplicateClientIds: duplicates,
        sanctionsList: SAMPLE_SANCTIONS_LIST,
        options,
      }),
    );
  } else {
    // No identity fields to check: screen the registered name and check what else can be checked.
    checksRun.push('country', 'sanctions');
    issues.push(
      ...checkRestrictedCountry(cfg, profileForChecks),
      ...screenSanctions(
        { fullName: `${profileForChecks.givenNames} ${profileForChecks.surname}`, dateOfBirth: profileForChecks.dateOfBirth },
        SAMPLE_SANCTIONS_LIST,
      ),
    );
    if (addressProof) {
      checksRun.push('address_confidence', 'address');
      issues.push(
        ...checkConfidence(addressProof, REQUIRED_ADDRESS_FIELDS, options.minConfidence).map((i) => ({
          ...i,
          evidence: { ...i.evidence, document: 'address_proof' },
        })),
        ...checkAddressProof(addressProof, profileForChecks, { now, maxAgeDays: options.addressProofMaxAgeDays }),
      );
    }
  }
  for (const e of failed) issues.push(analysisFailedIssue(e));
  for (const unit of missingUnits) {
    issues.push({
      code: 'analysis_failed',
      severity: 'review',
      field: unit === 'identity' ? 'identity' : 'address_proof',
      evidence: { unit, error: 'NoExtraction', reason: null },
      suggestedAction: 'manual_document_inspection',
    });
  }
  const decision = decide(issues, { escalate: cfg.kyc.escalate });

  const at = now.toISOString();
  const analysisStep: TimelineEntry =
    failed.length + missingUnits.length > 0
      ? {
          step: 'analysis_failed',
          at,
          detail: { units: [...failed.map((e) => e.unit), ...missingUnits].join(',') },
        }
      : { step: 'analysis_completed', at };
  const checks = {
    issues: decision.issues,
    outcome: decision.outcome,
    ...(decision.priority ? { priority: decision.priority } : {}),
  };
  const next: KycSubmissionItem = {
    ...submission,
    checks,
    timeline: [...submission.timeline, analysisStep, { step: 'checks_completed', at, detail: { outcome: decision.outcome } }],
  };
  const writes: CommitWrite[] = [replaceKycSubmission(submission, next, at)];
  if (number) writes.push(claimDocumentNumber(number.country, number.number, submission.clientId, submissionId, at));
  await commit({
    writes,
    audit: {
      actor: ACTOR,
      action: 'kyc.checks.completed',
      entity: { type: 'kyc-submission', id: submissionId },
      clientId: submission.clientId,
      before: { status: submission.status, checks: null },
      after: { status: next.status, outcome: decision.outcome, priority: decision.priority ?? null },
      evidence: { checksRun, issues: decision.issues, reasons: decision.reasons, outcome: decision.outcome },
      requestId: ctx.requestId,
    },
    now: () => now,
  });
  logger.info('kyc-assess: checks completed', {
    submissionId,
    outcome: decision.outcome,
    issues: decision.issues.map((i) => i.code).join(','),
  });
  return resultOf(checks);
}

function resultOf(checks: NonNullable<KycSubmissionItem['checks']>): AssessResult {
  return { outcome: checks.outcome, ...(checks.priority ? { priority: checks.priority } : {}) };
}

export function assessSubmission(input: AssessInput, ctx: CommandContext): Promise<AssessResult> {
  return withRetry('decisionConflict', () => assess(input.submissionId, ctx), isConflict);
}
