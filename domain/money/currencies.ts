/**
 * The currencies the ledger knows, with their minor-unit exponents.
 *
 * Invariants:
 * - an exponent never changes once a currency has postings (amounts are stored in minor units)
 * - codes are upper-case ISO 4217 codes or well-known crypto tickers
 * - a tenant enables a subset of these (TenantConfig.currencies); the edge checks that subset
 */
import { DomainError } from '../errors.ts';

export interface Currency {
  code: string;
  /** Digits after the decimal point in major units: 1 USD = 10^2 minor units. */
  exponent: number;
}

const list: Currency[] = [
  { code: 'USD', exponent: 2 },
  { code: 'EUR', exponent: 2 },
  { code: 'GBP', exponent: 2 },
  { code: 'CHF', exponent: 2 },
  { code: 'AUD', exponent: 2 },
  { code: 'CAD', exponent: 2 },
  { code: 'NZD', exponent: 2 },
  { code: 'SGD', exponent: 2 },
  { code: 'ZAR', exponent: 2 },
  { code: 'AED', exponent: 2 },
  { code: 'JPY', exponent: 0 },
  { code: 'USDT', exponent: 6 },
  { code: 'USDC', exponent: 6 },
  { code: 'BTC', exponent: 8 },
  { code: 'ETH', exponent: 8 },
];

export const CURRENCIES: Readonly<Record<string, Readonly<Currency>>> = Object.freeze(
  Object.fromEntries(list.map((c) => [c.code, Object.freeze(c)])),
);

export const isCurrency = (code: string): boolean => Object.hasOwn(CURRENCIES, code);

/** The currency for a code; DomainError 'unknown_currency' (422) otherwise. */
export function currency(code: string): Readonly<Currency> {
  if (!isCurrency(code)) {
    throw new DomainError('unknown_currency', 'unprocessable', `Unknown currency ${JSON.stringify(code).slice(0, 20)}`, [
      { field: 'currency', code: 'unknown_currency', message: 'Unknown currency' },
    ]);
  }
  return CURRENCIES[code]!;
}
