/**
 * The local trading platform inside the runtime (`npm start`'s code): the MT5 simulator serves MT5's Manager Web
 * API at MT5_WEB_API_URL with the manager credentials the runtime sets, the MT5 adapter drives it unchanged, and
 * the terminal API trades for a login. No HTTP route of ours uses the platform yet (issue 14 in progress): this
 * proves the pieces meet where the trading use cases will plug in.
 */
import { describe, expect, it } from 'vitest';
import { mt5Platform } from '#functions/adapters/platforms/mt5.ts';
import { useRuntime } from './harness.ts';

const e2e = useRuntime();

describe('local trading platform', () => {
  it('the adapter from the runtime environment opens, funds and reads an account the terminal trades on', async () => {
    const platform = mt5Platform({
      baseUrl: process.env.MT5_WEB_API_URL!,
      manager: { login: Number(process.env.MT5_MANAGER_LOGIN), password: process.env.MT5_MANAGER_PASSWORD! },
      server: process.env.MT5_SERVER!,
    });
    expect(e2e.rt.mt5.url).toBe(process.env.MT5_WEB_API_URL);

    const { login } = await platform.createAccount({
      group: 'real\\standard-usd',
      currency: 'USD',
      leverage: 30,
      name: 'E2E Trader',
      clientRef: 'client-e2e',
      passwords: { main: 'Main-Passw0rd!x', investor: 'Inv-Passw0rd!x' },
    });
    const deposit = await platform.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'dep',
      externalId: 'E2EDEP1',
    });
    expect(deposit.replayed).toBe(false);
    expect(
      (await platform.changeBalance({ login, amount: 100_000n, type: 'balance', comment: 'dep', externalId: 'E2EDEP1' }))
        .replayed,
    ).toBe(true);

    const terminal = async (path: string, body: unknown) => {
      const r = await fetch(`${e2e.rt.mt5.url}/terminal${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    expect((await terminal('/quotes', { symbol: 'EURUSD', bid: '1.08500', ask: '1.08510' })).status).toBe(200);
    const open = await terminal('/orders', { login, symbol: 'EURUSD', side: 'buy', lots: '0.10' });
    expect(open.status, JSON.stringify(open.body)).toBe(200);

    const positions = await platform.positions(login);
    expect(positions).toHaveLength(1);
    expect(positions[0]).toMatchObject({ symbol: 'EURUSD', side: 'buy', volume: 1_000n, openPrice: 108_510n });
    const state = await platform.accountState(login);
    expect(state.balance).toBe(100_000n);
    expect(state.margin).toBeGreaterThan(0n);

    const page = await platform.dealsSince('', 100);
    const mine = page.deals.filter((d) => d.login === login);
    expect(mine.map((d) => d.action)).toEqual(['balance', 'buy']);
    expect(mine[0]!.externalId).toBe('E2EDEP1');
  });
});
