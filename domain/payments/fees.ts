/**
 * Payment fees: exact bigint arithmetic in minor units of the payment's currency.
 *
 * Convention (both directions): the amount the client names is the GROSS. The fee is taken out of it,
 * never added on top, and NET = gross - fee is what arrives:
 * - deposit: the client pays `gross` through the PSP; `net` is credited to the wallet
 * - withdrawal: `gross` is debited (held) from the wallet; `net` is paid out by the PSP
 * Limits (min/max) apply to the gross.
 *
 * Invariants:
 * - fee = clamp(fixed + roundHalfEven(gross * percentBps / 10000), minimum, maximum), in minor units;
 *   the percentage is rounded once, half-even (ties to the even minor unit), as DESIGN §5 names for
 *   fees; a currency without a fixed / minimum / maximum entry has 0 / no floor / no cap
 * - fee >= 0 and integer minor units, for every gross > 0
 * - fee is monotone (non-decreasing) in the gross
 * - the tenant config guarantees fee(min) < min for every method, direction and currency; since
 *   percentBps <= 100 %, gross - fee never decreases as the gross grows, so every allowed gross
 *   (min <= gross <= max) has 0 <= fee < gross, i.e. net > 0
 * - a direction without a fee entry is free (fee 0)
 */
import { DomainError } from '../errors.ts';
import { type Money, roundHalfEven, toMinor } from '../money/index.ts';
import type { PaymentFee, PaymentMethodConfig } from '../tenant/config.ts';
import type { PaymentDirection } from './catalog.ts';

/** The rounding applied to the percentage part of a fee. */
export const FEE_ROUNDING = 'halfEven' as const;

export interface FeeBreakdown {
  /** The fixed part, minor units. */
  fixed: bigint;
  /** The percentage part after rounding, minor units. */
  percent: bigint;
  /** Whether the configured minimum or maximum replaced fixed + percent. */
  clampedTo: 'minimum' | 'maximum' | null;
}

export interface FeeQuote {
  direction: PaymentDirection;
  /** What the client names: paid in (deposit) or debited from the wallet (withdrawal). */
  gross: Money;
  fee: Money;
  /** gross - fee: credited to the wallet (deposit) or paid out (withdrawal). */
  net: Money;
  breakdown: FeeBreakdown;
  rounding: typeof FEE_ROUNDING;
}

const configured = (map: Readonly<Record<string, string>>, currency: string): bigint | undefined => {
  const v = map[currency];
  return v === undefined ? undefined : toMinor(v, currency);
};

/** The fee in minor units for `gross` minor units of `currency` under `fee` (undefined: free). */
export function feeMinor(fee: PaymentFee | undefined, gross: bigint, currency: string): { fee: bigint; breakdown: FeeBreakdown } {
  if (!fee) return { fee: 0n, breakdown: { fixed: 0n, percent: 0n, clampedTo: null } };
  const fixed = configured(fee.fixed, currency) ?? 0n;
  const percent = roundHalfEven(gross * BigInt(fee.percentBps), 10_000n);
  const raw = fixed + percent;
  const lo = configured(fee.minimum, currency);
  const hi = configured(fee.maximum, currency);
  let total = raw;
  let clampedTo: FeeBreakdown['clampedTo'] = null;
  if (lo !== undefined && total < lo) {
    total = lo;
    clampedTo = 'minimum';
  }
  if (hi !== undefined && total > hi) {
    total = hi;
    clampedTo = 'maximum';
  }
  return { fee: total, breakdown: { fixed, percent, clampedTo } };
}

export function assertDirectionSupported(method: PaymentMethodConfig, direction: PaymentDirection): void {
  if (!method.directions.includes(direction)) {
    throw new DomainError(
      'method_direction_not_supported',
      'unprocessable',
      `${method.id} does not support ${direction}s`,
      [{ field: 'direction', code: 'method_direction_not_supported', message: `must be one of ${method.directions.join(', ')}` }],
      { methodId: method.id, direction, supported: [...method.directions] },
    );
  }
}

export function assertCurrencySupported(method: PaymentMethodConfig, currency: string): void {
  if (!method.currencies.includes(currency)) {
    throw new DomainError(
      'currency_not_supported_by_method',
      'unprocessable',
      `${method.id} does not accept ${currency.slice(0, 12)}`,
      [
        {
          field: 'currency',
          code: 'currency_not_supported_by_method',
          message: `must be one of ${method.currencies.join(', ')}`,
        },
      ],
      { methodId: method.id, currency, supported: [...method.currencies] },
    );
  }
}

/**
 * The fee for paying `gross` through `method` in `direction`, with the net that arrives (see the
 * convention above). Throws method_direction_not_supported / currency_not_supported_by_method, and
 * amount_not_positive for gross <= 0. It does not check limits: see assertAmountAllowed.
 */
export function quoteFee(method: PaymentMethodConfig, direction: PaymentDirection, gross: Money): FeeQuote {
  assertDirectionSupported(method, direction);
  assertCurrencySupported(method, gross.currency);
  if (gross.amount <= 0n) {
    throw new DomainError('amount_not_positive', 'unprocessable', 'Amount must be greater than zero', [
      { field: 'amount', code: 'amount_not_positive', message: 'Amount must be greater than zero' },
    ]);
  }
  const { fee, breakdown } = feeMinor(method.fees[direction], gross.amount, gross.currency);
  const currency = gross.currency;
  return {
    direction,
    gross: { amount: gross.amount, currency },
    fee: { amount: fee, currency },
    net: { amount: gross.amount - fee, currency },
    breakdown,
    rounding: FEE_ROUNDING,
  };
}

/** Basis points as a percentage string with two decimals: 250 -> "2.50", 0 -> "0.00", 10000 -> "100.00". */
export function percentText(bps: number): string {
  const b = BigInt(bps);
  return `${b / 100n}.${(b % 100n).toString().padStart(2, '0')}`;
}
