/**
 * Clawback of a referred client's commissions against a real table on DynamoDB Local (issue 16 part 3;
 * functions/app/partners/clawback.ts). Deals are accrued by the real use case (accrue.ts) on a 3-tier network of the
 * standard plan with a CPA, so every line and every reversal is known to the minor unit.
 *
 * What it proves, by clawback.ts's invariants:
 * - one clawback line per (cause, clawed line): the exact negation of the line it names (clawsBack), same partner,
 *   tier and currency, under source clawback#<causeId>; the cause's sum per partner is minus what the window earned
 * - only lines whose deal time is within the tenant's window before the cause (90 days) are reversed: older deals and
 *   deals after the cause keep their lines
 * - idempotent: a redelivered cause writes nothing; a crash between chunks, then the retry, leaves exactly the lines
 *   of a clean run (each original reversed once) and one event
 * - a second cause never reverses a reversed line: it reverses only what was earned since, also when two causes (or
 *   three deliveries of one) run at once
 * - `partner.commission.clawed_back` carries the cause's totals; the cause is audited
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { accrueDealCommissions, cpaSource } from '#app/partners/accrue.ts';
import { clawBack, clawbackSource } from '#app/partners/clawback.ts';
import { recordDeposit } from '#app/partners/funnel.ts';
import { parseEvent } from '#domain/events/index.ts';
import { ddb } from '#shared/clients.ts';
import { pendingOutboxItems } from '#store/outbox.ts';
import type { LineItem } from '#store/partner-accruals.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import {
  assignmentItems,
  CPA_100,
  DAY_MS,
  iso,
  linesOf,
  putItems,
  type ReferredClient,
  STANDARD_RULES,
  seedPlan,
  seedReferredClient,
  seedTrade,
  seedTree,
  type TreeFixture,
} from '../support/partners.ts';

const ctx = { requestId: 'test', locale: 'en' };

beforeAll(async () => {
  await useHandlerEnv('pclaw');
});
afterEach(() => {
  vi.restoreAllMocks();
});

const NOW = Date.now();
/** Registered 120 days ago: the client's deals span more than the 90-day window. */
const REGISTERED = iso(NOW - 120 * DAY_MS);

let causes = 0;
const causeId = () => `cb_${NOW.toString(36)}_${causes++}`;

/** A 3-tier network on the standard plan with a CPA of 100.00 (0.30 lots), and a client of its tier 0. */
async function network(): Promise<{ tree: TreeFixture; client: ReferredClient }> {
  const plan = await seedPlan({ rules: { ...STANDARD_RULES, cpa: { ...CPA_100, minLots: '0.30' } } });
  const tree = await seedTree({ tiers: 3, planId: plan.planId });
  const client = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED });
  return { tree, client };
}

/** The standard 0.37-lot EURUSD deal closed `daysAgo` days ago (5 lines: 2.59, 1.85, 0.52, 0.74, 0.07), accrued. */
async function accruedDeal(client: ReferredClient, daysAgo: number, minute = 0): Promise<string> {
  const at = NOW - daysAgo * DAY_MS + minute * 60_000;
  const t = await seedTrade(client, {
    volume: 3_700n,
    openPrice: 110_000n,
    closePrice: 110_050n,
    openAt: at - 600_000,
    closeAt: at,
    openCommission: -129n,
    closeCommission: -130n,
  });
  await accrueDealCommissions(t.dealKey, ctx);
  return t.dealKey;
}

async function clawedBackEvents(id: string) {
  const out: Record<string, unknown>[] = [];
  for await (const page of pendingOutboxItems(new Date(Date.now() + 60_000))) {
    for (const item of page) {
      if (item.detailType === 'partner.commission.clawed_back' && item.detail.causeId === id) out.push(item.detail);
    }
  }
  return out.map((d) => parseEvent('partner.commission.clawed_back', d));
}

/** Every commit (transaction) waits 300 ms before it is sent: concurrent callers all read before any writes. */
function slowCommits() {
  const client = ddb();
  const send = client.send.bind(client);
  vi.spyOn(client, 'send').mockImplementation((async (command: object) => {
    if (command.constructor.name === 'TransactWriteCommand') await new Promise((r) => setTimeout(r, 300));
    return send(command as never);
  }) as never);
}

const chargeback = (clientId: string, id: string, at = iso(Date.now())) =>
  clawBack({ causeId: id, cause: 'chargeback', clientId, at }, ctx);

describe('a chargeback claws back the window', () => {
  it('reverses every line in the window exactly (the CPA too), leaves the others, and announces the totals', async () => {
    const { tree, client } = await network();
    const [t0, t1, t2] = tree.ids as [string, string, string];
    await recordDeposit(
      { clientId: client.clientId, amount: '250.00', currency: 'USD', at: iso(NOW - 119 * DAY_MS), first: true },
      ctx,
    );
    const old = await accruedDeal(client, 100); // outside the window (and it pays the CPA, accrued now: inside)
    const inside = [await accruedDeal(client, 30), await accruedDeal(client, 5)];
    const cpa = (await linesOf(cpaSource(client.clientId))).lines;
    expect(cpa.map((l) => [l.partnerId, l.amount])).toEqual([[t0, '10000']]);
    const oldBefore = await linesOf(old);

    const at = iso(Date.now());
    const id = causeId();
    const res = await chargeback(client.clientId, id, at);
    const totals = [
      // 2 deals x (2.59 + 1.85 + 0.52) + the 100.00 CPA; 2 x 0.74; 2 x 0.07
      { partnerId: t0, currency: 'USD', amount: '-109.92' },
      { partnerId: t1, currency: 'USD', amount: '-1.48' },
      { partnerId: t2, currency: 'USD', amount: '-0.14' },
    ].sort((a, b) => (a.partnerId < b.partnerId ? -1 : 1));
    expect(res).toEqual({ outcome: 'clawed_back', lines: 11, totals });

    // the reversals: one per clawed line, its exact negation
    const originals: LineItem[] = [...cpa];
    for (const k of inside) originals.push(...(await linesOf(k)).lines);
    const { lines: reversals } = await linesOf(clawbackSource(id));
    expect(reversals).toHaveLength(11);
    for (const o of originals) {
      const r = reversals.filter((x) => x.clawsBack === o.lineId);
      expect(r, o.lineId).toHaveLength(1);
      expect(r[0]).toMatchObject({
        sourceKey: `clawback#${id}`,
        kind: 'clawback',
        rule: 'clawback',
        partnerId: o.partnerId,
        tier: o.tier,
        currency: o.currency,
        amount: (-BigInt(o.amount)).toString(),
        dealTimeMsc: o.dealTimeMsc,
        clientId: client.clientId,
        planId: o.planId,
        planVersion: o.planVersion,
        inputs: { cause: 'chargeback', causeId: id, clawedRule: o.rule, clawedSource: o.sourceKey },
      });
      expect(r[0]!.lineId).toBe(`clawback#${id}/${o.partnerId}/clawback/${r[0]!.seq}`);
    }
    // seqs per partner run 0, 1, 2, ...
    for (const p of tree.ids) {
      const seqs = reversals.filter((x) => x.partnerId === p).map((x) => x.seq);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs.map((_, i) => i));
    }
    // nothing outside the window is touched
    expect(reversals.some((x) => x.inputs.clawedSource === old)).toBe(false);
    expect(await linesOf(old)).toEqual(oldBefore);

    // one event with the totals, one audit entry
    expect(await clawedBackEvents(id)).toMatchObject([
      { causeId: id, cause: 'chargeback', clientId: client.clientId, lines: 11, totals },
    ]);
    expect((await clawedBackEvents(id))[0]!.windowFrom).toBe(iso(Date.parse(at) - 90 * DAY_MS));
    const trail = await auditTrail('partner-clawback', id);
    expect(trail.map((a) => a.action)).toEqual(['partner.commission.clawed_back']);
    expect(trail[0].after.lines).toHaveLength(11);

    // redelivered: nothing more
    expect(await chargeback(client.clientId, id, at)).toEqual({ outcome: 'already_done', lines: 0, totals });
    expect((await linesOf(clawbackSource(id))).lines).toHaveLength(11);
    expect(await clawedBackEvents(id)).toHaveLength(1);
  });

  it('a second cause does not reverse what was reversed: only what was earned since', async () => {
    const { tree, client } = await network();
    await accruedDeal(client, 10);
    const first = causeId();
    expect((await chargeback(client.clientId, first)).lines).toBe(5);

    const second = causeId();
    expect(await chargeback(client.clientId, second)).toEqual({ outcome: 'nothing_to_claw', lines: 0, totals: [] });
    expect((await linesOf(clawbackSource(second))).lines).toEqual([]);
    expect(await clawedBackEvents(second)).toEqual([]);

    const later = await accruedDeal(client, 1);
    const third = causeId();
    const res = await chargeback(client.clientId, third);
    expect(res.lines).toBe(5);
    const { lines } = await linesOf(clawbackSource(third));
    expect(new Set(lines.map((l) => l.inputs.clawedSource))).toEqual(new Set([later]));
    expect(res.totals).toEqual(
      [
        { partnerId: tree.ids[0]!, currency: 'USD', amount: '-4.96' },
        { partnerId: tree.ids[1]!, currency: 'USD', amount: '-0.74' },
        { partnerId: tree.ids[2]!, currency: 'USD', amount: '-0.07' },
      ].sort((a, b) => (a.partnerId < b.partnerId ? -1 : 1)),
    );
  });

  it('deals after the cause keep their lines; adjustments in the window are reversed like any line', async () => {
    const { tree, client } = await network();
    const before = await accruedDeal(client, 20);
    const after = await accruedDeal(client, 2);
    // tier 0's EURUSD rate becomes 9.00 from before the first deal: +0.74 on it as an adjustment line
    await putItems(
      assignmentItems({
        partnerId: tree.ids[0]!,
        from: iso(NOW - 21 * DAY_MS),
        overrides: { perLot: { symbols: { EURUSD: '9.00' } } },
      }),
    );
    expect(await accrueDealCommissions(before, ctx)).toEqual({ outcome: 'adjusted', lines: 1 });
    const id = causeId();
    const res = await chargeback(client.clientId, id, iso(NOW - 10 * DAY_MS));
    expect(res.lines).toBe(6);
    const { lines } = await linesOf(clawbackSource(id));
    expect(new Set(lines.map((l) => l.inputs.clawedSource))).toEqual(new Set([before]));
    expect(lines.some((l) => l.inputs.clawedSource === after)).toBe(false);
    const perLot = lines.filter((l) => l.partnerId === tree.ids[0] && l.inputs.clawedRule === 'per_lot');
    expect(perLot.map((l) => l.amount).sort()).toEqual(['-259', '-74']);
    expect(res.totals.find((t) => t.partnerId === tree.ids[0])!.amount).toBe('-5.70'); // 3.33 + 1.85 + 0.52
  });

  it('two causes at once, each reading before the other commits: every line reversed once', async () => {
    const { client } = await network();
    const deal = await accruedDeal(client, 5);
    slowCommits();
    const [a, b] = [causeId(), causeId()];
    const results = await Promise.all([chargeback(client.clientId, a), chargeback(client.clientId, b)]);
    vi.restoreAllMocks();
    expect(results.map((r) => r.outcome).sort()).toEqual(['clawed_back', 'nothing_to_claw']);
    const reversals = [...(await linesOf(clawbackSource(a))).lines, ...(await linesOf(clawbackSource(b))).lines];
    const originals = (await linesOf(deal)).lines;
    expect(reversals.map((l) => l.clawsBack).sort()).toEqual(originals.map((l) => l.lineId).sort());
  });

  it('the same cause delivered three times at once: one set of reversals, one event', async () => {
    const { client } = await network();
    await accruedDeal(client, 5);
    const id = causeId();
    slowCommits();
    const results = await Promise.all([1, 2, 3].map(() => chargeback(client.clientId, id)));
    vi.restoreAllMocks();
    expect(results.map((r) => r.outcome).sort()).toEqual(['already_done', 'already_done', 'clawed_back']);
    expect((await linesOf(clawbackSource(id))).lines).toHaveLength(5);
    expect(await clawedBackEvents(id)).toHaveLength(1);
  });

  it('a client without commissions or referral: not_referred; with a referral but no lines: nothing_to_claw', async () => {
    expect(await chargeback('client-nobody', causeId())).toEqual({ outcome: 'not_referred', lines: 0, totals: [] });
    const { client } = await network();
    expect(await chargeback(client.clientId, causeId())).toEqual({ outcome: 'nothing_to_claw', lines: 0, totals: [] });
  });
});

describe('a crash between chunks', () => {
  it('the retry writes only what is missing: each line reversed once, the totals of a clean run, one event', async () => {
    // 9 deals x 5 lines = 45 lines: two chunks of 40 and 5
    const clean = await network();
    const crashed = await network();
    for (let i = 0; i < 9; i++) {
      await accruedDeal(clean.client, 10, i * 20);
      await accruedDeal(crashed.client, 10, i * 20);
    }
    const cleanId = causeId();
    const cleanRun = await chargeback(clean.client.clientId, cleanId);
    expect(cleanRun.lines).toBe(45);

    // the second transaction fails (the process dies between the chunks)
    const client = ddb();
    const send = client.send.bind(client);
    let transactions = 0;
    vi.spyOn(client, 'send').mockImplementation((async (command: object) => {
      if (command.constructor.name === 'TransactWriteCommand' && ++transactions === 2) {
        throw new Error('injected: the process died between chunks');
      }
      return send(command as never);
    }) as never);
    const id = causeId();
    await expect(chargeback(crashed.client.clientId, id)).rejects.toThrow(/injected/);
    vi.restoreAllMocks();
    expect((await linesOf(clawbackSource(id))).lines).toHaveLength(40);
    expect(await clawedBackEvents(id)).toEqual([]); // the event goes with the chunk that completes the cause

    const retry = await chargeback(crashed.client.clientId, id);
    expect(retry.outcome).toBe('clawed_back');
    expect(retry.lines).toBe(5);
    const { lines } = await linesOf(clawbackSource(id));
    expect(lines).toHaveLength(45);
    expect(new Set(lines.map((l) => l.clawsBack)).size).toBe(45);
    // the same totals as the clean run, tier by tier
    const byTier = (totals: { partnerId: string; amount: string }[], tree: TreeFixture) =>
      Object.fromEntries(totals.map((t) => [tree.ids.indexOf(t.partnerId), t.amount]));
    expect(byTier(retry.totals, crashed.tree)).toEqual(byTier(cleanRun.totals, clean.tree));
    expect(byTier(retry.totals, crashed.tree)).toEqual({ 0: '-44.64', 1: '-6.66', 2: '-0.63' });
    const events = await clawedBackEvents(id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ lines: 45, totals: retry.totals });
  });
});
