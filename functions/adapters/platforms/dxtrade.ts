/**
 * The DXtrade adapter: TradingPlatform (domain/trading/port.ts) over Devexperts' two documented REST APIs, with
 * global fetch only (rest-json.ts). Local twin for tests: test/fakes/dxtrade-server.ts.
 *
 * Documents followed:
 * - "Devexperts REST API" (DX_REST_API.html: demo-xt.dx.trade/dxweb/specs/DX_REST_API.html, the same text as
 *   demo.dx.trade/developers/#/DXtrade-REST-API), base path /dxsca-web: POST /login, Account Metrics, List Open
 *   Positions, Place Order (Single Order Request), List Orders (history), List Cash Transfers (Cash Transfer /
 *   Cash Transaction)
 * - "dxRegister" Back-office REST API (demo-xt.dx.trade/dxweb/specs/dxRegister.html; demo.dx.trade/developers/#/
 *   DXtrade-Register-API), base path /dxweb/rest: POST /login, create user with accounts (/api/register/client;
 *   request shape as in subscriptionsManagement.html "User Creation"), get/update account, set account category,
 *   update user, deposit / withdrawal / adjustment with a client-side id
 *
 * Wire details:
 * - auth: POST {base}/login {username, domain, password} -> {sessionToken, timeout}; every call carries
 *   `Authorization: DXAPI <sessionToken>`; a 401 triggers ONE new login and ONE resend (the server refused the call,
 *   so resending cannot apply it twice). The configured user is a broker admin with LOGIN_ON_BEHALF rights
 * - our numeric login is the DXtrade accountCode (numeric text) in `clearingCode` (default "default"); the trading
 *   API names an account `clearingCode:accountCode`. createAccount takes the next free code (largest numeric
 *   accountCode + 1, at least `firstLogin`) and creates a user of the same login holding that one account; a 409
 *   (taken meanwhile) moves to the next code, at most 5 times
 * - money: JSON numbers read from their source text (never a double) <-> bigint minor units of the account
 *   currency, refused when not representable; quantities are units of the instrument: MT5 volume = quantity x
 *   10,000 / contractSize, and a volume whose quantity is not a whole unit is refused (invalid_volume). Prices are
 *   points with the instrument's digits. The instruments (digits, contractSize) are configuration: DXtrade's
 *   Instrument carries them, but reading the reference data on every call is not needed
 * - group: the account category of domain `groupCategory` (default "Trading"); leverage: DXtrade has no per-account
 *   leverage field, so the nearest documented thing is the margining category: domain "Margining" with value
 *   `leverageCategory(N)` (default `${N}:1`), which the broker must have configured
 * - access: readOnly -> account status NO_TRADING, else FULL_TRADING (PUT account); disabled -> user status
 *   `disabledStatus` (default "BLOCKED"), else ONLINE (PUT user). DXtrade has no investor (read-only) password: the
 *   investor password of createAccount / resetPasswords is not sent anywhere (main password -> user password)
 * - balance operations: balance > 0 -> deposit/{externalId}, balance < 0 -> withdrawal/{externalId} (amount
 *   positive), bonus / charge / correction -> adjustment/{externalId} (signed); 'credit' has no cash-transfer
 *   endpoint (only the absolute AccountUpdate.credit, which cannot be made exactly-once) and is refused with a plain
 *   Error. The {id} is "generated at the client side": DXtrade keeps it as the transfer's transferCode, and the same
 *   id again is the same transfer (PUT). changeBalance first reads the account's transfers: found -> replayed (or
 *   duplicate_external_id when the kind or amount differ); else PUTs. ticket = the transferCode = externalId
 * - trading: POST /accounts/{account}/orders {orderCode, type MARKET, instrument, quantity, side, positionEffect
 *   OPEN | CLOSE (+ positionCode), tif GTC}; then GET /accounts/{account}/orders/history?with-client-id=<orderCode>
 *   for the fill (COMPLETED: averagePrice, filledQuantity, positionCode, executions[0].executionCode) or the
 *   rejection (REJECTED: rejectReason). The Single Order Request has no free-text comment: the order's comment IS its
 *   orderCode, the client-originated id DXtrade keeps on the order (unique per account); without a comment the
 *   orderCode is random. A second order with the same orderCode is refused by DXtrade (409): the adapter then reads
 *   the first one's outcome by that orderCode, so a resend never trades twice
 * - findTrade: GET /accounts/{account}/orders/history?with-client-id=<comment>&transaction-from=<notBefore> -> the
 *   COMPLETED order with that orderCode (its executionCode, positionCode, averagePrice, filledQuantity,
 *   transactionTime); a REJECTED one is no trade. Opening and closing orders alike. Reads only
 * - instrument: reference data through one account (DXtrade answers instrument details and prices per account:
 *   `referenceLogin`, else the lowest account code of the clearing): GET /instruments/{symbol} (Instrument:
 *   priceIncrement -> digits, lotSize = contract size; it must agree with the configured instrument, else a plain
 *   Error), GET /accounts/{account}/instruments/{symbol} (Instrument Details: minOrderSize, maxOrderSize (a Limit
 *   Value, read as `{ value }` or a number), minOrderSizeIncrement, in units -> MT5 volume: min rounded up, max down,
 *   the step to the least MT5 volume that is a whole number of increments) and POST /marketdata {account, symbols,
 *   eventTypes [{type Quote, format COMPACT}]} -> events [Quote {symbol, bid, ask, time}]. An instrument the server
 *   does not list (an empty list or 404) is symbol_not_found
 * - deals: the completed orders of /accounts/orders/history (one deal per order: side, OPEN -> in, CLOSE -> out,
 *   realised P/L = the SETTLEMENT cash transactions with that orderCode, commission = its COMMISSION ones) and the
 *   DEPOSIT / WITHDRAWAL / ADJUSTMENT transfers of /accounts/transfers. DXtrade has no numeric deal id: `deal` is the
 *   numeric executionCode when it is one, else a stable 52-bit hash (rest-json stableId); deals are ordered by time
 *   then that key, and the cursor is base64url(`<time ms>|<key>`): the next read asks from that millisecond on
 *   (time-from / transaction-from are inclusive) and drops what sorts at or before the cursor
 *
 * Invariants:
 * - every refusal is a TradingError with a stable code, or a plain Error for configuration faults (bad admin
 *   credentials, a 403, an unknown category, 'credit'); retryable only for platform_unavailable: a timeout (default
 *   10 s), a connection error, HTTP 5xx / 429, an unreadable body, or an answer this adapter cannot represent
 * - mapping: HTTP 404 -> account_not_found (position_not_found for a CLOSE), admin transfer rejections mentioning
 *   insufficient / withdrawable -> no_money; order rejectReason: margin / money -> no_money, closed -> market_closed,
 *   quantity / volume -> invalid_volume, disabled / not allowed -> trade_disabled, position -> position_not_found,
 *   instrument -> symbol_not_found
 * - passwords go to DXtrade in request bodies only; never logged, kept or returned
 * - functions/ never imports local/ or test/: this module knows DXtrade only by its URL
 */
import { randomUUID } from 'node:crypto';
import { currency as currencyOf } from '#domain/money/index.ts';
import { TradingError, type TradingErrorCode } from '#domain/trading/errors.ts';
import { type AccountState, type Deal, marginLevel, type Position, VOLUME_PER_LOT } from '#domain/trading/model.ts';
import type {
  BalanceChange,
  BalanceResult,
  DealPage,
  Fill,
  Instrument,
  MarketOrder,
  NewPlatformAccount,
  TradingPlatform,
} from '#domain/trading/port.ts';
import { refuseZeroAmount, replayOf } from './platform-common.ts';
import {
  exchange,
  fromScaled,
  type Json,
  pageAfter,
  Raw,
  readCursor,
  safeInt,
  sortKey,
  stableId,
  toScaled,
  unavailable,
} from './rest-json.ts';

export interface DxInstrument {
  digits: number;
  /** Units of the base asset in one lot. */
  contractSize: bigint;
}

export interface DxtradeAdapterOptions {
  /** Host of both APIs, e.g. https://dxtrade.example.com (paths /dxsca-web and /dxweb/rest are added). */
  baseUrl: string;
  admin: { username: string; domain: string; password: string };
  /** Our name for this DXtrade server: deal cursors are per server. */
  server: string;
  instruments: Readonly<Record<string, DxInstrument>>;
  clearingCode?: string;
  /** Domain of the users we create; default the admin's domain. */
  userDomain?: string;
  firstLogin?: number;
  groupCategory?: string;
  leverageCategory?: (leverage: number) => string;
  disabledStatus?: string;
  /** The account instrument details and quotes are read through; default the lowest account code of the clearing. */
  referenceLogin?: number;
  /** Per request; default 10,000 ms. */
  timeoutMs?: number;
}

const EXTERNAL_ID = /^[A-Za-z0-9_-]{1,64}$/;

function kindOf(change: BalanceChange): 'deposit' | 'withdrawal' | 'adjustment' {
  if (change.type === 'balance') return change.amount > 0n ? 'deposit' : 'withdrawal';
  if (change.type === 'credit')
    throw new Error('DXtrade has no exactly-once cash transfer for credit (only the absolute AccountUpdate.credit)');
  return 'adjustment';
}

const TRANSFER_KIND: Readonly<Record<string, 'deposit' | 'withdrawal' | 'adjustment'>> = {
  DEPOSIT: 'deposit',
  WITHDRAWAL: 'withdrawal',
  ADJUSTMENT: 'adjustment',
};

const REJECTIONS: readonly [RegExp, TradingErrorCode][] = [
  [/margin|money|funds/i, 'no_money'],
  [/closed/i, 'market_closed'],
  [/quantity|volume|size/i, 'invalid_volume'],
  [/disabled|not allowed|prohibited/i, 'trade_disabled'],
  [/position/i, 'position_not_found'],
  [/instrument|symbol/i, 'symbol_not_found'],
  [/account/i, 'account_not_found'],
];

export function rejectionCode(reason: string): TradingErrorCode | undefined {
  return REJECTIONS.find(([re]) => re.test(reason))?.[1];
}

/** MT5 volume (lots x 10,000) -> DXtrade quantity in units; refuses a fraction of a unit. */
export function volumeToQuantity(volume: bigint, contractSize: bigint): bigint {
  const scaled = volume * contractSize;
  if (volume <= 0n || scaled % VOLUME_PER_LOT !== 0n)
    throw new TradingError('invalid_volume', `Volume ${volume} is not a whole number of units (lot = ${contractSize} units)`);
  return scaled / VOLUME_PER_LOT;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/** Order size limits in units -> MT5 volume: min rounded up, max down, the step to a whole number of increments. */
export function volumeLimitsOfUnits(contractSize: bigint, min: bigint, max: bigint, increment: bigint) {
  const grid = VOLUME_PER_LOT * increment;
  return {
    volumeMin: (min * VOLUME_PER_LOT + contractSize - 1n) / contractSize,
    volumeMax: (max * VOLUME_PER_LOT) / contractSize,
    volumeStep: grid / gcd(contractSize, grid),
  };
}

/** DXtrade quantity in units -> MT5 volume; a quantity that is not a whole MT5 volume unit is refused. */
export function quantityToVolume(quantity: bigint, contractSize: bigint): bigint {
  const scaled = quantity * VOLUME_PER_LOT;
  if (scaled % contractSize !== 0n)
    throw new TradingError('invalid_volume', `Quantity ${quantity} is not a whole MT5 volume unit (lot = ${contractSize} units)`);
  return scaled / contractSize;
}

interface Session {
  token?: string;
}

export class DxtradePlatform implements TradingPlatform {
  readonly platform = 'dxtrade' as const;
  readonly server: string;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly clearing: string;
  private readonly sessions: Record<'admin' | 'trading', Session> = { admin: {}, trading: {} };
  private readonly currencies = new Map<number, string>();
  private referenceAccount: string | undefined;

  constructor(private readonly options: DxtradeAdapterOptions) {
    this.server = options.server;
    this.base = new URL(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.clearing = options.clearingCode ?? 'default';
  }

  private account(login: number): string {
    return `${this.clearing}:${login}`;
  }

  private adminPath(login: number, tail = ''): string {
    return `/api/register/account/${encodeURIComponent(this.clearing)}/${login}${tail}`;
  }

  private async login(api: 'admin' | 'trading'): Promise<string> {
    const prefix = api === 'admin' ? '/dxweb/rest' : '/dxsca-web';
    const { username, domain, password } = this.options.admin;
    const res = await exchange('DXtrade', new URL(`${prefix}/login`, this.base), {
      method: 'POST',
      body: { username, domain, password },
      timeoutMs: this.timeoutMs,
    });
    if (res.status !== 200 || typeof res.body?.sessionToken !== 'string')
      throw new Error(`DXtrade ${api} login refused for ${domain}/${username}: HTTP ${res.status}`);
    this.sessions[api].token = res.body.sessionToken;
    return res.body.sessionToken;
  }

  /** One call; answers {status, body} for 2xx/4xx after one re-login on 401. */
  private async call(api: 'admin' | 'trading', method: string, path: string, body?: unknown, query: Record<string, string> = {}) {
    const prefix = api === 'admin' ? '/dxweb/rest' : '/dxsca-web';
    const url = new URL(`${prefix}${path}`, this.base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    for (let attempt = 0; ; attempt++) {
      const token = this.sessions[api].token ?? (await this.login(api));
      const res = await exchange('DXtrade', url, {
        method,
        body,
        headers: { authorization: `DXAPI ${token}` },
        timeoutMs: this.timeoutMs,
      });
      if (res.status === 401 && attempt === 0) {
        this.sessions[api].token = undefined;
        continue;
      }
      if (res.status === 401 || res.status === 403)
        throw new Error(`DXtrade ${method} ${path}: HTTP ${res.status} (permissions)`);
      return res;
    }
  }

  /** A call that must succeed; 404 -> notFound code, other 4xx -> mapped or a plain Error. */
  private async must(
    api: 'admin' | 'trading',
    method: string,
    path: string,
    body?: unknown,
    query: Record<string, string> = {},
    notFound: TradingErrorCode = 'account_not_found',
  ): Promise<Json> {
    const res = await this.call(api, method, path, body, query);
    if (res.status >= 200 && res.status < 300) return res.body;
    const text = String(res.body?.errorMessage ?? res.body?.description ?? '');
    if (res.status === 404) throw new TradingError(notFound, `DXtrade ${method} ${path}: ${text}`, [], { status: 404 });
    if (/insufficient|withdrawable|not enough/i.test(text))
      throw new TradingError('no_money', `DXtrade ${method} ${path}: ${text}`, [], { status: res.status });
    throw new Error(`DXtrade ${method} ${path}: HTTP ${res.status} ${String(res.body?.errorCode ?? '')} ${text}`.trim());
  }

  private instrumentSpec(symbol: string): DxInstrument {
    const i = this.options.instruments[symbol];
    if (!i) throw new TradingError('symbol_not_found', `No DXtrade instrument ${symbol} is configured`);
    return i;
  }

  private money(value: unknown, currency: string, what: string): bigint {
    try {
      return toScaled(value, currencyOf(currency).exponent);
    } catch {
      throw unavailable(`DXtrade answered ${what} ${String(value)}: not representable in ${currency} minor units`);
    }
  }

  private points(value: unknown, symbol: string, what: string): bigint {
    try {
      return toScaled(value, this.instrumentSpec(symbol).digits);
    } catch (e) {
      if (e instanceof TradingError) throw e;
      throw unavailable(`DXtrade answered ${what} ${String(value)} with more than the instrument's digits`);
    }
  }

  private units(value: unknown, what: string): bigint {
    try {
      return toScaled(value, 0);
    } catch {
      throw unavailable(`DXtrade answered ${what} ${String(value)}: not a whole number of units`);
    }
  }

  // --- accounts ---------------------------------------------------------------------------------------

  async createAccount(input: NewPlatformAccount): Promise<{ login: number }> {
    const existing = (await this.must('admin', 'GET', '/api/register/account')) as Json[];
    let login = Math.max(
      this.options.firstLogin ?? 100_001,
      ...(Array.isArray(existing) ? existing : []).map((a) => (safeInt(a?.accountCode) ?? 0) + 1),
    );
    for (let attempt = 0; attempt < 5; attempt++, login++) {
      const res = await this.call('admin', 'POST', '/api/register/client', {
        domain: this.options.userDomain ?? this.options.admin.domain,
        login: String(login),
        fullName: input.name,
        ...(input.email ? { email: input.email } : {}),
        password: input.passwords.main,
        type: 'CLIENT',
        status: 'ONLINE',
        comments: input.clientRef,
        ...(input.country ? { location: { country: input.country } } : {}),
        accounts: [
          {
            clearingCode: this.clearing,
            accountCode: String(login),
            type: 'CLIENT',
            status: 'FULL_TRADING',
            accountCashType: 'MARGIN',
            accountType: 'LIVE',
            currency: input.currency,
            categories: [
              { category: this.options.groupCategory ?? 'Trading', value: input.group },
              { category: 'Margining', value: this.leverageValue(input.leverage) },
            ],
          },
        ],
      });
      if (res.status === 409) continue;
      if (res.status !== 200 && res.status !== 201)
        throw new Error(`DXtrade create user: HTTP ${res.status} ${String(res.body?.errorMessage ?? '')}`.trim());
      this.currencies.set(login, input.currency);
      return { login };
    }
    throw new TradingError('account_exists', `DXtrade account codes from ${login - 5} on are taken`);
  }

  private leverageValue(leverage: number): string {
    return (this.options.leverageCategory ?? ((n: number) => `${n}:1`))(leverage);
  }

  async setLeverage(login: number, leverage: number): Promise<void> {
    await this.must('admin', 'PUT', this.adminPath(login, '/category/Margining'), { value: this.leverageValue(leverage) });
  }

  async setGroup(login: number, group: string): Promise<void> {
    const domain = this.options.groupCategory ?? 'Trading';
    await this.must('admin', 'PUT', this.adminPath(login, `/category/${encodeURIComponent(domain)}`), { value: group });
  }

  async setAccess(login: number, access: { readOnly: boolean; disabled: boolean }): Promise<void> {
    await this.must('admin', 'PUT', this.adminPath(login), { status: access.readOnly ? 'NO_TRADING' : 'FULL_TRADING' });
    await this.must('admin', 'PUT', this.userPath(login), {
      status: access.disabled ? (this.options.disabledStatus ?? 'BLOCKED') : 'ONLINE',
    });
  }

  private userPath(login: number): string {
    return `/api/register/client/${encodeURIComponent(this.options.userDomain ?? this.options.admin.domain)}/${login}`;
  }

  async resetPasswords(login: number, passwords: { main?: string; investor?: string }): Promise<void> {
    if (passwords.main !== undefined) await this.must('admin', 'PUT', this.userPath(login), { password: passwords.main });
  }

  // --- balance ----------------------------------------------------------------------------------------

  async changeBalance(change: BalanceChange): Promise<BalanceResult> {
    if (!EXTERNAL_ID.test(change.externalId)) throw new RangeError(`externalId must match ${EXTERNAL_ID}`);
    refuseZeroAmount(change.amount);
    const kind = kindOf(change);
    const seen = await this.findTransfer(change.login, change.externalId);
    const replay = replayOf(
      change.externalId,
      seen && { ticket: change.externalId, same: seen.kind === kind && seen.amount === change.amount },
    );
    if (replay) return replay;
    const currency = await this.currencyOf(change.login);
    const abs = kind === 'withdrawal' ? -change.amount : change.amount;
    const amount = fromScaled(abs, currencyOf(currency).exponent);
    await this.must('admin', 'PUT', this.adminPath(change.login, `/${kind}/${encodeURIComponent(change.externalId)}`), {
      currency,
      amount: new Raw(amount),
      description: change.comment,
    });
    return { ticket: change.externalId, replayed: false };
  }

  async findBalanceOperation(login: number, externalId: string): Promise<BalanceResult | undefined> {
    const seen = await this.findTransfer(login, externalId);
    return seen ? { ticket: externalId, replayed: true } : undefined;
  }

  private async findTransfer(login: number, transferCode: string) {
    const currency = await this.currencyOf(login);
    for (let start = 0; ; start += 500) {
      const body = await this.must(
        'trading',
        'GET',
        `/accounts/${encodeURIComponent(this.account(login))}/transfers`,
        undefined,
        {
          limit: '500',
          'start-from': String(start),
        },
      );
      const rows: Json[] = Array.isArray(body?.cashTransfers) ? body.cashTransfers : [];
      for (const t of rows) {
        if (String(t.transferCode) !== transferCode) continue;
        const tx = (t.cashTransactions ?? []).find((c: Json) => TRANSFER_KIND[String(c.type)]);
        if (tx) return { kind: TRANSFER_KIND[String(tx.type)]!, amount: this.money(tx.value, currency, 'value') };
      }
      if (rows.length < 500) return undefined;
    }
  }

  // --- state ------------------------------------------------------------------------------------------

  private async metrics(login: number, withPositions: boolean): Promise<Json> {
    const body = await this.must('trading', 'GET', `/accounts/${encodeURIComponent(this.account(login))}/metrics`, undefined, {
      'include-positions': String(withPositions),
    });
    const m = Array.isArray(body?.metrics) ? body.metrics[0] : undefined;
    if (!m) throw unavailable(`DXtrade answered no metrics for ${this.account(login)}`);
    return m;
  }

  async accountState(login: number): Promise<AccountState> {
    const [m, currency] = await Promise.all([this.metrics(login, false), this.currencyOf(login)]);
    const money = (field: string) => this.money(m[field] ?? '0', currency, field);
    const margin = money('margin');
    const equity = money('equity');
    return {
      login,
      currency,
      balance: money('balance'),
      credit: money('credit'),
      equity,
      margin,
      freeMargin: money('marginFree'),
      marginLevel: marginLevel(equity, margin),
      profit: money('openPL'),
    };
  }

  private async currencyOf(login: number): Promise<string> {
    const known = this.currencies.get(login);
    if (known) return known;
    const a = await this.must('admin', 'GET', this.adminPath(login));
    const currency = String(a?.currency ?? '');
    currencyOf(currency); // throws for an unknown currency
    this.currencies.set(login, currency);
    return currency;
  }

  async positions(login: number): Promise<Position[]> {
    const account = encodeURIComponent(this.account(login));
    const body = await this.must('trading', 'GET', `/accounts/${account}/positions`);
    const rows: Json[] = Array.isArray(body?.positions) ? body.positions : [];
    if (rows.length === 0) return [];
    const [m, currency, history] = await Promise.all([
      this.metrics(login, true),
      this.currencyOf(login),
      this.must('trading', 'GET', `/accounts/${account}/orders/history`),
    ]);
    const metrics = new Map<string, Json>((m.positions ?? []).map((p: Json) => [String(p.positionCode), p]));
    const opening = new Map<string, Json>();
    for (const o of history?.orders ?? [])
      if (o.status === 'COMPLETED' && o.positionEffect === 'OPEN') opening.set(String(o.positionCode), o);
    return rows.map((p) => {
      const code = String(p.positionCode);
      const symbol = String(p.symbol);
      const { contractSize } = this.instrumentSpec(symbol);
      const pm = metrics.get(code) ?? {};
      const open = opening.get(code);
      const volume = quantityToVolume(this.units(p.quantity, 'quantity'), contractSize);
      return {
        positionId: safeInt(code) ?? stableId(code),
        login,
        symbol,
        side: String(p.side) === 'SELL' ? 'sell' : 'buy',
        volume,
        volumeInitial: open ? quantityToVolume(this.units(open.filledQuantity, 'filledQuantity'), contractSize) : volume,
        openPrice: this.points(p.openPrice, symbol, 'openPrice'),
        openTimeMsc: Date.parse(String(open?.transactionTime ?? p.lastUpdateTime)),
        storage: 0n,
        priceCurrent: this.points(pm.currentPrice ?? p.openPrice, symbol, 'currentPrice'),
        profit: this.money(pm.fpl ?? '0', currency, 'fpl'),
      } satisfies Position;
    });
  }

  async dealsSince(cursor: string, limit: number): Promise<DealPage> {
    const { after, fromMs } = readCursor('DXtrade', cursor, limit);
    const from = new Date(fromMs).toISOString();
    const [orders, transfers] = await Promise.all([
      this.must('trading', 'GET', '/accounts/orders/history', undefined, { 'transaction-from': from }),
      this.allTransfers(from),
    ]);
    const keyed: { key: string; deal: Deal }[] = [];
    const settlements = new Map<string, { profit: bigint; commission: bigint }>();
    for (const t of transfers)
      for (const tx of t.cashTransactions ?? []) {
        const code = tx.orderCode === undefined ? '' : String(tx.orderCode);
        if (code === '') continue;
        const s = settlements.get(code) ?? { profit: 0n, commission: 0n };
        const v = this.money(tx.value, String(tx.currency), 'value');
        if (tx.type === 'SETTLEMENT') s.profit += v;
        else if (tx.type === 'COMMISSION') s.commission += v;
        settlements.set(code, s);
      }
    for (const o of orders?.orders ?? []) {
      if (o.status !== 'COMPLETED') continue;
      const login = safeInt(String(o.account).split(':')[1]);
      if (login === undefined) continue;
      const symbol = String(o.instrument);
      const { contractSize } = this.instrumentSpec(symbol);
      const execution = String(o.executions?.[0]?.executionCode ?? o.orderId);
      const s = settlements.get(String(o.orderCode)) ?? { profit: 0n, commission: 0n };
      keyed.push({
        key: sortKey(Date.parse(String(o.transactionTime)), safeInt(execution) ?? stableId(execution)),
        deal: {
          deal: safeInt(execution) ?? stableId(execution),
          login,
          order: safeInt(o.orderId) ?? 0,
          action: String(o.side) === 'SELL' ? 'sell' : 'buy',
          entry: o.positionEffect === 'CLOSE' ? 'out' : 'in',
          reason: 'client',
          timeMsc: Date.parse(String(o.transactionTime)),
          symbol,
          price: this.points(o.averagePrice, symbol, 'averagePrice'),
          volume: quantityToVolume(this.units(o.filledQuantity, 'filledQuantity'), contractSize),
          profit: s.profit,
          commission: s.commission,
          storage: 0n,
          positionId: safeInt(o.positionCode) ?? stableId(String(o.positionCode)),
          comment: '',
        },
      });
    }
    for (const t of transfers) {
      const tx = (t.cashTransactions ?? []).find((c: Json) => TRANSFER_KIND[String(c.type)]);
      const login = safeInt(String(t.account).split(':')[1]);
      if (!tx || login === undefined) continue;
      const code = String(t.transferCode);
      const id = stableId(`${t.account}|${code}`);
      const time = Date.parse(String(t.transactionTime));
      keyed.push({
        key: sortKey(time, id),
        deal: {
          deal: id,
          login,
          order: 0,
          action: TRANSFER_KIND[String(tx.type)] === 'adjustment' ? 'correction' : 'balance',
          entry: 'in',
          reason: 'dealer',
          timeMsc: time,
          symbol: '',
          price: 0n,
          volume: 0n,
          profit: this.money(tx.value, String(tx.currency), 'value'),
          commission: 0n,
          storage: 0n,
          positionId: 0,
          comment: String(t.comment ?? ''),
          externalId: code,
        },
      });
    }
    return pageAfter(keyed, after, limit, cursor);
  }

  private async allTransfers(from: string): Promise<Json[]> {
    const out: Json[] = [];
    for (let start = 0; ; start += 500) {
      const body = await this.must('trading', 'GET', '/accounts/transfers', undefined, {
        'time-from': from,
        limit: '500',
        'start-from': String(start),
      });
      const rows: Json[] = Array.isArray(body?.cashTransfers) ? body.cashTransfers : [];
      out.push(...rows);
      if (rows.length < 500) return out;
    }
  }

  // --- trading ----------------------------------------------------------------------------------------

  async findTrade(login: number, comment: string, notBefore?: number): Promise<Fill | undefined> {
    if (comment === '') return undefined;
    const account = encodeURIComponent(this.account(login));
    const body = await this.must('trading', 'GET', `/accounts/${account}/orders/history`, undefined, {
      'with-client-id': comment,
      ...(notBefore === undefined ? {} : { 'transaction-from': new Date(notBefore).toISOString() }),
    });
    const o = ((body?.orders ?? []) as Json[]).find(
      (x) =>
        String(x.orderCode) === comment &&
        x.status === 'COMPLETED' &&
        (notBefore === undefined || Date.parse(String(x.transactionTime)) >= notBefore),
    );
    return o ? this.fillOf(o, String(o.instrument)) : undefined;
  }

  async instrument(symbol: string): Promise<Instrument> {
    const found = await this.must(
      'trading',
      'GET',
      `/instruments/${encodeURIComponent(symbol)}`,
      undefined,
      {},
      'symbol_not_found',
    );
    const i = ((found?.instruments ?? []) as Json[]).find((x) => String(x.symbol) === symbol);
    if (!i) throw new TradingError('symbol_not_found', `DXtrade has no instrument ${symbol}`);
    const digits = decimalsOf(String(i.priceIncrement));
    const contractSize = this.units(i.lotSize, 'lotSize');
    const configured = this.options.instruments[symbol];
    if (configured && (configured.digits !== digits || configured.contractSize !== contractSize))
      throw new Error(
        `DXtrade instrument ${symbol} has ${digits} digits and lot size ${contractSize}; the configuration says ${configured.digits} and ${configured.contractSize}`,
      );
    const account = await this.referenceAccountCode();
    const details = await this.must(
      'trading',
      'GET',
      `/accounts/${encodeURIComponent(account)}/instruments/${encodeURIComponent(symbol)}`,
      undefined,
      {},
      'symbol_not_found',
    );
    const d = ((details?.instruments ?? []) as Json[]).find((x) => String(x.symbol) === symbol);
    if (!d) throw new TradingError('symbol_not_found', `DXtrade lists no ${symbol} for account ${account}`);
    const max = typeof d.maxOrderSize === 'object' && d.maxOrderSize !== null ? d.maxOrderSize.value : d.maxOrderSize;
    if (max === undefined) throw unavailable(`DXtrade answered no maximum order size for ${symbol}`);
    const md = await this.must('trading', 'POST', '/marketdata', {
      account,
      symbols: [symbol],
      eventTypes: [{ type: 'Quote', format: 'COMPACT' }],
    });
    const q = ((md?.events ?? []) as Json[]).find((e) => e.type === 'Quote' && String(e.symbol) === symbol);
    if (!q) throw unavailable(`DXtrade has no quote for ${symbol}`, { symbol });
    const price = (v: unknown, what: string) => {
      try {
        return toScaled(v, digits);
      } catch {
        throw unavailable(`DXtrade answered ${what} ${String(v)} with more than ${digits} decimals`);
      }
    };
    const time = typeof q.time === 'string' && !/^\d+$/.test(q.time) ? Date.parse(q.time) : Number(q.time);
    if (!Number.isFinite(time)) throw unavailable(`DXtrade answered a quote time ${String(q.time)}`);
    return {
      symbol,
      digits,
      contractSize,
      ...volumeLimitsOfUnits(
        contractSize,
        this.units(d.minOrderSize, 'minOrderSize'),
        this.units(max, 'maxOrderSize'),
        this.units(d.minOrderSizeIncrement, 'minOrderSizeIncrement'),
      ),
      bid: price(q.bid, 'bid'),
      ask: price(q.ask, 'ask'),
      quoteTimeMsc: time,
    };
  }

  /** `clearing:code` of the account reference data is read through (see the docblock). */
  private async referenceAccountCode(): Promise<string> {
    if (this.referenceAccount) return this.referenceAccount;
    let login = this.options.referenceLogin;
    if (login === undefined) {
      const all = (await this.must('admin', 'GET', '/api/register/account')) as Json[];
      const codes = (Array.isArray(all) ? all : [])
        .filter((a) => String(a?.clearingCode) === this.clearing)
        .map((a) => safeInt(a?.accountCode))
        .filter((n): n is number => n !== undefined)
        .sort((a, b) => a - b);
      login = codes[0];
      if (login === undefined) throw new Error(`DXtrade: clearing ${this.clearing} has no account to read instruments through`);
    }
    this.referenceAccount = this.account(login);
    return this.referenceAccount;
  }

  async marketOrder(order: MarketOrder): Promise<Fill> {
    const { contractSize } = this.instrumentSpec(order.symbol);
    return this.execute(order.login, {
      instrument: order.symbol,
      quantity: volumeToQuantity(order.volume, contractSize),
      side: order.side === 'buy' ? 'BUY' : 'SELL',
      positionEffect: 'OPEN',
      ...(order.comment ? { orderCode: order.comment } : {}),
    });
  }

  async closePosition(login: number, positionId: number, volume?: bigint, comment?: string): Promise<Fill> {
    const open = (await this.positions(login)).find((p) => p.positionId === positionId);
    if (!open) throw new TradingError('position_not_found', `No open position ${positionId} on account ${login}`);
    const { contractSize } = this.instrumentSpec(open.symbol);
    return this.execute(login, {
      instrument: open.symbol,
      quantity: volumeToQuantity(volume ?? open.volume, contractSize),
      side: open.side === 'buy' ? 'SELL' : 'BUY',
      positionEffect: 'CLOSE',
      positionCode: String(positionId),
      ...(comment ? { orderCode: comment } : {}),
    });
  }

  private async execute(
    login: number,
    req: {
      instrument: string;
      quantity: bigint;
      side: string;
      positionEffect: string;
      positionCode?: string;
      orderCode?: string;
    },
  ): Promise<Fill> {
    const account = encodeURIComponent(this.account(login));
    const orderCode = req.orderCode ?? randomUUID();
    const path = `/accounts/${account}/orders`;
    const res = await this.call('trading', 'POST', path, {
      account: this.account(login),
      orderCode,
      type: 'MARKET',
      instrument: req.instrument,
      quantity: new Raw(req.quantity.toString()),
      side: req.side,
      positionEffect: req.positionEffect,
      ...(req.positionCode ? { positionCode: req.positionCode } : {}),
      tif: 'GTC',
    });
    // 409: an order with this orderCode exists already (a resend): its outcome is the answer, read below
    if (res.status !== 409 && (res.status < 200 || res.status >= 300)) {
      const text = String(res.body?.errorMessage ?? res.body?.description ?? '');
      const notFound = req.positionEffect === 'CLOSE' ? 'position_not_found' : 'account_not_found';
      if (res.status === 404) throw new TradingError(notFound, `DXtrade POST ${path}: ${text}`, [], { status: 404 });
      throw new Error(`DXtrade POST ${path}: HTTP ${res.status} ${String(res.body?.errorCode ?? '')} ${text}`.trim());
    }
    const body = await this.must('trading', 'GET', `/accounts/${account}/orders/history`, undefined, {
      'with-client-id': orderCode,
    });
    const o = (body?.orders ?? []).find((x: Json) => String(x.orderCode) === orderCode);
    if (!o) throw unavailable(`DXtrade order ${orderCode} is not in the history yet`, { orderCode });
    if (o.status === 'REJECTED') {
      const reason = String(o.executions?.[0]?.rejectReason ?? o.rejectReason ?? 'rejected');
      const code = rejectionCode(reason);
      if (code) throw new TradingError(code, `DXtrade rejected order ${orderCode}: ${reason}`, [], { orderCode });
      throw new Error(`DXtrade rejected order ${orderCode}: ${reason}`);
    }
    if (o.status !== 'COMPLETED') throw unavailable(`DXtrade order ${orderCode} is ${String(o.status)}`, { orderCode });
    return this.fillOf(o, req.instrument);
  }

  /** The fill of a COMPLETED order (Order: orderId, executions[0].executionCode, positionCode, averagePrice, ...). */
  private fillOf(o: Json, instrument: string): Fill {
    const { contractSize } = this.instrumentSpec(instrument);
    const execution = String(o.executions?.[0]?.executionCode ?? o.orderId);
    const position = String(o.positionCode ?? o.legs?.[0]?.positionCode ?? '');
    const time = Date.parse(String(o.transactionTime ?? o.executions?.[0]?.transactionTime));
    return {
      order: safeInt(o.orderId) ?? stableId(String(o.orderId)),
      deal: safeInt(execution) ?? stableId(execution),
      positionId: safeInt(position) ?? stableId(position),
      price: this.points(o.averagePrice, instrument, 'averagePrice'),
      volume: quantityToVolume(this.units(o.filledQuantity, 'filledQuantity'), contractSize),
      ...(Number.isFinite(time) ? { timeMsc: time } : {}),
    };
  }
}

/** Decimals of a price increment ("0.00001" -> 5, "0.01" -> 2, "1" -> 0). */
function decimalsOf(increment: string): number {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(increment);
  if (!m) throw unavailable(`DXtrade answered a priceIncrement ${increment}`);
  return (m[2] ?? '').replace(/0+$/, '').length;
}

export const dxtradePlatform = (options: DxtradeAdapterOptions): DxtradePlatform => new DxtradePlatform(options);
