/**
 * Contract tests of the MT5 adapter (functions/adapters/platforms/mt5.ts) against the local MT5 Web API server
 * (local/platforms/mt5-server.ts) over real loopback HTTP: the auth handshake (hash arithmetic against a fixed
 * vector, a wrong manager password, an unauthenticated socket), accounts, exactly-once balance operations, account
 * numbers, trading units, deal paging, read-only, password reset, a restart on the same state file (and the
 * adapter's re-authentication on a new connection) and a request timeout. One server per file; quotes do not tick.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradingError } from '#domain/trading/errors.ts';
import type { Deal } from '#domain/trading/model.ts';
import { authAnswer, balanceComment, externalIdOf, Mt5Platform } from '#functions/adapters/platforms/mt5.ts';
import { type Mt5Server, startMt5Server } from '#local/platforms/mt5-server.ts';

const MANAGER = { login: 1000, password: 'Test-Manager-1' };
const passwords = { main: 'Main-Pass-123', investor: 'Invest-Pass-456' };

let dir: string;
let stateFile: string;
let server: Mt5Server;
let mt5: Mt5Platform;

const adapterFor = (url: string, extra: Partial<ConstructorParameters<typeof Mt5Platform>[0]> = {}) =>
  new Mt5Platform({ baseUrl: url, manager: MANAGER, server: 'local-mt5', ...extra });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

async function newAccount(group = 'real\\standard-usd', leverage = 30): Promise<number> {
  const { login } = await mt5.createAccount({
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

async function terminal(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return res.json();
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

  it('refuses a wrong manager password with a non-retryable error', async () => {
    const wrong = new Mt5Platform({
      baseUrl: server.url,
      manager: { login: MANAGER.login, password: 'Wrong-Pass-1' },
      server: 'x',
    });
    const e = await rejection(wrong.accountState(1));
    wrong.close();
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(TradingError);
    expect(String(e)).toMatch(/3006/);
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
  it('creates an account and changes its leverage and group', async () => {
    const login = await newAccount();
    expect(login).toBeGreaterThan(0);
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

  it('maps an unknown login to account_not_found and a taken login to account_exists', async () => {
    const e = await rejection(mt5.accountState(999_999));
    expect(e).toMatchObject({ code: 'account_not_found', retryable: false });
    const taken = await newAccount();
    const dup = await rejection(
      mt5.session.call(
        '/api/user/add',
        { group: 'real\\standard-usd', name: 'X', leverage: 30 },
        { Login: String(taken), PassMain: passwords.main, PassInvestor: passwords.investor },
      ),
    );
    expect(dup).toMatchObject({ code: 'account_exists' });
  });

  it('resets the main password: the new one checks, the old one does not', async () => {
    const login = await newAccount();
    await mt5.resetPasswords(login, { main: 'Fresh-Pass-789' });
    await expect(
      mt5.session.call('/api/user/check_password', { login, type: 'main' }, { Password: 'Fresh-Pass-789' }),
    ).resolves.toBeTruthy();
    expect(
      String(
        await rejection(mt5.session.call('/api/user/check_password', { login, type: 'main' }, { Password: passwords.main })),
      ),
    ).toMatch(/3006/);
    await expect(
      mt5.session.call('/api/user/check_password', { login, type: 'investor' }, { Password: passwords.investor }),
    ).resolves.toBeTruthy();
  });
});

describe('balance operations', () => {
  it('applies an externalId once: the same id again is replayed, not applied', async () => {
    const login = await newAccount();
    const id = '01JABCDEFGHJKMNPQRSTVWXYZ0';
    const first = await mt5.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'Deposit by card',
      externalId: id,
    });
    expect(first.replayed).toBe(false);
    const again = await mt5.changeBalance({
      login,
      amount: 100_000n,
      type: 'balance',
      comment: 'Deposit by card',
      externalId: id,
    });
    expect(again).toEqual({ ticket: first.ticket, replayed: true });
    expect(await mt5.findBalanceOperation(login, id)).toEqual({ ticket: first.ticket, replayed: true });
    expect(await mt5.findBalanceOperation(login, '01JZZZZZZZZZZZZZZZZZZZZZZZ')).toBeUndefined();
    const deals = server.simulator.deals(login);
    expect(deals).toHaveLength(1);
    expect(deals[0]!.comment).toBe(balanceComment('Deposit by card', id));
    expect(deals[0]!.comment.length).toBeLessThanOrEqual(31);
    expect(externalIdOf(deals[0]!.comment)).toBe(id);
    // the same id for another amount is a conflict, not a second deposit
    expect(
      await rejection(mt5.changeBalance({ login, amount: 5_000n, type: 'balance', comment: 'x', externalId: id })),
    ).toMatchObject({
      code: 'duplicate_external_id',
    });

    await mt5.changeBalance({ login, amount: -25_050n, type: 'balance', comment: 'Withdrawal', externalId: 'wd-1' });
    const state = await mt5.accountState(login);
    expect(state).toEqual({
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

  it('refuses a withdrawal beyond free margin with no_money and applies nothing', async () => {
    const login = await newAccount();
    await mt5.changeBalance({ login, amount: 10_000n, type: 'balance', comment: 'dep', externalId: 'dep-nm' });
    const e = await rejection(
      mt5.changeBalance({ login, amount: -10_001n, type: 'balance', comment: 'wd', externalId: 'wd-nm' }),
    );
    expect(e).toMatchObject({ code: 'no_money', retryable: false });
    expect((await mt5.accountState(login)).balance).toBe(10_000n);
    expect(await mt5.findBalanceOperation(login, 'wd-nm')).toBeUndefined();
  });
});

describe('trading', () => {
  it('opens and partly closes a position with exact units, prices and P/L', async () => {
    const login = await newAccount();
    await mt5.changeBalance({ login, amount: 1_000_000n, type: 'balance', comment: 'dep', externalId: 'dep-trade' });
    await terminal('/terminal/quotes', { symbol: 'EURUSD', bid: '1.08500', ask: '1.08510' });

    const open = await mt5.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
    expect(open).toMatchObject({ price: 108_510n, volume: 10_000n, positionId: open.order });
    let [position] = await mt5.positions(login);
    expect(position).toMatchObject({
      positionId: open.positionId,
      symbol: 'EURUSD',
      side: 'buy',
      volume: 10_000n,
      volumeInitial: 10_000n,
      openPrice: 108_510n,
    });

    await terminal('/terminal/quotes', { symbol: 'EURUSD', bid: '1.08600', ask: '1.08610' });
    const close = await mt5.closePosition(login, open.positionId, 4_000n);
    expect(close).toMatchObject({ price: 108_600n, volume: 4_000n, positionId: open.positionId });
    [position] = await mt5.positions(login);
    // 0.6 lot left; floating P/L = 90 points x 0.6 lot x 100,000 / 10^5 = 54.00 USD
    expect(position).toMatchObject({ volume: 6_000n, volumeInitial: 10_000n, priceCurrent: 108_600n, profit: 5_400n });

    const deals = (await mt5.dealsSince('', 1000)).deals.filter((d) => d.login === login);
    const out = deals.find((d) => d.entry === 'out')!;
    // realised: 90 points x 0.4 lot = 36.00 USD
    expect(out).toMatchObject({
      action: 'sell',
      reason: 'client',
      price: 108_600n,
      volume: 4_000n,
      profit: 3_600n,
      positionId: open.positionId,
    });
    const state = await mt5.accountState(login);
    expect(state.balance).toBe(1_003_600n);
    expect(state.profit).toBe(5_400n);
    expect(state.equity).toBe(1_009_000n);
    // margin: 0.6 lot x 100,000 x 1.08510 / 30 = 2,170.20 USD
    expect(state.margin).toBe(217_020n);
    expect(state.freeMargin).toBe(1_009_000n - 217_020n);
    expect(state.marginLevel).toBe(server.simulator.accountState(login).marginLevel);
  });

  it('refuses orders on a read-only account (trade_disabled) while balance operations still apply', async () => {
    const login = await newAccount();
    await mt5.changeBalance({ login, amount: 100_000n, type: 'balance', comment: 'dep', externalId: 'dep-ro' });
    await mt5.setAccess(login, { readOnly: true, disabled: false });
    expect(await rejection(mt5.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n }))).toMatchObject({
      code: 'trade_disabled',
    });
    await mt5.changeBalance({ login, amount: 1_000n, type: 'bonus', comment: 'bonus', externalId: 'bonus-ro' });
    expect((await mt5.accountState(login)).balance).toBe(101_000n);
    await mt5.setAccess(login, { readOnly: false, disabled: false });
    await expect(mt5.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n })).resolves.toMatchObject({
      volume: 100n,
    });
    const user = await mt5.session.call('/api/user/get', { login });
    expect(Number(user.answer.Rights) & 4).toBe(0);
  });

  it('maps refusals: invalid volume, unknown position, no money', async () => {
    const login = await newAccount();
    await mt5.changeBalance({ login, amount: 10_000n, type: 'balance', comment: 'dep', externalId: 'dep-ref' });
    expect(await rejection(mt5.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 150n }))).toMatchObject({
      code: 'invalid_volume',
    });
    expect(await rejection(mt5.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000_000n }))).toMatchObject({
      code: 'no_money',
    });
    expect(await rejection(mt5.closePosition(login, 987_654))).toMatchObject({ code: 'position_not_found' });
  });
});

describe('deals', () => {
  it('pages every deal of the server exactly once, oldest first, by cursor', async () => {
    const all: Deal[] = [];
    let cursor = '';
    for (;;) {
      const page = await mt5.dealsSince(cursor, 3);
      expect(page.deals.length).toBeLessThanOrEqual(3);
      if (page.deals.length === 0) {
        expect(page.cursor).toBe(cursor);
        break;
      }
      all.push(...page.deals);
      cursor = page.cursor;
    }
    expect(all.map((d) => d.deal)).toEqual(server.simulator.deals().map((d) => d.deal));
    // the cursor names the last deal and its second: the next read starts at that second, not at the beginning
    const last = all.at(-1)!;
    expect(cursor).toBe(`${last.deal}@${Math.floor(last.timeMsc / 1000)}`);
    expect(cursor).toMatch(/^\d+@\d+$/);
    expect((await mt5.dealsSince(String(all.at(-2)!.deal), 10)).deals.map((d) => d.deal)).toEqual([last.deal]);
    await expect(mt5.dealsSince('12@x', 10)).rejects.toThrow(RangeError);
    // the window is what the server is asked for: from an hour ahead there is nothing, whatever the id says
    expect((await mt5.dealsSince(`1@${Math.floor(Date.now() / 1000) + 3600}`, 10)).deals).toEqual([]);
    const balance = all.find((d) => d.externalId === '01JABCDEFGHJKMNPQRSTVWXYZ0')!;
    expect(balance).toMatchObject({
      action: 'balance',
      entry: 'in',
      reason: 'dealer',
      profit: 100_000n,
      symbol: '',
      price: 0n,
      volume: 0n,
    });
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

describe('timeouts', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent?.close(r));
  });

  it('answers platform_unavailable (retryable) when the server never answers', async () => {
    silent = createServer((s) => {
      sockets.push(s);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const stuck = adapterFor(`http://127.0.0.1:${port}`, { timeoutMs: 200 });
    const started = Date.now();
    const e = await rejection(stuck.accountState(100_001));
    stuck.close();
    expect(e).toBeInstanceOf(TradingError);
    expect(e).toMatchObject({ code: 'platform_unavailable', retryable: true });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
