/**
 * PSP settlement reports: parsing a provider's settlement CSV and matching its lines against the
 * ledger's PSP journals (docs/decisions/0008-payments.md, "PSP reconciliation"). Pure: no I/O, no clock.
 *
 * The report format: a header row naming the columns `provider_ref,kind,amount,currency,provider_fee,settled_at`
 * (any order; extra columns are ignored), then one row per settled item. `kind` is deposit | payout |
 * refund | chargeback | fee; `amount` and `provider_fee` are decimal strings in the currency's minor
 * unit precision (an optional leading '-' is accepted: the direction is the kind's, so matching uses the
 * magnitude; an empty provider_fee is zero); `settled_at` is an ISO date or date-time (UTC if no offset).
 *
 * Invariants:
 * - parsing never skips a row silently: the first bad row (or a bad/missing header) throws the
 *   DomainError `settlement_report_invalid` naming the file, the line and the column
 *   (meta { file, line, column, reason }); blank lines are not rows
 * - money is bigint minor units throughout; no floating point
 * - a line matches a ledger record only on the same provider + providerRef + kind, with the line settled
 *   within [-maxLeadDays, +maxLagDays] UTC calendar days of the record's journal; equal amount AND
 *   currency -> matched, otherwise -> amountMismatch (both sides kept). Exact matches are taken first,
 *   so a mismatching line never takes the record an exact line would have matched
 * - each record is matched by at most one line and each line by at most one record: a second line
 *   for an already settled record is missingInLedger ('duplicate')
 * - `priorLines` (earlier reports still inside the lag window) only consume records (settledEarlier);
 *   they are never reported again
 * - every report line lands in exactly one of matched / amountMismatch / missingInLedger, and every record
 *   in exactly one of matched / amountMismatch / missingAtProvider / settledEarlier / outsidePeriod;
 *   an unmatched record is missingAtProvider only when its journal was posted inside `period`
 */
import { parse } from 'csv-parse/sync';
import { DomainError } from '../errors.ts';
import { isCurrency, MAX_AMOUNT, type Money, toMinor } from '../money/index.ts';
import type { SettlementLine } from './ports.ts';

export const SETTLEMENT_COLUMNS = ['provider_ref', 'kind', 'amount', 'currency', 'provider_fee', 'settled_at'] as const;
export type SettlementColumn = (typeof SETTLEMENT_COLUMNS)[number];
export const SETTLEMENT_KINDS = ['deposit', 'payout', 'refund', 'chargeback', 'fee'] as const;
export type SettlementKind = SettlementLine['kind'];

/** How far a line's settlement date may be from its journal's date, in UTC calendar days. */
export const DEFAULT_MAX_LAG_DAYS = 3;
/** A provider may date a settlement the day before our journal (webhook after midnight). */
export const DEFAULT_MAX_LEAD_DAYS = 1;

const MAX_REF_LENGTH = 200;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const REF = /^[^\u0000-\u001f\u007f]+$/;
const DECIMAL = /^-?\d{1,40}(?:\.\d{1,18})?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?$/;
const DAY_MS = 86_400_000;

/** A parsed report row with where it came from. */
export interface ReportLine extends SettlementLine {
  provider: string;
  /** The report file (S3 key) and its 1-based line number. */
  source: { file: string; line: number };
}

/** A ledger journal that moved money through a provider: its psp_clearing posting, as a magnitude. */
export interface LedgerRecord {
  journalId: string;
  provider: string;
  providerRef: string;
  kind: SettlementKind;
  amount: Money;
  postedAt: string;
}

export type SettlementParseReason =
  | 'malformed_csv'
  | 'missing_header'
  | 'duplicate_column'
  | 'missing_column'
  | 'missing_value'
  | 'invalid_provider_ref'
  | 'invalid_kind'
  | 'invalid_amount'
  | 'amount_too_precise'
  | 'unknown_currency'
  | 'invalid_settled_at';

function invalid(file: string, line: number, column: string, reason: SettlementParseReason, message: string): DomainError {
  const where = `${file}: line ${line}, column ${column}`;
  return new DomainError(
    'settlement_report_invalid',
    'validation',
    `${where}: ${message}`,
    [{ field: `line ${line}: ${column}`, code: reason, message }],
    { file, line, column, reason },
  );
}

/** A decimal string in `currency` -> its magnitude in minor units. */
function amountOf(raw: string, currency: string, fail: (r: SettlementParseReason, m: string) => DomainError): bigint {
  if (!DECIMAL.test(raw)) throw fail('invalid_amount', `'${raw.slice(0, 40)}' is not a decimal amount`);
  let minor: bigint;
  try {
    minor = toMinor(raw, currency);
  } catch {
    throw fail('amount_too_precise', `'${raw}' has more decimal places than ${currency} allows`);
  }
  const abs = minor < 0n ? -minor : minor;
  if (abs >= MAX_AMOUNT) throw fail('invalid_amount', `'${raw.slice(0, 40)}' is out of range`);
  return abs;
}

/** An ISO date or date-time -> its canonical UTC ISO string, or undefined. */
export function canonicalInstant(raw: string): string | undefined {
  const d = DATE.exec(raw);
  if (d) {
    const ms = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]));
    const iso = new Date(ms).toISOString();
    return iso.slice(0, 10) === raw ? iso : undefined; // rejects 2024-02-30
  }
  if (!DATE_TIME.test(raw)) return undefined;
  const ms = Date.parse(/[Zz]|[+-]\d{2}:\d{2}$/.test(raw) ? raw : `${raw}Z`);
  if (!Number.isFinite(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  // Date.parse rolls 2024-02-30T.. over to March: a calendar date that moved was not a real date
  if (!/[+-]\d{2}:\d{2}$/.test(raw) && iso.slice(0, 10) !== raw.slice(0, 10)) return undefined;
  return iso;
}

/**
 * Parses one settlement report. `file` names it in errors (and in each line's source); `provider` is
 * the provider whose prefix it came from. Throws `settlement_report_invalid` on the first bad row.
 */
export function parseSettlementCsv(text: string, opts: { file: string; provider: string }): ReportLine[] {
  const { file, provider } = opts;
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      record_delimiter: ['\r\n', '\n'],
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const e = err as { lines?: number; message?: string };
    throw invalid(file, e.lines ?? 1, '*', 'malformed_csv', (e.message ?? 'malformed CSV').slice(0, 200));
  }
  const header = rows[0];
  if (!header) throw invalid(file, 1, '*', 'missing_header', `the header row (${SETTLEMENT_COLUMNS.join(',')}) is missing`);
  const index = new Map<string, number>();
  header.record.forEach((name, i) => {
    const col = name.toLowerCase();
    if (index.has(col)) throw invalid(file, header.info.lines, name, 'duplicate_column', `column '${name}' appears twice`);
    index.set(col, i);
  });
  for (const col of SETTLEMENT_COLUMNS) {
    if (!index.has(col)) throw invalid(file, header.info.lines, col, 'missing_column', `the header has no '${col}' column`);
  }

  return rows.slice(1).map(({ record, info }): ReportLine => {
    const line = info.lines;
    const cell = (col: SettlementColumn) => record[index.get(col)!] ?? '';
    const need = (col: SettlementColumn) => {
      const v = cell(col);
      if (v === '') throw invalid(file, line, col, 'missing_value', `'${col}' is empty`);
      return v;
    };
    const at = (col: SettlementColumn) => (r: SettlementParseReason, m: string) => invalid(file, line, col, r, m);

    const providerRef = need('provider_ref');
    if (providerRef.length > MAX_REF_LENGTH || !REF.test(providerRef)) {
      throw invalid(file, line, 'provider_ref', 'invalid_provider_ref', 'the provider reference is malformed');
    }
    const kind = need('kind').toLowerCase();
    if (!(SETTLEMENT_KINDS as readonly string[]).includes(kind)) {
      throw invalid(file, line, 'kind', 'invalid_kind', `'${kind.slice(0, 40)}' is not one of ${SETTLEMENT_KINDS.join(', ')}`);
    }
    const currency = need('currency').toUpperCase();
    if (!isCurrency(currency))
      throw invalid(file, line, 'currency', 'unknown_currency', `'${currency.slice(0, 10)}' is not a currency`);
    const amount = amountOf(need('amount'), currency, at('amount'));
    const feeRaw = cell('provider_fee');
    const providerFee = feeRaw === '' ? 0n : amountOf(feeRaw, currency, at('provider_fee'));
    const settledRaw = need('settled_at');
    const settledAt = canonicalInstant(settledRaw);
    if (!settledAt) {
      throw invalid(
        file,
        line,
        'settled_at',
        'invalid_settled_at',
        `'${settledRaw.slice(0, 40)}' is not an ISO date or date-time`,
      );
    }
    return {
      provider,
      providerRef,
      kind: kind as SettlementKind,
      amount: { amount, currency },
      providerFee: { amount: providerFee, currency },
      settledAt,
      source: { file, line },
    };
  });
}

export interface Matched {
  line: ReportLine;
  record: LedgerRecord;
}

export interface AmountMismatch {
  line: ReportLine;
  record: LedgerRecord;
  /** What differs: the amount, the currency, or both. */
  differs: ('amount' | 'currency')[];
}

export interface MissingInLedger {
  line: ReportLine;
  /**
   * no_record: no journal has this provider reference and kind; outside_window: one has, but its date
   * is too far from the settlement date; duplicate: every such journal is already matched by another line.
   */
  reason: 'no_record' | 'outside_window' | 'duplicate';
}

export interface CurrencyTotals {
  /** Sum of the report lines' amounts (magnitudes). */
  settled: bigint;
  /** Sum of the report lines' provider fees. */
  providerFees: bigint;
  matched: bigint;
  /** The report side of amount mismatches in this currency, and the ledger side. */
  mismatchReported: bigint;
  mismatchLedger: bigint;
  missingInLedger: bigint;
  missingAtProvider: bigint;
}

export interface SettlementCounts {
  lines: number;
  records: number;
  matched: number;
  amountMismatch: number;
  missingInLedger: number;
  missingAtProvider: number;
  settledEarlier: number;
  outsidePeriod: number;
  /** amountMismatch + missingInLedger + missingAtProvider. */
  discrepancies: number;
}

export interface SettlementReconciliation {
  matched: Matched[];
  amountMismatch: AmountMismatch[];
  missingInLedger: MissingInLedger[];
  missingAtProvider: LedgerRecord[];
  /** Records settled by a prior report (not discrepancies). */
  settledEarlier: LedgerRecord[];
  /** Unmatched records posted outside the period: not due in this report (not discrepancies). */
  outsidePeriod: LedgerRecord[];
  summary: { counts: SettlementCounts; totals: Record<string, CurrencyTotals> };
}

export interface ReconcileInput {
  /** The report being reconciled: every line is reported. */
  lines: readonly ReportLine[];
  /** Earlier reports still inside the lag window: they settle records but are not reported. */
  priorLines?: readonly ReportLine[];
  records: readonly LedgerRecord[];
  /** Records whose journal was posted in [from, to) are due: unmatched, they are missing at the provider. */
  period: { from: string; to: string };
  window?: { maxLagDays?: number; maxLeadDays?: number };
}

const keyOf = (x: { provider: string; providerRef: string; kind: string }) =>
  `${x.provider}\u0000${x.kind}\u0000${x.providerRef}`;
const utcDay = (iso: string) => Math.floor(Date.parse(iso) / DAY_MS);

const zeroTotals = (): CurrencyTotals => ({
  settled: 0n,
  providerFees: 0n,
  matched: 0n,
  mismatchReported: 0n,
  mismatchLedger: 0n,
  missingInLedger: 0n,
  missingAtProvider: 0n,
});

/** Matches a settlement report against the ledger's PSP records (see the module invariants). */
export function reconcileSettlement(input: ReconcileInput): SettlementReconciliation {
  const maxLag = input.window?.maxLagDays ?? DEFAULT_MAX_LAG_DAYS;
  const maxLead = input.window?.maxLeadDays ?? DEFAULT_MAX_LEAD_DAYS;
  const from = Date.parse(input.period.from);
  const to = Date.parse(input.period.to);

  // Records per key, oldest journal first (ties by journal id): a deterministic choice among candidates.
  const byKey = new Map<string, LedgerRecord[]>();
  const sorted = [...input.records].sort((a, b) =>
    a.postedAt === b.postedAt ? (a.journalId < b.journalId ? -1 : 1) : a.postedAt < b.postedAt ? -1 : 1,
  );
  for (const r of sorted) {
    const k = keyOf(r);
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }

  type Tagged = { line: ReportLine; prior: boolean };
  const all: Tagged[] = [
    ...(input.priorLines ?? []).map((line) => ({ line, prior: true })),
    ...input.lines.map((line) => ({ line, prior: false })),
  ];
  const taken = new Map<LedgerRecord, Tagged>();
  const matchOf = new Map<Tagged, LedgerRecord>();
  const inWindow = (line: ReportLine, r: LedgerRecord) => {
    const diff = utcDay(line.settledAt) - utcDay(r.postedAt);
    return diff >= -maxLead && diff <= maxLag;
  };
  const exact = (line: ReportLine, r: LedgerRecord) =>
    r.amount.currency === line.amount.currency && r.amount.amount === line.amount.amount;

  // Pass 1: exact matches; pass 2: the same key within the window, whatever the amount.
  for (const strict of [true, false]) {
    for (const t of all) {
      if (matchOf.has(t)) continue;
      const r = (byKey.get(keyOf(t.line)) ?? []).find(
        (c) => !taken.has(c) && inWindow(t.line, c) && (!strict || exact(t.line, c)),
      );
      if (!r) continue;
      taken.set(r, t);
      matchOf.set(t, r);
    }
  }

  const out: SettlementReconciliation = {
    matched: [],
    amountMismatch: [],
    missingInLedger: [],
    missingAtProvider: [],
    settledEarlier: [],
    outsidePeriod: [],
    summary: {
      counts: {
        lines: input.lines.length,
        records: input.records.length,
        matched: 0,
        amountMismatch: 0,
        missingInLedger: 0,
        missingAtProvider: 0,
        settledEarlier: 0,
        outsidePeriod: 0,
        discrepancies: 0,
      },
      totals: {},
    },
  };
  const totals = (currency: string) => {
    out.summary.totals[currency] ??= zeroTotals();
    return out.summary.totals[currency];
  };

  for (const t of all) {
    if (t.prior) continue;
    const { line } = t;
    const lt = totals(line.amount.currency);
    lt.settled += line.amount.amount;
    lt.providerFees += line.providerFee.amount;
    const record = matchOf.get(t);
    if (record && exact(line, record)) {
      out.matched.push({ line, record });
      lt.matched += line.amount.amount;
    } else if (record) {
      const differs: ('amount' | 'currency')[] = [];
      if (record.amount.amount !== line.amount.amount) differs.push('amount');
      if (record.amount.currency !== line.amount.currency) differs.push('currency');
      out.amountMismatch.push({ line, record, differs });
      lt.mismatchReported += line.amount.amount;
      totals(record.amount.currency).mismatchLedger += record.amount.amount;
    } else {
      const candidates = byKey.get(keyOf(line)) ?? [];
      const reason =
        candidates.length === 0 ? 'no_record' : candidates.some((c) => !taken.has(c)) ? 'outside_window' : 'duplicate';
      out.missingInLedger.push({ line, reason });
      lt.missingInLedger += line.amount.amount;
    }
  }

  for (const r of sorted) {
    const by = taken.get(r);
    if (by?.prior) out.settledEarlier.push(r);
    else if (by)
      continue; // reported with its line above
    else {
      const posted = Date.parse(r.postedAt);
      if (posted >= from && posted < to) {
        out.missingAtProvider.push(r);
        totals(r.amount.currency).missingAtProvider += r.amount.amount;
      } else out.outsidePeriod.push(r);
    }
  }

  const c = out.summary.counts;
  c.matched = out.matched.length;
  c.amountMismatch = out.amountMismatch.length;
  c.missingInLedger = out.missingInLedger.length;
  c.missingAtProvider = out.missingAtProvider.length;
  c.settledEarlier = out.settledEarlier.length;
  c.outsidePeriod = out.outsidePeriod.length;
  c.discrepancies = c.amountMismatch + c.missingInLedger + c.missingAtProvider;
  return out;
}
