/**
 * Commission accrual of closed deals against a real table on DynamoDB Local (issue 16 part 3;
 * functions/app/partners/accrue.ts, chain.ts). The network, the plans, the referred client and its deals are written
 * by test/support/partners.ts (deals exactly as ingestion stores them, on the account and position indexes), so
 * every amount is known to the minor unit.
 *
 * What it proves, by accrue.ts's invariants:
 * - the first evaluation writes one line per (deal, partner, rule): tier 0's per_lot, spread_share and
 *   commission_share, tier 1's per-lot override and tier 2's share of tier 1's, each with its rate, inputs and plan
 *   version; the deal's result; the referral's volume and first trade (the link's `trading` counter once); an audit
 *   entry and one `partner.commission.accrued`, all in one transaction
 * - a deal that does not qualify (a scalp under minHoldSeconds) earns nothing and its result says why, per member
 * - exactly once: a redelivered deal and five concurrent evaluations write one set of lines and add the volume once
 * - a crash before the commit, or after it (the response lost), then a retry, leaves what a clean run leaves
 * - a later evaluation never edits a line: a retroactive move or a retroactive plan assignment gives adjustment lines
 *   with the next seq, the sums per (partner, rule, currency) equal the new expected, and a third evaluation writes
 *   nothing
 * - hedged volume: a buy and an opposite sell open together on the same symbol and account: the second close earns
 *   only on its unhedged part
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AccrueResult, accrueDealCommissions } from '#app/partners/accrue.ts';
import { parseEvent } from '#domain/events/index.ts';
import { ddb } from '#shared/clients.ts';
import { partnerKeys } from '#store/keys.ts';
import { pendingOutboxItems } from '#store/outbox.ts';
import { getLink, getReferral } from '#store/partners.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import {
  assignmentItems,
  attributionItems,
  DAY_MS,
  iso,
  LOT,
  linesOf,
  putItems,
  type ReferredClient,
  rawReferral,
  seedPlan,
  seedReferredClient,
  seedTrade,
  seedTree,
  sums,
  type TradeSpec,
  type TreeFixture,
} from '../support/partners.ts';

const ctx = { requestId: 'test', locale: 'en' };
const accrue = (dealKey: string): Promise<AccrueResult> => accrueDealCommissions(dealKey, ctx);

beforeAll(async () => {
  await useHandlerEnv('pacc');
});

afterEach(() => {
  vi.restoreAllMocks();
});

const NOW = Date.now();
/** Registration 20 days ago, deals 10 days ago. */
const REGISTERED = iso(NOW - 20 * DAY_MS);
const T0 = NOW - 10 * DAY_MS;

/** 0.37 lots of EURUSD bought at 1.10000 and sold at 1.10050 ten minutes later; commission 1.29 + 1.30. */
const TRADE: TradeSpec = {
  volume: 3_700n,
  openPrice: 110_000n,
  closePrice: 110_050n,
  openAt: T0,
  closeAt: T0 + 600_000,
  openCommission: -129n,
  closeCommission: -130n,
};

/** A 3-tier network on the standard plan (assigned to the top) and a client of its tier 0 with an account. */
async function network(qualification: unknown = {}): Promise<{ tree: TreeFixture; client: ReferredClient; planId: string }> {
  const plan = await seedPlan({ qualification });
  const tree = await seedTree({ tiers: 3, planId: plan.planId });
  const client = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED });
  return { tree, client, planId: plan.planId };
}

/** The pending outbox events of a type whose detail matches `where`. */
async function outboxEvents(detailType: string, where: (d: Record<string, unknown>) => boolean) {
  const out: Record<string, unknown>[] = [];
  for await (const page of pendingOutboxItems(new Date(Date.now() + 60_000))) {
    for (const item of page) if (item.detailType === detailType && where(item.detail)) out.push(item.detail);
  }
  return out;
}
const accruedEvents = (sourceKey: string) => outboxEvents('partner.commission.accrued', (d) => d.sourceKey === sourceKey);

/**
 * Makes the next transaction (the commit) fail once: 'before' it is sent (nothing written), or 'after' it committed
 * (the response lost). Reads pass through.
 */
function failOnce(when: 'before' | 'after') {
  const client = ddb();
  const send = client.send.bind(client);
  const spy = vi.spyOn(client, 'send').mockImplementation((async (command: object) => {
    if (command.constructor.name !== 'TransactWriteCommand') return send(command as never);
    spy.mockRestore();
    if (when === 'after') await send(command as never);
    throw new Error(`injected: the process died ${when} the commit`);
  }) as never);
}

/** What a line is, without the bookkeeping (times, envelope). */
const shape = (l: {
  lineId: string;
  kind: string;
  seq: number;
  partnerId: string;
  tier: number;
  rule: string;
  amount: string;
}) => [l.partnerId, l.tier, l.rule, l.kind, l.seq, l.amount];

describe('the first evaluation of a closed deal', () => {
  it('writes a line per (partner, rule) for tiers 0, 1 and 2 with rate, inputs and plan version, the result, the referral, the audit and the event', async () => {
    const { tree, client, planId } = await network();
    const [t0, t1, t2] = tree.ids as [string, string, string];
    const trade = await seedTrade(client, TRADE);

    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'accrued', lines: 5 });

    const { lines, result } = await linesOf(trade.dealKey);
    // tier 0: 7.00 x 0.37 = 2.59; 10 points x 0.00001 x 40,718.50 / 1.10050 = 3.70, x 50 % = 1.85;
    // 20 % of (1.30 + 1.29) = 0.518 -> 0.52 (half-even); tier 1: 2.00 x 0.37 = 0.74; tier 2: 10 % of 0.74 -> 0.07
    const expected = [
      [t0, 0, 'per_lot', 'accrual', 0, '259'],
      [t0, 0, 'spread_share', 'accrual', 0, '185'],
      [t0, 0, 'commission_share', 'accrual', 0, '52'],
      [t1, 1, 'override', 'accrual', 0, '74'],
      [t2, 2, 'override', 'accrual', 0, '7'],
    ];
    expect(lines.map(shape)).toEqual(expect.arrayContaining(expected));
    expect(lines).toHaveLength(5);
    for (const l of lines) {
      expect(l).toMatchObject({
        lineId: `${trade.dealKey}/${l.partnerId}/${l.rule}/0`,
        sourceKey: trade.dealKey,
        currency: 'USD',
        planId,
        planVersion: 1,
        clientId: client.clientId,
        accountId: client.accountId,
        dealTimeMsc: TRADE.closeAt,
      });
      expect(l.pk).toBe(partnerKeys.line(trade.dealKey, l.partnerId, l.rule, 0).pk);
      expect(l.gsi1pk).toBe(partnerKeys.partnerLinesPartition(l.partnerId));
      expect(l.gsi2pk).toBe(partnerKeys.clientLinesPartition(client.clientId));
    }
    const byRule = (partnerId: string, rule: string) => lines.find((l) => l.partnerId === partnerId && l.rule === rule)!;
    const base = {
      symbol: 'EURUSD',
      volume: '3700',
      dealLots: '0.37',
      qualifyingVolume: '3700',
      lots: '0.37',
      hedgedVolume: '0',
      price: '1.10050',
      openPrice: '1.10000',
      pointDigits: '5',
      movePoints: '50',
      holdSeconds: '600',
    };
    expect(byRule(t0, 'per_lot')).toMatchObject({
      rate: '7.00',
      inputs: { ...base, rateUnit: 'per_lot', rateSource: 'symbol' },
    });
    expect(byRule(t0, 'spread_share')).toMatchObject({
      rate: '5000',
      inputs: { ...base, rateUnit: 'bps', markupPoints: '10', markupSource: 'default', notional: '40718.50', markupValue: '3.7' },
    });
    expect(byRule(t0, 'commission_share')).toMatchObject({
      rate: '2000',
      inputs: { ...base, rateUnit: 'bps', commission: '-1.30', openCommission: '-1.29', openVolume: '3700', charged: '2.59' },
    });
    expect(byRule(t1, 'override')).toMatchObject({ rate: '2.00', inputs: { ...base, rateUnit: 'per_lot', overrideTier: '1' } });
    expect(byRule(t2, 'override')).toMatchObject({
      rate: '1000',
      inputs: { ...base, rateUnit: 'bps', overrideTier: '2', childPartnerId: t1, childAmount: '74' },
    });

    expect(result).toMatchObject({
      sourceKey: trade.dealKey,
      clientId: client.clientId,
      accountId: client.accountId,
      dealTimeMsc: TRADE.closeAt,
      symbol: 'EURUSD',
      lots: '0.37',
      volume: '3700',
      qualifyingVolume: '3700',
      hedgedVolume: '0',
      reasons: [],
      lines: 5,
      chain: [
        { partnerId: t0, tier: 0, planId, planVersion: 1, qualified: true, reasons: [] },
        { partnerId: t1, tier: 1, planId, planVersion: 1, qualified: true, reasons: [] },
        { partnerId: t2, tier: 2, planId, planVersion: 1, qualified: true, reasons: [] },
      ],
    });

    // the referral: volume, first and last trade (no CPA in the plan: nothing in the CPA window); the link's counter
    expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({
      volume: '3700',
      windowVolume: '0',
      firstTradeAt: iso(TRADE.closeAt),
      lastTradeAt: iso(TRADE.closeAt),
      cpaPaid: false,
    });
    expect((await getLink(client.code!, { consistent: true }))!.trading).toBe(1);

    // one event listing every line, in the catalogue's shape
    const events = await accruedEvents(trade.dealKey);
    expect(events).toHaveLength(1);
    const event = parseEvent('partner.commission.accrued', events[0]);
    expect(event).toMatchObject({ sourceKey: trade.dealKey, clientId: client.clientId, kind: 'deal' });
    expect(event.lines.map((l) => [l.partnerId, l.tier, l.rule, l.amount, l.currency]).sort()).toEqual(
      [
        [t0, 0, 'per_lot', '2.59', 'USD'],
        [t0, 0, 'spread_share', '1.85', 'USD'],
        [t0, 0, 'commission_share', '0.52', 'USD'],
        [t1, 1, 'override', '0.74', 'USD'],
        [t2, 2, 'override', '0.07', 'USD'],
      ].sort(),
    );
    expect(event.lines.map((l) => l.lineId).sort()).toEqual(lines.map((l) => l.lineId).sort());

    // one audit entry naming the lines
    const trail = await auditTrail('partner-accrual', trade.dealKey);
    expect(trail).toHaveLength(1);
    expect(trail[0]).toMatchObject({
      seq: 1,
      action: 'partner.commission.accrued',
      actor: { id: 'system:partner-accruals', role: 'system' },
      clientId: client.clientId,
      before: null,
    });
    expect((trail[0].after.lines as { lineId: string; amount: string }[]).map((l) => [l.lineId, l.amount]).sort()).toEqual(
      lines.map((l) => [l.lineId, l.amount]).sort(),
    );
  });

  it('a second deal adds its volume and moves lastTradeAt; the first trade and the link counter stay', async () => {
    const { client } = await network();
    const first = await seedTrade(client, TRADE);
    const second = await seedTrade(client, { ...TRADE, openAt: T0 + DAY_MS, closeAt: T0 + DAY_MS + 60_000 });
    await accrue(first.dealKey);
    await accrue(second.dealKey);
    expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({
      volume: '7400',
      firstTradeAt: iso(TRADE.closeAt),
      lastTradeAt: iso(T0 + DAY_MS + 60_000),
    });
    expect((await getLink(client.code!, { consistent: true }))!.trading).toBe(1);
  });

  it('not a close, not ours, no partner: nothing is written', async () => {
    const { client } = await network();
    const trade = await seedTrade(client, TRADE);
    const openKey = `mt5#${client.server}#${trade.open!.deal}`;
    expect(await accrue(openKey)).toEqual({ outcome: 'not_a_close', lines: 0 });
    expect(await linesOf(openKey)).toEqual({ lines: [], result: undefined });

    // a client attributed to no partner (a move to none before the deal)
    const orphan = await network();
    await putItems(attributionItems({ clientId: orphan.client.clientId, partnerId: null, from: iso(T0 - DAY_MS) }));
    const t = await seedTrade(orphan.client, TRADE);
    expect(await accrue(t.dealKey)).toEqual({ outcome: 'no_partner', lines: 0 });
    expect(await linesOf(t.dealKey)).toEqual({ lines: [], result: undefined });

    await expect(accrue('mt5#test-ib#999999999999')).rejects.toThrow(/not stored/);
  });
});

describe('qualification', () => {
  it('a scalp held under minHoldSeconds earns nothing; the result gives held_too_short for every member', async () => {
    const { tree, client } = await network({ minHoldSeconds: 120 });
    const trade = await seedTrade(client, { ...TRADE, closeAt: T0 + 42_000 });

    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'accrued', lines: 0 });
    const { lines, result } = await linesOf(trade.dealKey);
    expect(lines).toEqual([]);
    const reason = { code: 'held_too_short', detail: 'held 42 s, minimum 120 s' };
    expect(result).toMatchObject({
      lines: 0,
      qualifyingVolume: '3700',
      chain: tree.ids.map((partnerId, tier) => ({ partnerId, tier, qualified: false, reasons: [reason] })),
    });
    // no lines: no event; the evaluation is audited all the same (why it earned nothing)
    expect(await accruedEvents(trade.dealKey)).toEqual([]);
    expect(await auditTrail('partner-accrual', trade.dealKey)).toHaveLength(1);
    // the deal is the client's volume, but earned nothing
    expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({ volume: '3700' });
    // evaluating it again changes nothing
    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'unchanged', lines: 0 });
  });

  it('a position whose opening deal is not stored earns nothing, with no_opening_deal', async () => {
    const { client } = await network();
    const trade = await seedTrade(client, { ...TRADE, withoutOpen: true });
    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'accrued', lines: 0 });
    const { result } = await linesOf(trade.dealKey);
    expect(result!.reasons.map((r) => r.code)).toEqual(['no_opening_deal']);
    expect(result!.chain.every((m) => m.reasons[0]!.code === 'no_opening_deal' && !m.qualified)).toBe(true);
  });
});

describe('exactly once', () => {
  it('a redelivered deal writes nothing the second time: one set of lines, the volume added once', async () => {
    const { client } = await network();
    const trade = await seedTrade(client, TRADE);
    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'accrued', lines: 5 });
    const before = await linesOf(trade.dealKey);
    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'unchanged', lines: 0 });
    expect(await linesOf(trade.dealKey)).toEqual(before);
    expect(await rawReferral(client.clientId)).toMatchObject({ volume: 3700 });
    expect(await accruedEvents(trade.dealKey)).toHaveLength(1);
    expect(await auditTrail('partner-accrual', trade.dealKey)).toHaveLength(1);
  });

  it('five concurrent evaluations of one deal: one accrues, the others find it done; one set of lines, volume once', async () => {
    const { client } = await network();
    const trade = await seedTrade(client, TRADE);
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => accrue(trade.dealKey)));
    expect(outcomes.filter((o) => o.outcome === 'accrued')).toEqual([{ outcome: 'accrued', lines: 5 }]);
    expect(outcomes.filter((o) => o.outcome !== 'accrued')).toEqual(Array(4).fill({ outcome: 'unchanged', lines: 0 }));
    const { lines, result } = await linesOf(trade.dealKey);
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => l.seq === 0 && l.kind === 'accrual')).toBe(true);
    expect(result!.lines).toBe(5);
    expect(await rawReferral(client.clientId)).toMatchObject({ volume: 3700 });
    expect((await getLink(client.code!, { consistent: true }))!.trading).toBe(1);
    expect(await accruedEvents(trade.dealKey)).toHaveLength(1);
    expect(await auditTrail('partner-accrual', trade.dealKey)).toHaveLength(1);
  });

  it('a crash at the commit (nothing written), then the retry: the same lines as a clean run', async () => {
    const clean = await network();
    const cleanTrade = await seedTrade(clean.client, TRADE);
    await accrue(cleanTrade.dealKey);
    const expected = sums(
      (await linesOf(cleanTrade.dealKey)).lines.map((l) => ({ ...l, partnerId: tierOf(clean.tree, l.partnerId) })),
    );

    const { tree, client } = await network();
    const trade = await seedTrade(client, TRADE);
    failOnce('before');
    await expect(accrue(trade.dealKey)).rejects.toThrow(/injected/);
    expect(await linesOf(trade.dealKey)).toEqual({ lines: [], result: undefined });
    expect(await rawReferral(client.clientId)).toMatchObject({ volume: 0 });

    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'accrued', lines: 5 });
    const { lines } = await linesOf(trade.dealKey);
    expect(sums(lines.map((l) => ({ ...l, partnerId: tierOf(tree, l.partnerId) })))).toEqual(expected);
    expect(await rawReferral(client.clientId)).toMatchObject({ volume: 3700 });
    expect(await accruedEvents(trade.dealKey)).toHaveLength(1);
  });

  it('a crash after the commit (the response lost), then the redelivery: nothing more is written', async () => {
    const { client } = await network();
    const trade = await seedTrade(client, TRADE);
    failOnce('after');
    await expect(accrue(trade.dealKey)).rejects.toThrow(/injected/);
    const after = await linesOf(trade.dealKey);
    expect(after.lines).toHaveLength(5);

    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'unchanged', lines: 0 });
    expect(await linesOf(trade.dealKey)).toEqual(after);
    expect(await rawReferral(client.clientId)).toMatchObject({ volume: 3700 });
    expect(await accruedEvents(trade.dealKey)).toHaveLength(1);
  });
});

/** A partner id as its tier in the tree (to compare two trees' lines). */
const tierOf = (tree: TreeFixture, partnerId: string) => `tier${tree.ids.indexOf(partnerId)}`;

describe('re-evaluation: adjustments, never edits', () => {
  it('a retroactive move of the client to another network: the old lines reversed and the new ones written as adjustments with the next seq', async () => {
    const { tree, client } = await network();
    const trade = await seedTrade(client, TRADE);
    await accrue(trade.dealKey);
    const original = (await linesOf(trade.dealKey)).lines;

    // another network on a per-lot-only plan: 10.00 per lot, tier 1 3.00 per lot
    const other = await seedPlan({ rules: { perLot: { default: '10.00' }, tierOverrides: [{ tier: 1, perLot: '3.00' }] } });
    const target = await seedTree({ tiers: 2, planId: other.planId });
    // moved from before the deal (retroactive)
    await putItems(
      attributionItems({
        clientId: client.clientId,
        partnerId: target.leaf.partnerId,
        from: iso(T0 - DAY_MS),
        retroactive: true,
      }),
    );

    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'adjusted', lines: 7 });
    const { lines, result } = await linesOf(trade.dealKey);
    // the original lines are untouched
    for (const o of original) expect(lines.find((l) => l.lineId === o.lineId)).toEqual(o);
    const adjustments = lines.filter((l) => l.kind === 'adjustment');
    const [t0, t1, t2] = tree.ids as [string, string, string];
    const [n0, n1] = target.ids as [string, string];
    expect(adjustments.map(shape)).toEqual(
      expect.arrayContaining([
        // the old network's lines reversed, each under the next seq of its (partner, rule)
        [t0, 0, 'per_lot', 'adjustment', 1, '-259'],
        [t0, 0, 'spread_share', 'adjustment', 1, '-185'],
        [t0, 0, 'commission_share', 'adjustment', 1, '-52'],
        [t1, 1, 'override', 'adjustment', 1, '-74'],
        [t2, 2, 'override', 'adjustment', 1, '-7'],
        // the new network's: 10.00 x 0.37 = 3.70; 3.00 x 0.37 = 1.11
        [n0, 0, 'per_lot', 'adjustment', 0, '370'],
        [n1, 1, 'override', 'adjustment', 0, '111'],
      ]),
    );
    expect(adjustments).toHaveLength(7);
    expect(adjustments.find((l) => l.partnerId === n0)).toMatchObject({
      planId: other.planId,
      planVersion: 1,
      rate: '10.00',
      inputs: { expectedAmount: '370', storedAmount: '0' },
    });
    expect(adjustments.find((l) => l.partnerId === t0 && l.rule === 'per_lot')!.inputs).toMatchObject({
      expectedAmount: '0',
      storedAmount: '259',
    });
    // the sums are what the new network earns, nothing left to the old
    expect(sums(lines)).toEqual({
      [`${t0}#per_lot#USD`]: 0n,
      [`${t0}#spread_share#USD`]: 0n,
      [`${t0}#commission_share#USD`]: 0n,
      [`${t1}#override#USD`]: 0n,
      [`${t2}#override#USD`]: 0n,
      [`${n0}#per_lot#USD`]: 370n,
      [`${n1}#override#USD`]: 111n,
    });
    expect(result).toMatchObject({
      lines: 12,
      chain: [
        { partnerId: n0, tier: 0, planId: other.planId, qualified: true },
        { partnerId: n1, tier: 1, planId: other.planId, qualified: true },
      ],
    });
    // the volume was counted by the first evaluation only
    expect(await rawReferral(client.clientId)).toMatchObject({ volume: 3700 });
    // announced and audited as an adjustment
    const events = await accruedEvents(trade.dealKey);
    expect(events.map((e) => e.kind).sort()).toEqual(['adjustment', 'deal']);
    const adjusted = parseEvent(
      'partner.commission.accrued',
      events.find((e) => e.kind === 'adjustment'),
    );
    expect(adjusted.lines.map((l) => [l.partnerId, l.rule, l.amount]).sort()).toEqual(
      [
        [t0, 'per_lot', '-2.59'],
        [t0, 'spread_share', '-1.85'],
        [t0, 'commission_share', '-0.52'],
        [t1, 'override', '-0.74'],
        [t2, 'override', '-0.07'],
        [n0, 'per_lot', '3.70'],
        [n1, 'override', '1.11'],
      ].sort(),
    );
    const trail = await auditTrail('partner-accrual', trade.dealKey);
    expect(trail.map((a) => [a.seq, a.action])).toEqual([
      [1, 'partner.commission.accrued'],
      [2, 'partner.commission.adjusted'],
    ]);
    expect(trail[1].before).toEqual({ lines: 5 });

    // evaluated again: equal sums, nothing written
    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'unchanged', lines: 0 });
    expect((await linesOf(trade.dealKey)).lines).toHaveLength(12);
  });

  it('a retroactive detach (to no partner from before the deal): what was accrued is reversed by adjustments', async () => {
    const { tree, client } = await network();
    const trade = await seedTrade(client, TRADE);
    await accrue(trade.dealKey);
    await putItems(attributionItems({ clientId: client.clientId, partnerId: null, from: iso(T0 - DAY_MS), retroactive: true }));

    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'adjusted', lines: 5 });
    const { lines, result } = await linesOf(trade.dealKey);
    const [t0, t1, t2] = tree.ids as [string, string, string];
    expect(lines.filter((l) => l.kind === 'adjustment').map(shape)).toEqual(
      expect.arrayContaining([
        [t0, 0, 'per_lot', 'adjustment', 1, '-259'],
        [t0, 0, 'spread_share', 'adjustment', 1, '-185'],
        [t0, 0, 'commission_share', 'adjustment', 1, '-52'],
        [t1, 1, 'override', 'adjustment', 1, '-74'],
        [t2, 2, 'override', 'adjustment', 1, '-7'],
      ]),
    );
    expect(Object.values(sums(lines)).every((v) => v === 0n)).toBe(true);
    expect(result).toMatchObject({ lines: 10, chain: [] });
    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'no_partner', lines: 0 });
    expect((await linesOf(trade.dealKey)).lines).toHaveLength(10);
  });

  it('a new plan assignment from before the deal re-prices it: only the difference, as an adjustment line', async () => {
    const { tree, client } = await network();
    const trade = await seedTrade(client, TRADE);
    const deal2 = await seedTrade(client, { ...TRADE, openAt: T0 - 3 * DAY_MS, closeAt: T0 - 3 * DAY_MS + 600_000 });
    await accrue(trade.dealKey);
    await accrue(deal2.dealKey);
    const [t0] = tree.ids as [string];

    // tier 0 gets its own rate for EURUSD from a day before the first deal only (deal2 is earlier: not re-priced)
    await putItems(
      assignmentItems({ partnerId: t0, from: iso(T0 - DAY_MS), overrides: { perLot: { symbols: { EURUSD: '9.00' } } } }),
    );
    expect(await accrue(deal2.dealKey)).toEqual({ outcome: 'unchanged', lines: 0 });
    expect(await accrue(trade.dealKey)).toEqual({ outcome: 'adjusted', lines: 1 });

    const { lines } = await linesOf(trade.dealKey);
    const adj = lines.filter((l) => l.kind === 'adjustment');
    // 9.00 x 0.37 = 3.33, stored 2.59: +0.74 under seq 1
    expect(adj.map(shape)).toEqual([[t0, 0, 'per_lot', 'adjustment', 1, '74']]);
    expect(adj[0]).toMatchObject({
      lineId: `${trade.dealKey}/${t0}/per_lot/1`,
      rate: '9.00',
      inputs: { expectedAmount: '333', storedAmount: '259', rateSource: 'symbol' },
    });
    expect(sums(lines)[`${t0}#per_lot#USD`]).toBe(333n);
    expect(lines.filter((l) => l.kind === 'accrual')).toHaveLength(5);

    // a retroactive new version of the network's plan then changes the overrides too (tier 1: 2.50 per lot)
    const plan = (await linesOf(trade.dealKey)).lines[0]!.planId;
    await seedPlan({
      planId: plan,
      version: 2,
      effectiveFrom: iso(T0 - DAY_MS),
      rules: { perLot: { default: '5.00', symbols: { EURUSD: '7.00' } }, tierOverrides: [{ tier: 1, perLot: '2.50' }] },
    });
    expect(await accrue(trade.dealKey)).toMatchObject({ outcome: 'adjusted' });
    const after = await linesOf(trade.dealKey);
    const [, t1, t2] = tree.ids as [string, string, string];
    // v2 has no share rules and no tier-2 override: those are brought to zero; per lot stays 9.00 (the override)
    expect(sums(after.lines)).toEqual({
      [`${t0}#per_lot#USD`]: 333n,
      [`${t0}#spread_share#USD`]: 0n,
      [`${t0}#commission_share#USD`]: 0n,
      [`${t1}#override#USD`]: 92n, // 2.50 x 0.37 = 0.925 -> 0.92 (half-even)
      [`${t2}#override#USD`]: 0n,
    });
    expect(after.lines.find((l) => l.partnerId === t1 && l.seq === 1)).toMatchObject({ planVersion: 2, amount: '18' });
    expect(after.result!.chain.map((m) => m.planVersion)).toEqual([2, 2, 2]);
  });
});

describe('hedged volume is counted once', () => {
  it('a buy and an opposite sell open together: the second close earns only on its unhedged part', async () => {
    const plan = await seedPlan({ rules: { perLot: { default: '7.00' } } });
    const tree = await seedTree({ tiers: 1, planId: plan.planId });
    const client = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED });
    const [t0] = tree.ids as [string];
    const at = T0 + 5 * DAY_MS;
    // buy 1 lot at t, sell 0.4 lots at t+1 min, the sell closed at t+5 min, the buy at t+10 min
    const sell = await seedTrade(client, {
      side: 'sell',
      volume: 4_000n,
      openPrice: 110_020n,
      closePrice: 109_990n,
      openAt: at + 60_000,
      closeAt: at + 300_000,
    });
    const buy = await seedTrade(client, {
      side: 'buy',
      volume: LOT,
      openPrice: 110_000n,
      closePrice: 110_050n,
      openAt: at,
      closeAt: at + 600_000,
    });
    // a later position of the same account after both: not hedged
    const later = await seedTrade(client, { ...TRADE, openAt: at + 900_000, closeAt: at + 1_200_000, volume: LOT });

    await accrue(sell.dealKey);
    await accrue(buy.dealKey);
    await accrue(later.dealKey);

    const first = await linesOf(sell.dealKey);
    expect(first.lines.map(shape)).toEqual([[t0, 0, 'per_lot', 'accrual', 0, '280']]); // 7.00 x 0.4
    expect(first.result).toMatchObject({ hedgedVolume: '0', qualifyingVolume: '4000' });

    const second = await linesOf(buy.dealKey);
    // 0.4 of its 1 lot was hedged by the sell: 7.00 x 0.6 = 4.20
    expect(second.lines.map(shape)).toEqual([[t0, 0, 'per_lot', 'accrual', 0, '420']]);
    expect(second.lines[0]!.inputs).toMatchObject({
      volume: '10000',
      hedgedVolume: '4000',
      qualifyingVolume: '6000',
      lots: '0.60',
    });
    expect(second.result).toMatchObject({ lots: '1.00', hedgedVolume: '4000', qualifyingVolume: '6000' });

    expect((await linesOf(later.dealKey)).lines.map(shape)).toEqual([[t0, 0, 'per_lot', 'accrual', 0, '700']]);
    // the referral's volume counts every deal in full
    expect(await rawReferral(client.clientId)).toMatchObject({ volume: 24_000 });
  });

  it('a volume already counted on an earlier leg does not hedge again (the match starts before the close’s own open)', async () => {
    // sell X 1 lot open a..a+7 min; buy W 1 lot a+1..a+3 (X's volume is matched on W); buy A 1 lot a+5..a+10.
    // By the engine's rule (one opposite leg only), X's volume is spent on W, so A is not hedged: it earns in full.
    const plan = await seedPlan({ rules: { perLot: { default: '7.00' } } });
    const tree = await seedTree({ tiers: 1, planId: plan.planId });
    const client = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED });
    const a = T0 + 7 * DAY_MS;
    const min = 60_000;
    const x = await seedTrade(client, {
      side: 'sell',
      openPrice: 110_050n,
      closePrice: 110_000n,
      openAt: a,
      closeAt: a + 7 * min,
    });
    const w = await seedTrade(client, { openPrice: 110_000n, closePrice: 110_030n, openAt: a + min, closeAt: a + 3 * min });
    const late = await seedTrade(client, {
      openPrice: 110_000n,
      closePrice: 110_040n,
      openAt: a + 5 * min,
      closeAt: a + 10 * min,
    });
    for (const t of [w, x, late]) await accrue(t.dealKey);
    const earned = async (t: { dealKey: string }) => (await linesOf(t.dealKey)).lines.map((l) => l.amount);
    expect(await earned(w)).toEqual(['700']);
    expect(await earned(x)).toEqual([]); // hedged by W
    expect((await linesOf(x.dealKey)).result).toMatchObject({ hedgedVolume: '10000' });
    expect(await earned(late)).toEqual(['700']);
    expect((await linesOf(late.dealKey)).result).toMatchObject({ hedgedVolume: '0', qualifyingVolume: '10000' });
  });

  it('all of a close hedged: fully_hedged, nothing earned', async () => {
    const plan = await seedPlan({ rules: { perLot: { default: '7.00' } } });
    const tree = await seedTree({ tiers: 1, planId: plan.planId });
    const client = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED });
    const at = T0 + 6 * DAY_MS;
    await seedTrade(client, {
      side: 'sell',
      volume: LOT,
      openPrice: 110_020n,
      closePrice: 109_990n,
      openAt: at + 1,
      closeAt: at + 300_000,
    });
    const buy = await seedTrade(client, {
      volume: LOT,
      openPrice: 110_000n,
      closePrice: 110_050n,
      openAt: at,
      closeAt: at + 600_000,
    });
    expect(await accrue(buy.dealKey)).toEqual({ outcome: 'accrued', lines: 0 });
    const { result } = await linesOf(buy.dealKey);
    expect(result).toMatchObject({ hedgedVolume: '10000', qualifyingVolume: '0' });
    expect(result!.chain[0]!.reasons.map((r) => r.code)).toEqual(['fully_hedged']);
  });
});
