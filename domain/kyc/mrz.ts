/**
 * Machine Readable Zone (ICAO 9303 TD1 / TD2 / TD3): parsing and check-digit verification via the
 * `mrz` package, then comparison with the visual-zone (VIZ) fields Textract extracted.
 *
 * Invariants:
 * - parsing never throws: an unreadable MRZ is a result with `ok: false` and the parser's reason
 * - every failed check digit is named (`checkDigitFailures`), separately from other field-format errors
 * - MRZ dates are YYMMDD: a birth year is the latest century not after `now`; an expiry year is 20YY
 * - the ICAO specimen state 'UTO' (Utopia) parses, but marks the result `specimen` (never a real document)
 * - issue mapping: check digit / format / specimen => `mrz_invalid`; MRZ vs VIZ disagreement =>
 *   one `mrz_mismatch` per disagreeing field. Names compare by token-sorted similarity (MRZ names are
 *   transliterated and may be truncated), everything else exactly after normalisation
 */
import { type Details, type FieldName, type MRZFormat, parse } from 'mrz';
import type { ExtractedIdentity, KycIssue } from './model.ts';
import { toIso2 } from './model.ts';
import { nameSimilarity } from './text.ts';

export const SPECIMEN_STATE = 'UTO';

export interface MrzFields {
  documentCode?: string;
  documentNumber?: string;
  surname?: string;
  givenNames?: string;
  /** YYYY-MM-DD */
  dateOfBirth?: string;
  /** YYYY-MM-DD */
  expiryDate?: string;
  /** the raw three-letter (or ICAO 'D') code as printed */
  issuingState?: string;
  nationality?: string;
  sex?: string;
}

export type MrzResult =
  | {
      ok: true;
      format: MRZFormat;
      fields: MrzFields;
      /** check-digit field names that failed, e.g. 'documentNumberCheckDigit', 'compositeCheckDigit' */
      checkDigitFailures: string[];
      /** other invalid fields (bad date, unknown state code...), with the parser's message */
      fieldErrors: { field: string; error: string }[];
      specimen: boolean;
      /** true when there is no check-digit failure and no field error */
      valid: boolean;
    }
  | { ok: false; error: string };

function rawValue(lines: string[], d: Details | undefined): string | undefined {
  if (!d) return undefined;
  const raw = lines[d.line]?.slice(d.start, d.end);
  return raw?.replace(/<+$/, '') || undefined;
}

function yymmdd(s: string | undefined, century: (yy: number) => number): string | undefined {
  const m = s ? /^(\d{2})(\d{2})(\d{2})$/.exec(s) : null;
  if (!m) return undefined;
  return `${century(Number(m[1]))}-${m[2]}-${m[3]}`;
}

/** Parses raw MRZ text (lines joined by '\n'; surrounding whitespace ignored). `now` resolves birth centuries. */
export function parseMrz(raw: string, now: Date): MrzResult {
  const lines = raw
    .split(/\r?\n/)
    .map((l) => l.replace(/\s+/g, '').toUpperCase())
    .filter((l) => l.length > 0);
  let result: ReturnType<typeof parse>;
  try {
    result = parse(lines);
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  const byField = new Map<FieldName, Details>();
  for (const d of result.details) if (d.field) byField.set(d.field, d);
  const value = (f: FieldName) => result.fields[f] ?? rawValue(lines, byField.get(f)) ?? undefined;

  const checkDigitFailures: string[] = [];
  const fieldErrors: { field: string; error: string }[] = [];
  let specimen = false;
  for (const d of result.details) {
    if (d.valid) continue;
    const field = d.field ?? d.label;
    if (field.endsWith('CheckDigit')) {
      checkDigitFailures.push(field);
    } else if ((field === 'issuingState' || field === 'nationality') && rawValue(lines, d) === SPECIMEN_STATE) {
      specimen = true;
    } else {
      fieldErrors.push({ field, error: d.error ?? 'invalid' });
    }
  }
  const nowYY = now.getUTCFullYear() % 100;
  const nowCentury = now.getUTCFullYear() - nowYY;
  const fields: MrzFields = {
    documentCode: value('documentCode'),
    documentNumber: result.documentNumber ?? value('documentNumber'),
    surname: value('lastName'),
    givenNames: value('firstName'),
    dateOfBirth: yymmdd(value('birthDate'), (yy) => (yy <= nowYY ? nowCentury + yy : nowCentury - 100 + yy)),
    expiryDate: yymmdd(value('expirationDate'), (yy) => 2000 + yy),
    issuingState: value('issuingState'),
    nationality: value('nationality'),
    sex: value('sex'),
  };
  for (const k of Object.keys(fields) as (keyof MrzFields)[]) if (fields[k] === undefined) delete fields[k];
  return {
    ok: true,
    format: result.format,
    fields,
    checkDigitFailures,
    fieldErrors,
    specimen,
    valid: checkDigitFailures.length === 0 && fieldErrors.length === 0,
  };
}

export interface MrzCheckOptions {
  now: Date;
  /** Accept ICAO specimen documents (state 'UTO'); for tests and demos only. Default false. */
  allowSpecimen?: boolean;
  /** Name similarity at or above which MRZ and VIZ names agree. Default 0.85. */
  nameThreshold?: number;
}

const alnum = (s: string) => s.toUpperCase().replace(/[^A-Z0-9]/g, '');

/**
 * MRZ issues for an extracted identity document: none when there is no MRZ (a document without one,
 * such as most driving licences, is checked by the other rules).
 */
export function checkMrz(doc: ExtractedIdentity, opts: MrzCheckOptions): KycIssue[] {
  if (!doc.mrz?.trim()) return [];
  const r = parseMrz(doc.mrz, opts.now);
  if (!r.ok) {
    return [
      {
        code: 'mrz_invalid',
        severity: 'review',
        field: 'mrz',
        evidence: { reason: 'unparseable', error: r.error },
        suggestedAction: 'request_new_document_image',
      },
    ];
  }
  const issues: KycIssue[] = [];
  if (r.specimen && !opts.allowSpecimen) {
    issues.push({
      code: 'mrz_invalid',
      severity: 'hard',
      field: 'mrz',
      evidence: { reason: 'specimen_document', format: r.format },
      suggestedAction: 'request_new_document',
    });
  }
  if (r.checkDigitFailures.length > 0) {
    issues.push({
      code: 'mrz_invalid',
      severity: 'review',
      field: 'mrz',
      evidence: { reason: 'check_digit', format: r.format, failed: r.checkDigitFailures },
      suggestedAction: 'request_new_document_image',
    });
  }
  if (r.fieldErrors.length > 0) {
    issues.push({
      code: 'mrz_invalid',
      severity: 'review',
      field: 'mrz',
      evidence: { reason: 'format', format: r.format, errors: r.fieldErrors },
      suggestedAction: 'request_new_document_image',
    });
  }
  const threshold = opts.nameThreshold ?? 0.85;
  const mismatch = (field: string, viz: unknown, mrz: unknown, extra: Record<string, unknown> = {}) =>
    issues.push({
      code: 'mrz_mismatch',
      severity: 'review',
      field,
      evidence: { visual: viz, mrz, ...extra },
      suggestedAction: 'manual_document_inspection',
    });
  const f = r.fields;
  if (doc.documentNumber && f.documentNumber && alnum(doc.documentNumber) !== alnum(f.documentNumber)) {
    mismatch('documentNumber', doc.documentNumber, f.documentNumber);
  }
  if ((doc.givenNames || doc.surname) && (f.givenNames || f.surname)) {
    const s = nameSimilarity(`${doc.givenNames ?? ''} ${doc.surname ?? ''}`, `${f.givenNames ?? ''} ${f.surname ?? ''}`);
    if (s.score < threshold) mismatch('name', s.a, s.b, { similarity: s.score, threshold });
  }
  if (doc.dateOfBirth && f.dateOfBirth && doc.dateOfBirth !== f.dateOfBirth)
    mismatch('dateOfBirth', doc.dateOfBirth, f.dateOfBirth);
  if (doc.expiryDate && f.expiryDate && doc.expiryDate !== f.expiryDate) mismatch('expiryDate', doc.expiryDate, f.expiryDate);
  for (const [field, viz, mrz] of [
    ['issuingCountry', doc.issuingCountry, f.issuingState],
    ['nationality', doc.nationality, f.nationality],
  ] as const) {
    if (!viz || !mrz || mrz === SPECIMEN_STATE) continue;
    if (toIso2(viz) !== toIso2(mrz)) mismatch(field, viz, mrz);
  }
  return issues;
}
