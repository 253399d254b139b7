/**
 * Contract tests of the Match-Trader adapter (functions/adapters/platforms/match-trader.ts) against the fake Broker
 * API (test/fakes/match-trader-server.ts) over loopback HTTP: accounts in offers, leverage, group (offer) moves,
 * access, passwords, exactly-once balance operations through the comment and the ledgers, account state, lots,
 * deal paging by an opaque cursor, error mapping, an unreachable server and a timeout; plus conversion properties.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradingError } from '#domain/trading/errors.ts';
import type { Deal } from '#domain/trading/model.ts';
import {
  externalIdOfComment,
  lotsToVolume,
  MatchTraderPlatform,
  matchComment,
  reasonCode,
  volumeToLots,
} from '#functions/adapters/platforms/match-trader.ts';
import { MATCH_GATEWAY, MATCH_SYSTEM, type MatchTraderFake, startMatchTraderServer } from '../fakes/match-trader-server.ts';

const API_KEY = 'test-api-key';
const passwords = { main: 'Main-Pass-123', investor: 'Invest-Pass-456' };

let fake: MatchTraderFake;
let mt: MatchTraderPlatform;
let emails = 0;

const adapterFor = (url: string, extra: Partial<ConstructorParameters<typeof MatchTraderPlatform>[0]> = {}) =>
  new MatchTraderPlatform({
    baseUrl: url,
    apiKey: API_KEY,
    systemUuid: MATCH_SYSTEM,
    paymentGatewayUuid: MATCH_GATEWAY,
    server: 'fake-mtr',
    digits: { EURUSD: 5, XAUUSD: 2 },
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

async function newAccount(leverage = 30, email = `ada${++emails}@example.com`): Promise<number> {
  const { login } = await mt.createAccount({
    group: 'standard-usd',
    currency: 'USD',
    leverage,
    name: 'Ada Lovelace',
    email,
    country: 'GB',
    clientRef: 'cli_01',
    passwords,
  });
  return login;
}

beforeAll(async () => {
  fake = await startMatchTraderServer({ apiKey: API_KEY });
  mt = adapterFor(fake.url);
});

afterAll(async () => {
  await fake?.stop();
});

describe('accounts', () => {
  it('creates trading accounts in an offer, a second one for the same email, and sets leverage and offer', async () => {
    const login = await newAccount(30, 'same@example.com');
    expect(fake.book.account(login)).toMatchObject({ leverage: 30, group: 'standard-usd', email: 'same@example.com' });
    const second = await newAccount(50, 'same@example.com');
    expect(second).not.toBe(login);
    expect(fake.book.account(second).leverage).toBe(50);
    await mt.setLeverage(login, 100);
    await mt.setGroup(login, 'Pro USD');
    expect(fake.book.account(login)).toMatchObject({ leverage: 100, group: 'pro-usd' });
    expect(await rejection(mt.setGroup(login, 'no-such-offer'))).not.toBeInstanceOf(TradingError);
  });

  it('sets access and resets the user password', async () => {
    const login = await newAccount();
    await mt.changeBalance({ login, amount: 100_000n, type: 'balance', comment: 'dep', externalId: 'mt-ro-dep' });
    await mt.setAccess(login, { readOnly: true, disabled: false });
    expect(await rejection(mt.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 100n }))).toMatchObject({
      code: 'trade_disabled',
    });
    await mt.changeBalance({ login, amount: 1_000n, type: 'bonus', comment: 'bonus', externalId: 'mt-ro-bonus' });
    expect((await mt.accountState(login)).balance).toBe(101_000n);
    await mt.setAccess(login, { readOnly: false, disabled: true });
    expect(fake.book.account(login)).toMatchObject({ loginDisabled: true, tradeDisabled: true });
    await mt.setAccess(login, { readOnly: false, disabled: false });
    expect(fake.book.account(login)).toMatchObject({ loginDisabled: false, tradeDisabled: false });
    await mt.resetPasswords(login, { main: 'Fresh-Pass-789', investor: 'ignored' });
    expect(fake.users.get(fake.book.account(login).email)?.password).toBe('Fresh-Pass-789');
  });

  it('maps an unknown trading account to account_not_found', async () => {
    expect(await rejection(mt.accountState(999_999))).toMatchObject({ code: 'account_not_found', retryable: false });
    expect(await rejection(mt.setLeverage(999_999, 10))).toMatchObject({ code: 'account_not_found' });
  });
});

describe('balance operations', () => {
  it('applies an externalId once: the same id again is replayed, and findBalanceOperation finds it', async () => {
    const login = await newAccount();
    const id = '01JABCDEFGHJKMNPQRSTVWXYZ0';
    const first = await mt.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'Deposit by card',
      externalId: id,
    });
    expect(first.replayed).toBe(false);
    const again = await mt.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'Deposit by card',
      externalId: id,
    });
    expect(again).toEqual({ ticket: first.ticket, replayed: true });
    expect(await mt.findBalanceOperation(login, id)).toEqual({ ticket: first.ticket, replayed: true });
    expect(await mt.findBalanceOperation(login, 'never-sent')).toBeUndefined();
    const deals = fake.book.deals.filter((d) => d.login === login);
    expect(deals).toHaveLength(1);
    expect(deals[0]!.comment).toBe(matchComment('Deposit by card', id));
    expect(
      await rejection(mt.changeBalance({ login, amount: 5_000n, type: 'balance', comment: 'x', externalId: id })),
    ).toMatchObject({ code: 'duplicate_external_id' });

    await mt.changeBalance({ login, amount: -25_050n, type: 'balance', comment: 'Withdrawal', externalId: 'mt-wd-1' });
    await mt.changeBalance({ login, amount: 2_000n, type: 'credit', comment: 'Credit', externalId: 'mt-cr-1' });
    expect(await mt.accountState(login)).toEqual({
      login,
      currency: 'USD',
      balance: 74_950n,
      credit: 2_000n,
      equity: 76_950n,
      margin: 0n,
      freeMargin: 76_950n,
      marginLevel: null,
      profit: 0n,
    });
  });

  it('refuses an over-withdrawal with no_money and applies nothing', async () => {
    const login = await newAccount();
    await mt.changeBalance({ login, amount: 10_000n, type: 'balance', comment: 'dep', externalId: 'mt-nm-dep' });
    const e = await rejection(
      mt.changeBalance({ login, amount: -10_001n, type: 'balance', comment: 'wd', externalId: 'mt-nm-wd' }),
    );
    expect(e).toMatchObject({ code: 'no_money', retryable: false });
    expect((await mt.accountState(login)).balance).toBe(10_000n);
    expect(await mt.findBalanceOperation(login, 'mt-nm-wd')).toBeUndefined();
  });
});

describe('trading', () => {
  it('opens, partly closes and closes a position with exact lots, prices and P/L', async () => {
    const login = await newAccount();
    await mt.changeBalance({ login, amount: 1_000_000n, type: 'balance', comment: 'dep', externalId: 'mt-trade-dep' });
    fake.setQuote('EURUSD', '1.08500', '1.08510');
    const open = await mt.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
    expect(open).toMatchObject({ price: 108_510n, volume: 10_000n, positionId: open.order });
    let [position] = await mt.positions(login);
    expect(position).toMatchObject({
      positionId: open.positionId,
      side: 'buy',
      volume: 10_000n,
      volumeInitial: 10_000n,
      openPrice: 108_510n,
    });

    fake.setQuote('EURUSD', '1.08600', '1.08610');
    expect(await mt.closePosition(login, open.positionId, 4_000n)).toMatchObject({
      price: 108_600n,
      volume: 4_000n,
      positionId: open.positionId,
    });
    [position] = await mt.positions(login);
    expect(position).toMatchObject({ volume: 6_000n, volumeInitial: 10_000n, priceCurrent: 108_600n, profit: 5_400n });
    const state = await mt.accountState(login);
    expect(state).toMatchObject({
      balance: 1_003_600n,
      profit: 5_400n,
      equity: 1_009_000n,
      margin: 217_020n,
      marginLevel: '464.93',
    });

    expect(await mt.closePosition(login, open.positionId)).toMatchObject({ volume: 6_000n, price: 108_600n });
    expect(await mt.positions(login)).toEqual([]);
    expect((await mt.accountState(login)).balance).toBe(1_009_000n);
  });

  it('maps refusals: volume, symbol, position, no money, market closed', async () => {
    const login = await newAccount();
    await mt.changeBalance({ login, amount: 10_000n, type: 'balance', comment: 'dep', externalId: 'mt-ref-dep' });
    expect(await rejection(mt.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 150n }))).toMatchObject({
      code: 'invalid_volume',
    });
    expect(await rejection(mt.marketOrder({ login, symbol: 'GBPJPY', side: 'buy', volume: 100n }))).toMatchObject({
      code: 'symbol_not_found',
    });
    expect(await rejection(mt.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000_000n }))).toMatchObject({
      code: 'no_money',
    });
    expect(await rejection(mt.closePosition(login, 987_654))).toMatchObject({ code: 'position_not_found' });
    fake.book.closedMarkets.add('EURUSD');
    expect(await rejection(mt.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n }))).toMatchObject({
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
      const page = await mt.dealsSince(cursor, 3);
      expect(page.deals.length).toBeLessThanOrEqual(3);
      if (page.deals.length === 0) {
        expect(page.cursor).toBe(cursor);
        break;
      }
      all.push(...page.deals);
      cursor = page.cursor;
    }
    // one 'in' deal per position, one 'out' per close, one per cash operation
    const positions = new Set(fake.book.deals.filter((d) => d.kind === 'open').map((d) => d.positionId)).size;
    const others = fake.book.deals.filter((d) => d.kind !== 'open').length;
    expect(all).toHaveLength(positions + others);
    expect(new Set(all.map((d) => d.deal)).size).toBe(all.length);
    expect(all.map((d) => d.timeMsc)).toEqual([...all.map((d) => d.timeMsc)].sort((a, b) => a - b));
    expect(all.filter((d) => d.entry === 'out').map((d) => d.profit)).toContain(3_600n);
    expect(all.find((d) => d.externalId === '01JABCDEFGHJKMNPQRSTVWXYZ0')).toMatchObject({ action: 'balance', profit: 100_000n });
    expect(all.find((d) => d.externalId === 'mt-cr-1')).toMatchObject({ action: 'credit', profit: 2_000n });
    await expect(mt.dealsSince('bad', 10)).rejects.toThrow(RangeError);
  });
});

describe('availability', () => {
  it('answers platform_unavailable (retryable) for an unreachable server, a 503 and a timeout', async () => {
    expect(await rejection(adapterFor('http://127.0.0.1:9', { timeoutMs: 1_000 }).accountState(1))).toMatchObject({
      code: 'platform_unavailable',
      retryable: true,
    });
    fake.failNext = 1;
    expect(await rejection(mt.accountState(900_001))).toMatchObject({ code: 'platform_unavailable', retryable: true });
    fake.hang = true;
    const started = Date.now();
    const e = await rejection(adapterFor(fake.url, { timeoutMs: 200 }).accountState(900_001));
    fake.hang = false;
    expect(e).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a wrong API key with a non-retryable plain Error', async () => {
    const e = await rejection(adapterFor(fake.url, { apiKey: 'wrong' }).accountState(900_001));
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(TradingError);
  });
});

describe('conversions', () => {
  it('lots <-> MT5 volume is exact and refuses more than 4 decimals', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10n ** 15n }), (volume) => {
        expect(lotsToVolume(volumeToLots(volume))).toBe(volume);
      }),
    );
    expect(volumeToLots(4_000n)).toBe('0.4');
    expect(lotsToVolume('1e-4')).toBe(1n);
    expect(() => lotsToVolume('0.00001')).toThrow(TradingError);
    expect(() => volumeToLots(0n)).toThrow(TradingError);
  });

  it('keeps the externalId at the end of a cut comment', () => {
    fc.assert(
      fc.property(fc.string(), fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), (text, id) => {
        const c = matchComment(text, id, 80);
        expect(c.length).toBeLessThanOrEqual(Math.max(80, id.length + 1));
        expect(externalIdOfComment(c)).toBe(id);
      }),
    );
    expect(reasonCode('NOT_ENOUGH_MONEY')).toBe('no_money');
    expect(reasonCode('MARKET_CLOSED')).toBe('market_closed');
  });
});
