/**
 * Copy trading allocation: the volume a follower's copy account trades for a provider's deal, and the
 * volume it closes when the provider closes all or part of a position. Exact bigint arithmetic: a size
 * is a rational num/den until it is rounded once, down, to the symbol's volume step.
 *
 * Sizing by mode (M = the provider deal's volume, MT5 units; ratios and multipliers in basis points):
 * - balance_proportional: M x Bal_f / Bal_p
 * - equity_proportional:  M x Eq_f / Eq_p
 * - balance_ratio:        M x Bal_f / Bal_p x ratioBps / 10,000 (the ratio on top of the proportional size)
 * - equity_ratio:         M x Eq_f / Eq_p x ratioBps / 10,000
 * - fixed_lot:            the subscription's volume, whatever M is
 * - lot_multiplier:       M x multiplierBps / 10,000
 * Balances and equities are minor units of ONE currency: when the provider's and the follower's account
 * currencies differ, the caller converts the follower's amounts into the provider's currency first
 * (domain/money convert) - this module never sees a rate.
 *
 * Invariants:
 * - the effective symbol limits are min' = the smallest multiple of volumeStep >= volumeMin and
 *   max' = the largest multiple of volumeStep <= volumeMax (equal to volumeMin / volumeMax on every
 *   real symbol); a symbol with step <= 0, min <= 0 or min' > max' is refused (invalid_symbol_volume)
 * - an opening allocation is 0 (skipped, with a reason) or a multiple of volumeStep in [min', cap], where
 *   cap = min(max', the subscription's maxVolume rounded down to the step); never a float, never above a cap
 * - the order is: exact size -> round DOWN to the step -> below min': the tenant policy ('skip' with
 *   below_minimum_volume, or 'clamp' up to min', flagged raisedToMinimum) -> above cap: reduce to the cap
 *   with reason subscription_max_volume (the subscription's cap binds, ties included) or symbol_max_volume;
 *   a cap below min' skips with max_volume_below_minimum
 * - balance / equity modes skip with provider_funds_not_positive or follower_funds_not_positive when the
 *   amount they divide by or multiply with is <= 0 (no division by zero, no negative size)
 * - for a fixed follower configuration the volume is non-decreasing in the follower's balance (equity)
 * - a close: the follower keeps ceilStep(F_init x P_after / P_init) and closes the rest of its open volume
 *   (F = the follower's copied position, P = the provider's); on a first close this is exactly
 *   floorStep(F_open x P_closed / P_init), later closes correct earlier rounding instead of accumulating it
 * - a close never exceeds the follower's open volume; the provider's final close (P_after = 0) closes all of
 *   it; a remainder that would fall below min' is closed with it (remainder_below_minimum); a close below
 *   min' that is not the whole position waits (below_minimum_volume) and is caught up by a later close
 * - a close of a position the follower never copied is a no-op with reason not_copied
 */
import { DomainError } from '../errors.ts';
import type { SymbolSpec } from '../trading/model.ts';

export const BPS = 10_000n;

export type CopyMode =
  | { kind: 'balance_proportional' }
  | { kind: 'equity_proportional' }
  | { kind: 'balance_ratio'; ratioBps: number }
  | { kind: 'equity_ratio'; ratioBps: number }
  /** A fixed volume in MT5 units (lots x 10,000). */
  | { kind: 'fixed_lot'; volume: bigint }
  | { kind: 'lot_multiplier'; multiplierBps: number };

export type CopyModeKind = CopyMode['kind'];

/** What a tenant does with a size below the symbol's minimum. */
export type BelowMinimumPolicy = 'skip' | 'clamp';

export type VolumeLimits = Pick<SymbolSpec, 'volumeMin' | 'volumeMax' | 'volumeStep'>;

export interface Funds {
  /** Minor units; provider and follower in the same currency. */
  balance: bigint;
  equity: bigint;
}

export interface AllocationInput {
  mode: CopyMode;
  /** The provider deal's volume, MT5 units. */
  providerVolume: bigint;
  provider: Funds;
  follower: Funds;
  symbol: VolumeLimits;
  /** The subscription's maximum volume per copied deal, MT5 units; undefined: no cap but the symbol's. */
  maxVolume?: bigint;
  belowMinimum: BelowMinimumPolicy;
}

export type AllocationReduction = 'subscription_max_volume' | 'symbol_max_volume';
export type AllocationSkip =
  | 'below_minimum_volume'
  | 'max_volume_below_minimum'
  | 'provider_funds_not_positive'
  | 'follower_funds_not_positive';

export interface Allocation {
  /** MT5 units; 0n when skipped. */
  volume: bigint;
  reduced?: AllocationReduction;
  skipped?: AllocationSkip;
  /** Set when the 'clamp' policy raised a size below the minimum to it. */
  raisedToMinimum?: true;
}

export interface CloseInput {
  /** The follower's copy of the provider's position; null when the follower never copied it. */
  follower: { initialVolume: bigint; openVolume: bigint } | null;
  /** The provider position's volume at open (Position.volumeInitial). */
  providerInitialVolume: bigint;
  /** The provider position's open volume after this closing deal; 0n when the deal closed it entirely. */
  providerVolumeAfter: bigint;
  symbol: VolumeLimits;
}

export type CloseSkip = 'not_copied' | 'nothing_open' | 'nothing_to_close' | 'below_minimum_volume';

export interface CloseAllocation {
  /** MT5 units the follower closes now; 0n for a no-op. */
  volume: bigint;
  /** True when this close leaves the follower's copy with nothing open. */
  final: boolean;
  skipped?: CloseSkip;
  /** Set when the whole remainder is closed because it would fall below the symbol's minimum. */
  raised?: 'remainder_below_minimum';
}

const refuse = (code: string, field: string, message: string): never => {
  throw new DomainError(code, 'unprocessable', message, [{ field, code, message }]);
};

/** The largest multiple of step <= v (0n for v <= 0). */
export function floorToStep(v: bigint, step: bigint): bigint {
  if (v <= 0n) return 0n;
  return (v / step) * step;
}

/** The smallest multiple of step >= v (0n for v <= 0). */
export function ceilToStep(v: bigint, step: bigint): bigint {
  if (v <= 0n) return 0n;
  return ((v + step - 1n) / step) * step;
}

/** floor(num / den) to a multiple of step, for num >= 0, den > 0. */
const floorRationalToStep = (num: bigint, den: bigint, step: bigint): bigint => (num / (den * step)) * step;
/** ceil(num / den) to a multiple of step, for num >= 0, den > 0. */
const ceilRationalToStep = (num: bigint, den: bigint, step: bigint): bigint => {
  const unit = den * step;
  return ((num + unit - 1n) / unit) * step;
};

export interface EffectiveLimits {
  min: bigint;
  max: bigint;
  step: bigint;
}

/** The symbol's limits on the step grid (see Invariants); refuses an unusable symbol with invalid_symbol_volume. */
export function effectiveLimits(symbol: VolumeLimits): EffectiveLimits {
  const { volumeMin, volumeMax, volumeStep } = symbol;
  if (volumeStep <= 0n || volumeMin <= 0n)
    refuse('invalid_symbol_volume', 'symbol', 'The symbol volume step and minimum must be positive');
  const min = ceilToStep(volumeMin, volumeStep);
  const max = floorToStep(volumeMax, volumeStep);
  if (min > max)
    refuse('invalid_symbol_volume', 'symbol', 'The symbol has no volume on its step between its minimum and maximum');
  return { min, max, step: volumeStep };
}

const positiveBps = (value: number, field: string): bigint => {
  if (!Number.isSafeInteger(value) || value <= 0)
    refuse('invalid_copy_ratio', field, 'A ratio or multiplier must be a positive whole number of basis points');
  return BigInt(value);
};

/** Refuses a malformed mode (invalid_copy_ratio, invalid_fixed_volume); the size limits are checked per symbol. */
export function assertCopyMode(mode: CopyMode): void {
  switch (mode.kind) {
    case 'balance_ratio':
    case 'equity_ratio':
      positiveBps(mode.ratioBps, 'ratioBps');
      return;
    case 'lot_multiplier':
      positiveBps(mode.multiplierBps, 'multiplierBps');
      return;
    case 'fixed_lot':
      if (mode.volume <= 0n) refuse('invalid_fixed_volume', 'volume', 'A fixed volume must be positive');
      return;
    default:
      return;
  }
}

type Exact = { num: bigint; den: bigint } | { skip: AllocationSkip };

const proportional = (m: bigint, provider: bigint, follower: bigint, ratio: bigint): Exact => {
  if (provider <= 0n) return { skip: 'provider_funds_not_positive' };
  if (follower <= 0n) return { skip: 'follower_funds_not_positive' };
  return { num: m * follower * ratio, den: provider * BPS };
};

/** The unrounded size as num/den (MT5 units), or a skip. */
export function exactVolume(mode: CopyMode, providerVolume: bigint, provider: Funds, follower: Funds): Exact {
  assertCopyMode(mode);
  switch (mode.kind) {
    case 'balance_proportional':
      return proportional(providerVolume, provider.balance, follower.balance, BPS);
    case 'equity_proportional':
      return proportional(providerVolume, provider.equity, follower.equity, BPS);
    case 'balance_ratio':
      return proportional(providerVolume, provider.balance, follower.balance, BigInt(mode.ratioBps));
    case 'equity_ratio':
      return proportional(providerVolume, provider.equity, follower.equity, BigInt(mode.ratioBps));
    case 'fixed_lot':
      return { num: mode.volume, den: 1n };
    case 'lot_multiplier':
      return { num: providerVolume * BigInt(mode.multiplierBps), den: BPS };
  }
}

/** The follower's volume for a provider's opening deal (see Invariants for the order of the steps). */
export function allocate(input: AllocationInput): Allocation {
  const { min, max, step } = effectiveLimits(input.symbol);
  if (input.providerVolume <= 0n)
    refuse('invalid_provider_volume', 'providerVolume', 'The provider deal volume must be positive');
  if (input.maxVolume !== undefined && input.maxVolume <= 0n) {
    refuse('invalid_max_volume', 'maxVolume', 'A maximum volume must be positive');
  }
  const exact = exactVolume(input.mode, input.providerVolume, input.provider, input.follower);
  if ('skip' in exact) return { volume: 0n, skipped: exact.skip };

  let volume = floorRationalToStep(exact.num, exact.den, step);
  let raisedToMinimum = false;
  if (volume < min) {
    if (input.belowMinimum === 'skip') return { volume: 0n, skipped: 'below_minimum_volume' };
    volume = min;
    raisedToMinimum = true;
  }
  const subscriptionCap = input.maxVolume === undefined ? undefined : floorToStep(input.maxVolume, step);
  const subscriptionBinds = subscriptionCap !== undefined && subscriptionCap <= max;
  const cap = subscriptionBinds ? subscriptionCap : max;
  if (cap < min) return { volume: 0n, skipped: 'max_volume_below_minimum' };
  const result: Allocation = { volume };
  if (volume > cap) {
    result.volume = cap;
    result.reduced = subscriptionBinds ? 'subscription_max_volume' : 'symbol_max_volume';
  }
  if (raisedToMinimum) result.raisedToMinimum = true;
  return result;
}

/** The follower's volume to close for a provider's closing deal (see Invariants). */
export function allocateClose(input: CloseInput): CloseAllocation {
  const { min, step } = effectiveLimits(input.symbol);
  const { providerInitialVolume: pInit, providerVolumeAfter: pAfter } = input;
  if (pInit <= 0n || pAfter < 0n || pAfter >= pInit) {
    refuse('invalid_close_volume', 'providerVolumeAfter', 'A close leaves the provider between 0 and below its initial volume');
  }
  const f = input.follower;
  if (f === null) return { volume: 0n, final: false, skipped: 'not_copied' };
  if (f.initialVolume <= 0n || f.openVolume < 0n || f.openVolume > f.initialVolume) {
    refuse('invalid_close_volume', 'follower', "The follower's open volume must be between 0 and its initial volume");
  }
  if (f.openVolume === 0n) return { volume: 0n, final: true, skipped: 'nothing_open' };
  if (pAfter === 0n) return { volume: f.openVolume, final: true };

  const keep = ceilRationalToStep(f.initialVolume * pAfter, pInit, step);
  const close = f.openVolume > keep ? f.openVolume - keep : 0n;
  if (close === 0n) return { volume: 0n, final: false, skipped: 'nothing_to_close' };
  const remainder = f.openVolume - close;
  if (remainder > 0n && remainder < min) return { volume: f.openVolume, final: true, raised: 'remainder_below_minimum' };
  if (close < min) return { volume: 0n, final: false, skipped: 'below_minimum_volume' };
  return { volume: close, final: false };
}
