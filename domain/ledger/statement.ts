/**
 * A wallet's monthly statement as CSV (RFC 4180). Pure: the caller reads the balances and postings
 * and formats money; this module only lays the rows out and escapes them.
 *
 * Invariants:
 * - lines end in CRLF; a cell holding a comma, a double quote, CR or LF is quoted, its quotes doubled
 * - formula-injection safe: a text cell starting with =, +, -, @, TAB or CR gets a leading single
 *   quote, so a spreadsheet shows it as text instead of evaluating it. Cells that are plain decimal
 *   numbers (our own amounts and balances, e.g. -12.50) are left alone: they cannot be formulas
 * - the first data row is the opening balance (at the start of the month), the last the closing
 *   balance (at its end); entries run oldest first in between, each with its running balance
 * - money is a decimal string in major units, never a float; every row has the same columns
 */

export const STATEMENT_COLUMNS = [
  'date',
  'type',
  'description',
  'reference',
  'amount',
  'currency',
  'balance',
  'fx_rate',
  'journal_id',
] as const;

export interface StatementRow {
  /** ISO 8601 timestamp */
  postedAt: string;
  journalId: string;
  type: string;
  description: string;
  reference?: string | undefined;
  /** Signed decimal string in major units, e.g. '-12.50' */
  amount: string;
  /** Running balance after this entry, decimal string */
  balance: string;
  fxRate?: string | undefined;
}

export interface StatementInput {
  walletId: string;
  currency: string;
  /** YYYY-MM */
  month: string;
  /** ISO timestamps bounding the month: [periodStart, periodEnd) */
  periodStart: string;
  periodEnd: string;
  opening: string;
  closing: string;
  /** Oldest first. */
  rows: readonly StatementRow[];
  labels?: { opening: string; closing: string };
}

const NUMERIC = /^-?\d+(\.\d+)?$/;
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formula-neutralised, then quoted when needed (RFC 4180). */
export function csvCell(value: string | undefined | null): string {
  let s = value ?? '';
  if (!NUMERIC.test(s) && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (cells: readonly (string | undefined | null)[]): string => cells.map(csvCell).join(',');

/** The statement's file name: statement-<walletId>-<YYYY-MM>.csv (safe characters only). */
export function statementFileName(walletId: string, month: string): string {
  return `statement-${walletId.replace(/[^A-Za-z0-9_-]/g, '_')}-${month.replace(/[^0-9-]/g, '')}.csv`;
}

/** The CSV document, CRLF line endings, ending with a CRLF. */
export function buildStatementCsv(input: StatementInput): string {
  const labels = input.labels ?? { opening: 'Opening balance', closing: 'Closing balance' };
  const lines = [
    csvLine(STATEMENT_COLUMNS),
    csvLine([input.periodStart, 'opening_balance', labels.opening, '', '', input.currency, input.opening, '', '']),
    ...input.rows.map((r) =>
      csvLine([r.postedAt, r.type, r.description, r.reference, r.amount, input.currency, r.balance, r.fxRate, r.journalId]),
    ),
    csvLine([input.periodEnd, 'closing_balance', labels.closing, '', '', input.currency, input.closing, '', '']),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

/** [start, end) of a calendar month in UTC, as ISO strings. Throws on a malformed month. */
export function monthBounds(month: string): { start: string; end: string } {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  if (!m) throw new Error(`monthBounds: not a YYYY-MM month: ${month}`);
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  return {
    start: new Date(Date.UTC(year, index, 1)).toISOString(),
    end: new Date(Date.UTC(year, index + 1, 1)).toISOString(),
  };
}

/** Statement labels per locale (the column names stay English, for programs). */
export function statementLabels(locale: string): { opening: string; closing: string } {
  switch (locale.split('-')[0]) {
    case 'de':
      return { opening: 'Anfangssaldo', closing: 'Endsaldo' };
    case 'es':
      return { opening: 'Saldo inicial', closing: 'Saldo final' };
    default:
      return { opening: 'Opening balance', closing: 'Closing balance' };
  }
}
