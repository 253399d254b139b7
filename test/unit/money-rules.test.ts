/** Money rules (domain/money): exact parsing, formatting and conversion, named after the invariants. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CURRENCIES,
  convert,
  currency,
  formatMoney,
  MAX_AMOUNT,
  parseMoney,
  roundDown,
  roundHalfEven,
  toMinor,
} from '#domain/money/index.ts';

const ALL = Object.keys(CURRENCIES);
const code = (e: unknown) => (e as { code?: string }).code;
const thrown = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e as { code: string; kind: string; errors: { field: string; code: string }[] };
  }
  throw new Error('expected a throw');
};

describe('parse/format round trip is exact for every currency', () => {
  it('has the required exponents', () => {
    expect(
      Object.fromEntries(['USD', 'EUR', 'GBP', 'CHF', 'AUD', 'JPY', 'USDT', 'BTC'].map((c) => [c, currency(c).exponent])),
    ).toEqual({
      USD: 2,
      EUR: 2,
      GBP: 2,
      CHF: 2,
      AUD: 2,
      JPY: 0,
      USDT: 6,
      BTC: 8,
    });
    expect(code(thrown(() => currency('XXX')))).toBe('unknown_currency');
  });

  it('parseMoney(formatMoney(m)) == m and formatMoney is canonical', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ALL), fc.bigInt({ min: 1n, max: MAX_AMOUNT - 1n }), (cur, amount) => {
        const json = formatMoney({ amount, currency: cur });
        const exp = CURRENCIES[cur]!.exponent;
        expect(json.amount.split('.')[1]?.length ?? 0).toBe(exp);
        expect(parseMoney(json, ALL)).toEqual({ amount, currency: cur });
      }),
    );
  });

  it('fewer fraction digits than the exponent scale up exactly', () => {
    expect(parseMoney({ amount: '1.5', currency: 'USD' }, ALL).amount).toBe(150n);
    expect(parseMoney({ amount: '0.00000001', currency: 'BTC' }, ALL).amount).toBe(1n);
    expect(parseMoney({ amount: '12345678901234567890.12', currency: 'USD' }, ALL).amount).toBe(1234567890123456789012n);
    expect(formatMoney({ amount: -5n, currency: 'USD' })).toEqual({ amount: '-0.05', currency: 'USD' });
    expect(formatMoney({ amount: 7n, currency: 'JPY' })).toEqual({ amount: '7', currency: 'JPY' });
  });
});

describe('bad input is rejected with the right code and field', () => {
  it.each([
    ['1.001', 'USD', 'amount_too_precise'],
    ['1.0', 'JPY', 'amount_too_precise'],
    ['0.0000001', 'USDT', 'amount_too_precise'],
    ['0', 'USD', 'amount_not_positive'],
    ['0.00', 'USD', 'amount_not_positive'],
    ['-1', 'USD', 'invalid_amount'],
    ['+1', 'USD', 'invalid_amount'],
    ['1e3', 'USD', 'invalid_amount'],
    [' 1', 'USD', 'invalid_amount'],
    ['1 ', 'USD', 'invalid_amount'],
    ['1,000', 'USD', 'invalid_amount'],
    ['.5', 'USD', 'invalid_amount'],
    ['5.', 'USD', 'invalid_amount'],
    ['', 'USD', 'invalid_amount'],
    ['NaN', 'USD', 'invalid_amount'],
    ['0x10', 'USD', 'invalid_amount'],
    // Leading zeros are not canonical: "00010.00" is not 10.00 (the attacker's run found it accepted).
    ['00010.00', 'USD', 'invalid_amount'],
    ['01', 'USD', 'invalid_amount'],
    ['00.50', 'USD', 'invalid_amount'],
    ['000', 'JPY', 'invalid_amount'],
    ['1'.repeat(60), 'USD', 'invalid_amount'],
    ['1' + '0'.repeat(28), 'USD', 'amount_too_large'],
  ])('%j %s -> %s on amount', (amount, cur, expected) => {
    const e = thrown(() => parseMoney({ amount, currency: cur }, ALL));
    expect(e.code).toBe(expected);
    expect(e.errors).toContainEqual(expect.objectContaining({ field: 'amount', code: expected }));
  });

  it('unknown and not-enabled currencies point at currency', () => {
    const unknown = thrown(() => parseMoney({ amount: '1', currency: 'XYZ' }, ALL));
    expect(unknown.code).toBe('unknown_currency');
    expect(unknown.errors).toEqual([expect.objectContaining({ field: 'currency', code: 'unknown_currency' })]);
    const disabled = thrown(() => parseMoney({ amount: '1', currency: 'BTC' }, ['USD']));
    expect(disabled.code).toBe('currency_not_enabled');
    expect(disabled.errors).toEqual([expect.objectContaining({ field: 'currency', code: 'currency_not_enabled' })]);
  });

  it('non-string input is invalid, never coerced', () => {
    const e = thrown(() => parseMoney({ amount: 10 as unknown as string, currency: 'USD' }, ALL));
    expect(e.code).toBe('invalid_amount');
    expect(e.kind).toBe('validation');
  });

  it('garbage never parses to a value', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        fc.pre(!/^\d+(\.\d{1,2})?$/.test(s));
        expect(() => parseMoney({ amount: s, currency: 'USD' }, ALL)).toThrow();
      }),
    );
  });

  it('toMinor is exact and signed, never rounding', () => {
    expect(toMinor('-12.34', 'USD')).toBe(-1234n);
    expect(toMinor('0.000001', 'USDT')).toBe(1n);
    expect(code(thrown(() => toMinor('1.234', 'USD')))).toBe('amount_too_precise');
    expect(code(thrown(() => toMinor('abc', 'USD')))).toBe('invalid_amount');
  });
});

describe('rounding is exact and named', () => {
  it('halfEven rounds ties to even, both signs', () => {
    const cases: [bigint, bigint, bigint][] = [
      [5n, 2n, 2n],
      [7n, 2n, 4n],
      [-5n, 2n, -2n],
      [-7n, 2n, -4n],
      [25n, 10n, 2n],
      [35n, 10n, 4n],
      [26n, 10n, 3n],
      [24n, 10n, 2n],
      [-26n, 10n, -3n],
      [1n, 3n, 0n],
      [2n, 3n, 1n],
      [5n, -2n, -2n],
    ];
    for (const [n, d, want] of cases) expect(roundHalfEven(n, d)).toBe(want);
  });

  it('halfEven is within half a unit of the exact quotient, and down truncates toward zero', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.bigInt({ min: 1n, max: 10n ** 12n }), (n, d) => {
        const r = roundHalfEven(n, d);
        const err = 2n * (n - r * d); // 2 * (exact - r) * d
        expect(err <= d && err >= -d).toBe(true);
        if (err === d || err === -d) expect(r % 2n).toBe(0n);
        const t = roundDown(n, d);
        const abs = (x: bigint) => (x < 0n ? -x : x);
        expect(abs(t * d) <= abs(n)).toBe(true);
        expect(abs(n) - abs(t * d) < d).toBe(true);
      }),
    );
  });

  it('convert is exact: amount * rate * 10^(e_to - e_from)', () => {
    expect(convert({ amount: 10000n, currency: 'USD' }, '0.9234', 'EUR', 'down')).toEqual({ amount: 9234n, currency: 'EUR' });
    expect(convert({ amount: 100n, currency: 'USD' }, '151.235', 'JPY', 'halfEven')).toEqual({ amount: 151n, currency: 'JPY' });
    // 1.00 USD * 150.5 = 150.5 JPY: tie -> even (150); 1.00 * 151.5 -> 152
    expect(convert({ amount: 100n, currency: 'USD' }, '150.5', 'JPY', 'halfEven').amount).toBe(150n);
    expect(convert({ amount: 100n, currency: 'USD' }, '151.5', 'JPY', 'halfEven').amount).toBe(152n);
    expect(convert({ amount: 100n, currency: 'USD' }, '151.5', 'JPY', 'down').amount).toBe(151n);
    // 1 BTC at 65000.12345678 USD
    expect(convert({ amount: 100000000n, currency: 'BTC' }, '65000.12345678', 'USD', 'down').amount).toBe(6500012n);
    // 0.10 + 0.20 style pitfalls do not exist: 0.3 USD at rate 3 -> 0.90 exactly
    expect(convert({ amount: 30n, currency: 'USD' }, '3', 'EUR', 'down').amount).toBe(90n);
    expect(code(thrown(() => convert({ amount: 1n, currency: 'USD' }, '-1', 'EUR', 'down')))).toBe('invalid_rate');
    expect(code(thrown(() => convert({ amount: 1n, currency: 'USD' }, '1e2', 'EUR', 'down')))).toBe('invalid_rate');
    expect(code(thrown(() => convert({ amount: 1n, currency: 'USD' }, '0', 'EUR', 'down')))).toBe('invalid_rate');
  });

  it('convert down never exceeds the exact value and halfEven is within half a minor unit', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.integer({ min: 0, max: 8 }),
        (amount, rateDigits, scale) => {
          const s = rateDigits.toString().padStart(scale + 1, '0');
          const rate = scale ? `${s.slice(0, s.length - scale)}.${s.slice(s.length - scale)}` : s;
          // exact: amount(USD cents) * rateDigits/10^scale * 10^8 (BTC) / 10^2
          const num = amount * rateDigits * 10n ** 8n;
          const den = 10n ** BigInt(scale) * 100n;
          const down = convert({ amount, currency: 'USD' }, rate, 'BTC', 'down').amount;
          expect(down * den <= num && (down + 1n) * den > num).toBe(true);
          const he = convert({ amount, currency: 'USD' }, rate, 'BTC', 'halfEven').amount;
          const twice = 2n * (num - he * den);
          expect(twice <= den && twice >= -den).toBe(true);
        },
      ),
    );
  });
});
