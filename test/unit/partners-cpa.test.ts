/**
 * CPA and the payout schedule (domain/partners/accrual.ts evaluateCpa, payoutDue), named after their invariants: a CPA
 * is qualified when the first deposit is in the plan currency, at least the minimum and inside its window, and the
 * lots traded inside their window reach the minimum; a first deposit that misses is final, a window that closes
 * without its condition fails, anything else is pending; the amount is exact. Payouts are due daily, on Mondays or on
 * the 1st of the tenant-local date.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CpaReferral, evaluateCpa, payoutDue } from '#domain/partners/accrual.ts';
import { type PlanRules, PlanRulesSchema } from '#domain/partners/plans.ts';

const rules = (cpa: Record<string, unknown> = {}): PlanRules =>
  PlanRulesSchema.parse({
    cpa: { amount: '200', minFirstDeposit: '100', depositWithinDays: 30, minLots: '1.5', lotsWithinDays: 60, ...cpa },
  });

const REG = '2026-03-01T12:00:00.000Z';
const day = (n: number, ms = 0) => new Date(Date.parse(REG) + n * 86_400_000 + ms).toISOString();
const referral = (over: Partial<CpaReferral> = {}): CpaReferral => ({
  registeredAt: REG,
  firstDeposit: { amount: 10_000n, currency: 'USD', at: day(2) },
  windowVolume: 15_000n,
  ...over,
});
const codes = (r: ReturnType<typeof evaluateCpa>) => ('reasons' in r ? r.reasons.map((x) => x.code) : []);

describe('CPA: qualified on a first deposit in the plan currency, at least the minimum, in its window, and enough lots', () => {
  it('qualifies with the plan amount in minor units', () => {
    expect(evaluateCpa(rules(), 'USD', referral(), day(10))).toEqual({ status: 'qualified', amount: 20_000n });
  });

  it('boundaries are inclusive: exactly the minimum deposit, the last instant of the deposit window, exactly minLots', () => {
    const r = referral({ firstDeposit: { amount: 10_000n, currency: 'USD', at: day(30) }, windowVolume: 15_000n });
    expect(evaluateCpa(rules(), 'USD', r, day(30)).status).toBe('qualified');
    expect(evaluateCpa(rules(), 'USD', { ...r, windowVolume: 14_999n }, day(60)).status).toBe('pending');
  });

  it('the minimum deposit compares exactly (a plan minimum finer than the currency’s minor unit)', () => {
    const fine = rules({ minFirstDeposit: '99.995' });
    expect(
      evaluateCpa(fine, 'USD', referral({ firstDeposit: { amount: 9_999n, currency: 'USD', at: day(1) } }), day(5)).status,
    ).toBe('failed');
    expect(
      evaluateCpa(fine, 'USD', referral({ firstDeposit: { amount: 10_000n, currency: 'USD', at: day(1) } }), day(5)).status,
    ).toBe('qualified');
  });

  it('the amount rounds half-even once to the plan currency (JPY 200.5 -> 200, 201.5 -> 202)', () => {
    const jpy = (amount: string) =>
      evaluateCpa(
        rules({ amount, minFirstDeposit: '100' }),
        'JPY',
        referral({ firstDeposit: { amount: 100n, currency: 'JPY', at: day(1) } }),
        day(5),
      );
    expect(jpy('200.5')).toEqual({ status: 'qualified', amount: 200n });
    expect(jpy('201.5')).toEqual({ status: 'qualified', amount: 202n });
  });
});

describe('CPA: pending while a window is open and its condition unmet', () => {
  it('no_deposit: no deposit yet, inside the deposit window', () => {
    const r = evaluateCpa(rules(), 'USD', referral({ firstDeposit: undefined }), day(29));
    expect(r).toEqual({
      status: 'pending',
      reasons: [{ code: 'no_deposit', detail: 'no deposit yet; due within 30 days of registration' }],
    });
  });

  it('lots_below_minimum: not enough lots yet, inside the lots window', () => {
    const r = evaluateCpa(rules(), 'USD', referral({ windowVolume: 5_000n }), day(60));
    expect(r).toEqual({
      status: 'pending',
      reasons: [{ code: 'lots_below_minimum', detail: '0.50 lots traded, minimum 1.5 within 60 days of registration' }],
    });
  });

  it('both conditions unmet: both reasons, deposit first', () => {
    expect(codes(evaluateCpa(rules(), 'USD', referral({ firstDeposit: undefined, windowVolume: 0n }), day(1)))).toEqual([
      'no_deposit',
      'lots_below_minimum',
    ]);
  });
});

describe('CPA: failed when a window closes without its condition, or the first deposit misses (it is final)', () => {
  it('deposit_window_over: no deposit by the end of the deposit window', () => {
    expect(codes(evaluateCpa(rules(), 'USD', referral({ firstDeposit: undefined }), day(30, 1)))).toEqual([
      'deposit_window_over',
    ]);
    expect(evaluateCpa(rules(), 'USD', referral({ firstDeposit: undefined }), day(30, 1)).status).toBe('failed');
  });

  it('lots_window_over: not enough lots by the end of the lots window', () => {
    const r = evaluateCpa(rules(), 'USD', referral({ windowVolume: 14_999n }), day(60, 1));
    expect(r.status).toBe('failed');
    expect(codes(r)).toEqual(['lots_window_over']);
  });

  it('deposit_currency, deposit_too_small, deposit_too_late: a first deposit that misses fails at once', () => {
    const at = (firstDeposit: CpaReferral['firstDeposit']) => evaluateCpa(rules(), 'USD', referral({ firstDeposit }), day(3));
    expect(codes(at({ amount: 50_000n, currency: 'EUR', at: day(1) }))).toEqual(['deposit_currency']);
    expect(codes(at({ amount: 9_999n, currency: 'USD', at: day(1) }))).toEqual(['deposit_too_small']);
    expect(codes(at({ amount: 10_000n, currency: 'USD', at: day(30, 1) }))).toEqual(['deposit_too_late']);
    expect(at({ amount: 9_999n, currency: 'USD', at: day(1) }).status).toBe('failed');
  });

  it('a failure reports the pending conditions too, in a fixed order', () => {
    const r = evaluateCpa(
      rules(),
      'USD',
      referral({ firstDeposit: { amount: 1n, currency: 'USD', at: day(31) }, windowVolume: 0n }),
      day(31),
    );
    expect(r.status).toBe('failed');
    expect(codes(r)).toEqual(['deposit_too_small', 'deposit_too_late', 'lots_below_minimum']);
  });
});

describe('CPA: not applicable without a CPA rule', () => {
  it('cpa_not_in_plan', () => {
    expect(evaluateCpa(PlanRulesSchema.parse({}), 'USD', referral(), day(1))).toEqual({
      status: 'not_applicable',
      reasons: [{ code: 'cpa_not_in_plan', detail: 'the plan pays no CPA' }],
    });
  });

  it('unknown plan currency: not applicable, with unknown_currency', () => {
    expect(codes(evaluateCpa(rules(), 'XXX', referral(), day(1)))).toEqual(['unknown_currency']);
  });
});

describe('CPA: the status only moves forward in time (pending -> qualified | failed), never back', () => {
  it('property', () => {
    fc.assert(
      fc.property(
        fc.option(fc.record({ amount: fc.bigInt({ min: 1n, max: 50_000n }), atDay: fc.integer({ min: 0, max: 40 }) }), {
          nil: undefined,
        }),
        fc.bigInt({ min: 0n, max: 40_000n }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (dep, windowVolume, d1, d2) => {
          const r = referral({
            firstDeposit: dep ? { amount: dep.amount, currency: 'USD', at: day(dep.atDay) } : undefined,
            windowVolume,
          });
          const [early, late] = d1 <= d2 ? [d1, d2] : [d2, d1];
          // only what had happened by `now` is known: a deposit after `early` is not yet there
          const known = (now: number) => ({ ...r, firstDeposit: dep && dep.atDay <= now ? r.firstDeposit : undefined });
          const a = evaluateCpa(rules(), 'USD', known(early), day(early)).status;
          const b = evaluateCpa(rules(), 'USD', known(late), day(late)).status;
          if (a === 'qualified') return b === 'qualified';
          if (a === 'failed') return b === 'failed';
          return true;
        },
      ),
    );
  });
});

describe('payoutDue: daily every day, weekly on Mondays, monthly on the 1st (tenant-local date)', () => {
  it('examples', () => {
    expect(payoutDue('daily', '2026-03-04')).toBe(true);
    expect(payoutDue('weekly', '2026-03-02')).toBe(true); // a Monday
    expect(payoutDue('weekly', '2026-03-01')).toBe(false); // a Sunday
    expect(payoutDue('monthly', '2026-03-01')).toBe(true);
    expect(payoutDue('monthly', '2026-03-02')).toBe(false);
    expect(payoutDue('monthly', '2024-02-29')).toBe(false);
  });

  it('refuses what is not a calendar date', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '2026-3-1', '2026-03-01T00:00:00Z', '']) {
      expect(() => payoutDue('daily', bad), bad).toThrow(RangeError);
    }
  });

  it('property: weekly is due exactly once in any 7 consecutive days, monthly 12 times in any year', () => {
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 60_000 }), (offset) => {
        const start = Date.UTC(1970, 0, 1) + offset * 86_400_000;
        const week = Array.from({ length: 7 }, (_, i) => iso(start + i * 86_400_000));
        const year = Array.from({ length: 365 }, (_, i) => iso(start + i * 86_400_000));
        return (
          week.filter((d) => payoutDue('weekly', d)).length === 1 && year.filter((d) => payoutDue('monthly', d)).length === 12
        );
      }),
      { numRuns: 50 },
    );
  });
});
