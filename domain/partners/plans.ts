/**
 * Commission plans as data (issue 16, ADR 0018). A plan is a list of immutable versions; a partner is assigned a
 * plan (or inherits its nearest ancestor's) with optional rate overrides. Pure: no I/O.
 *
 * Invariants:
 * - money in a plan is a decimal string of the plan's currency (per-lot rates, CPA amounts, fixed tier overrides);
 *   percentages are basis points (integers, 0..10,000); nothing is a float
 * - a version never changes once written: a new version is written with the date it takes effect from, and a deal
 *   is priced with the version in effect at the deal's time, so a replay of any period prices it the same way
 * - per-lot rates resolve by symbol, then the symbol's group, then the default (the first match wins)
 * - tier overrides pay a partner's ancestors: tier 1 is the direct partner's parent, tier 2 its grandparent, ...
 *   A tier's rule is the ancestor's own plan's, so each partner's plan says what it earns from its sub-network
 * - rules are strict: an unknown key (a misspelt rule) is refused, never silently dropped
 */
import * as z from 'zod';

export const RULE_TYPES = ['per_lot', 'spread_share', 'commission_share', 'cpa', 'override'] as const;
export type RuleType = (typeof RULE_TYPES)[number];

const amount = z.string().regex(/^\d{1,12}(\.\d{1,8})?$/, 'a non-negative decimal string, at most 8 decimals');
const bps = z.number().int().min(0).max(10_000);
const symbol = z.string().regex(/^[A-Za-z0-9._#-]{1,32}$/);
const days = z.number().int().min(1).max(3_650);

export const PerLotRuleSchema = z.strictObject({
  /** Money per lot (one side: the closing deal's lots), in the plan's currency. */
  default: amount.optional(),
  symbols: z.record(symbol, amount).default({}),
  groups: z.record(z.string().min(1).max(40), amount).default({}),
});

export const SpreadShareRuleSchema = z.strictObject({
  /** The broker's markup over the raw spread, in points, by symbol then group then default. */
  markupPoints: z.strictObject({
    default: z.number().int().min(0).max(100_000).optional(),
    symbols: z.record(symbol, z.number().int().min(0).max(100_000)).default({}),
    groups: z.record(z.string().min(1).max(40), z.number().int().min(0).max(100_000)).default({}),
  }),
  /** The partner's share of the markup's value. */
  shareBps: bps,
});

export const CommissionShareRuleSchema = z.strictObject({ shareBps: bps });

export const CpaRuleSchema = z.strictObject({
  /** Paid once per referred client, in the plan's currency. */
  amount,
  /** First deposit at least this much (in the plan's currency), within this many days of registration. */
  minFirstDeposit: amount,
  depositWithinDays: days,
  /** At least this many lots (decimal string, 2 decimals) traded within this many days of registration. */
  minLots: z.string().regex(/^\d{1,9}(\.\d{1,2})?$/),
  lotsWithinDays: days,
});

/** What an ancestor at `tier` earns from a deal of its sub-network: a fixed amount per lot or a share of the child's. */
export const TierOverrideSchema = z.union([
  z.object({ tier: z.number().int().min(1).max(20), perLot: amount }).strict(),
  z.object({ tier: z.number().int().min(1).max(20), childShareBps: bps }).strict(),
]);

export const QualificationSchema = z.strictObject({
  /** A position held less than this earns nothing (0: no minimum). */
  minHoldSeconds: z
    .number()
    .int()
    .min(0)
    .max(86_400 * 30)
    .default(0),
  /** A position whose close price moved less than this from its open earns nothing (0: no minimum). */
  minMovePoints: z.number().int().min(0).max(1_000_000).default(0),
  /** A position opened and closed at the same price earns nothing. */
  excludeSamePrice: z.boolean().default(true),
  /** Volume hedged by an opposite position of the same account and symbol earns on one leg only. */
  hedgedOnce: z.boolean().default(true),
});

export const PlanRulesSchema = z.strictObject({
  perLot: PerLotRuleSchema.optional(),
  spreadShare: SpreadShareRuleSchema.optional(),
  commissionShare: CommissionShareRuleSchema.optional(),
  cpa: CpaRuleSchema.optional(),
  tierOverrides: z.array(TierOverrideSchema).max(20).default([]),
  /** Symbol -> group, for the per-lot and spread rules' group rates. */
  symbolGroups: z.record(symbol, z.string().min(1).max(40)).default({}),
});

export const PlanVersionSchema = z.object({
  planId: z.string().min(1).max(64),
  version: z.number().int().min(1),
  name: z.string().min(1).max(120),
  currency: z.string().regex(/^[A-Z]{3}$/),
  /** ISO instant from which this version prices deals (by the deal's time). */
  effectiveFrom: z.string(),
  rules: PlanRulesSchema,
  qualification: QualificationSchema,
});
export type PlanVersion = z.output<typeof PlanVersionSchema>;
export type PlanRules = z.output<typeof PlanRulesSchema>;
export type Qualification = z.output<typeof QualificationSchema>;
export type TierOverride = z.output<typeof TierOverrideSchema>;

/**
 * A partner's own rates over its plan's (the same shapes, every field optional): staff give one partner a better
 * per-lot rate without a plan of its own. Merged field by field; maps merge key by key.
 */
export const PlanOverridesSchema = z
  .object({
    perLot: PerLotRuleSchema.partial().optional(),
    spreadShare: z.object({ shareBps: bps }).optional(),
    commissionShare: CommissionShareRuleSchema.optional(),
    cpa: CpaRuleSchema.partial().optional(),
    tierOverrides: z.array(TierOverrideSchema).max(20).optional(),
  })
  .strict();
export type PlanOverrides = z.output<typeof PlanOverridesSchema>;

/** The rules a partner prices with: its plan version with its overrides applied. */
export function effectiveRules(plan: PlanVersion, overrides: PlanOverrides | undefined): PlanRules {
  if (!overrides) return plan.rules;
  const r = plan.rules;
  const perLot =
    overrides.perLot || r.perLot
      ? {
          ...((overrides.perLot?.default ?? r.perLot?.default)
            ? { default: (overrides.perLot?.default ?? r.perLot?.default) as string }
            : {}),
          symbols: { ...(r.perLot?.symbols ?? {}), ...(overrides.perLot?.symbols ?? {}) },
          groups: { ...(r.perLot?.groups ?? {}), ...(overrides.perLot?.groups ?? {}) },
        }
      : undefined;
  const spreadShare = r.spreadShare
    ? { ...r.spreadShare, ...(overrides.spreadShare ? { shareBps: overrides.spreadShare.shareBps } : {}) }
    : undefined;
  const commissionShare = overrides.commissionShare ?? r.commissionShare;
  const cpa = r.cpa ? { ...r.cpa, ...stripUndefined(overrides.cpa ?? {}) } : undefined;
  return {
    symbolGroups: r.symbolGroups,
    tierOverrides: overrides.tierOverrides ?? r.tierOverrides,
    ...(perLot ? { perLot } : {}),
    ...(spreadShare ? { spreadShare } : {}),
    ...(commissionShare ? { commissionShare } : {}),
    ...(cpa ? { cpa } : {}),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * ISO instants compared as instants ("...00Z" and "...00.000Z" are the same instant, an offset is honoured), and as
 * strings only when one does not parse: -1, 0, 1.
 */
function compareInstants(a: string, b: string): number {
  const x = Date.parse(a);
  const y = Date.parse(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return a < b ? -1 : a > b ? 1 : 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The version in effect at `at` (ISO): the latest whose effectiveFrom is not after it (ties: the highest version). */
export function versionAt<V extends { effectiveFrom: string; version: number }>(
  versions: readonly V[],
  at: string,
): V | undefined {
  let best: V | undefined;
  for (const v of versions) {
    if (compareInstants(v.effectiveFrom, at) > 0) continue;
    const c = best ? compareInstants(v.effectiveFrom, best.effectiveFrom) : 1;
    if (!best || c > 0 || (c === 0 && v.version > best.version)) best = v;
  }
  return best;
}
