/**
 * The trading account journey of issue 14 over HTTP against the whole local runtime (same code as `npm start`):
 * a client registers and is KYC-approved through the real flow, deposits by card (sandbox PSP), opens a live MT5
 * account on the simulator (passwords once), funds it from the wallet, trades through the simulator's terminal
 * API, sees its positions, state and deals (ingested by the deal-stream job run on demand through the bus), and
 * withdraws back to the wallet; the staff view shows the account's group and no discrepancy. Money is checked to
 * the cent at every step.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useRuntime } from './harness.ts';
import { approvedClient, type Json, until as untilGet } from './journeys.ts';

const e2e = useRuntime();
const eur = (amount: string) => ({ amount, currency: 'EUR' });

const until = (token: string, path: string, done: (body: Json) => boolean, ms?: number) => untilGet(e2e, token, path, done, ms);

async function eurBalance(token: string): Promise<Json> {
  const res = await e2e.call('GET', '/v1/wallets', { token });
  return res.body.items.find((w: Json) => w.currency === 'EUR').balance;
}

async function terminal(path: string, body: unknown): Promise<Json> {
  const r = await fetch(`${e2e.rt.mt5.url}/terminal${path}`, { method: 'POST', body: JSON.stringify(body) });
  const json = await r.json();
  expect(r.status, JSON.stringify(json)).toBe(200);
  return json;
}

describe('trading account journey', () => {
  it('opens a live MT5 account, funds it from the wallet, trades, sees positions and deals, withdraws', async () => {
    const token = await approvedClient(e2e, 'trader');
    const wallets = await e2e.call('GET', '/v1/wallets', { token });
    const wallet = wallets.body.items.find((w: Json) => w.currency === 'EUR');
    const dep = await e2e.call('POST', '/v1/deposits', {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { walletId: wallet.walletId, methodId: 'card', amount: eur('1000.00') },
    });
    expect(dep.status, JSON.stringify(dep.body)).toBe(201);
    await until(token, `/v1/deposits/${dep.body.depositId}`, (d) => d.status === 'completed');

    const types = await e2e.call('GET', '/v1/trading-account-types?kind=live', { token });
    expect(types.body.live).toEqual({ allowed: true });
    const opened = await e2e.call('POST', '/v1/trading-accounts', {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { accountType: 'standard', kind: 'live', currency: 'EUR', leverage: 30 },
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body.passwords.main).toHaveLength(12);
    const { accountId, login } = opened.body;
    expect(login).toBeGreaterThan(0);

    const fund = await e2e.call('POST', `/v1/trading-accounts/${accountId}/transfers`, {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { direction: 'deposit', amount: eur('500.00') },
    });
    expect(fund.status, JSON.stringify(fund.body)).toBe(201);
    expect(fund.body.status).toBe('completed');
    expect(await eurBalance(token)).toEqual(eur('475.00'));

    const buy = await terminal('/orders', { login, symbol: 'EURUSD', side: 'buy', lots: '0.10' });
    const positions = await e2e.call('GET', `/v1/trading-accounts/${accountId}/positions`, { token });
    expect(positions.body.items).toEqual([
      expect.objectContaining({ positionId: buy.positionId, symbol: 'EURUSD', side: 'buy', lots: '0.10' }),
    ]);
    const view = await e2e.call('GET', `/v1/trading-accounts/${accountId}`, { token });
    expect(view.body.state.balance).toEqual(eur('500.00'));
    expect(Number(view.body.state.margin.amount)).toBeGreaterThan(0);
    await terminal(`/positions/${buy.positionId}/close`, { login });

    const admin = await e2e.signIn('admin@demo.test');
    const run = await e2e.call('POST', '/v1/admin/jobs/trading-deal-ingest/runs', { token: admin });
    expect(run.status, JSON.stringify(run.body)).toBe(202);
    const deals = await until(token, `/v1/trading-accounts/${accountId}/deals`, (b) => b.items.length >= 3);
    expect(deals.items.map((d: Json) => `${d.action}/${d.entry}`)).toEqual(['sell/out', 'buy/in', 'balance/in']);

    // the platform's balance after the trade (the account view caches the platform state for a few seconds)
    const after = (await (await fetch(`${e2e.rt.mt5.url}/terminal/accounts/${login}`)).json()) as Json;
    const balance = after.balance as string;
    expect(balance).not.toBe('500.00');
    const back = await e2e.call('POST', `/v1/trading-accounts/${accountId}/transfers`, {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { direction: 'withdrawal', amount: eur(balance) },
    });
    expect(back.status, JSON.stringify(back.body)).toBe(201);
    expect(back.body.status).toBe('completed');
    const cents = (s: string) => Math.round(Number(s) * 100);
    expect(cents((await eurBalance(token)).amount)).toBe(475_00 + cents(balance));

    const clientId = String(wallet.walletId).slice('wal_'.length, -'_EUR'.length);
    const staff = await e2e.call('GET', `/v1/admin/clients/${clientId}/trading-accounts`, {
      token: await e2e.signIn('compliance@demo.test'),
    });
    expect(staff.status, JSON.stringify(staff.body)).toBe(200);
    expect(staff.body.items[0]).toMatchObject({ accountId, group: 'real\\standard-eur', discrepancies: [] });
  });
});
