/**
 * A tenant's copy-trading settings (TenantConfig.copy). Pure.
 *
 * Invariants:
 * - belowMinimum: what a follower's size below the symbol's minimum does ('skip' with a reason, or 'clamp' up to it)
 * - maxSignalAgeSeconds: an opening signal older than this when its copy would be placed is skipped
 *   (signal_expired): a follower never enters a provider's trade long after the price it was taken at
 * - fee caps and the broker's share of every fee charge follow domain/copy/fees.ts CopyFeePolicy
 * - exposureAlerts: per account currency, the copied (followers') notional on one symbol and direction at or above
 *   which the dealing desk is alerted (decimal string of that currency); a currency without an entry: no alert
 * - minRankedDays: a strategy younger than this is shown as new, not ranked; riskFreeRateBps a year for Sharpe
 */
import * as z from 'zod';
import type { CopyFeePolicy } from './fees.ts';
import { DEFAULT_MIN_RANKED_DAYS } from './strategies.ts';

const bps = z.number().int().min(0).max(10_000);
const minorAmounts = z.record(z.string().regex(/^[A-Z]{3}$/), z.string().regex(/^\d+$/));

export const CopyConfigSchema = z.object({
  belowMinimum: z.enum(['skip', 'clamp']).default('skip'),
  maxSignalAgeSeconds: z.number().int().min(1).max(3_600).default(300),
  maxPerformanceBps: bps.default(5_000),
  maxManagementBpsPerYear: bps.default(1_000),
  /** Caps per currency, minor units (integer strings). */
  maxVolumePerMillion: minorAmounts.optional(),
  maxSubscriptionPerMonth: minorAmounts.optional(),
  brokerShareBps: bps.default(0),
  exposureAlerts: z.record(z.string().regex(/^[A-Z]{3}$/), z.string().regex(/^\d+(\.\d+)?$/)).default({}),
  minRankedDays: z.number().int().min(0).max(3_650).default(DEFAULT_MIN_RANKED_DAYS),
  riskFreeRateBps: bps.default(0),
});
export type CopyConfig = z.output<typeof CopyConfigSchema>;

const toBig = (r: Record<string, string> | undefined) =>
  r ? Object.fromEntries(Object.entries(r).map(([k, v]) => [k, BigInt(v)])) : undefined;

/** The fee policy (domain/copy/fees.ts) of a tenant's copy settings. */
export function feePolicyOf(c: CopyConfig): CopyFeePolicy {
  const volume = toBig(c.maxVolumePerMillion);
  const subscription = toBig(c.maxSubscriptionPerMonth);
  return {
    maxPerformanceBps: c.maxPerformanceBps,
    maxManagementBpsPerYear: c.maxManagementBpsPerYear,
    brokerShareBps: c.brokerShareBps,
    ...(volume ? { maxVolumePerMillion: volume } : {}),
    ...(subscription ? { maxSubscriptionPerMonth: subscription } : {}),
  };
}
