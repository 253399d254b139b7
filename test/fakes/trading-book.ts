/**
 * The trading state behind the vendor fakes (dxtrade-server.ts, match-trader-server.ts): accounts, balances,
 * positions and a ledger of deals, filled at a quote the test sets, plus the exact-JSON helpers the fakes speak.
 * Each fake keeps its own wire format and maps this book's answers onto the vendor's documented fields.
 *
 * Invariants:
 * - money is bigint cents of USD (accounts are USD; the symbols here are USD-quoted, so P/L needs no conversion)
 * - a quantity is bigint units of the base asset (EURUSD lot = 100,000 units, XAUUSD lot = 100 oz); a quantity
 *   must be a positive multiple of 0.01 lot and at most MAX_LOTS lots (minOrderUnits / orderStepUnits / maxOrderUnits)
 * - a quote carries the time it was set (ms); an order keeps the comment it was placed with, an opening and a closing
 *   one alike
 * - a buy fills at the ask, a sell at the bid; a closed market refuses with market_closed
 * - P/L = (close - open) x units / 10^digits x 100 cents for a buy (opposite for a sell), truncated toward zero;
 *   margin = units x open price / 10^digits / leverage x 100 cents, truncated
 * - a withdrawal or a new position that would leave free margin below zero is refused with no_money
 * - nothing here imports functions/ or local/: the fakes know the adapters only through HTTP
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface SymbolInfo {
  digits: number;
  contractSize: bigint;
}

/** The largest order, in lots. */
export const MAX_LOTS = 100n;
/** Order size limits of a symbol in units: 0.01 lot steps from 0.01 lot to MAX_LOTS lots. */
export const orderLimitsOf = (s: SymbolInfo) => ({
  minOrderUnits: s.contractSize / 100n,
  orderStepUnits: s.contractSize / 100n,
  maxOrderUnits: s.contractSize * MAX_LOTS,
});

export const SYMBOLS: Readonly<Record<string, SymbolInfo>> = {
  EURUSD: { digits: 5, contractSize: 100_000n },
  XAUUSD: { digits: 2, contractSize: 100n },
};

export type BookErrorCode =
  | 'no_money'
  | 'market_closed'
  | 'invalid_volume'
  | 'account_not_found'
  | 'position_not_found'
  | 'trade_disabled'
  | 'symbol_not_found'
  | 'invalid_amount';

export class BookError extends Error {
  constructor(
    readonly code: BookErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface BookAccount {
  login: number;
  currency: string;
  leverage: number;
  group: string;
  balance: bigint;
  credit: bigint;
  tradeDisabled: boolean;
  loginDisabled: boolean;
  password: string;
  name: string;
  email: string;
  clientRef: string;
}

export interface BookPosition {
  id: number;
  login: number;
  symbol: string;
  side: 'buy' | 'sell';
  units: bigint;
  unitsInitial: bigint;
  openPrice: bigint;
  openTime: number;
  orderId: number;
}

export type BookDealKind = 'open' | 'close' | 'deposit' | 'withdrawal' | 'adjustment' | 'credit_in' | 'credit_out';

export interface BookDeal {
  id: number;
  login: number;
  kind: BookDealKind;
  time: number;
  symbol: string;
  side: 'buy' | 'sell' | '';
  units: bigint;
  price: bigint;
  /** Realised P/L of a close, or the signed amount of a balance operation. */
  amount: bigint;
  positionId: number;
  orderId: number;
  comment: string;
  /** The client's id for a cash operation, where the protocol has one. */
  clientId?: string;
}

const pow10 = (n: number) => 10n ** BigInt(n);

export class TradingBook {
  readonly accounts = new Map<number, BookAccount>();
  readonly positions = new Map<number, BookPosition>();
  readonly deals: BookDeal[] = [];
  private readonly quotes = new Map<string, { bid: bigint; ask: bigint; time: number }>();
  readonly closedMarkets = new Set<string>();
  private nextId = 1;
  private nextLogin: number;
  private clock = Date.parse('2025-03-03T09:00:00.000Z');

  constructor(firstLogin = 500_001) {
    this.nextLogin = firstLogin;
    this.setQuote('EURUSD', '1.08500', '1.08510');
    this.setQuote('XAUUSD', '2900.00', '2900.50');
  }

  /** Strictly increasing milliseconds (several events share no timestamp unless the test asks). */
  now(): number {
    this.clock = Math.max(this.clock + 1, Date.now());
    return this.clock;
  }

  id(): number {
    return this.nextId++;
  }

  symbol(name: string): SymbolInfo {
    const s = SYMBOLS[name];
    if (!s) throw new BookError('symbol_not_found', `Unknown symbol ${name}`);
    return s;
  }

  setQuote(symbol: string, bid: string, ask: string): void {
    const { digits } = this.symbol(symbol);
    this.quotes.set(symbol, { bid: decimalToScaled(bid, digits), ask: decimalToScaled(ask, digits), time: this.now() });
  }

  quote(symbol: string): { bid: bigint; ask: bigint; time: number } {
    this.symbol(symbol);
    return this.quotes.get(symbol)!;
  }

  addAccount(a: Omit<BookAccount, 'login' | 'balance' | 'credit' | 'tradeDisabled' | 'loginDisabled'> & { login?: number }) {
    const login = a.login ?? this.nextLogin++;
    const account: BookAccount = { balance: 0n, credit: 0n, tradeDisabled: false, loginDisabled: false, ...a, login };
    this.accounts.set(login, account);
    return account;
  }

  account(login: number): BookAccount {
    const a = this.accounts.get(login);
    if (!a) throw new BookError('account_not_found', `No account ${login}`);
    return a;
  }

  openPositions(login: number): BookPosition[] {
    return [...this.positions.values()].filter((p) => p.login === login);
  }

  profitOf(p: BookPosition, units = p.units): bigint {
    const { digits } = this.symbol(p.symbol);
    const q = this.quote(p.symbol);
    const close = p.side === 'buy' ? q.bid : q.ask;
    const diff = p.side === 'buy' ? close - p.openPrice : p.openPrice - close;
    return (diff * units * 100n) / pow10(digits);
  }

  marginOf(p: BookPosition, leverage: number): bigint {
    const { digits } = this.symbol(p.symbol);
    return (p.units * p.openPrice * 100n) / (pow10(digits) * BigInt(leverage));
  }

  state(login: number) {
    const a = this.account(login);
    const open = this.openPositions(login);
    const profit = open.reduce((s, p) => s + this.profitOf(p), 0n);
    const margin = open.reduce((s, p) => s + this.marginOf(p, a.leverage), 0n);
    const equity = a.balance + a.credit + profit;
    return { balance: a.balance, credit: a.credit, profit, margin, equity, freeMargin: equity - margin };
  }

  cash(login: number, kind: BookDealKind, amount: bigint, comment: string, clientId?: string): BookDeal {
    const a = this.account(login);
    if (amount === 0n) throw new BookError('invalid_amount', 'Amount must not be zero');
    if (kind === 'credit_in' || kind === 'credit_out') {
      if (a.credit + amount < 0n) throw new BookError('no_money', 'Not enough credit');
      a.credit += amount;
    } else {
      if (amount < 0n && this.state(login).freeMargin + amount < 0n) throw new BookError('no_money', 'Not enough money');
      a.balance += amount;
    }
    const deal: BookDeal = {
      id: this.id(),
      login,
      kind,
      time: this.now(),
      symbol: '',
      side: '',
      units: 0n,
      price: 0n,
      amount,
      positionId: 0,
      orderId: 0,
      comment,
      ...(clientId ? { clientId } : {}),
    };
    this.deals.push(deal);
    return deal;
  }

  private checkUnits(symbol: string, units: bigint): void {
    const { minOrderUnits, orderStepUnits, maxOrderUnits } = orderLimitsOf(this.symbol(symbol));
    if (units < minOrderUnits || units > maxOrderUnits || units % orderStepUnits !== 0n)
      throw new BookError('invalid_volume', `Invalid quantity ${units}`);
  }

  open(login: number, symbol: string, side: 'buy' | 'sell', units: bigint, comment = '') {
    const a = this.account(login);
    if (a.tradeDisabled) throw new BookError('trade_disabled', 'Trading is disabled for this account');
    this.checkUnits(symbol, units);
    if (this.closedMarkets.has(symbol)) throw new BookError('market_closed', `Market ${symbol} is closed`);
    const q = this.quote(symbol);
    const price = side === 'buy' ? q.ask : q.bid;
    const orderId = this.id();
    const p: BookPosition = {
      id: orderId,
      login,
      symbol,
      side,
      units,
      unitsInitial: units,
      openPrice: price,
      openTime: 0,
      orderId,
    };
    if (this.state(login).freeMargin - this.marginOf(p, a.leverage) < 0n) throw new BookError('no_money', 'Not enough money');
    p.openTime = this.now();
    this.positions.set(p.id, p);
    const deal: BookDeal = {
      id: this.id(),
      login,
      kind: 'open',
      time: p.openTime,
      symbol,
      side,
      units,
      price,
      amount: 0n,
      positionId: p.id,
      orderId,
      comment,
    };
    this.deals.push(deal);
    return { position: p, deal };
  }

  close(login: number, positionId: number, units?: bigint, comment = '') {
    const a = this.account(login);
    const p = this.positions.get(positionId);
    if (!p || p.login !== login) throw new BookError('position_not_found', `No open position ${positionId}`);
    const closing = units ?? p.units;
    this.checkUnits(p.symbol, closing);
    if (closing > p.units) throw new BookError('invalid_volume', 'More than the open quantity');
    if (this.closedMarkets.has(p.symbol)) throw new BookError('market_closed', `Market ${p.symbol} is closed`);
    const q = this.quote(p.symbol);
    const price = p.side === 'buy' ? q.bid : q.ask;
    const profit = this.profitOf(p, closing);
    a.balance += profit;
    p.units -= closing;
    if (p.units === 0n) this.positions.delete(p.id);
    const orderId = this.id();
    const deal: BookDeal = {
      id: this.id(),
      login,
      kind: 'close',
      time: this.now(),
      symbol: p.symbol,
      side: p.side === 'buy' ? 'sell' : 'buy',
      units: closing,
      price,
      amount: profit,
      positionId: p.id,
      orderId,
      comment,
    };
    this.deals.push(deal);
    return { position: p, deal };
  }
}

/** "1.08510" -> 108510n at 5 digits; refuses more decimals than digits. */
export function decimalToScaled(text: string, digits: number): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m || (m[3] ?? '').replace(/0+$/, '').length > digits) throw new RangeError(`Not a ${digits}-decimal number: ${text}`);
  const frac = (m[3] ?? '').slice(0, digits).padEnd(digits, '0');
  const abs = BigInt(m[2]!) * pow10(digits) + BigInt(frac || '0');
  return m[1] === '-' ? -abs : abs;
}

/** 3600n at 2 digits -> "36.00". */
export function scaledToDecimal(value: bigint, digits: number): string {
  const neg = value < 0n;
  const s = (neg ? -value : value).toString().padStart(digits + 1, '0');
  return `${neg ? '-' : ''}${s.slice(0, s.length - digits)}${digits > 0 ? `.${s.slice(s.length - digits)}` : ''}`;
}

/** A JSON number written with exactly these digits. */
export class Num {
  constructor(readonly text: string) {}
}

export function jsonExact(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v) => {
    if (v instanceof Num) {
      raws.push(v.text);
      return `\u0000n${raws.length - 1}\u0000`;
    }
    return v;
  });
  return text.replace(/"\\u0000n(\d+)\\u0000"/g, (_m, i: string) => raws[Number(i)]!);
}

/** JSON text -> value with every number kept as its source text (a string). */
export function parseExactJson(text: string): unknown {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const token = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400))?.[0] ?? c;
      out += `"${token}"`;
      i += token.length;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out);
}

export async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? undefined : parseExactJson(text);
}

export function send(res: ServerResponse, status: number, body?: unknown): void {
  const text = body === undefined ? '' : jsonExact(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export interface FakeHttp {
  url: string;
  server: Server;
  /** While true the server accepts requests and never answers them (timeouts). */
  hang: boolean;
  /** Answer the next N requests with HTTP 503. */
  failNext: number;
  stop(): Promise<void>;
}

/** An in-process HTTP server on 127.0.0.1 with hang / 503 switches around `handle`. */
export async function serve(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<FakeHttp> {
  const sockets = new Set<Socket>();
  const fake = { hang: false, failNext: 0 } as FakeHttp;
  const server = createServer((req, res) => {
    if (fake.hang) return;
    if (fake.failNext > 0) {
      fake.failNext--;
      send(res, 503, { message: 'Service Unavailable' });
      return;
    }
    handle(req, res).catch((e: Error) => send(res, 500, { message: e.message }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    server,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
  return fake;
}
