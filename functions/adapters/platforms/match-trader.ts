/**
 * The Match-Trader adapter: TradingPlatform (domain/trading/port.ts) over Match-Trade's Broker API (REST), with
 * global fetch only (rest-json.ts). Local twin for tests: test/fakes/match-trader-server.ts.
 *
 * Documents followed: Match-Trade "Broker API" (app.theneo.io/match-trade/broker-api): Introduction (500
 * requests/minute, RFC 3339 times), Authentication (`Authorization` header with the broker's API key), CRM
 * integration "Step-by-Step Integration Process" (offers -> POST /v1/accounts -> manual deposits/withdrawals ->
 * open/closed positions and ledgers under /v1/trading-accounts/trading-data), Errors, Payments ("Manual Deposit":
 * systemUuid, login, paymentGatewayUuid, amount, comment -> uuid, created, status NEW ... DONE / REJECTED / FAILED),
 * Trading ("Open Position": systemUuid, login, instrument, orderSide, volume in lots -> status OK | REJECTED |
 * PARTIAL_SUCCESS, orderId; "Close Position (Partially)": + positionId, volume), Trading data ("Get Ledgers": types
 * DEPOSIT, WITHDRAWAL, CREDIT_IN, CREDIT_OUT, ...), FAQ (PATCH /v1/trading-account?systemUuid=&login= with
 * offerUuid moves a trading account to another offer and so group; passwords belong to the user: POST
 * /v1/change-password; GET /v1/trading-account for balance and equity); and the CRM API page "Update Trading
 * Account" (same PATCH with access FULL | CLOSE_ONLY | TRADING_DISABLED | TRADING_AND_LOGIN_DISABLED, leverage).
 * Endpoint paths for positions as in Match-Trade's path list (/v1/trading-accounts/positions/open,
 * /close-partially).
 *
 * Wire details:
 * - group = a Match-Trader offer: createAccount / setGroup accept an offer's uuid, name or groupName and resolve it
 *   through GET /v1/offers (cached); leverage is set with the PATCH after creation when it differs from the offer's
 * - createAccount: POST /v1/accounts {email, password, offerUuid, personalDetails}; when the email already has a
 *   user (409), POST /v1/accounts/{uuid}/trading-accounts {offerUuid} for that user. The email is required (Match
 *   logs users in by email); the investor password has no Match-Trader equivalent and is not sent
 * - resetPasswords: the main password -> POST /v1/change-password {email, password} for the trading account's user
 *   (it changes the password of every trading account of that user); the investor password is not sent
 * - setAccess: disabled -> TRADING_AND_LOGIN_DISABLED, readOnly -> TRADING_DISABLED, else FULL
 * - money: JSON numbers read from their source text (never a double) <-> bigint minor units, refused when not
 *   representable; volume: lots (a JSON number) <-> MT5 units exactly (lots x 10,000; more than 4 decimals refused
 *   with invalid_volume); prices: points with the instrument's configured digits
 * - balance operations: balance / bonus / correction > 0 -> /v1/deposits/manual, < 0 (and charge) ->
 *   /v1/withdrawals/manual, both with the configured paymentGatewayUuid; credit -> /v1/credit-in or /v1/credit-out.
 *   Match-Trader has no external id field, so the externalId is written at the end of the comment as
 *   `<comment text>|<externalId>` and changeBalance first looks it up in the account's ledgers (DEPOSIT, WITHDRAWAL,
 *   CREDIT_IN, CREDIT_OUT): found with the same signed amount -> replayed, with another -> duplicate_external_id.
 *   A deposit answered REJECTED / FAILED is refused (no_money for a withdrawal); ticket = the ledger entry's id,
 *   read back after the write. Concurrent calls with one id from two processes can both miss the lookup: callers
 *   serialise per transfer, as for MT5
 * - trading: open -> the position whose id is the answered orderId (Match-Trader opens a position under the id of
 *   its order; else the newest one of the symbol); close -> close-partially with the position's instrument and the
 *   volume (the whole volume when none is given); the fill price is the closed-positions record of that orderId
 * - deals: Match-Trader exposes no deal list, so deals are rebuilt from ledgers (balance operations) and open +
 *   closed positions (an 'in' deal per position at its open, an 'out' deal per closed record with its profit). Ids:
 *   the numeric order / ledger id, or a stable 52-bit hash for the opening deal. The cursor is base64url(`<time ms>|
 *   <id>`); reads ask `from` that millisecond (inclusive) and drop what sorts at or before the cursor. The accounts
 *   read are the groups of every offer (the POST "by logins or groups" variants)
 *
 * - order comments: the Broker API's Open Position and Close Position take no comment (nor a client order id), so
 *   neither marketOrder's nor closePosition's comment reaches Match-Trader, and findTrade cannot tell whether an
 *   order was executed: it answers a plain Error (a capability the platform lacks) rather than undefined, which
 *   would let a caller send the order twice
 * - instrument: GET /v1/symbols?systemUuid= (the symbol's pricePrecision, contractSize, minVolume / maxVolume /
 *   volumeStep in lots) and GET /v1/quotations?systemUuid=&symbols= (bid, ask, timestamp). Both paths and their
 *   field names are this adapter's reading of the Broker API's symbol and quotation services (documented as gRPC
 *   streams, SymbolsServiceExternal / QuotationsServiceExternal; the REST pages could not be read): check them
 *   against the broker's API before going live. Lots -> MT5 units exactly (a limit finer than 0.0001 lot is not
 *   representable: platform_unavailable); a symbol the server does not list is symbol_not_found
 *
 * Invariants:
 * - every refusal is a TradingError with a stable code, or a plain Error for configuration faults (401 / 403, an
 *   unknown offer, a missing email); retryable only for platform_unavailable: a timeout (default 10 s), a
 *   connection error, HTTP 5xx / 429 (the documented 500 requests/minute limit), an unreadable body, or an answer
 *   this adapter cannot represent
 * - HTTP 404 -> account_not_found (position_not_found for a close); REJECTED / 400 reasons: money / funds ->
 *   no_money, market closed -> market_closed, volume -> invalid_volume, disabled -> trade_disabled, instrument /
 *   symbol -> symbol_not_found
 * - passwords go to Match-Trader in request bodies only; never logged, kept or returned
 * - functions/ never imports local/ or test/: this module knows the Broker API only by its URL
 */
import { currency as currencyOf } from '#domain/money/index.ts';
import { TradingError, type TradingErrorCode } from '#domain/trading/errors.ts';
import type { AccountState, Deal, Position } from '#domain/trading/model.ts';
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
import { accountStateOf, refuseZeroAmount, replayOf } from './platform-common.ts';
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

export interface MatchTraderAdapterOptions {
  /** Broker API base URL, e.g. https://broker-api.example.com. */
  baseUrl: string;
  apiKey: string;
  /** The trading server's systemUuid (from GET /v1/offers). */
  systemUuid: string;
  /** A manual payment gateway in the accounts' currency (GET /v1/payment-gateways). */
  paymentGatewayUuid: string;
  server: string;
  /** Price digits per instrument. */
  digits: Readonly<Record<string, number>>;
  /** Longest comment kept by the platform; default 255. */
  commentMax?: number;
  timeoutMs?: number;
}

const EXTERNAL_ID = /^[A-Za-z0-9_-]{1,64}$/;
const CASH_TYPES = ['DEPOSIT', 'WITHDRAWAL', 'CREDIT_IN', 'CREDIT_OUT'];

/** `<text cut to fit>|<externalId>`. */
export function matchComment(comment: string, externalId: string, max = 255): string {
  if (!EXTERNAL_ID.test(externalId)) throw new RangeError(`externalId must match ${EXTERNAL_ID}`);
  return `${comment.replaceAll('|', '/').slice(0, Math.max(0, max - 1 - externalId.length))}|${externalId}`;
}

export function externalIdOfComment(comment: string): string | undefined {
  const i = comment.lastIndexOf('|');
  const id = i < 0 ? '' : comment.slice(i + 1);
  return EXTERNAL_ID.test(id) ? id : undefined;
}

/** MT5 volume -> lots text ("0.4"); every MT5 volume has an exact lots value. */
export function volumeToLots(volume: bigint): string {
  if (volume <= 0n) throw new TradingError('invalid_volume', `Volume must be positive: ${volume}`);
  return fromScaled(volume, 4);
}

/** Lots (text or number) -> MT5 volume; refuses more than 4 decimals. */
export function lotsToVolume(lots: unknown): bigint {
  try {
    return toScaled(lots, 4);
  } catch {
    throw new TradingError('invalid_volume', `${String(lots)} lots is not a whole MT5 volume (0.0001 lot)`);
  }
}

const REASONS: readonly [RegExp, TradingErrorCode][] = [
  [/money|funds|margin/i, 'no_money'],
  [/market.?closed|closed market|session/i, 'market_closed'],
  [/volume|lot/i, 'invalid_volume'],
  [/disabled|not allowed|read.?only/i, 'trade_disabled'],
  [/instrument|symbol/i, 'symbol_not_found'],
];

export function reasonCode(text: string): TradingErrorCode | undefined {
  return REASONS.find(([re]) => re.test(text))?.[1];
}

type Ledger = { id: number; type: string; amount: bigint; comment: string; time: number; login: number };

export class MatchTraderPlatform implements TradingPlatform {
  readonly platform = 'match_trader' as const;
  readonly server: string;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private offers?: Json[];
  private readonly currencies = new Map<number, string>();

  constructor(private readonly options: MatchTraderAdapterOptions) {
    this.server = options.server;
    this.base = new URL(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  private async call(
    method: string,
    path: string,
    body?: unknown,
    query: Record<string, string> = {},
    notFound: TradingErrorCode = 'account_not_found',
  ): Promise<Json> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const res = await exchange('Match-Trader', url, {
      method,
      body,
      headers: { authorization: this.options.apiKey },
      timeoutMs: this.timeoutMs,
    });
    if (res.status >= 200 && res.status < 300) return res.body;
    const text = String(res.body?.message ?? res.body?.error ?? '');
    if (res.status === 401 || res.status === 403) throw new Error(`Match-Trader ${method} ${path}: HTTP ${res.status} (API key)`);
    if (res.status === 404) throw new TradingError(notFound, `Match-Trader ${method} ${path}: ${text}`, [], { status: 404 });
    if (res.status === 409)
      throw new TradingError('account_exists', `Match-Trader ${method} ${path}: ${text}`, [], { status: 409 });
    const code = reasonCode(text);
    if (code) throw new TradingError(code, `Match-Trader ${method} ${path}: ${text}`, [], { status: res.status });
    throw new Error(`Match-Trader ${method} ${path}: HTTP ${res.status} ${text}`.trim());
  }

  private tradingAccountQuery(login: number) {
    return { systemUuid: this.options.systemUuid, login: String(login) };
  }

  private async offer(group: string): Promise<Json> {
    this.offers ??= (await this.call('GET', '/v1/offers')) as Json[];
    const found = this.offers.find((o) => [o.offerUuid, o.uuid, o.name, o.groupName].includes(group));
    if (!found) throw new Error(`No Match-Trader offer named ${group}`);
    return found;
  }

  private money(value: unknown, currency: string, what: string): bigint {
    try {
      return toScaled(value, currencyOf(currency).exponent);
    } catch {
      throw unavailable(`Match-Trader answered ${what} ${String(value)}: not representable in ${currency} minor units`);
    }
  }

  private points(value: unknown, symbol: string, what: string): bigint {
    const digits = this.options.digits[symbol];
    if (digits === undefined) throw new TradingError('symbol_not_found', `No digits configured for ${symbol}`);
    try {
      return toScaled(value, digits);
    } catch {
      throw unavailable(`Match-Trader answered ${what} ${String(value)} with more than ${digits} decimals`);
    }
  }

  // --- accounts ---------------------------------------------------------------------------------------

  async createAccount(input: NewPlatformAccount): Promise<{ login: number }> {
    if (!input.email) throw new Error('Match-Trader needs an email to create an account');
    const offer = await this.offer(input.group);
    const offerUuid = String(offer.offerUuid ?? offer.uuid);
    const [firstname, ...rest] = input.name.split(' ');
    let account: Json;
    try {
      account = await this.call('POST', '/v1/accounts', {
        email: input.email,
        password: input.passwords.main,
        offerUuid,
        personalDetails: {
          firstname,
          lastname: rest.join(' ') || firstname,
          ...(input.country ? { country: input.country } : {}),
        },
      });
    } catch (e) {
      if (!(e instanceof TradingError && e.code === 'account_exists')) throw e;
      const user = await this.call('GET', `/v1/accounts/by-email/${encodeURIComponent(input.email)}`);
      account = {
        tradingAccount: await this.call('POST', `/v1/accounts/${encodeURIComponent(String(user.uuid))}/trading-accounts`, {
          offerUuid,
        }),
      };
    }
    const login = safeInt(account?.tradingAccount?.login) ?? (await this.newestLogin(input.email, offerUuid));
    if (input.leverage !== Number(offer.leverage)) await this.setLeverage(login, input.leverage);
    return { login };
  }

  private async newestLogin(email: string, offerUuid: string): Promise<number> {
    const body = await this.call('GET', '/v1/trading-accounts', undefined, { query: email });
    const rows: Json[] = (body?.content ?? []).filter((t: Json) => (t.accountInfo?.offerUuid ?? t.offerUuid) === offerUuid);
    const newest = rows.sort((a, b) => Date.parse(String(b.created)) - Date.parse(String(a.created)))[0];
    const login = safeInt(newest?.login);
    if (login === undefined) throw unavailable(`Match-Trader created an account for ${email} but lists no trading account`);
    return login;
  }

  private async patch(login: number, body: Record<string, unknown>): Promise<void> {
    await this.call('PATCH', '/v1/trading-account', body, this.tradingAccountQuery(login));
  }

  async setLeverage(login: number, leverage: number): Promise<void> {
    await this.patch(login, { leverage: new Raw(String(leverage)) });
  }

  async setGroup(login: number, group: string): Promise<void> {
    const offer = await this.offer(group);
    await this.patch(login, { offerUuid: String(offer.offerUuid ?? offer.uuid) });
    this.currencies.delete(login);
  }

  async setAccess(login: number, access: { readOnly: boolean; disabled: boolean }): Promise<void> {
    await this.patch(login, {
      access: access.disabled ? 'TRADING_AND_LOGIN_DISABLED' : access.readOnly ? 'TRADING_DISABLED' : 'FULL',
    });
  }

  async resetPasswords(login: number, passwords: { main?: string; investor?: string }): Promise<void> {
    if (passwords.main === undefined) return;
    const account = await this.call('GET', '/v1/trading-account', undefined, this.tradingAccountQuery(login));
    const email = String(account?.accountInfo?.email ?? '');
    if (!email) throw unavailable(`Match-Trader answered no email for trading account ${login}`);
    await this.call('POST', '/v1/change-password', { email, password: passwords.main });
  }

  // --- balance ----------------------------------------------------------------------------------------

  async changeBalance(change: BalanceChange): Promise<BalanceResult> {
    const comment = matchComment(change.comment, change.externalId, this.options.commentMax ?? 255);
    refuseZeroAmount(change.amount);
    const seen = await this.findLedger(change.login, change.externalId);
    const replay = replayOf(change.externalId, seen && { ticket: String(seen.id), same: seen.amount === change.amount });
    if (replay) return replay;
    const currency = await this.currencyOf(change.login);
    const amount = new Raw(fromScaled(change.amount < 0n ? -change.amount : change.amount, currencyOf(currency).exponent));
    const base = { systemUuid: this.options.systemUuid, login: String(change.login), amount, comment };
    const out = change.amount < 0n;
    const res =
      change.type === 'credit'
        ? await this.call('POST', out ? '/v1/credit-out' : '/v1/credit-in', base)
        : await this.call('POST', out ? '/v1/withdrawals/manual' : '/v1/deposits/manual', {
            ...base,
            paymentGatewayUuid: this.options.paymentGatewayUuid,
          });
    const status = String(res?.status ?? 'DONE');
    if (['REJECTED', 'FAILED', 'FAILED_PAYMENT', 'CANCELLED_BY_USER'].includes(status)) {
      if (out) throw new TradingError('no_money', `Match-Trader refused the withdrawal: ${status}`, [], { status });
      throw new Error(`Match-Trader refused the deposit: ${status}`);
    }
    const written = await this.findLedger(change.login, change.externalId);
    if (!written)
      throw unavailable(`Match-Trader accepted ${change.externalId} (${status}) but its ledger has no entry yet`, { status });
    return { ticket: String(written.id), replayed: false };
  }

  async findBalanceOperation(login: number, externalId: string): Promise<BalanceResult | undefined> {
    const seen = await this.findLedger(login, externalId);
    return seen ? { ticket: String(seen.id), replayed: true } : undefined;
  }

  private async findLedger(login: number, externalId: string): Promise<Ledger | undefined> {
    return (await this.ledgers({ login })).find((l) => externalIdOfComment(l.comment) === externalId);
  }

  private async ledgers(scope: { login: number } | { groups: string[] }, from = '1970-01-01T00:00:00.000Z'): Promise<Ledger[]> {
    const body =
      'login' in scope
        ? await this.call('GET', '/v1/trading-accounts/trading-data/ledgers', undefined, {
            ...this.tradingAccountQuery(scope.login),
            types: CASH_TYPES.join(','),
            from,
          })
        : await this.call('POST', '/v1/trading-accounts/trading-data/ledgers', {
            systemUuid: this.options.systemUuid,
            groups: scope.groups,
            types: CASH_TYPES,
            from,
          });
    const out: Ledger[] = [];
    for (const l of body?.operations ?? []) {
      const login = safeInt(l.login) ?? ('login' in scope ? scope.login : undefined);
      if (login === undefined) continue;
      out.push({
        id: safeInt(l.id) ?? stableId(String(l.id ?? l.uuid)),
        type: String(l.type),
        amount: this.money(l.amount, await this.currencyOf(login), 'amount'),
        comment: String(l.comment ?? ''),
        time: Date.parse(String(l.time)),
        login,
      });
    }
    return out;
  }

  // --- state ------------------------------------------------------------------------------------------

  async accountState(login: number): Promise<AccountState> {
    const a = await this.call('GET', '/v1/trading-account', undefined, this.tradingAccountQuery(login));
    const f = a?.financeInfo ?? {};
    const currency = String(f.currency);
    this.currencies.set(login, currency);
    const m = (field: string) => this.money(f[field] ?? '0', currency, field);
    return accountStateOf(login, currency, {
      balance: m('balance'),
      credit: m('credit'),
      equity: m('equity'),
      margin: m('margin'),
      freeMargin: m('freeMargin'),
    });
  }

  private async currencyOf(login: number): Promise<string> {
    return this.currencies.get(login) ?? (await this.accountState(login)).currency;
  }

  private async openRows(login: number): Promise<Json[]> {
    const body = await this.call(
      'GET',
      '/v1/trading-accounts/trading-data/open-positions',
      undefined,
      this.tradingAccountQuery(login),
    );
    return Array.isArray(body?.positions) ? body.positions : [];
  }

  private async closedRows(query: { login: number } | { groups: string[] }, from = '1970-01-01T00:00:00.000Z'): Promise<Json[]> {
    const body =
      'login' in query
        ? await this.call('GET', '/v1/trading-accounts/trading-data/closed-positions', undefined, {
            ...this.tradingAccountQuery(query.login),
            from,
          })
        : await this.call('POST', '/v1/trading-accounts/trading-data/closed-positions', {
            systemUuid: this.options.systemUuid,
            groups: query.groups,
            from,
          });
    return Array.isArray(body?.positions) ? body.positions : [];
  }

  async positions(login: number): Promise<Position[]> {
    const rows = await this.openRows(login);
    if (rows.length === 0) return [];
    const [currency, closed] = await Promise.all([this.currencyOf(login), this.closedRows({ login })]);
    const closedVolume = new Map<string, bigint>();
    for (const c of closed) closedVolume.set(String(c.id), (closedVolume.get(String(c.id)) ?? 0n) + lotsToVolume(c.volume));
    return rows.map((p) => {
      const symbol = String(p.symbol);
      const volume = lotsToVolume(p.volume);
      return {
        positionId: safeInt(p.id) ?? stableId(String(p.id)),
        login,
        symbol,
        side: String(p.side) === 'SELL' ? 'sell' : 'buy',
        volume,
        volumeInitial: volume + (closedVolume.get(String(p.id)) ?? 0n),
        openPrice: this.points(p.openPrice, symbol, 'openPrice'),
        openTimeMsc: Date.parse(String(p.openTime)),
        storage: this.money(p.swap ?? '0', currency, 'swap'),
        priceCurrent: this.points(p.currentPrice ?? p.openPrice, symbol, 'currentPrice'),
        profit: this.money(p.profit ?? '0', currency, 'profit'),
      } satisfies Position;
    });
  }

  async dealsSince(cursor: string, limit: number): Promise<DealPage> {
    const { after, fromMs } = readCursor('Match-Trader', cursor, limit);
    const from = new Date(fromMs).toISOString();
    this.offers ??= (await this.call('GET', '/v1/offers')) as Json[];
    const groups = [...new Set(this.offers.map((o) => String(o.groupName)))];
    const [ledgers, closed, open] = await Promise.all([
      this.ledgers({ groups }, from),
      this.closedRows({ groups }, '1970-01-01T00:00:00.000Z'),
      this.call('POST', '/v1/trading-accounts/trading-data/open-positions', { systemUuid: this.options.systemUuid, groups }),
    ]);
    const keyed: { key: string; deal: Deal }[] = [];
    for (const l of ledgers) {
      keyed.push({
        key: sortKey(l.time, l.id),
        deal: {
          deal: l.id,
          login: l.login,
          order: 0,
          action: l.type.startsWith('CREDIT') ? 'credit' : 'balance',
          entry: 'in',
          reason: 'dealer',
          timeMsc: l.time,
          symbol: '',
          price: 0n,
          volume: 0n,
          profit: l.type === 'WITHDRAWAL' || l.type === 'CREDIT_OUT' ? -abs(l.amount) : l.amount,
          commission: 0n,
          storage: 0n,
          positionId: 0,
          comment: l.comment,
          ...(externalIdOfComment(l.comment) ? { externalId: externalIdOfComment(l.comment)! } : {}),
        },
      });
    }
    const opened = new Map<string, { p: Json; volume: bigint }>();
    for (const p of open?.positions ?? []) opened.set(String(p.id), { p, volume: lotsToVolume(p.volume) });
    for (const c of closed) {
      const id = String(c.id);
      const o = opened.get(id) ?? { p: c, volume: 0n };
      o.volume += lotsToVolume(c.volume);
      opened.set(id, o);
      const login = safeInt(c.login)!;
      const symbol = String(c.symbol);
      const time = Date.parse(String(c.time));
      const order = safeInt(c.orderId) ?? stableId(`out|${id}|${String(c.time)}`);
      keyed.push({
        key: sortKey(time, order),
        deal: {
          deal: order,
          login,
          order,
          action: String(c.side) === 'SELL' ? 'buy' : 'sell',
          entry: 'out',
          reason: 'client',
          timeMsc: time,
          symbol,
          price: this.points(c.closePrice, symbol, 'closePrice'),
          volume: lotsToVolume(c.volume),
          profit: this.money(c.profit ?? '0', await this.currencyOf(login), 'profit'),
          commission: this.money(c.commission ?? '0', await this.currencyOf(login), 'commission'),
          storage: this.money(c.swap ?? '0', await this.currencyOf(login), 'swap'),
          positionId: safeInt(id) ?? stableId(id),
          comment: '',
        },
      });
    }
    for (const [id, { p, volume }] of opened) {
      const symbol = String(p.symbol);
      const time = Date.parse(String(p.openTime));
      const deal = stableId(`in|${id}`);
      keyed.push({
        key: sortKey(time, deal),
        deal: {
          deal,
          login: safeInt(p.login)!,
          order: safeInt(id) ?? 0,
          action: String(p.side) === 'SELL' ? 'sell' : 'buy',
          entry: 'in',
          reason: 'client',
          timeMsc: time,
          symbol,
          price: this.points(p.openPrice, symbol, 'openPrice'),
          volume,
          profit: 0n,
          commission: 0n,
          storage: 0n,
          positionId: safeInt(id) ?? stableId(id),
          comment: '',
        },
      });
    }
    return pageAfter(keyed, after, limit, cursor);
  }

  // --- trading ----------------------------------------------------------------------------------------

  private async trade(path: string, body: Record<string, unknown>, notFound: TradingErrorCode): Promise<string> {
    const res = await this.call('POST', path, { systemUuid: this.options.systemUuid, ...body }, {}, notFound);
    const status = String(res?.status ?? '');
    if (status === 'OK' || status === 'PARTIAL_SUCCESS') return String(res.orderId);
    const reason = String(res?.errorMessage ?? res?.message ?? status);
    const code = reasonCode(reason);
    if (code) throw new TradingError(code, `Match-Trader ${path}: ${reason}`, [], { status });
    throw new Error(`Match-Trader ${path}: ${reason}`);
  }

  /** Match-Trader keeps no order comment: it cannot tell (see the docblock). Sends nothing. */
  findTrade(login: number, comment: string, _notBefore?: number): Promise<Fill | undefined> {
    return Promise.reject(
      new Error(
        `Match-Trader keeps no comment or client id on orders: whether an order "${comment}" of ${login} was executed cannot be looked up`,
      ),
    );
  }

  async instrument(symbol: string): Promise<Instrument> {
    const [symbols, quotes] = await Promise.all([
      this.call('GET', '/v1/symbols', undefined, { systemUuid: this.options.systemUuid }),
      this.call('GET', '/v1/quotations', undefined, { systemUuid: this.options.systemUuid, symbols: symbol }),
    ]);
    const s = ((Array.isArray(symbols) ? symbols : (symbols?.symbols ?? [])) as Json[]).find((x) => String(x.symbol) === symbol);
    if (!s) throw new TradingError('symbol_not_found', `Match-Trader has no symbol ${symbol}`);
    const digits = safeInt(s.pricePrecision);
    if (digits === undefined && String(s.pricePrecision) !== '0')
      throw unavailable(`Match-Trader answered a pricePrecision ${s.pricePrecision}`);
    const q = ((Array.isArray(quotes) ? quotes : (quotes?.quotations ?? [])) as Json[]).find((x) => String(x.symbol) === symbol);
    if (!q) throw unavailable(`Match-Trader has no quotation for ${symbol}`, { symbol });
    const d = digits ?? 0;
    const scaled = (v: unknown, scale: number, what: string) => {
      try {
        return toScaled(v, scale);
      } catch {
        throw unavailable(`Match-Trader answered ${what} ${String(v)}: not representable`);
      }
    };
    const time = Date.parse(String(q.timestamp));
    if (!Number.isFinite(time)) throw unavailable(`Match-Trader answered a quotation time ${String(q.timestamp)}`);
    const minUnits = scaled(s.minVolume, 4, 'minVolume');
    const maxUnits = scaled(s.maxVolume, 4, 'maxVolume');
    const stepUnits = scaled(s.volumeStep, 4, 'volumeStep');
    if (stepUnits <= 0n) throw unavailable(`Match-Trader answered a volumeStep ${String(s.volumeStep)}`);
    return {
      symbol,
      digits: d,
      contractSize: scaled(s.contractSize, 0, 'contractSize'),
      volumeMin: minUnits,
      volumeMax: maxUnits,
      volumeStep: stepUnits,
      bid: scaled(q.bid, d, 'bid'),
      ask: scaled(q.ask, d, 'ask'),
      quoteTimeMsc: time,
    };
  }

  async marketOrder(order: MarketOrder): Promise<Fill> {
    if (this.options.digits[order.symbol] === undefined)
      throw new TradingError('symbol_not_found', `Unknown symbol ${order.symbol}`);
    const orderId = await this.trade(
      '/v1/trading-accounts/positions/open',
      {
        login: String(order.login),
        instrument: order.symbol,
        orderSide: order.side === 'buy' ? 'BUY' : 'SELL',
        volume: new Raw(volumeToLots(order.volume)),
      },
      'account_not_found',
    );
    const rows = await this.openRows(order.login);
    const p =
      rows.find((r) => String(r.id) === orderId) ??
      rows
        .filter((r) => r.symbol === order.symbol)
        .sort((a, b) => Date.parse(String(b.openTime)) - Date.parse(String(a.openTime)))[0];
    if (!p) throw unavailable(`Match-Trader order ${orderId} opened no visible position`, { orderId });
    const id = safeInt(orderId) ?? stableId(orderId);
    return {
      order: id,
      deal: id,
      positionId: safeInt(p.id) ?? stableId(String(p.id)),
      price: this.points(p.openPrice, order.symbol, 'openPrice'),
      volume: lotsToVolume(p.volume),
    };
  }

  /** The Broker API's close takes no comment: `comment` is not sent (see the docblock). */
  async closePosition(login: number, positionId: number, volume?: bigint, _comment?: string): Promise<Fill> {
    const open = (await this.openRows(login)).find((r) => (safeInt(r.id) ?? stableId(String(r.id))) === positionId);
    if (!open) throw new TradingError('position_not_found', `No open position ${positionId} on account ${login}`);
    const symbol = String(open.symbol);
    const lots = volume === undefined ? String(open.volume) : volumeToLots(volume);
    const orderId = await this.trade(
      '/v1/trading-accounts/positions/close-partially',
      { login: String(login), positionId: String(open.id), instrument: symbol, volume: new Raw(lots) },
      'position_not_found',
    );
    const closed = (await this.closedRows({ login })).find((c) => String(c.orderId) === orderId);
    if (!closed) throw unavailable(`Match-Trader closing order ${orderId} is not in the closed positions yet`, { orderId });
    const id = safeInt(orderId) ?? stableId(orderId);
    return {
      order: id,
      deal: id,
      positionId,
      price: this.points(closed.closePrice, symbol, 'closePrice'),
      volume: lotsToVolume(closed.volume),
    };
  }
}

const abs = (v: bigint) => (v < 0n ? -v : v);

export const matchTraderPlatform = (options: MatchTraderAdapterOptions): MatchTraderPlatform => new MatchTraderPlatform(options);
