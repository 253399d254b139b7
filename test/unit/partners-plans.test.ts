/**
 * Commission plans as data (domain/partners/plans.ts), named after their invariants: money is a decimal string and a
 * share is integer bps (the schema refuses anything else), per-lot rates resolve symbol -> group -> default, a
 * partner's overrides merge over its plan field by field (maps key by key), and a deal is priced with the version in
 * effect at its time (the latest not after it; the same instant whatever its ISO spelling).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  effectiveRules,
  PlanOverridesSchema,
  type PlanVersion,
  PlanVersionSchema,
  TierOverrideSchema,
  versionAt,
} from '#domain/partners/plans.ts';

const plan = (rules: unknown, qualification: unknown = {}): PlanVersion =>
  PlanVersionSchema.parse({
    planId: 'std',
    version: 1,
    name: 'Standard',
    currency: 'USD',
    effectiveFrom: '2026-01-01T00:00:00.000Z',
    rules,
    qualification,
  });

const ok = (schema: { safeParse: (v: unknown) => { success: boolean } }, v: unknown) => schema.safeParse(v).success;

describe('money in a plan is a decimal string and shares are integer bps: nothing is a float', () => {
  it('accepts decimal strings up to 8 decimals and refuses numbers, signs, exponents and more decimals', () => {
    expect(ok(PlanVersionSchema, plan({ perLot: { default: '5' } }))).toBe(true);
    expect(plan({ perLot: { default: '0.12345678' } }).rules.perLot?.default).toBe('0.12345678');
    for (const bad of [5, '5.123456789', '-5', '1e3', '5.', '.5', ' 5', '5,00', '']) {
      expect(ok(PlanVersionSchema, { ...plan({}), rules: { perLot: { default: bad } } }), String(bad)).toBe(false);
    }
  });

  it('refuses a share that is not an integer in 0..10,000 bps', () => {
    for (const shareBps of [-1, 10_001, 12.5, '50']) {
      expect(ok(PlanVersionSchema, { ...plan({}), rules: { commissionShare: { shareBps } } })).toBe(false);
      expect(ok(PlanVersionSchema, { ...plan({}), rules: { spreadShare: { markupPoints: {}, shareBps } } })).toBe(false);
    }
    expect(ok(PlanVersionSchema, plan({ commissionShare: { shareBps: 10_000 } }))).toBe(true);
    expect(ok(PlanVersionSchema, plan({ commissionShare: { shareBps: 0 } }))).toBe(true);
  });

  it('a tier override pays either a per-lot amount or a share of the child, for tiers 1..20, never both', () => {
    expect(ok(TierOverrideSchema, { tier: 1, perLot: '1.50' })).toBe(true);
    expect(ok(TierOverrideSchema, { tier: 2, childShareBps: 1_000 })).toBe(true);
    expect(ok(TierOverrideSchema, { tier: 1, perLot: '1.50', childShareBps: 1_000 })).toBe(false);
    expect(ok(TierOverrideSchema, { tier: 0, perLot: '1' })).toBe(false);
    expect(ok(TierOverrideSchema, { tier: 21, perLot: '1' })).toBe(false);
    expect(ok(TierOverrideSchema, { tier: 1 })).toBe(false);
  });

  it('refuses a CPA without its conditions, minLots with more than 2 decimals, and windows outside 1..3,650 days', () => {
    const cpa = { amount: '200', minFirstDeposit: '100', depositWithinDays: 30, minLots: '1.5', lotsWithinDays: 60 };
    expect(ok(PlanVersionSchema, plan({ cpa }))).toBe(true);
    expect(ok(PlanVersionSchema, { ...plan({}), rules: { cpa: { ...cpa, minLots: '1.555' } } })).toBe(false);
    expect(ok(PlanVersionSchema, { ...plan({}), rules: { cpa: { ...cpa, depositWithinDays: 0 } } })).toBe(false);
    expect(ok(PlanVersionSchema, { ...plan({}), rules: { cpa: { ...cpa, lotsWithinDays: 3_651 } } })).toBe(false);
    const { minFirstDeposit: _, ...noMin } = cpa;
    expect(ok(PlanVersionSchema, { ...plan({}), rules: { cpa: noMin } })).toBe(false);
  });

  it('refuses a plan currency that is not three capitals and a version below 1', () => {
    expect(ok(PlanVersionSchema, { ...plan({}), currency: 'usd' })).toBe(false);
    expect(ok(PlanVersionSchema, { ...plan({}), version: 0 })).toBe(false);
  });

  it('qualification defaults: no minimum hold or move, same-price round trips excluded, hedged volume earns once', () => {
    expect(plan({}).qualification).toEqual({ minHoldSeconds: 0, minMovePoints: 0, excludeSamePrice: true, hedgedOnce: true });
    expect(ok(PlanVersionSchema, { ...plan({}), qualification: { minHoldSeconds: -1 } })).toBe(false);
  });

  it('overrides are strict: an unknown field is refused', () => {
    expect(ok(PlanOverridesSchema, { perLot: { default: '7' } })).toBe(true);
    expect(ok(PlanOverridesSchema, { perlot: { default: '7' } })).toBe(false);
    expect(ok(PlanOverridesSchema, { symbolGroups: {} })).toBe(false);
  });
});

describe("a partner's overrides merge over its plan field by field, maps key by key", () => {
  const base = plan({
    perLot: { default: '5', symbols: { EURUSD: '6' }, groups: { metals: '8' } },
    spreadShare: { markupPoints: { default: 10 }, shareBps: 2_000 },
    commissionShare: { shareBps: 3_000 },
    cpa: { amount: '200', minFirstDeposit: '100', depositWithinDays: 30, minLots: '1', lotsWithinDays: 60 },
    tierOverrides: [{ tier: 1, perLot: '1' }],
    symbolGroups: { XAUUSD: 'metals' },
  });

  it('without overrides the plan rules are the rules', () => {
    expect(effectiveRules(base, undefined)).toBe(base.rules);
  });

  it('per-lot maps merge key by key and the default is replaced only when given', () => {
    const r = effectiveRules(base, PlanOverridesSchema.parse({ perLot: { symbols: { GBPUSD: '9' } } }));
    expect(r.perLot).toEqual({ default: '5', symbols: { EURUSD: '6', GBPUSD: '9' }, groups: { metals: '8' } });
    const d = effectiveRules(base, PlanOverridesSchema.parse({ perLot: { default: '7', symbols: { EURUSD: '6.5' } } }));
    expect(d.perLot).toEqual({ default: '7', symbols: { EURUSD: '6.5' }, groups: { metals: '8' } });
    expect(d.symbolGroups).toEqual({ XAUUSD: 'metals' });
  });

  it('a per-lot override gives a partner per-lot rates its plan does not have', () => {
    const r = effectiveRules(plan({}), PlanOverridesSchema.parse({ perLot: { default: '3' } }));
    expect(r.perLot).toEqual({ default: '3', symbols: {}, groups: {} });
  });

  it('the spread share overrides the share only (the markup is the plan’s), and needs the plan’s spread rule', () => {
    const r = effectiveRules(base, PlanOverridesSchema.parse({ spreadShare: { shareBps: 4_000 } }));
    expect(r.spreadShare).toEqual({ markupPoints: { default: 10, symbols: {}, groups: {} }, shareBps: 4_000 });
    expect(effectiveRules(plan({}), PlanOverridesSchema.parse({ spreadShare: { shareBps: 4_000 } })).spreadShare).toBeUndefined();
  });

  it('commission share and tier overrides are replaced whole; CPA fields merge over the plan’s', () => {
    const r = effectiveRules(
      base,
      PlanOverridesSchema.parse({
        commissionShare: { shareBps: 5_000 },
        tierOverrides: [{ tier: 2, childShareBps: 500 }],
        cpa: { amount: '250' },
      }),
    );
    expect(r.commissionShare).toEqual({ shareBps: 5_000 });
    expect(r.tierOverrides).toEqual([{ tier: 2, childShareBps: 500 }]);
    expect(r.cpa).toEqual({ ...base.rules.cpa, amount: '250' });
    expect(effectiveRules(plan({}), PlanOverridesSchema.parse({ cpa: { amount: '250' } })).cpa).toBeUndefined();
  });

  it('an empty override object leaves every rule as the plan has it', () => {
    const r = effectiveRules(base, PlanOverridesSchema.parse({}));
    expect(r).toEqual(base.rules);
  });
});

describe('a deal is priced with the version in effect at its time', () => {
  const v = (version: number, effectiveFrom: string) => ({ version, effectiveFrom });
  const versions = [v(1, '2026-01-01T00:00:00.000Z'), v(2, '2026-03-01T00:00:00.000Z'), v(3, '2026-06-01T00:00:00.000Z')];

  it('the latest version whose effectiveFrom is not after the instant; none before the first', () => {
    expect(versionAt(versions, '2025-12-31T23:59:59.999Z')).toBeUndefined();
    expect(versionAt(versions, '2026-01-01T00:00:00.000Z')?.version).toBe(1);
    expect(versionAt(versions, '2026-02-28T23:59:59.999Z')?.version).toBe(1);
    expect(versionAt(versions, '2026-03-01T00:00:00.000Z')?.version).toBe(2);
    expect(versionAt(versions, '2030-01-01T00:00:00.000Z')?.version).toBe(3);
    expect(versionAt([], '2030-01-01T00:00:00.000Z')).toBeUndefined();
  });

  it('two versions from the same instant: the higher version wins, whatever the order given', () => {
    const same = [v(5, '2026-03-01T00:00:00.000Z'), v(4, '2026-03-01T00:00:00.000Z')];
    expect(versionAt(same, '2026-04-01T00:00:00.000Z')?.version).toBe(5);
    expect(versionAt([...same].reverse(), '2026-04-01T00:00:00.000Z')?.version).toBe(5);
  });

  it('the same instant in another ISO spelling (no milliseconds, an offset) is the same instant', () => {
    expect(versionAt(versions, '2026-03-01T00:00:00Z')?.version).toBe(2);
    expect(versionAt([v(1, '2026-03-01T00:00:00Z')], '2026-03-01T00:00:00.000Z')?.version).toBe(1);
    expect(versionAt(versions, '2026-03-01T01:00:00+01:00')?.version).toBe(2);
    expect(versionAt(versions, '2026-03-01T00:59:59.999+01:00')?.version).toBe(1);
  });

  it('property: the result is the eligible version with the greatest (effectiveFrom, version), independent of order', () => {
    const iso = fc.integer({ min: 0, max: 1_000 }).map((d) => new Date(Date.UTC(2026, 0, 1) + d * 86_400_000).toISOString());
    fc.assert(
      fc.property(
        fc.array(fc.record({ version: fc.integer({ min: 1, max: 50 }), effectiveFrom: iso }), { maxLength: 12 }),
        iso,
        (vs, at) => {
          const got = versionAt(vs, at);
          const eligible = vs.filter((x) => x.effectiveFrom <= at);
          if (eligible.length === 0) return got === undefined;
          const best = eligible.reduce((a, b) =>
            b.effectiveFrom > a.effectiveFrom || (b.effectiveFrom === a.effectiveFrom && b.version > a.version) ? b : a,
          );
          const reversed = versionAt([...vs].reverse(), at);
          return (
            got !== undefined &&
            got.effectiveFrom === best.effectiveFrom &&
            got.version === best.version &&
            reversed?.version === got.version &&
            reversed.effectiveFrom === got.effectiveFrom
          );
        },
      ),
    );
  });
});
