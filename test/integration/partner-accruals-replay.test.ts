/**
 * The replay of accruals and the partner-events consumer against a real table on DynamoDB Local (issue 16 part 3;
 * functions/app/partners/replay.ts, functions/workers/partner-events.ts). Deals are accrued by the real use case on
 * networks built by test/support/partners.ts; each replay test owns a day of deal times, so the others' deals are
 * outside its period.
 *
 * What it proves, by the modules' invariants:
 * - replay: recomputing a period from the stored deals, the attribution and tree history and the plan versions gives
 *   the stored accruals to the cent (adjustments included, clawbacks apart): 0 mismatches and equal totals; a deleted
 *   line is reported (amount_differs) and so is a deal whose event was lost (not_accrued), line by line; read-only
 * - the worker: each detail-type of a batch of bus envelopes reaches its use case (deal -> lines, kyc.approved ->
 *   verified, first deposit -> funded, chargeback -> clawback); an unknown type is acknowledged; a record whose body
 *   or detail breaks the contract (or names a deal not stored) fails alone (batchItemFailures); the same batch
 *   delivered again changes nothing
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { accrueDealCommissions, priceDeal } from '#app/partners/accrue.ts';
import { clawBack, clawbackSource } from '#app/partners/clawback.ts';
import { replayAccruals } from '#app/partners/replay.ts';
import { formatAmount } from '#domain/money/index.ts';
import { ddb } from '#shared/clients.ts';
import { tableName } from '#store/items.ts';
import { partnerKeys } from '#store/keys.ts';
import { getLink, getReferral } from '#store/partners.ts';
import { dealEntity } from '#store/trading.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { countItemsBesidesSecurityEvents } from '../support/dynamodb.ts';
import { lambdaContext } from '../support/events.ts';
import {
  assignmentItems,
  attributionItems,
  DAY_MS,
  iso,
  LOT,
  linesOf,
  putItems,
  type ReferredClient,
  seedPlan,
  seedReferredClient,
  seedTrade,
  seedTree,
  type TradeFixture,
  type TreeFixture,
} from '../support/partners.ts';

const ctx = { requestId: 'test', locale: 'en' };
let table = '';

beforeAll(async () => {
  table = await useHandlerEnv('prep');
});

const NOW = Date.now();
const REGISTERED = iso(NOW - 90 * DAY_MS);
/** The UTC day `daysAgo` days before today: [00:00, next 00:00). */
function day(daysAgo: number) {
  const start =
    Date.UTC(new Date(NOW).getUTCFullYear(), new Date(NOW).getUTCMonth(), new Date(NOW).getUTCDate()) - daysAgo * DAY_MS;
  return { start, period: { from: iso(start), to: iso(start + DAY_MS) } };
}

/** A 3-tier network on the standard plan with a 60-second minimum hold, and two clients of its tier 0. */
async function network(): Promise<{ tree: TreeFixture; clients: ReferredClient[] }> {
  const plan = await seedPlan({ qualification: { minHoldSeconds: 60 } });
  const tree = await seedTree({ tiers: 3, planId: plan.planId });
  const clients = [
    await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED }),
    await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: REGISTERED }),
  ];
  return { tree, clients };
}

/** Six deals of varied size and price in the hour from `at` (two per client and symbol), one scalp; not accrued. */
async function trades(clients: ReferredClient[], at: number): Promise<TradeFixture[]> {
  const out: TradeFixture[] = [];
  let i = 0;
  for (const c of clients) {
    for (const [volume, move, hold] of [
      [3_700n, 50n, 600_000],
      [LOT + 1_234n, 7n, 120_000],
      [100n, 333n, 30_000], // held 30 s: a scalp, no lines
    ] as const) {
      const openAt = at + i++ * 900_000; // apart: no position hedges another
      out.push(
        await seedTrade(c, {
          side: i % 2 === 0 ? 'sell' : 'buy',
          symbol: i % 3 === 0 ? 'GBPUSD' : 'EURUSD',
          volume,
          openPrice: 125_000n,
          closePrice: i % 2 === 0 ? 125_000n - move : 125_000n + move,
          openAt,
          closeAt: openAt + hold,
        }),
      );
    }
  }
  return out;
}

const accrue = (dealKey: string) => accrueDealCommissions(dealKey, ctx);

describe('replay', () => {
  it('recomputes the period to the cent: 0 mismatches, equal totals, adjustments counted, clawbacks apart, nothing written', async () => {
    const { start, period } = day(60);
    const { tree, clients } = await network();
    const all = await trades(clients, start + 3_600_000);
    for (const t of all) await accrue(t.dealKey);
    // a retroactive rate on tier 0 (9.00 EURUSD from the period's start): the EURUSD deals get adjustment lines
    await putItems(
      assignmentItems({ partnerId: tree.ids[0]!, from: period.from, overrides: { perLot: { symbols: { EURUSD: '9.00' } } } }),
    );
    const adjusted = await Promise.all(all.map((t) => accrue(t.dealKey)));
    expect(adjusted.filter((r) => r.outcome === 'adjusted').length).toBeGreaterThan(0);
    // a chargeback on one client: its reversals are not part of what a deal earned
    expect(
      (await clawBack({ causeId: `cb_${randomUUID()}`, cause: 'chargeback', clientId: clients[0]!.clientId, at: iso(NOW) }, ctx))
        .outcome,
    ).toBe('clawed_back');

    let stored = 0n;
    let lines = 0;
    for (const t of all) {
      for (const l of (await linesOf(t.dealKey)).lines) {
        stored += BigInt(l.amount);
        lines++;
      }
    }
    expect(stored).toBeGreaterThan(0n);

    const items = await countItemsBesidesSecurityEvents(table);
    const res = await replayAccruals(period);
    expect(await countItemsBesidesSecurityEvents(table)).toBe(items); // read-only
    expect(res.mismatches).toEqual([]);
    expect(res.failed).toBe(0);
    expect(res).toMatchObject({
      from: period.from,
      to: period.to,
      deals: 6,
      lines,
      totals: [{ currency: 'USD', stored: formatAmount(stored, 'USD'), expected: formatAmount(stored, 'USD') }],
    });
    expect(res.clients).toBeGreaterThanOrEqual(2);
  });

  it('a deleted line is amount_differs; a deal never accrued is not_accrued, line by line', async () => {
    const { start, period } = day(61);
    const { tree, clients } = await network();
    const all = await trades(clients, start + 7_200_000);
    const [lost, ...accrued] = all as [TradeFixture, ...TradeFixture[]];
    for (const t of accrued) await accrue(t.dealKey);
    expect((await replayAccruals(period)).mismatches.filter((m) => m.dealKey !== lost.dealKey)).toEqual([]);

    // one line disappears (tier 1's override of the second deal)
    const victim = (await linesOf(accrued[0]!.dealKey)).lines.find((l) => l.tier === 1)!;
    await ddb().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: partnerKeys.line(victim.sourceKey, victim.partnerId, victim.rule, victim.seq),
      }),
    );

    const res = await replayAccruals(period);
    const priced = await priceDeal(await dealOf(lost));
    if ('outcome' in priced) throw new Error('the lost deal should price');
    expect(res.mismatches).toEqual(
      expect.arrayContaining([
        {
          dealKey: accrued[0]!.dealKey,
          partnerId: victim.partnerId,
          rule: 'override',
          currency: 'USD',
          expected: formatAmount(BigInt(victim.amount), 'USD'),
          stored: '0.00',
          kind: 'amount_differs',
        },
        ...priced.accrual.lines.map((l) => ({
          dealKey: lost.dealKey,
          partnerId: l.partnerId,
          rule: l.rule,
          currency: 'USD',
          expected: formatAmount(l.amount, 'USD'),
          stored: '0.00',
          kind: 'not_accrued',
        })),
      ]),
    );
    expect(res.failed).toBe(1 + priced.accrual.lines.length);
    expect(res.mismatches).toHaveLength(res.failed);
    expect(priced.accrual.lines.length).toBeGreaterThanOrEqual(4);
    expect(tree.ids).toContain(victim.partnerId);
    const usd = res.totals.find((t) => t.currency === 'USD')!;
    expect(usd.stored).not.toBe(usd.expected);

    // accruing the lost deal and re-accruing the damaged one (it adds the missing amount back) heals the period
    await accrue(lost.dealKey);
    expect(await accrue(accrued[0]!.dealKey)).toEqual({ outcome: 'adjusted', lines: 1 });
    expect((await replayAccruals(period)).failed).toBe(0);
  });
});

describe('replay after a retroactive detach', () => {
  it('lines of a deal with no partner at its time any more are reported until they are reversed', async () => {
    const { start, period } = day(62);
    const { tree, clients } = await network();
    const [client] = clients as [ReferredClient];
    const all = await trades([client], start + 3_600_000);
    for (const t of all) await accrue(t.dealKey);
    // the client belongs to no partner from the day before the period until the end of it, to its partner again after
    await putItems([
      ...attributionItems({ clientId: client.clientId, partnerId: null, from: iso(start - DAY_MS), retroactive: true }),
      ...attributionItems({ clientId: client.clientId, partnerId: tree.leaf.partnerId, from: iso(start + DAY_MS) }),
    ]);
    const res = await replayAccruals(period);
    const earning = [];
    for (const t of all) if ((await linesOf(t.dealKey)).lines.length > 0) earning.push(t.dealKey);
    expect(earning).toHaveLength(2);
    expect(res.deals).toBe(2);
    expect(new Set(res.mismatches.map((m) => m.dealKey))).toEqual(new Set(earning));
    expect(res.mismatches.every((m) => m.kind === 'amount_differs' && m.expected === '0.00' && m.stored !== '0.00')).toBe(true);
    expect(res.failed).toBe(10);

    // re-accrued (as a retroactive move does): reversed by adjustments, the period matches again
    for (const t of all) await accrue(t.dealKey);
    expect((await replayAccruals(period)).failed).toBe(0);
  });
});

const dealOf = async (t: TradeFixture) => (await dealEntity.get({ pk: t.close.pk, sk: t.close.sk }, { consistent: true }))!;

// ------------------------------------------------------------------------------------------------ the worker

let envelopes = 0;
/** An SQS record carrying a bus envelope (the bus rule's target). */
function record(detailType: string, detail: Record<string, unknown>, time = new Date()): SQSRecord {
  const id = `env-${envelopes++}`;
  return {
    messageId: id,
    body: JSON.stringify({ id, source: 'backoffice', 'detail-type': detailType, time: time.toISOString(), detail }),
  } as SQSRecord;
}

describe('the partner-events worker', () => {
  it('routes each detail-type to its use case; a broken record fails alone; the batch again changes nothing', async () => {
    const { handler } = await import('#functions/workers/partner-events.ts');
    const plan = await seedPlan();
    const tree = await seedTree({ tiers: 3, planId: plan.planId });
    const client = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: iso(NOW - 20 * DAY_MS) });
    const t = await seedTrade(client, {
      volume: 3_700n,
      openPrice: 110_000n,
      closePrice: 110_050n,
      openAt: NOW - 10 * DAY_MS,
      closeAt: NOW - 10 * DAY_MS + 600_000,
      openCommission: -129n,
      closeCommission: -130n,
    });
    const approvedAt = iso(NOW - 18 * DAY_MS);
    // the bus stamps envelopes to the second
    const depositTime = new Date(Math.floor((NOW - 15 * DAY_MS) / 1000) * 1000);
    const dealClosed = record('trading.deal.closed', { ...t.closedEvent, eventId: 'evt-deal' });
    const kyc = record('kyc.approved', {
      clientId: client.clientId,
      submissionId: 'sub_1',
      approvedAt,
      jurisdiction: 'EU',
      identityExpiresOn: null,
      eventId: 'evt-kyc',
    });
    const deposit = record(
      'payment.deposit.completed',
      {
        depositId: 'dep_1',
        clientId: client.clientId,
        walletId: `wal_${client.clientId}_USD`,
        methodId: 'card',
        amount: '250.00',
        gross: '250.00',
        fee: '0.00',
        currency: 'USD',
        first: true,
        journalId: 'jr_1',
        eventId: 'evt-dep',
      },
      depositTime,
    );
    const unknown = record('something.else', { eventId: 'evt-x' });
    const { dealKey: _drop, ...noKey } = t.closedEvent;
    const broken = record('trading.deal.closed', { ...noKey, eventId: 'evt-broken' });
    const missing = record('trading.deal.closed', {
      ...t.closedEvent,
      dealKey: 'mt5#test-ib#999999999999',
      deal: 999_999_999_999,
    });
    const notJson = { messageId: 'not-json', body: 'not json' } as SQSRecord;

    const res = await handler(
      { Records: [dealClosed, kyc, deposit, unknown, broken, missing, notJson] },
      lambdaContext('partner-events'),
    );
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [broken.messageId, missing.messageId, 'not-json'].sort(),
    );

    const { lines } = await linesOf(t.dealKey);
    expect(lines.map((l) => l.amount).sort()).toEqual(['185', '259', '52', '7', '74']);
    expect(await getReferral(client.clientId, { consistent: true })).toMatchObject({
      verifiedAt: approvedAt,
      firstDeposit: { amount: '25000', currency: 'USD', at: depositTime.toISOString() },
      volume: '3700',
    });
    expect(await getLink(client.code!, { consistent: true })).toMatchObject({ verified: 1, funded: 1, trading: 1 });

    // the chargeback in a later batch: the deal's lines reversed, at the envelope's time
    const cb = record('payment.chargeback.received', {
      chargebackId: `cb_${randomUUID().slice(0, 8)}`,
      depositId: 'dep_1',
      clientId: client.clientId,
      walletId: `wal_${client.clientId}_USD`,
      amount: '250.00',
      currency: 'USD',
      fromWallet: '250.00',
      receivable: '0.00',
      reasonCode: '10.4',
      caseId: 'case_1',
      eventId: 'evt-cb',
    });
    expect((await handler({ Records: [cb] }, lambdaContext('partner-events'))).batchItemFailures).toEqual([]);
    const chargebackId = (JSON.parse(cb.body) as { detail: { chargebackId: string } }).detail.chargebackId;
    const reversals = (await linesOf(clawbackSource(chargebackId))).lines;
    expect(reversals.map((l) => l.amount).sort()).toEqual(['-185', '-259', '-52', '-7', '-74']);

    // everything delivered again: nothing changes
    const items = await countItemsBesidesSecurityEvents(table);
    const again = await handler({ Records: [dealClosed, kyc, deposit, unknown, cb] }, lambdaContext('partner-events'));
    expect(again.batchItemFailures).toEqual([]);
    expect(await countItemsBesidesSecurityEvents(table)).toBe(items);
    expect((await linesOf(t.dealKey)).lines).toHaveLength(5);
    expect((await linesOf(clawbackSource(chargebackId))).lines).toHaveLength(5);
    expect(await getLink(client.code!, { consistent: true })).toMatchObject({ verified: 1, funded: 1, trading: 1 });
  });
});

describe('retroactive changes through the worker', () => {
  it('a plan assignment dated before a deal re-prices it by adjustments (replay then equal); one dated now re-prices nothing', async () => {
    const { handler } = await import('#functions/workers/partner-events.ts');
    const plan = await seedPlan();
    const better = await seedPlan({ rules: { perLot: { default: '9.00' } } });
    const tree = await seedTree({ tiers: 1, planId: plan.planId });
    const client = await seedReferredClient({ partnerId: tree.leaf.partnerId, registeredAt: iso(NOW - 20 * DAY_MS) });
    const t = await seedTrade(client, {
      volume: LOT,
      openPrice: 110_000n,
      closePrice: 110_050n,
      openAt: NOW - 5 * DAY_MS,
      closeAt: NOW - 5 * DAY_MS + 600_000,
    });
    await accrueDealCommissions(t.dealKey, { requestId: 'test', locale: 'en' });
    const before = (await linesOf(t.dealKey)).lines.length;
    const changed = (from: number) =>
      record('partner.plan.changed', {
        planId: better.planId,
        version: null,
        partnerId: tree.leaf.partnerId,
        effectiveFrom: iso(from),
        retroactive: from < Date.now(),
        changedBy: 'staff-f1',
        eventId: `evt-plan-${from}`,
      });

    // effective now: the past deal keeps its price
    const now = Date.now();
    await putItems(assignmentItems({ partnerId: tree.leaf.partnerId, from: iso(now + 60_000), planId: better.planId }));
    expect((await handler({ Records: [changed(now + 60_000)] }, lambdaContext('partner-events'))).batchItemFailures).toEqual([]);
    expect((await linesOf(t.dealKey)).lines).toHaveLength(before);

    // dated ten days back: the deal is re-priced with 9.00 a lot, as new lines
    await putItems(assignmentItems({ partnerId: tree.leaf.partnerId, from: iso(NOW - 10 * DAY_MS), planId: better.planId }));
    expect((await handler({ Records: [changed(NOW - 10 * DAY_MS)] }, lambdaContext('partner-events'))).batchItemFailures).toEqual(
      [],
    );
    const after = (await linesOf(t.dealKey)).lines;
    expect(after.length).toBeGreaterThan(before);
    expect(after.filter((l) => l.kind === 'adjustment').length).toBeGreaterThan(0);
    const perLot = after.filter((l) => l.rule === 'per_lot').reduce((s, l) => s + BigInt(l.amount), 0n);
    expect(perLot).toBe(900n);
    const replay = await replayAccruals({ from: iso(NOW - 6 * DAY_MS), to: iso(NOW) });
    expect(replay.mismatches.filter((m) => m.dealKey === t.dealKey)).toEqual([]);
  });
});
