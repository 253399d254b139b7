/**
 * Copy-fee settlement (domain/copy/settlement.ts), named after its invariants: the book opens at the start equity
 * plus the carry; management accrues once per UTC day (missed days caught up); each charge point takes what it
 * should (anniversary: everything; withdrawal: everything, refusing a withdrawal larger than the equity after the
 * fees; stop: everything with the residue dropped and the carry computed; daily: the subscription fee only), costs
 * (volume, subscription) before management and performance; caps cut rates; the total always splits exactly and
 * equals the equity taken; a charge's id is stable per (subscription, point, period, failures) and fits an external id.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEE_POLICY, MANAGEMENT_DENOMINATOR, monthlyAnniversary } from '#domain/copy/fees.ts';
import {
  accrueManagement,
  chargeIdFor,
  computeCharge,
  daysBetween,
  type FeeRates,
  lastAnniversary,
  MAX_CATCH_UP_DAYS,
  openFeeBook,
  periodKeyOf,
  ratesWithinCaps,
  utcDay,
} from '#domain/copy/settlement.ts';
import { refusalCode } from '../support/errors.ts';

const T0 = Date.parse('2026-01-31T14:00:00Z');
const DAY = 86_400_000;
const perf = (bps: number): FeeRates => ({
  performanceBps: bps,
  managementBpsPerYear: 0,
  volumePerMillion: 0n,
  subscriptionPerMonth: 0n,
});
const charge = (
  book: ReturnType<typeof openFeeBook>,
  rates: FeeRates,
  input: Partial<Parameters<typeof computeCharge>[4]> & { equity: bigint },
  brokerShareBps = 0,
) =>
  computeCharge(book, rates, brokerShareBps, 'USD', {
    point: 'anniversary',
    nowMs: book.nextAnniversaryMs + 1000,
    volumeNotionalTotal: 0n,
    ...input,
  });

describe('the fee book', () => {
  it('opens at the start equity plus the carry an earlier copy left, anchored at the start', () => {
    expect(openFeeBook(1_000_00n, T0)).toEqual({
      mark: 1_000_00n,
      managementAccrued: 0n,
      lastAccrualDay: '2026-01-31',
      anchorMs: T0,
      periodStartMs: T0,
      nextAnniversaryMs: Date.parse('2026-02-28T14:00:00Z'),
      volumeNotionalCharged: 0n,
    });
    expect(openFeeBook(900_00n, T0, 100_00n).mark).toBe(1_000_00n);
    expect(openFeeBook(900_00n, T0, -5n).mark).toBe(900_00n);
  });

  it('knows the last anniversary at or before a time', () => {
    expect(lastAnniversary(T0, T0 + DAY)).toBe(T0);
    expect(lastAnniversary(T0, Date.parse('2026-03-01T00:00:00Z'))).toBe(Date.parse('2026-02-28T14:00:00Z'));
    expect(lastAnniversary(T0, Date.parse('2026-03-31T14:00:00Z'))).toBe(monthlyAnniversary(T0, 2));
  });
});

describe('management accrual', () => {
  it('accrues each UTC day once, on the equity given, catching up the days missed', () => {
    const book = openFeeBook(1_000_00n, T0);
    expect(accrueManagement(book, 1_000_00n, 200, T0 + 3_600_000)).toEqual({ book, days: 0 });
    const one = accrueManagement(book, 1_000_00n, 200, T0 + DAY);
    expect(one.days).toBe(1);
    expect(one.book.managementAccrued).toBe(1_000_00n * 200n);
    expect(one.book.lastAccrualDay).toBe('2026-02-01');
    expect(accrueManagement(one.book, 1_000_00n, 200, T0 + DAY + 3_600_000).days).toBe(0);
    const three = accrueManagement(one.book, 2_000_00n, 200, T0 + 4 * DAY);
    expect(three.days).toBe(3);
    expect(three.book.managementAccrued).toBe(1_000_00n * 200n + 3n * 2_000_00n * 200n);
    expect(accrueManagement(book, 1_000_00n, 200, T0 + 1000 * DAY).days).toBe(MAX_CATCH_UP_DAYS);
  });

  it('counts days between calendar dates', () => {
    expect(daysBetween('2026-02-28', '2026-03-01')).toBe(1);
    expect(daysBetween('2028-02-28', '2028-03-01')).toBe(2);
    expect(utcDay(Date.parse('2026-05-01T23:59:59Z'))).toBe('2026-05-01');
  });
});

describe('an anniversary', () => {
  it('charges the performance fee on the gain over the mark: 1,000.00 -> 1,100.00 at 20 % is 20.00, mark 1,080.00', () => {
    const book = openFeeBook(1_000_00n, T0);
    const b = charge(book, perf(2000), { equity: 1_100_00n }, 2000);
    expect(b).toMatchObject({
      point: 'anniversary',
      management: 0n,
      performance: { gain: 100_00n, fee: 20_00n, mark: 1_080_00n },
      total: 20_00n,
      split: { provider: 16_00n, broker: 4_00n },
      equityAfter: 1_080_00n,
      markBefore: 1_000_00n,
      markAfter: 1_080_00n,
      periodStartMs: T0,
      periodEndMs: book.nextAnniversaryMs,
    });
    expect(b.book.nextAnniversaryMs).toBe(monthlyAnniversary(T0, 2));
    expect(b.book.periodStartMs).toBe(book.nextAnniversaryMs);
    // the next anniversary without new profit: nothing
    const again = charge(b.book, perf(2000), { equity: 1_080_00n });
    expect(again.total).toBe(0n);
    expect(again.book.mark).toBe(1_080_00n);
  });

  it('takes volume and subscription first, then management, then performance on what is left', () => {
    const book = { ...openFeeBook(1_000_00n, T0), managementAccrued: 3n * 1_000_00n * 200n };
    const rates: FeeRates = {
      performanceBps: 2000,
      managementBpsPerYear: 200,
      volumePerMillion: 5_00n,
      subscriptionPerMonth: 10_00n,
    };
    const b = charge(book, rates, { equity: 1_200_00n, volumeNotionalTotal: 2_000_000_00n });
    // volume: 2,000,000.00 x 5.00 / 1,000,000 = 10.00; subscription 10.00; management round(60,000,000 / 3,650,000) = 16
    expect(b.volume).toEqual({ notional: 2_000_000_00n, fee: 10_00n });
    expect(b.subscription.fee).toBe(10_00n);
    expect(b.management).toBe(16n);
    // performance on 1,200.00 - 20.00 - 0.16 = 1,179.84 over 1,000.00: 20 % of 179.84 = 35.97 (half-even of 35.968)
    expect(b.performance).toEqual({ gain: 179_84n, fee: 35_97n, mark: 1_143_87n });
    expect(b.total).toBe(10_00n + 10_00n + 16n + 35_97n);
    expect(b.equityAfter).toBe(b.markAfter);
    expect(b.book.volumeNotionalCharged).toBe(2_000_000_00n);
    expect(b.book.managementAccrued).toBe(book.managementAccrued - 16n * MANAGEMENT_DENOMINATOR);
    // the notional already charged is not charged again
    expect(charge(b.book, rates, { equity: 1_143_87n, volumeNotionalTotal: 2_000_000_00n }).volume.fee).toBe(0n);
  });

  it('leaves a subscription fee the equity cannot cover unpaid, and waives volume beyond the equity', () => {
    const book = openFeeBook(1_000_00n, T0);
    const rates: FeeRates = {
      performanceBps: 0,
      managementBpsPerYear: 0,
      volumePerMillion: 1_000_00n,
      subscriptionPerMonth: 50_00n,
    };
    const b = charge(book, rates, { equity: 30_00n, volumeNotionalTotal: 1_000_000_00n });
    expect(b.volume.fee).toBe(30_00n);
    expect(b.subscription.fee).toBe(0n);
    expect(b.book.paidUntilMs).toBeUndefined();
    expect(b.equityAfter).toBe(0n);
  });
});

describe('a withdrawal', () => {
  it('charges first, and refuses one larger than the equity after the fees', () => {
    const book = openFeeBook(1_000_00n, T0);
    const at = T0 + 10 * DAY;
    const w = (amount: bigint) =>
      charge(book, perf(2000), { point: 'withdrawal', nowMs: at, equity: 1_100_00n, withdrawal: amount });
    expect(refusalCode(() => w(1_080_01n))).toBe('withdrawal_exceeds_equity');
    const b = w(500_00n);
    expect(b).toMatchObject({ total: 20_00n, markAfter: 1_080_00n, markAfterWithdrawal: 580_00n, periodEndMs: at });
    // the calendar does not move: the next anniversary stays the subscription's own
    expect(b.book.nextAnniversaryMs).toBe(book.nextAnniversaryMs);
    expect(b.book.mark).toBe(1_080_00n);
  });

  it('with nothing due keeps the period', () => {
    const book = openFeeBook(1_000_00n, T0);
    const b = charge(book, perf(2000), { point: 'withdrawal', nowMs: T0 + DAY, equity: 900_00n, withdrawal: 100_00n });
    expect(b.total).toBe(0n);
    expect(b.book.periodStartMs).toBe(T0);
  });
});

describe('a stop', () => {
  it('drops the management residue and leaves the mark above the equity to a restart (the carry)', () => {
    const book = { ...openFeeBook(1_000_00n, T0), managementAccrued: 1_825_000n }; // exactly 0.50: rounds to 0 (even)
    const b = charge(book, { ...perf(2000), managementBpsPerYear: 100 }, { point: 'stop', nowMs: T0 + DAY, equity: 900_00n });
    expect(b.management).toBe(0n);
    expect(b.book.managementAccrued).toBe(0n);
    expect(b.carry).toBe(100_00n);
    const gain = charge(openFeeBook(1_000_00n, T0), perf(2000), { point: 'stop', nowMs: T0 + DAY, equity: 1_100_00n });
    expect(gain).toMatchObject({ total: 20_00n, carry: 0n });
  });
});

describe('the daily charge point', () => {
  it('takes the subscription fee of a period that started unpaid, once per period', () => {
    const book = openFeeBook(1_000_00n, T0);
    const rates: FeeRates = { ...perf(2000), subscriptionPerMonth: 5_00n };
    const first = computeCharge(book, rates, 0, 'USD', {
      point: 'daily',
      nowMs: T0 + DAY,
      equity: 1_100_00n,
      volumeNotionalTotal: 0n,
    });
    expect(first).toMatchObject({ total: 5_00n, management: 0n, performance: { fee: 0n }, periodStartMs: T0 });
    expect(first.book.paidUntilMs).toBe(book.nextAnniversaryMs);
    expect(first.book.mark).toBe(book.mark);
    const second = computeCharge(first.book, rates, 0, 'USD', {
      point: 'daily',
      nowMs: T0 + 2 * DAY,
      equity: 1_095_00n,
      volumeNotionalTotal: 0n,
    });
    expect(second.total).toBe(0n);
    // the anniversary's charge includes the next period's fee, in advance
    const anniversary = charge(first.book, rates, { equity: 1_095_00n });
    expect(anniversary.subscription).toEqual({ fee: 5_00n, paidUntilMs: monthlyAnniversary(T0, 2) });
  });
});

describe('caps', () => {
  it('cut a rate above the tenant cap to the cap and name it', () => {
    const rates: FeeRates = {
      performanceBps: 3000,
      managementBpsPerYear: 500,
      volumePerMillion: 9_00n,
      subscriptionPerMonth: 5_00n,
    };
    expect(ratesWithinCaps(rates, 'USD', DEFAULT_FEE_POLICY)).toEqual({ rates, capped: [] });
    const policy = {
      ...DEFAULT_FEE_POLICY,
      maxPerformanceBps: 1000,
      maxVolumePerMillion: { USD: 5_00n },
      maxSubscriptionPerMonth: { EUR: 1n },
    };
    expect(ratesWithinCaps(rates, 'USD', policy)).toEqual({
      rates: { ...rates, performanceBps: 1000, volumePerMillion: 5_00n },
      capped: ['performanceBps', 'volumePerMillion'],
    });
  });
});

describe('every charge', () => {
  it('splits exactly, takes what the equity loses, and never charges performance beyond the gain', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10_000_000_00n }),
        fc.bigInt({ min: -1_000_00n, max: 20_000_000_00n }),
        fc.bigInt({ min: 0n, max: 10_000_000_000_00n }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.bigInt({ min: 0n, max: 100_00n }),
        fc.bigInt({ min: 0n, max: 100_00n }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom('anniversary' as const, 'stop' as const, 'daily' as const),
        (mark, equity, notional, performanceBps, managementBpsPerYear, volumePerMillion, subscriptionPerMonth, share, point) => {
          const book = {
            ...openFeeBook(mark, T0),
            managementAccrued: 30n * (mark > 0n ? mark : 0n) * BigInt(managementBpsPerYear),
          };
          const b = computeCharge(
            book,
            { performanceBps, managementBpsPerYear, volumePerMillion, subscriptionPerMonth },
            share,
            'USD',
            {
              point,
              nowMs: book.nextAnniversaryMs + 1,
              equity,
              volumeNotionalTotal: notional,
            },
          );
          expect(b.split.provider + b.split.broker).toBe(b.total);
          expect(b.total).toBe(b.management + b.performance.fee + b.volume.fee + b.subscription.fee);
          expect(b.equityAfter).toBe(equity - b.total);
          expect(b.total >= 0n).toBe(true);
          expect(b.total <= (equity > 0n ? equity : 0n)).toBe(true);
          expect(b.performance.fee <= b.performance.gain).toBe(true);
          if (b.performance.gain > 0n) expect(b.markAfter).toBe(b.equityAfter);
        },
      ),
    );
  });
});

describe('a charge id', () => {
  it('is stable per (subscription, point, period, failures), 26 characters an external id can carry', () => {
    const id = chargeIdFor('sub_1', 'anniversary', '1769868000000', 0);
    expect(id).toMatch(/^cf_[0-9a-f]{23}$/);
    expect(id).toHaveLength(26);
    expect(chargeIdFor('sub_1', 'anniversary', '1769868000000', 0)).toBe(id);
    expect(chargeIdFor('sub_1', 'anniversary', '1769868000000', 1)).not.toBe(id);
    expect(chargeIdFor('sub_2', 'anniversary', '1769868000000', 0)).not.toBe(id);
    expect(chargeIdFor('sub_1', 'stop', 'final', 0)).not.toBe(id);
  });

  it('names the period of each charge point', () => {
    const book = openFeeBook(1_000_00n, T0);
    expect(periodKeyOf('anniversary', book, T0, undefined)).toBe(String(book.nextAnniversaryMs));
    expect(periodKeyOf('withdrawal', book, T0, 'tt_1')).toBe('tt_1');
    expect(() => periodKeyOf('withdrawal', book, T0)).toThrow(RangeError);
    expect(periodKeyOf('stop', book, T0)).toBe('final');
    expect(periodKeyOf('daily', book, T0 + DAY)).toBe('2026-02-01');
  });
});
