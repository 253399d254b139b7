/**
 * The cTrader adapter: TradingPlatform (domain/trading/port.ts) over two Spotware APIs. Local twin:
 * test/fakes/ctrader-server.ts.
 *
 * Broker side, accounts and money: the cTrader WebServices (Manager) REST API, after Spotware's documents
 * "WebServices API: General Provisions" (docs.spotware.com/WebServices_API/General_Provisions: `?token=` auth,
 * POST /v2/webserv/managers/token), "Operations with Accounts" (docs.spotware.com/WebServices_API/Operations_With_Accounts:
 * POST /v2/webserv/traders with accessRights FULL_ACCESS | CLOSE_ONLY | NO_TRADING | NO_LOGIN, accountType, balance,
 * brokerName, depositCurrency, groupName, hashedPassword = md5, leverageInCents = N x 100, totalMarginCalculationType),
 * "Use Cases" (docs.spotware.com/WebServices_API/Use_Cases: the trader JSON with balance, bonus, nonWithdrawableBonus,
 * equity, usedMargin, freeMargin, moneyDigits), "Balances" (docs.spotware.com/full-integration/api-reference/balances
 * and help.ctrader.com/broker-oauth-inapp/change-trader-balance: POST /v2/webserv/traders/{login}/changebalance with
 * login, preciseAmount (a positive decimal), type DEPOSIT | WITHDRAW | DEPOSIT_NONWITHDRAWABLE_BONUS |
 * WITHDRAW_NONWITHDRAWABLE_BONUS, comment (internal), externalNote (shown to the client), externalId, source ->
 * { balanceHistoryId }) and "Broker SSO: General Provisions" (money fields are integers x 10^moneyDigits).
 *
 * Trader side, trading: the cTrader Open API (functions/adapters/platforms/ctrader-open-api.ts; the messages used are
 * declared in ./ctrader-messages.ts after Spotware's Open API message reference on help.ctrader.com/open-api):
 * ProtoOAGetAccountListByAccessTokenReq (login -> ctidTraderAccountId),
 * ProtoOASymbolsListReq / ProtoOASymbolByIdReq (symbolId, digits, lotSize), ProtoOANewOrderReq (MARKET) and
 * ProtoOAClosePositionReq answered by ProtoOAExecutionEvent ORDER_ACCEPTED then ORDER_FILLED, ProtoOAReconcileReq,
 * ProtoOAGetPositionUnrealizedPnLReq, ProtoOASubscribeSpotsReq (one ProtoOASpotEvent for the current price, then
 * unsubscribed), ProtoOADealListByPositionIdReq, ProtoOADealListReq and ProtoOAOrderListReq.
 *
 * Copy orders and instruments:
 * - marketOrder sends the comment as ProtoOANewOrderReq.comment (at most 512 characters); cTrader keeps it on the
 *   order (ProtoOAOrder.tradeData.comment). ProtoOAClosePositionReq has no comment field, so a close carries none
 *   (closePosition's `comment` is not sent) and findTrade cannot find a close
 * - findTrade: ProtoOAOrderListReq from notBefore (0 when absent) to a day from now, paged like the deal list; the
 *   oldest FILLED order whose tradeData.comment is the comment; its fill is the FILLED deal of that order among
 *   ProtoOADealListByPositionIdReq of the order's position (dealId, executionPrice, filledVolume, executionTimestamp).
 *   Reads only
 * - instrument: through the first account the access token grants (symbols are per account on the Open API):
 *   ProtoOASymbolsListReq (the name) and ProtoOASymbolByIdReq (digits, lotSize, minVolume / maxVolume / stepVolume
 *   in 0.01 units: min rounded up to MT5 units, max down, the step to the least MT5 volume that is a whole number of
 *   steps) and the first ProtoOASpotEvent of a ProtoOASubscribeSpotsReq with subscribeToSpotTimestamp (bid, ask,
 *   timestamp; the time of receipt when the server sends no timestamp). contractSize = lotSize / 100
 *
 * Assumptions where the documents found are silent (each one is what the fake implements; check them against the
 * broker's onboarding pack before going live):
 * - GET /v2/webserv/traders/{login} answers the trader JSON of the Use Cases document; PATCH /v2/webserv/traders/{login}
 *   takes any subset of { leverageInCents, groupName, accessRights }; POST /v2/webserv/traders/{login}/changepassword
 *   takes { hashedPassword } (md5 hex, like create); any 2xx is success
 * - GET /v2/webserv/traders/{login}/balancehistory?from=&to= (epoch ms) answers { balanceHistory: [ { balanceHistoryId,
 *   login, type, delta (the amount, x 10^moneyDigits, sign from type), balance, moneyDigits, changeBalanceTimestamp,
 *   comment, externalNote, externalId, source } ] }
 * - errors are JSON { errorCode, description } (the ErrorJson of Spotware's Connect schema) with a 4xx status:
 *   404 or TRADER_NOT_FOUND -> account_not_found, NOT_ENOUGH_MONEY -> no_money, INVALID_AMOUNT -> invalid_amount,
 *   TRADER_ALREADY_EXISTS -> account_exists; 401/403 are a token or permission fault (a plain Error); 429 and 5xx are
 *   platform_unavailable
 * - cTrader does not deduplicate changebalance by externalId (nothing says it does), so the adapter looks it up first
 * - a cTrader account has no investor password (read-only access is shared through cTrader ID): `passwords.investor`
 *   is not sent anywhere, on create or on reset
 * - the Open API access token is granted to every account the back office trades (the broker's own cTID linked to the
 *   accounts); ProtoOADealListReq answers the oldest deals first when it has more than maxRows
 * - clientRef goes to the trader's `description`, the name to `name` and the email to `contactDetails.email`
 *
 * Units (exact, or refused):
 * - money: an amount in minor units of the account currency (exponent e) is amount x 10^(moneyDigits - e) in cTrader
 *   units; reading back, a value with non-zero digits below the minor unit is not representable (plain Error).
 *   preciseAmount is written into the JSON body as the exact decimal literal ("123.45"), never through a double
 * - volume: Open API volumes are 0.01 of a unit and a symbol's lotSize is also in 0.01 units, so
 *   cTrader volume = MT5 volume x lotSize / 10,000; an MT5 volume that does not give a whole number of 0.01 units is
 *   refused with invalid_volume, a cTrader volume that is not a whole MT5 unit is a plain Error
 * - leverage: leverageInCents = N x 100 (30:1 = 3000); a leverageInCents not a multiple of 100 is a plain Error
 * - prices: Open API prices are doubles; points = round(price x 10^digits) with the symbol's digits, which is exact
 *   for any price the platform quotes with those digits (the double is within 1e-9 of the decimal). Spot prices are
 *   integers in 1/100,000 of a unit, rescaled to the symbol's digits with the same rounding
 *
 * Exactly-once balance operations: changeBalance first reads the account's balance history; an entry with the same
 * externalId and the same type and amount answers `{ ticket: balanceHistoryId, replayed: true }`, one with another
 * type or amount is duplicate_external_id, none -> changebalance with externalId set (and comment / externalNote = the
 * comment). findBalanceOperation is the same lookup. The port's types map to changebalance types and the `source`
 * field: balance -> DEPOSIT/WITHDRAW (source "balance"), credit -> DEPOSIT/WITHDRAW_NONWITHDRAWABLE_BONUS, bonus /
 * charge / correction -> DEPOSIT/WITHDRAW with source "bonus" / "charge" / "correction". Two concurrent calls with one
 * id from two processes can both miss the lookup: callers serialise per transfer before they call, as for MT5.
 *
 * Deals: dealsSince merges the accounts' trade deals (ProtoOADealListReq, FILLED / PARTIALLY_FILLED only) and balance
 * history entries, ordered by (time, kind, id); `deal` is the cTrader dealId for trades and the balanceHistoryId for
 * balance operations (two id sequences: a (kind, deal) pair is unique, a deal number alone may not be). The cursor is
 * opaque (`ct1.<timeMsc>.<t|b>.<id>`); each call asks the platform only for records from that millisecond on. The
 * accounts are `options.logins()` when given, else every account the access token grants.
 *
 * Invariants:
 * - every refusal is a TradingError with a stable code, or a plain Error for configuration faults (token, permissions,
 *   Open API client credentials, units that cannot be represented); retryable is true only for platform_unavailable:
 *   a timeout (default 10 s), a refused or dropped connection, an HTTP 429/5xx, an unreadable answer, or a "try later"
 *   Open API code. Requests are never resent by the adapter: after a timeout the caller asks findBalanceOperation
 * - Open API codes: NOT_ENOUGH_MONEY -> no_money, TRADING_BAD_VOLUME -> invalid_volume, MARKET_CLOSED -> market_closed,
 *   POSITION_NOT_FOUND -> position_not_found, TRADING_NOT_ALLOWED -> trade_disabled (ctrader-open-api.ts has the table)
 * - access: disabled -> NO_LOGIN, read-only -> NO_TRADING, else FULL_ACCESS
 * - passwords go to the server as md5 only (the documented hashedPassword); they are never logged, kept or returned
 * - functions/ never imports local/ or test/: this module knows the servers only by their addresses
 */
import { createHash } from 'node:crypto';
import { currency as currencyOf } from '#domain/money/index.ts';
import { TradingError, type TradingErrorCode } from '#domain/trading/errors.ts';
import {
  type AccountState,
  type BalanceOperation,
  type Deal,
  formatPoints,
  type Position,
  VOLUME_PER_LOT,
} from '#domain/trading/model.ts';
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
import { type Msg, OpenApiSession } from './ctrader-open-api.ts';
import { accountStateOf, refuseZeroAmount, replayOf } from './platform-common.ts';

export interface CTraderAdapterOptions {
  webServices: {
    /** https://HOST:PORT (the adapter appends /v2/webserv/...). */
    baseUrl: string;
    /** The manager's webservToken (POST /v2/webserv/managers/token). */
    token: string;
  };
  openApi: {
    host: string;
    port: number;
    /** Default true. */
    tls?: boolean;
    clientId: string;
    clientSecret: string;
    accessToken: string;
  };
  /** The cTrader server (broker environment) name: deal cursors are per server. */
  server: string;
  /** brokerName of created traders (required by POST /webserv/traders). */
  brokerName: string;
  /** Default HEDGED (the port's model is a hedging account). */
  accountType?: 'HEDGED' | 'NETTED' | 'SPREAD_BETTING';
  /** Default MAX. */
  totalMarginCalculationType?: 'MAX' | 'SUM' | 'NET';
  /** The logins to read deals of; default every account the access token grants. */
  logins?: () => Promise<number[]>;
  /** Per request; default 10,000 ms. */
  timeoutMs?: number;
}

// --- units ------------------------------------------------------------------------------------------

const pow10 = (n: number) => 10n ** BigInt(n);

/** Minor units of a currency with `exponent` -> cTrader money units (x 10^moneyDigits); exact or RangeError. */
export function toMoneyUnits(minor: bigint, exponent: number, moneyDigits: number): bigint {
  if (moneyDigits >= exponent) return minor * pow10(moneyDigits - exponent);
  const div = pow10(exponent - moneyDigits);
  if (minor % div !== 0n) throw new RangeError(`${minor} minor units do not fit moneyDigits ${moneyDigits}`);
  return minor / div;
}

/** cTrader money units -> minor units; exact or RangeError. */
export function fromMoneyUnits(units: bigint, moneyDigits: number, exponent: number): bigint {
  if (exponent >= moneyDigits) return units * pow10(exponent - moneyDigits);
  const div = pow10(moneyDigits - exponent);
  if (units % div !== 0n) throw new RangeError(`${units} x 10^-${moneyDigits} is not a whole minor unit`);
  return units / div;
}

/** A non-negative scaled integer as its exact decimal text: (12345n, 2) -> "123.45", (5n, 0) -> "5". */
export function decimalText(units: bigint, digits: number): string {
  if (units < 0n) throw new RangeError('decimalText takes a non-negative amount');
  return formatPoints(units, digits);
}

/** MT5 volume units (lots x 10,000) -> Open API volume (0.01 units) for a symbol whose lotSize is in 0.01 units. */
export function volumeToCents(volume: bigint, lotSize: bigint): bigint {
  const scaled = volume * lotSize;
  if (volume <= 0n || scaled % VOLUME_PER_LOT !== 0n) {
    throw new TradingError('invalid_volume', `Volume ${volume} is not a whole number of 0.01 units (lot size ${lotSize})`, [
      { field: 'volume', code: 'invalid_volume', message: 'Not representable on cTrader' },
    ]);
  }
  return scaled / VOLUME_PER_LOT;
}

/** Open API volume (0.01 units) -> MT5 volume units; exact or RangeError. */
export function centsToVolume(cents: bigint, lotSize: bigint): bigint {
  const scaled = cents * VOLUME_PER_LOT;
  if (lotSize <= 0n || scaled % lotSize !== 0n) throw new RangeError(`cTrader volume ${cents} is not a whole MT5 volume unit`);
  return scaled / lotSize;
}

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/**
 * A symbol's Open API volume limits (0.01 units) in MT5 volume units, exactly: the least MT5 volume at or above the
 * minimum, the greatest at or below the maximum, and the least MT5 volume that is a whole number of steps (so every
 * volume it allows is one cTrader takes).
 */
export function volumeLimitsOf(lotSize: bigint, min: bigint, max: bigint, step: bigint) {
  const ceil = (n: bigint, d: bigint) => (n + d - 1n) / d;
  const grid = VOLUME_PER_LOT * step;
  return {
    volumeMin: ceil(min * VOLUME_PER_LOT, lotSize),
    volumeMax: (max * VOLUME_PER_LOT) / lotSize,
    volumeStep: grid / gcd(lotSize, grid),
  };
}

export const leverageToCents = (leverage: number): number => {
  if (!Number.isSafeInteger(leverage) || leverage <= 0) throw new RangeError(`Leverage ${leverage} is not a positive integer`);
  return leverage * 100;
};
export const centsToLeverage = (cents: number): number => {
  if (!Number.isSafeInteger(cents) || cents <= 0 || cents % 100 !== 0)
    throw new RangeError(`leverageInCents ${cents} is not N:1`);
  return cents / 100;
};

/** An Open API price (a double) -> points with the symbol's digits, rounded to the nearest point. */
export function priceToPoints(price: number, digits: number): bigint {
  if (!Number.isFinite(price)) throw new RangeError(`Not a price: ${price}`);
  return BigInt(Math.round(price * 10 ** digits));
}

/** A spot price in 1/100,000 of a unit -> points with `digits`, rounded half up. */
export function spotToPoints(spot: bigint, digits: number): bigint {
  if (digits >= 5) return spot * pow10(digits - 5);
  const div = pow10(5 - digits);
  return (spot + div / 2n) / div;
}

export { marginLevel } from '#domain/trading/model.ts';

export const md5Hex = (password: string): string => createHash('md5').update(password, 'utf8').digest('hex');

// --- errors -----------------------------------------------------------------------------------------

const unavailable = (message: string, meta: Record<string, unknown> = {}) =>
  new TradingError('platform_unavailable', message, [], meta);

const WEBSERV_ERRORS: Readonly<Record<string, TradingErrorCode>> = {
  TRADER_NOT_FOUND: 'account_not_found',
  NOT_ENOUGH_MONEY: 'no_money',
  INVALID_AMOUNT: 'invalid_amount',
  TRADER_ALREADY_EXISTS: 'account_exists',
};

// biome-ignore lint/suspicious/noExplicitAny: WebServices answers are untyped JSON, read field by field
type Json = any;

const BALANCE_TYPES = new Set(['DEPOSIT', 'WITHDRAW', 'DEPOSIT_NONWITHDRAWABLE_BONUS', 'WITHDRAW_NONWITHDRAWABLE_BONUS']);
const SOURCES = new Set<BalanceOperation>(['balance', 'bonus', 'charge', 'correction']);
const EXTERNAL_ID = /^[\x21-\x7e]{1,64}$/;
/** ProtoOANewOrderReq.comment: MaxLength = 512. */
const COMMENT_MAX = 512;

interface SymbolInfo {
  symbolId: string;
  name: string;
  digits: number;
  lotSize: bigint;
  /** 0.01 units; undefined where the server sends none. */
  minVolume?: bigint;
  maxVolume?: bigint;
  stepVolume?: bigint;
}

interface HistoryEntry {
  id: number;
  login: number;
  action: BalanceOperation;
  /** Signed, minor units. */
  amount: bigint;
  timeMsc: number;
  comment: string;
  externalId?: string;
}

const int = (v: unknown, what: string): number => {
  const n = typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw unavailable(`cTrader answered a malformed ${what}: ${String(v)}`);
  return n;
};
const big = (v: unknown, what: string): bigint => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  if (v === undefined || v === null) return 0n;
  throw unavailable(`cTrader answered a malformed ${what}: ${String(v)}`);
};

export class CTraderPlatform implements TradingPlatform {
  readonly platform = 'ctrader' as const;
  readonly server: string;
  readonly openApi: OpenApiSession;
  private readonly timeoutMs: number;
  private readonly base: URL;
  private readonly currencies = new Map<number, string>();
  private readonly ctids = new Map<number, string>();
  private symbolsByName: Map<string, SymbolInfo> | undefined;
  private readonly symbolsById = new Map<string, SymbolInfo>();

  constructor(private readonly options: CTraderAdapterOptions) {
    this.server = options.server;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.base = new URL(options.webServices.baseUrl);
    this.openApi = new OpenApiSession({ ...options.openApi, timeoutMs: this.timeoutMs });
  }

  close(): void {
    this.openApi.close();
  }

  // --- WebServices ------------------------------------------------------------------------------------

  /** One WebServices call: the parsed JSON body on 2xx ({} when empty), the mapped error otherwise. Never resent. */
  async webserv(
    method: 'GET' | 'POST' | 'PATCH',
    path: string,
    body?: unknown,
    query: Record<string, string> = {},
  ): Promise<Json> {
    const url = new URL(`/v2/webserv${path}`, this.base);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    url.searchParams.set('token', this.options.webServices.token);
    const what = `${method} /v2/webserv${path}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, {
        method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await res.text();
    } catch (e) {
      const err = e as Error & { cause?: { code?: string } };
      const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError';
      throw unavailable(
        timedOut
          ? `cTrader ${what}: no answer within ${this.timeoutMs} ms`
          : `cTrader ${what}: ${err.cause?.code ?? err.message}`,
      );
    }
    let json: Json = {};
    if (text.trim() !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        if (res.ok || res.status >= 500) throw unavailable(`cTrader ${what} answered ${res.status} with a body that is not JSON`);
      }
    }
    if (res.ok) return json;
    const errorCode = typeof json?.errorCode === 'string' ? json.errorCode : '';
    const detail = `cTrader ${what}: ${res.status}${errorCode ? ` ${errorCode}` : ''}${json?.description ? ` (${json.description})` : ''}`;
    if (res.status === 429 || res.status >= 500) throw unavailable(detail, { status: res.status });
    const mapped = WEBSERV_ERRORS[errorCode] ?? (res.status === 404 ? 'account_not_found' : undefined);
    if (mapped) throw new TradingError(mapped, detail, [], { status: res.status, errorCode });
    throw new Error(detail);
  }

  private async trader(login: number): Promise<Json> {
    const t = await this.webserv('GET', `/traders/${login}`);
    if (typeof t?.depositCurrency === 'string') this.currencies.set(login, t.depositCurrency);
    return t;
  }

  private async currencyOf(login: number): Promise<string> {
    return this.currencies.get(login) ?? String((await this.trader(login)).depositCurrency);
  }

  // --- accounts ---------------------------------------------------------------------------------------

  async createAccount(input: NewPlatformAccount): Promise<{ login: number }> {
    const t = await this.webserv('POST', '/traders', {
      accessRights: 'FULL_ACCESS',
      accountType: this.options.accountType ?? 'HEDGED',
      balance: 0,
      brokerName: this.options.brokerName,
      depositCurrency: input.currency,
      groupName: input.group,
      hashedPassword: md5Hex(input.passwords.main),
      leverageInCents: leverageToCents(input.leverage),
      totalMarginCalculationType: this.options.totalMarginCalculationType ?? 'MAX',
      name: input.name,
      description: input.clientRef,
      ...(input.email ? { contactDetails: { email: input.email } } : {}),
    });
    const login = int(t?.login, 'login');
    this.currencies.set(login, input.currency);
    return { login };
  }

  async setLeverage(login: number, leverage: number): Promise<void> {
    await this.webserv('PATCH', `/traders/${login}`, { leverageInCents: leverageToCents(leverage) });
  }

  async setGroup(login: number, group: string): Promise<void> {
    await this.webserv('PATCH', `/traders/${login}`, { groupName: group });
    this.currencies.delete(login);
  }

  async setAccess(login: number, access: { readOnly: boolean; disabled: boolean }): Promise<void> {
    const accessRights = access.disabled ? 'NO_LOGIN' : access.readOnly ? 'NO_TRADING' : 'FULL_ACCESS';
    await this.webserv('PATCH', `/traders/${login}`, { accessRights });
  }

  async resetPasswords(login: number, passwords: { main?: string; investor?: string }): Promise<void> {
    // cTrader has no investor password (see the docblock): only the main one is sent
    if (passwords.main !== undefined) {
      await this.webserv('POST', `/traders/${login}/changepassword`, { hashedPassword: md5Hex(passwords.main) });
    }
  }

  // --- balance ----------------------------------------------------------------------------------------

  async changeBalance(change: BalanceChange): Promise<BalanceResult> {
    if (!EXTERNAL_ID.test(change.externalId)) {
      throw new RangeError('externalId must be 1 to 64 printable ASCII characters without spaces');
    }
    refuseZeroAmount(change.amount);
    const seen = (await this.history(change.login)).find((h) => h.externalId === change.externalId);
    const replay = replayOf(
      change.externalId,
      seen && {
        ticket: String(seen.id),
        same: seen.action === change.type && seen.amount === change.amount,
        meta: { balanceHistoryId: seen.id },
      },
    );
    if (replay) return replay;
    const trader = await this.trader(change.login);
    const moneyDigits = int(trader.moneyDigits, 'moneyDigits');
    const exponent = currencyOf(String(trader.depositCurrency)).exponent;
    const abs = change.amount < 0n ? -change.amount : change.amount;
    let units: bigint;
    try {
      units = toMoneyUnits(abs, exponent, moneyDigits);
    } catch {
      throw new TradingError('invalid_amount', `Amount ${change.amount} does not fit the account's moneyDigits ${moneyDigits}`);
    }
    const deposit = change.amount > 0n;
    const type =
      change.type === 'credit'
        ? deposit
          ? 'DEPOSIT_NONWITHDRAWABLE_BONUS'
          : 'WITHDRAW_NONWITHDRAWABLE_BONUS'
        : deposit
          ? 'DEPOSIT'
          : 'WITHDRAW';
    const comment = change.comment.slice(0, 100);
    // preciseAmount is spliced in as its exact decimal literal: JSON.stringify would go through a double
    const fields = JSON.stringify({
      login: change.login,
      type,
      comment,
      externalNote: comment,
      externalId: change.externalId,
      ...(change.type === 'credit' ? {} : { source: change.type }),
    });
    const body = `{"preciseAmount":${decimalText(units, moneyDigits)},${fields.slice(1)}`;
    const res = await this.webserv('POST', `/traders/${change.login}/changebalance`, body);
    return { ticket: String(int(res?.balanceHistoryId, 'balanceHistoryId')), replayed: false };
  }

  async findBalanceOperation(login: number, externalId: string): Promise<BalanceResult | undefined> {
    const seen = (await this.history(login)).find((h) => h.externalId === externalId);
    return seen ? { ticket: String(seen.id), replayed: true } : undefined;
  }

  /** The account's balance history from `fromMs` (inclusive), as port operations. */
  private async history(login: number, fromMs = 0): Promise<HistoryEntry[]> {
    const to = Date.now() + 86_400_000;
    const res = await this.webserv('GET', `/traders/${login}/balancehistory`, undefined, {
      from: String(fromMs),
      to: String(to),
    });
    const rows: Json[] = Array.isArray(res?.balanceHistory) ? res.balanceHistory : [];
    if (rows.length === 0) return [];
    const exponent = currencyOf(await this.currencyOf(login)).exponent;
    const out: HistoryEntry[] = [];
    for (const r of rows) {
      const type = String(r.type);
      if (!BALANCE_TYPES.has(type)) continue;
      const moneyDigits = int(r.moneyDigits, 'moneyDigits');
      const delta = big(r.delta, 'delta');
      const abs = fromMoneyUnits(delta < 0n ? -delta : delta, moneyDigits, exponent);
      const source = String(r.source ?? '') as BalanceOperation;
      const action: BalanceOperation = type.endsWith('NONWITHDRAWABLE_BONUS')
        ? 'credit'
        : SOURCES.has(source)
          ? source
          : 'balance';
      out.push({
        id: int(r.balanceHistoryId, 'balanceHistoryId'),
        login,
        action,
        amount: type.startsWith('WITHDRAW') ? -abs : abs,
        timeMsc: int(r.changeBalanceTimestamp, 'changeBalanceTimestamp'),
        comment: String(r.externalNote ?? r.comment ?? ''),
        ...(typeof r.externalId === 'string' && r.externalId !== '' ? { externalId: r.externalId } : {}),
      });
    }
    return out;
  }

  // --- state ------------------------------------------------------------------------------------------

  async accountState(login: number): Promise<AccountState> {
    const t = await this.trader(login);
    const currency = String(t.depositCurrency);
    const exponent = currencyOf(currency).exponent;
    const moneyDigits = int(t.moneyDigits, 'moneyDigits');
    const m = (field: string) => fromMoneyUnits(big(t[field], field), moneyDigits, exponent);
    return accountStateOf(login, currency, {
      balance: m('balance'),
      credit: m('bonus') + m('nonWithdrawableBonus'),
      equity: m('equity'),
      margin: m('usedMargin'),
      freeMargin: m('freeMargin'),
    });
  }

  async positions(login: number): Promise<Position[]> {
    const ctid = await this.ctidOf(login);
    const rec = await this.openApi.request(
      'ProtoOAReconcileReq',
      { ctidTraderAccountId: ctid },
      { account: ctid, what: 'reconcile' },
    );
    const open: Msg[] = (rec.position ?? []).filter((p: Msg) => p.positionStatus === 'POSITION_STATUS_OPEN');
    if (open.length === 0) return [];
    const exponent = currencyOf(await this.currencyOf(login)).exponent;
    const pnl = await this.openApi.request(
      'ProtoOAGetPositionUnrealizedPnLReq',
      { ctidTraderAccountId: ctid },
      { account: ctid, what: 'unrealized P/L' },
    );
    const pnlDigits = int(pnl.moneyDigits, 'moneyDigits');
    const profits = new Map<string, bigint>();
    for (const u of pnl.positionUnrealizedPnL ?? []) {
      profits.set(String(u.positionId), fromMoneyUnits(big(u.grossUnrealizedPnL, 'grossUnrealizedPnL'), pnlDigits, exponent));
    }
    const symbols = await this.symbolsFor(
      ctid,
      open.map((p) => String(p.tradeData.symbolId)),
    );
    const quotes = await this.spots(ctid, [...symbols.values()]);
    const out: Position[] = [];
    for (const p of open) {
      const sym = symbols.get(String(p.tradeData.symbolId))!;
      const positionId = int(p.positionId, 'positionId');
      const side = p.tradeData.tradeSide === 'BUY' ? 'buy' : 'sell';
      const volume = centsToVolume(big(p.tradeData.volume, 'volume'), sym.lotSize);
      const deals = await this.openApi.request(
        'ProtoOADealListByPositionIdReq',
        { ctidTraderAccountId: ctid, positionId: String(positionId), fromTimestamp: 0, toTimestamp: 2147483646000 },
        { account: ctid, what: 'deals of a position' },
      );
      let initial = 0n;
      for (const d of deals.deal ?? []) if (!d.closePositionDetail) initial += big(d.filledVolume, 'filledVolume');
      const quote = quotes.get(sym.symbolId)!;
      const posDigits = p.moneyDigits === undefined ? pnlDigits : int(p.moneyDigits, 'moneyDigits');
      out.push({
        positionId,
        login,
        symbol: sym.name,
        side,
        volume,
        volumeInitial: initial > 0n ? centsToVolume(initial, sym.lotSize) : volume,
        openPrice: priceToPoints(Number(p.price), sym.digits),
        openTimeMsc: int(p.tradeData.openTimestamp, 'openTimestamp'),
        storage: fromMoneyUnits(big(p.swap, 'swap'), posDigits, exponent),
        priceCurrent: side === 'buy' ? quote.bid : quote.ask,
        profit: profits.get(String(positionId)) ?? 0n,
      });
    }
    return out;
  }

  /**
   * Current bid/ask in points per symbol and the quote's time: subscribe (with subscribeToSpotTimestamp), take the
   * first ProtoOASpotEvent, unsubscribe. The time is the event's timestamp, else when it was received.
   */
  private async spots(ctid: string, symbols: SymbolInfo[]): Promise<Map<string, { bid: bigint; ask: bigint; timeMsc: number }>> {
    const ids = [...new Set(symbols.map((s) => s.symbolId))];
    const out = new Map<string, { bid: bigint; ask: bigint; timeMsc: number }>();
    const waits = ids.map((id) =>
      this.openApi.waitForEvent(
        (name, msg) => name === 'ProtoOASpotEvent' && String(msg.ctidTraderAccountId) === ctid && String(msg.symbolId) === id,
        `spot event for symbol ${id}`,
      ),
    );
    try {
      await this.openApi.request(
        'ProtoOASubscribeSpotsReq',
        { ctidTraderAccountId: ctid, symbolId: ids, subscribeToSpotTimestamp: true },
        { account: ctid, what: 'subscribe spots' },
      );
      const events = await Promise.all(waits.map((w) => w.promise));
      const received = Date.now();
      for (const [i, e] of events.entries()) {
        const sym = symbols.find((s) => s.symbolId === ids[i])!;
        out.set(ids[i]!, {
          bid: spotToPoints(big(e.bid, 'bid'), sym.digits),
          ask: spotToPoints(big(e.ask, 'ask'), sym.digits),
          timeMsc: e.timestamp === undefined ? received : int(e.timestamp, 'timestamp'),
        });
      }
    } finally {
      for (const w of waits) w.cancel();
    }
    await this.openApi.request(
      'ProtoOAUnsubscribeSpotsReq',
      { ctidTraderAccountId: ctid, symbolId: ids },
      { account: ctid, what: 'unsubscribe spots' },
    );
    return out;
  }

  /**
   * Deals after `cursor`, oldest first (see the docblock). The cursor is `ct1.<timeMsc>.<t|b>.<id>` of the last deal
   * returned ('' to start); records of that millisecond are read again and dropped by (kind, id).
   */
  async dealsSince(cursor: string, limit: number): Promise<DealPage> {
    const m = /^(?:ct1\.(\d+)\.([tb])\.(\d+))?$/.exec(cursor);
    if (!m) throw new RangeError(`Not a cTrader deal cursor: ${cursor}`);
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError('limit must be a positive integer');
    const after = m[1] === undefined ? undefined : { t: Number(m[1]), k: m[2]!, id: Number(m[3]) };
    const from = after?.t ?? 0;
    const logins = this.options.logins ? await this.options.logins() : [...(await this.accountList()).keys()];
    const rows: { key: { t: number; k: string; id: number }; deal: Deal }[] = [];
    for (const login of logins) {
      for (const h of await this.history(login, from)) {
        rows.push({
          key: { t: h.timeMsc, k: 'b', id: h.id },
          deal: {
            deal: h.id,
            login,
            order: 0,
            action: h.action,
            entry: 'in',
            reason: 'dealer',
            timeMsc: h.timeMsc,
            symbol: '',
            price: 0n,
            volume: 0n,
            profit: h.amount,
            commission: 0n,
            storage: 0n,
            positionId: 0,
            comment: h.comment,
            ...(h.externalId ? { externalId: h.externalId } : {}),
          },
        });
      }
      for (const deal of await this.tradeDeals(login, from)) {
        rows.push({ key: { t: deal.timeMsc, k: 't', id: deal.deal }, deal });
      }
    }
    const cmp = (a: { t: number; k: string; id: number }, b: { t: number; k: string; id: number }) =>
      a.t - b.t || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0) || a.id - b.id;
    const page = rows
      .filter((r) => !after || cmp(r.key, after) > 0)
      .sort((a, b) => cmp(a.key, b.key))
      .slice(0, limit);
    const last = page.at(-1);
    return { deals: page.map((r) => r.deal), cursor: last ? `ct1.${last.key.t}.${last.key.k}.${last.key.id}` : cursor };
  }

  /** The account's filled trade deals executed at or after `fromMs`, read in chunks of 1,000. */
  private async tradeDeals(login: number, fromMs: number): Promise<Deal[]> {
    const ctid = await this.ctidOf(login);
    const exponent = currencyOf(await this.currencyOf(login)).exponent;
    const seen = new Set<string>();
    const raw: Msg[] = [];
    let from = fromMs;
    for (;;) {
      const res = await this.openApi.request(
        'ProtoOADealListReq',
        { ctidTraderAccountId: ctid, fromTimestamp: from, toTimestamp: Date.now() + 86_400_000, maxRows: 1000 },
        { account: ctid, what: 'deal list' },
      );
      const chunk: Msg[] = res.deal ?? [];
      let latest = from;
      for (const d of chunk) {
        const id = String(d.dealId);
        if (seen.has(id)) continue;
        seen.add(id);
        raw.push(d);
        latest = Math.max(latest, int(d.executionTimestamp, 'executionTimestamp'));
      }
      if (!res.hasMore) break;
      if (latest === from) throw new Error(`cTrader deal list: more than 1000 deals at ${from} on account ${login}`);
      from = latest;
    }
    const filled = raw.filter((d) => d.dealStatus === 'FILLED' || d.dealStatus === 'PARTIALLY_FILLED');
    const symbols = await this.symbolsFor(
      ctid,
      filled.map((d) => String(d.symbolId)),
    );
    return filled.map((d) => {
      const sym = symbols.get(String(d.symbolId))!;
      const close: Msg | undefined = d.closePositionDetail;
      const digits = (v: unknown) => (v === undefined ? 0 : int(v, 'moneyDigits'));
      const dealDigits = digits(d.moneyDigits);
      const closeDigits = close ? digits(close.moneyDigits) : dealDigits;
      return {
        deal: int(d.dealId, 'dealId'),
        login,
        order: int(d.orderId, 'orderId'),
        action: d.tradeSide === 'BUY' ? 'buy' : 'sell',
        entry: close ? 'out' : 'in',
        reason: 'client',
        timeMsc: int(d.executionTimestamp, 'executionTimestamp'),
        symbol: sym.name,
        price: priceToPoints(Number(d.executionPrice), sym.digits),
        volume: centsToVolume(big(d.filledVolume, 'filledVolume'), sym.lotSize),
        profit: close ? fromMoneyUnits(big(close.grossProfit, 'grossProfit'), closeDigits, exponent) : 0n,
        commission: fromMoneyUnits(big(d.commission, 'commission'), dealDigits, exponent),
        storage: close ? fromMoneyUnits(big(close.swap, 'swap'), closeDigits, exponent) : 0n,
        positionId: int(d.positionId, 'positionId'),
        comment: '',
      } satisfies Deal;
    });
  }

  // --- trading ----------------------------------------------------------------------------------------

  async findTrade(login: number, comment: string, notBefore?: number): Promise<Fill | undefined> {
    const wanted = comment.slice(0, COMMENT_MAX);
    if (wanted === '') return undefined;
    const ctid = await this.ctidOf(login);
    const seen = new Set<string>();
    const matches: Msg[] = [];
    let from = notBefore === undefined ? 0 : Math.max(0, Math.floor(notBefore));
    for (;;) {
      const res = await this.openApi.request(
        'ProtoOAOrderListReq',
        { ctidTraderAccountId: ctid, fromTimestamp: from, toTimestamp: Date.now() + 86_400_000 },
        { account: ctid, what: 'order list' },
      );
      const chunk: Msg[] = res.order ?? [];
      let latest = from;
      for (const o of chunk) {
        const id = String(o.orderId);
        if (seen.has(id)) continue;
        seen.add(id);
        if (o.tradeData?.comment === wanted && o.orderStatus === 'ORDER_STATUS_FILLED') matches.push(o);
        if (o.utcLastUpdateTimestamp !== undefined)
          latest = Math.max(latest, int(o.utcLastUpdateTimestamp, 'utcLastUpdateTimestamp'));
      }
      if (!res.hasMore) break;
      if (latest === from) throw new Error(`cTrader order list: too many orders at ${from} on account ${login}`);
      from = latest;
    }
    const order = matches.sort((a, b) => int(a.orderId, 'orderId') - int(b.orderId, 'orderId'))[0];
    if (!order) return undefined;
    const positionId = String(order.positionId ?? '');
    if (positionId === '') throw unavailable(`cTrader order ${String(order.orderId)} names no position`);
    const res = await this.openApi.request(
      'ProtoOADealListByPositionIdReq',
      { ctidTraderAccountId: ctid, positionId, fromTimestamp: 0, toTimestamp: Date.now() + 86_400_000 },
      { account: ctid, what: 'deals of position' },
    );
    const deal = ((res.deal ?? []) as Msg[])
      .filter(
        (d) => String(d.orderId) === String(order.orderId) && (d.dealStatus === 'FILLED' || d.dealStatus === 'PARTIALLY_FILLED'),
      )
      .sort((a, b) => int(b.dealId, 'dealId') - int(a.dealId, 'dealId'))[0];
    if (!deal) throw unavailable(`cTrader order ${String(order.orderId)} is filled but its deal is not listed yet`);
    const sym = (await this.symbolsFor(ctid, [String(deal.symbolId)])).get(String(deal.symbolId))!;
    return {
      order: int(order.orderId, 'orderId'),
      deal: int(deal.dealId, 'dealId'),
      positionId: int(deal.positionId, 'positionId'),
      price: priceToPoints(Number(deal.executionPrice), sym.digits),
      volume: centsToVolume(big(deal.filledVolume, 'filledVolume'), sym.lotSize),
      timeMsc: int(deal.executionTimestamp, 'executionTimestamp'),
    };
  }

  async instrument(symbol: string): Promise<Instrument> {
    const granted = [...(await this.accountList()).entries()].sort((a, b) => a[0] - b[0]);
    const ctid = granted[0]?.[1];
    if (!ctid) throw new Error('cTrader: the access token grants no account to read symbols through');
    const sym = await this.symbolByName(ctid, symbol);
    if (sym.minVolume === undefined || sym.maxVolume === undefined || sym.stepVolume === undefined || sym.stepVolume <= 0n)
      throw unavailable(`cTrader symbol ${symbol} came without its volume limits`);
    const quote = (await this.spots(ctid, [sym])).get(sym.symbolId)!;
    if (sym.lotSize % 100n !== 0n) throw new Error(`cTrader symbol ${symbol}: lotSize ${sym.lotSize} is not whole units`);
    return {
      symbol,
      digits: sym.digits,
      contractSize: sym.lotSize / 100n,
      ...volumeLimitsOf(sym.lotSize, sym.minVolume, sym.maxVolume, sym.stepVolume),
      bid: quote.bid,
      ask: quote.ask,
      quoteTimeMsc: quote.timeMsc,
    };
  }

  async marketOrder(order: MarketOrder): Promise<Fill> {
    const ctid = await this.ctidOf(order.login);
    const sym = await this.symbolByName(ctid, order.symbol);
    const volume = volumeToCents(order.volume, sym.lotSize);
    return this.execute(
      ctid,
      sym,
      'ProtoOANewOrderReq',
      {
        ctidTraderAccountId: ctid,
        symbolId: sym.symbolId,
        orderType: 'MARKET',
        tradeSide: order.side === 'buy' ? 'BUY' : 'SELL',
        volume: volume.toString(),
        ...(order.comment ? { comment: order.comment.slice(0, COMMENT_MAX) } : {}),
      },
      'new order',
    );
  }

  /** ProtoOAClosePositionReq has no comment field: `comment` cannot be carried (see the docblock). */
  async closePosition(login: number, positionId: number, volume?: bigint, _comment?: string): Promise<Fill> {
    const ctid = await this.ctidOf(login);
    const rec = await this.openApi.request(
      'ProtoOAReconcileReq',
      { ctidTraderAccountId: ctid },
      { account: ctid, what: 'reconcile' },
    );
    const open = (rec.position ?? []).find(
      (p: Msg) => String(p.positionId) === String(positionId) && p.positionStatus === 'POSITION_STATUS_OPEN',
    );
    if (!open) throw new TradingError('position_not_found', `No open position ${positionId} on account ${login}`);
    const sym = (await this.symbolsFor(ctid, [String(open.tradeData.symbolId)])).get(String(open.tradeData.symbolId))!;
    const cents = volume === undefined ? big(open.tradeData.volume, 'volume') : volumeToCents(volume, sym.lotSize);
    return this.execute(
      ctid,
      sym,
      'ProtoOAClosePositionReq',
      { ctidTraderAccountId: ctid, positionId: String(positionId), volume: cents.toString() },
      'close position',
    );
  }

  /** Sends an order request and waits for its ORDER_FILLED execution event. */
  private async execute(ctid: string, sym: SymbolInfo, typeName: string, body: Msg, what: string): Promise<Fill> {
    const event = await this.openApi.request(typeName, body, {
      account: ctid,
      what,
      accept: (name, msg) => (name === 'ProtoOAExecutionEvent' && msg.executionType === 'ORDER_FILLED' ? msg : undefined),
    });
    const deal: Msg = event.deal ?? {};
    return {
      order: int(event.order?.orderId ?? deal.orderId, 'orderId'),
      deal: int(deal.dealId, 'dealId'),
      positionId: int(event.position?.positionId ?? deal.positionId, 'positionId'),
      price: priceToPoints(Number(deal.executionPrice ?? event.order?.executionPrice), sym.digits),
      volume: centsToVolume(big(deal.filledVolume, 'filledVolume'), sym.lotSize),
    };
  }

  // --- Open API lookups -------------------------------------------------------------------------------

  /** traderLogin -> ctidTraderAccountId for every account the access token grants. */
  private async accountList(): Promise<Map<number, string>> {
    const res = await this.openApi.request(
      'ProtoOAGetAccountListByAccessTokenReq',
      { accessToken: this.options.openApi.accessToken },
      { what: 'account list' },
    );
    const out = new Map<number, string>();
    for (const a of res.ctidTraderAccount ?? []) {
      if (a.traderLogin === undefined) continue;
      out.set(int(a.traderLogin, 'traderLogin'), String(a.ctidTraderAccountId));
    }
    for (const [login, ctid] of out) this.ctids.set(login, ctid);
    return out;
  }

  private async ctidOf(login: number): Promise<string> {
    const known = this.ctids.get(login);
    if (known) return known;
    const ctid = (await this.accountList()).get(login);
    if (!ctid)
      throw new TradingError('account_not_found', `cTrader account ${login} is unknown or not granted to the application`);
    return ctid;
  }

  private async symbolByName(ctid: string, name: string): Promise<SymbolInfo> {
    if (!this.symbolsByName) {
      const res = await this.openApi.request(
        'ProtoOASymbolsListReq',
        { ctidTraderAccountId: ctid },
        { account: ctid, what: 'symbols' },
      );
      const byName = new Map<string, SymbolInfo>();
      const ids = new Map<string, string>();
      for (const s of res.symbol ?? []) ids.set(String(s.symbolName).replace('/', ''), String(s.symbolId));
      const id = ids.get(name.replace('/', ''));
      if (!id) throw new TradingError('symbol_not_found', `cTrader has no symbol ${name}`);
      const full = await this.symbolsFor(ctid, [...ids.values()]);
      for (const [n, sid] of ids) {
        const info = full.get(sid);
        if (info) byName.set(n, { ...info, name: n });
      }
      this.symbolsByName = byName;
    }
    const sym = this.symbolsByName.get(name.replace('/', ''));
    if (!sym) throw new TradingError('symbol_not_found', `cTrader has no symbol ${name}`);
    return sym;
  }

  /** Full symbol entities (digits, lotSize) by id, cached per server. */
  private async symbolsFor(ctid: string, ids: string[]): Promise<Map<string, SymbolInfo>> {
    const missing = [...new Set(ids)].filter((id) => !this.symbolsById.has(id));
    if (missing.length > 0) {
      const list = await this.openApi.request(
        'ProtoOASymbolsListReq',
        { ctidTraderAccountId: ctid },
        { account: ctid, what: 'symbols' },
      );
      const names = new Map<string, string>();
      for (const s of list.symbol ?? []) names.set(String(s.symbolId), String(s.symbolName).replace('/', ''));
      const res = await this.openApi.request(
        'ProtoOASymbolByIdReq',
        { ctidTraderAccountId: ctid, symbolId: missing },
        { account: ctid, what: 'symbol by id' },
      );
      for (const s of res.symbol ?? []) {
        const id = String(s.symbolId);
        const lotSize = big(s.lotSize, 'lotSize');
        if (lotSize <= 0n) throw new Error(`cTrader symbol ${id} has no lotSize`);
        const volume = (v: unknown) => (v === undefined ? undefined : big(v, 'volume limit'));
        this.symbolsById.set(id, {
          symbolId: id,
          name: names.get(id) ?? id,
          digits: int(s.digits, 'digits'),
          lotSize,
          ...(s.minVolume === undefined ? {} : { minVolume: volume(s.minVolume) }),
          ...(s.maxVolume === undefined ? {} : { maxVolume: volume(s.maxVolume) }),
          ...(s.stepVolume === undefined ? {} : { stepVolume: volume(s.stepVolume) }),
        });
      }
    }
    const out = new Map<string, SymbolInfo>();
    for (const id of ids) {
      const s = this.symbolsById.get(id);
      if (!s) throw new TradingError('symbol_not_found', `cTrader has no symbol id ${id}`);
      out.set(id, s);
    }
    return out;
  }
}

/** The adapter for one cTrader server. */
export const ctraderPlatform = (options: CTraderAdapterOptions): CTraderPlatform => new CTraderPlatform(options);
