/**
 * Contract tests of the cTrader adapter (functions/adapters/platforms/ctrader.ts + ctrader-open-api.ts) against the
 * in-process fake (test/fakes/ctrader-server.ts) over real loopback HTTP (WebServices) and TCP (Open API, framed
 * protobuf): accounts, leverage in cents, groups, access rights, passwords (md5), exactly-once balance operations by
 * externalId, account state, market orders and partial / full closes with exact units, deal paging by cursor, error
 * mapping, an unreachable server, a dropped socket and timeouts; plus property tests of the unit conversions and a
 * check that the adapter's message schema (ctrader-messages.ts) and the fake's separately written wire tables agree on
 * every payload type, field number and enum value they share. One fake per file.
 */
import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import protobuf from 'protobufjs/light.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradingError } from '#domain/trading/errors.ts';
import type { Deal } from '#domain/trading/model.ts';
import {
  CTraderPlatform,
  centsToLeverage,
  centsToVolume,
  decimalText,
  fromMoneyUnits,
  leverageToCents,
  marginLevel,
  md5Hex,
  priceToPoints,
  spotToPoints,
  toMoneyUnits,
  volumeToCents,
} from '#functions/adapters/platforms/ctrader.ts';
import { OPEN_API_SCHEMA, PAYLOAD_TYPES } from '#functions/adapters/platforms/ctrader-messages.ts';
import { type CTraderFake, OPEN_API_ENUMS, OPEN_API_PAYLOADS, OPEN_API_WIRE, startCTraderFake } from '../fakes/ctrader-server.ts';

const passwords = { main: 'Main-Pass-123', investor: 'Invest-Pass-456' };
const EURUSD_LOT = 10_000_000n; // 100,000 units in 0.01 units

let fake: CTraderFake;
let ct: CTraderPlatform;

const adapterFor = (f: CTraderFake, extra: Partial<ConstructorParameters<typeof CTraderPlatform>[0]> = {}) =>
  new CTraderPlatform({
    webServices: { baseUrl: f.webServicesUrl, token: f.token },
    openApi: { ...f.openApi, tls: false, clientId: f.clientId, clientSecret: f.clientSecret, accessToken: f.accessToken },
    server: 'local-ctrader',
    brokerName: 'BESTBROKER',
    ...extra,
  });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

async function newAccount(group = 'retail-usd', leverage = 30): Promise<number> {
  const { login } = await ct.createAccount({
    group,
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

const deposit = (login: number, amount: bigint, externalId: string) =>
  ct.changeBalance({ login, amount, type: 'balance', comment: 'dep', externalId });

beforeAll(async () => {
  fake = await startCTraderFake();
  ct = adapterFor(fake);
});

afterAll(async () => {
  ct?.close();
  await fake?.stop();
});

describe('units', () => {
  it('converts money exactly both ways, and refuses what does not fit', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 8 }),
        (minor, e, md) => {
          if (md >= e) expect(fromMoneyUnits(toMoneyUnits(minor, e, md), md, e)).toBe(minor);
          else {
            const div = 10n ** BigInt(e - md);
            if (minor % div === 0n) expect(fromMoneyUnits(toMoneyUnits(minor, e, md), md, e)).toBe(minor);
            else expect(() => toMoneyUnits(minor, e, md)).toThrow(RangeError);
          }
        },
      ),
    );
    expect(toMoneyUnits(12_345n, 2, 2)).toBe(12_345n);
    expect(toMoneyUnits(12_345n, 2, 8)).toBe(12_345_000_000n); // 123.45 x 10^8
    expect(fromMoneyUnits(10_053_099_944n, 8, 8)).toBe(10_053_099_944n);
    expect(() => fromMoneyUnits(10_053_099_944n, 8, 2)).toThrow(RangeError);
    expect(decimalText(12_345n, 2)).toBe('123.45');
    expect(decimalText(5n, 2)).toBe('0.05');
    expect(decimalText(7n, 0)).toBe('7');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), fc.integer({ min: 0, max: 10 }), (units, digits) => {
        const text = decimalText(units, digits);
        expect(BigInt(text.replace('.', ''))).toBe(units);
        expect(text.includes('.') ? text.split('.')[1]!.length : 0).toBe(digits);
      }),
    );
  });

  it('converts volume exactly: MT5 units (lots x 10,000) <-> 0.01 units through the lot size', () => {
    expect(volumeToCents(10_000n, EURUSD_LOT)).toBe(10_000_000n); // 1 lot = 100,000.00 units
    expect(volumeToCents(100n, EURUSD_LOT)).toBe(100_000n); // 0.01 lot = 1,000.00 units
    expect(volumeToCents(1n, EURUSD_LOT)).toBe(1_000n);
    expect(volumeToCents(100n, 10_000n)).toBe(100n); // XAUUSD 0.01 lot = 1 oz
    expect(volumeToCents(1n, 10_000n)).toBe(1n); // 0.0001 lot of 100 oz = 0.01 oz
    expect(() => volumeToCents(1n, 100n)).toThrow(TradingError); // a 1-unit lot has no 0.0001 lot
    expect(() => volumeToCents(0n, EURUSD_LOT)).toThrow(TradingError);
    expect(() => centsToVolume(1n, EURUSD_LOT)).toThrow(RangeError);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.constantFrom(EURUSD_LOT, 10_000n, 100n, 100_000n),
        (volume, lot) => {
          let cents: bigint;
          try {
            cents = volumeToCents(volume, lot);
          } catch (e) {
            expect(e).toMatchObject({ code: 'invalid_volume' });
            expect((volume * lot) % 10_000n).not.toBe(0n);
            return;
          }
          expect(centsToVolume(cents, lot)).toBe(volume);
        },
      ),
    );
  });

  it('converts leverage to cents and prices to points by rounding to the digits', () => {
    expect(leverageToCents(30)).toBe(3000);
    expect(leverageToCents(1)).toBe(100);
    expect(centsToLeverage(5000)).toBe(50);
    expect(() => centsToLeverage(3333)).toThrow(RangeError);
    expect(() => leverageToCents(1.5)).toThrow(RangeError);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), (n) => {
        expect(centsToLeverage(leverageToCents(n))).toBe(n);
      }),
    );
    expect(priceToPoints(1.0851, 5)).toBe(108_510n);
    expect(priceToPoints(2345.5, 2)).toBe(234_550n);
    expect(priceToPoints(0.1 + 0.2, 1)).toBe(3n);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 0, max: 6 }), (points, digits) => {
        // any price with `digits` decimals survives the double and comes back as the same points
        expect(priceToPoints(Number(decimalText(BigInt(points), digits)), digits)).toBe(BigInt(points));
      }),
    );
    expect(spotToPoints(108_512n, 5)).toBe(108_512n);
    expect(spotToPoints(234_550_000n, 2)).toBe(234_550n);
    expect(spotToPoints(1_234_567n, 6)).toBe(12_345_670n);
    expect(marginLevel(1_009_000n, 217_020n)).toBe('464.93');
    expect(marginLevel(5n, 0n)).toBeNull();
    expect(md5Hex('abc')).toBe('900150983cd24fb0d6963f7d28e17f72');
  });

  it("agrees with the fake's separately written wire tables on every payload type, field and enum value they share", () => {
    const root = protobuf.Root.fromJSON(OPEN_API_SCHEMA);
    for (const [name, n] of Object.entries(OPEN_API_PAYLOADS)) expect([name, PAYLOAD_TYPES[name]]).toEqual([name, n]);
    let shared = 0;
    for (const [name, fields] of Object.entries(OPEN_API_WIRE)) {
      // every message the fake speaks is one the adapter declares
      const type = root.lookupType(name);
      for (const f of fields) {
        const ours = type.fields[f.name];
        if (!ours) continue;
        shared++;
        expect([name, f.name, ours.id, ours.type, ours.required, ours.repeated]).toEqual([
          name,
          f.name,
          f.id,
          f.type,
          f.required,
          f.repeated,
        ]);
      }
      // and no two fields of one message share a number
      expect(new Set(type.fieldsArray.map((f) => f.id)).size).toBe(type.fieldsArray.length);
    }
    expect(shared).toBeGreaterThan(100);
    for (const [name, values] of Object.entries(OPEN_API_ENUMS)) {
      const ours = root.lookupEnum(name).values;
      for (const [key, n] of Object.entries(values)) expect([name, key, ours[key]]).toEqual([name, key, n]);
    }
    // repeated int64 lists go unpacked, as proto2 has them
    expect(root.lookupType('ProtoOASymbolByIdReq').fields.symbolId!.packed).toBe(false);
  });
});

describe('accounts', () => {
  it('creates a trader with the documented fields: md5 password, leverage in cents, group, currency', async () => {
    const login = await newAccount();
    const t = fake.traders.get(login)!;
    expect(t).toMatchObject({
      groupName: 'retail-usd',
      depositCurrency: 'USD',
      leverageInCents: 3000,
      accessRights: 'FULL_ACCESS',
      accountType: 'HEDGED',
      brokerName: 'BESTBROKER',
      hashedPassword: md5Hex(passwords.main),
      description: 'cli_01',
      name: 'Ada Lovelace',
      contactDetails: { email: 'ada@example.com' },
    });
    const stored = JSON.stringify(t, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    expect(stored).not.toContain(passwords.main);
    expect(stored).not.toContain(passwords.investor);
  });

  it('changes leverage (in cents) and group', async () => {
    const login = await newAccount();
    await ct.setLeverage(login, 100);
    await ct.setGroup(login, 'pro-usd');
    const t = await ct.webserv('GET', `/traders/${login}`);
    expect(t).toMatchObject({ login, leverageInCents: 10_000, groupName: 'pro-usd' });
  });

  it('makes an account read-only (NO_TRADING: orders refused, balance operations apply) and disabled (NO_LOGIN)', async () => {
    const login = await newAccount();
    await deposit(login, 100_000n, 'dep-ro');
    await ct.setAccess(login, { readOnly: true, disabled: false });
    expect(fake.traders.get(login)!.accessRights).toBe('NO_TRADING');
    expect(await rejection(ct.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n }))).toMatchObject({
      code: 'trade_disabled',
      retryable: false,
    });
    await ct.changeBalance({ login, amount: 1_000n, type: 'bonus', comment: 'bonus', externalId: 'bonus-ro' });
    expect((await ct.accountState(login)).balance).toBe(101_000n);

    await ct.setAccess(login, { readOnly: false, disabled: true });
    expect(fake.traders.get(login)!.accessRights).toBe('NO_LOGIN');
    expect(await rejection(ct.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n }))).toMatchObject({
      code: 'trade_disabled',
    });

    await ct.setAccess(login, { readOnly: false, disabled: false });
    expect(fake.traders.get(login)!.accessRights).toBe('FULL_ACCESS');
    await expect(ct.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n })).resolves.toMatchObject({
      volume: 100n,
    });
  });

  it('resets the main password (md5 on the wire); the investor password has no cTrader counterpart', async () => {
    const login = await newAccount();
    await ct.resetPasswords(login, { main: 'Fresh-Pass-789', investor: 'Other-Pass-000' });
    expect(fake.traders.get(login)!.hashedPassword).toBe(md5Hex('Fresh-Pass-789'));
    await ct.resetPasswords(login, { investor: 'Only-Investor-1' });
    expect(fake.traders.get(login)!.hashedPassword).toBe(md5Hex('Fresh-Pass-789'));
  });

  it('maps an unknown login to account_not_found, on both APIs', async () => {
    expect(await rejection(ct.accountState(999_999))).toMatchObject({ code: 'account_not_found', retryable: false });
    expect(await rejection(ct.setLeverage(999_999, 50))).toMatchObject({ code: 'account_not_found' });
    expect(await rejection(ct.positions(999_999))).toMatchObject({ code: 'account_not_found' });
    expect(await rejection(ct.marketOrder({ login: 999_999, symbol: 'EURUSD', side: 'buy', volume: 100n }))).toMatchObject({
      code: 'account_not_found',
    });
  });

  it('refuses a wrong token with a plain (configuration) error', async () => {
    const wrong = adapterFor(fake, { webServices: { baseUrl: fake.webServicesUrl, token: 'not-the-token' } });
    const e = await rejection(wrong.accountState(1));
    wrong.close();
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(TradingError);
    expect(String(e)).toMatch(/401 INVALID_TOKEN/);
  });

  it('issues the manager token as documented (md5 of the manager password)', async () => {
    const res = await fetch(`${fake.webServicesUrl}/v2/webserv/managers/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 30017, hashedPassword: md5Hex('Manager-Pass-1') }),
    });
    expect(await res.json()).toEqual({ webservToken: fake.token });
  });
});

describe('balance operations', () => {
  it('applies an externalId once: the same id again is replayed, not applied', async () => {
    const login = await newAccount();
    const id = '01JABCDEFGHJKMNPQRSTVWXYZ0';
    const first = await ct.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'Deposit by card',
      externalId: id,
    });
    expect(first.replayed).toBe(false);
    const again = await ct.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'Deposit by card',
      externalId: id,
    });
    expect(again).toEqual({ ticket: first.ticket, replayed: true });
    expect(await ct.findBalanceOperation(login, id)).toEqual({ ticket: first.ticket, replayed: true });
    expect(await ct.findBalanceOperation(login, '01JZZZZZZZZZZZZZZZZZZZZZZZ')).toBeUndefined();
    const entries = fake.balanceHistory.filter((e) => e.login === login);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      balanceHistoryId: Number(first.ticket),
      type: 'DEPOSIT',
      delta: 100_000n,
      externalId: id,
      externalNote: 'Deposit by card',
      comment: 'Deposit by card',
    });
    // the same id for another amount or type is a conflict, not a second deposit
    expect(
      await rejection(ct.changeBalance({ login, amount: 5_000n, type: 'balance', comment: 'x', externalId: id })),
    ).toMatchObject({
      code: 'duplicate_external_id',
    });
    expect(
      await rejection(ct.changeBalance({ login, amount: 100_000n, type: 'bonus', comment: 'x', externalId: id })),
    ).toMatchObject({
      code: 'duplicate_external_id',
    });

    await ct.changeBalance({ login, amount: -25_050n, type: 'balance', comment: 'Withdrawal', externalId: 'wd-1' });
    expect(fake.balanceHistory.filter((e) => e.login === login).at(-1)).toMatchObject({ type: 'WITHDRAW', delta: 25_050n });
    expect(await ct.accountState(login)).toEqual({
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

  it('sends preciseAmount as the exact decimal and keeps credit apart from balance', async () => {
    const login = await newAccount();
    await ct.changeBalance({ login, amount: 1n, type: 'balance', comment: 'one cent', externalId: 'cent-1' });
    await ct.changeBalance({ login, amount: 123_456_789_012_345n, type: 'balance', comment: 'big', externalId: 'big-1' });
    await ct.changeBalance({ login, amount: 5_000n, type: 'credit', comment: 'credit', externalId: 'cr-1' });
    expect(fake.traders.get(login)).toMatchObject({ balance: 123_456_789_012_346n, nonWithdrawableBonus: 5_000n });
    expect(fake.balanceHistory.filter((e) => e.login === login).map((e) => e.type)).toEqual([
      'DEPOSIT',
      'DEPOSIT',
      'DEPOSIT_NONWITHDRAWABLE_BONUS',
    ]);
    const state = await ct.accountState(login);
    expect(state).toMatchObject({ balance: 123_456_789_012_346n, credit: 5_000n, equity: 123_456_789_017_346n });
    await ct.changeBalance({ login, amount: -5_000n, type: 'credit', comment: 'credit back', externalId: 'cr-2' });
    expect((await ct.accountState(login)).credit).toBe(0n);
    expect(
      await rejection(ct.changeBalance({ login, amount: 0n, type: 'balance', comment: 'zero', externalId: 'zero' })),
    ).toMatchObject({
      code: 'invalid_amount',
    });
  });

  it('refuses a withdrawal beyond free margin with no_money and applies nothing', async () => {
    const login = await newAccount();
    await deposit(login, 10_000n, 'dep-nm');
    const e = await rejection(ct.changeBalance({ login, amount: -10_001n, type: 'balance', comment: 'wd', externalId: 'wd-nm' }));
    expect(e).toMatchObject({ code: 'no_money', retryable: false });
    expect((await ct.accountState(login)).balance).toBe(10_000n);
    expect(await ct.findBalanceOperation(login, 'wd-nm')).toBeUndefined();
  });

  it('answers a 5xx with platform_unavailable (retryable); the caller then finds nothing was applied', async () => {
    const login = await newAccount();
    await deposit(login, 10_000n, 'dep-5xx');
    fake.failNextHttp(503);
    const e = await rejection(deposit(login, 1_000n, 'dep-5xx-2'));
    expect(e).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(await ct.findBalanceOperation(login, 'dep-5xx-2')).toBeUndefined();
    expect(await deposit(login, 1_000n, 'dep-5xx-2')).toMatchObject({ replayed: false });
  });
});

describe('trading', () => {
  it('opens, partly closes and fully closes a position with exact units, prices and P/L', async () => {
    const login = await newAccount();
    await deposit(login, 1_000_000n, 'dep-trade');
    fake.setQuote('EURUSD', '1.08500', '1.08510');

    const open = await ct.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
    expect(open).toMatchObject({ price: 108_510n, volume: 10_000n, positionId: open.order });
    expect(fake.positions.get(open.positionId)).toMatchObject({ volume: 10_000_000n, side: 'BUY' }); // 1 lot = 100,000.00 units
    let [position] = await ct.positions(login);
    expect(position).toMatchObject({
      positionId: open.positionId,
      login,
      symbol: 'EURUSD',
      side: 'buy',
      volume: 10_000n,
      volumeInitial: 10_000n,
      openPrice: 108_510n,
      priceCurrent: 108_500n,
      profit: -1_000n, // 10 points x 1 lot = -10.00 USD
      storage: 0n,
    });

    fake.setQuote('EURUSD', '1.08600', '1.08610');
    const partial = await ct.closePosition(login, open.positionId, 4_000n);
    expect(partial).toMatchObject({ price: 108_600n, volume: 4_000n, positionId: open.positionId });
    [position] = await ct.positions(login);
    // 0.6 lot left; floating P/L = 90 points x 0.6 lot x 100,000 / 10^5 = 54.00 USD
    expect(position).toMatchObject({ volume: 6_000n, volumeInitial: 10_000n, priceCurrent: 108_600n, profit: 5_400n });

    const state = await ct.accountState(login);
    expect(state.balance).toBe(1_003_600n); // realised: 90 points x 0.4 lot = 36.00 USD
    expect(state.profit).toBe(5_400n);
    expect(state.equity).toBe(1_009_000n);
    // margin: 0.6 lot x 100,000 x 1.08510 / 30 = 2,170.20 USD
    expect(state.margin).toBe(217_020n);
    expect(state.freeMargin).toBe(1_009_000n - 217_020n);
    expect(state.marginLevel).toBe('464.93');

    const full = await ct.closePosition(login, open.positionId);
    expect(full).toMatchObject({ price: 108_600n, volume: 6_000n, positionId: open.positionId });
    expect(await ct.positions(login)).toEqual([]);
    expect((await ct.accountState(login)).balance).toBe(1_009_000n);

    const deals = (await ct.dealsSince('', 1000)).deals.filter((d) => d.login === login && d.symbol !== '');
    expect(deals.map((d) => [d.action, d.entry, d.volume, d.price, d.profit])).toEqual([
      ['buy', 'in', 10_000n, 108_510n, 0n],
      ['sell', 'out', 4_000n, 108_600n, 3_600n],
      ['sell', 'out', 6_000n, 108_600n, 5_400n],
    ]);
    expect(deals.every((d) => d.positionId === open.positionId && d.reason === 'client')).toBe(true);
  });

  it('trades XAUUSD (lot size 100 oz) with two-digit prices', async () => {
    const login = await newAccount();
    await deposit(login, 1_000_000n, 'dep-xau');
    fake.setQuote('XAUUSD', '2345.00', '2345.50');
    const fill = await ct.marketOrder({ login, symbol: 'XAUUSD', side: 'sell', volume: 100n });
    expect(fill).toMatchObject({ price: 234_500n, volume: 100n });
    expect(fake.positions.get(fill.positionId)!.volume).toBe(100n); // 1 oz = 1.00 unit
    const [p] = await ct.positions(login);
    expect(p).toMatchObject({ symbol: 'XAUUSD', side: 'sell', priceCurrent: 234_550n, profit: -50n });
  });

  it('maps refusals: invalid volume, no money, unknown position, closed market, unknown symbol', async () => {
    const login = await newAccount();
    await deposit(login, 10_000n, 'dep-ref');
    // 150 units = 0.015 lot: a whole number of 0.01 units, but off the symbol's step (TRADING_BAD_VOLUME)
    expect(await rejection(ct.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 150n }))).toMatchObject({
      code: 'invalid_volume',
    });
    expect(await rejection(ct.marketOrder({ login, symbol: 'XAUUSD', side: 'buy', volume: 1n }))).toMatchObject({
      code: 'invalid_volume',
    });
    expect(await rejection(ct.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000_000n }))).toMatchObject({
      code: 'no_money',
      retryable: false,
    });
    expect(await rejection(ct.closePosition(login, 987_654))).toMatchObject({ code: 'position_not_found' });
    fake.setMarketOpen('EURUSD', false);
    expect(await rejection(ct.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n }))).toMatchObject({
      code: 'market_closed',
    });
    fake.setMarketOpen('EURUSD', true);
    expect(await rejection(ct.marketOrder({ login, symbol: 'GBPJPY', side: 'buy', volume: 100n }))).toMatchObject({
      code: 'symbol_not_found',
    });
  });
});

describe('deals', () => {
  it('pages every trade and balance operation exactly once, oldest first, by an opaque cursor', async () => {
    const all: Deal[] = [];
    let cursor = '';
    for (;;) {
      const page = await ct.dealsSince(cursor, 3);
      expect(page.deals.length).toBeLessThanOrEqual(3);
      if (page.deals.length === 0) {
        expect(page.cursor).toBe(cursor);
        break;
      }
      all.push(...page.deals);
      cursor = page.cursor;
    }
    const trades = all.filter((d) => d.symbol !== '');
    const balances = all.filter((d) => d.symbol === '');
    expect(trades.map((d) => d.deal).sort((a, b) => a - b)).toEqual(fake.deals.map((d) => d.dealId));
    expect(balances.map((d) => d.deal).sort((a, b) => a - b)).toEqual(fake.balanceHistory.map((e) => e.balanceHistoryId));
    const times = all.map((d) => d.timeMsc);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(cursor).toMatch(/^ct1\.\d+\.[tb]\.\d+$/);
    expect((await ct.dealsSince(cursor, 10)).deals).toEqual([]);
    await expect(ct.dealsSince('12@x', 10)).rejects.toThrow(RangeError);

    const balance = all.find((d) => d.externalId === '01JABCDEFGHJKMNPQRSTVWXYZ0')!;
    expect(balance).toMatchObject({
      action: 'balance',
      entry: 'in',
      reason: 'dealer',
      profit: 100_000n,
      symbol: '',
      price: 0n,
      volume: 0n,
      comment: 'Deposit by card',
    });
    expect(all.find((d) => d.externalId === 'wd-1')).toMatchObject({ action: 'balance', profit: -25_050n });
    expect(all.find((d) => d.externalId === 'bonus-ro')).toMatchObject({ action: 'bonus', profit: 1_000n });
    expect(all.find((d) => d.externalId === 'cr-1')).toMatchObject({ action: 'credit', profit: 5_000n });

    // a new deal after the cursor is the only thing the next read returns
    const login = all.at(-1)!.login;
    await deposit(login, 700n, 'dep-after-cursor');
    const next = await ct.dealsSince(cursor, 10);
    expect(next.deals.map((d) => d.externalId)).toEqual(['dep-after-cursor']);
  });

  it('reads deals through a logins provider when one is configured', async () => {
    const login = fake.deals[0]!.login;
    const scoped = adapterFor(fake, { logins: async () => [login] });
    const page = await scoped.dealsSince('', 1000);
    scoped.close();
    expect(new Set(page.deals.map((d) => d.login))).toEqual(new Set([login]));
    expect(page.deals.filter((d) => d.symbol !== '').map((d) => d.deal)).toEqual(
      fake.deals.filter((d) => d.login === login).map((d) => d.dealId),
    );
  });
});

describe('connections', () => {
  it('answers platform_unavailable (retryable) when the Open API socket drops mid-request, then reconnects', async () => {
    const login = await newAccount();
    await deposit(login, 1_000_000n, 'dep-drop');
    fake.hangUpOn('ProtoOANewOrderReq');
    const e = await rejection(ct.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n }));
    expect(e).toBeInstanceOf(TradingError);
    expect(e).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(fake.positions.size).toBeGreaterThan(0);
    expect([...fake.positions.values()].filter((p) => p.login === login)).toEqual([]);
    // the next call opens a new connection and authorises the application and the account again
    const auths = fake.received.get('ProtoOAApplicationAuthReq') ?? 0;
    await expect(ct.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n })).resolves.toMatchObject({ volume: 100n });
    expect(fake.received.get('ProtoOAApplicationAuthReq')).toBe(auths + 1);
  });

  it('refuses wrong Open API client credentials with a plain error', async () => {
    const login = await newAccount();
    const wrong = adapterFor(fake, {
      openApi: { ...fake.openApi, tls: false, clientId: fake.clientId, clientSecret: 'wrong', accessToken: fake.accessToken },
    });
    const e = await rejection(wrong.positions(login));
    wrong.close();
    expect(e).not.toBeInstanceOf(TradingError);
    expect(String(e)).toMatch(/CH_CLIENT_AUTH_FAILURE/);
  });

  it('answers platform_unavailable when nothing listens', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const down = adapterFor(fake, {
      webServices: { baseUrl: `http://127.0.0.1:${port}`, token: 'x' },
      openApi: { host: '127.0.0.1', port, tls: false, clientId: 'a', clientSecret: 'b', accessToken: 'c' },
    });
    expect(await rejection(down.accountState(1))).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(await rejection(down.positions(1))).toMatchObject({ code: 'platform_unavailable', retryable: true });
    down.close();
  });

  describe('timeouts', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent?.close(r));
    });

    it('answers platform_unavailable (retryable) when a server never answers, on both APIs', async () => {
      silent = createServer((s) => {
        sockets.push(s);
      });
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      const port = (silent.address() as { port: number }).port;
      const stuck = adapterFor(fake, {
        webServices: { baseUrl: `http://127.0.0.1:${port}`, token: 'x' },
        openApi: { host: '127.0.0.1', port, tls: false, clientId: 'a', clientSecret: 'b', accessToken: 'c' },
        timeoutMs: 200,
      });
      const started = Date.now();
      const rest = await rejection(stuck.accountState(100_001));
      const proto = await rejection(stuck.positions(100_001));
      stuck.close();
      for (const e of [rest, proto]) {
        expect(e).toBeInstanceOf(TradingError);
        expect(e).toMatchObject({ code: 'platform_unavailable', retryable: true });
      }
      expect(String(proto)).toMatch(/no answer within 200 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
    });
  });
});
