/**
 * KYC document model: the shapes the Textract adapter (AnalyzeID / AnalyzeDocument) maps its
 * output to, and the issue type every check returns. Pure types and tiny helpers; no I/O.
 *
 * Adapter contract (documented here because the adapter lives in functions/adapters/):
 * - AnalyzeID `IdentityDocumentFields` map as: FIRST_NAME (+ MIDDLE_NAME) -> givenNames, LAST_NAME -> surname,
 *   DOCUMENT_NUMBER -> documentNumber, DATE_OF_BIRTH -> dateOfBirth, EXPIRATION_DATE -> expiryDate,
 *   STATE_NAME / issuing country -> issuingCountry, MRZ_CODE -> mrz (lines joined by '\n'), ID_TYPE -> documentType.
 *   Dates are normalised by the adapter to YYYY-MM-DD; a value it cannot normalise is left out (never guessed).
 * - `fieldConfidence` carries Textract's 0..100 confidence per field, keyed by the property name used here
 *   ('givenNames', 'dateOfBirth', ...). A field absent from the record counts as confidence 0.
 * - AnalyzeDocument (FORMS / QUERIES) on a utility bill or bank statement maps to ExtractedAddressProof.
 *
 * Invariants:
 * - a country code on a document is ISO 3166-1 alpha-2 or alpha-3 (or the ICAO 'D' for Germany);
 *   `toIso2` converts every form to alpha-2 so comparisons with the tenant config (alpha-2) are exact
 * - every issue has a stable snake_case code, a severity ('hard' blocks approval, 'review' needs a human),
 *   machine evidence for the analyst, and a stable suggested-action code
 */
import { ISO3_TO_ISO2 } from './countries.ts';

export type DocumentType = 'passport' | 'national_id' | 'driving_licence' | 'residence_permit';

export interface ExtractedIdentity {
  documentType: DocumentType;
  documentNumber?: string;
  givenNames?: string;
  surname?: string;
  /** YYYY-MM-DD */
  dateOfBirth?: string;
  /** YYYY-MM-DD */
  expiryDate?: string;
  /** ISO 3166-1 alpha-2 or alpha-3 */
  issuingCountry?: string;
  /** ISO 3166-1 alpha-2 or alpha-3 */
  nationality?: string;
  /** Raw MRZ lines joined by '\n' */
  mrz?: string;
  /** Per-field extraction confidence, 0..100, keyed by the property names above. */
  fieldConfidence: Record<string, number>;
}

export interface ExtractedAddressProof {
  /** YYYY-MM-DD */
  issueDate?: string;
  addressLines?: string[];
  postalCode?: string;
  /** ISO 3166-1 alpha-2 or alpha-3 */
  country?: string;
  nameOnDocument?: string;
  fieldConfidence: Record<string, number>;
}

/** What the client registered with (the profile the documents are checked against). */
export interface RegistrationProfile {
  givenNames: string;
  surname: string;
  /** YYYY-MM-DD */
  dateOfBirth: string;
  /** ISO 3166-1 alpha-2 country of residence */
  country: string;
  address?: {
    lines: string[];
    postalCode: string;
    /** ISO 3166-1 alpha-2 */
    country: string;
  };
}

export type KycIssueCode =
  | 'mrz_invalid'
  | 'mrz_mismatch'
  | 'document_expired'
  | 'document_expiring_soon'
  | 'document_data_invalid'
  | 'name_mismatch'
  | 'dob_mismatch'
  | 'underage'
  | 'address_proof_too_old'
  | 'address_mismatch'
  | 'low_confidence'
  | 'duplicate_document'
  | 'sanctions_hit'
  | 'sanctions_possible_match'
  | 'country_restricted'
  /** The document could not be analysed automatically (analyzer error, unsupported file); a human inspects it. */
  | 'analysis_failed'
  /**
   * The automatic verification kept failing (the kyc-watchdog job gave up restarting its execution); the
   * submission was queued for a human, who decides it from what was recorded.
   */
  | 'verification_stalled';

export type Severity = 'hard' | 'review';

export interface KycIssue {
  code: KycIssueCode;
  severity: Severity;
  field?: string;
  evidence: Record<string, unknown>;
  /** Stable action code, e.g. 'request_new_document'. */
  suggestedAction: string;
}

/** ISO 3166-1 alpha-2 for an alpha-2, alpha-3 or ICAO code ('D' = Germany, 'GBD'... = GB); undefined when unknown. */
export function toIso2(code: string | undefined): string | undefined {
  if (!code) return undefined;
  const c = code.trim().toUpperCase().replace(/<+$/, '');
  if (/^[A-Z]{2}$/.test(c)) return c;
  if (c === 'D') return 'DE';
  return ISO3_TO_ISO2[c];
}
