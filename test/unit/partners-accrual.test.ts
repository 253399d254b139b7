/**
 * Introducing-broker accrual (domain/partners/accrual.ts), named after its invariants: qualification by each member's
 * own plan with a reason for every failing check in a fixed order, the tier-0 rules (per_lot by symbol -> group ->
 * default, spread_share, commission_share), ancestors' override lines (per lot or a share of the child's lines, per
 * currency), hedged volume counted on one leg only, adjustment lines that bring stored sums to the expected ones,
 * exact money rounded half-even once per line, and determinism. Money is cents (USD, EUR) or yen (JPY, exponent 0).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accrueDeal,
  adjustmentsFor,
  type ChainMember,
  type DealInput,
  formatLots,
  type HedgeDeal,
  hedgedVolume,
  type LineDraft,
  pointsToPrice,
  REASON_CODES,
  type StoredLine,
} from '#domain/partners/accrual.ts';
import { type PlanVersion, PlanVersionSchema } from '#domain/partners/plans.ts';

const T0 = Date.UTC(2026, 2, 2, 9, 0, 0);
const LOT = 10_000n;

const plan = (rules: unknown, opts: { currency?: string; qualification?: unknown; planId?: string; version?: number } = {}) =>
  PlanVersionSchema.parse({
    planId: opts.planId ?? 'std',
    version: opts.version ?? 1,
    name: 'Plan',
    currency: opts.currency ?? 'USD',
    effectiveFrom: '2026-01-01T00:00:00.000Z',
    rules,
    qualification: opts.qualification ?? {},
  });

const member = (partnerId: string, tier: number, p: PlanVersion | null): ChainMember => ({
  partnerId,
  tier,
  plan: p,
  rules: p ? p.rules : null,
});

/** Closing 1 lot of EURUSD at 1.10050, opened at 1.10000 ten minutes earlier; $3.50 commission per side. */
const deal = (over: Partial<DealInput> = {}): DealInput => ({
  dealKey: 'mt5#live#1001',
  clientId: 'cl_1',
  accountId: 'acc_1',
  currency: 'USD',
  symbol: 'EURUSD',
  action: 'sell',
  volume: LOT,
  price: '1.10050',
  commission: '-3.50',
  notional: '110050.00',
  timeMsc: T0 + 600_000,
  open: { price: '1.10000', timeMsc: T0, volume: LOT, commission: '-3.50' },
  hedgedVolume: 0n,
  ...over,
});

const perLot5 = plan({ perLot: { default: '5' } });
const amounts = (lines: LineDraft[]) => lines.map((l) => [l.partnerId, l.rule, l.currency, l.amount]);
const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

describe('qualification is each member’s own plan’s; every failing check gives a reason; no line without qualifying', () => {
  it('no_opening_deal: without the opening deal nothing can be checked and nothing is earned', () => {
    const r = accrueDeal(deal({ open: undefined }), [
      member('ib_a', 0, perLot5),
      member('ib_b', 1, plan({ tierOverrides: [{ tier: 1, perLot: '1' }] })),
    ]);
    expect(r.lines).toEqual([]);
    expect(r.members.map((m) => [m.qualified, codes(m)])).toEqual([
      [false, ['no_opening_deal']],
      [false, ['no_opening_deal']],
    ]);
  });

  it('held_too_short: a position held less than minHoldSeconds earns nothing; exactly the minimum qualifies', () => {
    const p = plan({ perLot: { default: '5' } }, { qualification: { minHoldSeconds: 180 } });
    const short = accrueDeal(deal({ timeMsc: T0 + 42_000 }), [member('ib_a', 0, p)]);
    expect(short.lines).toEqual([]);
    expect(short.members[0]!.reasons).toEqual([{ code: 'held_too_short', detail: 'held 42 s, minimum 180 s' }]);
    expect(accrueDeal(deal({ timeMsc: T0 + 179_999 }), [member('ib_a', 0, p)]).members[0]!.reasons[0]!.detail).toBe(
      'held 179.999 s, minimum 180 s',
    );
    expect(amounts(accrueDeal(deal({ timeMsc: T0 + 180_000 }), [member('ib_a', 0, p)]).lines)).toEqual([
      ['ib_a', 'per_lot', 'USD', 500n],
    ]);
  });

  it('same_price: opened and closed at the same price (numerically: 1.1 == 1.10000) earns nothing unless allowed', () => {
    const same = deal({ price: '1.1', open: { price: '1.10000', timeMsc: T0, volume: LOT, commission: '-3.50' } });
    const r = accrueDeal(same, [member('ib_a', 0, perLot5)]);
    expect(r.lines).toEqual([]);
    expect(codes(r.members[0]!)).toEqual(['same_price']);
    const allowed = plan({ perLot: { default: '5' } }, { qualification: { excludeSamePrice: false } });
    expect(accrueDeal(same, [member('ib_a', 0, allowed)]).lines).toHaveLength(1);
  });

  it('price_move_too_small: the move in whole points (point = 10^-d, d the most decimals of either price)', () => {
    const p = plan({ perLot: { default: '5' } }, { qualification: { minMovePoints: 10 } });
    const at = (price: string, open = '1.10000') =>
      accrueDeal(deal({ price, open: { price: open, timeMsc: T0, volume: LOT, commission: '0' } }), [member('ib_a', 0, p)]);
    expect(at('1.10009').members[0]!.reasons).toEqual([
      { code: 'price_move_too_small', detail: 'moved 9 points (1.10000 -> 1.10009), minimum 10' },
    ]);
    expect(at('1.10010').members[0]!.qualified).toBe(true);
    expect(at('1.09990').members[0]!.qualified).toBe(true); // a move down counts the same
    expect(at('1.1001').members[0]!.qualified).toBe(true); // d = 5 from the open price: 10 points
    expect(at('150.129', '150.120').members[0]!.reasons[0]!.code).toBe('price_move_too_small'); // 9 points of 0.001
    // the inputs record the move
    expect(at('1.10010').lines[0]!.inputs).toMatchObject({
      movePoints: '10',
      pointDigits: '5',
      openPrice: '1.10000',
      price: '1.10010',
    });
  });

  it('fully_hedged: all the volume counted on an opposite leg earns nothing; without hedgedOnce it all earns', () => {
    const r = accrueDeal(deal({ hedgedVolume: LOT }), [member('ib_a', 0, perLot5)]);
    expect(r.lines).toEqual([]);
    expect(r.members[0]!.reasons).toEqual([{ code: 'fully_hedged', detail: 'all 1.00 lots hedged by opposite positions' }]);
    expect(r.qualifyingVolume).toBe(0n);
    const both = plan({ perLot: { default: '5' } }, { qualification: { hedgedOnce: false } });
    const all = accrueDeal(deal({ hedgedVolume: LOT }), [member('ib_a', 0, both)]);
    expect(amounts(all.lines)).toEqual([['ib_a', 'per_lot', 'USD', 500n]]);
    expect(all.qualifyingVolume).toBe(LOT);
    expect(all.hedgedVolume).toBe(LOT);
  });

  it('every failing check is reported, in the fixed order held_too_short, same_price, price_move_too_small, fully_hedged', () => {
    const strict = plan({ perLot: { default: '5' } }, { qualification: { minHoldSeconds: 60, minMovePoints: 5 } });
    const r = accrueDeal(deal({ timeMsc: T0 + 1_000, price: '1.10000', hedgedVolume: LOT * 2n }), [member('ib_a', 0, strict)]);
    expect(codes(r.members[0]!)).toEqual(['held_too_short', 'same_price', 'price_move_too_small', 'fully_hedged']);
    expect(r.hedgedVolume).toBe(LOT); // capped at the volume
  });

  it('each member is judged by its own plan: a strict parent is refused while the child earns, and vice versa', () => {
    const strict = (rules: unknown) => plan(rules, { planId: 'strict', qualification: { minHoldSeconds: 3_600 } });
    const lenient = (rules: unknown) => plan(rules, { planId: 'lenient' });
    const a = accrueDeal(deal(), [
      member('ib_a', 0, lenient({ perLot: { default: '5' } })),
      member('ib_b', 1, strict({ tierOverrides: [{ tier: 1, perLot: '1' }] })),
    ]);
    expect(amounts(a.lines)).toEqual([['ib_a', 'per_lot', 'USD', 500n]]);
    expect(a.members.map((m) => [m.partnerId, m.planId, m.qualified, codes(m)])).toEqual([
      ['ib_a', 'lenient', true, []],
      ['ib_b', 'strict', false, ['held_too_short']],
    ]);
    const b = accrueDeal(deal(), [
      member('ib_a', 0, strict({ perLot: { default: '5' } })),
      member('ib_b', 1, lenient({ tierOverrides: [{ tier: 1, perLot: '1' }] })),
    ]);
    expect(amounts(b.lines)).toEqual([['ib_b', 'override', 'USD', 100n]]);
  });

  it('no_plan: a member without a plan anywhere up its chain earns nothing and says so', () => {
    const r = accrueDeal(deal(), [
      member('ib_a', 0, null),
      member('ib_b', 1, plan({ tierOverrides: [{ tier: 1, childShareBps: 1_000 }] })),
    ]);
    expect(r.lines).toEqual([]);
    expect(r.members[0]).toEqual({
      partnerId: 'ib_a',
      tier: 0,
      planId: '',
      planVersion: 0,
      qualified: false,
      reasons: [{ code: 'no_plan', detail: 'no plan is assigned to this partner or any of its ancestors' }],
    });
    expect(r.members[1]).toMatchObject({ qualified: true, reasons: [] });
  });

  it('the chain is in tier order (chain[k].tier == k); anything else is a programming error', () => {
    expect(() => accrueDeal(deal(), [member('ib_b', 1, perLot5)])).toThrow(RangeError);
  });

  it('no client partner: no members, no lines; the deal facts are still reported', () => {
    expect(accrueDeal(deal({ volume: 1_000n, hedgedVolume: 250n }), [])).toEqual({
      lines: [],
      members: [],
      lots: '0.10',
      qualifyingVolume: 750n,
      hedgedVolume: 250n,
    });
  });
});

describe('per_lot: the symbol’s rate, else its group’s, else the default, x the qualifying lots, in the plan currency', () => {
  const tiered = plan(
    {
      perLot: { default: '5', groups: { metals: '8' }, symbols: { EURUSD: '6', XAUUSD: '12' } },
      symbolGroups: { XAUUSD: 'metals', XAGUSD: 'metals' },
    },
    { currency: 'EUR' },
  );

  it('resolves symbol -> group -> default and records the source', () => {
    const of = (symbol: string) => accrueDeal(deal({ symbol }), [member('ib_a', 0, tiered)]).lines[0]!;
    expect([of('EURUSD').rate, of('EURUSD').inputs.rateSource]).toEqual(['6', 'symbol']);
    expect([of('XAUUSD').rate, of('XAUUSD').inputs.rateSource, of('XAUUSD').inputs.group]).toEqual(['12', 'symbol', 'metals']);
    expect([of('XAGUSD').rate, of('XAGUSD').inputs.rateSource, of('XAGUSD').inputs.group]).toEqual(['8', 'group', 'metals']);
    expect([of('GBPUSD').rate, of('GBPUSD').inputs.rateSource]).toEqual(['5', 'default']);
    expect(of('GBPUSD')).toMatchObject({
      currency: 'EUR',
      amount: 500n,
      rule: 'per_lot',
      planId: 'std',
      planVersion: 1,
      tier: 0,
    });
  });

  it('no_rate: no rate for the symbol and no share rule gives no line and a reason', () => {
    const p = plan({ perLot: { symbols: { EURUSD: '6' } } });
    const r = accrueDeal(deal({ symbol: 'USDJPY' }), [member('ib_a', 0, p)]);
    expect(r.lines).toEqual([]);
    expect(r.members[0]!.qualified).toBe(true);
    expect(r.members[0]!.reasons).toEqual([{ code: 'no_rate', detail: 'no per_lot rate for USDJPY and no share rule' }]);
  });

  it('scales with the qualifying lots: 0.01 lot, a partly hedged close', () => {
    expect(accrueDeal(deal({ volume: 100n }), [member('ib_a', 0, perLot5)]).lines[0]!.amount).toBe(5n);
    const hedged = accrueDeal(deal({ hedgedVolume: 4_000n }), [member('ib_a', 0, perLot5)]);
    expect(hedged.lines[0]!.amount).toBe(300n);
    expect(hedged.lines[0]!.inputs).toMatchObject({
      lots: '0.60',
      dealLots: '1.00',
      hedgedVolume: '4000',
      qualifyingVolume: '6000',
    });
    expect(hedged.qualifyingVolume).toBe(6_000n);
  });

  it('rounds half-even once, to the plan currency’s minor units', () => {
    const at = (rate: string, volume: bigint, currency = 'USD') =>
      accrueDeal(deal({ volume }), [member('ib_a', 0, plan({ perLot: { default: rate } }, { currency }))]).lines[0]?.amount;
    expect(at('0.125', LOT)).toBe(12n); // 12.5 cents -> 12
    expect(at('0.135', LOT)).toBe(14n); // 13.5 cents -> 14
    expect(at('0.12500001', LOT)).toBe(13n);
    expect(at('105', 500n, 'JPY')).toBe(5n); // 5.25 yen
    expect(at('10', 500n, 'JPY')).toBeUndefined(); // 0.5 yen -> 0 (even): a zero amount gives no line
    expect(at('30', 500n, 'JPY')).toBe(2n); // 1.5 yen -> 2
  });

  it('is exact far beyond 2^53 (no float anywhere)', () => {
    const big = accrueDeal(deal({ volume: 10n ** 15n }), [
      member('ib_a', 0, plan({ perLot: { default: '999999999999.99999999' } })),
    ]);
    // 10^11 lots x (10^12 - 10^-8) = 10^23 - 1,000 USD, exactly: 10^25 - 100,000 cents
    expect(big.lines[0]!.amount).toBe(10n ** 25n - 100_000n);
    expect(big.lots).toBe('100000000000.00');
  });
});

describe('spread_share: markup points x point x notional / price, x share x qualifying / volume, in the account currency', () => {
  const spread = (shareBps: number, markupPoints: unknown) => plan({ spreadShare: { markupPoints, shareBps } });

  it('EURUSD: 10 points of markup on 1 lot (notional 110,050.00 USD at 1.10050) is 10.00 USD; 50 % is 5.00', () => {
    const r = accrueDeal(deal(), [member('ib_a', 0, spread(5_000, { default: 10 }))]);
    expect(amounts(r.lines)).toEqual([['ib_a', 'spread_share', 'USD', 500n]]);
    expect(r.lines[0]!.rate).toBe('5000');
    expect(r.lines[0]!.inputs).toMatchObject({
      markupPoints: '10',
      markupSource: 'default',
      notional: '110050.00',
      markupValue: '10',
      rateUnit: 'bps',
    });
  });

  it('needs no contract size: XAUUSD 30 points (0.30) on 100 oz (notional 200,000.00 at 2000.00) is 30.00; 40 % is 12.00', () => {
    const p = spread(4_000, { symbols: { XAUUSD: 30 } });
    const gold = deal({
      symbol: 'XAUUSD',
      price: '2000.00',
      notional: '200000.00',
      open: { price: '1990.00', timeMsc: T0, volume: LOT, commission: '0' },
    });
    expect(amounts(accrueDeal(gold, [member('ib_a', 0, p)]).lines)).toEqual([['ib_a', 'spread_share', 'USD', 1_200n]]);
    // markup by group
    const byGroup = plan({
      spreadShare: { markupPoints: { groups: { metals: 30 } }, shareBps: 4_000 },
      symbolGroups: { XAUUSD: 'metals' },
    });
    expect(accrueDeal(gold, [member('ib_a', 0, byGroup)]).lines[0]!.inputs).toMatchObject({
      markupSource: 'group',
      group: 'metals',
    });
  });

  it('scales by qualifying / volume', () => {
    const r = accrueDeal(deal({ hedgedVolume: 2_500n }), [member('ib_a', 0, spread(5_000, { default: 10 }))]);
    expect(r.lines[0]!.amount).toBe(375n);
  });

  it('no_rate: without the deal’s notional there is no spread line (other rules still pay)', () => {
    const p = plan({ perLot: { default: '5' }, spreadShare: { markupPoints: { default: 10 }, shareBps: 5_000 } });
    const r = accrueDeal(deal({ notional: undefined }), [member('ib_a', 0, p)]);
    expect(amounts(r.lines)).toEqual([['ib_a', 'per_lot', 'USD', 500n]]);
    expect(r.members[0]!.reasons).toEqual([{ code: 'no_rate', detail: "spread_share needs the deal's notional" }]);
    expect(r.members[0]!.qualified).toBe(true);
  });

  it('no markup for the symbol and no other rule: no_rate', () => {
    const r = accrueDeal(deal({ symbol: 'GBPUSD' }), [member('ib_a', 0, spread(5_000, { symbols: { EURUSD: 10 } }))]);
    expect(codes(r.members[0]!)).toEqual(['no_rate']);
  });
});

describe('commission_share: (|close commission| + |open commission| x volume / open volume) x share x qualifying / volume', () => {
  const share = (bps: number) => plan({ commissionShare: { shareBps: bps } });

  it('both sides of a full round trip: 3.50 + 3.50 = 7.00, 50 % = 3.50 USD', () => {
    const r = accrueDeal(deal(), [member('ib_a', 0, share(5_000))]);
    expect(amounts(r.lines)).toEqual([['ib_a', 'commission_share', 'USD', 350n]]);
    expect(r.lines[0]!.inputs).toMatchObject({ charged: '7', commission: '-3.50', openCommission: '-3.50', openVolume: '10000' });
  });

  it('a partial close takes its pro-rata part of the opening commission: 1.75 + 7.00 x 0.5 / 2 = 3.50, 30 % = 1.05', () => {
    const partial = deal({
      volume: 5_000n,
      commission: '-1.75',
      open: { price: '1.10000', timeMsc: T0, volume: 20_000n, commission: '-7.00' },
    });
    const r = accrueDeal(partial, [member('ib_a', 0, share(3_000))]);
    expect(r.lines[0]!.amount).toBe(105n);
    expect(r.lines[0]!.inputs.charged).toBe('3.5');
  });

  it('rounds once on the whole (0.01 + 0.02) x 50 % = 1.5 cents -> 2, not 0 + 1 rounded per part', () => {
    const r = accrueDeal(
      deal({ commission: '-0.01', open: { price: '1.10000', timeMsc: T0, volume: LOT, commission: '-0.02' } }),
      [member('ib_a', 0, share(5_000))],
    );
    expect(r.lines[0]!.amount).toBe(2n);
  });

  it('scales by qualifying / volume; no commission charged gives no line and no reason', () => {
    expect(accrueDeal(deal({ hedgedVolume: 5_000n }), [member('ib_a', 0, share(5_000))]).lines[0]!.amount).toBe(175n);
    const free = accrueDeal(deal({ commission: '0', open: { price: '1.10000', timeMsc: T0, volume: LOT, commission: '0.00' } }), [
      member('ib_a', 0, share(5_000)),
    ]);
    expect(free.lines).toEqual([]);
    expect(free.members[0]!.reasons).toEqual([]);
  });

  it('JPY account: yen, rounded half-even', () => {
    const r = accrueDeal(
      deal({ currency: 'JPY', commission: '-5', open: { price: '1.10000', timeMsc: T0, volume: LOT, commission: '-0' } }),
      [member('ib_a', 0, share(5_000))],
    );
    expect(amounts(r.lines)).toEqual([['ib_a', 'commission_share', 'JPY', 2n]]); // 2.5 -> 2
  });
});

describe('tier k >= 1 earns only override lines from its own plan’s entry for tier k', () => {
  it('perLot: rate x the ancestor’s qualifying lots, in the ancestor plan’s currency', () => {
    const parent = plan({ tierOverrides: [{ tier: 1, perLot: '1.50' }] }, { currency: 'EUR', planId: 'master' });
    const r = accrueDeal(deal({ volume: 3_000n }), [member('ib_a', 0, perLot5), member('ib_b', 1, parent)]);
    expect(amounts(r.lines)).toEqual([
      ['ib_a', 'per_lot', 'USD', 150n],
      ['ib_b', 'override', 'EUR', 45n],
    ]);
    expect(r.lines[1]).toMatchObject({
      rate: '1.50',
      tier: 1,
      planId: 'master',
      inputs: { rateUnit: 'per_lot', overrideTier: '1', lots: '0.30' },
    });
  });

  it('childShareBps: a share of the child’s lines for this deal, one line per currency', () => {
    const child = plan({ perLot: { default: '5' }, commissionShare: { shareBps: 5_000 } }, { currency: 'EUR' });
    const parent = plan({ tierOverrides: [{ tier: 1, childShareBps: 1_000 }] });
    const r = accrueDeal(deal(), [member('ib_a', 0, child), member('ib_b', 1, parent)]);
    expect(amounts(r.lines)).toEqual([
      ['ib_a', 'per_lot', 'EUR', 500n],
      ['ib_a', 'commission_share', 'USD', 350n],
      ['ib_b', 'override', 'EUR', 50n],
      ['ib_b', 'override', 'USD', 35n],
    ]);
    expect(r.lines[3]!.inputs).toMatchObject({ childAmount: '350', childPartnerId: 'ib_a', rateUnit: 'bps' });
  });

  it('a share of the child sums all of the child’s lines in a currency and rounds once, half-even', () => {
    const child = plan({ perLot: { default: '0.05' }, commissionShare: { shareBps: 10_000 } });
    const parent = plan({ tierOverrides: [{ tier: 1, childShareBps: 5_000 }] });
    // child: 5 cents per lot + 0.20 commission: 25 cents; 50 % = 12.5 -> 12
    const r = accrueDeal(
      deal({ commission: '-0.10', open: { price: '1.10000', timeMsc: T0, volume: LOT, commission: '-0.10' } }),
      [member('ib_a', 0, child), member('ib_b', 1, parent)],
    );
    expect(amounts(r.lines)).toEqual([
      ['ib_a', 'per_lot', 'USD', 5n],
      ['ib_a', 'commission_share', 'USD', 20n],
      ['ib_b', 'override', 'USD', 12n],
    ]);
  });

  it('tier 2 takes its share of tier 1’s lines (a cascade), tier 3 its fixed per-lot amount', () => {
    const r = accrueDeal(deal(), [
      member('ib_a', 0, plan({ perLot: { default: '10' } })),
      member('ib_b', 1, plan({ tierOverrides: [{ tier: 1, childShareBps: 2_000 }] })),
      member('ib_c', 2, plan({ tierOverrides: [{ tier: 2, childShareBps: 5_000 }] })),
      member('ib_d', 3, plan({ tierOverrides: [{ tier: 3, perLot: '0.25' }] })),
    ]);
    expect(amounts(r.lines)).toEqual([
      ['ib_a', 'per_lot', 'USD', 1_000n],
      ['ib_b', 'override', 'USD', 200n],
      ['ib_c', 'override', 'USD', 100n],
      ['ib_d', 'override', 'USD', 25n],
    ]);
  });

  it('no entry for the member’s tier gives nothing (and its tier-0 rules never pay an ancestor)', () => {
    const r = accrueDeal(deal(), [
      member('ib_a', 0, perLot5),
      member(
        'ib_b',
        1,
        plan({ perLot: { default: '9' }, commissionShare: { shareBps: 5_000 }, tierOverrides: [{ tier: 2, perLot: '1' }] }),
      ),
    ]);
    expect(amounts(r.lines)).toEqual([['ib_a', 'per_lot', 'USD', 500n]]);
    expect(r.members[1]).toMatchObject({ qualified: true, reasons: [] });
  });

  it('the tier-0 plan’s tier overrides pay nobody at tier 0', () => {
    const r = accrueDeal(deal(), [member('ib_a', 0, plan({ tierOverrides: [{ tier: 1, perLot: '1' }] }))]);
    expect(r.lines).toEqual([]);
    expect(codes(r.members[0]!)).toEqual(['no_rate']);
  });

  it('a share of a child that earned nothing (not qualified, no plan) is nothing', () => {
    const strict = plan({ perLot: { default: '5' } }, { qualification: { minHoldSeconds: 3_600 } });
    const parent = plan({ tierOverrides: [{ tier: 1, childShareBps: 5_000 }] });
    expect(accrueDeal(deal(), [member('ib_a', 0, strict), member('ib_b', 1, parent)]).lines).toEqual([]);
    expect(accrueDeal(deal(), [member('ib_a', 0, null), member('ib_b', 1, parent)]).lines).toEqual([]);
  });

  it('the ancestor’s own hedgedOnce decides its lots', () => {
    const parent = plan({ tierOverrides: [{ tier: 1, perLot: '1' }] }, { qualification: { hedgedOnce: false } });
    const r = accrueDeal(deal({ hedgedVolume: LOT }), [member('ib_a', 0, perLot5), member('ib_b', 1, parent)]);
    expect(amounts(r.lines)).toEqual([['ib_b', 'override', 'USD', 100n]]);
    expect(codes(r.members[0]!)).toEqual(['fully_hedged']);
  });
});

describe('a zero amount gives no line; an unknown currency gives no line and unknown_currency', () => {
  it('unknown plan currency', () => {
    const p = plan({ perLot: { default: '5' }, commissionShare: { shareBps: 5_000 } }, { currency: 'XXX' });
    const r = accrueDeal(deal(), [member('ib_a', 0, p)]);
    expect(amounts(r.lines)).toEqual([['ib_a', 'commission_share', 'USD', 350n]]);
    expect(codes(r.members[0]!)).toEqual(['unknown_currency']);
  });

  it('a rate of 0 pays nothing, without a reason', () => {
    const r = accrueDeal(deal(), [member('ib_a', 0, plan({ perLot: { default: '0' } }))]);
    expect(r.lines).toEqual([]);
    expect(r.members[0]!.reasons).toEqual([]);
  });
});

describe('lots are reported with at least 2 decimals', () => {
  it('formats MT5 volume units', () => {
    expect([formatLots(1_000n), formatLots(1n), formatLots(LOT), formatLots(12_345n), formatLots(0n)]).toEqual([
      '0.10',
      '0.0001',
      '1.00',
      '1.2345',
      '0.00',
    ]);
    expect(accrueDeal(deal({ volume: 1_000n }), []).lots).toBe('0.10');
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties: exact money, determinism

const decimalArb = (maxInt: number, maxDecimals: number) =>
  fc
    .tuple(
      fc.integer({ min: 0, max: maxInt }),
      fc.integer({ min: 0, max: maxDecimals }),
      fc.bigInt({ min: 0n, max: 10n ** 8n - 1n }),
    )
    .map(([i, d, f]) => (d === 0 ? `${i}` : `${i}.${(f % 10n ** BigInt(d)).toString().padStart(d, '0')}`));

/** Exact value of a decimal string as num / den. */
const frac = (s: string): [bigint, bigint] => {
  const [i, f = ''] = s.replace('-', '').split('.');
  return [BigInt(`${i}${f}`), 10n ** BigInt(f.length)];
};

/** |amount - num/den| <= 1/2, and an exact tie is broken to the even neighbour. */
const isHalfEven = (amount: bigint, num: bigint, den: bigint): boolean => {
  const diff = 2n * (amount * den - num);
  const abs = diff < 0n ? -diff : diff;
  if (abs > den) return false;
  if (abs === den) return amount % 2n === 0n;
  return true;
};

describe('money is exact: every line is its exact rational rounded half-even once', () => {
  it('per_lot: rate x qualifying lots', () => {
    fc.assert(
      fc.property(
        decimalArb(99_999, 8),
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        (rate, volume, hedged) => {
          const r = accrueDeal(deal({ volume, hedgedVolume: hedged }), [member('ib_a', 0, plan({ perLot: { default: rate } }))]);
          const q = volume > hedged ? volume - hedged : 0n;
          const [n, d] = frac(rate);
          const amount = r.lines.find((l) => l.rule === 'per_lot')?.amount ?? 0n;
          expect(typeof amount).toBe('bigint');
          expect(r.qualifyingVolume).toBe(q);
          return isHalfEven(amount, n * q * 100n, d * LOT);
        },
      ),
    );
  });

  it('spread_share and commission_share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        decimalArb(100_000, 2),
        decimalArb(100, 2),
        decimalArb(100, 2),
        fc.integer({ min: 1, max: 99_999_999 }),
        (markup, bps, volume, openVolume, notional, commission, openCommission, pricePoints) => {
          const price = `${Math.floor(pricePoints / 100_000)}.${String(pricePoints % 100_000).padStart(5, '0')}`;
          const p = plan({
            spreadShare: { markupPoints: { default: markup }, shareBps: bps },
            commissionShare: { shareBps: bps },
          });
          const r = accrueDeal(
            deal({
              volume,
              price,
              notional,
              commission: `-${commission}`,
              open: { price: '1.00000', timeMsc: T0, volume: openVolume, commission: `-${openCommission}` },
            }),
            [member('ib_a', 0, plan(p.rules, { qualification: { excludeSamePrice: false } }))],
          );
          const spread = r.lines.find((l) => l.rule === 'spread_share')?.amount ?? 0n;
          const comm = r.lines.find((l) => l.rule === 'commission_share')?.amount ?? 0n;
          const [nn, nd] = frac(notional);
          const [pn, pd] = frac(price);
          const [cn, cd] = frac(commission);
          const [on, od] = frac(openCommission);
          // markup x 10^-5 x notional / price x 100 cents x bps / 10^4 (qualifying == volume)
          const spreadOk = isHalfEven(spread, BigInt(markup) * nn * pd * 100n * BigInt(bps), 100_000n * nd * pn * 10_000n);
          // (c + o x volume / openVolume) x 100 x bps / 10^4
          const commOk = isHalfEven(
            comm,
            (cn * od * openVolume + on * cd * volume) * 100n * BigInt(bps),
            cd * od * openVolume * 10_000n,
          );
          return spreadOk && commOk;
        },
      ),
    );
  });

  it('override shares: roundHalfEven(sum of the child’s lines x bps / 10,000) per currency', () => {
    fc.assert(
      fc.property(
        decimalArb(1_000, 8),
        fc.integer({ min: 0, max: 10_000 }),
        fc.bigInt({ min: 1n, max: 10n ** 8n }),
        (rate, bps, volume) => {
          const r = accrueDeal(deal({ volume }), [
            member('ib_a', 0, plan({ perLot: { default: rate } })),
            member('ib_b', 1, plan({ tierOverrides: [{ tier: 1, childShareBps: bps }] })),
          ]);
          const child = r.lines.filter((l) => l.partnerId === 'ib_a').reduce((s, l) => s + l.amount, 0n);
          const parent = r.lines.filter((l) => l.partnerId === 'ib_b').reduce((s, l) => s + l.amount, 0n);
          return isHalfEven(parent, child * BigInt(bps), 10_000n);
        },
      ),
    );
  });

  it('the module never turns money into a float (no parseFloat, toFixed, Math rounding; Number only for calendar dates)', () => {
    const src = readFileSync(new URL('../../domain/partners/accrual.ts', import.meta.url), 'utf8');
    const withoutDates = src.slice(0, src.indexOf('export function payoutDue'));
    expect(withoutDates).not.toMatch(/parseFloat|toFixed|toPrecision|Math\.(round|floor|ceil)|Number\(|Number\.parse/);
  });
});

describe('deterministic: replaying a deal gives the same lines and leaves its inputs untouched', () => {
  it('property', () => {
    const planArb = fc
      .record({
        perLot: fc.option(decimalArb(50, 4), { nil: undefined }),
        spread: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }),
        commission: fc.option(fc.integer({ min: 0, max: 10_000 }), { nil: undefined }),
        override: fc.option(
          fc.oneof(
            decimalArb(5, 2).map((perLot) => ({ perLot })),
            fc.integer({ min: 0, max: 10_000 }).map((childShareBps) => ({ childShareBps })),
          ),
          {
            nil: undefined,
          },
        ),
        minHold: fc.integer({ min: 0, max: 1_200 }),
        minMove: fc.integer({ min: 0, max: 80 }),
        hedgedOnce: fc.boolean(),
      })
      .map((g) => g);
    fc.assert(
      fc.property(
        fc.array(planArb, { minLength: 0, maxLength: 4 }),
        fc.bigInt({ min: 1n, max: 10n ** 6n }),
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        fc.integer({ min: 0, max: 100 }),
        fc.boolean(),
        (gens, volume, hedged, move, withOpen) => {
          const chain = gens.map((g, tier) =>
            member(
              `ib_${tier}`,
              tier,
              plan(
                {
                  ...(g.perLot ? { perLot: { default: g.perLot } } : {}),
                  ...(g.spread !== undefined ? { spreadShare: { markupPoints: { default: g.spread }, shareBps: 5_000 } } : {}),
                  ...(g.commission !== undefined ? { commissionShare: { shareBps: g.commission } } : {}),
                  tierOverrides: g.override ? [{ tier: Math.max(1, tier), ...g.override }] : [],
                },
                { qualification: { minHoldSeconds: g.minHold, minMovePoints: g.minMove, hedgedOnce: g.hedgedOnce } },
              ),
            ),
          );
          const d = deal({
            volume,
            hedgedVolume: hedged,
            price: `1.${String(10_000 + move).padStart(5, '0')}`,
            ...(withOpen ? {} : { open: undefined }),
          });
          const before = structuredClone({ d, chain });
          const a = accrueDeal(d, chain);
          const b = accrueDeal(d, chain);
          expect(b).toEqual(a);
          expect({ d, chain }).toEqual(before);
          for (const l of a.lines) {
            expect(typeof l.amount).toBe('bigint');
            expect(l.amount).not.toBe(0n);
          }
          for (const m of a.members) {
            for (const r of m.reasons) expect(REASON_CODES).toContain(r.code);
            if (!m.qualified) expect(a.lines.filter((l) => l.partnerId === m.partnerId)).toEqual([]);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Hedging

const closeAt = (deal: number, action: 'buy' | 'sell', volume: bigint, timeMsc: number, openTimeMsc?: number): HedgeDeal => ({
  deal,
  action,
  volume,
  timeMsc,
  ...(openTimeMsc !== undefined ? { openTimeMsc } : {}),
});
const hedged = (close: HedgeDeal, others: HedgeDeal[]) => hedgedVolume(close as HedgeDeal & { openTimeMsc: number }, others);

describe('hedgedVolume: a volume is counted on one opposite leg only', () => {
  // a buy position opened at 0 and closed (by a sell) at 100; a sell position opened at 10 and closed (by a buy) at 50
  const long = closeAt(2, 'sell', LOT, 100, 0);
  const short = closeAt(1, 'buy', LOT, 50, 10);

  it('the leg closed first earns; the later one is hedged by it', () => {
    expect(hedged(short, [long])).toBe(0n);
    expect(hedged(long, [short])).toBe(LOT);
  });

  it('only opposite-side closes that closed while the position was open, earlier by (time, deal id)', () => {
    expect(hedged(long, [closeAt(1, 'buy', LOT, 0, -10)])).toBe(0n); // closed at the open instant: (open, close]
    expect(hedged(long, [closeAt(1, 'sell', LOT, 50, 10)])).toBe(0n); // same side
    expect(hedged(long, [closeAt(3, 'buy', LOT, 100, 10)])).toBe(0n); // same time, higher deal id: later
    expect(hedged(long, [closeAt(1, 'buy', LOT, 100, 10)])).toBe(LOT); // same time, lower deal id: earlier
    expect(hedged(long, [closeAt(1, 'buy', LOT, 150, 10)])).toBe(0n); // closed after
    expect(hedged(long, [long])).toBe(0n); // itself
  });

  it('capped at the close’s volume; partial hedges add up', () => {
    expect(hedged(long, [closeAt(1, 'buy', 3n * LOT, 50, 10)])).toBe(LOT);
    expect(hedged(long, [closeAt(1, 'buy', 3_000n, 40, 10), closeAt(3, 'buy', 2_000n, 60, 10)])).toBe(5_000n);
  });

  it('an opposite close already matched is not counted again', () => {
    // one short (buy close at 50) against two longs closing at 60 and 70: the first long is hedged, the second earns
    const x1 = closeAt(5, 'sell', LOT, 60, 0);
    const x2 = closeAt(6, 'sell', LOT, 70, 0);
    expect(hedged(x1, [short, x2])).toBe(LOT);
    expect(hedged(x2, [short, x1])).toBe(0n);
    // a close that was itself hedged has no free volume to hedge with: y is hedged by x2's volume, not x1's
    const y = closeAt(7, 'buy', LOT, 80, 0);
    expect(hedged(y, [short, x1, x2])).toBe(LOT);
    expect(hedged(y, [short, x1])).toBe(0n);
  });

  it('a close without its open time is taken as unhedged: all its volume can hedge', () => {
    const unknown = closeAt(1, 'buy', LOT, 50);
    const earlier = closeAt(0, 'sell', LOT, 20, 0);
    expect(hedged(long, [earlier, unknown])).toBe(LOT);
  });

  const history = fc
    .array(
      fc.record({
        action: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
        volume: fc.bigInt({ min: 1n, max: 50_000n }),
        open: fc.integer({ min: 0, max: 100 }),
        hold: fc.integer({ min: 0, max: 100 }),
      }),
      { maxLength: 12 },
    )
    .map((xs) => xs.map((x, i) => closeAt(i + 1, x.action, x.volume, x.open + x.hold, x.open)));

  it('property: the hedged volume of one side never exceeds the unhedged volume of the other', () => {
    fc.assert(
      fc.property(history, (closes) => {
        const h = closes.map((c) => hedged(c, closes));
        let buyHedged = 0n;
        let sellHedged = 0n;
        let buyFree = 0n;
        let sellFree = 0n;
        closes.forEach((c, i) => {
          const v = h[i]!;
          expect(v >= 0n && v <= c.volume).toBe(true);
          if (c.action === 'buy') {
            buyHedged += v;
            buyFree += c.volume - v;
          } else {
            sellHedged += v;
            sellFree += c.volume - v;
          }
        });
        return buyHedged <= sellFree && sellHedged <= buyFree;
      }),
    );
  });

  it('property: later closes do not change an earlier close’s hedge (a replay with more history agrees)', () => {
    fc.assert(
      fc.property(history, (closes) =>
        closes.every((c) => {
          const earlier = closes.filter((o) => o.timeMsc < c.timeMsc || (o.timeMsc === c.timeMsc && o.deal < c.deal));
          return hedged(c, closes) === hedged(c, earlier);
        }),
      ),
    );
  });

  it('property: two overlapping opposite positions are hedged by exactly the smaller volume, on the later close', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 6n }), fc.bigInt({ min: 1n, max: 10n ** 6n }), (a, b) => {
        const first = closeAt(1, 'buy', a, 50, 10);
        const second = closeAt(2, 'sell', b, 100, 0);
        let smaller = a;
        if (b < a) smaller = b;
        return hedged(first, [second]) === 0n && hedged(second, [first]) === smaller;
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Adjustments

const draft = (partnerId: string, rule: LineDraft['rule'], amount: bigint, currency = 'USD', tier = 0): LineDraft => ({
  partnerId,
  tier,
  rule,
  amount,
  currency,
  rate: '5',
  inputs: { lots: '1.00' },
  planId: 'std',
  planVersion: 2,
});
const stored = (partnerId: string, rule: string, amount: bigint, currency = 'USD', tier = 0): StoredLine => ({
  partnerId,
  rule,
  amount,
  currency,
  tier,
  planId: 'std',
  planVersion: 1,
});

describe('adjustmentsFor: stored + adjustments sums to expected per (partnerId, rule, currency)', () => {
  it('equal sums give nothing', () => {
    expect(adjustmentsFor([draft('ib_a', 'per_lot', 500n)], [stored('ib_a', 'per_lot', 500n)])).toEqual([]);
    // also when the stored sum is an original and an earlier adjustment
    expect(
      adjustmentsFor([draft('ib_a', 'per_lot', 500n)], [stored('ib_a', 'per_lot', 400n), stored('ib_a', 'per_lot', 100n)]),
    ).toEqual([]);
  });

  it('a changed amount gives one line for the difference, priced as the expected line and explained', () => {
    const [adj, ...rest] = adjustmentsFor([draft('ib_a', 'per_lot', 600n)], [stored('ib_a', 'per_lot', 500n)]);
    expect(rest).toEqual([]);
    expect(adj).toEqual({
      ...draft('ib_a', 'per_lot', 100n),
      inputs: { lots: '1.00', expectedAmount: '600', storedAmount: '500' },
    });
  });

  it('a line that should no longer exist is reversed (partner moved, no longer qualified)', () => {
    const out = adjustmentsFor(
      [draft('ib_b', 'per_lot', 500n)],
      [stored('ib_a', 'per_lot', 500n), stored('ib_a', 'override', 50n, 'USD', 1)],
    );
    expect(amounts(out)).toEqual([
      ['ib_b', 'per_lot', 'USD', 500n],
      ['ib_a', 'per_lot', 'USD', -500n],
      ['ib_a', 'override', 'USD', -50n],
    ]);
    expect(out[2]).toMatchObject({ tier: 1, planId: 'std', planVersion: 1, inputs: { expectedAmount: '0', storedAmount: '50' } });
  });

  it('currencies are separate keys; clawback lines are not the source’s accruals and are ignored', () => {
    const out = adjustmentsFor(
      [draft('ib_a', 'per_lot', 500n, 'EUR')],
      [stored('ib_a', 'per_lot', 500n, 'USD'), stored('ib_a', 'clawback', -500n, 'USD')],
    );
    expect(amounts(out)).toEqual([
      ['ib_a', 'per_lot', 'EUR', 500n],
      ['ib_a', 'per_lot', 'USD', -500n],
    ]);
  });

  it('property: for every key, stored + adjustments == expected, with at most one non-zero adjustment per key', () => {
    const partner = fc.constantFrom('ib_a', 'ib_b');
    const rule = fc.constantFrom<LineDraft['rule']>('per_lot', 'commission_share', 'override');
    const cur = fc.constantFrom('USD', 'EUR');
    const amt = fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(partner, rule, amt, cur), { maxLength: 10 }),
        fc.array(fc.tuple(partner, rule, amt, cur), { maxLength: 10 }),
        (e, s) => {
          const expected = e.map(([p, r, a, c]) => draft(p, r, a, c));
          const have = s.map(([p, r, a, c]) => stored(p, r, a, c));
          const adj = adjustmentsFor(expected, have);
          const sum = (xs: readonly { partnerId: string; rule: string; currency: string; amount: bigint }[]) => {
            const m = new Map<string, bigint>();
            for (const x of xs) {
              const k = `${x.partnerId}|${x.rule}|${x.currency}`;
              m.set(k, (m.get(k) ?? 0n) + x.amount);
            }
            return m;
          };
          const want = sum(expected);
          const got = sum([...have, ...adj]);
          const keys = new Set([...want.keys(), ...got.keys()]);
          for (const k of keys) expect(got.get(k) ?? 0n).toBe(want.get(k) ?? 0n);
          expect(new Set(adj.map((a) => `${a.partnerId}|${a.rule}|${a.currency}`)).size).toBe(adj.length);
          for (const a of adj) expect(a.amount).not.toBe(0n);
          // idempotent: once written, nothing more is due
          expect(adjustmentsFor(expected, [...have, ...adj.map((a) => ({ ...a }))])).toEqual([]);
        },
      ),
    );
  });
});

describe('stored prices in points become DealInput decimal strings with the symbol’s digits', () => {
  it('pointsToPrice', () => {
    expect(pointsToPrice('110050', 5)).toBe('1.10050');
    expect(pointsToPrice('15012', 3)).toBe('15.012');
    expect(pointsToPrice('7', 5)).toBe('0.00007');
    expect(pointsToPrice('15012', 0)).toBe('15012');
    expect(() => pointsToPrice('-1', 2)).toThrow(RangeError);
    expect(() => pointsToPrice('1.5', 2)).toThrow(RangeError);
  });
});
