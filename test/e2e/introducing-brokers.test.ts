/**
 * The introducing-broker journey of issue 16 over HTTP against the whole local runtime (same code as `npm start`):
 * 1. partner@demo.test has a 3-tier network in the demo seed (Paul -> Nora -> Cyril);
 * 2. a client follows Cyril's link and registers with its code, is verified, funds its wallet and a live account,
 *    and trades through the simulator;
 * 3. the deal stream publishes the deals and Cyril, Nora and Paul see their commissions within seconds;
 * 4. a scalping deal under the minimum holding time earns nothing, with the reason shown;
 * 5. the scheduled payout (the job, run on demand) posts exactly the sum of Cyril's accruals to its wallet;
 * 6. a chargeback of the client's deposit claws the commissions back, and the next payout nets them;
 * 7. the replay of the period matches the stored lines to the cent.
 * The one change to the seed's data: finance publishes a new plan version whose minimum holding time is 2 s
 * instead of 120 s (through the plan API), so the journey does not wait two minutes for a qualifying deal.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sandboxChargeback } from '#app/payments/sandbox-provider.ts';
import { useRuntime } from './harness.ts';
import { type Json, until as untilGet, verifiedClient } from './journeys.ts';

const e2e = useRuntime();
const eur = (amount: string) => ({ amount, currency: 'EUR' });
const until = (token: string, path: string, done: (body: Json) => boolean, ms?: number) => untilGet(e2e, token, path, done, ms);
const key = () => ({ 'idempotency-key': randomUUID() });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Decimal string -> cents (the journey's money is EUR). */
const cents = (s: string) => {
  const [i, f = ''] = s.replace('-', '').split('.');
  const v = BigInt(i!) * 100n + BigInt((f + '00').slice(0, 2));
  return s.startsWith('-') ? -v : v;
};

async function terminal(path: string, body: unknown): Promise<Json> {
  const r = await fetch(`${e2e.rt.mt5.url}/terminal${path}`, { method: 'POST', body: JSON.stringify(body) });
  const json = await r.json();
  expect(r.status, JSON.stringify(json)).toBe(200);
  return json;
}

/** The partner's accruals in EUR from `from` to now, grouped by `groupBy`. */
async function accruals(token: string, from: string, groupBy = 'rule'): Promise<Json> {
  const to = new Date(Date.now() + 60_000).toISOString();
  const r = await e2e.call('GET', `/v1/partners/me/accruals?from=${from}&to=${to}&groupBy=${groupBy}`, { token });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}
const eurTotal = (a: Json): bigint => {
  const t = (a.totals as Json[]).find((x) => (x.currency ?? x.amount?.currency) === 'EUR');
  if (!t) return 0n;
  return cents(typeof t.amount === 'string' ? t.amount : t.amount.amount);
};

describe('introducing-broker journey', () => {
  it('a 3-tier network earns on a referred client’s deals (a scalp earns nothing), is paid exactly, clawed back on a chargeback, and replays to the cent', async () => {
    const started = new Date(Date.now() - 60_000).toISOString();
    const admin = await e2e.signIn('admin@demo.test');
    const finance = await e2e.signIn('finance@demo.test');
    const paul = await e2e.signIn('partner@demo.test');
    const nora = await e2e.signIn('ib-north@demo.test');
    const cyril = await e2e.signIn('ib-city@demo.test');
    const ingest = async () => {
      const run = await e2e.call('POST', '/v1/admin/jobs/trading-deal-ingest/runs', { token: admin });
      expect(run.status, JSON.stringify(run.body)).toBe(202);
    };

    // 1. The seeded network: Paul at the top, Nora under him, Cyril under Nora.
    const network = await e2e.call('GET', '/v1/partners/me/network', { token: paul });
    expect(network.status, JSON.stringify(network.body)).toBe(200);
    const depths = (network.body.nodes as Json[]).map((n) => n.depth).sort();
    expect(depths).toEqual([0, 1, 2]);
    const me = async (token: string) => (await e2e.call('GET', '/v1/partners/me', { token })).body;
    const [paulP, noraP, cyrilP] = [await me(paul), await me(nora), await me(cyril)];
    expect(noraP.parentId).toBe(paulP.partnerId);
    expect(cyrilP.parentId).toBe(noraP.partnerId);

    // Finance publishes a plan version with a 2 s minimum hold (the seed's is 120 s), effective now.
    const plan = await e2e.call('GET', '/v1/admin/partner-plans/demo-ib', { token: finance });
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);
    const latest = plan.body.versions.at(-1);
    const version = await e2e.call('POST', '/v1/admin/partner-plans/demo-ib/versions', {
      token: finance,
      body: {
        rules: latest.rules,
        qualification: { ...latest.qualification, minHoldSeconds: 2 },
        reason: 'Journey: a 2 s minimum hold',
      },
    });
    expect(version.status, JSON.stringify(version.body)).toBe(201);

    // 2. A visitor follows Cyril's link, registers with its code, is verified and funds its account.
    const visitorId = `v_${randomUUID().replaceAll('-', '')}`;
    const click = await e2e.call('POST', '/v1/referrals/clicks', { body: { code: 'CITY', visitorId } });
    expect(click.status, JSON.stringify(click.body)).toBe(202);
    const trader = await verifiedClient(e2e, 'referred', { referralCode: 'CITY', visitorId });
    const wallets = await e2e.call('GET', '/v1/wallets', { token: trader });
    const wallet = wallets.body.items.find((w: Json) => w.currency === 'EUR');
    const dep = await e2e.call('POST', '/v1/deposits', {
      token: trader,
      headers: key(),
      body: { walletId: wallet.walletId, methodId: 'card', amount: eur('6000.00') },
    });
    expect(dep.status, JSON.stringify(dep.body)).toBe(201);
    await until(trader, `/v1/deposits/${dep.body.depositId}`, (d) => d.status === 'completed');
    const opened = await e2e.call('POST', '/v1/trading-accounts', {
      token: trader,
      headers: key(),
      body: { accountType: 'standard', kind: 'live', currency: 'EUR', leverage: 30 },
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const { accountId, login, server } = opened.body;
    const fund = await e2e.call('POST', `/v1/trading-accounts/${accountId}/transfers`, {
      token: trader,
      headers: key(),
      body: { direction: 'deposit', amount: eur('5000.00') },
    });
    expect(fund.status, JSON.stringify(fund.body)).toBe(201);
    // Cyril sees the referral in its client list (no contact details), its link's funnel counts it.
    const clients = await until(
      cyril,
      '/v1/partners/me/clients',
      (b) => b.items?.length === 1 && b.items[0].kycStage === 'verified',
    );
    expect(JSON.stringify(clients)).not.toMatch(/@example\.test|phone|address|dateOfBirth/);
    const funnel = await until(cyril, '/v1/partners/me/links/funnel', (b) => JSON.stringify(b).includes('"funded":1'));
    expect(JSON.stringify(funnel)).toContain('"registrations":1');

    // 3-4. A scalp (opened and closed at once) earns nothing; a trade held 2.5 s with a 20-point move earns.
    await terminal('/quotes', { symbol: 'EURUSD', bid: '1.08500', ask: '1.08510' });
    const scalpOpen = await terminal('/orders', { login, symbol: 'EURUSD', side: 'buy', lots: '1.00' });
    await terminal('/quotes', { symbol: 'EURUSD', bid: '1.08530', ask: '1.08540' });
    const scalpClose = await terminal(`/positions/${scalpOpen.positionId}/close`, { login });
    const open = await terminal('/orders', { login, symbol: 'EURUSD', side: 'buy', lots: '1.00' });
    await sleep(2_500);
    await terminal('/quotes', { symbol: 'EURUSD', bid: '1.08720', ask: '1.08730' });
    const close = await terminal(`/positions/${open.positionId}/close`, { login });
    const t0 = Date.now();
    await ingest();

    const scalpKey = encodeURIComponent(`mt5#${server}#${scalpClose.deal}`);
    const scalp = await until(admin, `/v1/admin/partner-deals/${scalpKey}/explanation`, (b) => b.stored?.result != null);
    expect(scalp.stored.lines).toEqual([]);
    const reasons = (scalp.stored.result.chain as Json[]).flatMap((m) => m.reasons.map((r: Json) => r.code));
    expect(reasons).toContain('held_too_short');
    expect(scalp.equal).toBe(true);

    const dealKey = encodeURIComponent(`mt5#${server}#${close.deal}`);
    const explained = await until(admin, `/v1/admin/partner-deals/${dealKey}/explanation`, (b) => b.stored?.result != null);
    const earners = new Set((explained.stored.lines as Json[]).map((l) => l.partnerId));
    expect(earners).toEqual(new Set([cyrilP.partnerId, noraP.partnerId, paulP.partnerId]));
    expect(explained.equal).toBe(true);
    // Cyril's per-lot line: 1 lot of EURUSD at the plan's 6.00.
    const perLot = (explained.stored.lines as Json[]).find((l) => l.partnerId === cyrilP.partnerId && l.rule === 'per_lot');
    expect(perLot).toMatchObject({ amount: '6.00', currency: 'EUR', tier: 0 });

    // Each of the three sees its commission (Cyril also its CPA: 6,000.00 deposited, 1 lot traded).
    const cyrilAcc = await accruals(cyril, started);
    const noraAcc = await accruals(nora, started);
    const paulAcc = await accruals(paul, started);
    const seenWithin = Date.now() - t0;
    expect(eurTotal(cyrilAcc)).toBeGreaterThan(0n);
    expect(eurTotal(noraAcc)).toBeGreaterThan(0n);
    expect(eurTotal(paulAcc)).toBe(50n); // tier 2: 0.50 a lot
    expect((cyrilAcc.groups as Json[]).map((g) => g.key)).toContain('cpa');
    expect(seenWithin).toBeLessThan(30_000);

    // 5. The scheduled payout (its job, on demand) pays Cyril exactly its accruals (after the safety margin).
    await sleep(6_000);
    const cyrilBefore = eurTotal(await accruals(cyril, started));
    const run = await e2e.call('POST', '/v1/admin/jobs/partner-payouts/runs', { token: admin });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const payouts = await until(cyril, '/v1/partners/me/payouts', (b) => b.items?.some((p: Json) => p.status === 'paid'));
    const paid = (payouts.items as Json[]).find((p) => p.status === 'paid');
    expect(cents(paid.amount.amount)).toBe(cyrilBefore);
    const statement = await e2e.call('GET', `/v1/partners/me/payouts/${paid.payoutId}/statement`, { token: cyril });
    expect(statement.status).toBe(200);
    expect(statement.body.total).toBe(paid.amount.amount);
    const cyrilWallets = await e2e.call('GET', '/v1/wallets', { token: cyril });
    const cyrilEur = cyrilWallets.body.items.find((w: Json) => w.currency === 'EUR');
    expect(cents(cyrilEur.balance.amount)).toBe(cyrilBefore);
    // Paul's identity check still waits for compliance: his payout is held, nothing moved.
    const paulPayouts = await until(paul, '/v1/partners/me/payouts', (b) => b.items?.length > 0);
    expect(paulPayouts.items[0].status).toBe('held');

    // 6. A chargeback of the client's deposit claws back the window's commissions.
    const staffDeposit = await e2e.call('GET', `/v1/deposits/${dep.body.depositId}`, { token: finance });
    await sandboxChargeback({
      providerRef: staffDeposit.body.providerRef,
      merchantRef: dep.body.depositId,
      amount: eur('6000.00'),
      disputeId: `dp_${randomUUID().slice(0, 8)}`,
      reasonCode: '10.4',
    });
    await until(trader, `/v1/deposits/${dep.body.depositId}`, (d) => d.status === 'charged_back');
    const clawed = await until(
      cyril,
      `/v1/partners/me/accruals?from=${started}&to=${new Date(Date.now() + 600_000).toISOString()}&groupBy=rule`,
      (b) => (b.groups as Json[]).some((g) => g.key === 'clawback'),
    );
    expect(eurTotal(clawed)).toBe(0n); // everything earned in the window, reversed exactly
    expect(eurTotal(await accruals(paul, started))).toBe(0n);

    // 7. The replay of the period matches the stored lines to the cent.
    const replay = await e2e.call('POST', '/v1/admin/partners/replay', {
      token: finance,
      body: { from: started, to: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(replay.status, JSON.stringify(replay.body)).toBe(200);
    expect(replay.body.mismatches).toEqual([]);
    expect(replay.body.deals).toBeGreaterThanOrEqual(2);
    for (const t of replay.body.totals as Json[]) expect(t.stored).toBe(t.expected);
  });
});
