/**
 * Partner payouts (issue 16 part 4, ADR 0018): the rules of a payout, pure. The use cases are
 * functions/app/partners/payouts.ts and payout-statement.ts; the item is functions/store/partner-payouts.ts.
 *
 * Invariants:
 * - a payout is a window of a partner's accrual lines in one currency: accruedAt in (from, periodEnd], from = the
 *   partner's paidThrough[currency] (the periodEnd of its last paid payout) or the epoch; lines are never marked
 * - one payout id per (partner, tenant-local run date, currency): po_<partnerId>_<yyyy-mm-dd>_<CUR>; its journal id
 *   is pj_<payoutId>, so a re-run of the day finds the journal it posted
 * - the net of a window is the exact bigint sum of its lines' signed minor amounts (clawbacks included)
 * - the outcome: a held partner is 'held' (nothing moves); else a net that is not positive or below the tenant's
 *   minimum for the currency is 'below_minimum' (carried forward: the window start does not move); else 'paid'
 * - the statement lists every line of the window and its CSV (RFC 4180, CRLF, money as decimal strings of the
 *   currency) has one row per line, so the sum of its amount column is the payout's amount exactly
 */
import { csvLine } from '../ledger/statement.ts';
import { formatAmount, toMinor } from '../money/index.ts';

export const PAYOUT_STATUSES = ['paid', 'held', 'below_minimum'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

/** The start of every partner's first window (exclusive). */
export const PAYOUT_EPOCH = '1970-01-01T00:00:00.000Z';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** po_<partnerId>_<yyyy-mm-dd>_<CUR>: one payout per partner, tenant-local run date and currency. */
export function payoutIdOf(partnerId: string, localDate: string, currency: string): string {
  if (!DATE.test(localDate)) throw new RangeError(`payoutIdOf: not a date: ${JSON.stringify(localDate).slice(0, 20)}`);
  return `po_${partnerId}_${localDate}_${currency}`;
}

/** The tenant-local calendar date (yyyy-mm-dd) of an instant: the run date a payout id names. */
export function tenantLocalDate(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(
    at,
  );
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** The ledger journal of a payout. */
export const payoutJournalId = (payoutId: string) => `pj_${payoutId}`;

/** The window's start: the partner's last paid periodEnd in the currency, else the epoch. */
export const windowStart = (paidThrough: Readonly<Record<string, string>>, currency: string): string =>
  paidThrough[currency] ?? PAYOUT_EPOCH;

/** The window's end: the run time less the tenant's safety margin (a line still in flight goes in the next one). */
export const windowEnd = (runAt: Date, safetySeconds: number): string =>
  new Date(runAt.getTime() - safetySeconds * 1000).toISOString();

/** The tenant's minimum for a currency in minor units (no minimum configured: 0, any positive net is paid). */
export function minimumOf(payoutMinimum: Readonly<Record<string, string>>, currency: string): bigint {
  const m = payoutMinimum[currency];
  return m === undefined ? 0n : toMinor(m, currency);
}

/** What a window with `net` becomes (module invariants). */
export function payoutOutcome(input: { net: bigint; minimum: bigint; held: boolean }): PayoutStatus {
  if (input.held) return 'held';
  if (input.net <= 0n || input.net < input.minimum) return 'below_minimum';
  return 'paid';
}

/** The line of a statement (what a partner may see of an accrual line). */
export interface StatementLine {
  lineId: string;
  sourceKey: string;
  kind: string;
  rule: string;
  tier: number;
  clientId: string;
  /** Signed minor units. */
  amount: bigint;
  currency: string;
  rate: string;
  accruedAt: string;
  planId: string;
  planVersion: number;
}

/** The exact sum of lines' amounts. */
export const sumLines = (lines: readonly Pick<StatementLine, 'amount'>[]): bigint => lines.reduce((s, l) => s + l.amount, 0n);

export const STATEMENT_CSV_COLUMNS = [
  'line_id',
  'source_key',
  'kind',
  'rule',
  'tier',
  'client_id',
  'amount',
  'currency',
  'rate',
  'accrued_at',
  'plan_id',
  'plan_version',
] as const;

/** The statement as CSV: a header, then one row per line in accrual order; CRLF line ends, a final CRLF. */
export function statementCsv(lines: readonly StatementLine[]): string {
  const rows = lines.map((l) =>
    csvLine([
      l.lineId,
      l.sourceKey,
      l.kind,
      l.rule,
      String(l.tier),
      l.clientId,
      formatAmount(l.amount, l.currency),
      l.currency,
      l.rate,
      l.accruedAt,
      l.planId,
      String(l.planVersion),
    ]),
  );
  return `${[csvLine(STATEMENT_CSV_COLUMNS), ...rows].join('\r\n')}\r\n`;
}

/** A statement's file name: payout-<payoutId>.csv (safe characters only). */
export const statementFileName = (payoutId: string) => `payout-${payoutId.replace(/[^A-Za-z0-9_-]/g, '_')}.csv`;

/** The idempotency request hash of a payout's journal: its window and amount (another window under the id is a reuse). */
export const payoutRequestHash = (p: { from: string; periodEnd: string; amount: bigint; lines: number }) =>
  `${p.from}|${p.periodEnd}|${p.amount}|${p.lines}`;
