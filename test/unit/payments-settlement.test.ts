/**
 * Settlement reports (domain/payments/settlement.ts): parsing the provider CSV (any column order, CRLF,
 * blank lines, date-only settlement dates, signs; every bad row a settlement_report_invalid naming the
 * file, line and column, never a skip) and matching its lines against ledger records: matched, amount
 * and currency mismatch, missing in ledger (no record, outside the date window, duplicate line),
 * missing at provider (only for journals in the period), prior reports, exact bigint totals, and the
 * property that every line and every record lands in exactly one bucket.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDomainError } from '#domain/errors.ts';
import {
  type LedgerRecord,
  parseSettlementCsv,
  type ReportLine,
  reconcileSettlement,
  type SettlementKind,
} from '#domain/payments/settlement.ts';

const HEADER = 'provider_ref,kind,amount,currency,provider_fee,settled_at';
const FILE = 'psp/sandbox/2024-05-10/a.csv';
const parse = (text: string) => parseSettlementCsv(text, { file: FILE, provider: 'sandbox' });

function parseError(text: string) {
  try {
    parse(text);
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return { code: err.code, message: err.message, ...(err.meta as { line: number; column: string; reason: string }) };
  }
  throw new Error('expected a parse error');
}

describe('parseSettlementCsv', () => {
  it('reads every row into minor units with its source line', () => {
    const lines = parse(
      `${HEADER}\r\nref-1,deposit,100.50,USD,1.20,2024-05-10T08:00:00Z\n\nref-2,PAYOUT,-25,eur,,2024-05-10\nref-3,chargeback,5000,JPY,0,2024-05-10T23:59:59+02:00\n`,
    );
    expect(lines).toEqual([
      {
        provider: 'sandbox',
        providerRef: 'ref-1',
        kind: 'deposit',
        amount: { amount: 10050n, currency: 'USD' },
        providerFee: { amount: 120n, currency: 'USD' },
        settledAt: '2024-05-10T08:00:00.000Z',
        source: { file: FILE, line: 2 },
      },
      {
        provider: 'sandbox',
        providerRef: 'ref-2',
        kind: 'payout',
        amount: { amount: 2500n, currency: 'EUR' },
        providerFee: { amount: 0n, currency: 'EUR' },
        settledAt: '2024-05-10T00:00:00.000Z',
        source: { file: FILE, line: 4 },
      },
      {
        provider: 'sandbox',
        providerRef: 'ref-3',
        kind: 'chargeback',
        amount: { amount: 5000n, currency: 'JPY' },
        providerFee: { amount: 0n, currency: 'JPY' },
        settledAt: '2024-05-10T21:59:59.000Z',
        source: { file: FILE, line: 5 },
      },
    ]);
  });

  it('accepts the columns in any order and ignores extra ones', () => {
    const [line] = parse(
      'settled_at,currency,amount,kind,provider_ref,provider_fee,batch\n2024-05-10,USD,1.00,refund,r-9,0.01,B7\n',
    );
    expect(line).toMatchObject({ providerRef: 'r-9', kind: 'refund', amount: { amount: 100n }, providerFee: { amount: 1n } });
  });

  it('keeps amounts exact beyond the float range', () => {
    const [line] = parse(`${HEADER}\nbig,deposit,123456789012345678.99,USD,0,2024-05-10\n`);
    expect(line!.amount.amount).toBe(12345678901234567899n);
  });

  it('reads a header-only report as no lines', () => {
    expect(parse(`${HEADER}\n`)).toEqual([]);
  });

  it.each([
    ['', 1, '*', 'missing_header'],
    ['provider_ref,kind,amount,currency,settled_at\n', 1, 'provider_fee', 'missing_column'],
    [`${HEADER},kind\n`, 1, 'kind', 'duplicate_column'],
    [`${HEADER}\nr1,deposit,1.00,USD,0,2024-05-10\nr2,bonus,1.00,USD,0,2024-05-10\n`, 3, 'kind', 'invalid_kind'],
    [`${HEADER}\nr1,deposit,1.0.0,USD,0,2024-05-10\n`, 2, 'amount', 'invalid_amount'],
    [`${HEADER}\nr1,deposit,1e3,USD,0,2024-05-10\n`, 2, 'amount', 'invalid_amount'],
    [`${HEADER}\nr1,deposit,1.234,USD,0,2024-05-10\n`, 2, 'amount', 'amount_too_precise'],
    [`${HEADER}\nr1,deposit,1.5,JPY,0,2024-05-10\n`, 2, 'amount', 'amount_too_precise'],
    [`${HEADER}\nr1,deposit,1.00,USD,abc,2024-05-10\n`, 2, 'provider_fee', 'invalid_amount'],
    [`${HEADER}\nr1,deposit,1.00,XXX,0,2024-05-10\n`, 2, 'currency', 'unknown_currency'],
    [`${HEADER}\nr1,deposit,1.00,USD,0,2024-02-30\n`, 2, 'settled_at', 'invalid_settled_at'],
    [`${HEADER}\nr1,deposit,1.00,USD,0,2024-02-30T10:00:00Z\n`, 2, 'settled_at', 'invalid_settled_at'],
    [`${HEADER}\nr1,deposit,1.00,USD,0,yesterday\n`, 2, 'settled_at', 'invalid_settled_at'],
    [`${HEADER}\n,deposit,1.00,USD,0,2024-05-10\n`, 2, 'provider_ref', 'missing_value'],
    [`${HEADER}\nr1,deposit,1.00,USD\n`, 2, 'settled_at', 'missing_value'],
    [`${HEADER}\nr1,deposit,"1.00,USD,0,2024-05-10\n`, 2, '*', 'malformed_csv'],
  ])('refuses a bad report: %j -> line %i, column %s (%s)', (text, line, column, reason) => {
    const e = parseError(text);
    expect(e).toMatchObject({ code: 'settlement_report_invalid', line, column, reason });
    expect(e.message).toContain(`${FILE}: line ${line}, column ${column}`);
  });
});

const line = (
  providerRef: string,
  amount: bigint,
  opts: { kind?: SettlementKind; currency?: string; settledAt?: string; fee?: bigint; provider?: string; n?: number } = {},
): ReportLine => {
  const currency = opts.currency ?? 'USD';
  return {
    provider: opts.provider ?? 'sandbox',
    providerRef,
    kind: opts.kind ?? 'deposit',
    amount: { amount, currency },
    providerFee: { amount: opts.fee ?? 0n, currency },
    settledAt: opts.settledAt ?? '2024-05-10T12:00:00.000Z',
    source: { file: FILE, line: opts.n ?? 2 },
  };
};

const record = (
  journalId: string,
  providerRef: string,
  amount: bigint,
  opts: { kind?: SettlementKind; currency?: string; postedAt?: string; provider?: string } = {},
): LedgerRecord => ({
  journalId,
  provider: opts.provider ?? 'sandbox',
  providerRef,
  kind: opts.kind ?? 'deposit',
  amount: { amount, currency: opts.currency ?? 'USD' },
  postedAt: opts.postedAt ?? '2024-05-10T11:00:00.000Z',
});

const PERIOD = { from: '2024-05-10T00:00:00.000Z', to: '2024-05-11T00:00:00.000Z' };

describe('reconcileSettlement', () => {
  it('puts each kind of discrepancy in its bucket', () => {
    const r = reconcileSettlement({
      lines: [
        line('dep-ok', 10_000n, { fee: 30n }),
        line('po-ok', 5_000n, { kind: 'payout' }),
        line('ghost', 700n),
        line('dep-amt', 999n),
        line('dep-cur', 2_000n, { currency: 'EUR' }),
      ],
      records: [
        record('j1', 'dep-ok', 10_000n),
        record('j2', 'po-ok', 5_000n, { kind: 'payout' }),
        record('j3', 'unsettled', 4_200n),
        record('j4', 'dep-amt', 1_000n),
        record('j5', 'dep-cur', 2_000n),
      ],
      period: PERIOD,
    });
    expect(r.matched.map((m) => m.record.journalId)).toEqual(['j1', 'j2']);
    expect(r.missingInLedger).toEqual([{ line: line('ghost', 700n), reason: 'no_record' }]);
    expect(r.missingAtProvider.map((x) => x.journalId)).toEqual(['j3']);
    expect(r.amountMismatch.map((m) => [m.record.journalId, m.differs])).toEqual([
      ['j4', ['amount']],
      ['j5', ['currency']],
    ]);
    expect(r.summary.counts).toMatchObject({
      lines: 5,
      records: 5,
      matched: 2,
      amountMismatch: 2,
      missingInLedger: 1,
      missingAtProvider: 1,
      discrepancies: 4,
    });
    expect(r.summary.totals.USD).toEqual({
      settled: 10_000n + 5_000n + 700n + 999n,
      providerFees: 30n,
      matched: 15_000n,
      mismatchReported: 999n,
      mismatchLedger: 1_000n + 2_000n,
      missingInLedger: 700n,
      missingAtProvider: 4_200n,
    });
    expect(r.summary.totals.EUR).toMatchObject({ settled: 2_000n, mismatchReported: 2_000n, mismatchLedger: 0n });
  });

  it('needs the same kind and provider: a refund line does not settle a deposit journal', () => {
    const r = reconcileSettlement({
      lines: [line('ref-1', 100n, { kind: 'refund' }), line('ref-2', 100n, { provider: 'acquirer' })],
      records: [record('j1', 'ref-1', 100n), record('j2', 'ref-2', 100n)],
      period: PERIOD,
    });
    expect(r.matched).toEqual([]);
    expect(r.missingInLedger.map((m) => m.reason)).toEqual(['no_record', 'no_record']);
    expect(r.missingAtProvider.map((x) => x.journalId)).toEqual(['j1', 'j2']);
  });

  it('reports a line repeated in the file as a duplicate, not a second match', () => {
    const r = reconcileSettlement({
      lines: [line('dep-1', 100n, { n: 2 }), line('dep-1', 100n, { n: 3 })],
      records: [record('j1', 'dep-1', 100n)],
      period: PERIOD,
    });
    expect(r.matched).toHaveLength(1);
    expect(r.missingInLedger).toEqual([{ line: line('dep-1', 100n, { n: 3 }), reason: 'duplicate' }]);
  });

  it('gives the exact line the record even when a mismatching line comes first', () => {
    const r = reconcileSettlement({
      lines: [line('cb-1', 90n, { kind: 'chargeback', n: 2 }), line('cb-1', 100n, { kind: 'chargeback', n: 3 })],
      records: [record('j1', 'cb-1', 100n, { kind: 'chargeback' })],
      period: PERIOD,
    });
    expect(r.matched.map((m) => m.line.source.line)).toEqual([3]);
    expect(r.missingInLedger.map((m) => [m.line.source.line, m.reason])).toEqual([[2, 'duplicate']]);
  });

  it('matches two journals of the same reference one to one (a chargeback opened and won)', () => {
    const r = reconcileSettlement({
      lines: [line('cb-2', 100n, { kind: 'chargeback' }), line('cb-2', 100n, { kind: 'chargeback' })],
      records: [
        record('open', 'cb-2', 100n, { kind: 'chargeback', postedAt: '2024-05-09T10:00:00.000Z' }),
        record('won', 'cb-2', 100n, { kind: 'chargeback' }),
      ],
      period: PERIOD,
    });
    expect(r.matched.map((m) => m.record.journalId)).toEqual(['open', 'won']);
  });

  it('accepts a settlement up to maxLagDays after the journal (and a day before), not later', () => {
    const lines = [
      line('lag-3', 100n, { settledAt: '2024-05-13T23:00:00.000Z' }),
      line('lag-4', 100n, { settledAt: '2024-05-14T00:30:00.000Z' }),
      line('lead-1', 100n, { settledAt: '2024-05-09T23:59:00.000Z' }),
    ];
    const records = [record('j3', 'lag-3', 100n), record('j4', 'lag-4', 100n), record('jl', 'lead-1', 100n)];
    const r = reconcileSettlement({ lines, records, period: PERIOD });
    expect(r.matched.map((m) => m.record.journalId)).toEqual(['j3', 'jl']);
    expect(r.missingInLedger).toEqual([{ line: lines[1], reason: 'outside_window' }]);
    expect(r.missingAtProvider.map((x) => x.journalId)).toEqual(['j4']);

    const wider = reconcileSettlement({ lines, records, period: PERIOD, window: { maxLagDays: 4 } });
    expect(wider.matched).toHaveLength(3);
    const strict = reconcileSettlement({ lines, records, period: PERIOD, window: { maxLagDays: 3, maxLeadDays: 0 } });
    expect(strict.missingInLedger.map((m) => m.line.providerRef)).toEqual(['lag-4', 'lead-1']);
  });

  it('only reports unmatched journals posted in the period as missing at the provider', () => {
    const r = reconcileSettlement({
      lines: [],
      records: [
        record('before', 'a', 1n, { postedAt: '2024-05-09T23:59:59.999Z' }),
        record('first', 'b', 1n, { postedAt: '2024-05-10T00:00:00.000Z' }),
        record('after', 'c', 1n, { postedAt: '2024-05-11T00:00:00.000Z' }),
      ],
      period: PERIOD,
    });
    expect(r.missingAtProvider.map((x) => x.journalId)).toEqual(['first']);
    expect(r.outsidePeriod.map((x) => x.journalId)).toEqual(['before', 'after']);
    expect(r.summary.counts.discrepancies).toBe(1);
  });

  it('lets prior reports settle journals without reporting their lines again', () => {
    const r = reconcileSettlement({
      lines: [line('today', 100n)],
      priorLines: [line('yesterday', 50n, { settledAt: '2024-05-09T09:00:00.000Z' }), line('today', 100n)],
      records: [record('jy', 'yesterday', 50n, { postedAt: '2024-05-09T08:00:00.000Z' }), record('jt', 'today', 100n)],
      period: { from: '2024-05-09T00:00:00.000Z', to: '2024-05-11T00:00:00.000Z' },
    });
    expect(r.settledEarlier.map((x) => x.journalId)).toEqual(['jy', 'jt']);
    // the provider settled `today` twice: once in an earlier report, once in this one
    expect(r.missingInLedger).toEqual([{ line: line('today', 100n), reason: 'duplicate' }]);
    expect(r.summary.counts).toMatchObject({ lines: 1, matched: 0, missingAtProvider: 0, settledEarlier: 2 });
  });

  it('property: every report line and every record lands in exactly one bucket', () => {
    const refs = ['r1', 'r2', 'r3'];
    const kinds: SettlementKind[] = ['deposit', 'payout', 'chargeback'];
    const day = (d: number, h: number) => new Date(Date.UTC(2024, 4, d, h)).toISOString();
    const lineArb = fc
      .record({
        ref: fc.constantFrom(...refs),
        kind: fc.constantFrom(...kinds),
        amount: fc.bigInt({ min: 1n, max: 5n }),
        currency: fc.constantFrom('USD', 'EUR'),
        d: fc.integer({ min: 5, max: 15 }),
        h: fc.integer({ min: 0, max: 23 }),
        provider: fc.constantFrom('sandbox', 'other'),
      })
      .map((x) => line(x.ref, x.amount, { kind: x.kind, currency: x.currency, settledAt: day(x.d, x.h), provider: x.provider }));
    const recordArb = fc
      .record({
        ref: fc.constantFrom(...refs),
        kind: fc.constantFrom(...kinds),
        amount: fc.bigInt({ min: 1n, max: 5n }),
        currency: fc.constantFrom('USD', 'EUR'),
        d: fc.integer({ min: 5, max: 15 }),
        h: fc.integer({ min: 0, max: 23 }),
        provider: fc.constantFrom('sandbox', 'other'),
      })
      .map((x) => ({ ...x, postedAt: day(x.d, x.h) }));
    fc.assert(
      fc.property(
        fc.array(lineArb, { maxLength: 12 }),
        fc.array(lineArb, { maxLength: 6 }),
        fc.array(recordArb, { maxLength: 12 }),
        (lines, priorLines, raw) => {
          const records = raw.map((x, i) =>
            record(`j${i}`, x.ref, x.amount, { kind: x.kind, currency: x.currency, postedAt: x.postedAt, provider: x.provider }),
          );
          const r = reconcileSettlement({ lines, priorLines, records, period: PERIOD });
          const lineBuckets = [
            ...r.matched.map((m) => m.line),
            ...r.amountMismatch.map((m) => m.line),
            ...r.missingInLedger.map((m) => m.line),
          ];
          expect(lineBuckets).toHaveLength(lines.length);
          expect(new Set(lineBuckets).size).toBe(lines.length);
          for (const l of lines) expect(lineBuckets).toContain(l);
          const recordBuckets = [
            ...r.matched.map((m) => m.record),
            ...r.amountMismatch.map((m) => m.record),
            ...r.missingAtProvider,
            ...r.settledEarlier,
            ...r.outsidePeriod,
          ];
          expect(recordBuckets).toHaveLength(records.length);
          expect(new Set(recordBuckets).size).toBe(records.length);
          for (const m of r.matched) {
            expect([m.line.provider, m.line.providerRef, m.line.kind]).toEqual([
              m.record.provider,
              m.record.providerRef,
              m.record.kind,
            ]);
            expect(m.line.amount).toEqual(m.record.amount);
          }
          for (const m of r.amountMismatch) {
            expect(m.line.amount).not.toEqual(m.record.amount);
            expect(m.differs.length).toBeGreaterThan(0);
          }
          for (const x of r.missingAtProvider) expect(x.postedAt >= PERIOD.from && x.postedAt < PERIOD.to).toBe(true);
          const usd = r.summary.totals.USD;
          if (usd) {
            const settled = lines.filter((l) => l.amount.currency === 'USD').reduce((s, l) => s + l.amount.amount, 0n);
            expect(usd.settled).toBe(settled);
            expect(usd.matched + usd.mismatchReported + usd.missingInLedger).toBe(settled);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
