/**
 * A fake Match-Trader Broker API (Match-Trade) for contract tests, over node:http with real state
 * (test/fakes/trading-book.ts).
 *
 * Follows Match-Trade's "Broker API" documentation (app.theneo.io/match-trade/broker-api: Introduction, CRM
 * integration "Step-by-Step Integration Process", Errors, Branches/Offers/Roles, Accounts, Payments, Trading, FAQ):
 * - auth: `Authorization: <API key>` (a `Bearer ` prefix is accepted too); 401 without it
 * - GET /v1/offers -> offers with offerUuid, name, groupName, systemUuid, currency, leverage (an offer maps to a group)
 * - POST /v1/accounts {email, password, offerUuid, personalDetails} creates the user and a trading account in the
 *   offer; GET /v1/accounts/by-email/{email}; POST /v1/accounts/{uuid}/trading-accounts {offerUuid};
 *   GET /v1/trading-accounts?query={email}
 * - GET /v1/trading-account?systemUuid=&login= -> {uuid, login, created, accountInfo {offerUuid, systemUuid, group,
 *   leverage, access, accountType, email}, financeInfo {balance, equity, margin, freeMargin, credit, currency}};
 *   PATCH the same URL with {offerUuid | access FULL | CLOSE_ONLY | TRADING_DISABLED | TRADING_AND_LOGIN_DISABLED |
 *   leverage}; POST /v1/change-password (passwords belong to the user, not the trading account)
 * - POST /v1/deposits/manual and /v1/withdrawals/manual {systemUuid, login, paymentGatewayUuid, amount, comment}
 *   -> {uuid, created, status DONE}; POST /v1/credit-in, /v1/credit-out {systemUuid, login, amount, comment}
 * - GET /v1/trading-accounts/trading-data/ledgers?systemUuid=&login=&types=&from=&to=&limit= -> {operations:[...]}
 *   with types DEPOSIT, WITHDRAWAL, CREDIT_IN, CREDIT_OUT, CLOSED_POSITION; open-positions and closed-positions the
 *   same way (GET per login; POST with {systemUuid, logins, groups, from, to} for several)
 * - POST /v1/trading-accounts/positions/open {systemUuid, login, instrument, orderSide BUY|SELL, volume (lots)} and
 *   /positions/close-partially {systemUuid, login, positionId, instrument, volume} -> {status OK | REJECTED, orderId}
 * - REST errors {timestamp, status, error, message, path}; 404 for an unknown trading account
 * - the Open Position / Close Position bodies have no comment or client order id: an order carries none
 *
 * Fake-only choices: a position's id is the id of the order that opened it; GET /v1/symbols?systemUuid= -> [{symbol,
 * pricePrecision, contractSize, minVolume, maxVolume, volumeStep (lots)}] and GET /v1/quotations?systemUuid=&symbols=
 * -> [{symbol, bid, ask, timestamp}] are REST stand-ins for the Broker API's symbol and quotation services (documented
 * as gRPC streams: SymbolsServiceExternal, QuotationsServiceExternal), with the adapter's field names; a REJECTED answer carries the reason in
 * `errorMessage`; ledger ids are numbers; the change-password body is {email, password}; the payment gateway must be
 * `gw-usd`; test hooks `book`, `hang`, `failNext`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type BookAccount,
  type BookDeal,
  BookError,
  type FakeHttp,
  Num,
  orderLimitsOf,
  readBody,
  SYMBOLS,
  scaledToDecimal,
  send,
  serve,
  TradingBook,
} from './trading-book.ts';

export const MATCH_SYSTEM = 'sys-0001';
export const MATCH_GATEWAY = 'gw-usd';
export const MATCH_OFFERS = [
  { offerUuid: 'offer-std', name: 'Standard USD', groupName: 'standard-usd', leverage: 30 },
  { offerUuid: 'offer-pro', name: 'Pro USD', groupName: 'pro-usd', leverage: 100 },
];

export interface MatchTraderFake extends FakeHttp {
  book: TradingBook;
  setQuote(symbol: string, bid: string, ask: string): void;
  users: Map<string, { uuid: string; email: string; password: string }>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const money = (v: bigint) => new Num(scaledToDecimal(v, 2));
const lots = (symbol: string, units: bigint) => new Num(scaledToDecimal((units * 100n) / SYMBOLS[symbol]!.contractSize, 2));
const px = (symbol: string, v: bigint) => new Num(scaledToDecimal(v, SYMBOLS[symbol]!.digits));

export async function startMatchTraderServer(opts: { apiKey: string }) {
  const book = new TradingBook(900_001);
  const users = new Map<string, { uuid: string; email: string; password: string }>();
  const offerOf = new Map<number, string>();
  const accessOf = new Map<number, string>();
  const created = new Map<number, number>();
  const ledgerTypes = new Map<number, string>();

  const err = (res: ServerResponse, status: number, message: string, path: string) =>
    send(res, status, {
      timestamp: new Date().toISOString(),
      status,
      error: status === 404 ? 'Not Found' : 'Bad Request',
      message,
      path,
    });

  function newTradingAccount(email: string, offerUuid: string): BookAccount {
    const offer = MATCH_OFFERS.find((o) => o.offerUuid === offerUuid);
    if (!offer) throw new BookError('account_not_found', `Offer ${offerUuid} not found`);
    const a = book.addAccount({
      currency: 'USD',
      leverage: offer.leverage,
      group: offer.groupName,
      password: '',
      name: '',
      email,
      clientRef: '',
    });
    offerOf.set(a.login, offerUuid);
    accessOf.set(a.login, 'FULL');
    created.set(a.login, book.now());
    return a;
  }

  function tradingAccount(a: BookAccount) {
    const s = book.state(a.login);
    return {
      uuid: `ta-${a.login}`,
      login: String(a.login),
      created: iso(created.get(a.login)!),
      accountInfo: {
        uuid: users.get(a.email)?.uuid,
        email: a.email,
        offerUuid: offerOf.get(a.login),
        systemUuid: MATCH_SYSTEM,
        commissionUuid: null,
        group: a.group,
        leverage: new Num(String(a.leverage)),
        access: accessOf.get(a.login),
        accountType: 'REAL',
      },
      financeInfo: {
        balance: money(s.balance),
        equity: money(s.equity),
        margin: money(s.margin),
        freeMargin: money(s.freeMargin),
        credit: money(s.credit),
        currency: a.currency,
      },
    };
  }

  const LEDGER: Record<string, string> = {
    deposit: 'DEPOSIT',
    withdrawal: 'WITHDRAWAL',
    credit_in: 'CREDIT_IN',
    credit_out: 'CREDIT_OUT',
    close: 'CLOSED_POSITION',
  };
  const ledger = (d: BookDeal) => ({
    id: new Num(String(d.id)),
    login: String(d.login),
    type: LEDGER[d.kind],
    amount: money(d.amount),
    comment: d.comment,
    time: iso(d.time),
    ...(d.kind === 'close' ? { orderId: String(d.orderId) } : {}),
  });
  const openJson = (login: number) =>
    book.openPositions(login).map((p) => {
      const q = book.quote(p.symbol);
      return {
        id: String(p.id),
        login: String(login),
        symbol: p.symbol,
        side: p.side === 'buy' ? 'BUY' : 'SELL',
        volume: lots(p.symbol, p.units),
        openPrice: px(p.symbol, p.openPrice),
        currentPrice: px(p.symbol, p.side === 'buy' ? q.bid : q.ask),
        profit: money(book.profitOf(p)),
        swap: money(0n),
        openTime: iso(p.openTime),
      };
    });
  const closedJson = (login: number, from: number) =>
    book.deals
      .filter((d) => d.login === login && d.kind === 'close' && d.time >= from)
      .map((d) => {
        const opening = book.deals.find((o) => o.kind === 'open' && o.positionId === d.positionId)!;
        return {
          id: String(d.positionId),
          orderId: String(d.orderId),
          login: String(login),
          symbol: d.symbol,
          side: opening.side === 'buy' ? 'BUY' : 'SELL',
          volume: lots(d.symbol, d.units),
          openPrice: px(d.symbol, opening.price),
          closePrice: px(d.symbol, d.price),
          profit: money(d.amount),
          swap: money(0n),
          commission: money(0n),
          openTime: iso(opening.time),
          time: iso(d.time),
        };
      });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    const q = url.searchParams;
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (key !== opts.apiKey) return err(res, 401, 'Unauthorized', path);
    const body = ((await readBody(req)) ?? {}) as Record<string, unknown>;
    const loginOf = (v: unknown) => {
      const login = Number(v);
      if (!book.accounts.has(login)) throw new BookError('account_not_found', `Trading account ${String(v)} not found`);
      return login;
    };
    const system = String(q.get('systemUuid') ?? body.systemUuid ?? '');
    try {
      if (path !== '/v1/offers' && !path.startsWith('/v1/accounts') && path !== '/v1/change-password' && system !== MATCH_SYSTEM)
        return err(res, 400, 'Unknown systemUuid', path);
      if (req.method === 'GET' && path === '/v1/offers')
        return send(
          res,
          200,
          MATCH_OFFERS.map((o) => ({
            ...o,
            partnerId: new Num('0'),
            branchUuid: 'br-1',
            systemUuid: MATCH_SYSTEM,
            operationUuid: 'op-1',
            currency: 'USD',
            leverage: new Num(String(o.leverage)),
          })),
        );
      if (req.method === 'GET' && path === '/v1/symbols')
        return send(
          res,
          200,
          Object.entries(SYMBOLS).map(([symbol, info]) => {
            const l = orderLimitsOf(info);
            return {
              symbol,
              pricePrecision: new Num(String(info.digits)),
              contractSize: new Num(info.contractSize.toString()),
              minVolume: lots(symbol, l.minOrderUnits),
              maxVolume: lots(symbol, l.maxOrderUnits),
              volumeStep: lots(symbol, l.orderStepUnits),
            };
          }),
        );
      if (req.method === 'GET' && path === '/v1/quotations') {
        const wanted = (q.get('symbols') ?? '').split(',').filter((x) => SYMBOLS[x]);
        return send(
          res,
          200,
          wanted.map((symbol) => {
            const quote = book.quote(symbol);
            return { symbol, bid: px(symbol, quote.bid), ask: px(symbol, quote.ask), timestamp: iso(quote.time) };
          }),
        );
      }
      if (req.method === 'POST' && path === '/v1/accounts') {
        const email = String(body.email);
        if (users.has(email)) return err(res, 409, `Account with email ${email} already exists`, path);
        const user = { uuid: randomUUID(), email, password: String(body.password) };
        users.set(email, user);
        const a = newTradingAccount(email, String(body.offerUuid));
        return send(res, 200, { uuid: user.uuid, email, tradingAccount: tradingAccount(a) });
      }
      let m = /^\/v1\/accounts\/by-email\/(.+)$/.exec(path);
      if (m && req.method === 'GET') {
        const user = users.get(decodeURIComponent(m[1]!));
        return user ? send(res, 200, { uuid: user.uuid, email: user.email }) : err(res, 404, 'Account not found', path);
      }
      m = /^\/v1\/accounts\/([^/]+)\/trading-accounts$/.exec(path);
      if (m && req.method === 'POST') {
        const user = [...users.values()].find((u) => u.uuid === m![1]);
        if (!user) return err(res, 404, 'Account not found', path);
        return send(res, 200, tradingAccount(newTradingAccount(user.email, String(body.offerUuid))));
      }
      if (req.method === 'GET' && path === '/v1/trading-accounts') {
        const email = q.get('query') ?? '';
        return send(res, 200, {
          content: [...book.accounts.values()].filter((a) => !email || a.email === email).map(tradingAccount),
        });
      }
      if (req.method === 'POST' && path === '/v1/change-password') {
        const user = users.get(String(body.email));
        if (!user) return err(res, 404, 'Account not found', path);
        user.password = String(body.password);
        return send(res, 200, {});
      }
      if (path === '/v1/trading-account') {
        const a = book.account(loginOf(q.get('login')));
        if (req.method === 'GET') return send(res, 200, tradingAccount(a));
        if (req.method === 'PATCH') {
          if (body.offerUuid !== undefined) {
            const offer = MATCH_OFFERS.find((o) => o.offerUuid === body.offerUuid);
            if (!offer) return err(res, 404, 'Offer not found', path);
            offerOf.set(a.login, offer.offerUuid);
            a.group = offer.groupName;
          }
          if (body.leverage !== undefined) a.leverage = Number(body.leverage);
          if (body.access !== undefined) {
            const access = String(body.access);
            if (!['FULL', 'CLOSE_ONLY', 'TRADING_DISABLED', 'TRADING_AND_LOGIN_DISABLED'].includes(access))
              return err(res, 400, 'Invalid access', path);
            accessOf.set(a.login, access);
            a.tradeDisabled = access !== 'FULL';
            a.loginDisabled = access === 'TRADING_AND_LOGIN_DISABLED';
          }
          return send(res, 200, tradingAccount(a));
        }
      }
      const cash: Record<string, 'deposit' | 'withdrawal' | 'credit_in' | 'credit_out'> = {
        '/v1/deposits/manual': 'deposit',
        '/v1/withdrawals/manual': 'withdrawal',
        '/v1/credit-in': 'credit_in',
        '/v1/credit-out': 'credit_out',
      };
      const kind = cash[path];
      if (kind && req.method === 'POST') {
        const login = loginOf(body.login);
        if ((kind === 'deposit' || kind === 'withdrawal') && body.paymentGatewayUuid !== MATCH_GATEWAY)
          return err(res, 400, 'Payment gateway not found', path);
        const text = String(body.amount);
        if (!/^\d+(\.\d{1,2})?$/.test(text) || Number(text) === 0) return err(res, 400, 'Invalid amount', path);
        const [int, frac = ''] = text.split('.');
        const amount = BigInt(int!) * 100n + BigInt(frac.padEnd(2, '0'));
        try {
          const d = book.cash(
            login,
            kind,
            kind === 'deposit' || kind === 'credit_in' ? amount : -amount,
            String(body.comment ?? ''),
          );
          ledgerTypes.set(d.id, LEDGER[kind]!);
          return send(res, 200, { uuid: `pay-${d.id}`, created: iso(d.time), status: 'DONE' });
        } catch (e) {
          if (e instanceof BookError && e.code === 'no_money')
            return err(res, 400, 'Not enough free funds (NOT_ENOUGH_MONEY)', path);
          throw e;
        }
      }
      m = /^\/v1\/trading-accounts\/trading-data\/(ledgers|open-positions|closed-positions)$/.exec(path);
      if (m) {
        const logins =
          req.method === 'GET'
            ? [loginOf(q.get('login'))]
            : ((body.logins as string[] | undefined)?.map(loginOf) ??
              [...book.accounts.values()]
                .filter((a) => ((body.groups as string[] | undefined) ?? []).includes(a.group))
                .map((a) => a.login));
        const from = Date.parse(String(q.get('from') ?? body.from ?? '1970-01-01T00:00:00Z'));
        if (m[1] === 'open-positions') return send(res, 200, { positions: logins.flatMap(openJson) });
        if (m[1] === 'closed-positions') return send(res, 200, { positions: logins.flatMap((l) => closedJson(l, from)) });
        const types = String(q.get('types') ?? (body.types as string[] | undefined)?.join(',') ?? '').split(',');
        return send(res, 200, {
          operations: book.deals
            .filter((d) => logins.includes(d.login) && d.time >= from && types.includes(LEDGER[d.kind] ?? ''))
            .map(ledger),
        });
      }
      if (
        req.method === 'POST' &&
        (path === '/v1/trading-accounts/positions/open' || path === '/v1/trading-accounts/positions/close-partially')
      ) {
        const login = loginOf(body.login);
        const symbol = String(body.instrument);
        const info = SYMBOLS[symbol];
        if (!info) return send(res, 200, { status: 'REJECTED', errorMessage: 'Unknown instrument' });
        const vol = /^\d+(\.\d{1,2})?$/.exec(String(body.volume));
        if (!vol) return send(res, 200, { status: 'REJECTED', errorMessage: 'Invalid volume' });
        const [int, frac = ''] = String(body.volume).split('.');
        const units = ((BigInt(int!) * 100n + BigInt(frac.padEnd(2, '0'))) * info.contractSize) / 100n;
        try {
          if (path.endsWith('/open')) {
            const { deal } = book.open(login, symbol, body.orderSide === 'SELL' ? 'sell' : 'buy', units);
            return send(res, 200, { status: 'OK', orderId: String(deal.orderId) });
          }
          const { deal } = book.close(login, Number(body.positionId), units);
          return send(res, 200, { status: 'OK', orderId: String(deal.orderId) });
        } catch (e) {
          if (!(e instanceof BookError)) throw e;
          if (e.code === 'position_not_found') return err(res, 404, e.message, path);
          const reasons: Record<string, string> = {
            no_money: 'NOT_ENOUGH_MONEY',
            market_closed: 'MARKET_CLOSED',
            invalid_volume: 'INVALID_VOLUME',
            trade_disabled: 'TRADING_DISABLED',
          };
          return send(res, 200, { status: 'REJECTED', errorMessage: reasons[e.code] ?? e.message });
        }
      }
      return err(res, 404, 'Not found', path);
    } catch (e) {
      if (e instanceof BookError) return err(res, e.code === 'account_not_found' ? 404 : 400, e.message, path);
      throw e;
    }
  }

  const http = await serve(handle);
  return Object.assign(http, {
    book,
    users,
    setQuote: (s: string, b: string, a: string) => book.setQuote(s, b, a),
  }) as MatchTraderFake;
}
