/**
 * Money: exact amounts in minor units, parsed from and formatted to decimal strings, and converted
 * at decimal rates with exact rational arithmetic. No floating point anywhere in this module.
 *
 * Invariants:
 * - an amount is a bigint count of minor units of one currency (CURRENCIES[code].exponent)
 * - parseMoney accepts only plain decimal strings ("123", "123.45", "0.50"): no sign, exponent, spaces,
 *   thousands separators, leading zeros ("007") or leading/trailing dot, at most `exponent` fraction digits (trailing zeros
 *   count), strictly positive, below MAX_AMOUNT minor units; every rejection is a DomainError with
 *   a field error on `amount` or `currency`
 * - formatMoney(parseMoney(x)) is canonical: exactly `exponent` fraction digits, so
 *   parseMoney(formatMoney(m)) == m for every positive in-range m (the round trip is exact)
 * - convert multiplies by the rate as a rational (rate digits / 10^k) and rounds once, with the
 *   rounding named by the caller; roundHalfEven rounds ties to the even neighbour
 */
import { DomainError, type FieldError } from '../errors.ts';
import { CURRENCIES, currency, isCurrency } from './currencies.ts';

export { CURRENCIES, type Currency, currency, isCurrency } from './currencies.ts';

export interface Money {
  amount: bigint;
  currency: string;
}

export interface MoneyJson {
  amount: string;
  currency: string;
}

export type Rounding = 'halfEven' | 'down';

/** 10^30 minor units: far above any real balance, far below DynamoDB's 38 significant digits. */
export const MAX_AMOUNT = 10n ** 30n;
/** Longest accepted amount string (digits + dot). */
export const MAX_AMOUNT_LENGTH = 48;

/** A canonical unsigned decimal: no leading zeros in the integer part ("0.50" yes, "00.50" and "010" no). */
const DECIMAL = /^(0|[1-9]\d*)(?:\.(\d+))?$/;
const SIGNED_DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const RATE = /^(\d+)(?:\.(\d+))?$/;

const pow10 = (n: number): bigint => 10n ** BigInt(n);

const fieldError = (field: string, code: string, message: string): FieldError => ({ field, code, message });

/**
 * Parses `{ amount, currency }` from the edge. `enabled` is the tenant's currency list.
 * Codes: unknown_currency, currency_not_enabled, invalid_amount, amount_too_precise,
 * amount_not_positive, amount_too_large (all 422 except invalid_amount, which is 400).
 */
export function parseMoney(json: MoneyJson, enabled: readonly string[]): Money {
  const errors: FieldError[] = [];
  const code = typeof json?.currency === 'string' ? json.currency : '';
  if (!isCurrency(code)) errors.push(fieldError('currency', 'unknown_currency', 'Unknown currency'));
  else if (!enabled.includes(code)) errors.push(fieldError('currency', 'currency_not_enabled', 'This currency is not enabled'));

  const raw = typeof json?.amount === 'string' ? json.amount : '';
  let amount: bigint | undefined;
  const m = raw.length <= MAX_AMOUNT_LENGTH ? DECIMAL.exec(raw) : null;
  if (!m) {
    errors.push(fieldError('amount', 'invalid_amount', 'Amount must be a plain decimal string such as "123.45"'));
  } else if (isCurrency(code)) {
    const exp = CURRENCIES[code]!.exponent;
    const frac = m[2] ?? '';
    if (frac.length > exp) {
      errors.push(fieldError('amount', 'amount_too_precise', `At most ${exp} decimal places for ${code}`));
    } else {
      amount = BigInt(m[1]!) * pow10(exp) + (frac ? BigInt(frac) * pow10(exp - frac.length) : 0n);
      if (amount <= 0n) errors.push(fieldError('amount', 'amount_not_positive', 'Amount must be greater than zero'));
      else if (amount >= MAX_AMOUNT) errors.push(fieldError('amount', 'amount_too_large', 'Amount is too large'));
    }
  }
  if (errors.length > 0 || amount === undefined) {
    const first = errors[0]!;
    throw new DomainError(first.code, first.code === 'invalid_amount' ? 'validation' : 'unprocessable', first.message, errors);
  }
  return { amount, currency: code };
}

/** Minor units -> decimal string with exactly `exponent` fraction digits ("-" for negatives). */
export function formatAmount(amount: bigint, code: string): string {
  const exp = currency(code).exponent;
  const neg = amount < 0n;
  const abs = neg ? -amount : amount;
  const digits = abs.toString().padStart(exp + 1, '0');
  const int = digits.slice(0, digits.length - exp);
  const frac = digits.slice(digits.length - exp);
  return `${neg ? '-' : ''}${int}${exp > 0 ? `.${frac}` : ''}`;
}

export function formatMoney(m: Money): MoneyJson {
  return { amount: formatAmount(m.amount, m.currency), currency: m.currency };
}

/**
 * Decimal string (optionally signed) -> minor units, for trusted internal inputs (config, fixtures).
 * Throws invalid_amount / amount_too_precise / unknown_currency; never rounds.
 */
export function toMinor(decimal: string, code: string): bigint {
  const exp = currency(code).exponent;
  const m = decimal.length <= MAX_AMOUNT_LENGTH + 1 ? SIGNED_DECIMAL.exec(decimal) : null;
  if (!m) {
    throw new DomainError('invalid_amount', 'validation', 'Amount must be a decimal string', [
      fieldError('amount', 'invalid_amount', 'Amount must be a decimal string'),
    ]);
  }
  const frac = m[3] ?? '';
  if (frac.length > exp) {
    throw new DomainError('amount_too_precise', 'unprocessable', `At most ${exp} decimal places for ${code}`, [
      fieldError('amount', 'amount_too_precise', `At most ${exp} decimal places for ${code}`),
    ]);
  }
  const abs = BigInt(m[2]!) * pow10(exp) + (frac ? BigInt(frac) * pow10(exp - frac.length) : 0n);
  return m[1] === '-' ? -abs : abs;
}

/** A decimal rate string as the exact rational num/den (den a power of ten). */
export function parseRate(rate: string): { num: bigint; den: bigint } {
  const m = typeof rate === 'string' && rate.length <= 40 ? RATE.exec(rate) : null;
  const num = m ? BigInt(`${m[1]}${m[2] ?? ''}`) : 0n;
  if (!m || num <= 0n) {
    throw new DomainError('invalid_rate', 'unprocessable', 'A rate must be a positive decimal string', [
      fieldError('rate', 'invalid_rate', 'A rate must be a positive decimal string'),
    ]);
  }
  return { num, den: pow10((m[2] ?? '').length) };
}

/** num/den rounded to the nearest integer, ties to the even integer. den must be non-zero. */
export function roundHalfEven(num: bigint, den: bigint): bigint {
  if (den === 0n) throw new RangeError('roundHalfEven: division by zero');
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const q = num / den; // truncates toward zero
  const r = num % den; // same sign as num
  const twice = 2n * (r < 0n ? -r : r);
  if (twice < den) return q;
  const away = num < 0n ? q - 1n : q + 1n;
  if (twice > den) return away;
  return q % 2n === 0n ? q : away;
}

/** num/den rounded toward zero. */
export function roundDown(num: bigint, den: bigint): bigint {
  if (den === 0n) throw new RangeError('roundDown: division by zero');
  return num / den;
}

/**
 * Converts `m` into `to` at `rate` (a decimal string: units of `to` per one unit of m.currency),
 * exactly: amount * rate * 10^(exp_to - exp_from), rounded once with `rounding`.
 */
export function convert(m: Money, rate: string, to: string, rounding: Rounding): Money {
  const from = currency(m.currency);
  const target = currency(to);
  const r = parseRate(rate);
  const num = m.amount * r.num * pow10(target.exponent);
  const den = r.den * pow10(from.exponent);
  return { amount: rounding === 'halfEven' ? roundHalfEven(num, den) : roundDown(num, den), currency: to };
}
