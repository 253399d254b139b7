/**
 * Tests of the Match-Trader adapter (functions/adapters/platforms/match-trader.ts) against the fake Broker API
 * (test/fakes/match-trader-server.ts) over loopback HTTP. The TradingPlatform contract every adapter keeps (accounts,
 * access, passwords, exactly-once balance operations, trading, deal paging, availability) is
 * test/support/platform-contract.ts; this file adds what is Match-Trader's own: trading accounts of one user (by
 * email) in offers, offers named by their display name, access levels, the user-level password, the externalId kept
 * at the end of the comment; plus conversion properties (lots, comments, reason codes).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradingError } from '#domain/trading/errors.ts';
import {
  externalIdOfComment,
  lotsToVolume,
  MatchTraderPlatform,
  matchComment,
  reasonCode,
  volumeToLots,
} from '#functions/adapters/platforms/match-trader.ts';
import { MATCH_GATEWAY, MATCH_SYSTEM, type MatchTraderFake, startMatchTraderServer } from '../fakes/match-trader-server.ts';
import { accountInput, describePlatformContract, rejection, tradingBookHooks } from '../support/platform-contract.ts';

const API_KEY = 'test-api-key';

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

const newAccount = async (leverage = 30, email = `ada${++emails}@example.com`): Promise<number> =>
  (await mt.createAccount(accountInput('standard-usd', { leverage, email }))).login;

beforeAll(async () => {
  fake = await startMatchTraderServer({ apiKey: API_KEY });
  mt = adapterFor(fake.url);
});

afterAll(async () => {
  await fake?.stop();
});

describePlatformContract('Match-Trader', {
  platform: () => mt,
  adapterAt: (port, timeoutMs) => adapterFor(`http://127.0.0.1:${port}`, { timeoutMs }),
  wrongCredentials: { adapter: () => adapterFor(fake.url, { apiKey: 'wrong' }) },
  // offers by groupName (the display name is checked below)
  groups: { initial: 'standard-usd', other: 'pro-usd' },
  ...tradingBookHooks(() => fake),
  // a user per email: each contract account gets its own, so a password reset touches one account only
  accountInput: () => ({ email: `contract${++emails}@example.com` }),
  // the password belongs to the user (the email), not to the trading account
  mainPasswordIs: async (login, password) => fake.users.get(fake.book.account(login).email)?.password === password,
  // investorPasswordIs: Match-Trader has no investor (read-only) password; the adapter sends it nowhere
  // one 'in' deal per position, one 'out' per close, one per cash operation
  dealCount: () =>
    new Set(fake.book.deals.filter((d) => d.kind === 'open').map((d) => d.positionId)).size +
    fake.book.deals.filter((d) => d.kind !== 'open').length,
  capabilities: {
    credit: true,
    positionIdIsOrder: true,
    symbolNotFound: true,
    // the Broker API's Open / Close Position take no comment or client id: findTrade refuses (a plain Error)
    orderComments: false,
    closeComments: false,
    // a bonus is a manual deposit, and the ledger keeps it as DEPOSIT: it comes back as a balance deal
    bonusDealAction: 'balance',
  },
});

describe('accounts', () => {
  it('creates a second trading account for the same email (same user), and moves an account to an offer named by its display name', async () => {
    const login = await newAccount(30, 'same@example.com');
    expect(fake.book.account(login)).toMatchObject({ leverage: 30, group: 'standard-usd', email: 'same@example.com' });
    const second = await newAccount(50, 'same@example.com');
    expect(second).not.toBe(login);
    expect(fake.book.account(second)).toMatchObject({ leverage: 50, email: 'same@example.com' });
    await mt.setGroup(login, 'Pro USD');
    expect(fake.book.account(login)).toMatchObject({ group: 'pro-usd' });
    expect(await rejection(mt.setGroup(login, 'no-such-offer'))).not.toBeInstanceOf(TradingError);
  });

  it('disables login and trading together (TRADING_AND_LOGIN_DISABLED)', async () => {
    const login = await newAccount();
    await mt.setAccess(login, { readOnly: false, disabled: true });
    expect(fake.book.account(login)).toMatchObject({ loginDisabled: true, tradeDisabled: true });
    await mt.setAccess(login, { readOnly: false, disabled: false });
    expect(fake.book.account(login)).toMatchObject({ loginDisabled: false, tradeDisabled: false });
  });

  it("resets the user's password; an investor password alongside has no Match-Trader counterpart", async () => {
    const login = await newAccount();
    await mt.resetPasswords(login, { main: 'Fresh-Pass-789', investor: 'ignored' });
    expect(fake.users.get(fake.book.account(login).email)?.password).toBe('Fresh-Pass-789');
  });
});

describe('balance operations', () => {
  it('keeps the externalId at the end of the ledger comment', async () => {
    const login = await newAccount();
    const id = '01JABCDEFGHJKMNPQRSTVWXYZ0';
    await mt.changeBalance({ login, amount: 100_000n, type: 'balance', comment: 'Deposit by card', externalId: id });
    const deals = fake.book.deals.filter((d) => d.login === login);
    expect(deals).toHaveLength(1);
    expect(deals[0]!.comment).toBe(matchComment('Deposit by card', id));
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
