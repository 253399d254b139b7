import { describe, expect, it } from 'vitest';
import { isDomainError } from '#domain/errors.ts';
import { reportDate } from '#domain/payments/report-date.ts';

const now = new Date('2026-03-01T00:30:00Z');
const codeOf = (d: unknown, opts = { notAfterToday: true }) => {
  try {
    return reportDate(d, now, opts);
  } catch (e) {
    return isDomainError(e) ? e.code : String(e);
  }
};

describe('reportDate', () => {
  it('defaults to yesterday in UTC, across a month end', () => {
    expect(reportDate(undefined, now)).toBe('2026-02-28');
  });
  it('accepts a calendar day up to today', () => {
    expect(codeOf('2026-03-01')).toBe('2026-03-01');
    expect(codeOf('2024-02-29')).toBe('2024-02-29');
  });
  it('refuses days that do not exist, other shapes and days after today', () => {
    for (const d of ['2026-02-29', '2026-13-01', '2026-3-1', '01/03/2026', '', 20260301, null]) {
      expect(codeOf(d)).toBe('invalid_report_date');
    }
    expect(codeOf('2026-03-02')).toBe('report_date_in_future');
  });
  it('lets the job itself take a later day (a replay, or the window a journal posted today falls in)', () => {
    expect(codeOf('2026-03-04', { notAfterToday: false })).toBe('2026-03-04');
    expect(codeOf('2026-02-30', { notAfterToday: false })).toBe('invalid_report_date');
  });
});
