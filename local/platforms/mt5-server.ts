/**
 * A local MetaTrader 5 server: an HTTP server on 127.0.0.1 that speaks the MT5 Manager Web API (the REST flavour)
 * over the trading simulator (domain/trading/simulator), so the MT5 adapter (functions/adapters/platforms/mt5.ts)
 * can be exercised end to end without a MetaQuotes licence. `startMt5Server` returns `{ url, stop(), simulator }`.
 *
 * Protocol, after MetaQuotes' "MetaTrader 5 Web API" reference (support.metaquotes.net/en/docs/mt5/api/webapi,
 * sections Authentication, Format of Commands, Users, Trading) and the MT5WebAPI C#/PHP samples shipped with it:
 * - auth (webapi_rest_authentication): `GET /api/auth/start?version=&agent=&login=&type=manager` answers
 *   `{ retcode, version_access, srv_rand }`; `GET /api/auth/answer?srv_rand_answer=&cli_rand=` checks
 *   hex(md5(md5(md5(utf16le(password)) ‖ "WebAPI") ‖ srv_rand bytes)) and answers `{ retcode, cli_rand_answer }`
 *   computed the same way over cli_rand. The session belongs to the TCP socket it was opened on: a request on any
 *   other socket is unauthenticated and answered "8 Not enough permissions" (HTTP 200), as is everything before auth
 * - envelope: `{ "retcode": "<n> <text>", "answer": ... }`; every number (money, prices, volumes, ids) is a JSON string
 * - users (webapi_users): `user/add` (query group, name, leverage; JSON body PassMain, PassInvestor and optional
 *   Login, Email, Country, ID) -> the user record; `user/get`; `user/update` (query leverage / group / rights, or the
 *   same fields capitalised in a JSON body); `user/change_password?login=&type=main|investor` and
 *   `user/check_password?login=&type=` with `{"Password": ...}` in the body; `user/account/get` -> Balance, Credit,
 *   Equity, Margin, MarginFree, MarginLevel, Profit, Currency
 * - trading (webapi_trading): `trade/balance?login=&type=&balance=&comment=` (types 2..6 of EnDealAction; comment cut
 *   to 31 characters, the documented 32 including the terminating NUL; withdrawals beyond free margin are 10019) ->
 *   `{ Ticket }`; `position/get_batch?login=a,b`; `deal/get_batch?login=a,b|group=*&from=&to=` and
 *   `deal/get_page?login=&from=&to=&offset=&total=` (from / to in seconds, inclusive);
 *   `POST dealer/send_request` (Action 200 = TA_DEALER_POS_EXECUTE; Type 0 buy / 1 sell; `Position` set = close that
 *   much of the position, the Type being the opposite side; `Comment` kept, cut to 31 characters, on the order's deal,
 *   an opening or a closing one, and returned as the deal's Comment) -> `{ ID }`; `dealer/get_request_result?id=` answers,
 *   per the Get Request Result page, `{ retcode, "<id>": [ { result: IMTConfirm }, { answer: IMTRequest } ] }`
 *   with the confirm's Retcode, DealID, OrderID, Volume, Price; `test/access` keeps a session alive
 * - symbols (webapi_symbol_get, webapi_symbol_data_structure): `symbol/get?symbol=<name>` -> one IMTConSymbol record
 *   (Symbol, Path, CurrencyBase / Profit / Margin, Digits, Point, ContractSize, TradeMode 4 full / 0 disabled while
 *   the market is closed, VolumeMin / VolumeMax / VolumeStep in 1/10,000 lot and their *Ext twins in 1/100,000,000
 *   lot, SwapLong / SwapShort in points); an unknown name is "13 Not found"; `symbol/get?mask=` -> an array (always),
 *   the mask being comma-separated names or full paths with `*` and `!` as the page describes
 * - prices (webapi_tick_last, webapi_tick_data_structure): `tick/last?symbol=<names or masks>&trans_id=<id>` ->
 *   `{ retcode, trans_id, answer: [{ Symbol, Digits, Datetime, DatetimeMsc, Bid, Ask, Last, Volume, VolumeReal }] }`;
 *   trans_id 0 answers every matching symbol, another id only those whose quote changed after it (the id is the
 *   time of the latest quote, ms, which never goes back); unknown names are left out
 * - retcodes (MT5APIConstants.h, EnMTAPIRetcode): 3 invalid params, 8 permissions, 13 not found, 3004 login exists,
 *   3006 invalid (weak or wrong) password, 3010 group of another currency, 10009 done, 10013 invalid request,
 *   10014 invalid volume, 10015 invalid price, 10017 trade disabled, 10018 market closed, 10019 no money,
 *   10036 position does not exist
 *
 * The local-only terminal (what a client's MT5 terminal would do; no auth, not part of MT5; plain JSON, money and
 * prices as decimal strings, errors as HTTP 4xx `{ error: <TradingError code>, message }`):
 * - `POST /terminal/orders { login, symbol, side: "buy"|"sell", lots: "0.10" }` -> `{ order, deal, positionId, price }`
 * - `POST /terminal/positions/{id}/close { login, lots? }` -> the same (all of the position when lots is absent)
 * - `POST /terminal/quotes { symbol, bid, ask }` (decimal prices) -> `{ symbol, bid, ask }`
 * - `GET /terminal/accounts/{login}` -> `{ login, currency, balance, credit, equity, margin, freeMargin, marginLevel,
 *   profit, positions: [{ positionId, symbol, side, lots, openPrice, priceCurrent, profit, storage }] }`
 *
 * Invariants:
 * - loopback only (127.0.0.1); port 0 picks a free port; `url` is `http://127.0.0.1:<port>`
 * - one Web API session per socket: auth state lives on the socket and dies with it
 * - state = the simulator snapshot + the user records (name, email, rights, salted password hashes, never the
 *   passwords) + the login and request counters; with `stateFile` it is loaded at start when the file exists and
 *   written after every change (and every quote tick) by write-to-tmp + rename, so a crash never leaves half a file
 * - a refused request changes nothing (the simulator's rule) and is not persisted
 * - MT5 has no external-id field: the server stores balance comments as sent (cut to 31 characters); the adapter
 *   encodes its externalId in the comment
 * - currency and retail status come from the group name: the group must end in `-<currency>` (real\standard-usd);
 *   a group with `\pro` in its path is professional, any other retail; another group is "8 Not enough permissions"
 *   (MT5's answer for a group the manager may not use)
 * - quotes walk once per `tickMs` (default 1000; 0 = never) on an unref'd timer that `stop()` clears
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { formatAmount, isCurrency, toMinor } from '#domain/money/index.ts';
import type { InstrumentClass } from '#domain/onboarding/catalog.ts';
import { isTradingError, type TradingErrorCode } from '#domain/trading/errors.ts';
import {
  type BalanceOperation,
  type Deal,
  type DealAction,
  formatPoints,
  type Position,
  type SymbolSpec,
} from '#domain/trading/model.ts';
import { type Ratio, type SimulatorSnapshot, type SymbolConfig, TradingSimulator } from '#domain/trading/simulator/index.ts';

export interface Mt5ServerOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** The manager account the Web API accepts (its password is never stored). */
  manager: { login: number; password: string };
  /** Default DEFAULT_SYMBOLS. Ignored when the state file exists (the snapshot carries its markets). */
  symbols?: readonly SymbolConfig[];
  /** PRNG seed of a new simulator; default 1. */
  seed?: number;
  /** JSON state file: loaded when present, rewritten after every change. */
  stateFile?: string;
  /** Quote tick period in ms; default 1000, 0 disables the timer. */
  tickMs?: number;
  /** First login handed out by user/add; default 100001. */
  firstLogin?: number;
}

export interface Mt5Server {
  url: string;
  stop(): Promise<void>;
  /** The live simulator (replaced by a user/update that changes leverage or group: read it through this getter). */
  readonly simulator: TradingSimulator;
}

const spec = (s: Omit<SymbolSpec, 'volumeMin' | 'volumeMax' | 'volumeStep'>): SymbolSpec => ({
  volumeMin: 100n,
  volumeMax: 1_000_000n,
  volumeStep: 100n,
  ...s,
});

/** EURUSD, GBPUSD, USDJPY (fx_major), EURGBP (fx_minor), XAUUSD (gold), US500 (index_major). */
export const DEFAULT_SYMBOLS: readonly SymbolConfig[] = [
  {
    spec: spec({
      symbol: 'EURUSD',
      digits: 5,
      contractSize: 100_000n,
      instrumentClass: 'fx_major',
      base: 'EUR',
      quote: 'USD',
      swapLongPoints: -60n,
      swapShortPoints: 20n,
    }),
    bid: 108_500n,
    spreadPoints: 10n,
    volatilityPoints: 20n,
  },
  {
    spec: spec({
      symbol: 'GBPUSD',
      digits: 5,
      contractSize: 100_000n,
      instrumentClass: 'fx_major',
      base: 'GBP',
      quote: 'USD',
      swapLongPoints: -40n,
      swapShortPoints: 5n,
    }),
    bid: 127_000n,
    spreadPoints: 15n,
    volatilityPoints: 25n,
  },
  {
    spec: spec({
      symbol: 'USDJPY',
      digits: 3,
      contractSize: 100_000n,
      instrumentClass: 'fx_major',
      base: 'USD',
      quote: 'JPY',
      swapLongPoints: 150n,
      swapShortPoints: -250n,
    }),
    bid: 150_000n,
    spreadPoints: 15n,
    volatilityPoints: 30n,
  },
  {
    spec: spec({
      symbol: 'EURGBP',
      digits: 5,
      contractSize: 100_000n,
      instrumentClass: 'fx_minor',
      base: 'EUR',
      quote: 'GBP',
      swapLongPoints: -30n,
      swapShortPoints: 2n,
    }),
    bid: 85_400n,
    spreadPoints: 15n,
    volatilityPoints: 15n,
  },
  {
    spec: spec({
      symbol: 'XAUUSD',
      digits: 2,
      contractSize: 100n,
      instrumentClass: 'gold',
      base: 'XAU',
      quote: 'USD',
      swapLongPoints: -2_500n,
      swapShortPoints: 800n,
    }),
    bid: 235_000n,
    spreadPoints: 30n,
    volatilityPoints: 100n,
  },
  {
    spec: spec({
      symbol: 'US500',
      digits: 2,
      contractSize: 10n,
      instrumentClass: 'index_major',
      base: 'US500',
      quote: 'USD',
      swapLongPoints: -300n,
      swapShortPoints: 100n,
    }),
    bid: 520_000n,
    spreadPoints: 50n,
    volatilityPoints: 150n,
  },
];

/** MT5 user rights (IMTUser::EnUsersRights). */
export const USER_RIGHT_ENABLED = 1;
export const USER_RIGHT_PASSWORD = 2;
export const USER_RIGHT_TRADE_DISABLED = 4;
const DEFAULT_RIGHTS = USER_RIGHT_ENABLED | USER_RIGHT_PASSWORD;

/** Where each instrument class sits in the symbol tree (IMTConSymbol Path), as brokers commonly arrange it. */
const SYMBOL_FOLDERS: Readonly<Record<InstrumentClass, string>> = {
  fx_major: 'Forex\\Major',
  fx_minor: 'Forex\\Minor',
  gold: 'Metals',
  index_major: 'Indices\\Major',
  index_minor: 'Indices\\Minor',
  commodity: 'Commodities',
  equity: 'Stocks',
  crypto: 'Crypto',
};

/** Comment limit of a balance operation or an order: 32 characters including the terminating NUL. */
const COMMENT_MAX = 31;

interface UserRecord {
  login: number;
  name: string;
  email: string;
  country: string;
  /** Our client reference (MT5 ID field). */
  id: string;
  rights: number;
  /** `salt:sha256(salt ‖ password)` hex. */
  passMain: string;
  passInvestor: string;
  registrationMsc: number;
}

interface PersistedState {
  version: 1;
  simulator: SimulatorSnapshot;
  users: UserRecord[];
  nextLogin: number;
  nextRequest: number;
}

interface DealerResult {
  id: number;
  login: number;
  retcode: number;
  deal: number;
  order: number;
  volume: bigint;
  price: string;
  comment: string;
}

type Json = Record<string, unknown>;

class Retcode extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(`${code} ${text}`);
  }
}

const RET = {
  params: () => new Retcode(3, 'Invalid parameters'),
  permissions: () => new Retcode(8, 'Not enough permissions'),
  notFound: () => new Retcode(13, 'Not found'),
  loginExists: () => new Retcode(3004, 'Account already exists'),
  password: () => new Retcode(3006, 'Invalid account password'),
  currency: () => new Retcode(3010, 'Attempt to move account to different currency group'),
};

/** TradingError code -> trade request retcode (EnMTAPIRetcode). */
const TRADE_RETCODES: Partial<Record<TradingErrorCode, [number, string]>> = {
  no_money: [10019, 'Not enough money'],
  invalid_volume: [10014, 'Invalid volume'],
  invalid_price: [10015, 'Invalid price'],
  market_closed: [10018, 'Market closed'],
  trade_disabled: [10017, 'Trade disabled'],
  position_not_found: [10036, 'Position doesn\u2019t exist'],
  symbol_not_found: [10013, 'Invalid request'],
  account_not_found: [13, 'Not found'],
  invalid_amount: [3, 'Invalid parameters'],
};

const BALANCE_TYPES: Readonly<Record<string, BalanceOperation>> = {
  '2': 'balance',
  '3': 'credit',
  '4': 'charge',
  '5': 'correction',
  '6': 'bonus',
};
const DEAL_ACTIONS: Readonly<Record<DealAction, number>> = {
  buy: 0,
  sell: 1,
  balance: 2,
  credit: 3,
  charge: 4,
  correction: 5,
  bonus: 6,
  commission: 7,
  so_compensation: 19,
};
const DEAL_ENTRIES = { in: 0, out: 1, inout: 2, out_by: 3 } as const;
const DEAL_REASONS = { client: 0, dealer: 2, stop_out: 5 } as const;

const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();
/** md5(md5(utf16le(password)) ‖ "WebAPI") — the key both sides derive from the password. */
const passwordKey = (password: string) => md5(md5(Buffer.from(password, 'utf16le')), Buffer.from('WebAPI', 'ascii'));

function hashPassword(password: string): string {
  const salt = randomBytes(8).toString('hex');
  return `${salt}:${createHash('sha256').update(salt).update(password).digest('hex')}`;
}
function passwordMatches(stored: string, password: string): boolean {
  const [salt = '', hash = ''] = stored.split(':');
  const actual = createHash('sha256').update(salt).update(password).digest();
  const expected = Buffer.from(hash, 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
/** MT5's default policy: at least 8 characters with lower case, upper case and digits. */
const strongPassword = (p: unknown): p is string =>
  typeof p === 'string' && p.length >= 8 && p.length <= 63 && /[a-z]/.test(p) && /[A-Z]/.test(p) && /\d/.test(p);

/** Points -> decimal string with `digits` decimals. */
const formatPrice = formatPoints;
/** A decimal price -> points; null unless it has at most `digits` decimals. */
function parsePrice(text: unknown, digits: number): bigint | null {
  const m = typeof text === 'string' ? /^(\d{1,15})(?:\.(\d+))?$/.exec(text) : null;
  if (!m || (m[2] ?? '').length > digits) return null;
  return BigInt(m[1]!) * 10n ** BigInt(digits) + BigInt((m[2] ?? '').padEnd(digits, '0') || '0');
}
/** "0.10" lots -> MT5 volume units (lots x 10,000); null unless exact. */
function parseLots(text: unknown): bigint | null {
  const m = typeof text === 'string' ? /^(\d{1,6})(?:\.(\d{1,4}))?$/.exec(text) : null;
  return m ? BigInt(m[1]!) * 10_000n + BigInt((m[2] ?? '').padEnd(4, '0')) : null;
}
const formatLots = (volume: bigint) => formatPrice(volume, 4);

/** A symbol mask item (`*` = any characters, everything else literal) as an anchored RegExp. */
const maskRegExp = (item: string) =>
  new RegExp(
    `^${item
      .split('*')
      .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
      .join('.*')}$`,
  );

const currencyOfGroup = (group: string): string | null => {
  const m = /-([A-Za-z]{3,4})$/.exec(group);
  const code = m?.[1]?.toUpperCase();
  return code && isCurrency(code) ? code : null;
};
const isRetailGroup = (group: string) => !/\\pro(\\|-|$)/i.test(group);

const positiveInt = (v: unknown): number | null => {
  const n = typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
};

async function readBody(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_000_000) throw RET.params();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw RET.params();
    return parsed as Json;
  } catch {
    throw RET.params();
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

interface SessionState {
  stage: 'started' | 'authed';
  srvRand?: Buffer;
}

export async function startMt5Server(options: Mt5ServerOptions): Promise<Mt5Server> {
  const manager = options.manager;
  const key = passwordKey(manager.password);
  let sim: TradingSimulator;
  let users = new Map<number, UserRecord>();
  let nextLogin = options.firstLogin ?? 100_001;
  let nextRequest = 1;
  const results = new Map<number, DealerResult>();

  if (options.stateFile && existsSync(options.stateFile)) {
    const state = JSON.parse(readFileSync(options.stateFile, 'utf8')) as PersistedState;
    if (state.version !== 1) throw new Error(`${options.stateFile}: unsupported state version ${String(state.version)}`);
    sim = TradingSimulator.fromSnapshot(state.simulator);
    users = new Map(state.users.map((u) => [u.login, u]));
    nextLogin = state.nextLogin;
    nextRequest = state.nextRequest;
  } else {
    sim = TradingSimulator.create({
      symbols: options.symbols ?? DEFAULT_SYMBOLS,
      seed: options.seed ?? 1,
      startTimeMsc: Date.now(),
    });
  }

  const persist = () => {
    if (!options.stateFile) return;
    const state: PersistedState = { version: 1, simulator: sim.snapshot(), users: [...users.values()], nextLogin, nextRequest };
    const tmp = `${options.stateFile}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, options.stateFile);
  };
  persist();

  /** Changes an account's configuration the simulator has no setter for, through a snapshot round trip. */
  const reconfigure = (login: number, change: { leverage?: number; group?: string; retail?: boolean }) => {
    const snap = sim.snapshot();
    const acct = snap.accounts.find((a) => a.login === login);
    if (!acct) throw RET.notFound();
    Object.assign(acct, change);
    sim = TradingSimulator.fromSnapshot(snap);
  };

  const sessions = new WeakMap<Socket, SessionState>();
  const user = (login: unknown): UserRecord => {
    const n = positiveInt(login);
    const u = n === null ? undefined : users.get(n);
    if (!u) throw RET.notFound();
    return u;
  };
  const digitsOf = (symbol: string) => sim.symbols().find((s) => s.symbol === symbol)?.digits ?? 5;
  const quoteOf = (symbol: string) => sim.symbols().find((s) => s.symbol === symbol)?.quote ?? 'USD';
  /** A rate as MT5 writes one: a decimal string, 8 places, rounded down. */
  const rateString = (r: Ratio) => {
    const scaled = (r.num * 100_000_000n) / r.den;
    return `${scaled / 100_000_000n}.${(scaled % 100_000_000n).toString().padStart(8, '0')}`;
  };

  const userJson = (u: UserRecord) => {
    const a = sim.account(u.login);
    return {
      Login: String(u.login),
      Group: a.group,
      Name: u.name,
      Email: u.email,
      Country: u.country,
      ID: u.id,
      Leverage: String(a.leverage),
      Rights: String(u.rights),
      Registration: String(Math.floor(u.registrationMsc / 1000)),
    };
  };

  const dealJson = (d: Deal) => {
    const currency = sim.account(d.login).currency;
    const digits = d.symbol ? digitsOf(d.symbol) : 0;
    const cs = d.symbol ? sim.symbols().find((s) => s.symbol === d.symbol)?.contractSize : undefined;
    return {
      Deal: String(d.deal),
      Login: String(d.login),
      Order: String(d.order),
      Action: String(DEAL_ACTIONS[d.action]),
      Entry: String(DEAL_ENTRIES[d.entry]),
      Reason: String(DEAL_REASONS[d.reason]),
      Time: String(Math.floor(d.timeMsc / 1000)),
      TimeMsc: String(d.timeMsc),
      Symbol: d.symbol,
      Price: formatPrice(d.price, digits),
      Volume: d.volume.toString(),
      VolumeExt: (d.volume * 10_000n).toString(),
      Profit: formatAmount(d.profit, currency),
      Storage: formatAmount(d.storage, currency),
      Commission: formatAmount(d.commission, currency),
      PositionID: String(d.positionId),
      ContractSize: cs === undefined ? '0' : cs.toString(),
      // IMTDeal::RateProfit: the profit currency's rate to the deposit currency when the deal was made (the
      // simulator keeps no history of rates, so it is the rate now: exact for deals read as they happen)
      RateProfit: d.symbol ? rateString(sim.conversionRate(quoteOf(d.symbol), currency)) : '0',
      Comment: d.comment,
      Digits: String(digits),
    };
  };

  const positionJson = (p: Position, currency: string) => {
    const digits = digitsOf(p.symbol);
    return {
      Position: String(p.positionId),
      Login: String(p.login),
      Symbol: p.symbol,
      Action: p.side === 'buy' ? '0' : '1',
      Volume: p.volume.toString(),
      VolumeExt: (p.volume * 10_000n).toString(),
      PriceOpen: formatPrice(p.openPrice, digits),
      PriceCurrent: formatPrice(p.priceCurrent, digits),
      Profit: formatAmount(p.profit, currency),
      Storage: formatAmount(p.storage, currency),
      TimeCreate: String(Math.floor(p.openTimeMsc / 1000)),
      TimeCreateMsc: String(p.openTimeMsc),
      Digits: String(digits),
    };
  };

  /** Deals of `logins` (or every login) with from <= Time <= to (seconds), by id. */
  const dealsOf = (logins: number[] | null, q: URLSearchParams) => {
    const from = Number(q.get('from') ?? '0');
    const to = Number(q.get('to') ?? String(Number.MAX_SAFE_INTEGER));
    if (!Number.isFinite(from) || !Number.isFinite(to)) throw RET.params();
    const wanted = logins ? new Set(logins) : null;
    return sim.deals().filter((d) => (!wanted || wanted.has(d.login)) && d.timeMsc >= from * 1000 && d.timeMsc < (to + 1) * 1000);
  };
  const loginList = (q: URLSearchParams): number[] | null => {
    const raw = q.get('login');
    if (raw === null || raw === '') {
      if (q.get('group') === '*') return null;
      throw RET.params();
    }
    const logins = raw.split(',').map(positiveInt);
    if (logins.some((l) => l === null)) throw RET.params();
    return logins as number[];
  };

  /** The symbol's path in the symbol tree, by its instrument class (Forex\\Major\\EURUSD, Metals\\XAUUSD, ...). */
  const pathOf = (spec: SymbolSpec) => `${SYMBOL_FOLDERS[spec.instrumentClass]}\\${spec.symbol}`;

  /** An IMTConSymbol record as symbol/get answers it (the fields the simulator has; numbers as strings). */
  const symbolJson = (spec: SymbolSpec) => ({
    Symbol: spec.symbol,
    Path: pathOf(spec),
    Description: `${spec.base} vs ${spec.quote}`,
    CurrencyBase: spec.base,
    CurrencyProfit: spec.quote,
    CurrencyMargin: spec.base,
    Digits: String(spec.digits),
    Point: formatPrice(1n, spec.digits),
    ContractSize: `${spec.contractSize}.00`,
    // EnTradeMode: TRADE_DISABLED 0 .. TRADE_FULL 4
    TradeMode: sim.isTradingOpen(spec.symbol) ? '4' : '0',
    // EnCalcMode: TRADE_MODE_FOREX 0, TRADE_MODE_CFD 2
    CalcMode: spec.instrumentClass.startsWith('fx_') ? '0' : '2',
    VolumeMin: spec.volumeMin.toString(),
    VolumeMinExt: (spec.volumeMin * 10_000n).toString(),
    VolumeMax: spec.volumeMax.toString(),
    VolumeMaxExt: (spec.volumeMax * 10_000n).toString(),
    VolumeStep: spec.volumeStep.toString(),
    VolumeStepExt: (spec.volumeStep * 10_000n).toString(),
    // EnSwapMode: SWAP_BY_POINTS 1
    SwapMode: '1',
    SwapLong: spec.swapLongPoints.toString(),
    SwapShort: spec.swapShortPoints.toString(),
  });

  /**
   * The symbols a `symbol` / `mask` list names: comma-separated items, each a name, a full path, or a full path with
   * `*` (any characters); an item starting with `!` takes its matches out again. Unknown names match nothing.
   */
  const symbolsMatching = (list: string): SymbolSpec[] => {
    const items = list
      .split(',')
      .map((i) => i.trim())
      .filter((i) => i !== '');
    const matches = (spec: SymbolSpec, item: string) => {
      if (!item.includes('*')) return item === spec.symbol || item === pathOf(spec);
      // a mask works on the full path only ("USD*" matches nothing; "Forex\\Major\\USD*" does)
      return maskRegExp(item).test(pathOf(spec));
    };
    return sim.symbols().filter((spec) => {
      let included = false;
      for (const item of items) {
        if (item.startsWith('!')) {
          if (matches(spec, item.slice(1))) included = false;
        } else if (matches(spec, item)) included = true;
      }
      return included;
    });
  };

  /** tick/last: the quotes of `symbol` changed after `trans_id` (every one for 0), and the new trans_id. */
  const lastTicks = (q: URLSearchParams): Json => {
    const list = q.get('symbol') ?? '';
    const since = Number(q.get('trans_id') ?? '0');
    if (list === '' || list.length > 4096 || !Number.isSafeInteger(since) || since < 0) throw RET.params();
    const quotes = symbolsMatching(list).map((spec) => ({ spec, quote: sim.quote(spec.symbol) }));
    const transId = Math.max(since, ...quotes.map((x) => x.quote.time));
    return {
      trans_id: String(transId),
      answer: quotes
        .filter((x) => since === 0 || x.quote.time > since)
        .map(({ spec, quote }) => ({
          Symbol: spec.symbol,
          Digits: String(spec.digits),
          Datetime: String(Math.floor(quote.time / 1000)),
          DatetimeMsc: String(quote.time),
          Bid: formatPrice(quote.bid, spec.digits),
          Ask: formatPrice(quote.ask, spec.digits),
          Last: formatPrice(0n, spec.digits),
          Volume: '0',
          VolumeReal: '0.00',
        })),
    };
  };

  /** Runs a simulator call; TradingErrors become trade retcodes. */
  const trade = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (isTradingError(e)) {
        const [code, text] = TRADE_RETCODES[e.code] ?? [10013, 'Invalid request'];
        throw new Retcode(code, text);
      }
      throw e;
    }
  };

  const dealerExecute = (body: Json): DealerResult => {
    const id = nextRequest++;
    const login = positiveInt(body.Login);
    const volume = positiveInt(body.Volume);
    const type = body.Type;
    if (
      String(body.Action) !== '200' ||
      login === null ||
      volume === null ||
      (type !== '0' && type !== '1' && type !== 0 && type !== 1)
    ) {
      throw RET.params();
    }
    user(login);
    const side = String(type) === '0' ? 'buy' : 'sell';
    const base = { id, login, retcode: 10009, deal: 0, order: 0, volume: 0n, price: '0', comment: 'Request executed' };
    try {
      const positionId = body.Position === undefined || body.Position === '0' ? null : positiveInt(body.Position);
      if (body.Position !== undefined && body.Position !== '0' && positionId === null) throw RET.params();
      const now = Date.now();
      let result: ReturnType<TradingSimulator['marketOrder']>;
      if (positionId !== null) {
        const open = sim.positions(login).find((p) => p.positionId === positionId);
        if (!open) return { ...base, retcode: 10036, comment: 'Position doesn\u2019t exist' };
        if (open.side === side || (typeof body.Symbol === 'string' && body.Symbol !== open.symbol)) throw RET.params();
        const comment = typeof body.Comment === 'string' ? body.Comment.slice(0, COMMENT_MAX) : '';
        result = trade(() => sim.closePosition({ login, positionId, volume: BigInt(volume), now, comment }));
      } else {
        if (typeof body.Symbol !== 'string') throw RET.params();
        const symbol = body.Symbol;
        result = trade(() =>
          sim.marketOrder({
            login,
            symbol,
            side,
            volume: BigInt(volume),
            now,
            comment: typeof body.Comment === 'string' ? body.Comment.slice(0, COMMENT_MAX) : '',
          }),
        );
      }
      return {
        ...base,
        deal: result.deal.deal,
        order: result.order,
        volume: result.deal.volume,
        price: formatPrice(result.deal.price, digitsOf(result.deal.symbol)),
      };
    } catch (e) {
      if (e instanceof Retcode && e.code >= 10000) return { ...base, retcode: e.code, comment: e.text };
      throw e;
    }
  };

  /** One Web API call on an authenticated socket; answers `answer` or throws a Retcode. */
  const api = async (path: string, q: URLSearchParams, req: IncomingMessage): Promise<unknown> => {
    switch (path) {
      case '/api/test/access':
        return undefined;
      case '/api/user/add': {
        const body = await readBody(req);
        const group = q.get('group') ?? (typeof body.Group === 'string' ? body.Group : '');
        const leverage = positiveInt(q.get('leverage') ?? body.Leverage);
        const name = q.get('name') ?? (typeof body.Name === 'string' ? body.Name : '');
        if (!group || leverage === null || !name) throw RET.params();
        const currency = currencyOfGroup(group);
        if (!currency) throw RET.permissions();
        if (!strongPassword(body.PassMain) || !strongPassword(body.PassInvestor)) throw RET.password();
        let login: number;
        if (body.Login !== undefined && body.Login !== '0') {
          const wanted = positiveInt(body.Login);
          if (wanted === null) throw RET.params();
          if (users.has(wanted)) throw RET.loginExists();
          login = wanted;
        } else {
          while (users.has(nextLogin)) nextLogin++;
          login = nextLogin++;
        }
        sim.createAccount({ login, currency, leverage, group, retail: isRetailGroup(group) });
        const record: UserRecord = {
          login,
          name,
          email: typeof body.Email === 'string' ? body.Email : '',
          country: typeof body.Country === 'string' ? body.Country : '',
          id: typeof body.ID === 'string' ? body.ID : '',
          rights: DEFAULT_RIGHTS,
          passMain: hashPassword(body.PassMain),
          passInvestor: hashPassword(body.PassInvestor),
          registrationMsc: Date.now(),
        };
        users.set(login, record);
        persist();
        return userJson(record);
      }
      case '/api/user/get':
        return userJson(user(q.get('login')));
      case '/api/user/update': {
        const body = await readBody(req);
        const u = user(q.get('login') ?? body.Login);
        const leverageRaw = q.get('leverage') ?? body.Leverage;
        const group = q.get('group') ?? (typeof body.Group === 'string' ? body.Group : undefined);
        const rightsRaw = q.get('rights') ?? body.Rights;
        const leverage = leverageRaw === undefined || leverageRaw === null ? undefined : positiveInt(leverageRaw);
        const rights =
          rightsRaw === undefined || rightsRaw === null
            ? undefined
            : /^\d{1,15}$/.test(String(rightsRaw))
              ? Number(rightsRaw)
              : null;
        if (leverage === null || rights === null) throw RET.params();
        const change: { leverage?: number; group?: string; retail?: boolean } = {};
        if (leverage !== undefined) change.leverage = leverage;
        if (group !== undefined) {
          const currency = currencyOfGroup(group);
          if (!currency) throw RET.permissions();
          if (currency !== sim.account(u.login).currency) throw RET.currency();
          change.group = group;
          change.retail = isRetailGroup(group);
        }
        if (Object.keys(change).length > 0) reconfigure(u.login, change);
        if (rights !== undefined) {
          u.rights = rights;
          sim.setReadOnly(u.login, (rights & USER_RIGHT_TRADE_DISABLED) !== 0);
        }
        persist();
        return userJson(u);
      }
      case '/api/user/change_password':
      case '/api/user/check_password': {
        const body = await readBody(req);
        const u = user(q.get('login'));
        const type = q.get('type') ?? 'main';
        if (type !== 'main' && type !== 'investor') throw RET.params();
        const field = type === 'main' ? 'passMain' : 'passInvestor';
        if (path === '/api/user/check_password') {
          if (typeof body.Password !== 'string' || !passwordMatches(u[field], body.Password)) throw RET.password();
          return undefined;
        }
        if (!strongPassword(body.Password)) throw RET.password();
        u[field] = hashPassword(body.Password);
        persist();
        return undefined;
      }
      case '/api/user/account/get': {
        const u = user(q.get('login'));
        const s = sim.accountState(u.login);
        const f = (n: bigint) => formatAmount(n, s.currency);
        return {
          Login: String(s.login),
          Currency: s.currency,
          Balance: f(s.balance),
          Credit: f(s.credit),
          Equity: f(s.equity),
          Margin: f(s.margin),
          MarginFree: f(s.freeMargin),
          MarginLevel: s.marginLevel ?? '0.00',
          Profit: f(s.profit),
        };
      }
      case '/api/trade/balance': {
        const u = user(q.get('login'));
        const type = BALANCE_TYPES[q.get('type') ?? ''];
        if (!type) throw RET.params();
        const currency = sim.account(u.login).currency;
        let amount: bigint;
        try {
          amount = toMinor(q.get('balance') ?? '', currency);
        } catch {
          throw RET.params();
        }
        if (amount > 100_000_000_000n || amount < -100_000_000_000n) throw new Retcode(4005, 'Money limit reached');
        const comment = (q.get('comment') ?? '').slice(0, COMMENT_MAX);
        const deal = trade(() => sim.changeBalance(u.login, amount, type, comment, undefined, Date.now()));
        persist();
        return { Ticket: String(deal.deal) };
      }
      case '/api/position/get_batch': {
        const logins = loginList(q) ?? [...users.keys()];
        return logins.flatMap((login) => {
          const u = users.get(login);
          return u ? sim.positions(login).map((p) => positionJson(p, sim.account(login).currency)) : [];
        });
      }
      case '/api/deal/get_batch':
        return dealsOf(loginList(q), q).map(dealJson);
      case '/api/deal/get_page': {
        const u = user(q.get('login'));
        const offset = Number(q.get('offset') ?? '0');
        const total = Number(q.get('total') ?? '100');
        if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(total) || total < 0) throw RET.params();
        return dealsOf([u.login], q)
          .slice(offset, offset + total)
          .map(dealJson);
      }
      case '/api/symbol/get': {
        const name = q.get('symbol');
        if (name !== null && name !== '') {
          const spec = sim.symbols().find((x) => x.symbol === name);
          if (!spec) throw RET.notFound();
          return symbolJson(spec);
        }
        const mask = q.get('mask');
        if (mask === null || mask === '') throw RET.params();
        return symbolsMatching(mask).map(symbolJson);
      }
      case '/api/dealer/send_request': {
        const r = dealerExecute(await readBody(req));
        results.set(r.id, r);
        if (r.retcode === 10009) persist();
        return { ID: String(r.id) };
      }
      default:
        throw new Retcode(12002, 'Command doesn\u2019t supported');
    }
  };

  const dealerResults = (q: URLSearchParams): Json => {
    const out: Json = {};
    for (const raw of (q.get('id') ?? '').split(',')) {
      const id = positiveInt(raw);
      const r = id === null ? undefined : results.get(id);
      if (!r) throw RET.notFound();
      const retcode = `${r.retcode} ${r.comment}`;
      out[String(r.id)] = [
        {
          result: {
            ID: String(r.id),
            Retcode: String(r.retcode),
            Volume: r.volume.toString(),
            VolumeExt: (r.volume * 10_000n).toString(),
            Price: r.price,
            Comment: r.comment,
            DealID: String(r.deal),
            OrderID: String(r.order),
          },
        },
        {
          answer: {
            ID: String(r.id),
            Login: String(r.login),
            ResultRetcode: retcode,
            ResultDeal: String(r.deal),
            ResultOrder: String(r.order),
          },
        },
      ];
    }
    return out;
  };

  const auth = (path: string, q: URLSearchParams, socket: Socket): Json => {
    if (path === '/api/auth/start') {
      if (q.get('type') !== 'manager' || !q.get('version') || !q.get('agent')) throw RET.params();
      if (positiveInt(q.get('login')) !== manager.login) throw RET.password();
      const srvRand = randomBytes(16);
      sessions.set(socket, { stage: 'started', srvRand });
      return { version_access: '1985', srv_rand: srvRand.toString('hex') };
    }
    const session = sessions.get(socket);
    sessions.delete(socket);
    if (session?.stage !== 'started' || !session.srvRand) throw RET.permissions();
    const expected = md5(key, session.srvRand);
    const answer = Buffer.from(q.get('srv_rand_answer') ?? '', 'hex');
    if (answer.length !== 16 || !timingSafeEqual(answer, expected)) throw RET.password();
    const cliRand = Buffer.from(q.get('cli_rand') ?? '', 'hex');
    if (cliRand.length !== 16) throw RET.params();
    sessions.set(socket, { stage: 'authed' });
    return { cli_rand_answer: md5(key, cliRand).toString('hex') };
  };

  // --- terminal ---------------------------------------------------------------------------------------

  const terminalError = (e: unknown): [number, Json] => {
    if (isTradingError(e)) {
      const status = { not_found: 404, forbidden: 403, conflict: 409 }[e.kind as string] ?? 422;
      return [status, { error: e.code, message: e.message }];
    }
    if (e instanceof Retcode)
      return [e.code === 13 ? 404 : 400, { error: e.code === 13 ? 'account_not_found' : 'invalid_request', message: e.message }];
    throw e;
  };

  const fillJson = (r: ReturnType<TradingSimulator['marketOrder']>) => ({
    order: r.order,
    deal: r.deal.deal,
    positionId: r.deal.positionId,
    price: formatPrice(r.deal.price, digitsOf(r.deal.symbol)),
  });

  const terminal = async (method: string, path: string, req: IncomingMessage): Promise<[number, unknown]> => {
    const now = Date.now();
    const tradable = (login: unknown) => {
      const u = user(login);
      if ((u.rights & USER_RIGHT_ENABLED) === 0) throw new Retcode(1002, 'Account disabled');
      return u.login;
    };
    const closeMatch = /^\/terminal\/positions\/(\d+)\/close$/.exec(path);
    const accountMatch = /^\/terminal\/accounts\/(\d+)$/.exec(path);
    if (method === 'POST' && path === '/terminal/orders') {
      const body = await readBody(req);
      const volume = parseLots(body.lots);
      if (volume === null || (body.side !== 'buy' && body.side !== 'sell') || typeof body.symbol !== 'string') throw RET.params();
      const login = tradable(body.login);
      const r = sim.marketOrder({ login, symbol: body.symbol, side: body.side, volume, now });
      persist();
      return [200, fillJson(r)];
    }
    if (method === 'POST' && closeMatch) {
      const body = await readBody(req);
      const volume = body.lots === undefined ? undefined : parseLots(body.lots);
      if (volume === null) throw RET.params();
      const login = tradable(body.login);
      const r = sim.closePosition({ login, positionId: Number(closeMatch[1]), ...(volume !== undefined ? { volume } : {}), now });
      persist();
      return [200, fillJson(r)];
    }
    if (method === 'POST' && path === '/terminal/quotes') {
      const body = await readBody(req);
      if (typeof body.symbol !== 'string') throw RET.params();
      const digits = sim.symbols().find((s) => s.symbol === body.symbol)?.digits;
      if (digits === undefined) return [404, { error: 'symbol_not_found', message: `No symbol ${body.symbol}` }];
      const bid = parsePrice(body.bid, digits);
      const ask = parsePrice(body.ask, digits);
      if (bid === null || ask === null) throw RET.params();
      sim.setQuote(body.symbol, bid, ask, now);
      persist();
      return [200, { symbol: body.symbol, bid: formatPrice(bid, digits), ask: formatPrice(ask, digits) }];
    }
    if (method === 'GET' && accountMatch) {
      const u = user(accountMatch[1]);
      const s = sim.accountState(u.login);
      const f = (n: bigint) => formatAmount(n, s.currency);
      return [
        200,
        {
          login: s.login,
          currency: s.currency,
          balance: f(s.balance),
          credit: f(s.credit),
          equity: f(s.equity),
          margin: f(s.margin),
          freeMargin: f(s.freeMargin),
          marginLevel: s.marginLevel,
          profit: f(s.profit),
          positions: sim.positions(u.login).map((p) => ({
            positionId: p.positionId,
            symbol: p.symbol,
            side: p.side,
            lots: formatLots(p.volume),
            openPrice: formatPrice(p.openPrice, digitsOf(p.symbol)),
            priceCurrent: formatPrice(p.priceCurrent, digitsOf(p.symbol)),
            profit: f(p.profit),
            storage: f(p.storage),
          })),
        },
      ];
    }
    return [404, { error: 'not_found', message: `No terminal route ${method} ${path}` }];
  };

  // --- HTTP -------------------------------------------------------------------------------------------

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path.startsWith('/terminal/')) {
      try {
        const [status, body] = await terminal(req.method ?? 'GET', path, req);
        send(res, status, body);
      } catch (e) {
        const [status, body] = terminalError(e);
        send(res, status, body);
      }
      return;
    }
    try {
      if (path === '/api/auth/start' || path === '/api/auth/answer') {
        send(res, 200, { retcode: '0 Done', ...auth(path, url.searchParams, req.socket) });
        return;
      }
      if (sessions.get(req.socket)?.stage !== 'authed') throw RET.permissions();
      if (path === '/api/dealer/get_request_result') {
        send(res, 200, { retcode: '0 Done', ...dealerResults(url.searchParams) });
        return;
      }
      if (path === '/api/tick/last') {
        send(res, 200, { retcode: '0 Done', ...lastTicks(url.searchParams) });
        return;
      }
      const answer = await api(path, url.searchParams, req);
      send(res, 200, answer === undefined ? { retcode: '0 Done' } : { retcode: '0 Done', answer });
    } catch (e) {
      if (e instanceof Retcode) send(res, 200, { retcode: e.message });
      else if (isTradingError(e) && e.code === 'account_exists') send(res, 200, { retcode: RET.loginExists().message });
      else send(res, 500, { retcode: `2 ${e instanceof Error ? e.message : 'Common error'}` });
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { retcode: '2 Common error' });
    });
  });
  // A Web API session lives on its connection: keep idle connections for a while (MT5 drops them after inactivity).
  server.keepAliveTimeout = 120_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('MT5 server: no TCP address');

  const tickMs = options.tickMs ?? 1000;
  const timer =
    tickMs > 0
      ? setInterval(() => {
          sim.tick(Date.now());
          persist();
        }, tickMs)
      : undefined;
  timer?.unref();

  return {
    url: `http://127.0.0.1:${address.port}`,
    get simulator() {
      return sim;
    },
    async stop() {
      if (timer) clearInterval(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      persist();
    },
  };
}
