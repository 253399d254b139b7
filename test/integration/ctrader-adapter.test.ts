/**
 * Tests of the cTrader adapter (functions/adapters/platforms/ctrader.ts + ctrader-open-api.ts) against the in-process
 * fake (test/fakes/ctrader-server.ts) over real loopback HTTP (WebServices) and TCP (Open API, framed protobuf). The
 * TradingPlatform contract every adapter keeps (accounts, access, passwords, exactly-once balance operations, trading,
 * deal paging, availability on both APIs) is test/support/platform-contract.ts; this file adds what is cTrader's own:
 * property tests of the unit conversions (money x 10^moneyDigits, volume in 0.01 units through the lot size, leverage
 * in cents, prices), a check that the adapter's message schema (ctrader-messages.ts) and the fake's separately
 * written wire tables agree on every payload type, field number and enum value they share, the documented trader
 * fields (md5 password, accessRights), balance history entries and preciseAmount, XAUUSD's lot size, the ct1 deal
 * cursor, a logins provider, the Open API side of account_not_found, a dropped socket and wrong Open API client
 * credentials. One fake per file.
 */
import fc from 'fast-check';
import protobuf from 'protobufjs/light.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradingError } from '#domain/trading/errors.ts';
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
  volumeLimitsOf,
  volumeToCents,
} from '#functions/adapters/platforms/ctrader.ts';
import { OPEN_API_SCHEMA, PAYLOAD_TYPES } from '#functions/adapters/platforms/ctrader-messages.ts';
import { type CTraderFake, OPEN_API_ENUMS, OPEN_API_PAYLOADS, OPEN_API_WIRE, startCTraderFake } from '../fakes/ctrader-server.ts';
import { accountInput, describePlatformContract, PASSWORDS, readAllDeals, rejection } from '../support/platform-contract.ts';

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

const newAccount = async (): Promise<number> => (await ct.createAccount(accountInput('retail-usd'))).login;

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

describePlatformContract('cTrader', {
  platform: () => ct,
  // both APIs at the one address
  adapterAt: (port, timeoutMs) =>
    adapterFor(fake, {
      webServices: { baseUrl: `http://127.0.0.1:${port}`, token: 'x' },
      openApi: { host: '127.0.0.1', port, tls: false, clientId: 'a', clientSecret: 'b', accessToken: 'c' },
      timeoutMs,
    }),
  wrongCredentials: {
    adapter: () => adapterFor(fake, { webServices: { baseUrl: fake.webServicesUrl, token: 'not-the-token' } }),
    message: /401 INVALID_TOKEN/,
  },
  groups: { initial: 'retail-usd', other: 'pro-usd' },
  accountOnPlatform: async (login) => {
    // read back through WebServices, as a manager sees it
    const t = await ct.webserv('GET', `/traders/${login}`);
    return {
      leverage: t.leverageInCents / 100,
      group: t.groupName,
      canTrade: t.accessRights === 'FULL_ACCESS',
      canLogin: t.accessRights !== 'NO_LOGIN',
    };
  },
  // cTrader keeps md5(password) only
  mainPasswordIs: async (login, password) => fake.traders.get(login)!.hashedPassword === md5Hex(password),
  // investorPasswordIs: cTrader accounts have no investor (read-only) password; the adapter sends it nowhere
  balanceRecords: (login) => fake.balanceHistory.filter((e) => e.login === login).length,
  dealCount: () => fake.deals.length + fake.balanceHistory.length,
  setQuote: (symbol, bid, ask) => fake.setQuote(symbol, bid, ask),
  setMarketOpen: (symbol, open) => fake.setMarketOpen(symbol, open),
  failNextRequest: () => fake.failNextHttp(503),
  // WebServices (account state) and the Open API (positions)
  probes: [(p) => p.accountState(100_001), (p) => p.positions(100_001)],
  capabilities: {
    credit: true,
    positionIdIsOrder: true,
    symbolNotFound: true,
    // ProtoOANewOrderReq.comment is kept on the order (tradeData.comment); ProtoOAClosePositionReq has no comment
    orderComments: true,
    closeComments: false,
  },
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
      hashedPassword: md5Hex(PASSWORDS.main),
      description: 'cli_01',
      name: 'Ada Lovelace',
      contactDetails: { email: 'ada@example.com' },
    });
    const stored = JSON.stringify(t, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
    expect(stored).not.toContain(PASSWORDS.main);
    expect(stored).not.toContain(PASSWORDS.investor);
  });

  it('maps access to accessRights: read-only NO_TRADING, disabled NO_LOGIN (orders refused too), enabled FULL_ACCESS', async () => {
    const login = await newAccount();
    await deposit(login, 100_000n, 'dep-access');
    await ct.setAccess(login, { readOnly: true, disabled: false });
    expect(fake.traders.get(login)!.accessRights).toBe('NO_TRADING');
    await ct.setAccess(login, { readOnly: false, disabled: true });
    expect(fake.traders.get(login)!.accessRights).toBe('NO_LOGIN');
    expect(await rejection(ct.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n }))).toMatchObject({
      code: 'trade_disabled',
    });
    await ct.setAccess(login, { readOnly: false, disabled: false });
    expect(fake.traders.get(login)!.accessRights).toBe('FULL_ACCESS');
  });

  it('resets the main password as its md5; an investor password alongside has no cTrader counterpart', async () => {
    const login = await newAccount();
    await ct.resetPasswords(login, { main: 'Fresh-Pass-789', investor: 'Other-Pass-000' });
    expect(fake.traders.get(login)!.hashedPassword).toBe(md5Hex('Fresh-Pass-789'));
  });

  it('maps an unknown login to account_not_found on the Open API too', async () => {
    expect(await rejection(ct.positions(999_999))).toMatchObject({ code: 'account_not_found' });
    expect(await rejection(ct.marketOrder({ login: 999_999, symbol: 'EURUSD', side: 'buy', volume: 100n }))).toMatchObject({
      code: 'account_not_found',
    });
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
  it('writes one balance history entry with the externalId and note; another type under the id is duplicate_external_id', async () => {
    const login = await newAccount();
    const id = '01JABCDEFGHJKMNPQRSTVWXYZ0';
    const first = await ct.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'Deposit by card',
      externalId: id,
    });
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
    // the same amount under another type is a conflict too (cTrader keeps the source)
    expect(
      await rejection(ct.changeBalance({ login, amount: 100_000n, type: 'bonus', comment: 'x', externalId: id })),
    ).toMatchObject({
      code: 'duplicate_external_id',
    });
    await ct.changeBalance({ login, amount: -25_050n, type: 'balance', comment: 'Withdrawal', externalId: 'wd-1' });
    expect(fake.balanceHistory.filter((e) => e.login === login).at(-1)).toMatchObject({ type: 'WITHDRAW', delta: 25_050n });
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
});

describe('trading', () => {
  it('sends volume in 0.01 units through the lot size and reads no swap on a new position', async () => {
    const login = await newAccount();
    await deposit(login, 1_000_000n, 'dep-units');
    fake.setQuote('EURUSD', '1.08500', '1.08510');
    const open = await ct.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
    expect(fake.positions.get(open.positionId)).toMatchObject({ volume: 10_000_000n, side: 'BUY' }); // 1 lot = 100,000.00 units
    expect((await ct.positions(login))[0]).toMatchObject({ volume: 10_000n, storage: 0n });
  });

  it('trades XAUUSD (lot size 100 oz) with two-digit prices, and refuses a volume off its step', async () => {
    const login = await newAccount();
    await deposit(login, 1_000_000n, 'dep-xau');
    fake.setQuote('XAUUSD', '2345.00', '2345.50');
    const fill = await ct.marketOrder({ login, symbol: 'XAUUSD', side: 'sell', volume: 100n });
    expect(fill).toMatchObject({ price: 234_500n, volume: 100n });
    expect(fake.positions.get(fill.positionId)!.volume).toBe(100n); // 1 oz = 1.00 unit
    const [p] = await ct.positions(login);
    expect(p).toMatchObject({ symbol: 'XAUUSD', side: 'sell', priceCurrent: 234_550n, profit: -50n });
    expect(await rejection(ct.marketOrder({ login, symbol: 'XAUUSD', side: 'buy', volume: 1n }))).toMatchObject({
      code: 'invalid_volume',
    });
  });
});

describe('copy orders and instruments', () => {
  it('keeps the order comment on the order (tradeData.comment); a close carries none (ProtoOAClosePositionReq has no field)', async () => {
    const login = await newAccount();
    await deposit(login, 1_000_000n, 'dep-comment');
    fake.setQuote('EURUSD', '1.08500', '1.08510');
    const open = await ct.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000n, comment: 'cp_ct_comment' });
    await ct.closePosition(login, open.positionId, 400n, 'cx_ct_comment');
    expect(await ct.findTrade(login, 'cp_ct_comment')).toMatchObject({ order: open.order, deal: open.deal, volume: 1_000n });
    expect(await ct.findTrade(login, 'cx_ct_comment')).toBeUndefined();
  });

  it('converts Open API volume limits (0.01 units) to MT5 units: min up, max down, the step to whole steps', () => {
    // EURUSD: lot 100,000.00 units, 0.01-lot min and step, 1,000 lots max
    expect(volumeLimitsOf(EURUSD_LOT, 100_000n, 10_000_000_000n, 100_000n)).toEqual({
      volumeMin: 100n,
      volumeMax: 10_000_000n,
      volumeStep: 100n,
    });
    // XAUUSD: lot 100.00 oz, 1.00 oz min and step
    expect(volumeLimitsOf(10_000n, 100n, 10_000_000n, 100n)).toEqual({
      volumeMin: 100n,
      volumeMax: 10_000_000n,
      volumeStep: 100n,
    });
    // a 0.5-unit minimum of a 3-unit lot rounds up; the step of 0.03 units is 100 MT5 units (0.01 lot)
    expect(volumeLimitsOf(300n, 50n, 301n, 3n)).toEqual({ volumeMin: 1667n, volumeMax: 10_033n, volumeStep: 100n });
  });
});

describe('deals', () => {
  it('pages every trade and balance history entry of the fake by a ct1 cursor', async () => {
    const { deals: all, cursor } = await readAllDeals(ct);
    const trades = all.filter((d) => d.symbol !== '');
    const balances = all.filter((d) => d.symbol === '');
    expect(trades.map((d) => d.deal).sort((a, b) => a - b)).toEqual(fake.deals.map((d) => d.dealId));
    expect(balances.map((d) => d.deal).sort((a, b) => a - b)).toEqual(fake.balanceHistory.map((e) => e.balanceHistoryId));
    expect(cursor).toMatch(/^ct1\.\d+\.[tb]\.\d+$/);
    await expect(ct.dealsSince('12@x', 10)).rejects.toThrow(RangeError);
    expect(all.find((d) => d.externalId === '01JABCDEFGHJKMNPQRSTVWXYZ0')).toMatchObject({
      action: 'balance',
      comment: 'Deposit by card',
    });
    expect(all.find((d) => d.externalId === 'cr-1')).toMatchObject({ action: 'credit', profit: 5_000n });
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
});
