/**
 * A tenant's introducing-broker settings (TenantConfig.partners; issue 16, ADR 0018). Pure.
 *
 * Invariants:
 * - attribution: which referral wins when a visitor followed several partners' links before registering
 *   ('first_touch': the first recorded click; 'last_touch': the code the registration carried, else the last click)
 * - maxDepth: the most tiers a network may have under a root partner (a sub-IB deeper than this is refused)
 * - clawbackWindowDays: a chargeback or fraud flag claws back the commissions of the client's deals closed within
 *   this many days before it
 * - payoutMinimum: per currency, the least a payout pays (decimal string); less is carried to the next run
 * - payoutSafetySeconds: a payout takes the lines accrued up to this long before the run, so a line whose
 *   transaction is still in flight is never skipped (it goes in the next payout)
 */
import * as z from 'zod';

export const PartnersConfigSchema = z.object({
  attribution: z.enum(['first_touch', 'last_touch']).default('last_touch'),
  maxDepth: z.number().int().min(1).max(20).default(5),
  clawbackWindowDays: z.number().int().min(1).max(365).default(90),
  payoutMinimum: z.record(z.string().regex(/^[A-Z]{3}$/), z.string().regex(/^\d+(\.\d{1,8})?$/)).default({ USD: '50.00' }),
  payoutSafetySeconds: z.number().int().min(0).max(3_600).default(300),
});
export type PartnersConfig = z.output<typeof PartnersConfigSchema>;
