/**
 * One KYC assessment: runs every check on the extracted documents and decides. This is the pure body
 * of the state machine's "checks and decide" step; the caller supplies the clock, the duplicate
 * look-up result, the sanctions list and the tenant policy.
 *
 * Invariants:
 * - the issue list is the concatenation of every check, in a fixed order (country, MRZ, expiry,
 *   confidence, name, DOB, age, duplicate, sanctions, address), so the same input gives the same output
 * - sanctions are screened on the document name and DOB when extracted, else the registered ones
 * - the proof of address is optional; without one no address issue is raised
 */
import type { TenantConfig } from '../tenant/config.ts';
import {
  checkAddressProof,
  checkAge,
  checkConfidence,
  checkDateOfBirth,
  checkDuplicateDocument,
  checkExpiry,
  checkName,
  checkRestrictedCountry,
  DEFAULTS,
  REQUIRED_ADDRESS_FIELDS,
  REQUIRED_IDENTITY_FIELDS,
} from './checks.ts';
import { type DecisionPolicy, decide, type KycDecision } from './decision.ts';
import type { ExtractedAddressProof, ExtractedIdentity, KycIssue, RegistrationProfile } from './model.ts';
import { checkMrz } from './mrz.ts';
import { SANCTIONS_THRESHOLD, type SanctionsList, screenSanctions } from './sanctions.ts';

export interface KycOptions {
  expiringSoonDays?: number;
  nameThreshold?: number;
  addressProofMaxAgeDays?: number;
  minConfidence?: number;
  sanctionsThreshold?: number;
  allowSpecimen?: boolean;
}

export interface KycInput {
  now: Date;
  identity: ExtractedIdentity;
  addressProof?: ExtractedAddressProof;
  profile: RegistrationProfile;
  tenant: Pick<TenantConfig, 'restrictedCountries'>;
  /** Other clients holding the same document number, as found by the caller. */
  duplicateClientIds: readonly string[];
  sanctionsList: SanctionsList;
  options?: KycOptions;
}

export function runKycChecks(input: KycInput): KycIssue[] {
  const { now, identity: doc, profile, options: o = {} } = input;
  const nameThreshold = o.nameThreshold ?? DEFAULTS.nameThreshold;
  const minConfidence = o.minConfidence ?? DEFAULTS.minConfidence;
  const screenedName =
    doc.givenNames || doc.surname ? `${doc.givenNames ?? ''} ${doc.surname ?? ''}` : `${profile.givenNames} ${profile.surname}`;
  const issues: KycIssue[] = [
    ...checkRestrictedCountry(input.tenant, profile, doc),
    ...checkMrz(doc, { now, nameThreshold, allowSpecimen: o.allowSpecimen ?? false }),
    ...checkExpiry(doc, now, o.expiringSoonDays ?? DEFAULTS.expiringSoonDays),
    ...checkConfidence(doc, REQUIRED_IDENTITY_FIELDS, minConfidence),
    ...checkName(doc, profile, nameThreshold),
    ...checkDateOfBirth(doc, profile),
    ...checkAge(doc, profile, now),
    ...checkDuplicateDocument(doc, input.duplicateClientIds),
    ...screenSanctions(
      { fullName: screenedName, dateOfBirth: doc.dateOfBirth ?? profile.dateOfBirth },
      input.sanctionsList,
      o.sanctionsThreshold ?? SANCTIONS_THRESHOLD,
    ),
  ];
  if (input.addressProof) {
    issues.push(
      ...checkConfidence(input.addressProof, REQUIRED_ADDRESS_FIELDS, minConfidence).map((i) => ({
        ...i,
        evidence: { ...i.evidence, document: 'address_proof' },
      })),
      ...checkAddressProof(input.addressProof, profile, { now, maxAgeDays: o.addressProofMaxAgeDays }),
    );
  }
  return issues;
}

export function assessKyc(input: KycInput, policy: DecisionPolicy): KycDecision {
  return decide(runKycChecks(input), policy);
}
