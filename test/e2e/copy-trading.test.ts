/**
 * The copy-trading journey of issue 15 over HTTP against the whole local runtime (same code as `npm start`):
 * a provider applies with a live MT5 account and compliance approves it; two followers subscribe with different
 * allocation methods (equity-proportional, and a fixed volume with an equity stop); the provider trades through the
 * simulator's terminal API; the deal stream (its job run on demand through the bus) publishes the deals, the
 * fan-out rule queues one message per follower on the FIFO queue, and the executor mirrors them: the followers see
 * each copy with its latency and slippage. Then the market moves against the followers and the provider's next
 * trade stops the one whose equity stop was hit, and its stop closes its copies. Then the market moves in the
 * remaining follower's favour, a month passes (its fee calendar is moved back, the one thing the test does to the
 * data) and the fee job charges the performance fee exactly on the high-water mark; and a withdrawal from the copy
 * account after new profit charges the fee first.
 */
import { randomUUID } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { ddb } from '#shared/clients.ts';
import { useRuntime } from './harness.ts';
import { type Json, until as untilGet, verifiedClient } from './journeys.ts';

const e2e = useRuntime();
const eur = (amount: string) => ({ amount, currency: 'EUR' });
const until = (token: string, path: string, done: (body: Json) => boolean, ms?: number) => untilGet(e2e, token, path, done, ms);
const key = () => ({ 'idempotency-key': randomUUID() });

async function terminal(path: string, body: unknown): Promise<Json> {
  const r = await fetch(`${e2e.rt.mt5.url}/terminal${path}`, { method: 'POST', body: JSON.stringify(body) });
  const json = await r.json();
  expect(r.status, JSON.stringify(json)).toBe(200);
  return json;
}

const platformAccount = async (login: number): Promise<Json> =>
  (await fetch(`${e2e.rt.mt5.url}/terminal/accounts/${login}`)).json();

/** A KYC-approved client with a live EUR account funded from its wallet (card deposit first). */
async function traderWithAccount(prefix: string, amount: string): Promise<{ token: string; accountId: string; login: number }> {
  const token = await verifiedClient(e2e, prefix);
  const wallets = await e2e.call('GET', '/v1/wallets', { token });
  const wallet = wallets.body.items.find((w: Json) => w.currency === 'EUR');
  const dep = await e2e.call('POST', '/v1/deposits', {
    token,
    headers: key(),
    body: { walletId: wallet.walletId, methodId: 'card', amount: eur('2500.00') },
  });
  expect(dep.status, JSON.stringify(dep.body)).toBe(201);
  await until(token, `/v1/deposits/${dep.body.depositId}`, (d) => d.status === 'completed');
  const opened = await e2e.call('POST', '/v1/trading-accounts', {
    token,
    headers: key(),
    body: { accountType: 'standard', kind: 'live', currency: 'EUR', leverage: 30 },
  });
  expect(opened.status, JSON.stringify(opened.body)).toBe(201);
  const fund = await e2e.call('POST', `/v1/trading-accounts/${opened.body.accountId}/transfers`, {
    token,
    headers: key(),
    body: { direction: 'deposit', amount: eur(amount) },
  });
  expect(fund.status, JSON.stringify(fund.body)).toBe(201);
  expect(fund.body.status).toBe('completed');
  return { token, accountId: opened.body.accountId, login: opened.body.login };
}

describe('copy-trading journey', () => {
  it('a provider is approved, two followers copy its trades with latency and slippage, a protection stops one, fees are charged on the mark and before a withdrawal', async () => {
    const admin = await e2e.signIn('admin@demo.test');
    const compliance = await e2e.signIn('compliance@demo.test');
    const ingest = async () => {
      const run = await e2e.call('POST', '/v1/admin/jobs/trading-deal-ingest/runs', { token: admin });
      expect(run.status, JSON.stringify(run.body)).toBe(202);
    };

    // 1. A provider applies and is approved.
    const provider = await traderWithAccount('provider', '2000.00');
    const submitted = await e2e.call('POST', '/v1/strategies', {
      token: provider.token,
      headers: key(),
      body: {
        accountId: provider.accountId,
        name: 'Calm EURUSD',
        description: 'Intraday EURUSD',
        fees: { performanceBps: 2000, managementBpsPerYear: 0, volumePerMillion: eur('0.00'), subscriptionPerMonth: eur('0.00') },
        minInvestment: eur('100.00'),
      },
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const strategyId = submitted.body.strategyId;
    const decided = await e2e.call('POST', `/v1/admin/strategies/${strategyId}/decision`, {
      token: compliance,
      body: { decision: 'approve', reason: 'Track record and disclosures checked' },
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);

    // 2. Two followers subscribe with different allocation methods.
    const a = await traderWithAccount('follower-a', '1000.00');
    const b = await traderWithAccount('follower-b', '500.00');
    const follow = async (f: typeof a, allocation: Json, protections: Json = {}) => {
      const res = await e2e.call('POST', `/v1/strategies/${strategyId}/subscriptions`, {
        token: f.token,
        headers: key(),
        body: { accountId: f.accountId, allocation, protections: { copyStops: false, ...protections } },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.subscriptionId as string;
    };
    const subA = await follow(a, { mode: 'equity_proportional' });
    const subB = await follow(b, { mode: 'fixed_volume', volume: '1000' }, { equityStop: { kind: 'amount', value: '480.00' } });

    // 3. The provider trades through the simulator's terminal API.
    const buy = await terminal('/orders', { login: provider.login, symbol: 'EURUSD', side: 'buy', lots: '0.20' });
    await ingest();

    // 4. The followers' accounts mirror it, with recorded latency and slippage.
    const copiesA = await until(a.token, `/v1/subscriptions/${subA}/copies`, (c) =>
      c.items.some((i: Json) => i.status === 'filled'),
    );
    const copyA = copiesA.items[0];
    expect(copyA).toMatchObject({ kind: 'open', status: 'filled', symbol: 'EURUSD', side: 'buy', provider: { volume: '2000' } });
    expect(copyA.latencyMs).toBeGreaterThanOrEqual(0);
    expect(copyA.slippagePoints).toMatch(/^-?\d+$/);
    expect(copyA.slippage.currency).toBe('EUR');
    // equity-proportional: 0.20 lot x (1000 / ~2000) = 0.09 or 0.10 lot after the provider's spread, on the 0.01 step
    expect(['900', '1000']).toContain(copyA.fill.volume);
    const copiesB = await until(b.token, `/v1/subscriptions/${subB}/copies`, (c) =>
      c.items.some((i: Json) => i.status === 'filled'),
    );
    expect(copiesB.items[0]).toMatchObject({ kind: 'open', status: 'filled', fill: { volume: '1000' } });
    expect((await platformAccount(a.login)).positions).toHaveLength(1);
    expect((await platformAccount(b.login)).positions).toEqual([expect.objectContaining({ lots: '0.1000', side: 'buy' })]);

    // 5. A protection stops one follower: the market falls, B's equity goes below its stop of 480.00, and the
    // provider's next trade finds it there: B is stopped and its copies are closed; A goes on copying.
    const quote = await terminal('/quotes', { symbol: 'EURUSD', bid: '1.07900', ask: '1.07902' });
    expect(quote.symbol).toBe('EURUSD');
    await terminal('/orders', { login: provider.login, symbol: 'EURUSD', side: 'sell', lots: '0.10' });
    await ingest();
    const stopped = await until(b.token, `/v1/subscriptions/${subB}`, (s) => s.status === 'stopped');
    expect(stopped.stopReason).toBe('equity_stop_loss');
    const bCopies = await until(b.token, `/v1/subscriptions/${subB}/copies`, (c) =>
      c.items.some((i: Json) => i.kind === 'stop_close' && i.status === 'filled'),
    );
    expect(bCopies.items.map((i: Json) => [i.kind, i.status, i.reason ?? null])).toEqual(
      expect.arrayContaining([
        ['open', 'skipped', 'equity_stop_loss'],
        ['stop_close', 'filled', 'equity_stop_loss'],
      ]),
    );
    expect((await platformAccount(b.login)).positions).toEqual([]);
    await until(
      a.token,
      `/v1/subscriptions/${subA}/copies`,
      (c) => c.items.filter((i: Json) => i.status === 'filled').length === 2,
    );
    expect((await platformAccount(a.login)).positions).toHaveLength(2);

    // The provider closes its first position; A's copy of it is closed too.
    await terminal(`/positions/${buy.positionId}/close`, { login: provider.login });
    await ingest();
    await until(a.token, `/v1/subscriptions/${subA}/copies`, (c) =>
      c.items.some((i: Json) => i.kind === 'close' && i.status === 'filled'),
    );
    expect((await platformAccount(a.login)).positions).toHaveLength(1);

    // 6. A monthly settlement charges a performance fee exactly on the high-water mark. The provider buys again,
    // A copies it, the market rises 600 pips: A is well above its mark (its start equity, 1,000.00).
    await terminal('/orders', { login: provider.login, symbol: 'EURUSD', side: 'buy', lots: '0.20' });
    await ingest();
    await until(
      a.token,
      `/v1/subscriptions/${subA}/copies`,
      (c) => c.items.filter((i: Json) => i.kind === 'open' && i.status === 'filled').length === 3,
    );
    await terminal('/quotes', { symbol: 'EURUSD', bid: '1.13900', ask: '1.13902' });
    // A month passes: the subscription's fee calendar says its first anniversary is now.
    await ddb().send(
      new UpdateCommand({
        TableName: e2e.rt.tableName,
        Key: { pk: `SUBSCRIPTION#${subA}`, sk: 'FEES' },
        UpdateExpression: 'SET nextAnniversaryAt = :past',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':past': new Date(Date.now() - 60_000).toISOString() },
      }),
    );
    const feeRun = await e2e.call('POST', '/v1/admin/jobs/copy-fee-settlement/runs', { token: admin });
    expect(feeRun.status, JSON.stringify(feeRun.body)).toBe(202);
    const monthly = (
      await until(a.token, `/v1/subscriptions/${subA}/charges`, (c) =>
        c.items.some((i: Json) => i.point === 'anniversary' && i.status === 'completed'),
      )
    ).items.find((i: Json) => i.point === 'anniversary');
    const cents = (m: Json) => BigInt(String(m.amount).replace('.', ''));
    const gain = cents(monthly.equity.before) - cents(monthly.highWaterMark.before);
    expect(gain).toBeGreaterThan(0n);
    expect(monthly.highWaterMark.before).toEqual(eur('1000.00'));
    // 20 % of the gain above the mark, half-even to the cent; the mark moves to the equity after the fee
    const fee = (gain * 2_000n + 5_000n) / 10_000n;
    expect(cents(monthly.fees.performance)).toBe(fee);
    expect(cents(monthly.fees.total)).toBe(fee);
    expect(cents(monthly.highWaterMark.after)).toBe(cents(monthly.equity.before) - fee);
    const income = await e2e.call('GET', `/v1/strategies/${strategyId}/fees`, { token: provider.token });
    expect(income.status, JSON.stringify(income.body)).toBe(200);
    expect(income.body.items[0]).toMatchObject({ subscriptionId: subA, total: monthly.fees.total });
    const providerView = await e2e.call('GET', `/v1/strategies/${strategyId}/followers`, { token: provider.token });
    expect(providerView.status, JSON.stringify(providerView.body)).toBe(200);
    // the demo tenant keeps no broker share: the provider's income is the whole fee
    expect(providerView.body).toMatchObject({ followers: 1, feeIncome: monthly.fees.total });

    // 7. A withdrawal triggers the early charge: new profit (the market rises again), then 100.00 leaves the copy
    // account: the fee on the profit above the new mark is taken first.
    await terminal('/quotes', { symbol: 'EURUSD', bid: '1.14900', ask: '1.14902' });
    const out = await e2e.call('POST', `/v1/trading-accounts/${a.accountId}/transfers`, {
      token: a.token,
      headers: key(),
      body: { direction: 'withdrawal', amount: eur('100.00') },
    });
    expect(out.status, JSON.stringify(out.body)).toBe(201);
    expect(out.body.status).toBe('completed');
    const charges = await e2e.call('GET', `/v1/subscriptions/${subA}/charges`, { token: a.token });
    const early = charges.body.items.find((i: Json) => i.point === 'withdrawal');
    expect(early).toMatchObject({
      status: 'completed',
      withdrawal: eur('100.00'),
      highWaterMark: { before: monthly.highWaterMark.after },
    });
    const newGain = cents(early.equity.before) - cents(early.highWaterMark.before);
    expect(newGain).toBeGreaterThan(0n);
    expect(cents(early.fees.performance)).toBe((newGain * 2_000n + 5_000n) / 10_000n);
  });
});
