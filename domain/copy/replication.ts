/**
 * Copy trading replication: the ids, reasons and measures of one copied deal (ADR 0017). Pure.
 *
 * Invariants:
 * - a copy's id is derived from (the provider's deal key, the subscription): a redelivered or duplicated signal for
 *   the same follower names the same copy, so it is executed once; the id fits a platform order comment (MT5 keeps
 *   31 characters) and is what the executor asks the platform for after a crash (TradingPlatform.findTrade)
 * - the closes a stop makes of a follower's copied positions have ids of their own, one per follower position
 * - slippage is counted against the follower: adverse points = fill - provider price for a buy, the opposite for a
 *   sell (negative: the follower got a better price); in money it is exact rational arithmetic on the provider
 *   deal's notional (so no exchange rate is needed: provider and follower accounts share a currency), rounded
 *   half-even once to minor units
 * - latency is the follower's fill time minus the signal time (when the back office recorded the provider's deal),
 *   never negative; the provider-to-follower delay (which includes the platform polling interval) is kept apart
 * - every skipped or reduced copy carries one reason from COPY_REASONS, shown to the follower
 */
import { createHash } from 'node:crypto';
import { decodeTime } from 'ulid';
import { roundHalfEven } from '../money/index.ts';
import type { Side } from '../trading/model.ts';
import type { AllocationReduction, AllocationSkip, CloseSkip } from './allocation.ts';
import type { ProtectionReason } from './protections.ts';

/** Why a copy was not made, or made smaller, or closed on its own. */
export type CopyReason =
  | AllocationSkip
  | AllocationReduction
  | CloseSkip
  | ProtectionReason
  | 'raised_to_minimum'
  | 'remainder_below_minimum'
  | 'subscription_paused'
  | 'subscription_stopped'
  | 'strategy_not_followable'
  | 'provider_closed_first'
  | 'signal_expired'
  | 'position_already_closed'
  | 'stopped_by_follower'
  | 'stopped_by_protection'
  | `platform_${string}`;

const hash = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 26);

/** The copy of a provider's deal for one subscription (30 characters). */
export const copyIdFor = (dealKey: string, subscriptionId: string): string => `cp_${hash(`${dealKey}\u0000${subscriptionId}`)}`;

/** The close of one follower position when copying stops (30 characters). */
export const stopCloseIdFor = (subscriptionId: string, followerPositionId: number): string =>
  `cx_${hash(`${subscriptionId}\u0000${followerPositionId}`)}`;

/** Points the follower's fill is worse than the provider's (negative: better). */
export function slippagePoints(side: Side, providerPrice: bigint, followerPrice: bigint): bigint {
  return side === 'buy' ? followerPrice - providerPrice : providerPrice - followerPrice;
}

/**
 * The money value of `points` of slippage on `followerVolume`, in minor units of the accounts' currency:
 * points x followerVolume x providerNotional / (providerVolume x providerPrice), half-even; undefined when the
 * provider deal has no notional (the platform reports no rate) or a zero volume or price.
 */
export function slippageMoney(input: {
  points: bigint;
  followerVolume: bigint;
  providerNotional: bigint | undefined;
  providerVolume: bigint;
  providerPrice: bigint;
}): bigint | undefined {
  const { points, followerVolume, providerNotional, providerVolume, providerPrice } = input;
  if (providerNotional === undefined || providerVolume <= 0n || providerPrice <= 0n) return undefined;
  return roundHalfEven(points * followerVolume * providerNotional, providerVolume * providerPrice);
}

/** The follower-facing latency: fill - signal, ms, never negative. */
export const latencyMs = (signalAtMs: number, fillAtMs: number): number => Math.max(0, fillAtMs - signalAtMs);

/** The time (ms) a ULID was minted at, or undefined for a string that is not one. */
export function ulidTime(id: string): number | undefined {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/i.test(id)) return undefined;
  try {
    return decodeTime(id.toUpperCase());
  } catch {
    return undefined;
  }
}

/** The order side that closes a position of `side`. */
export const closingSide = (side: Side): Side => (side === 'buy' ? 'sell' : 'buy');
