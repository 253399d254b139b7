/**
 * Pure mappers from Amazon Textract responses to the KYC domain's extracted shapes, following the
 * "Adapter contract" in domain/kyc/model.ts. Shared by the Textract adapter and the sandbox analyzer
 * (which builds responses of exactly these shapes), so both go through the same code.
 *
 * Response shapes, as AWS documents them:
 * - AnalyzeID: https://docs.aws.amazon.com/textract/latest/dg/API_AnalyzeID.html (IdentityDocuments[] with
 *   DocumentIndex and IdentityDocumentFields[] of { Type: AnalyzeIDDetections, ValueDetection: AnalyzeIDDetections }),
 *   https://docs.aws.amazon.com/textract/latest/dg/API_AnalyzeIDDetections.html (Text, Confidence 0..100,
 *   NormalizedValue "only returned for dates"), https://docs.aws.amazon.com/textract/latest/dg/API_NormalizedValue.html
 *   (Value 'Year-Month-DayTHour:Minute:Second', ValueType 'DATE') and the normalised field names in
 *   https://docs.aws.amazon.com/textract/latest/dg/identitydocumentfields.html (FIRST_NAME, MIDDLE_NAME, LAST_NAME,
 *   DOCUMENT_NUMBER, EXPIRATION_DATE, DATE_OF_BIRTH, STATE_NAME, DATE_OF_ISSUE, ID_TYPE, MRZ_CODE, PLACE_OF_BIRTH...).
 * - AnalyzeDocument with QUERIES: https://docs.aws.amazon.com/textract/latest/dg/queryresponse.html (a QUERY block
 *   with Query.Alias and an ANSWER relationship to QUERY_RESULT blocks carrying Text and Confidence).
 *
 * Invariants:
 * - never guess: an empty detection (AnalyzeID reports every normalised field, with Text '' when absent), a date that
 *   is not unambiguous, or a country text that maps to no ISO code is left out, and so is its confidence
 * - dates come out as real YYYY-MM-DD calendar dates: NormalizedValue first, else an unambiguous text form
 *   ('2029-01-31', '31 JAN 2029', '31.01.2029', 'January 31, 2029'; never a 2-digit year, never '01/02/2029')
 * - `fieldConfidence` is Textract's 0..100 per extracted property; a combined value (given names = FIRST_NAME +
 *   MIDDLE_NAME) carries the minimum of its parts; values derived from the MRZ carry the MRZ_CODE confidence
 * - several IdentityDocuments (front and back pages) merge field by field: the usable detection with the highest
 *   confidence wins, ties going to the earlier page, so a field on one page fills the other's gap
 * - issuing country and nationality come from the MRZ when one parses, else the issuing country from STATE_NAME
 *   (an ISO alpha-3 code, a country name, or a US state name, which means 'US'); two-letter STATE_NAME values are
 *   ignored (US state abbreviations collide with ISO alpha-2 codes)
 */
import type { AnalyzeDocumentCommandOutput, AnalyzeIDCommandOutput, AnalyzeIDDetections, Block } from '@aws-sdk/client-textract';
import { ISO3_TO_ISO2 } from '#domain/kyc/countries.ts';
import { epochDay } from '#domain/kyc/dates.ts';
import type { DocumentType, ExtractedAddressProof, ExtractedIdentity } from '#domain/kyc/model.ts';
import { toIso2 } from '#domain/kyc/model.ts';
import { parseMrz } from '#domain/kyc/mrz.ts';

/** The QUERIES the adapter asks of a proof of address, by alias (the mapper reads answers by these aliases). */
export const ADDRESS_PROOF_QUERIES = [
  { Alias: 'ISSUE_DATE', Text: 'What is the date this statement or bill was issued?' },
  { Alias: 'ADDRESS', Text: 'What is the address of the customer or account holder?' },
  { Alias: 'POSTAL_CODE', Text: "What is the postal code of the customer's address?" },
  { Alias: 'COUNTRY', Text: "What is the country of the customer's address?" },
  { Alias: 'NAME', Text: 'What is the name of the customer or account holder?' },
] as const;

export type AddressProofAlias = (typeof ADDRESS_PROOF_QUERIES)[number]['Alias'];

/** Upper case, diacritics removed ('Août' -> 'AOUT', 'ß' -> 'SS'). */
function fold(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toUpperCase();
}

// ---------------------------------------------------------------------------------------------- dates

const MONTH_NAMES: Record<string, number> = {};
for (const [month, names] of [
  [1, 'JAN JANUARY JANUAR JANVIER JANV ENE ENERO GEN GENNAIO JANEIRO'],
  [2, 'FEB FEBRUARY FEBRUAR FEV FEVR FEVRIER FEBRERO FEBBRAIO FEVEREIRO'],
  [3, 'MAR MARCH MARZ MAERZ MARS MARZO MARCO'],
  [4, 'APR APRIL AVR AVRIL ABR ABRIL APRILE'],
  [5, 'MAY MAI MAYO MAG MAGGIO MAIO'],
  [6, 'JUN JUNE JUNI JUIN JUNIO GIU GIUGNO JUNHO'],
  [7, 'JUL JULY JULI JUIL JUILLET JULIO LUG LUGLIO JULHO'],
  [8, 'AUG AUGUST AOUT AGO AGOSTO'],
  [9, 'SEP SEPT SEPTEMBER SEPTEMBRE SEPTIEMBRE SET SETTEMBRE SETEMBRO'],
  [10, 'OCT OCTOBER OKT OKTOBER OCTOBRE OCTUBRE OTT OTTOBRE OUT OUTUBRO'],
  [11, 'NOV NOVEMBER NOVEMBRE NOVIEMBRE NOVEMBRO'],
  [12, 'DEC DECEMBER DEZ DEZEMBER DECEMBRE DIC DICIEMBRE DICEMBRE DEZEMBRO'],
] as const) {
  for (const n of names.split(' ')) MONTH_NAMES[n] = month;
}
const FILLER_WORDS = new Set(['DE', 'DEL', 'OF', 'THE']);

function isoDate(year: number, month: number, day: number): string | undefined {
  const s = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return epochDay(s) === undefined ? undefined : s;
}

/**
 * A date text as YYYY-MM-DD when its reading is unambiguous, else undefined. Accepted: ISO ('2029-01-31',
 * '2029-01-31T00:00:00', '2029/01/31'), day-first with dots ('31.01.2029'), numeric with '/' or '-' only when one
 * part is above 12 (or both parts are equal), and any order of day, month name and 4-digit year
 * ('31 JAN 2029', '31 JAN/JANV 2029', 'January 31st, 2029', '1. November 2026').
 */
export function normaliseDate(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const s = fold(text).trim();
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.exec(s);
  m ??= /^(\d{4})[./](\d{1,2})[./](\d{1,2})$/.exec(s);
  if (m) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})$/.exec(s);
  if (m) return isoDate(Number(m[3]), Number(m[2]), Number(m[1]));
  m = /^(\d{1,2})([/-])(\d{1,2})\2(\d{4})$/.exec(s);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const y = Number(m[4]);
    if (a === b) return isoDate(y, a, b);
    if (a > 12 && b <= 12) return isoDate(y, b, a);
    if (b > 12 && a <= 12) return isoDate(y, a, b);
    return undefined; // '01/02/2029': January 2nd or 1 February? Never guessed.
  }
  const tokens = s.split(/[\s.,/-]+/).filter((t) => t.length > 0 && !FILLER_WORDS.has(t));
  const numbers: string[] = [];
  const months = new Set<number>();
  for (const t of tokens) {
    const ordinal = /^(\d{1,2})(?:ST|ND|RD|TH|ER)?$/.exec(t);
    if (/^\d{4}$/.test(t)) numbers.push(t);
    else if (ordinal) numbers.push(ordinal[1]!);
    else if (MONTH_NAMES[t] !== undefined) months.add(MONTH_NAMES[t]);
    else return undefined;
  }
  const years = numbers.filter((n) => n.length === 4);
  const days = numbers.filter((n) => n.length <= 2);
  if (months.size !== 1 || years.length !== 1 || days.length !== 1) return undefined;
  return isoDate(Number(years[0]), [...months][0]!, Number(days[0]));
}

// ------------------------------------------------------------------------------------------ countries

const US_STATES =
  'ALABAMA ALASKA ARIZONA ARKANSAS CALIFORNIA COLORADO CONNECTICUT DELAWARE FLORIDA GEORGIA HAWAII IDAHO ILLINOIS ' +
  'INDIANA IOWA KANSAS KENTUCKY LOUISIANA MAINE MARYLAND MASSACHUSETTS MICHIGAN MINNESOTA MISSISSIPPI MISSOURI MONTANA ' +
  'NEBRASKA NEVADA NEW_HAMPSHIRE NEW_JERSEY NEW_MEXICO NEW_YORK NORTH_CAROLINA NORTH_DAKOTA OHIO OKLAHOMA OREGON ' +
  'PENNSYLVANIA RHODE_ISLAND SOUTH_CAROLINA SOUTH_DAKOTA TENNESSEE TEXAS UTAH VERMONT VIRGINIA WASHINGTON WEST_VIRGINIA ' +
  'WISCONSIN WYOMING DISTRICT_OF_COLUMBIA';
const US_STATE_NAMES = new Set(US_STATES.split(' ').map((s) => s.replace(/_/g, ' ')));
const NAME_LOCALES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'sv', 'pl'];
const EXTRA_COUNTRY_NAMES: Record<string, string> = {
  USA: 'US',
  'UNITED STATES OF AMERICA': 'US',
  UK: 'GB',
  'GREAT BRITAIN': 'GB',
  'BUNDESREPUBLIK DEUTSCHLAND': 'DE',
  'FEDERAL REPUBLIC OF GERMANY': 'DE',
};

const countryKey = (s: string) =>
  fold(s)
    .replace(/[^A-Z]+/g, ' ')
    .trim();

let countryNames: Map<string, string | null> | undefined;
/** Folded country name (in several languages, from the runtime's ICU data) -> alpha-2; null when two codes share a name. */
function countryNameMap(): Map<string, string | null> {
  if (countryNames) return countryNames;
  const map = new Map<string, string | null>();
  const add = (name: string, iso2: string) => {
    const key = countryKey(name);
    const prev = map.get(key);
    map.set(key, prev === undefined || prev === iso2 ? iso2 : null);
  };
  const codes = [...new Set(Object.values(ISO3_TO_ISO2))];
  for (const locale of NAME_LOCALES) {
    const names = new Intl.DisplayNames([locale], { type: 'region', fallback: 'none' });
    for (const iso2 of codes) {
      const name = names.of(iso2);
      if (name) add(name, iso2);
    }
  }
  for (const [name, iso2] of Object.entries(EXTRA_COUNTRY_NAMES)) add(name, iso2);
  countryNames = map;
  return map;
}

/**
 * ISO alpha-2 for a country as printed: an alpha-3 (or ICAO 'D') code, a country name, with `alpha2` an alpha-2
 * code, with `usStates` a US state name ('NEW YORK' -> 'US'). Undefined when it is none of those.
 */
export function countryTextToIso2(
  text: string | undefined,
  opts: { alpha2?: boolean; usStates?: boolean } = {},
): string | undefined {
  if (!text) return undefined;
  const key = countryKey(text);
  if (!key) return undefined;
  if (/^[A-Z]{2}$/.test(key)) return opts.alpha2 && Object.values(ISO3_TO_ISO2).includes(key) ? key : undefined;
  if (key === 'D' || /^[A-Z]{3}$/.test(key)) {
    const iso2 = toIso2(key);
    if (iso2) return iso2;
  }
  if (opts.usStates && US_STATE_NAMES.has(key)) return 'US';
  return countryNameMap().get(key) ?? undefined;
}

// ---------------------------------------------------------------------------------------- AnalyzeID

/** TD1 (3 x 30), TD2 (2 x 36), TD3 (2 x 44). */
const MRZ_FORMATS: [lineLength: number, lines: number][] = [
  [30, 3],
  [36, 2],
  [44, 2],
];

/**
 * MRZ lines from Textract's MRZ_CODE text, which separates the lines by newlines or spaces: when the characters
 * (whitespace removed) add up to exactly a TD1/TD2/TD3 size they are cut into lines of that length, otherwise
 * the text is split at its newlines (or, on one line, its spaces) and left for the MRZ check to judge.
 */
export function mrzLines(text: string | undefined): string[] | undefined {
  const compact = (text ?? '').replace(/\s+/g, '').toUpperCase();
  if (!compact) return undefined;
  for (const [len, n] of MRZ_FORMATS) {
    if (compact.length === len * n) return Array.from({ length: n }, (_, i) => compact.slice(i * len, (i + 1) * len));
  }
  const byNewline = text!
    .split(/\r?\n/)
    .map((l) => l.replace(/\s+/g, '').toUpperCase())
    .filter((l) => l.length > 0);
  if (byNewline.length > 1) return byNewline;
  return text!.trim().toUpperCase().split(/\s+/);
}

/** Document type from AnalyzeID's ID_TYPE text ('PASSPORT', 'DRIVER LICENSE FRONT', ...); undefined when unknown. */
export function documentTypeFromIdType(idType: string | undefined): DocumentType | undefined {
  const t = fold(idType ?? '');
  if (!t.trim()) return undefined;
  if (/PASSPORT/.test(t)) return 'passport';
  if (/DRIVER|DRIVING/.test(t)) return 'driving_licence';
  if (/RESIDEN|PERMIT|GREEN CARD/.test(t)) return 'residence_permit';
  if (/IDENTIFICATION|IDENTITY|NATIONAL|\bID\b/.test(t)) return 'national_id';
  return undefined;
}

interface Detection {
  text: string;
  normalized?: { Value?: string; ValueType?: string };
  confidence: number;
  page: number;
}

const fieldKey = (s: string | undefined) =>
  (s ?? '')
    .trim()
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_');

function detections(out: Pick<AnalyzeIDCommandOutput, 'IdentityDocuments'>): Map<string, Detection[]> {
  const byType = new Map<string, Detection[]>();
  const docs = [...(out.IdentityDocuments ?? [])].map((d, i) => ({ d, page: d.DocumentIndex ?? i + 1 }));
  docs.sort((a, b) => a.page - b.page);
  for (const { d, page } of docs) {
    for (const f of d.IdentityDocumentFields ?? []) {
      const type = fieldKey(f.Type?.Text);
      const v: AnalyzeIDDetections | undefined = f.ValueDetection;
      const text = v?.Text?.trim();
      if (!type || !v || !text) continue;
      const list = byType.get(type) ?? [];
      list.push({ text, normalized: v.NormalizedValue, confidence: v.Confidence ?? 0, page });
      byType.set(type, list);
    }
  }
  return byType;
}

/** The usable detection of a field with the highest confidence (earlier page on a tie), parsed. */
function best<T>(byType: Map<string, Detection[]>, type: string, parse: (d: Detection) => T | undefined) {
  let found: { value: T; confidence: number } | undefined;
  for (const d of byType.get(type) ?? []) {
    const value = parse(d);
    if (value === undefined) continue;
    if (!found || d.confidence > found.confidence) found = { value, confidence: d.confidence };
  }
  return found;
}

const asText = (d: Detection) => d.text.replace(/\s+/g, ' ');

function asDate(d: Detection): string | undefined {
  const n = d.normalized;
  if (n?.Value && (n.ValueType ?? 'DATE').toUpperCase() === 'DATE') {
    const fromNormalized = normaliseDate(n.Value);
    if (fromNormalized) return fromNormalized;
  }
  return normaliseDate(d.text);
}

/** Country as stored on the extracted document: alpha-2 when known, else the 3-letter code as printed (e.g. 'UTO'). */
function mrzCountry(code: string | undefined): string | undefined {
  if (!code) return undefined;
  return toIso2(code) ?? (/^[A-Z]{3}$/.test(code) ? code : undefined);
}

// parseMrz needs a clock only to place 2-digit birth years in a century; the fields read here do not depend on it.
const MRZ_CLOCK = new Date(0);

/**
 * AnalyzeID response -> ExtractedIdentity. `declaredType` (what the client said the document is) is used when
 * ID_TYPE is absent or unrecognised.
 */
export function mapAnalyzeIdResponse(
  out: Pick<AnalyzeIDCommandOutput, 'IdentityDocuments'>,
  declaredType: DocumentType,
): ExtractedIdentity {
  const byType = detections(out);
  const result: ExtractedIdentity = { documentType: declaredType, fieldConfidence: {} };
  const set = <K extends keyof ExtractedIdentity>(
    key: K,
    found: { value: ExtractedIdentity[K]; confidence: number } | undefined,
  ) => {
    if (!found) return;
    result[key] = found.value;
    result.fieldConfidence[key] = found.confidence;
  };

  set(
    'documentType',
    best(byType, 'ID_TYPE', (d) => documentTypeFromIdType(d.text)),
  );

  const first = best(byType, 'FIRST_NAME', asText);
  const middle = best(byType, 'MIDDLE_NAME', asText);
  const given = [first, middle].filter((x) => x !== undefined);
  if (given.length > 0) {
    set('givenNames', { value: given.map((g) => g.value).join(' '), confidence: Math.min(...given.map((g) => g.confidence)) });
  }
  set('surname', best(byType, 'LAST_NAME', asText));
  set('documentNumber', best(byType, 'DOCUMENT_NUMBER', asText));
  set('dateOfBirth', best(byType, 'DATE_OF_BIRTH', asDate));
  set('expiryDate', best(byType, 'EXPIRATION_DATE', asDate));

  const mrz = best(byType, 'MRZ_CODE', (d) => mrzLines(d.text)?.join('\n'));
  set('mrz', mrz);
  const parsed = mrz ? parseMrz(mrz.value, MRZ_CLOCK) : undefined;
  const fromMrz = parsed?.ok ? parsed.fields : undefined;
  const mrzIssuer = mrzCountry(fromMrz?.issuingState);
  const mrzNationality = mrzCountry(fromMrz?.nationality);
  if (mrz && mrzIssuer) set('issuingCountry', { value: mrzIssuer, confidence: mrz.confidence });
  else
    set(
      'issuingCountry',
      best(byType, 'STATE_NAME', (d) => countryTextToIso2(d.text, { usStates: true })),
    );
  if (mrz && mrzNationality) set('nationality', { value: mrzNationality, confidence: mrz.confidence });
  return result;
}

// ---------------------------------------------------------------------------------- AnalyzeDocument

/** The best (highest-confidence, non-empty) QUERY_RESULT per query alias. */
export function queryAnswers(
  out: Pick<AnalyzeDocumentCommandOutput, 'Blocks'>,
): Map<string, { text: string; confidence: number }> {
  const blocks = out.Blocks ?? [];
  const byId = new Map<string, Block>();
  for (const b of blocks) if (b.Id) byId.set(b.Id, b);
  const answers = new Map<string, { text: string; confidence: number }>();
  for (const q of blocks) {
    if (q.BlockType !== 'QUERY' || !q.Query?.Alias) continue;
    const alias = q.Query.Alias.trim().toUpperCase();
    const ids = (q.Relationships ?? []).filter((r) => r.Type === 'ANSWER').flatMap((r) => r.Ids ?? []);
    for (const id of ids) {
      const a = byId.get(id);
      const text = a?.Text?.trim();
      if (a?.BlockType !== 'QUERY_RESULT' || !text) continue;
      const confidence = a.Confidence ?? 0;
      const prev = answers.get(alias);
      if (!prev || confidence > prev.confidence) answers.set(alias, { text, confidence });
    }
  }
  return answers;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** ADDRESS text -> lines (split at newlines, commas, semicolons), without a separately answered postal code and country. */
export function addressLines(address: string, separate: { postalCode?: string; country?: string }): string[] {
  const postal = separate.postalCode?.trim();
  const postalPattern = postal
    ? new RegExp(`(^|[^\\p{L}\\p{N}])${postal.split(/\s+/).map(escapeRegExp).join('\\s*')}(?=$|[^\\p{L}\\p{N}])`, 'giu')
    : undefined;
  return address
    .split(/[\n\r,;]+/)
    .map((line) => (postalPattern ? line.replace(postalPattern, '$1') : line).replace(/\s+/g, ' ').trim())
    .map((line) => line.replace(/^[-–\s]+|[-–\s]+$/g, ''))
    .filter((line) => line.length > 0)
    .filter((line) => !(separate.country && countryTextToIso2(line, { alpha2: true }) === separate.country));
}

/** AnalyzeDocument (FeatureTypes QUERIES, aliases of ADDRESS_PROOF_QUERIES) -> ExtractedAddressProof. */
export function mapAddressProofResponse(out: Pick<AnalyzeDocumentCommandOutput, 'Blocks'>): ExtractedAddressProof {
  const answers = queryAnswers(out);
  const result: ExtractedAddressProof = { fieldConfidence: {} };
  const get = (alias: AddressProofAlias) => answers.get(alias);

  const issue = get('ISSUE_DATE');
  const issueDate = normaliseDate(issue?.text);
  if (issue && issueDate) {
    result.issueDate = issueDate;
    result.fieldConfidence['issueDate'] = issue.confidence;
  }
  const postal = get('POSTAL_CODE');
  if (postal) {
    result.postalCode = postal.text.replace(/\s+/g, ' ');
    result.fieldConfidence['postalCode'] = postal.confidence;
  }
  const countryAnswer = get('COUNTRY');
  const country = countryTextToIso2(countryAnswer?.text, { alpha2: true });
  if (countryAnswer && country) {
    result.country = country;
    result.fieldConfidence['country'] = countryAnswer.confidence;
  }
  const address = get('ADDRESS');
  if (address) {
    const lines = addressLines(address.text, { postalCode: result.postalCode, country: result.country });
    if (lines.length > 0) {
      result.addressLines = lines;
      result.fieldConfidence['addressLines'] = address.confidence;
    }
  }
  const name = get('NAME');
  if (name) {
    result.nameOnDocument = name.text.replace(/\s+/g, ' ');
    result.fieldConfidence['nameOnDocument'] = name.confidence;
  }
  return result;
}
