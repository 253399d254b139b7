/**
 * Fee math (domain/payments/fees.ts), named after its invariants: fee = clamp(fixed + half-even
 * percentage, minimum, maximum) in integer minor units, taken out of the gross (net = gross - fee);
 * never negative, monotone in the gross, below the gross for every allowed amount. Exponents 2
 * (USD), 0 (JPY) and 6 (USDT). Limits and every refusal code of assertAmountAllowed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmount, toMinor } from '#domain/money/index.ts';
import {
  assertAmountAllowed,
  FEE_ROUNDING,
  feeMinor,
  findMethod,
  limitsFor,
  percentText,
  quoteFee,
} from '#domain/payments/index.ts';
import { type PaymentFee, type PaymentMethodConfig, parseTenantConfig } from '#domain/tenant/config.ts';
import demo from '../../infra/tenants/demo.json' with { type: 'json' };

const cfg = parseTenantConfig({
  tenant: 'acme',
  production: false,
  brand: { name: 'Acme FX', supportEmail: 'support@acme.test' },
  baseCurrency: 'USD',
  currencies: ['USD', 'EUR', 'JPY', 'USDT'],
  jurisdictions: [{ code: 'ROW', regulator: 'FSA-SC', countries: ['ZA'] }],
  locales: ['en'],
  defaultLocale: 'en',
  audit: { retentionYears: 7 },
  email: { transport: 'table' },
  payments: {
    methods: [
      {
        id: 'card',
        kind: 'card',
        label: { en: 'Card' },
        provider: 'sandbox',
        directions: ['deposit', 'withdrawal'],
        currencies: ['USD', 'JPY'],
        limits: { USD: { min: '10.00', max: '10000.00' }, JPY: { min: '1000', max: '1000000' } },
        fees: {
          deposit: { percentBps: 250 },
          withdrawal: { fixed: { USD: '2.00', JPY: '100' }, percentBps: 250 },
        },
        processingTime: { deposit: 'instant', withdrawal: { minMinutes: 1440, maxMinutes: 4320 } },
        regions: ['ROW'],
      },
      {
        id: 'wallet',
        kind: 'e_wallet',
        label: { en: 'Wallet' },
        provider: 'sandbox',
        directions: ['deposit'],
        currencies: ['USD'],
        limits: { USD: { min: '10.00', max: '5000.00' } },
        fees: { deposit: { percentBps: 300, minimum: { USD: '0.50' }, maximum: { USD: '30.00' } } },
        processingTime: { deposit: 'instant' },
        regions: ['ROW'],
      },
      {
        id: 'usdt',
        kind: 'crypto',
        label: { en: 'USDT' },
        provider: 'sandbox',
        directions: ['withdrawal'],
        currencies: ['USDT'],
        limits: { USDT: { min: '20', max: '100000' } },
        fees: { withdrawal: { fixed: { USDT: '1' }, percentBps: 10 } },
        processingTime: { withdrawal: { minMinutes: 10, maxMinutes: 60 } },
        regions: ['ROW'],
      },
    ],
  },
});
const card = findMethod(cfg, 'card')!;
const wallet = findMethod(cfg, 'wallet')!;
const usdt = findMethod(cfg, 'usdt')!;

const money = (amount: string, currency: string) => ({ amount: toMinor(amount, currency), currency });
const quote = (m: PaymentMethodConfig, d: 'deposit' | 'withdrawal', amount: string, currency: string) => {
  const q = quoteFee(m, d, money(amount, currency));
  return {
    gross: formatAmount(q.gross.amount, currency),
    fee: formatAmount(q.fee.amount, currency),
    net: formatAmount(q.net.amount, currency),
    clampedTo: q.breakdown.clampedTo,
  };
};
const thrown = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as { code: string; kind: string; meta: Record<string, unknown>; errors: { field: string; code: string }[] };
  }
  throw new Error('expected a throw');
};

describe('fee = fixed + percentage (half-even), taken out of the gross', () => {
  it('a 2.5 % card deposit of 100.00 USD credits 97.50', () => {
    expect(quote(card, 'deposit', '100.00', 'USD')).toEqual({ gross: '100.00', fee: '2.50', net: '97.50', clampedTo: null });
  });

  it('a withdrawal with a fixed part adds both parts: 2.00 + 2.5 % of 1000.00 = 27.00, 973.00 paid out', () => {
    const q = quoteFee(card, 'withdrawal', money('1000.00', 'USD'));
    expect(q.breakdown).toEqual({ fixed: 200n, percent: 2500n, clampedTo: null });
    expect(formatAmount(q.fee.amount, 'USD')).toBe('27.00');
    expect(formatAmount(q.net.amount, 'USD')).toBe('973.00');
    expect(q.rounding).toBe('halfEven');
    expect(FEE_ROUNDING).toBe('halfEven');
  });

  it('the percentage rounds half-even to the minor unit: ties go to the even cent', () => {
    // 2.5 % of 10.20 = 0.255 -> 0.26 (6 is even); of 10.60 = 0.265 -> 0.26 (half-up would say 0.27)
    expect(quote(card, 'deposit', '10.20', 'USD').fee).toBe('0.26');
    expect(quote(card, 'deposit', '10.60', 'USD').fee).toBe('0.26');
    // 0.2651 is above the tie: up
    expect(quote(card, 'deposit', '10.61', 'USD').fee).toBe('0.27');
  });

  it('minimum and maximum clamp the total, and say so', () => {
    expect(quote(wallet, 'deposit', '10.00', 'USD')).toMatchObject({ fee: '0.50', net: '9.50', clampedTo: 'minimum' });
    expect(quote(wallet, 'deposit', '16.67', 'USD')).toMatchObject({ fee: '0.50', clampedTo: null }); // 0.5001 -> 0.50
    expect(quote(wallet, 'deposit', '1000.00', 'USD')).toMatchObject({ fee: '30.00', clampedTo: null });
    expect(quote(wallet, 'deposit', '5000.00', 'USD')).toMatchObject({ fee: '30.00', net: '4970.00', clampedTo: 'maximum' });
  });

  it('JPY (exponent 0): whole yen, the same half-even rule', () => {
    expect(quote(card, 'deposit', '10000', 'JPY')).toEqual({ gross: '10000', fee: '250', net: '9750', clampedTo: null });
    expect(quote(card, 'deposit', '1020', 'JPY').fee).toBe('26'); // 25.5 -> 26
    expect(quote(card, 'deposit', '1060', 'JPY').fee).toBe('26'); // 26.5 -> 26
    expect(quote(card, 'withdrawal', '1000', 'JPY')).toMatchObject({ fee: '125', net: '875' });
  });

  it('USDT (exponent 6): micro-units, 1 USDT + 0.1 %', () => {
    expect(quote(usdt, 'withdrawal', '20', 'USDT')).toEqual({
      gross: '20.000000',
      fee: '1.020000',
      net: '18.980000',
      clampedTo: null,
    });
    // 0.1 % of 12.345678 = 0.012345678 -> 0.012346
    expect(quote(usdt, 'withdrawal', '12.345678', 'USDT').fee).toBe('1.012346');
  });

  it('a direction without a fee entry is free', () => {
    const m = findMethod(parseTenantConfig(demo), 'sepa-wire')!;
    expect(quote(m, 'deposit', '50.00', 'EUR')).toMatchObject({ fee: '0.00', net: '50.00' });
    expect(quote(m, 'withdrawal', '50.00', 'EUR')).toMatchObject({ fee: '5.00', net: '45.00' });
  });

  it('the demo fees: card 2.5 % deposit, SWIFT 25.00 withdrawal and free deposit, crypto 1 USDT withdrawal', () => {
    const d = parseTenantConfig(demo);
    expect(quote(findMethod(d, 'card')!, 'deposit', '200.00', 'EUR').fee).toBe('5.00');
    expect(quote(findMethod(d, 'swift-wire')!, 'withdrawal', '1000.00', 'USD').fee).toBe('25.00');
    expect(quote(findMethod(d, 'swift-wire')!, 'deposit', '1000.00', 'USD').fee).toBe('0.00');
    expect(quote(findMethod(d, 'usdt-trc20')!, 'withdrawal', '100', 'USDT').fee).toBe('1.000000');
  });

  it('percentages are shown with two decimals from basis points', () => {
    expect([0, 1, 10, 250, 1000, 10_000].map(percentText)).toEqual(['0.00', '0.01', '0.10', '2.50', '10.00', '100.00']);
  });

  it('refuses what it cannot quote: unsupported direction, currency, a non-positive gross', () => {
    expect(thrown(() => quoteFee(wallet, 'withdrawal', money('10.00', 'USD'))).code).toBe('method_direction_not_supported');
    expect(thrown(() => quoteFee(card, 'deposit', money('10.00', 'EUR'))).code).toBe('currency_not_supported_by_method');
    expect(thrown(() => quoteFee(card, 'deposit', { amount: 0n, currency: 'USD' })).code).toBe('amount_not_positive');
  });
});

describe('limits: min <= gross <= max, each refusal with its own code', () => {
  it('accepts the exact boundaries (USD, JPY, USDT)', () => {
    for (const [m, d, c, min, max] of [
      [card, 'deposit', 'USD', '10.00', '10000.00'],
      [card, 'withdrawal', 'JPY', '1000', '1000000'],
      [usdt, 'withdrawal', 'USDT', '20', '100000'],
    ] as const) {
      expect(() => assertAmountAllowed(m, d, money(min, c))).not.toThrow();
      expect(() => assertAmountAllowed(m, d, money(max, c))).not.toThrow();
    }
  });

  it('one minor unit below the minimum is amount_below_minimum, with min and max in meta', () => {
    const e = thrown(() => assertAmountAllowed(card, 'deposit', money('9.99', 'USD')));
    expect(e).toMatchObject({ code: 'amount_below_minimum', kind: 'unprocessable' });
    expect(e.meta).toMatchObject({ min: { amount: '10.00', currency: 'USD' }, max: { amount: '10000.00', currency: 'USD' } });
    expect(e.errors).toEqual([expect.objectContaining({ field: 'amount', code: 'amount_below_minimum' })]);
    expect(thrown(() => assertAmountAllowed(card, 'deposit', money('999', 'JPY'))).code).toBe('amount_below_minimum');
    expect(thrown(() => assertAmountAllowed(usdt, 'withdrawal', money('19.999999', 'USDT'))).meta.min).toEqual({
      amount: '20.000000',
      currency: 'USDT',
    });
  });

  it('one minor unit above the maximum is amount_above_maximum, with min and max in meta', () => {
    const e = thrown(() => assertAmountAllowed(card, 'deposit', money('10000.01', 'USD')));
    expect(e).toMatchObject({ code: 'amount_above_maximum', kind: 'unprocessable' });
    expect(e.meta).toMatchObject({ min: { amount: '10.00', currency: 'USD' }, max: { amount: '10000.00', currency: 'USD' } });
    expect(thrown(() => assertAmountAllowed(usdt, 'withdrawal', money('100000.000001', 'USDT'))).code).toBe(
      'amount_above_maximum',
    );
  });

  it('an unsupported direction or currency is refused before the amount', () => {
    const dir = thrown(() => assertAmountAllowed(wallet, 'withdrawal', money('1.00', 'USD')));
    expect(dir).toMatchObject({ code: 'method_direction_not_supported', kind: 'unprocessable' });
    expect(dir.errors[0]).toMatchObject({ field: 'direction' });
    const cur = thrown(() => assertAmountAllowed(card, 'deposit', money('1.00', 'EUR')));
    expect(cur).toMatchObject({ code: 'currency_not_supported_by_method', kind: 'unprocessable' });
    expect(cur.errors[0]).toMatchObject({ field: 'currency' });
    expect(cur.meta.supported).toEqual(['USD', 'JPY']);
  });

  it('limitsFor gives minor units', () => {
    expect(limitsFor(usdt, 'USDT')).toEqual({ min: 20_000_000n, max: 100_000_000_000n });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over arbitrary fee configurations
// ---------------------------------------------------------------------------------------------

const CURRENCY = fc.constantFrom('USD', 'JPY', 'USDT');
const minor = (max: bigint) => fc.bigInt({ min: 0n, max });

/** A fee config in `currency` with optional floor / cap (floor <= cap). */
const feeArb = (currency: string) =>
  fc
    .record({
      fixed: fc.option(minor(10n ** 9n), { nil: undefined }),
      percentBps: fc.integer({ min: 0, max: 10_000 }),
      lo: fc.option(minor(10n ** 9n), { nil: undefined }),
      hi: fc.option(minor(10n ** 10n), { nil: undefined }),
    })
    .map(({ fixed, percentBps, lo, hi }): PaymentFee => {
      const [a, b] = lo !== undefined && hi !== undefined && lo > hi ? [hi, lo] : [lo, hi];
      const dec = (v: bigint | undefined) => (v === undefined ? {} : { [currency]: formatAmount(v, currency) });
      return { fixed: dec(fixed), percentBps, minimum: dec(a), maximum: dec(b) };
    });

const caseArb = CURRENCY.chain((currency) =>
  fc.record({ currency: fc.constant(currency), fee: feeArb(currency), gross: fc.bigInt({ min: 1n, max: 10n ** 15n }) }),
);

describe('fee properties (fast-check)', () => {
  it('the fee is a non-negative integer number of minor units', () => {
    fc.assert(
      fc.property(caseArb, ({ currency, fee, gross }) => {
        const f = feeMinor(fee, gross, currency).fee;
        expect(typeof f).toBe('bigint');
        expect(f >= 0n).toBe(true);
      }),
    );
  });

  it('the fee is monotone in the gross, and grows by at most one minor unit per minor unit (net never shrinks)', () => {
    fc.assert(
      fc.property(caseArb, fc.bigInt({ min: 0n, max: 10n ** 12n }), ({ currency, fee, gross }, step) => {
        const a = feeMinor(fee, gross, currency).fee;
        const b = feeMinor(fee, gross + step, currency).fee;
        const next = feeMinor(fee, gross + 1n, currency).fee;
        expect(b >= a).toBe(true);
        expect(next - a <= 1n).toBe(true);
        expect(gross + 1n - next >= gross - a).toBe(true);
      }),
    );
  });

  it('when the fee at the minimum is below the minimum (what the config enforces), every allowed gross keeps 0 <= fee < gross', () => {
    fc.assert(
      fc.property(caseArb, fc.bigInt({ min: 1n, max: 10n ** 9n }), fc.bigInt({ min: 0n, max: 10n ** 12n }), (c, min, over) => {
        fc.pre(feeMinor(c.fee, min, c.currency).fee < min);
        const gross = min + over;
        const f = feeMinor(c.fee, gross, c.currency).fee;
        expect(f >= 0n && f < gross).toBe(true);
      }),
    );
  });

  it('clamps hold: minimum <= fee <= maximum whenever they are configured', () => {
    fc.assert(
      fc.property(caseArb, ({ currency, fee, gross }) => {
        const f = feeMinor(fee, gross, currency).fee;
        const lo = fee.minimum[currency];
        const hi = fee.maximum[currency];
        if (lo !== undefined) expect(f >= toMinor(lo, currency)).toBe(true);
        if (hi !== undefined) expect(f <= toMinor(hi, currency)).toBe(true);
      }),
    );
  });

  it('every demo method, direction and currency: gross = fee + net and 0 <= fee < gross across the limits', () => {
    const d = parseTenantConfig(demo);
    const cases = d.payments.methods.flatMap((m) =>
      m.directions.flatMap((dir) => m.currencies.map((currency) => ({ m, dir, currency, ...limitsFor(m, currency) }))),
    );
    fc.assert(
      fc.property(fc.constantFrom(...cases), fc.bigInt({ min: 0n, max: 10n ** 18n }), ({ m, dir, currency, min, max }, r) => {
        const gross = min + (r % (max - min + 1n));
        assertAmountAllowed(m, dir, { amount: gross, currency });
        const q = quoteFee(m, dir, { amount: gross, currency });
        expect(q.fee.amount + q.net.amount).toBe(gross);
        expect(q.fee.amount >= 0n && q.fee.amount < gross).toBe(true);
      }),
    );
  });
});
