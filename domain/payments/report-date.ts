/**
 * The day a settlement reconciliation covers. Pure.
 *
 * Invariants:
 * - no date means yesterday (UTC): the last complete day a provider has reported
 * - a date must be a real calendar day written YYYY-MM-DD (400 invalid_report_date)
 * - asked for by a person (`notAfterToday`), it must not be after today (UTC): a report for a day that
 *   has not begun cannot exist (400 report_date_in_future). The job itself takes any calendar day, so a
 *   replay or a test can reconcile the window a journal posted today falls in
 */
import { DomainError } from '../errors.ts';

const DAY_MS = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function reportDate(date: unknown, now: Date, opts: { notAfterToday?: boolean } = {}): string {
  if (date === undefined) return isoDay(now.getTime() - DAY_MS);
  const start = typeof date === 'string' && DATE.test(date) ? Date.parse(`${date}T00:00:00.000Z`) : Number.NaN;
  if (Number.isNaN(start) || isoDay(start) !== date) {
    throw new DomainError('invalid_report_date', 'validation', 'The report date must be a calendar date YYYY-MM-DD', [
      { field: 'date', code: 'invalid_report_date', message: 'A calendar date YYYY-MM-DD' },
    ]);
  }
  if (opts.notAfterToday && date > isoDay(now.getTime())) {
    throw new DomainError('report_date_in_future', 'validation', 'The report date is after today (UTC)', [
      { field: 'date', code: 'report_date_in_future', message: 'Today or earlier (UTC)' },
    ]);
  }
  return date;
}
