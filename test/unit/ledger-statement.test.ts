/** The CSV statement builder: RFC 4180 quoting, formula-injection safety, opening/closing lines. */
import { describe, expect, it } from 'vitest';
import {
  buildStatementCsv,
  csvCell,
  monthBounds,
  STATEMENT_COLUMNS,
  statementFileName,
  statementLabels,
} from '#domain/ledger/statement.ts';
import { parseCsv } from '../support/csv.ts';

describe('csvCell', () => {
  it('leaves plain text alone', () => {
    expect(csvCell('Transfer to your EUR wallet')).toBe('Transfer to your EUR wallet');
    expect(csvCell(undefined)).toBe('');
  });

  it('quotes commas, quotes and line breaks, doubling inner quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line1\nline2')).toBe('"line1\nline2"');
    expect(csvCell('line1\r\nline2')).toBe('"line1\r\nline2"');
  });

  it.each([
    ['=HYPERLINK("http://evil")', `"'=HYPERLINK(""http://evil"")"`],
    ['+1+1', "'+1+1"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['=1,2', `"'=1,2"`],
  ])('neutralises a formula: %j', (input, out) => {
    expect(csvCell(input)).toBe(out);
  });

  it('keeps our own signed decimal amounts numeric', () => {
    expect(csvCell('-12.50')).toBe('-12.50');
    expect(csvCell('1000')).toBe('1000');
    expect(csvCell('-0.000001')).toBe('-0.000001');
  });
});

describe('buildStatementCsv', () => {
  const input = {
    walletId: 'w-1',
    currency: 'USD',
    month: '2025-03',
    periodStart: '2025-03-01T00:00:00.000Z',
    periodEnd: '2025-04-01T00:00:00.000Z',
    opening: '100.00',
    closing: '80.00',
    rows: [
      {
        postedAt: '2025-03-02T10:00:00.000Z',
        journalId: 'j1',
        type: 'transfer',
        description: 'Transfer to your EUR wallet',
        reference: '=cmd|calc',
        amount: '-30.00',
        balance: '70.00',
        fxRate: '0.9193',
      },
      {
        postedAt: '2025-03-05T10:00:00.000Z',
        journalId: 'j2',
        type: 'adjustment',
        description: 'Balance adjustment, "goodwill"',
        amount: '10.00',
        balance: '80.00',
      },
    ],
  };

  it('has a header, the opening balance first, entries oldest first, the closing balance last, CRLF', () => {
    const csv = buildStatementCsv(input);
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.replace(/\r\n/g, '')).not.toMatch(/\n/);
    const rows = parseCsv(csv);
    expect(rows[0]).toEqual([...STATEMENT_COLUMNS]);
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.length === STATEMENT_COLUMNS.length)).toBe(true);
    expect(rows[1]).toEqual(['2025-03-01T00:00:00.000Z', 'opening_balance', 'Opening balance', '', '', 'USD', '100.00', '', '']);
    expect(rows[2]).toEqual([
      '2025-03-02T10:00:00.000Z',
      'transfer',
      'Transfer to your EUR wallet',
      "'=cmd|calc",
      '-30.00',
      'USD',
      '70.00',
      '0.9193',
      'j1',
    ]);
    expect(rows[3]![2]).toBe('Balance adjustment, "goodwill"');
    expect(rows[4]).toEqual(['2025-04-01T00:00:00.000Z', 'closing_balance', 'Closing balance', '', '', 'USD', '80.00', '', '']);
  });

  it('an empty month still has opening and closing lines', () => {
    const rows = parseCsv(buildStatementCsv({ ...input, rows: [], closing: '100.00', labels: statementLabels('de') }));
    expect(rows.map((r) => r[1])).toEqual(['type', 'opening_balance', 'closing_balance']);
    expect(rows[1]![2]).toBe('Anfangssaldo');
    expect(rows[2]![6]).toBe('100.00');
  });
});

describe('helpers', () => {
  it('monthBounds gives [start, end) in UTC, across a year end', () => {
    expect(monthBounds('2025-12')).toEqual({ start: '2025-12-01T00:00:00.000Z', end: '2026-01-01T00:00:00.000Z' });
    expect(monthBounds('2024-02')).toEqual({ start: '2024-02-01T00:00:00.000Z', end: '2024-03-01T00:00:00.000Z' });
    expect(() => monthBounds('2024-13')).toThrow();
  });

  it('statementFileName keeps only safe characters', () => {
    expect(statementFileName('LW-abc/../x', '2025-03')).toBe('statement-LW-abc____x-2025-03.csv');
  });
});
