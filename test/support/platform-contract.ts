/**
 * The TradingPlatform contract (domain/trading/port.ts) as one set of tests that every platform adapter's test file
 * registers against its own fake: accounts (create, leverage, group, access, passwords), exactly-once balance
 * operations by externalId with findBalanceOperation, no_money on an over-withdrawal, a market order with a partial
 * and a full close in exact units, refusals, an order's comment found again by findTrade (the same fill; nothing for
 * another comment or a later notBefore; a close's comment where the platform keeps one; a plain Error where orders
 * carry none), instrument (digits, contract size, limits in MT5 units, the quote the test set; symbol_not_found),
 * deal paging by cursor, account_not_found, and platform_unavailable for a server that is not there, one that never
 * answers and (where the fake can) a 5xx; plus wrong credentials.
 *
 * Each file passes a setup (how to reach the adapter and look inside its fake) and keeps its own file for what only
 * that platform has: wire details, unit conversions, vendor error mapping, the auth handshake.
 *
 * Conventions the contract relies on (every fake keeps them): EURUSD has 5 digits and 100,000 units a lot and
 * accepts 0.01-lot steps (volumeStep 100); GBPJPY does not exist; accounts are created in USD at 30:1; quotes move only when the test sets them; each file
 * starts one fake and the contract's tests run in the order registered (the deals test reads what the earlier ones
 * wrote). externalIds start with `ct-` (at most 26 characters, as MT5 allows) so a file's own tests cannot collide.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { TradingError } from '#domain/trading/errors.ts';
import type { Deal, DealAction } from '#domain/trading/model.ts';
import type { NewPlatformAccount, TradingPlatform } from '#domain/trading/port.ts';
import type { FakeHttp, TradingBook } from '../fakes/trading-book.ts';

/** An adapter the contract builds itself; closed after use when it has a close(). */
type Adapter = TradingPlatform & { close?(): void };

/** The account as the platform (its fake) holds it, in port terms. */
export interface AccountOnPlatform {
  leverage: number;
  group: string;
  /** false once setAccess made it read-only (or disabled, where the platform blocks both). */
  canTrade: boolean;
  /** false once setAccess disabled it. */
  canLogin: boolean;
}

export interface PlatformContractSetup {
  /** The adapter under test, on the file's running fake (read when a test runs, after the file's beforeAll). */
  platform(): TradingPlatform;
  /** An adapter configured like platform() but for the server at 127.0.0.1:port (every API of it), with this timeout. */
  adapterAt(port: number, timeoutMs: number): Adapter;
  /** An adapter whose credentials the fake refuses; `message`: what the plain Error must name. */
  wrongCredentials: { adapter(): Adapter; message?: RegExp };
  /** Groups as setGroup takes them and as accountOnPlatform reads them back: where accounts start, where one moves. */
  groups: { initial: string; other: string };
  /** Fields of createAccount a platform needs different (e.g. a fresh email per account). */
  accountInput?(): Partial<NewPlatformAccount>;
  accountOnPlatform(login: number): Promise<AccountOnPlatform>;
  /** Whether the platform accepts this main (trader) password for the account. */
  mainPasswordIs(login: number, password: string): Promise<boolean>;
  /** Whether it accepts this investor (read-only) password. Omit where the platform has no investor password. */
  investorPasswordIs?(login: number, password: string): Promise<boolean>;
  /** How many balance records the fake holds for the login (each applied balance operation is one). */
  balanceRecords(login: number): number;
  /** How many deals the fake's records make, as the adapter reports deals (trades and balance operations). */
  dealCount(): number;
  /** Sets a quote from decimal strings ("1.08500"); it does not move until set again. */
  setQuote(symbol: string, bid: string, ask: string): Promise<void> | void;
  /** Opens or closes a symbol's market. Omit where the fake cannot close one. */
  setMarketOpen?(symbol: string, open: boolean): void;
  /** Makes the fake answer the next request with HTTP 503 and no effect. Omit where the fake has no such switch. */
  failNextRequest?(): void;
  /** The calls to make against an unreachable or silent server: default accountState; more where a platform has two APIs. */
  probes?: readonly ((p: TradingPlatform) => Promise<unknown>)[];
  capabilities: {
    /** Whether 'credit' balance operations exist (false: the adapter refuses them; its file checks how). */
    credit: boolean;
    /** Whether a new position takes the id of the order that opened it (MT5's hedging model and its followers). */
    positionIdIsOrder: boolean;
    /** Whether an order for a symbol the server does not have is answered with symbol_not_found. */
    symbolNotFound: boolean;
    /**
     * Whether marketOrder's comment reaches the platform's order so findTrade finds the fill (false: the platform's
     * order has no such field, and findTrade refuses with a plain Error rather than answer "not executed").
     */
    orderComments: boolean;
    /** Whether closePosition's comment is kept on the closing order, so findTrade finds the close too. */
    closeComments: boolean;
    /** The action a 'bonus' balance operation comes back with in the deals (default 'bonus'), where the platform keeps no such kind. */
    bonusDealAction?: DealAction;
  };
}

export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Every deal from the beginning, page by page (at most `pageSize` a page); checks an empty page keeps the cursor. */
export async function readAllDeals(p: TradingPlatform, pageSize = 3): Promise<{ deals: Deal[]; cursor: string }> {
  const deals: Deal[] = [];
  let cursor = '';
  for (;;) {
    const page = await p.dealsSince(cursor, pageSize);
    expect(page.deals.length).toBeLessThanOrEqual(pageSize);
    if (page.deals.length === 0) {
      expect(page.cursor).toBe(cursor);
      return { deals, cursor };
    }
    deals.push(...page.deals);
    cursor = page.cursor;
  }
}

/** A local TCP port where nothing listens (bound, then released). */
export async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  return port;
}

/** A local TCP server that accepts connections and never answers; stop() drops them. */
export async function silentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((s) => {
    sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The passwords accountInput() creates accounts with. */
export const PASSWORDS = { main: 'Main-Pass-123', investor: 'Invest-Pass-456' } as const;

/** A new account for the tests: a USD account at 30:1 for Ada Lovelace (cli_01), with PASSWORDS; `over` replaces fields. */
export function accountInput(group: string, over: Partial<NewPlatformAccount> = {}): NewPlatformAccount {
  return {
    group,
    currency: 'USD',
    leverage: 30,
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    country: 'GB',
    clientRef: 'cli_01',
    passwords: { ...PASSWORDS },
    ...over,
  };
}

/**
 * The setup hooks of a fake built on test/fakes/trading-book.ts (DXtrade, Match-Trader): the account's fields and
 * access flags, its balance records, quotes, closed markets and the 503 switch. `fake` is read when a test runs.
 */
export function tradingBookHooks(
  fake: () => FakeHttp & { book: TradingBook; setQuote(symbol: string, bid: string, ask: string): void },
): Pick<PlatformContractSetup, 'accountOnPlatform' | 'balanceRecords' | 'setQuote' | 'setMarketOpen' | 'failNextRequest'> {
  return {
    accountOnPlatform: async (login) => {
      const a = fake().book.account(login);
      return { leverage: a.leverage, group: a.group, canTrade: !a.tradeDisabled, canLogin: !a.loginDisabled };
    },
    balanceRecords: (login) => fake().book.deals.filter((d) => d.login === login).length,
    setQuote: (symbol, bid, ask) => fake().setQuote(symbol, bid, ask),
    setMarketOpen: (symbol, open) => {
      if (open) fake().book.closedMarkets.delete(symbol);
      else fake().book.closedMarkets.add(symbol);
    },
    failNextRequest: () => {
      fake().failNext = 1;
    },
  };
}
/** A ULID, the shape of our transfer ids. */
const TRANSFER_ID = '01JCONTRACTABCDEFGHJKMNPQR';

export function describePlatformContract(name: string, setup: PlatformContractSetup): void {
  const caps = setup.capabilities;
  const probes = setup.probes ?? [(p: TradingPlatform) => p.accountState(100_001)];

  async function newAccount(leverage = 30): Promise<number> {
    const input = accountInput(setup.groups.initial, { leverage, ...setup.accountInput?.() });
    return (await setup.platform().createAccount(input)).login;
  }

  const deposit = (login: number, amount: bigint, externalId: string) =>
    setup.platform().changeBalance({ login, amount, type: 'balance', comment: 'dep', externalId });

  describe(`${name}: TradingPlatform contract`, () => {
    describe('accounts', () => {
      it('creates accounts with their own logins, leverage and group, and changes leverage and group', async () => {
        const p = setup.platform();
        const login = await newAccount();
        const second = await newAccount(50);
        expect(login).toBeGreaterThan(0);
        expect(second).not.toBe(login);
        expect(await setup.accountOnPlatform(login)).toMatchObject({ leverage: 30, group: setup.groups.initial });
        expect(await setup.accountOnPlatform(second)).toMatchObject({ leverage: 50 });
        await p.setLeverage(login, 100);
        await p.setGroup(login, setup.groups.other);
        expect(await setup.accountOnPlatform(login)).toMatchObject({ leverage: 100, group: setup.groups.other });
      });

      it('makes an account read-only (orders refused with trade_disabled, balance operations apply), disabled, and enabled again', async () => {
        const p = setup.platform();
        const login = await newAccount();
        await deposit(login, 100_000n, 'ct-ro-dep');
        expect(await setup.accountOnPlatform(login)).toMatchObject({ canTrade: true, canLogin: true });

        await p.setAccess(login, { readOnly: true, disabled: false });
        expect(await setup.accountOnPlatform(login)).toMatchObject({ canTrade: false, canLogin: true });
        expect(await rejection(p.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n }))).toMatchObject({
          code: 'trade_disabled',
          retryable: false,
        });
        await p.changeBalance({ login, amount: 1_000n, type: 'bonus', comment: 'bonus', externalId: 'ct-ro-bonus' });
        expect((await p.accountState(login)).balance).toBe(101_000n);

        await p.setAccess(login, { readOnly: false, disabled: true });
        expect(await setup.accountOnPlatform(login)).toMatchObject({ canLogin: false });

        await p.setAccess(login, { readOnly: false, disabled: false });
        expect(await setup.accountOnPlatform(login)).toMatchObject({ canTrade: true, canLogin: true });
        await expect(p.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n })).resolves.toMatchObject({
          volume: 100n,
        });
      });

      it('resets the main password: the new one is accepted, the old one not; an investor-only reset leaves it', async () => {
        const p = setup.platform();
        const login = await newAccount();
        expect(await setup.mainPasswordIs(login, PASSWORDS.main)).toBe(true);
        await p.resetPasswords(login, { main: 'Fresh-Pass-789' });
        expect(await setup.mainPasswordIs(login, 'Fresh-Pass-789')).toBe(true);
        expect(await setup.mainPasswordIs(login, PASSWORDS.main)).toBe(false);
        await p.resetPasswords(login, { investor: 'Only-Investor-1' });
        expect(await setup.mainPasswordIs(login, 'Fresh-Pass-789')).toBe(true);
      });

      it.skipIf(!setup.investorPasswordIs)(
        'keeps the investor password apart: a main reset leaves it, its own reset changes it',
        async () => {
          const p = setup.platform();
          const investorIs = setup.investorPasswordIs!;
          const login = await newAccount();
          await p.resetPasswords(login, { main: 'Fresh-Pass-789' });
          expect(await investorIs(login, PASSWORDS.investor)).toBe(true);
          await p.resetPasswords(login, { investor: 'Fresh-Invest-1' });
          expect(await investorIs(login, 'Fresh-Invest-1')).toBe(true);
          expect(await investorIs(login, PASSWORDS.investor)).toBe(false);
          expect(await setup.mainPasswordIs(login, 'Fresh-Pass-789')).toBe(true);
        },
      );

      it('maps an unknown login to account_not_found (not retryable)', async () => {
        const p = setup.platform();
        expect(await rejection(p.accountState(999_999))).toMatchObject({ code: 'account_not_found', retryable: false });
        expect(await rejection(p.setLeverage(999_999, 50))).toMatchObject({ code: 'account_not_found' });
      });
    });

    describe('balance operations', () => {
      it('applies an externalId once: the same id again is replayed, findBalanceOperation finds it, another operation under it is duplicate_external_id', async () => {
        const p = setup.platform();
        const login = await newAccount();
        const change = { login, amount: 100_000n, type: 'balance', comment: 'Deposit by card', externalId: TRANSFER_ID } as const;
        const first = await p.changeBalance(change);
        expect(first.replayed).toBe(false);
        expect(await p.changeBalance(change)).toEqual({ ticket: first.ticket, replayed: true });
        expect(await p.findBalanceOperation(login, TRANSFER_ID)).toEqual({ ticket: first.ticket, replayed: true });
        expect(await p.findBalanceOperation(login, '01JZZZZZZZZZZZZZZZZZZZZZZZ')).toBeUndefined();
        expect(setup.balanceRecords(login)).toBe(1);
        // the same id for another amount is a conflict, not a second deposit
        expect(await rejection(p.changeBalance({ ...change, amount: 5_000n, comment: 'x' }))).toMatchObject({
          code: 'duplicate_external_id',
          retryable: false,
        });
        expect(setup.balanceRecords(login)).toBe(1);

        await p.changeBalance({ login, amount: -25_050n, type: 'balance', comment: 'Withdrawal', externalId: 'ct-wd-1' });
        expect(await p.accountState(login)).toEqual({
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

      it('refuses a zero amount with invalid_amount', async () => {
        const login = await newAccount();
        expect(await rejection(deposit(login, 0n, 'ct-zero'))).toMatchObject({ code: 'invalid_amount', retryable: false });
        expect(setup.balanceRecords(login)).toBe(0);
      });

      it.skipIf(!caps.credit)(
        'keeps credit apart from balance: it adds to equity, not to balance, and goes back out',
        async () => {
          const p = setup.platform();
          const login = await newAccount();
          await deposit(login, 10_000n, 'ct-cr-dep');
          await p.changeBalance({ login, amount: 2_000n, type: 'credit', comment: 'Credit', externalId: 'ct-cr-1' });
          expect(await p.accountState(login)).toEqual({
            login,
            currency: 'USD',
            balance: 10_000n,
            credit: 2_000n,
            equity: 12_000n,
            margin: 0n,
            freeMargin: 12_000n,
            marginLevel: null,
            profit: 0n,
          });
          await p.changeBalance({ login, amount: -2_000n, type: 'credit', comment: 'Credit back', externalId: 'ct-cr-2' });
          expect(await p.accountState(login)).toMatchObject({ balance: 10_000n, credit: 0n, equity: 10_000n });
        },
      );

      it('refuses a withdrawal beyond free margin with no_money and applies nothing', async () => {
        const p = setup.platform();
        const login = await newAccount();
        await deposit(login, 10_000n, 'ct-nm-dep');
        const e = await rejection(
          p.changeBalance({ login, amount: -10_001n, type: 'balance', comment: 'wd', externalId: 'ct-nm-wd' }),
        );
        expect(e).toMatchObject({ code: 'no_money', retryable: false });
        expect((await p.accountState(login)).balance).toBe(10_000n);
        expect(await p.findBalanceOperation(login, 'ct-nm-wd')).toBeUndefined();
      });

      it.skipIf(!setup.failNextRequest)(
        'answers a 5xx with platform_unavailable (retryable); nothing was applied, and the same id applies afterwards',
        async () => {
          const p = setup.platform();
          const login = await newAccount();
          await deposit(login, 10_000n, 'ct-5xx-dep');
          setup.failNextRequest!();
          expect(await rejection(deposit(login, 1_000n, 'ct-5xx-2'))).toMatchObject({
            code: 'platform_unavailable',
            retryable: true,
          });
          expect(await p.findBalanceOperation(login, 'ct-5xx-2')).toBeUndefined();
          expect(await deposit(login, 1_000n, 'ct-5xx-2')).toMatchObject({ replayed: false });
          expect((await p.accountState(login)).balance).toBe(11_000n);
        },
      );
    });

    describe('trading', () => {
      it('opens, partly closes and fully closes a position with exact units, prices and P/L', async () => {
        const p = setup.platform();
        const login = await newAccount();
        await deposit(login, 1_000_000n, 'ct-trade-dep');
        await setup.setQuote('EURUSD', '1.08500', '1.08510');

        const open = await p.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 10_000n });
        expect(open).toMatchObject({ price: 108_510n, volume: 10_000n });
        if (caps.positionIdIsOrder) expect(open.positionId).toBe(open.order);
        let [position] = await p.positions(login);
        expect(position).toMatchObject({
          positionId: open.positionId,
          login,
          symbol: 'EURUSD',
          side: 'buy',
          volume: 10_000n,
          volumeInitial: 10_000n,
          openPrice: 108_510n,
          priceCurrent: 108_500n, // a buy is valued at the bid
          profit: -1_000n, // 10 points x 1 lot = -10.00 USD
        });

        await setup.setQuote('EURUSD', '1.08600', '1.08610');
        const partial = await p.closePosition(login, open.positionId, 4_000n);
        expect(partial).toMatchObject({ price: 108_600n, volume: 4_000n, positionId: open.positionId });
        [position] = await p.positions(login);
        // 0.6 lot left; floating P/L = 90 points x 0.6 lot x 100,000 / 10^5 = 54.00 USD
        expect(position).toMatchObject({ volume: 6_000n, volumeInitial: 10_000n, priceCurrent: 108_600n, profit: 5_400n });

        const state = await p.accountState(login);
        expect(state.balance).toBe(1_003_600n); // realised: 90 points x 0.4 lot = 36.00 USD
        expect(state.profit).toBe(5_400n);
        expect(state.equity).toBe(1_009_000n);
        // margin: 0.6 lot x 100,000 x 1.08510 / 30 = 2,170.20 USD
        expect(state.margin).toBe(217_020n);
        expect(state.freeMargin).toBe(1_009_000n - 217_020n);
        expect(state.marginLevel).toBe('464.93');

        const full = await p.closePosition(login, open.positionId);
        expect(full).toMatchObject({ price: 108_600n, volume: 6_000n, positionId: open.positionId });
        expect(await p.positions(login)).toEqual([]);
        expect((await p.accountState(login)).balance).toBe(1_009_000n);

        const deals = (await p.dealsSince('', 1000)).deals.filter((d) => d.login === login && d.symbol !== '');
        expect(deals.map((d) => [d.action, d.entry, d.volume, d.price, d.profit])).toEqual([
          ['buy', 'in', 10_000n, 108_510n, 0n],
          ['sell', 'out', 4_000n, 108_600n, 3_600n],
          ['sell', 'out', 6_000n, 108_600n, 5_400n],
        ]);
        expect(deals.every((d) => d.positionId === open.positionId && d.reason === 'client')).toBe(true);
      });

      it('maps refusals: invalid volume, no money, unknown position; a refused order opens nothing', async () => {
        const p = setup.platform();
        const login = await newAccount();
        await deposit(login, 10_000n, 'ct-ref-dep');
        // 150 units = 0.015 lot: off every fake's 0.01-lot step
        expect(await rejection(p.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 150n }))).toMatchObject({
          code: 'invalid_volume',
          retryable: false,
        });
        expect(await rejection(p.marketOrder({ login, symbol: 'EURUSD', side: 'buy', volume: 1_000_000n }))).toMatchObject({
          code: 'no_money',
          retryable: false,
        });
        expect(await rejection(p.closePosition(login, 987_654))).toMatchObject({ code: 'position_not_found' });
        expect(await p.positions(login)).toEqual([]);
      });

      it.skipIf(!caps.symbolNotFound)('maps an unknown symbol to symbol_not_found', async () => {
        const p = setup.platform();
        const login = await newAccount();
        await deposit(login, 10_000n, 'ct-sym-dep');
        expect(await rejection(p.marketOrder({ login, symbol: 'GBPJPY', side: 'buy', volume: 100n }))).toMatchObject({
          code: 'symbol_not_found',
          retryable: false,
        });
      });

      it.skipIf(!setup.setMarketOpen)(
        'refuses an order on a closed market with market_closed, and trades again once it opens',
        async () => {
          const p = setup.platform();
          const login = await newAccount();
          await deposit(login, 100_000n, 'ct-closed-dep');
          setup.setMarketOpen!('EURUSD', false);
          try {
            expect(await rejection(p.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n }))).toMatchObject({
              code: 'market_closed',
            });
          } finally {
            setup.setMarketOpen!('EURUSD', true);
          }
          await expect(p.marketOrder({ login, symbol: 'EURUSD', side: 'sell', volume: 100n })).resolves.toMatchObject({
            volume: 100n,
          });
        },
      );
    });

    describe('copy orders: comments and findTrade', () => {
      it.skipIf(!caps.orderComments)(
        'finds a market order by its comment with the same fill; nothing for another comment, account or a later notBefore; reads only',
        async () => {
          const p = setup.platform();
          const login = await newAccount();
          const other = await newAccount();
          await deposit(login, 1_000_000n, 'ct-copy-dep');
          await setup.setQuote('EURUSD', '1.08500', '1.08510');
          const started = Date.now();
          const fill = await p.marketOrder({
            login,
            symbol: 'EURUSD',
            side: 'buy',
            volume: 1_000n,
            comment: 'cp_contract_open_1',
          });
          const deals = setup.dealCount();

          const found = await p.findTrade(login, 'cp_contract_open_1');
          expect(found).toMatchObject({
            order: fill.order,
            deal: fill.deal,
            positionId: fill.positionId,
            price: fill.price,
            volume: fill.volume,
          });
          expect(found).toMatchObject({ price: 108_510n, volume: 1_000n });
          if (found?.timeMsc !== undefined && fill.timeMsc !== undefined) expect(found.timeMsc).toBe(fill.timeMsc);
          expect(await p.findTrade(login, 'cp_contract_open_1', started - 1_000)).toMatchObject({ deal: fill.deal });
          expect(await p.findTrade(login, 'cp_contract_unknown')).toBeUndefined();
          expect(await p.findTrade(login, 'cp_contract_open_1', Date.now() + 86_400_000)).toBeUndefined();
          expect(await p.findTrade(other, 'cp_contract_open_1')).toBeUndefined();
          expect(setup.dealCount()).toBe(deals);
        },
      );

      it.skipIf(!caps.orderComments || !caps.closeComments)(
        "finds a close by its comment: the closing order's fill, on the position it closed",
        async () => {
          const p = setup.platform();
          const login = await newAccount();
          await deposit(login, 1_000_000n, 'ct-copy-close-dep');
          await setup.setQuote('EURUSD', '1.08500', '1.08510');
          const open = await p.marketOrder({
            login,
            symbol: 'EURUSD',
            side: 'sell',
            volume: 1_000n,
            comment: 'cp_contract_open_2',
          });
          await setup.setQuote('EURUSD', '1.08400', '1.08410');
          const close = await p.closePosition(login, open.positionId, 400n, 'cx_contract_close_2');
          expect(await p.findTrade(login, 'cx_contract_close_2')).toMatchObject({
            order: close.order,
            deal: close.deal,
            positionId: open.positionId,
            price: 108_410n,
            volume: 400n,
          });
          expect(await p.findTrade(login, 'cp_contract_open_2')).toMatchObject({ deal: open.deal, volume: 1_000n });
        },
      );

      it.skipIf(caps.orderComments)(
        'refuses findTrade with a plain, non-retryable Error where orders carry no comment (never "not executed")',
        async () => {
          const e = await rejection(setup.platform().findTrade(100_001, 'cp_contract_open_1'));
          expect(e).toBeInstanceOf(Error);
          expect(e).not.toBeInstanceOf(TradingError);
        },
      );
    });

    describe('instrument', () => {
      it('answers digits, contract size, volume limits in MT5 units and the quote the test set', async () => {
        const p = setup.platform();
        const before = Date.now();
        await setup.setQuote('EURUSD', '1.09120', '1.09135');
        const i = await p.instrument('EURUSD');
        expect(i).toMatchObject({
          symbol: 'EURUSD',
          digits: 5,
          contractSize: 100_000n,
          volumeStep: 100n,
          bid: 109_120n,
          ask: 109_135n,
        });
        expect(i.volumeMin).toBeGreaterThan(0n);
        expect(i.volumeMin % i.volumeStep).toBe(0n);
        expect(i.volumeMax).toBeGreaterThanOrEqual(1_000_000n); // 100 lots at least: the no_money test orders that much
        expect(i.quoteTimeMsc).toBeGreaterThanOrEqual(before - 1);
        expect(i.quoteTimeMsc).toBeLessThanOrEqual(Date.now() + 1_000);
        await setup.setQuote('EURUSD', '1.08500', '1.08510');
      });

      it('answers symbol_not_found (not retryable) for a symbol the server does not have', async () => {
        expect(await rejection(setup.platform().instrument('GBPJPY'))).toMatchObject({
          code: 'symbol_not_found',
          retryable: false,
        });
      });
    });

    describe('deals', () => {
      it('pages every deal exactly once, oldest first, by cursor; a new deal is all that comes after the cursor', async () => {
        const p = setup.platform();
        const { deals: all, cursor } = await readAllDeals(p);
        expect(all).toHaveLength(setup.dealCount());
        expect(new Set(all.map((d) => d.deal)).size).toBe(all.length);
        const times = all.map((d) => d.timeMsc);
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect((await p.dealsSince(cursor, 10)).deals).toEqual([]);
        await expect(p.dealsSince('not a cursor', 10)).rejects.toThrow(RangeError);

        // the balance operations of the tests above, as deals
        expect(all.find((d) => d.externalId === TRANSFER_ID)).toMatchObject({
          action: 'balance',
          entry: 'in',
          reason: 'dealer',
          profit: 100_000n,
          symbol: '',
          price: 0n,
          volume: 0n,
        });
        expect(all.find((d) => d.externalId === 'ct-wd-1')).toMatchObject({ action: 'balance', profit: -25_050n });
        expect(all.find((d) => d.externalId === 'ct-ro-bonus')).toMatchObject({
          action: caps.bonusDealAction ?? 'bonus',
          profit: 1_000n,
        });
        if (caps.credit) expect(all.find((d) => d.externalId === 'ct-cr-1')).toMatchObject({ action: 'credit', profit: 2_000n });
        expect(all.filter((d) => d.entry === 'out').map((d) => d.profit)).toContain(3_600n);

        const login = all.find((d) => d.externalId === TRANSFER_ID)!.login;
        await deposit(login, 700n, 'ct-after-cursor');
        expect((await p.dealsSince(cursor, 10)).deals.map((d) => d.externalId)).toEqual(['ct-after-cursor']);
      });
    });

    describe('availability', () => {
      it('answers platform_unavailable (retryable) when nothing listens', async () => {
        const down = setup.adapterAt(await closedPort(), 1_000);
        try {
          for (const probe of probes) {
            const e = await rejection(probe(down));
            expect(e).toBeInstanceOf(TradingError);
            expect(e).toMatchObject({ code: 'platform_unavailable', retryable: true });
          }
        } finally {
          down.close?.();
        }
      });

      describe('timeouts', () => {
        let silent: Awaited<ReturnType<typeof silentServer>> | undefined;
        afterAll(async () => {
          await silent?.stop();
        });

        it('answers platform_unavailable (retryable) when the server never answers, within the timeout', async () => {
          silent = await silentServer();
          const stuck = setup.adapterAt(silent.port, 200);
          const started = Date.now();
          try {
            for (const probe of probes) {
              const e = await rejection(probe(stuck));
              expect(e).toBeInstanceOf(TradingError);
              expect(e).toMatchObject({ code: 'platform_unavailable', retryable: true });
              expect(String(e)).toMatch(/no answer within 200 ms/);
            }
          } finally {
            stuck.close?.();
          }
          expect(Date.now() - started).toBeLessThan(5_000);
        });
      });

      it('refuses wrong credentials with a plain, non-retryable Error (a configuration fault)', async () => {
        const wrong = setup.wrongCredentials.adapter();
        const e = await rejection(wrong.accountState(100_001));
        wrong.close?.();
        expect(e).toBeInstanceOf(Error);
        expect(e).not.toBeInstanceOf(TradingError);
        if (setup.wrongCredentials.message) expect(String(e)).toMatch(setup.wrongCredentials.message);
      });
    });
  });
}
