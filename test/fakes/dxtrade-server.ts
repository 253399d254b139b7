/**
 * A fake DXtrade server (Devexperts) for contract tests: the broker Back-office REST API under /dxweb/rest and the
 * DXtrade REST API under /dxsca-web, over node:http with real state (test/fakes/trading-book.ts).
 *
 * Follows:
 * - "Devexperts REST API" specification (DX_REST_API.html, demo-xt.dx.trade/dxweb/specs/DX_REST_API.html; the same
 *   text as demo.dx.trade/developers/#/DXtrade-REST-API): POST /login {username, domain, password} ->
 *   {sessionToken, timeout}, then `Authorization: DXAPI <token>`; accounts are `clearingCode:accountCode`;
 *   GET /accounts/{account}/metrics (Account Metrics: equity, balance, credit, margin, marginFree, openPL, with
 *   include-positions -> Position Metrics), GET /accounts/{account}/positions (Position: positionCode, symbol,
 *   quantity, side, openPrice), POST /accounts/{account}/orders (Single Order Request: orderCode, type, instrument,
 *   quantity, positionEffect OPEN|CLOSE, positionCode, side, tif; a duplicate orderCode is refused) -> {orderId},
 *   GET /accounts/{account}/orders/history and /accounts/orders/history (Order: orderId, orderCode, status,
 *   finalStatus, filledQuantity, averagePrice, legs, executions with rejectReason), GET /accounts/{account}/transfers
 *   and /accounts/transfers (Cash Transfer: transferCode, comment, transactionTime, cashTransactions[{type, value,
 *   currency, orderCode}] with types DEPOSIT, WITHDRAWAL, ADJUSTMENT, SETTLEMENT, COMMISSION; paging limit /
 *   start-from, time-from inclusive); errors {errorCode, description}. Reference data and prices (List Instruments,
 *   List Instrument Details, Request Market Data): GET /instruments/{symbol} -> {instruments: [Instrument: type,
 *   symbol, version, description, priceIncrement, pipSize, currency, lotSize, multiplier]}, GET
 *   /accounts/{account}/instruments/{symbol} -> {instruments: [Instrument Details: account, type, symbol,
 *   tradingStatus, minOrderSize, maxOrderSize, minOrderSizeIncrement]}, POST /marketdata {account, symbols,
 *   eventTypes [{type: Quote, format: COMPACT}]} -> {events: [Quote: type, symbol, bid, ask, time]}; an unknown
 *   instrument answers an empty list
 * - "dxRegister" / Back-office REST API (demo-xt.dx.trade/dxweb/specs/dxRegister.html; paths as in Devexperts'
 *   demo.dx.trade/developers/#/DXtrade-Register-API): POST /api/register/client (user with accounts), GET
 *   /api/register/account, GET|PUT /api/register/account/{clearingCode}/{accountCode} (status FULL_TRADING |
 *   CLOSE_ONLY | NO_TRADING | TERMINATED), PUT .../category/{categoryDomain} {value}, PUT
 *   /api/register/client/{domain}/{login} {password, status}, PUT .../deposit/{id}, .../withdrawal/{id},
 *   .../adjustment/{id} {currency, amount, description} where {id} is "generated at the client side" (the same id
 *   again is the same transfer; a withdrawal above the withdrawable amount is rejected); errors {errorCode,
 *   errorMessage}
 *
 * Fake-only choices (not in the published documents, kept small): quantities are whole units; the response keys of the
 * two instrument lists (`instruments`) and of market data (`events`), and maxOrderSize as a Limit Value `{ value }`,
 * are this fake's reading of the field tables (the stored pages did not print them); an order's orderCode is its
 * comment (the Single Order Request has no other text field), kept on its book deal; the Margining
 * category value `N:1` sets leverage N; the Trading category value is the account's group; a user status other
 * than ONLINE blocks the session; the transferCode of an admin cash transfer is the client-side id; test hooks
 * `book`, `hang`, `failNext`.
 */

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
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

export interface DxtradeFake extends FakeHttp {
  book: TradingBook;
  setQuote(symbol: string, bid: string, ask: string): void;
}

interface User {
  domain: string;
  login: string;
  password: string;
  status: string;
  accounts: string[];
}

interface Order {
  orderId: number;
  orderCode: string;
  account: string;
  instrument: string;
  side: 'BUY' | 'SELL';
  quantity: bigint;
  positionEffect: 'OPEN' | 'CLOSE';
  positionCode: string;
  status: 'COMPLETED' | 'REJECTED';
  filled: bigint;
  price: bigint;
  time: number;
  executionCode: string;
  rejectReason?: string;
}

interface Transfer {
  account: string;
  transferCode: string;
  kind: 'deposit' | 'withdrawal' | 'adjustment';
  amount: bigint;
  comment: string;
  time: number;
  version: number;
  dealId: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const money = (v: bigint) => new Num(scaledToDecimal(v, 2));
const price = (symbol: string, v: bigint) => new Num(scaledToDecimal(v, SYMBOLS[symbol]!.digits));

export async function startDxtradeServer(opts: { admin: { username: string; domain: string; password: string } }) {
  const book = new TradingBook(700_001);
  const users = new Map<string, User>(); // domain/login
  const sessions = new Map<string, string>(); // token -> domain/login ('' for the admin)
  const codes = new Map<string, number>(); // clearing:code -> book login
  const orders: Order[] = [];
  const transfers: Transfer[] = [];
  let version = 0;

  const accountKey = (clearing: string, code: string) => `${clearing}:${code}`;
  const loginOf = (account: string) => {
    const login = codes.get(account);
    if (login === undefined) throw new BookError('account_not_found', `Account ${account} not found`);
    return login;
  };
  const dxError = (res: ServerResponse, status: number, errorCode: string | number, text: string, admin: boolean) =>
    send(
      res,
      status,
      admin ? { errorCode: Number(errorCode) || 0, errorMessage: text } : { errorCode: String(errorCode), description: text },
    );

  const bookStatus = (e: BookError) =>
    e.code === 'account_not_found' || e.code === 'position_not_found' || e.code === 'symbol_not_found' ? 404 : 400;

  const REJECT: Record<string, string> = {
    no_money: 'Insufficient margin: not enough money',
    market_closed: 'Market is closed',
    invalid_volume: 'Invalid quantity',
    trade_disabled: 'Trading is disabled for the account',
    position_not_found: 'Position not found',
    symbol_not_found: 'Unknown instrument',
    account_not_found: 'Account not found',
    invalid_amount: 'Invalid amount',
  };

  function orderJson(o: Order) {
    return {
      account: o.account,
      version: o.orderId,
      orderId: Number(o.orderId),
      orderCode: o.orderCode,
      clientOrderId: o.orderCode,
      type: 'MARKET',
      instrument: o.instrument,
      status: o.status,
      finalStatus: true,
      side: o.side,
      tif: 'GTC',
      quantity: new Num(o.quantity.toString()),
      filledQuantity: new Num(o.filled.toString()),
      remainingQuantity: new Num('0'),
      averagePrice: price(o.instrument, o.price),
      positionEffect: o.positionEffect,
      positionCode: o.positionCode,
      legs: [
        {
          instrument: o.instrument,
          positionEffect: o.positionEffect,
          positionCode: o.positionCode,
          side: o.side,
          quantity: new Num(o.quantity.toString()),
          filledQuantity: new Num(o.filled.toString()),
          averagePrice: price(o.instrument, o.price),
        },
      ],
      executions: [
        {
          account: o.account,
          executionCode: o.executionCode,
          orderCode: o.orderCode,
          status: o.status,
          finalStatus: true,
          filledQuantity: new Num(o.filled.toString()),
          lastQuantity: new Num(o.filled.toString()),
          lastPrice: price(o.instrument, o.price),
          averagePrice: price(o.instrument, o.price),
          transactionTime: iso(o.time),
          ...(o.rejectReason ? { rejectReason: o.rejectReason, rejectCode: 'REJECTED' } : {}),
        },
      ],
      issueTime: iso(o.time),
      transactionTime: iso(o.time),
    };
  }

  /** The cash transfers of an account, admin ones and those the book wrote for trades (settlements). */
  function transferList(account: string) {
    const login = loginOf(account);
    const out: { time: number; json: unknown }[] = transfers
      .filter((t) => t.account === account)
      .map((t) => ({
        time: t.time,
        json: {
          account,
          version: t.version,
          transferCode: t.transferCode,
          comment: t.comment,
          transactionTime: iso(t.time),
          cashTransactions: [
            {
              type: t.kind === 'deposit' ? 'DEPOSIT' : t.kind === 'withdrawal' ? 'WITHDRAWAL' : 'ADJUSTMENT',
              value: money(t.amount),
              currency: 'USD',
            },
          ],
        },
      }));
    for (const d of book.deals.filter((x: BookDeal) => x.login === login && x.kind === 'close')) {
      const o = orders.find((x) => x.executionCode === String(d.id))!;
      out.push({
        time: d.time,
        json: {
          account,
          version: d.id,
          transferCode: `S${d.id}`,
          comment: '',
          transactionTime: iso(d.time),
          cashTransactions: [
            { orderCode: o.orderCode, tradeCode: String(d.id), type: 'SETTLEMENT', value: money(d.amount), currency: 'USD' },
          ],
        },
      });
    }
    return out.sort((a, b) => a.time - b.time);
  }

  function page<T>(rows: { time: number; json: T }[], q: URLSearchParams): T[] {
    const from = q.get('time-from') ? Date.parse(q.get('time-from')!) : 0;
    const start = Number(q.get('start-from') ?? '0');
    const limit = Number(q.get('limit') ?? '1000');
    return rows
      .filter((r) => r.time >= from)
      .slice(start, start + limit)
      .map((r) => r.json);
  }

  function placeOrder(account: string, body: Record<string, string>): Order {
    const login = loginOf(account);
    if (orders.some((o) => o.account === account && o.orderCode === body.orderCode)) throw new Error('duplicate');
    const o: Order = {
      orderId: book.id(),
      orderCode: String(body.orderCode ?? randomUUID()),
      account,
      instrument: String(body.instrument),
      side: body.side === 'SELL' ? 'SELL' : 'BUY',
      quantity: BigInt(String(body.quantity)),
      positionEffect: body.positionEffect === 'CLOSE' ? 'CLOSE' : 'OPEN',
      positionCode: '',
      status: 'COMPLETED',
      filled: 0n,
      price: 0n,
      time: book.now(),
      executionCode: '',
    };
    try {
      if (!SYMBOLS[o.instrument]) throw new BookError('symbol_not_found', 'Unknown instrument');
      if (o.positionEffect === 'OPEN') {
        const { position, deal } = book.open(login, o.instrument, o.side === 'BUY' ? 'buy' : 'sell', o.quantity, o.orderCode);
        Object.assign(o, { positionCode: String(position.id), filled: deal.units, price: deal.price, time: deal.time });
        o.executionCode = String(deal.id);
      } else {
        const { position, deal } = book.close(login, Number(body.positionCode), o.quantity, o.orderCode);
        Object.assign(o, { positionCode: String(position.id), filled: deal.units, price: deal.price, time: deal.time });
        o.executionCode = String(deal.id);
      }
    } catch (e) {
      if (!(e instanceof BookError)) throw e;
      Object.assign(o, { status: 'REJECTED', rejectReason: REJECT[e.code], executionCode: `R${o.orderId}` });
      o.positionCode = String(body.positionCode ?? '');
    }
    orders.push(o);
    return o;
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = decodeURIComponent(url.pathname);
    const admin = path.startsWith('/dxweb/rest');
    const body = ((await readBody(req)) ?? {}) as Record<string, string> & Record<string, unknown>;
    const rest = admin ? path.slice('/dxweb/rest'.length) : path.replace(/^\/dxsca-web/, '');

    if (req.method === 'POST' && rest === '/login') {
      const who = `${body.domain}/${body.username}`;
      const isAdmin =
        body.username === opts.admin.username && body.domain === opts.admin.domain && body.password === opts.admin.password;
      const user = users.get(who);
      if (!isAdmin && !(user && user.password === body.password && user.status === 'ONLINE'))
        return dxError(res, 401, admin ? 3 : 'INVALID_CREDENTIALS', 'Invalid credentials', admin);
      const token = randomUUID();
      sessions.set(token, isAdmin ? '' : who);
      return send(res, 200, { sessionToken: token, timeout: new Num('1800000') });
    }
    const auth = /^DXAPI (.+)$/.exec(req.headers.authorization ?? '');
    if (!auth || sessions.get(auth[1]!) !== '')
      return dxError(res, 401, admin ? 3 : 'UNAUTHORIZED', 'Session expired or missing', admin);

    try {
      const userPut = /^\/api\/register\/client\/([^/]+)\/([^/]+)$/.exec(rest);
      const accountRe = /^\/api\/register\/account\/([^/]+)\/([^/]+)(?:\/(.+))?$/.exec(rest);
      const tradingRe = /^\/accounts\/([^/]+)\/(metrics|positions|orders|orders\/history|transfers)$/.exec(rest);
      const instrumentRe = /^\/instruments\/([^/]+)$/.exec(rest);
      const detailsRe = /^\/accounts\/([^/]+)\/instruments\/([^/]+)$/.exec(rest);
      let m: RegExpExecArray | null = null;
      // --- back office ---------------------------------------------------------------------------------
      if (admin && req.method === 'POST' && rest === '/api/register/client') {
        const key = `${body.domain}/${body.login}`;
        const accounts = (body.accounts ?? []) as unknown as Record<string, unknown>[];
        if (users.has(key) || accounts.some((a) => codes.has(accountKey(String(a.clearingCode), String(a.accountCode)))))
          return dxError(res, 409, 7, 'User or account already exists', true);
        users.set(key, {
          domain: String(body.domain),
          login: String(body.login),
          password: String(body.password),
          status: String(body.status ?? 'ONLINE'),
          accounts: [],
        });
        for (const a of accounts) {
          const code = String(a.accountCode);
          if (!/^\d+$/.test(code)) return dxError(res, 400, 32, 'accountCode must be numeric in this fake', true);
          const cats = (a.categories ?? []) as { category: string; value: string }[];
          const lev = /^(\d+):1$/.exec(cats.find((c) => c.category === 'Margining')?.value ?? '');
          book.addAccount({
            login: Number(code),
            currency: String(a.currency ?? 'USD'),
            leverage: lev ? Number(lev[1]) : 100,
            group: cats.find((c) => c.category === 'Trading')?.value ?? 'default',
            password: String(body.password),
            name: String(body.fullName ?? ''),
            email: String(body.email ?? ''),
            clientRef: String(body.login),
          });
          codes.set(accountKey(String(a.clearingCode), code), Number(code));
          users.get(key)!.accounts.push(accountKey(String(a.clearingCode), code));
        }
        return send(res, 200, { domain: body.domain, login: body.login, status: 'ONLINE' });
      }
      if (admin && req.method === 'GET' && rest === '/api/register/account') {
        return send(
          res,
          200,
          [...codes.entries()].map(([k, login]) => ({
            clearingCode: k.split(':')[0],
            accountCode: k.split(':')[1],
            currency: book.account(login).currency,
          })),
        );
      }
      if (admin && userPut && req.method === 'PUT') {
        m = userPut;
        const user = users.get(`${m[1]}/${m[2]}`);
        if (!user) return dxError(res, 404, 2, 'Entity not found', true);
        if (typeof body.password === 'string') {
          user.password = body.password;
          for (const a of user.accounts) book.account(codes.get(a)!).password = body.password;
        }
        if (typeof body.status === 'string') {
          user.status = body.status;
          for (const a of user.accounts) book.account(codes.get(a)!).loginDisabled = body.status !== 'ONLINE';
        }
        return send(res, 200, { domain: user.domain, login: user.login, status: user.status });
      }
      if (admin && accountRe) {
        m = accountRe;
        const account = accountKey(m[1]!, m[2]!);
        if (!codes.has(account)) return dxError(res, 404, 2, 'Entity not found', true);
        const a = book.account(codes.get(account)!);
        const sub = m[3];
        if (!sub && req.method === 'GET')
          return send(res, 200, {
            clearingCode: m[1],
            accountCode: m[2],
            status: a.tradeDisabled ? 'NO_TRADING' : 'FULL_TRADING',
            currency: a.currency,
            balance: money(a.balance),
            credit: money(a.credit),
            categories: [
              { category: 'Margining', value: `${a.leverage}:1` },
              { category: 'Trading', value: a.group },
            ],
          });
        if (!sub && req.method === 'PUT') {
          if (typeof body.status === 'string') a.tradeDisabled = body.status !== 'FULL_TRADING';
          return send(res, 200, { clearingCode: m[1], accountCode: m[2], status: body.status });
        }
        let c = /^category\/(.+)$/.exec(sub ?? '');
        if (c && req.method === 'PUT') {
          const value = String(body.value);
          if (c[1] === 'Margining') {
            const lev = /^(\d+):1$/.exec(value);
            if (!lev) return dxError(res, 400, 32, `Category ${value} is not configured`, true);
            a.leverage = Number(lev[1]);
          } else if (c[1] === 'Trading') a.group = value;
          return send(res, 200, {});
        }
        c = /^(deposit|withdrawal|adjustment)\/(.+)$/.exec(sub ?? '');
        if (c && req.method === 'PUT') {
          const kind = c[1] as Transfer['kind'];
          const id = c[2]!;
          if (String(body.currency) !== a.currency) return dxError(res, 400, 32, 'Currency must be the account currency', true);
          const value = String(body.amount);
          if (!/^-?\d+(\.\d{1,2})?$/.test(value)) return dxError(res, 400, 32, 'Incorrect amount', true);
          const [int, frac = ''] = value.replace('-', '').split('.');
          let amount = BigInt(int!) * 100n + BigInt(frac.padEnd(2, '0'));
          if (value.startsWith('-')) amount = -amount;
          if (kind === 'withdrawal') amount = -amount;
          const seen = transfers.find((t) => t.account === account && t.transferCode === id);
          if (seen) {
            if (seen.kind !== kind || seen.amount !== amount)
              return dxError(res, 409, 7, `Transfer ${id} exists with other details`, true);
            return send(res, 200, { currency: a.currency, amount: new Num(value), description: seen.comment });
          }
          if (kind !== 'adjustment' && amount * (kind === 'deposit' ? 1n : -1n) <= 0n)
            return dxError(res, 400, 32, 'Amount must be positive', true);
          try {
            const d = book.cash(a.login, kind, amount, String(body.description ?? ''), id);
            transfers.push({
              account,
              transferCode: id,
              kind,
              amount,
              comment: d.comment,
              time: d.time,
              version: ++version,
              dealId: d.id,
            });
          } catch (e) {
            if (e instanceof BookError && e.code === 'no_money')
              return dxError(res, 400, 33, 'Request rejected: amount exceeds the withdrawable amount (insufficient funds)', true);
            throw e;
          }
          return send(res, 200, { currency: a.currency, amount: new Num(value), description: body.description ?? '' });
        }
      }
      // --- reference data and prices ------------------------------------------------------------------
      if (!admin && req.method === 'GET' && instrumentRe) {
        const info = SYMBOLS[instrumentRe[1]!];
        return send(res, 200, {
          instruments: info
            ? [
                {
                  type: 'FX',
                  symbol: instrumentRe[1],
                  version: 1,
                  description: instrumentRe[1],
                  priceIncrement: new Num(scaledToDecimal(1n, info.digits)),
                  pipSize: new Num(scaledToDecimal(10n, info.digits)),
                  currency: 'USD',
                  lotSize: new Num(info.contractSize.toString()),
                  multiplier: new Num('1'),
                },
              ]
            : [],
        });
      }
      if (!admin && req.method === 'GET' && detailsRe) {
        loginOf(detailsRe[1]!);
        const info = SYMBOLS[detailsRe[2]!];
        const limits = info && orderLimitsOf(info);
        return send(res, 200, {
          instruments: limits
            ? [
                {
                  account: detailsRe[1],
                  type: 'FX',
                  symbol: detailsRe[2],
                  tradingStatus: book.closedMarkets.has(detailsRe[2]!) ? 'NO' : 'FULL',
                  minOrderSize: new Num(limits.minOrderUnits.toString()),
                  maxOrderSize: { value: new Num(limits.maxOrderUnits.toString()) },
                  minOrderSizeIncrement: new Num(limits.orderStepUnits.toString()),
                },
              ]
            : [],
        });
      }
      if (!admin && req.method === 'POST' && rest === '/marketdata') {
        loginOf(String(body.account));
        const symbols = ((body.symbols ?? []) as unknown as string[]).filter((x) => SYMBOLS[x]);
        const wantsQuotes = ((body.eventTypes ?? []) as unknown as { type: string }[]).some((e) => e.type === 'Quote');
        return send(res, 200, {
          events: wantsQuotes
            ? symbols.map((x) => {
                const q = book.quote(x);
                return { type: 'Quote', symbol: x, bid: price(x, q.bid), ask: price(x, q.ask), time: iso(q.time) };
              })
            : [],
        });
      }
      // --- trading ------------------------------------------------------------------------------------
      if (!admin && req.method === 'GET' && (rest === '/accounts/orders/history' || rest === '/accounts/transfers')) {
        if (rest === '/accounts/transfers') {
          const rows = [...codes.keys()].flatMap((k) => transferList(k)).sort((a, b) => a.time - b.time);
          return send(res, 200, { cashTransfers: page(rows, url.searchParams) });
        }
        const from = url.searchParams.get('transaction-from');
        const rows = orders.filter((o) => o.status === 'COMPLETED' && (!from || o.time >= Date.parse(from)));
        return send(res, 200, { orders: rows.map(orderJson) });
      }
      if (!admin && tradingRe) {
        m = tradingRe;
        const account = m[1]!;
        const login = loginOf(account);
        if (m[2] === 'metrics' && req.method === 'GET') {
          const s = book.state(login);
          const withPositions = url.searchParams.get('include-positions') === 'true';
          return send(res, 200, {
            metrics: [
              {
                account,
                version: ++version,
                equity: money(s.equity),
                balance: money(s.balance),
                credit: money(s.credit),
                availableBalance: money(s.balance),
                availableFunds: money(s.freeMargin),
                marginFree: money(s.freeMargin),
                openPL: money(s.profit),
                totalPL: money(s.profit),
                margin: money(s.margin),
                openPositionsCount: book.openPositions(login).length,
                openOrdersCount: 0,
                ...(withPositions
                  ? {
                      positions: book.openPositions(login).map((p) => {
                        const q = book.quote(p.symbol);
                        return {
                          positionCode: String(p.id),
                          symbol: p.symbol,
                          quantity: new Num(p.units.toString()),
                          fpl: money(book.profitOf(p)),
                          currentPrice: price(p.symbol, p.side === 'buy' ? q.bid : q.ask),
                          margin: money(book.marginOf(p, book.account(login).leverage)),
                        };
                      }),
                    }
                  : {}),
              },
            ],
          });
        }
        if (m[2] === 'positions' && req.method === 'GET')
          return send(res, 200, {
            positions: book.openPositions(login).map((p) => ({
              account,
              version: p.id,
              positionCode: String(p.id),
              symbol: p.symbol,
              quantity: new Num(p.units.toString()),
              side: p.side === 'buy' ? 'BUY' : 'SELL',
              openPrice: price(p.symbol, p.openPrice),
              lastUpdateTime: iso(p.openTime),
            })),
          });
        if (m[2] === 'orders' && req.method === 'POST') {
          if (!/^\d+$/.test(String(body.quantity ?? '')))
            return dxError(res, 400, '32', 'Incorrect request parameters (quantity)', false);
          try {
            const o = placeOrder(account, body as Record<string, string>);
            return send(res, 200, { orderId: new Num(String(o.orderId)), updateOrderId: new Num(String(o.orderId)) });
          } catch (e) {
            if ((e as Error).message === 'duplicate')
              return dxError(res, 409, '36', `Order with code ${String(body.orderCode)} already exists`, false);
            throw e;
          }
        }
        if (m[2] === 'orders/history' && req.method === 'GET') {
          const ids = url.searchParams.get('with-client-id')?.split(',');
          const from = url.searchParams.get('transaction-from');
          return send(res, 200, {
            orders: orders
              .filter(
                (o) => o.account === account && (!ids || ids.includes(o.orderCode)) && (!from || o.time >= Date.parse(from)),
              )
              .map(orderJson),
          });
        }
        if (m[2] === 'transfers' && req.method === 'GET')
          return send(res, 200, { cashTransfers: page(transferList(account), url.searchParams) });
      }
      return dxError(res, 404, admin ? 2 : '2', 'Entity not found at server', admin);
    } catch (e) {
      if (e instanceof BookError) return dxError(res, bookStatus(e), admin ? 2 : '2', e.message, admin);
      throw e;
    }
  }

  const http = await serve(handle);
  return Object.assign(http, { book, setQuote: (s: string, b: string, a: string) => book.setQuote(s, b, a) }) as DxtradeFake;
}
