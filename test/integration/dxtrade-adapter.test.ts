/**
 * Tests of the DXtrade adapter (functions/adapters/platforms/dxtrade.ts) against the fake DXtrade server
 * (test/fakes/dxtrade-server.ts) over loopback HTTP. The TradingPlatform contract every adapter keeps (accounts,
 * access, passwords, exactly-once balance operations, trading, deal paging, availability) is
 * test/support/platform-contract.ts; this file adds what is DXtrade's own: sequential account codes, leverage as a
 * margining category, the user password behind the trading API's login, the client-side transfer id as the ticket,
 * 'credit' refused (no exactly-once cash transfer), quantities in units of the instrument, the comment as the order's
 * orderCode (a resend under it trades once), instrument details in units; plus property checks of the exact
 * conversions.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradingError } from '#domain/trading/errors.ts';
import {
  DxtradePlatform,
  quantityToVolume,
  rejectionCode,
  volumeLimitsOfUnits,
  volumeToQuantity,
} from '#functions/adapters/platforms/dxtrade.ts';
import { fromScaled, parseExact, Raw, stringifyExact, toScaled } from '#functions/adapters/platforms/rest-json.ts';
import { type DxtradeFake, startDxtradeServer } from '../fakes/dxtrade-server.ts';
import { accountInput, describePlatformContract, rejection, tradingBookHooks } from '../support/platform-contract.ts';

const ADMIN = { username: 'manager', domain: 'default', password: 'Admin-Pass-1' };
const INSTRUMENTS = { EURUSD: { digits: 5, contractSize: 100_000n }, XAUUSD: { digits: 2, contractSize: 100n } };

let fake: DxtradeFake;
let dx: DxtradePlatform;

const adapterFor = (url: string, extra: Partial<ConstructorParameters<typeof DxtradePlatform>[0]> = {}) =>
  new DxtradePlatform({ baseUrl: url, admin: ADMIN, server: 'fake-dx', instruments: INSTRUMENTS, ...extra });

const newAccount = async (): Promise<number> => (await dx.createAccount(accountInput('standard-usd'))).login;

/** The HTTP status of a trading-API login as the account's user. */
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

describePlatformContract('DXtrade', {
  platform: () => dx,
  adapterAt: (port, timeoutMs) => adapterFor(`http://127.0.0.1:${port}`, { timeoutMs }),
  wrongCredentials: { adapter: () => adapterFor(fake.url, { admin: { ...ADMIN, password: 'nope' } }) },
  groups: { initial: 'standard-usd', other: 'pro-usd' },
  ...tradingBookHooks(() => fake),
  mainPasswordIs: async (login, password) => {
    const status = await userLogin(login, password);
    expect([200, 401]).toContain(status);
    return status === 200;
  },
  // investorPasswordIs: DXtrade has no investor (read-only) password; the adapter sends it nowhere
  dealCount: () => fake.book.deals.length,
  capabilities: {
    // DXtrade has no exactly-once cash transfer for credit (only the absolute AccountUpdate.credit): the adapter
    // refuses it with a plain Error (checked below)
    credit: false,
    // a DXtrade position has its own positionCode, not the opening order's code
    positionIdIsOrder: false,
    symbolNotFound: true,
    // the Single Order Request has no text field: the comment is the order's orderCode (client-originated id), opening
    // or closing, and findTrade reads the order history by it
    orderComments: true,
    closeComments: true,
    // a bonus goes as an ADJUSTMENT transfer, which keeps no kind: it comes back as a correction
    bonusDealAction: 'correction',
  },
});

describe('accounts', () => {
  it('creates accounts under consecutive account codes with the name and currency given', async () => {
    const login = await newAccount();
    const second = await newAccount();
    expect(second).toBe(login + 1);
    expect(fake.book.account(login)).toMatchObject({
      leverage: 30,
      group: 'standard-usd',
      currency: 'USD',
      name: 'Ada Lovelace',
    });
  });

  it('sets leverage through a margining category; one the broker has not configured is a configuration fault', async () => {
    const login = await newAccount();
    // a margining category the broker has not configured is a configuration fault, not a TradingError
    const e = await rejection(adapterFor(fake.url, { leverageCategory: (n) => `lev-${n}` }).setLeverage(login, 50));
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(TradingError);
    expect(fake.book.account(login).leverage).toBe(30);
  });

  it('resets the user password; an investor password alongside has no DXtrade counterpart', async () => {
    const login = await newAccount();
    await dx.resetPasswords(login, { main: 'Fresh-Pass-789', investor: 'ignored' });
    expect(fake.book.account(login).password).toBe('Fresh-Pass-789');
  });
});

describe('balance operations', () => {
  it('uses the externalId as the client-side transfer code: it is the ticket, first time and replayed', async () => {
    const login = await newAccount();
    const id = '01JABCDEFGHJKMNPQRSTVWXYZ0';
    const change = { login, amount: 100_000n, type: 'balance', comment: 'Deposit by card', externalId: id } as const;
    expect(await dx.changeBalance(change)).toEqual({ ticket: id, replayed: false });
    expect(await dx.changeBalance(change)).toEqual({ ticket: id, replayed: true });
    expect(await dx.findBalanceOperation(login, id)).toEqual({ ticket: id, replayed: true });
  });

  it('refuses credit with a plain Error: DXtrade has no exactly-once cash transfer for it', async () => {
    const login = await newAccount();
    const credit = await rejection(dx.changeBalance({ login, amount: 1n, type: 'credit', comment: '', externalId: 'c' }));
    expect(credit).toBeInstanceOf(Error);
    expect(credit).not.toBeInstanceOf(TradingError);
    expect(fake.book.deals.filter((d) => d.login === login)).toHaveLength(0);
  });
});

describe('trading', () => {
  it('sends quantities in units of the instrument (1 lot of EURUSD = 100,000 units)', async () => {
    const login = await newAccount();
    await dx.changeBalance({ login, amount: 1_000_000n, type: 'balance', comment: 'dep', externalId: 'dx-units-dep' });
    fake.setQuote('EURUSD', '1.08500', '1.08510');
    await dx.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
    expect([...fake.book.positions.values()].find((p) => p.login === login)?.units).toBe(100_000n);
  });

  it('refuses a volume that is not a whole unit of the instrument with invalid_volume', async () => {
    const login = await newAccount();
    await dx.changeBalance({ login, amount: 10_000n, type: 'balance', comment: 'dep', externalId: 'dx-ref-dep' });
    // 1 MT5 volume unit of XAUUSD is 0.01 oz: not a whole unit
    expect(await rejection(dx.marketOrder({ login, symbol: 'XAUUSD', side: 'buy', volume: 1n }))).toMatchObject({
      code: 'invalid_volume',
    });
  });
});

describe('copy orders', () => {
  it("sends the comment as the order's orderCode; the same comment again trades nothing and answers the first fill", async () => {
    const login = await newAccount();
    await dx.changeBalance({ login, amount: 1_000_000n, type: 'balance', comment: 'dep', externalId: 'dx-code-dep' });
    fake.setQuote('EURUSD', '1.08500', '1.08510');
    const first = await dx.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000n, comment: 'cp_dx_once' });
    expect(fake.book.deals.find((d) => d.login === login && d.kind === 'open')?.comment).toBe('cp_dx_once');
    fake.setQuote('EURUSD', '1.09000', '1.09010');
    const again = await dx.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000n, comment: 'cp_dx_once' });
    expect(again).toEqual(first);
    expect(fake.book.openPositions(login)).toHaveLength(1);
  });

  it('converts instrument details in units to MT5 volume limits: min up, max down, the step to whole increments', () => {
    expect(volumeLimitsOfUnits(100_000n, 1_000n, 10_000_000n, 1_000n)).toEqual({
      volumeMin: 100n,
      volumeMax: 1_000_000n,
      volumeStep: 100n,
    });
    // XAUUSD, 100 oz a lot: 0.5 oz minimum, 1 oz steps -> 1 oz = 0.01 lot = 100 MT5 units
    expect(volumeLimitsOfUnits(100n, 1n, 1_000n, 1n)).toEqual({ volumeMin: 100n, volumeMax: 100_000n, volumeStep: 100n });
    // 3-unit increments of a 100,000-unit lot: the least MT5 volume that is whole increments is 0.0003 lot
    expect(volumeLimitsOfUnits(100_000n, 7n, 100n, 3n)).toEqual({ volumeMin: 1n, volumeMax: 10n, volumeStep: 3n });
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
