/**
 * Exact non-negative ratios of bigints, for conversion factors: no rounding happens here.
 *
 * Invariants:
 * - den > 0 always; num >= 0 (conversion factors are prices, which are positive)
 * - mul and inv are exact; callers round once, at the end, with a named rounding
 */

export interface Ratio {
  num: bigint;
  den: bigint;
}

export const ONE: Ratio = Object.freeze({ num: 1n, den: 1n });

export const ratio = (num: bigint, den: bigint): Ratio => {
  if (den <= 0n) throw new RangeError('ratio: den must be positive');
  return { num, den };
};

export const mul = (a: Ratio, b: Ratio): Ratio => ({ num: a.num * b.num, den: a.den * b.den });

export const inv = (a: Ratio): Ratio => {
  if (a.num <= 0n) throw new RangeError('inv: num must be positive');
  return { num: a.den, den: a.num };
};

export const pow10 = (n: number): bigint => 10n ** BigInt(n);
