/**
 * The sandbox PSP's outcome rule (issue 5): like a card network's test numbers, the amount decides
 * what happens, so every path can be driven locally and in tests without a real provider.
 *
 * Rule, on the amount in MINOR units (cents for USD, yen for JPY, micro-units for USDT), for deposits
 * and payouts alike:
 * - ends in 13 -> failed   (e.g. 100.13 USD, 1013 JPY)
 * - ends in 42 -> pending  (stays pending until the intent expires: no webhook is sent)
 * - anything else -> succeeded
 * Pure; exact bigint arithmetic.
 */
import type { Money } from '../money/index.ts';

export type SandboxOutcome = 'succeeded' | 'failed' | 'pending';

/** The last two digits of the amount in minor units. */
export const sandboxLastTwoDigits = (m: Money): bigint => m.amount % 100n;

export function sandboxOutcome(m: Money): SandboxOutcome {
  switch (sandboxLastTwoDigits(m)) {
    case 13n:
      return 'failed';
    case 42n:
      return 'pending';
    default:
      return 'succeeded';
  }
}
