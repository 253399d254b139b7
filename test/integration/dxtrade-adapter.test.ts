/**
 * Contract tests of the DXtrade adapter (functions/adapters/platforms/dxtrade.ts) against the fake DXtrade server
 * (test/fakes/dxtrade-server.ts) over loopback HTTP: accounts, leverage / group categories, access, passwords,
 * exactly-once balance operations by client-side transfer id, account state, units, deal paging by an opaque
 * cursor, error mapping, an unreachable server and a timeout; plus property checks of the exact conversions.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradingError } from '#domain/trading/errors.ts';
import type { Deal } from '#domain/trading/model.ts';
import { DxtradePlatform, quantityToVolume, rejectionCode, volumeToQuantity } from '#functions/adapters/platforms/dxtrade.ts';
import { fromScaled, parseExact, Raw, stringifyExact, toScaled } from '#functions/adapters/platforms/rest-json.ts';
import { type DxtradeFake, startDxtradeServer } from '../fakes/dxtrade-server.ts';

const ADMIN = { username: 'manager', domain: 'default', password: 'Admin-Pass-1' };
const INSTRUMENTS = { EURUSD: { digits: 5, contractSize: 100_000n }, XAUUSD: { digits: 2, contractSize: 100n } };
const passwords = { main: 'Main-Pass-123', investor: 'Invest-Pass-456' };

let fake: DxtradeFake;
let dx: DxtradePlatform;

const adapterFor = (url: string, extra: Partial<ConstructorParameters<typeof DxtradePlatform>[0]> = {}) =>
  new DxtradePlatform({ baseUrl: url, admin: ADMIN, server: 'fake-dx', instruments: INSTRUMENTS, ...extra });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

async function newAccount(leverage = 30): Promise<number> {
  const { login } = await dx.createAccount({
    group: 'standard-usd',
    currency: 'USD',
    leverage,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    country: 'GB',
    clientRef: 'cli_01',
    passwords,
  });
  return login;
}

async function userLogin(login: number, password: string): Promise<number> {
  const res = await fetch(`${fake.url}/dxsca-web/login`, {
    method: 'POST',
    body: JSON.stringify({ username: String(login), domain: 'default', password }),
  });
  return res.status;
}

beforeAll(async () => {
  fake = await startDxtradeServer({ admin: ADMIN });
  dx = adapterFor(fake.url);
});

afterAll(async () => {
  await fake?.stop();
});

describe('accounts', () => {
  it('creates an account and sets leverage and group through categories', async () => {
    const login = await newAccount();
    const second = await newAccount();
    expect(second).toBe(login + 1);
    expect(fake.book.account(login)).toMatchObject({
      leverage: 30,
      group: 'standard-usd',
      currency: 'USD',
      name: 'Ada Lovelace',
    });
    await dx.setLeverage(login, 100);
    await dx.setGroup(login, 'pro-usd');
    expect(fake.book.account(login)).toMatchObject({ leverage: 100, group: 'pro-usd' });
    // a margining category the broker has not configured is a configuration fault, not a TradingError
    const e = await rejection(adapterFor(fake.url, { leverageCategory: (n) => `lev-${n}` }).setLeverage(login, 50));
    expect(e).not.toBeInstanceOf(TradingError);
  });

  it('sets read-only and disabled, and resets the main password', async () => {
    const login = await newAccount();
    await dx.changeBalance({ login, amount: 100_000n, type: 'balance', comment: 'dep', externalId: 'dx-ro-dep' });
    await dx.setAccess(login, { readOnly: true, disabled: false });
    expect(await rejection(dx.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n }))).toMatchObject({
      code: 'trade_disabled',
    });
    await dx.changeBalance({ login, amount: 1_000n, type: 'bonus', comment: 'bonus', externalId: 'dx-ro-bonus' });
    expect((await dx.accountState(login)).balance).toBe(101_000n);
    await dx.setAccess(login, { readOnly: false, disabled: true });
    expect(fake.book.account(login).loginDisabled).toBe(true);
    await dx.setAccess(login, { readOnly: false, disabled: false });
    expect(fake.book.account(login)).toMatchObject({ loginDisabled: false, tradeDisabled: false });
    await dx.resetPasswords(login, { main: 'Fresh-Pass-789', investor: 'ignored' });
    expect(fake.book.account(login).password).toBe('Fresh-Pass-789');
    expect(await userLogin(login, 'Fresh-Pass-789')).toBe(200);
    expect(await userLogin(login, passwords.main)).toBe(401);
  });

  it('maps an unknown account to account_not_found', async () => {
    expect(await rejection(dx.accountState(999_999))).toMatchObject({ code: 'account_not_found', retryable: false });
    expect(await rejection(dx.setLeverage(999_999, 10))).toMatchObject({ code: 'account_not_found' });
  });
});

describe('balance operations', () => {
  it('applies an externalId once: the same id again is replayed, and findBalanceOperation finds it', async () => {
    const login = await newAccount();
    const id = '01JABCDEFGHJKMNPQRSTVWXYZ0';
    const first = await dx.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'Deposit by card',
      externalId: id,
    });
    expect(first).toEqual({ ticket: id, replayed: false });
    const again = await dx.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'Deposit by card',
      externalId: id,
    });
    expect(again).toEqual({ ticket: id, replayed: true });
    expect(await dx.findBalanceOperation(login, id)).toEqual({ ticket: id, replayed: true });
    expect(await dx.findBalanceOperation(login, 'never-sent')).toBeUndefined();
    expect(fake.book.deals.filter((d) => d.login === login)).toHaveLength(1);
    expect(
      await rejection(dx.changeBalance({ login, amount: 5_000n, type: 'balance', comment: 'x', externalId: id })),
    ).toMatchObject({ code: 'duplicate_external_id' });

    await dx.changeBalance({ login, amount: -25_050n, type: 'balance', comment: 'Withdrawal', externalId: 'dx-wd-1' });
    expect(await dx.accountState(login)).toEqual({
      login,
      currency: 'USD',
      balance: 74_950n,
      credit: 0n,
      equity: 74_950n,
      margin: 0n,
      freeMargin: 74_950n,
      marginLevel: null,
      profit: 0n,
    });
  });

  it('refuses an over-withdrawal with no_money and applies nothing; refuses credit and zero', async () => {
    const login = await newAccount();
    await dx.changeBalance({ login, amount: 10_000n, type: 'balance', comment: 'dep', externalId: 'dx-nm-dep' });
    const e = await rejection(
      dx.changeBalance({ login, amount: -10_001n, type: 'balance', comment: 'wd', externalId: 'dx-nm-wd' }),
    );
    expect(e).toMatchObject({ code: 'no_money', retryable: false });
    expect((await dx.accountState(login)).balance).toBe(10_000n);
    expect(await dx.findBalanceOperation(login, 'dx-nm-wd')).toBeUndefined();
    expect(await rejection(dx.changeBalance({ login, amount: 0n, type: 'balance', comment: '', externalId: 'z' }))).toMatchObject(
      {
        code: 'invalid_amount',
      },
    );
    const credit = await rejection(dx.changeBalance({ login, amount: 1n, type: 'credit', comment: '', externalId: 'c' }));
    expect(credit).not.toBeInstanceOf(TradingError);
  });
});

describe('trading', () => {
  it('opens, partly closes and closes a position with exact units, prices and P/L', async () => {
    const login = await newAccount();
    await dx.changeBalance({ login, amount: 1_000_000n, type: 'balance', comment: 'dep', externalId: 'dx-trade-dep' });
    fake.setQuote('EURUSD', '1.08500', '1.08510');
    const open = await dx.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
    expect(open).toMatchObject({ price: 108_510n, volume: 10_000n });
    expect([...fake.book.positions.values()].find((p) => p.login === login)?.units).toBe(100_000n);
    let [position] = await dx.positions(login);
    expect(position).toMatchObject({
      positionId: open.positionId,
      symbol: 'EURUSD',
      side: 'buy',
      volume: 10_000n,
      openPrice: 108_510n,
    });

    fake.setQuote('EURUSD', '1.08600', '1.08610');
    const partial = await dx.closePosition(login, open.positionId, 4_000n);
    expect(partial).toMatchObject({ price: 108_600n, volume: 4_000n, positionId: open.positionId });
    [position] = await dx.positions(login);
    expect(position).toMatchObject({ volume: 6_000n, volumeInitial: 10_000n, priceCurrent: 108_600n, profit: 5_400n });
    const state = await dx.accountState(login);
    expect(state).toMatchObject({ balance: 1_003_600n, profit: 5_400n, equity: 1_009_000n, margin: 217_020n });
    expect(state.freeMargin).toBe(1_009_000n - 217_020n);
    expect(state.marginLevel).toBe('464.93');

    const full = await dx.closePosition(login, open.positionId);
    expect(full).toMatchObject({ volume: 6_000n, price: 108_600n });
    expect(await dx.positions(login)).toEqual([]);
    expect((await dx.accountState(login)).balance).toBe(1_009_000n);
  });

  it('maps refusals: fractional units, unknown symbol and position, no money, market closed', async () => {
    const login = await newAccount();
    await dx.changeBalance({ login, amount: 10_000n, type: 'balance', comment: 'dep', externalId: 'dx-ref-dep' });
    // 1 MT5 volume unit of XAUUSD is 0.01 oz: not a whole unit
    expect(await rejection(dx.marketOrder({ login, symbol: 'XAUUSD', side: 'buy', volume: 1n }))).toMatchObject({
      code: 'invalid_volume',
    });
    // 150 MT5 units of EURUSD = 1,500 units: whole, but not a 0.01-lot step on the server
    expect(await rejection(dx.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 150n }))).toMatchObject({
      code: 'invalid_volume',
    });
    expect(await rejection(dx.marketOrder({ login, symbol: 'GBPJPY', side: 'buy', volume: 100n }))).toMatchObject({
      code: 'symbol_not_found',
    });
    expect(await rejection(dx.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000_000n }))).toMatchObject({
      code: 'no_money',
    });
    expect(await rejection(dx.closePosition(login, 987_654))).toMatchObject({ code: 'position_not_found' });
    fake.book.closedMarkets.add('EURUSD');
    expect(await rejection(dx.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n }))).toMatchObject({
      code: 'market_closed',
    });
    fake.book.closedMarkets.delete('EURUSD');
  });
});

describe('deals', () => {
  it('pages every deal exactly once, oldest first, by an opaque cursor', async () => {
    const all: Deal[] = [];
    let cursor = '';
    for (;;) {
      const page = await dx.dealsSince(cursor, 3);
      expect(page.deals.length).toBeLessThanOrEqual(3);
      if (page.deals.length === 0) {
        expect(page.cursor).toBe(cursor);
        break;
      }
      all.push(...page.deals);
      cursor = page.cursor;
    }
    const trades = fake.book.deals.filter((d) => d.kind === 'open' || d.kind === 'close');
    const cash = fake.book.deals.filter((d) => d.kind !== 'open' && d.kind !== 'close');
    expect(all).toHaveLength(trades.length + cash.length);
    expect(new Set(all.map((d) => d.deal)).size).toBe(all.length);
    expect(all.map((d) => d.timeMsc)).toEqual([...all.map((d) => d.timeMsc)].sort((a, b) => a - b));
    const out = all.filter((d) => d.entry === 'out');
    expect(out.map((d) => d.profit)).toContain(3_600n);
    expect(all.find((d) => d.externalId === '01JABCDEFGHJKMNPQRSTVWXYZ0')).toMatchObject({ action: 'balance', profit: 100_000n });
    await expect(dx.dealsSince('not a cursor', 10)).rejects.toThrow(RangeError);
  });
});

describe('availability', () => {
  it('answers platform_unavailable (retryable) for an unreachable server, a 503 and a timeout', async () => {
    const gone = adapterFor('http://127.0.0.1:9', { timeoutMs: 1_000 });
    expect(await rejection(gone.accountState(1))).toMatchObject({ code: 'platform_unavailable', retryable: true });
    fake.failNext = 1;
    expect(await rejection(dx.accountState(700_001))).toMatchObject({ code: 'platform_unavailable', retryable: true });
    fake.hang = true;
    const started = Date.now();
    const e = await rejection(adapterFor(fake.url, { timeoutMs: 200 }).accountState(700_001));
    fake.hang = false;
    expect(e).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses wrong admin credentials with a non-retryable plain Error', async () => {
    const wrong = adapterFor(fake.url, { admin: { ...ADMIN, password: 'nope' } });
    const e = await rejection(wrong.accountState(700_001));
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(TradingError);
  });
});

describe('conversions', () => {
  it('volume <-> quantity is exact both ways and refuses fractions', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.constantFrom(100n, 1_000n, 100_000n, 1n), (lots100, size) => {
        // any whole number of units maps to volume and back when it is a whole volume
        const units = lots100 * size;
        const volume = quantityToVolume(units, size);
        expect(volumeToQuantity(volume, size)).toBe(units);
      }),
    );
    expect(() => volumeToQuantity(1n, 100n)).toThrow(TradingError);
    expect(() => quantityToVolume(1n, 100_000n)).toThrow(TradingError);
    expect(rejectionCode('Insufficient margin')).toBe('no_money');
  });

  it('decimals round-trip through JSON text without a double', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 8 }), (v, scale) => {
        const text = stringifyExact({ amount: new Raw(fromScaled(v, scale)) });
        expect(toScaled(parseExact(text).amount, scale)).toBe(v);
      }),
    );
    expect(toScaled('1.2300', 2)).toBe(123n);
    expect(toScaled('1e-2', 2)).toBe(1n);
    expect(() => toScaled('0.001', 2)).toThrow(RangeError);
    expect(parseExact('{"a":12345678901234567890.12,"b":"x-1"}')).toEqual({ a: '12345678901234567890.12', b: 'x-1' });
  });
});
