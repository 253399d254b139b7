/**
 * KYC checks: each a pure function of the extracted document(s), the registration profile and
 * injected inputs (clock, thresholds, caller-found duplicates), returning zero or more issues.
 *
 * Invariants:
 * - a document is valid through its expiry date (inclusive); expired before today => hard `document_expired`;
 *   expiring within `expiringSoonDays` (default 30) => review `document_expiring_soon`
 * - names match independent of case, diacritics, punctuation and word order, tolerating a small edit
 *   distance (similarity >= 0.85 by default); the similarity score is always recorded in evidence
 * - a date-of-birth mismatch is hard, unless it looks like a keying or OCR slip (day/month swapped or
 *   exactly one digit different), which is review. Justification: the DOB is the strongest identity
 *   attribute after the face, so a wholly different DOB means a different person or an altered record,
 *   but a one-character slip is the commonest honest error and must not auto-reject a genuine client
 * - the client is an adult (>= 18 on `now`, by domain/identity rules) on the document's DOB, or the
 *   registered DOB when the document has none => otherwise hard `underage`
 * - a proof of address is issued at most `maxAgeDays` (default 90) before today => else review
 *   `address_proof_too_old`; its postal code + country must equal the profile's (normalised) and its
 *   street (and the name on it, when extracted) must fuzzily match (>= 0.8 / 0.85) => else review `address_mismatch`
 * - every required field has confidence >= `minConfidence` (default 80); a missing field counts as 0
 *   => else one review `low_confidence` naming all such fields
 * - a document number also used by other clients => review `duplicate_document` (fraud flag)
 * - residence or document issuing country in the tenant's restricted countries => hard `country_restricted`
 */

import { dateOfBirthProblem, MIN_AGE } from '../identity/rules.ts';
import type { TenantConfig } from '../tenant/config.ts';
import { epochDay, todayEpochDay } from './dates.ts';
import type { ExtractedAddressProof, ExtractedIdentity, KycIssue, RegistrationProfile } from './model.ts';
import { toIso2 } from './model.ts';
import { nameSimilarity, round4, similarity, tokens } from './text.ts';

export const DEFAULTS = {
  expiringSoonDays: 30,
  nameThreshold: 0.85,
  addressProofMaxAgeDays: 90,
  streetThreshold: 0.8,
  minConfidence: 80,
} as const;

export function checkExpiry(doc: ExtractedIdentity, now: Date, expiringSoonDays: number = DEFAULTS.expiringSoonDays): KycIssue[] {
  if (!doc.expiryDate) return [];
  const expiry = epochDay(doc.expiryDate);
  if (expiry === undefined) {
    return [invalidData('expiryDate', doc.expiryDate)];
  }
  const daysLeft = expiry - todayEpochDay(now);
  if (daysLeft < 0) {
    return [
      {
        code: 'document_expired',
        severity: 'hard',
        field: 'expiryDate',
        evidence: { expiryDate: doc.expiryDate, daysExpired: -daysLeft },
        suggestedAction: 'request_new_document',
      },
    ];
  }
  if (daysLeft <= expiringSoonDays) {
    return [
      {
        code: 'document_expiring_soon',
        severity: 'review',
        field: 'expiryDate',
        evidence: { expiryDate: doc.expiryDate, daysLeft, windowDays: expiringSoonDays },
        suggestedAction: 'request_renewed_document_before_expiry',
      },
    ];
  }
  return [];
}

function invalidData(field: string, value: unknown): KycIssue {
  return {
    code: 'document_data_invalid',
    severity: 'review',
    field,
    evidence: { value },
    suggestedAction: 'request_new_document_image',
  };
}

export function checkName(
  doc: Pick<ExtractedIdentity, 'givenNames' | 'surname'>,
  profile: Pick<RegistrationProfile, 'givenNames' | 'surname'>,
  threshold: number = DEFAULTS.nameThreshold,
): KycIssue[] {
  if (!doc.givenNames && !doc.surname) return []; // missing names are low_confidence's concern
  const s = nameSimilarity(`${doc.givenNames ?? ''} ${doc.surname ?? ''}`, `${profile.givenNames} ${profile.surname}`);
  if (s.score >= threshold) return [];
  return [
    {
      code: 'name_mismatch',
      severity: 'review',
      field: 'name',
      evidence: { document: s.a, registered: s.b, similarity: s.score, method: s.method, threshold },
      suggestedAction: 'verify_name_or_request_name_change_proof',
    },
  ];
}

/** True when two YYYY-MM-DD dates differ by a day/month swap or in exactly one digit. */
export function looksLikeSlip(a: string, b: string): boolean {
  const [ay, am, ad] = a.split('-');
  const [by, bm, bd] = b.split('-');
  if (ay === by && am === bd && ad === bm) return true;
  const x = a.replace(/-/g, '');
  const y = b.replace(/-/g, '');
  if (x.length !== y.length) return false;
  let diff = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) diff++;
  return diff === 1;
}

export function checkDateOfBirth(
  doc: Pick<ExtractedIdentity, 'dateOfBirth'>,
  profile: Pick<RegistrationProfile, 'dateOfBirth'>,
): KycIssue[] {
  if (!doc.dateOfBirth) return [];
  if (epochDay(doc.dateOfBirth) === undefined) return [invalidData('dateOfBirth', doc.dateOfBirth)];
  if (doc.dateOfBirth === profile.dateOfBirth) return [];
  const slip = looksLikeSlip(doc.dateOfBirth, profile.dateOfBirth);
  return [
    {
      code: 'dob_mismatch',
      severity: slip ? 'review' : 'hard',
      field: 'dateOfBirth',
      evidence: { document: doc.dateOfBirth, registered: profile.dateOfBirth, likelySlip: slip },
      suggestedAction: slip ? 'verify_date_of_birth' : 'request_new_document',
    },
  ];
}

export function checkAge(
  doc: Pick<ExtractedIdentity, 'dateOfBirth'>,
  profile: Pick<RegistrationProfile, 'dateOfBirth'>,
  now: Date,
): KycIssue[] {
  const dob = doc.dateOfBirth ?? profile.dateOfBirth;
  const problem = dateOfBirthProblem(dob, now);
  if (problem === 'underage') {
    return [
      {
        code: 'underage',
        severity: 'hard',
        field: 'dateOfBirth',
        evidence: { dateOfBirth: dob, minAge: MIN_AGE, source: doc.dateOfBirth ? 'document' : 'registration' },
        suggestedAction: 'reject_application',
      },
    ];
  }
  // An unreal or future DOB on the document is reported once, by checkDateOfBirth / low confidence.
  return problem && doc.dateOfBirth === undefined ? [invalidData('dateOfBirth', dob)] : [];
}

const normPostal = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');
const STREET_ABBREV: Record<string, string> = {
  str: 'strasse',
  st: 'street',
  rd: 'road',
  ave: 'avenue',
  av: 'avenida',
  c: 'calle',
  pl: 'platz',
  sq: 'square',
};
const streetKey = (lines: string[]) =>
  lines
    .flatMap((l) => tokens(l))
    .map((t) => STREET_ABBREV[t] ?? (t.length > 3 && t.endsWith('str') ? `${t}asse` : t)) // 'Hauptstr.' = 'Hauptstraße'
    .sort()
    .join(' ');

export interface AddressCheckOptions {
  now: Date;
  maxAgeDays?: number;
  streetThreshold?: number;
}

export function checkAddressProof(
  proof: ExtractedAddressProof,
  profile: RegistrationProfile,
  opts: AddressCheckOptions,
): KycIssue[] {
  const issues: KycIssue[] = [];
  const maxAgeDays = opts.maxAgeDays ?? DEFAULTS.addressProofMaxAgeDays;
  if (proof.issueDate) {
    const issued = epochDay(proof.issueDate);
    if (issued === undefined) {
      issues.push(invalidData('issueDate', proof.issueDate));
    } else {
      const ageDays = todayEpochDay(opts.now) - issued;
      if (ageDays > maxAgeDays) {
        issues.push({
          code: 'address_proof_too_old',
          severity: 'review',
          field: 'issueDate',
          evidence: { issueDate: proof.issueDate, ageDays, maxAgeDays },
          suggestedAction: 'request_recent_address_proof',
        });
      } else if (ageDays < 0) {
        issues.push(invalidData('issueDate', proof.issueDate));
      }
    }
  }
  const registered = profile.address;
  if (registered) {
    const mismatched: string[] = [];
    const evidence: Record<string, unknown> = {};
    if (proof.postalCode !== undefined && normPostal(proof.postalCode) !== normPostal(registered.postalCode)) {
      mismatched.push('postalCode');
      evidence['postalCode'] = { document: normPostal(proof.postalCode), registered: normPostal(registered.postalCode) };
    }
    if (proof.country !== undefined && toIso2(proof.country) !== toIso2(registered.country)) {
      mismatched.push('country');
      evidence['country'] = { document: toIso2(proof.country) ?? proof.country, registered: registered.country };
    }
    if (proof.nameOnDocument) {
      const n = nameSimilarity(proof.nameOnDocument, `${profile.givenNames} ${profile.surname}`);
      evidence['nameSimilarity'] = n.score;
      if (n.score < DEFAULTS.nameThreshold) mismatched.push('nameOnDocument');
    }
    if (proof.addressLines && proof.addressLines.length > 0) {
      const threshold = opts.streetThreshold ?? DEFAULTS.streetThreshold;
      const a = streetKey(proof.addressLines);
      const b = streetKey(registered.lines);
      const score = round4(similarity(a, b));
      evidence['streetSimilarity'] = score;
      if (score < threshold) {
        mismatched.push('addressLines');
        evidence['street'] = { document: a, registered: b, threshold };
      }
    }
    if (mismatched.length > 0) {
      issues.push({
        code: 'address_mismatch',
        severity: 'review',
        field: 'address',
        evidence: { fields: mismatched, ...evidence },
        suggestedAction: 'request_matching_address_proof',
      });
    }
  }
  return issues;
}

export const REQUIRED_IDENTITY_FIELDS = ['documentNumber', 'givenNames', 'surname', 'dateOfBirth', 'expiryDate'] as const;
export const REQUIRED_ADDRESS_FIELDS = ['issueDate', 'addressLines', 'postalCode', 'country'] as const;

export function checkConfidence(
  doc: { fieldConfidence: Record<string, number> },
  required: readonly string[],
  minConfidence: number = DEFAULTS.minConfidence,
): KycIssue[] {
  const low: Record<string, number> = {};
  for (const field of required) {
    const c = doc.fieldConfidence[field] ?? 0;
    if (!(c >= minConfidence)) low[field] = c;
  }
  const fields = Object.keys(low);
  if (fields.length === 0) return [];
  return [
    {
      code: 'low_confidence',
      severity: 'review',
      field: fields.join(','),
      evidence: { fields, confidence: low, minConfidence },
      suggestedAction: 'request_new_document_image',
    },
  ];
}

export function checkDuplicateDocument(
  doc: Pick<ExtractedIdentity, 'documentNumber' | 'documentType'>,
  otherClientIds: readonly string[],
): KycIssue[] {
  const others = [...new Set(otherClientIds)].sort();
  if (others.length === 0) return [];
  return [
    {
      code: 'duplicate_document',
      severity: 'review',
      field: 'documentNumber',
      evidence: { documentType: doc.documentType, documentNumber: doc.documentNumber, otherClientIds: others, fraudFlag: true },
      suggestedAction: 'fraud_review',
    },
  ];
}

export function checkRestrictedCountry(
  cfg: Pick<TenantConfig, 'restrictedCountries'>,
  profile: Pick<RegistrationProfile, 'country'>,
  doc?: Pick<ExtractedIdentity, 'issuingCountry'>,
): KycIssue[] {
  const restricted = new Set(cfg.restrictedCountries.map((c) => c.toUpperCase()));
  const candidates: [string, string | undefined][] = [
    ['country', profile.country],
    ['issuingCountry', doc?.issuingCountry],
  ];
  const issues: KycIssue[] = [];
  for (const [field, value] of candidates) {
    const iso2 = toIso2(value);
    if (iso2 && restricted.has(iso2)) {
      issues.push({
        code: 'country_restricted',
        severity: 'hard',
        field,
        evidence: { country: iso2, raw: value },
        suggestedAction: 'reject_application',
      });
    }
  }
  return issues;
}
