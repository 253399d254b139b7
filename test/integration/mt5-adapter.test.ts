/**
 * Tests of the MT5 adapter (functions/adapters/platforms/mt5.ts) against the local MT5 Web API server
 * (local/platforms/mt5-server.ts) over real loopback HTTP. The TradingPlatform contract every adapter keeps (accounts,
 * access, passwords, exactly-once balance operations, trading, deal paging, availability) is
 * test/support/platform-contract.ts; this file adds what is MT5's own: the auth handshake (hash arithmetic against a
 * fixed vector, an unauthenticated socket), the user record and a group move across currencies, account_exists,
 * the externalId kept in the 31-character deal comment, the order comment on the deal (cut to 31 characters) and
 * findTrade's window around the server's time zone, the symbol record and last tick behind instrument (the *Ext
 * volumes, symbol/get masks, tick/last trans_id), the deal cursor and its window, a logins provider, and a restart on
 * the same state file (with the adapter's re-authentication on a new connection). One server per file; quotes do not
 * tick.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradingError } from '#domain/trading/errors.ts';
import { authAnswer, balanceComment, externalIdOf, Mt5Platform, volumeLimits } from '#functions/adapters/platforms/mt5.ts';
import { type Mt5Server, startMt5Server } from '#local/platforms/mt5-server.ts';
import { accountInput, describePlatformContract, PASSWORDS, readAllDeals, rejection } from '../support/platform-contract.ts';

const MANAGER = { login: 1000, password: 'Test-Manager-1' };

let dir: string;
let stateFile: string;
let server: Mt5Server;
let mt5: Mt5Platform;

const adapterFor = (url: string, extra: Partial<ConstructorParameters<typeof Mt5Platform>[0]> = {}) =>
  new Mt5Platform({ baseUrl: url, manager: MANAGER, server: 'local-mt5', ...extra });

const newAccount = async (): Promise<number> => (await mt5.createAccount(accountInput('real\\standard-usd'))).login;

/** user/check_password: 3006 is MT5's "wrong password" answer; anything else is a failure of the test. */
async function passwordIs(login: number, type: 'main' | 'investor', password: string): Promise<boolean> {
  const e = await mt5.session.call('/api/user/check_password', { login, type }, { Password: password }).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (e === undefined) return true;
  if (/3006/.test(String(e))) return false;
  throw e;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mt5-'));
  stateFile = join(dir, 'mt5-state.json');
  server = await startMt5Server({ manager: MANAGER, stateFile, seed: 7, tickMs: 0 });
  mt5 = adapterFor(server.url);
});

afterAll(async () => {
  mt5?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describePlatformContract('MT5', {
  platform: () => mt5,
  adapterAt: (port, timeoutMs) => adapterFor(`http://127.0.0.1:${port}`, { timeoutMs }),
  // MT5 answers a wrong manager password with 3006 at auth/answer
  wrongCredentials: {
    adapter: () =>
      new Mt5Platform({ baseUrl: server.url, manager: { login: MANAGER.login, password: 'Wrong-Pass-1' }, server: 'x' }),
    message: /3006/,
  },
  groups: { initial: 'real\\standard-usd', other: 'real\\pro-usd' },
  accountOnPlatform: async (login) => {
    const u = (await mt5.session.call('/api/user/get', { login })).answer;
    const rights = Number(u.Rights);
    // USER_RIGHT_ENABLED = 1, USER_RIGHT_TRADE_DISABLED = 4
    return { leverage: Number(u.Leverage), group: String(u.Group), canTrade: (rights & 4) === 0, canLogin: (rights & 1) !== 0 };
  },
  mainPasswordIs: (login, password) => passwordIs(login, 'main', password),
  investorPasswordIs: (login, password) => passwordIs(login, 'investor', password),
  balanceRecords: (login) => server.simulator.deals(login).filter((d) => d.symbol === '').length,
  dealCount: () => server.simulator.deals().length,
  setQuote: async (symbol, bid, ask) => {
    const res = await fetch(`${server.url}/terminal/quotes`, { method: 'POST', body: JSON.stringify({ symbol, bid, ask }) });
    expect(res.status).toBe(200);
  },
  setMarketOpen: (symbol, open) => server.simulator.setTradingOpen(symbol, open),
  // failNextRequest: the local MT5 server has no fault switch (5xx mapping is exercised by the REST adapters' fakes)
  capabilities: {
    credit: true,
    positionIdIsOrder: true,
    // the Web API answers an order for an unknown symbol with 10013 "Invalid request", not a symbol retcode: the
    // adapter reports it as a plain Error (checked below)
    symbolNotFound: false,
    // the dealer request's Comment is the order's and its deal's (opening or closing); deal/get_batch returns it
    orderComments: true,
    closeComments: true,
  },
});

describe('auth', () => {
  it('computes the challenge answer as md5(md5(md5(utf16le(password)) ‖ "WebAPI") ‖ rand)', () => {
    const rand = '00112233445566778899aabbccddeeff';
    // a fixed vector computed outside this code base (Python hashlib over 'Test-Manager-1'.encode('utf-16-le'))
    expect(authAnswer('Test-Manager-1', rand)).toBe('3c11fc799ef03dfabbb7df4372d59c12');
    // and independently here: UTF-16LE by hand, then the two md5 layers
    const bytes: number[] = [];
    for (const ch of 'Pässwörd-€1') {
      const c = ch.charCodeAt(0);
      bytes.push(c & 0xff, c >> 8);
    }
    const md5 = (b: Buffer) => createHash('md5').update(b).digest();
    const h = md5(Buffer.concat([md5(Buffer.from(bytes)), Buffer.from([0x57, 0x65, 0x62, 0x41, 0x50, 0x49])]));
    expect(authAnswer('Pässwörd-€1', rand)).toBe(md5(Buffer.concat([h, Buffer.from(rand, 'hex')])).toString('hex'));
  });

  it('answers 8 to a request on a fresh, unauthenticated connection', async () => {
    await mt5.accountState(await newAccount()); // the adapter's own connection is authenticated
    const body = await new Promise<{ retcode: string }>((resolve, reject) => {
      get(`${server.url}/api/user/get?login=100001`, { agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve(JSON.parse(text)));
      }).on('error', reject);
    });
    expect(body.retcode).toMatch(/^8 /);
    expect(body).not.toHaveProperty('answer');
  });
});

describe('accounts', () => {
  it('keeps the client id and name on the user record; a group move reaches the simulator and may not change currency', async () => {
    const login = await newAccount();
    await mt5.setLeverage(login, 100);
    await mt5.setGroup(login, 'real\\pro-usd');
    const user = await mt5.session.call('/api/user/get', { login });
    expect(user.answer).toMatchObject({
      Login: String(login),
      Leverage: '100',
      Group: 'real\\pro-usd',
      ID: 'cli_01',
      Name: 'Ada Lovelace',
    });
    expect(server.simulator.account(login)).toMatchObject({ leverage: 100, group: 'real\\pro-usd', retail: false });
    // MT5 refuses a move to a group of another currency (3010): a configuration fault, not a TradingError
    const e = await rejection(mt5.setGroup(login, 'real\\standard-eur'));
    expect(e).not.toBeInstanceOf(TradingError);
    expect(String(e)).toMatch(/3010/);
  });

  it('maps a taken login to account_exists', async () => {
    const taken = await newAccount();
    const dup = await rejection(
      mt5.session.call(
        '/api/user/add',
        { group: 'real\\standard-usd', name: 'X', leverage: 30 },
        { Login: String(taken), PassMain: PASSWORDS.main, PassInvestor: PASSWORDS.investor },
      ),
    );
    expect(dup).toMatchObject({ code: 'account_exists' });
  });
});

describe('balance operations', () => {
  it('keeps the externalId at the end of the 31-character deal comment', async () => {
    const login = await newAccount();
    const id = '01JABCDEFGHJKMNPQRSTVWXYZ0';
    await mt5.changeBalance({ login, amount: 100_000n, type: 'balance', comment: 'Deposit by card', externalId: id });
    const deals = server.simulator.deals(login);
    expect(deals).toHaveLength(1);
    expect(deals[0]!.comment).toBe(balanceComment('Deposit by card', id));
    expect(deals[0]!.comment.length).toBeLessThanOrEqual(31);
    expect(externalIdOf(deals[0]!.comment)).toBe(id);
  });
});

describe('trading', () => {
  it('answers an order for an unknown symbol with a plain Error naming retcode 10013 (MT5 has no symbol retcode)', async () => {
    const login = await newAccount();
    await mt5.changeBalance({ login, amount: 10_000n, type: 'balance', comment: 'dep', externalId: 'dep-sym' });
    const e = await rejection(mt5.marketOrder({ login, symbol: 'GBPJPY', side: 'buy', volume: 100n }));
    expect(e).not.toBeInstanceOf(TradingError);
    expect(String(e)).toMatch(/10013/);
  });
});

describe('copy orders: comments and findTrade', () => {
  it('keeps the order comment, cut to 31 characters, on the opening and the closing deal; findTrade matches it the same way', async () => {
    const login = await newAccount();
    await mt5.changeBalance({ login, amount: 1_000_000n, type: 'balance', comment: 'dep', externalId: 'dep-cmt' });
    const long = 'cp_0123456789abcdef0123456789abcdef'; // 35 characters: MT5 keeps 31
    const open = await mt5.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000n, comment: long });
    expect(open.timeMsc).toBe(server.simulator.deals(login).at(-1)!.timeMsc);
    const close = await mt5.closePosition(login, open.positionId, 400n, 'cx_close-1');
    const deals = server.simulator.deals(login).filter((d) => d.symbol !== '');
    expect(deals.map((d) => [d.entry, d.comment])).toEqual([
      ['in', long.slice(0, 31)],
      ['out', 'cx_close-1'],
    ]);
    expect(await mt5.findTrade(login, long)).toEqual(open);
    expect(await mt5.findTrade(login, long.slice(0, 31))).toEqual(open);
    expect(await mt5.findTrade(login, 'cx_close-1')).toEqual(close);
    // a balance deal's comment is not a trade
    expect(await mt5.findTrade(login, 'dep')).toBeUndefined();
    expect(await mt5.findTrade(login, '')).toBeUndefined();
  });

  it('reads only, and allows for the server clock: a notBefore up to 14 hours after the deal still finds it, a day after does not', async () => {
    const login = await newAccount();
    await mt5.changeBalance({ login, amount: 100_000n, type: 'balance', comment: 'dep', externalId: 'dep-window' });
    const fill = await mt5.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n, comment: 'cp_window' });
    const deals = server.simulator.deals().length;
    const at = fill.timeMsc!;
    expect(await mt5.findTrade(login, 'cp_window', at)).toEqual(fill);
    // MT5 deal times are the server's local time: a server behind UTC writes them earlier than the real instant
    expect(await mt5.findTrade(login, 'cp_window', at + 13 * 3_600_000)).toEqual(fill);
    expect(await mt5.findTrade(login, 'cp_window', at + 86_400_000)).toBeUndefined();
    expect(await mt5.findTrade(login + 1_000, 'cp_window')).toBeUndefined();
    expect(server.simulator.deals()).toHaveLength(deals);
  });
});

describe('instrument', () => {
  it('reads the symbol record and the last tick: digits, contract size, limits in MT5 units, the quote and its time', async () => {
    await fetch(`${server.url}/terminal/quotes`, {
      method: 'POST',
      body: JSON.stringify({ symbol: 'XAUUSD', bid: '2351.20', ask: '2351.55' }),
    });
    const quote = server.simulator.quote('XAUUSD');
    expect(await mt5.instrument('XAUUSD')).toEqual({
      symbol: 'XAUUSD',
      digits: 2,
      contractSize: 100n,
      volumeMin: 100n,
      volumeMax: 1_000_000n,
      volumeStep: 100n,
      bid: 235_120n,
      ask: 235_155n,
      quoteTimeMsc: quote.time,
    });
    expect(await rejection(mt5.instrument('GBPJPY'))).toMatchObject({ code: 'symbol_not_found', retryable: false });
  });

  it('prefers the extended-accuracy volumes (1/100,000,000 lot), rounding inward and the step to an MT5-unit multiple', () => {
    expect(volumeLimits({ VolumeMin: '100', VolumeMax: '1000000', VolumeStep: '100' })).toEqual({
      volumeMin: 100n,
      volumeMax: 1_000_000n,
      volumeStep: 100n,
    });
    // a server on extended accuracy: 0.00015 lot minimum, 100.00009 lots maximum, a 0.00003-lot step
    expect(
      volumeLimits({
        VolumeMin: '1',
        VolumeMinExt: '15000',
        VolumeMax: '1000000',
        VolumeMaxExt: '10000009000',
        VolumeStep: '0',
        VolumeStepExt: '3000',
      }),
    ).toEqual({ volumeMin: 2n, volumeMax: 1_000_000n, volumeStep: 3n });
  });

  it('serves symbol/get by mask (always an array) and tick/last with trans_id (only what changed after it)', async () => {
    const majors = await mt5.session.call('/api/symbol/get', { mask: 'Forex\\Major\\*,!Forex\\Major\\USDJPY' });
    expect(majors.answer.map((s: { Symbol: string }) => s.Symbol)).toEqual(['EURUSD', 'GBPUSD']);
    expect((await mt5.session.call('/api/symbol/get', { mask: 'EUR*' })).answer).toEqual([]);
    expect((await mt5.session.call('/api/symbol/get', { symbol: 'EURUSD' })).answer).toMatchObject({
      Symbol: 'EURUSD',
      Path: 'Forex\\Major\\EURUSD',
      Digits: '5',
      ContractSize: '100000.00',
      VolumeStep: '100',
      VolumeStepExt: '1000000',
    });

    const first = await mt5.session.call('/api/tick/last', { symbol: 'EURUSD,GBPUSD,NOPE', trans_id: 0 });
    expect(first.answer.map((t: { Symbol: string }) => t.Symbol)).toEqual(['EURUSD', 'GBPUSD']);
    expect(Number(first.trans_id)).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 5));
    await fetch(`${server.url}/terminal/quotes`, {
      method: 'POST',
      body: JSON.stringify({ symbol: 'GBPUSD', bid: '1.27100', ask: '1.27115' }),
    });
    const next = await mt5.session.call('/api/tick/last', { symbol: 'EURUSD,GBPUSD', trans_id: first.trans_id });
    expect(next.answer).toEqual([
      expect.objectContaining({ Symbol: 'GBPUSD', Digits: '5', Bid: '1.27100', Ask: '1.27115', Last: '0.00000' }),
    ]);
    expect(Number(next.trans_id)).toBeGreaterThan(Number(first.trans_id));
    const none = await mt5.session.call('/api/tick/last', { symbol: 'EURUSD,GBPUSD', trans_id: next.trans_id });
    expect(none).toMatchObject({ trans_id: next.trans_id, answer: [] });
  });
});

describe('deals', () => {
  it("pages the simulator's deals in its order, by a <deal>@<second> cursor that sets the window asked for", async () => {
    const { deals: all, cursor } = await readAllDeals(mt5);
    expect(all.map((d) => d.deal)).toEqual(server.simulator.deals().map((d) => d.deal));
    // the cursor names the last deal and its second: the next read starts at that second, not at the beginning
    const last = all.at(-1)!;
    expect(cursor).toBe(`${last.deal}@${Math.floor(last.timeMsc / 1000)}`);
    expect(cursor).toMatch(/^\d+@\d+$/);
    expect((await mt5.dealsSince(String(all.at(-2)!.deal), 10)).deals.map((d) => d.deal)).toEqual([last.deal]);
    await expect(mt5.dealsSince('12@x', 10)).rejects.toThrow(RangeError);
    // the window is what the server is asked for: from an hour ahead there is nothing, whatever the id says
    expect((await mt5.dealsSince(`1@${Math.floor(Date.now() / 1000) + 3600}`, 10)).deals).toEqual([]);
  });

  it('reads deals through a logins provider when one is configured', async () => {
    const logins = [...new Set(server.simulator.deals().map((d) => d.login))].slice(0, 1);
    const scoped = adapterFor(server.url, { logins: async () => logins });
    const page = await scoped.dealsSince('', 1000);
    scoped.close();
    expect(page.deals.map((d) => d.deal)).toEqual(server.simulator.deals(logins[0]).map((d) => d.deal));
  });
});

describe('restart', () => {
  it('keeps state across a restart on the same state file, and the adapter re-authenticates on the new connection', async () => {
    const login = await newAccount();
    await mt5.changeBalance({ login, amount: 50_000n, type: 'balance', comment: 'dep', externalId: 'dep-restart' });
    await mt5.marketOrder({ login, symbol: 'XAUUSD', side: 'buy', volume: 100n });
    const before = await mt5.accountState(login);
    const positions = await mt5.positions(login);
    const deals = server.simulator.deals().length;

    const port = Number(new URL(server.url).port);
    await server.stop();
    server = await startMt5Server({ manager: MANAGER, stateFile, tickMs: 0, port });

    // same adapter, same URL: its pinned connection is gone, the server answers 8 on the new one, the adapter logs in again
    expect(await mt5.accountState(login)).toEqual(before);
    expect(await mt5.positions(login)).toEqual(positions);
    expect(server.simulator.deals()).toHaveLength(deals);
    expect(
      await mt5.changeBalance({ login, amount: 50_000n, type: 'balance', comment: 'dep', externalId: 'dep-restart' }),
    ).toMatchObject({
      replayed: true,
    });
    const next = await newAccount();
    expect(next).toBeGreaterThan(login);
  });
});
