/**
 * A referred client's funnel and its CPA against a real table on DynamoDB Local (issue 16 parts 1-3;
 * functions/app/partners/funnel.ts, and the CPA side of accrue.ts). Network, plan, client and deals from
 * test/support/partners.ts; the plan pays a CPA of 100.00 on a first deposit of at least 200.00 within 30 days and
 * 1 lot within 60 days of registration (CPA_100).
 *
 * What it proves, by the invariants' names:
 * - each milestone is set once: kyc.approved sets verifiedAt and ADDs the link's `verified` once however often (and
 *   however concurrently) it is delivered; the first deposit sets `funded` (amount in minor units) once
 * - a client without a referral is ignored
 * - the CPA is paid once per referred client, by whichever event completes the qualification: the first deposit
 *   after enough lots, or the deal that reaches the lots after the deposit, or the deposit and that deal at the same
 *   time; its line (source cpa#<clientId>) and the referral's cpaPaid are one transaction, with its event
 * - no CPA below the minimum deposit or the minimum lots; lots accumulate over the window's deals
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { accrueDealCommissions, cpaSource } from '#app/partners/accrue.ts';
import { recordDeposit, recordVerified } from '#app/partners/funnel.ts';
import { parseEvent } from '#domain/events/index.ts';
import { ddb } from '#shared/clients.ts';
import { pendingOutboxItems } from '#store/outbox.ts';
import { getLink, getReferral } from '#store/partners.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { auditTrail } from '../support/audit.ts';
import {
  CPA_100,
  DAY_MS,
  iso,
  LOT,
  linesOf,
  type ReferredClient,
  rawReferral,
  STANDARD_RULES,
  seedPlan,
  seedReferredClient,
  seedTrade,
  seedTree,
  type TradeSpec,
  type TreeFixture,
} from '../support/partners.ts';

const ctx = { requestId: 'test', locale: 'en' };

beforeAll(async () => {
  await useHandlerEnv('pfun');
});
afterEach(() => {
  vi.restoreAllMocks();
});

const NOW = Date.now();
const REGISTERED = iso(NOW - 20 * DAY_MS);
const DEPOSITED = iso(NOW - 15 * DAY_MS);
const T0 = NOW - 10 * DAY_MS;

/** A 3-tier network whose plan pays CPA_100, and a client of its tier 0. */
async function cpaNetwork(): Promise<{ tree: TreeFixture; client: ReferredClient; planId: string }> {
  const plan = await seedPlan({ rules: { ...STANDARD_RULES, cpa: CPA_100 } });
  const tree = await seedTree({ tiers: 3, planId: plan.planId });
  const client = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED });
  return { tree, client, planId: plan.planId };
}

let dayOffset = 0;
/** A closed position of `volume` on the client's account, 10 minutes long, each one a minute after the last. */
const trade = (client: ReferredClient, volume: bigint): Promise<{ dealKey: string }> => {
  const at = T0 + dayOffset++ * 3_600_000;
  const spec: TradeSpec = { volume, openPrice: 110_000n, closePrice: 110_050n, openAt: at, closeAt: at + 600_000 };
  return seedTrade(client, spec);
};

const deposit = (clientId: string, amount: string, at = DEPOSITED, currency = 'USD') =>
  recordDeposit({ clientId, amount, currency, at, first: true }, ctx);

/** Every commit (transaction) waits 400 ms before it is sent: concurrent callers all read before any writes. */
function slowCommits() {
  const client = ddb();
  const send = client.send.bind(client);
  vi.spyOn(client, 'send').mockImplementation((async (command: object) => {
    if (command.constructor.name === 'TransactWriteCommand') await new Promise((r) => setTimeout(r, 400));
    return send(command as never);
  }) as never);
}

async function outboxEvents(detailType: string, where: (d: Record<string, unknown>) => boolean) {
  const out: Record<string, unknown>[] = [];
  for await (const page of pendingOutboxItems(new Date(Date.now() + 60_000))) {
    for (const item of page) if (item.detailType === detailType && where(item.detail)) out.push(item.detail);
  }
  return out;
}

describe('funnel milestones are set once', () => {
  it('kyc.approved: verifiedAt and the link’s verified counter, once however often it is delivered', async () => {
    const { client } = await cpaNetwork();
    const at = iso(NOW - 18 * DAY_MS);
    expect(await recordVerified(client.clientId, at, ctx)).toBe('recorded');
    expect(await recordVerified(client.clientId, iso(NOW), ctx)).toBe('already_set');
    expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({ verifiedAt: at });
    expect(await getLink(client.code!, { consistent: true })).toMatchObject({ registrations: 1, verified: 1, funded: 0 });
    const trail = await auditTrail('partner-referral', client.clientId);
    expect(trail.map((a) => a.action)).toEqual(['partner.referral.verified']);

    // concurrently: still once
    const other = await seedReferredClient({ partnerId: client.partnerId, registeredAt: REGISTERED });
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => recordVerified(other.clientId, at, ctx)));
    expect(outcomes.filter((o) => o === 'recorded').length).toBeGreaterThanOrEqual(1);
    expect((await getLink(other.code!, { consistent: true }))!.verified).toBe(1);
    expect(await auditTrail('partner-referral', other.clientId)).toHaveLength(1);
  });

  it('a client without a referral is ignored', async () => {
    expect(await recordVerified('client-not-referred', iso(NOW), ctx)).toBe('not_referred');
    expect(await deposit('client-not-referred', '500.00')).toBe('not_referred');
  });

  it('the first deposit: funded with the amount in minor units and the link’s funded counter, once', async () => {
    const plan = await seedPlan(); // no CPA
    const tree = await seedTree({ tiers: 1, planId: plan.planId });
    const client = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED });
    // A later deposit delivered before the first one's event never counts as the first.
    expect(
      await recordDeposit({ clientId: client.clientId, amount: '5.00', currency: 'USD', at: DEPOSITED, first: false }, ctx),
    ).toBe('not_first');
    expect(await deposit(client.clientId, '250.00')).toBe('recorded');
    expect(await deposit(client.clientId, '900.00', iso(NOW - DAY_MS))).toBe('already_set');
    expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({
      firstDeposit: { amount: '25000', currency: 'USD', at: DEPOSITED },
      cpaPaid: false,
    });
    expect((await getLink(client.code!, { consistent: true }))!.funded).toBe(1);
    expect((await linesOf(cpaSource(client.clientId))).lines).toEqual([]);
  });
});

describe('CPA: once per referred client, by whichever event completes it', () => {
  it('lots first, then the first deposit: the deposit pays it (line, cpaPaid and event in one commit); nothing after', async () => {
    const { tree, client, planId } = await cpaNetwork();
    const t = await trade(client, LOT);
    expect(await accrueDealCommissions(t.dealKey, ctx)).toEqual({ outcome: 'accrued', lines: 5 }); // no CPA yet
    expect(await rawReferral(client.clientId)).toMatchObject({ windowVolume: 10_000, cpaPaid: false });

    expect(await deposit(client.clientId, '250.00')).toBe('recorded');
    const { lines } = await linesOf(cpaSource(client.clientId));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      lineId: `cpa#${client.clientId}/${tree.leaf.partnerId}/cpa/0`,
      sourceKey: `cpa#${client.clientId}`,
      kind: 'accrual',
      seq: 0,
      partnerId: tree.leaf.partnerId,
      tier: 0,
      rule: 'cpa',
      amount: '10000',
      currency: 'USD',
      rate: '100.00',
      planId,
      planVersion: 1,
      clientId: client.clientId,
      inputs: {
        registeredAt: REGISTERED,
        firstDeposit: '250.00',
        firstDepositAt: DEPOSITED,
        minFirstDeposit: '200.00',
        depositWithinDays: '30',
        windowLots: '1.00',
        minLots: '1.00',
        lotsWithinDays: '60',
      },
    });
    expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({ cpaPaid: true });
    const events = await outboxEvents('partner.commission.accrued', (d) => d.sourceKey === cpaSource(client.clientId));
    expect(events.map((e) => parseEvent('partner.commission.accrued', e))).toMatchObject([
      {
        kind: 'cpa',
        clientId: client.clientId,
        lines: [{ partnerId: tree.leaf.partnerId, rule: 'cpa', amount: '100.00', tier: 0 }],
      },
    ]);

    // more lots, the deposit redelivered: no second CPA
    await accrueDealCommissions((await trade(client, LOT)).dealKey, ctx);
    expect(await deposit(client.clientId, '250.00')).toBe('already_set');
    expect((await linesOf(cpaSource(client.clientId))).lines).toHaveLength(1);
  });

  it('the deposit first, then the deal that reaches the lots pays it; a later deal does not', async () => {
    const { tree, client } = await cpaNetwork();
    expect(await deposit(client.clientId, '200.00')).toBe('recorded'); // exactly the minimum
    expect((await linesOf(cpaSource(client.clientId))).lines).toEqual([]);
    const half = await trade(client, 5_000n);
    expect(await accrueDealCommissions(half.dealKey, ctx)).toEqual({ outcome: 'accrued', lines: 5 });
    expect((await linesOf(cpaSource(client.clientId))).lines).toEqual([]);
    // the second half lot brings the window to 1.00 lot: its evaluation writes the CPA with its lines
    const other = await trade(client, 5_000n);
    expect(await accrueDealCommissions(other.dealKey, ctx)).toEqual({ outcome: 'accrued', lines: 6 });
    expect((await linesOf(cpaSource(client.clientId))).lines).toMatchObject([
      { partnerId: tree.leaf.partnerId, rule: 'cpa', amount: '10000', inputs: { windowLots: '1.00', firstDeposit: '200.00' } },
    ]);
    expect(await rawReferral(client.clientId)).toMatchObject({ windowVolume: 10_000, volume: 10_000, cpaPaid: true });
    const events = await outboxEvents('partner.commission.accrued', (d) => d.clientId === client.clientId);
    expect(events.map((e) => e.kind).sort()).toEqual(['cpa', 'deal', 'deal']);

    await accrueDealCommissions((await trade(client, LOT)).dealKey, ctx);
    expect((await linesOf(cpaSource(client.clientId))).lines).toHaveLength(1);
  });

  it('the deposit and the deal that completes the lots at the same time: exactly one CPA', async () => {
    for (let i = 0; i < 4; i++) {
      const { client } = await cpaNetwork();
      const t = await trade(client, LOT);
      await Promise.all([deposit(client.clientId, '250.00'), accrueDealCommissions(t.dealKey, ctx)]);
      expect((await linesOf(cpaSource(client.clientId))).lines.map((l) => l.amount)).toEqual(['10000']);
      expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({ cpaPaid: true });
    }
  });

  it('the deposit and the deal that completes the lots, each reading the referral before the other commits: one CPA', async () => {
    const { client } = await cpaNetwork();
    const t = await trade(client, LOT);
    // both read the referral (no deposit / not enough lots) before either writes
    slowCommits();
    await Promise.all([deposit(client.clientId, '250.00'), accrueDealCommissions(t.dealKey, ctx)]);
    vi.restoreAllMocks();
    expect((await linesOf(cpaSource(client.clientId))).lines.map((l) => l.amount)).toEqual(['10000']);
    expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({
      cpaPaid: true,
      firstDeposit: { amount: '25000' },
      windowVolume: '10000',
    });
  });

  it('two half-lot deals after the deposit, each reading the referral before the other commits: one CPA', async () => {
    const { client } = await cpaNetwork();
    await deposit(client.clientId, '250.00');
    const a = await trade(client, 5_000n);
    const b = await trade(client, 5_000n);
    slowCommits();
    const outcomes = await Promise.all([accrueDealCommissions(a.dealKey, ctx), accrueDealCommissions(b.dealKey, ctx)]);
    vi.restoreAllMocks();
    expect(outcomes.map((o) => o.lines).sort()).toEqual([5, 6]); // one of them with the CPA
    expect((await linesOf(cpaSource(client.clientId))).lines.map((l) => l.amount)).toEqual(['10000']);
    expect(await rawReferral(client.clientId)).toMatchObject({ windowVolume: 10_000, volume: 10_000, cpaPaid: true });
  });

  it('the deposit and the deal when the lots were already reached: exactly one CPA, whoever commits first', async () => {
    for (let i = 0; i < 3; i++) {
      const { client } = await cpaNetwork();
      await accrueDealCommissions((await trade(client, LOT)).dealKey, ctx);
      const t = await trade(client, LOT);
      await Promise.all([deposit(client.clientId, '250.00'), accrueDealCommissions(t.dealKey, ctx)]);
      expect((await linesOf(cpaSource(client.clientId))).lines.map((l) => l.amount)).toEqual(['10000']);
    }
  });

  it('below the minimum deposit: funded, never a CPA', async () => {
    const { client } = await cpaNetwork();
    expect(await deposit(client.clientId, '199.99')).toBe('recorded');
    await accrueDealCommissions((await trade(client, 2n * LOT)).dealKey, ctx);
    expect((await linesOf(cpaSource(client.clientId))).lines).toEqual([]);
    expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({
      firstDeposit: { amount: '19999' },
      cpaPaid: false,
    });
  });

  it('below the minimum lots: no CPA until the window’s deals add up to it', async () => {
    const { client } = await cpaNetwork();
    await deposit(client.clientId, '250.00');
    await accrueDealCommissions((await trade(client, 9_999n)).dealKey, ctx);
    expect((await linesOf(cpaSource(client.clientId))).lines).toEqual([]);
    expect(await rawReferral(client.clientId)).toMatchObject({ windowVolume: 9_999, cpaPaid: false });
    await accrueDealCommissions((await trade(client, 1n)).dealKey, ctx);
    expect((await linesOf(cpaSource(client.clientId))).lines.map((l) => l.amount)).toEqual(['10000']);
  });

  it('a deposit in another currency than the plan’s, or too late: no CPA', async () => {
    const late = await cpaNetwork();
    await deposit(late.client.clientId, '250.00', iso(Date.parse(REGISTERED) + 31 * DAY_MS));
    await accrueDealCommissions((await trade(late.client, LOT)).dealKey, ctx);
    expect((await linesOf(cpaSource(late.client.clientId))).lines).toEqual([]);

    const eur = await cpaNetwork();
    await deposit(eur.client.clientId, '250.00', DEPOSITED, 'EUR');
    await accrueDealCommissions((await trade(eur.client, LOT)).dealKey, ctx);
    expect((await linesOf(cpaSource(eur.client.clientId))).lines).toEqual([]);
  });
});
