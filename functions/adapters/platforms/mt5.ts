/**
 * The MetaTrader 5 adapter: TradingPlatform (domain/trading/port.ts) over the MT5 Manager Web API (REST), with
 * node:http only. Protocol after MetaQuotes' "MetaTrader 5 Web API" reference (support.metaquotes.net/en/docs/mt5/api/
 * webapi: Authentication, Format of Commands, Maintaining Connections, Users, Trading / Deposit-Withdrawal, Send
 * Request, Get Request Result, Trade Requests / Data Structure) and MT5APIConstants.h (EnMTAPIRetcode); local twin:
 * local/platforms/mt5-server.ts.
 *
 * Wire details:
 * - auth: `/api/auth/start?version=&agent=&login=&type=manager` -> srv_rand; `/api/auth/answer?srv_rand_answer=
 *   &cli_rand=` with srv_rand_answer = hex(md5(h ‖ srv_rand)), h = md5(md5(utf16le(password)) ‖ "WebAPI"); the
 *   server's cli_rand_answer must equal hex(md5(h ‖ cli_rand)) or the server is not trusted (authAnswer below)
 * - a session is bound to its TCP connection, so every request goes through one http.Agent with keepAlive and
 *   maxSockets 1, and the adapter runs one request at a time. A "8 Not enough permissions" answer (what MT5 says
 *   to an unauthenticated connection, e.g. after the socket was replaced) triggers ONE re-authentication and ONE
 *   resend: the server refused the request, so resending cannot apply it twice. A second 8 is a permissions or
 *   configuration error: a plain, non-retryable Error naming the retcode
 * - a read (account, user, positions, deals, request results) whose reused keep-alive socket turns out to have
 *   been closed by the server is sent once more on a new socket; a write never is (platform_unavailable instead)
 * - envelope `{ retcode: "<n> <text>", answer }`, success when parseInt(retcode) is 0 or 1 (MT_RET_OK_NONE)
 * - money: decimal strings in the account currency <-> bigint minor units (#domain/money toMinor / formatAmount);
 *   the currency is read once per login from user/account/get and cached. Prices: decimal strings <-> points with
 *   the record's Digits. Volumes: MT5 units (Volume, 1/10,000 lot) as they are
 * - trading: `POST /api/dealer/send_request` with Action 200 (TA_DEALER_POS_EXECUTE), Type 0 buy / 1 sell, Volume,
 *   Symbol, Login, Comment (our copy id, cut to 31 characters: the order's comment, which its deal inherits) and, to
 *   close, Position with the opposite Type; no PriceOrder (the dealer fills at market); then
 *   `/api/dealer/get_request_result?id=` until the confirm's Retcode is final (10009 / 10010 done). The confirm
 *   (IMTConfirm) carries no time: a fill has timeMsc when the adapter read the deal for its Digits
 * - findTrade: the login's deals (`/api/deal/get_batch?login=&from=&to=`, from a day before notBefore) whose Action
 *   is 0 / 1 and whose Comment is the comment as marketOrder / closePosition sent it (cut to 31 characters); the
 *   oldest such deal is the fill. MT5 deal times are the server's local time (up to 14 hours off UTC, either way),
 *   so a deal counts when its time is at most 14 hours before notBefore: a trade is never missed for a time zone,
 *   at the price of a window 14 hours wider than asked. Nothing is sent: it is a read
 * - instrument: `/api/symbol/get?symbol=` (IMTConSymbol: Digits, ContractSize, VolumeMin / VolumeMax / VolumeStep in
 *   1/10,000 lot, or their *Ext twins in 1/100,000,000 lot, which win when present: min rounded up, max down, the
 *   step to the least MT5-unit multiple of it) and `/api/tick/last?symbol=&trans_id=0` (Bid, Ask, DatetimeMsc);
 *   retcode 13 on either is symbol_not_found, a symbol with no tick yet is platform_unavailable
 * - deals: `/api/deal/get_batch` with from=0 and to = now + 1 day (seconds), over `login=a,b,...` when a `logins`
 *   provider is configured, else `group=*` (every account of the server)
 *
 * Exactly-once balance operations: MT5 has no external id field, so the externalId is written at the END of the
 * deal comment as `<comment text>|<externalId>`. MT5 keeps 31 characters of a comment (32 including the NUL), so
 * the text is cut to 31 - 1 - externalId.length characters (4 for a 26-character ULID) and externalIds longer than
 * 26 characters, or containing anything but [A-Za-z0-9_-], are refused. changeBalance first looks the id up in the
 * account's balance deals (actions 2..6): found with the same type and amount -> `{ ticket, replayed: true }`;
 * found with another -> duplicate_external_id; else it applies `/api/trade/balance`. findBalanceOperation is the
 * same lookup. Two concurrent changeBalance calls with one id from two processes can both miss the lookup: callers
 * serialise per transfer (the ledger's idempotency record) before they call.
 *
 * Invariants:
 * - every refusal is a TradingError with a stable code or a plain Error for configuration faults (8 permissions,
 *   3 invalid params, 3006 weak password, auth refused); retryable is true only for platform_unavailable: a
 *   timeout (default 10 s, the socket is destroyed), a connection error, an HTTP 5xx, an unreadable body, or a
 *   retcode that means "try later" (9, 10, 11, 12, 15, 1018, 10012, 10024, 10031)
 * - retcodes: 13 -> account_not_found (symbol_not_found from symbol/get and tick/last), 3004 / 3013 -> account_exists, 4005 -> invalid_amount, 10014 / 10038 ->
 *   invalid_volume, 10015 / 10016 -> invalid_price, 10017 -> trade_disabled, 10018 -> market_closed, 10019 ->
 *   no_money, 10036 -> position_not_found
 * - deal actions: 0 buy, 1 sell, 2 balance, 3 credit, 4 charge, 5 correction, 6 bonus, 7..11 commission (daily /
 *   monthly commissions and agent fees), 19 / 20 so_compensation, anything else correction; reasons: 5 stop_out,
 *   2 / 6 / 8 / 9 dealer, others client; entries 0 in, 1 out, 2 inout, 3 out_by
 * - passwords go to the server in request bodies only; they are never logged, kept or returned
 * - functions/ never imports local/: this module knows the server only by its URL
 */
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { currency as currencyOf, formatAmount } from '#domain/money/index.ts';
import { TradingError, type TradingErrorCode } from '#domain/trading/errors.ts';
import {
  type AccountState,
  type BalanceOperation,
  type Deal,
  type DealAction,
  type DealEntry,
  type DealReason,
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
import { refuseZeroAmount, replayOf } from './platform-common.ts';

export interface Mt5AdapterOptions {
  /** The Web API endpoint, e.g. https://mt5.example.com:443 (http for the local server). */
  baseUrl: string;
  manager: { login: number; password: string };
  /** The MT5 server's name: deal cursors are per server. */
  server: string;
  /** Every login to read deals of; default: `group=*` (all accounts the manager may see). */
  logins?: () => Promise<number[]>;
  /** Per request; default 10,000 ms. */
  timeoutMs?: number;
  /** Sent as auth/start `agent`; default "back-office". */
  agent?: string;
  /** Sent as auth/start `version` (the client build); default 1985. */
  version?: number;
  /**
   * Web API sessions (each its own authenticated connection) the adapter spreads calls over; default 1. An order's
   * send_request and its get_request_result polls stay on one session. More than one lets concurrent callers in one
   * process (a copy executor's followers in parallel; the local runtime, where every function shares one adapter)
   * avoid waiting on each other's requests.
   */
  sessions?: number;
}

/** The MT5 comment limit: 32 characters including the terminating NUL. */
export const MT5_COMMENT_MAX = 31;
/** The longest externalId that fits with a separator and some text (a ULID is 26). */
export const MT5_EXTERNAL_ID_MAX = 26;
const EXTERNAL_ID = /^[A-Za-z0-9_-]{1,26}$/;
/** How far an MT5 server's local time (its deal times) can be behind UTC, and then some: findTrade's slack. */
const SERVER_TIME_SLACK_MS = 14 * 3_600_000;
/** IMTConSymbol volumes: VolumeMin etc. in 1/10,000 lot (MT5 units); the *Ext fields in 1/100,000,000 lot. */
const EXT_PER_UNIT = 10_000n;

const BALANCE_TYPE: Readonly<Record<BalanceOperation, number>> = { balance: 2, credit: 3, charge: 4, correction: 5, bonus: 6 };
const BALANCE_ACTIONS: Readonly<Record<string, BalanceOperation>> = {
  '2': 'balance',
  '3': 'credit',
  '4': 'charge',
  '5': 'correction',
  '6': 'bonus',
};

const md5 = (...parts: Buffer[]) => createHash('md5').update(Buffer.concat(parts)).digest();

/** hex(md5(md5(md5(utf16le(password)) ‖ "WebAPI") ‖ bytes(randHex))): srv_rand_answer, and the expected cli_rand_answer. */
export function authAnswer(password: string, randHex: string): string {
  const h = md5(md5(Buffer.from(password, 'utf16le')), Buffer.from('WebAPI', 'ascii'));
  return md5(h, Buffer.from(randHex, 'hex')).toString('hex');
}

/** `<text cut to fit>|<externalId>`, at most MT5_COMMENT_MAX characters. */
export function balanceComment(comment: string, externalId: string): string {
  if (!EXTERNAL_ID.test(externalId)) throw new RangeError(`externalId must match ${EXTERNAL_ID} to fit an MT5 comment`);
  const text = comment.replaceAll('|', '/').slice(0, MT5_COMMENT_MAX - 1 - externalId.length);
  return `${text}|${externalId}`;
}

/** The externalId at the end of a comment written by balanceComment, if any. */
export function externalIdOf(comment: string): string | undefined {
  const i = comment.lastIndexOf('|');
  const id = i < 0 ? '' : comment.slice(i + 1);
  return EXTERNAL_ID.test(id) ? id : undefined;
}

const unavailable = (message: string, meta: Record<string, unknown> = {}) =>
  new TradingError('platform_unavailable', message, [], meta);

const RETCODE_ERRORS: Readonly<Record<number, TradingErrorCode>> = {
  9: 'platform_unavailable',
  10: 'platform_unavailable',
  11: 'platform_unavailable',
  12: 'platform_unavailable',
  13: 'account_not_found',
  15: 'platform_unavailable',
  1018: 'platform_unavailable',
  3004: 'account_exists',
  3013: 'account_exists',
  4005: 'invalid_amount',
  10012: 'platform_unavailable',
  10014: 'invalid_volume',
  10015: 'invalid_price',
  10016: 'invalid_price',
  10017: 'trade_disabled',
  10018: 'market_closed',
  10019: 'no_money',
  10024: 'platform_unavailable',
  10031: 'platform_unavailable',
  10036: 'position_not_found',
  10038: 'invalid_volume',
};

/** A retcode refusal: a TradingError when the code is about the request, a plain Error for configuration faults. */
export function retcodeError(retcode: string, what: string): Error {
  const code = Number.parseInt(retcode, 10);
  const mapped = RETCODE_ERRORS[code];
  if (mapped) return new TradingError(mapped, `MT5 ${what}: ${retcode}`, [], { retcode });
  return new Error(`MT5 ${what}: retcode ${retcode}`);
}

const isOk = (retcode: unknown) => {
  const n = typeof retcode === 'string' ? Number.parseInt(retcode, 10) : Number.NaN;
  return n === 0 || n === 1;
};

type Query = Record<string, string | number | undefined>;
// biome-ignore lint/suspicious/noExplicitAny: Web API answers are untyped JSON, read field by field
type Json = any;

class PermissionRefused extends Error {}
class StaleSocket extends Error {
  constructor(readonly error: TradingError) {
    super(error.message);
  }
}

/** Calls that change nothing, safe to send again after a stale-socket reset. */
const READS = new Set([
  '/api/auth/start',
  '/api/test/access',
  '/api/user/get',
  '/api/user/account/get',
  '/api/user/check_password',
  '/api/position/get_batch',
  '/api/deal/get_batch',
  '/api/deal/get_page',
  '/api/dealer/get_request_result',
  '/api/symbol/get',
  '/api/tick/last',
]);

/**
 * One Web API session: one pinned keep-alive connection, authenticated on first use and again once when the
 * server says it is not (retcode 8). Requests run one at a time.
 */
export class Mt5Session {
  private readonly agent: Agent;
  private readonly base: URL;
  private readonly timeoutMs: number;
  private authed = false;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: Mt5AdapterOptions) {
    this.base = new URL(options.baseUrl);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    const agentOptions = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
    this.agent = this.base.protocol === 'https:' ? new HttpsAgent(agentOptions) : new Agent(agentOptions);
  }

  /** Closes the pinned connection (the server ends the session with it). */
  close(): void {
    this.agent.destroy();
    this.authed = false;
  }

  /** A Web API call; answers the whole envelope on success and throws the mapped error otherwise. */
  call(path: string, query: Query = {}, body?: unknown, what = path): Promise<Json> {
    const run = async () => {
      if (!this.authed) await this.authenticate();
      try {
        return await this.once(path, query, body, what);
      } catch (e) {
        if (!(e instanceof PermissionRefused)) throw e;
        this.authed = false;
        await this.authenticate();
        try {
          return await this.once(path, query, body, what);
        } catch (again) {
          if (again instanceof PermissionRefused) throw new Error(`MT5 ${what}: retcode ${again.message} (manager permissions)`);
          throw again;
        }
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async once(path: string, query: Query, body: unknown, what: string): Promise<Json> {
    const res = await this.raw(body === undefined ? 'GET' : 'POST', path, query, body);
    if (isOk(res.retcode)) return res;
    if (Number.parseInt(String(res.retcode), 10) === 8) throw new PermissionRefused(String(res.retcode));
    throw retcodeError(String(res.retcode), what);
  }

  private async authenticate(): Promise<void> {
    const { login, password } = this.options.manager;
    const start = await this.raw('GET', '/api/auth/start', {
      version: this.options.version ?? 1985,
      agent: this.options.agent ?? 'back-office',
      login,
      type: 'manager',
    });
    if (!isOk(start.retcode) || typeof start.srv_rand !== 'string') {
      throw new Error(`MT5 auth/start refused manager ${login}: retcode ${String(start.retcode)}`);
    }
    const cliRand = randomBytes(16).toString('hex');
    const answer = await this.raw('GET', '/api/auth/answer', {
      srv_rand_answer: authAnswer(password, start.srv_rand),
      cli_rand: cliRand,
    });
    if (!isOk(answer.retcode)) throw new Error(`MT5 auth/answer refused manager ${login}: retcode ${String(answer.retcode)}`);
    if (answer.cli_rand_answer !== authAnswer(password, cliRand)) {
      throw new Error('MT5 auth: the server did not prove it knows the manager password (cli_rand_answer mismatch)');
    }
    this.authed = true;
  }

  /**
   * One HTTP exchange. A read that fails because the kept-alive socket it reused had been closed by the server
   * (ECONNRESET before any answer: Node's documented reuse race) is sent once more on a new socket; a write is not,
   * since the server may have applied it: the caller gets platform_unavailable and looks the result up.
   */
  private async raw(method: 'GET' | 'POST', path: string, query: Query, body?: unknown): Promise<Json> {
    try {
      return await this.exchange(method, path, query, body);
    } catch (e) {
      if (!(e instanceof StaleSocket)) throw e;
      if (!READS.has(path)) throw e.error;
      try {
        return await this.exchange(method, path, query, body);
      } catch (again) {
        throw again instanceof StaleSocket ? again.error : again;
      }
    }
  }

  private exchange(method: 'GET' | 'POST', path: string, query: Query, body?: unknown): Promise<Json> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const send = this.base.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            connection: 'keep-alive',
            accept: 'application/json',
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(unavailable(`MT5 ${path}: ${e.message}`)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 500 || status === 429) {
              reject(unavailable(`MT5 ${path}: HTTP ${status}`, { status }));
              return;
            }
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch {
              reject(unavailable(`MT5 ${path}: unreadable answer (HTTP ${status})`, { status }));
            }
          });
        },
      );
      req.setTimeout(this.timeoutMs, () => {
        // the session dies with its socket: the next call authenticates again
        this.authed = false;
        req.destroy(unavailable(`MT5 ${path}: no answer within ${this.timeoutMs} ms`, { timeoutMs: this.timeoutMs }));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        this.authed = false;
        if (e instanceof TradingError) reject(e);
        else if (req.reusedSocket && e.code === 'ECONNRESET') reject(new StaleSocket(unavailable(`MT5 ${path}: ${e.message}`)));
        else reject(unavailable(`MT5 ${path}: ${e.message}`));
      });
      req.end(payload);
    });
  }
}

/** A decimal string with at most `digits` decimals -> an integer count of 10^-digits. */
function parseScaled(text: unknown, digits: number, what: string): bigint {
  const m = typeof text === 'string' ? /^(-?)(\d+)(?:\.(\d+))?$/.exec(text) : null;
  if (!m) throw unavailable(`MT5 answered a malformed ${what}: ${String(text)}`);
  let frac = m[3] ?? '';
  if (frac.length > digits) {
    // MT5 may pad with zeros; anything else is not representable
    if (/[^0]/.test(frac.slice(digits)))
      throw unavailable(`MT5 answered ${what} ${String(text)} with more than ${digits} decimals`);
    frac = frac.slice(0, digits);
  }
  const abs = BigInt(m[2]!) * 10n ** BigInt(digits) + BigInt(frac.padEnd(digits, '0') || '0');
  return m[1] === '-' ? -abs : abs;
}

const money = (text: unknown, code: string, what: string) => parseScaled(text, currencyOf(code).exponent, what);
const int = (text: unknown, what: string): number => {
  const n = typeof text === 'string' || typeof text === 'number' ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw unavailable(`MT5 answered a malformed ${what}: ${String(text)}`);
  return n;
};
const big = (text: unknown, what: string): bigint => BigInt(int(text, what));

const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));

/**
 * A symbol's volume limits in MT5 units from its IMTConSymbol record: the *Ext fields (1/100,000,000 lot) when the
 * server sends them, exactly: the least MT5-unit volume >= VolumeMinExt, the greatest <= VolumeMaxExt, and the least
 * MT5-unit multiple of VolumeStepExt (so every volume it allows is one MT5 allows); else VolumeMin / VolumeMax /
 * VolumeStep as they are.
 */
export function volumeLimits(config: Json): { volumeMin: bigint; volumeMax: bigint; volumeStep: bigint } {
  const ext = (field: string): bigint | undefined =>
    config[`${field}Ext`] === undefined ? undefined : big(config[`${field}Ext`], `${field}Ext`);
  const min = ext('VolumeMin');
  const max = ext('VolumeMax');
  const step = ext('VolumeStep');
  return {
    volumeMin: min === undefined ? big(config.VolumeMin, 'VolumeMin') : (min + EXT_PER_UNIT - 1n) / EXT_PER_UNIT,
    volumeMax: max === undefined ? big(config.VolumeMax, 'VolumeMax') : max / EXT_PER_UNIT,
    volumeStep: step === undefined || step === 0n ? big(config.VolumeStep, 'VolumeStep') : step / gcd(step, EXT_PER_UNIT),
  };
}

function dealAction(code: number): DealAction {
  if (code === 0) return 'buy';
  if (code === 1) return 'sell';
  const balance = BALANCE_ACTIONS[String(code)];
  if (balance) return balance;
  if (code >= 7 && code <= 11) return 'commission';
  if (code === 19 || code === 20) return 'so_compensation';
  return 'correction';
}
const DEAL_ENTRIES: readonly DealEntry[] = ['in', 'out', 'inout', 'out_by'];
function dealReason(code: number): DealReason {
  if (code === 5) return 'stop_out';
  if (code === 2 || code === 6 || code === 8 || code === 9) return 'dealer';
  return 'client';
}

export class Mt5Platform implements TradingPlatform {
  readonly platform = 'mt5' as const;
  readonly server: string;
  private readonly sessions: Mt5Session[];
  private nextSession = 0;
  private readonly currencies = new Map<number, string>();

  constructor(private readonly options: Mt5AdapterOptions) {
    this.server = options.server;
    const n = Math.max(1, Math.min(32, Math.floor(options.sessions ?? 1)));
    this.sessions = Array.from({ length: n }, () => new Mt5Session(options));
  }

  /** The next session, round robin (one call, or one order's send and polls). */
  get session(): Mt5Session {
    const s = this.sessions[this.nextSession]!;
    this.nextSession = (this.nextSession + 1) % this.sessions.length;
    return s;
  }

  close(): void {
    for (const s of this.sessions) s.close();
  }

  // --- accounts ---------------------------------------------------------------------------------------

  async createAccount(input: NewPlatformAccount): Promise<{ login: number }> {
    const res = await this.session.call(
      '/api/user/add',
      { group: input.group, name: input.name, leverage: input.leverage },
      {
        PassMain: input.passwords.main,
        PassInvestor: input.passwords.investor,
        ID: input.clientRef,
        ...(input.email ? { Email: input.email } : {}),
        ...(input.country ? { Country: input.country } : {}),
      },
      'user/add',
    );
    const login = int(res.answer?.Login, 'Login');
    this.currencies.delete(login);
    return { login };
  }

  async setLeverage(login: number, leverage: number): Promise<void> {
    await this.session.call('/api/user/update', { login, leverage }, undefined, 'user/update');
  }

  async setGroup(login: number, group: string): Promise<void> {
    await this.session.call('/api/user/update', { login, group }, undefined, 'user/update');
    this.currencies.delete(login);
  }

  async setAccess(login: number, access: { readOnly: boolean; disabled: boolean }): Promise<void> {
    const res = await this.session.call('/api/user/get', { login }, undefined, 'user/get');
    let rights = int(res.answer?.Rights, 'Rights');
    rights = access.disabled ? rights & ~1 : rights | 1; // USER_RIGHT_ENABLED
    rights = access.readOnly ? rights | 4 : rights & ~4; // USER_RIGHT_TRADE_DISABLED
    await this.session.call('/api/user/update', { login, rights }, undefined, 'user/update');
  }

  async resetPasswords(login: number, passwords: { main?: string; investor?: string }): Promise<void> {
    for (const type of ['main', 'investor'] as const) {
      const password = passwords[type];
      if (password !== undefined)
        await this.session.call('/api/user/change_password', { login, type }, { Password: password }, 'user/change_password');
    }
  }

  // --- balance ----------------------------------------------------------------------------------------

  async changeBalance(change: BalanceChange): Promise<BalanceResult> {
    const comment = balanceComment(change.comment, change.externalId);
    refuseZeroAmount(change.amount);
    const seen = await this.findBalanceDeal(change.login, change.externalId, change.notBefore);
    const replay = replayOf(
      change.externalId,
      seen && {
        ticket: String(seen.deal),
        same: seen.action === change.type && seen.profit === change.amount,
        meta: { deal: seen.deal },
      },
    );
    if (replay) return replay;
    const currency = await this.currencyOf(change.login);
    const res = await this.session.call(
      '/api/trade/balance',
      { login: change.login, type: BALANCE_TYPE[change.type], balance: formatAmount(change.amount, currency), comment },
      undefined,
      'trade/balance',
    );
    return { ticket: String(int(res.answer?.Ticket, 'Ticket')), replayed: false };
  }

  async findBalanceOperation(login: number, externalId: string, notBefore?: number): Promise<BalanceResult | undefined> {
    const deal = await this.findBalanceDeal(login, externalId, notBefore);
    return deal ? { ticket: String(deal.deal), replayed: true } : undefined;
  }

  /**
   * The login's balance deal carrying `externalId`. With `notBefore`, only deals from a day before it are read: MT5
   * deal times are the server's time zone, which may be up to 14 hours off UTC, so a day's margin never misses one.
   */
  private async findBalanceDeal(login: number, externalId: string, notBefore?: number): Promise<Deal | undefined> {
    const from = notBefore === undefined ? 0 : Math.max(0, Math.floor(notBefore / 1000) - 86_400);
    const deals = await this.dealsOf({ login }, from);
    return deals.find((d) => BALANCE_TYPE[d.action as BalanceOperation] !== undefined && d.externalId === externalId);
  }

  // --- state ------------------------------------------------------------------------------------------

  async accountState(login: number): Promise<AccountState> {
    const res = await this.session.call('/api/user/account/get', { login }, undefined, 'user/account/get');
    const a = res.answer ?? {};
    const currency = String(a.Currency);
    this.currencies.set(login, currency);
    const m = (field: string) => money(a[field], currency, field);
    const margin = m('Margin');
    return {
      login,
      currency,
      balance: m('Balance'),
      credit: m('Credit'),
      equity: m('Equity'),
      margin,
      freeMargin: m('MarginFree'),
      marginLevel: margin === 0n ? null : formatLevel(String(a.MarginLevel)),
      profit: m('Profit'),
    };
  }

  async positions(login: number): Promise<Position[]> {
    const res = await this.session.call('/api/position/get_batch', { login }, undefined, 'position/get_batch');
    const rows: Json[] = Array.isArray(res.answer) ? res.answer : [];
    if (rows.length === 0) return [];
    const currency = await this.currencyOf(login);
    // MT5 positions carry no initial volume: it is the volume of the position's opening deal
    const opening = new Map<number, bigint>();
    for (const d of await this.dealsOf({ login })) if (d.entry === 'in' && d.positionId > 0) opening.set(d.positionId, d.volume);
    return rows.map((p) => {
      const digits = int(p.Digits, 'Digits');
      const positionId = int(p.Position, 'Position');
      const volume = big(p.Volume, 'Volume');
      return {
        positionId,
        login: int(p.Login, 'Login'),
        symbol: String(p.Symbol),
        side: String(p.Action) === '0' ? 'buy' : 'sell',
        volume,
        volumeInitial: opening.get(positionId) ?? volume,
        openPrice: parseScaled(p.PriceOpen, digits, 'PriceOpen'),
        openTimeMsc: int(p.TimeCreateMsc, 'TimeCreateMsc'),
        storage: money(p.Storage, currency, 'Storage'),
        priceCurrent: parseScaled(p.PriceCurrent, digits, 'PriceCurrent'),
        profit: money(p.Profit, currency, 'Profit'),
        digits,
      } satisfies Position;
    });
  }

  /**
   * Deals after `cursor`, oldest first. The cursor is `<last deal id>@<its time in seconds>` ('' to start; a bare
   * deal id is read as time 0): each call asks the server only for deals from that second on (deal/get_batch
   * `from` is inclusive, so deals of the same second are read again and dropped by id), instead of the whole
   * history. This relies on MT5 deal tickets growing with time on one server.
   */
  async dealsSince(cursor: string, limit: number): Promise<DealPage> {
    const m = /^(?:(\d+)(?:@(\d+))?)?$/.exec(cursor);
    if (!m) throw new RangeError(`Not an MT5 deal cursor: ${cursor}`);
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError('limit must be a positive integer');
    const after = m[1] === undefined ? 0 : Number(m[1]);
    const fromSecond = m[2] === undefined ? 0 : Number(m[2]);
    const scope = this.options.logins ? { login: (await this.options.logins()).join(',') } : { group: '*' };
    if ('login' in scope && scope.login === '') return { deals: [], cursor };
    const deals = (await this.dealsOf(scope, fromSecond))
      .filter((d) => d.deal > after)
      .sort((a, b) => a.deal - b.deal)
      .slice(0, limit);
    const last = deals.at(-1);
    return { deals, cursor: last ? `${last.deal}@${Math.floor(last.timeMsc / 1000)}` : cursor };
  }

  /** The deals of `scope` from `fromSecond` (inclusive, epoch seconds) until a day from now. */
  private async dealsOf(scope: { login: number | string } | { group: string }, fromSecond = 0): Promise<Deal[]> {
    const to = Math.floor(Date.now() / 1000) + 86_400;
    const res = await this.session.call('/api/deal/get_batch', { ...scope, from: fromSecond, to }, undefined, 'deal/get_batch');
    const rows: Json[] = Array.isArray(res.answer) ? res.answer : [];
    const out: Deal[] = [];
    for (const d of rows) {
      const login = int(d.Login, 'Login');
      const currency = await this.currencyOf(login);
      const digits = int(d.Digits ?? '0', 'Digits');
      const action = dealAction(int(d.Action, 'Action'));
      const comment = String(d.Comment ?? '');
      const externalId = BALANCE_TYPE[action as BalanceOperation] !== undefined ? externalIdOf(comment) : undefined;
      out.push({
        deal: int(d.Deal, 'Deal'),
        login,
        order: int(d.Order, 'Order'),
        action,
        entry: DEAL_ENTRIES[int(d.Entry, 'Entry')] ?? 'in',
        reason: dealReason(int(d.Reason, 'Reason')),
        timeMsc: int(d.TimeMsc ?? String(int(d.Time, 'Time') * 1000), 'TimeMsc'),
        symbol: String(d.Symbol ?? ''),
        price: parseScaled(d.Price ?? '0', digits, 'Price'),
        volume: big(d.Volume ?? '0', 'Volume'),
        profit: money(d.Profit, currency, 'Profit'),
        commission: money(d.Commission ?? '0', currency, 'Commission'),
        storage: money(d.Storage ?? '0', currency, 'Storage'),
        positionId: int(d.PositionID ?? '0', 'PositionID'),
        comment,
        ...(externalId ? { externalId } : {}),
        ...dealNotional(d, digits, currency),
        currency,
        digits,
      });
    }
    return out;
  }

  private async currencyOf(login: number): Promise<string> {
    const known = this.currencies.get(login);
    if (known) return known;
    return (await this.accountState(login)).currency;
  }

  // --- trading ----------------------------------------------------------------------------------------

  async marketOrder(order: MarketOrder): Promise<Fill> {
    return this.execute({
      Action: '200',
      Login: String(order.login),
      Symbol: order.symbol,
      Volume: order.volume.toString(),
      Type: order.side === 'buy' ? '0' : '1',
      TypeFill: '0',
      ...(order.comment ? { Comment: order.comment.slice(0, MT5_COMMENT_MAX) } : {}),
    });
  }

  async closePosition(login: number, positionId: number, volume?: bigint, comment?: string): Promise<Fill> {
    const open = (await this.positions(login)).find((p) => p.positionId === positionId);
    if (!open) throw new TradingError('position_not_found', `No open position ${positionId} on account ${login}`);
    const fill = await this.execute({
      Action: '200',
      Login: String(login),
      Symbol: open.symbol,
      Volume: (volume ?? open.volume).toString(),
      Type: open.side === 'buy' ? '1' : '0',
      TypeFill: '0',
      Position: String(positionId),
      ...(comment ? { Comment: comment.slice(0, MT5_COMMENT_MAX) } : {}),
    });
    return { ...fill, positionId };
  }

  async findTrade(login: number, comment: string, notBefore?: number): Promise<Fill | undefined> {
    const wanted = comment.slice(0, MT5_COMMENT_MAX);
    if (wanted === '') return undefined;
    const from = notBefore === undefined ? 0 : Math.max(0, Math.floor(notBefore / 1000) - 86_400);
    const earliest = notBefore === undefined ? Number.NEGATIVE_INFINITY : notBefore - SERVER_TIME_SLACK_MS;
    const deal = (await this.dealsOf({ login }, from))
      .filter((d) => (d.action === 'buy' || d.action === 'sell') && d.comment === wanted && d.timeMsc >= earliest)
      .sort((a, b) => a.deal - b.deal)[0];
    if (!deal) return undefined;
    return {
      order: deal.order,
      deal: deal.deal,
      positionId: deal.positionId,
      price: deal.price,
      volume: deal.volume,
      timeMsc: deal.timeMsc,
    };
  }

  async instrument(symbol: string): Promise<Instrument> {
    const config = (await this.symbolCall('/api/symbol/get', { symbol }, symbol)).answer;
    if (!config || String(config.Symbol) !== symbol) throw unavailable(`MT5 symbol/get answered no configuration of ${symbol}`);
    const digits = int(config.Digits, 'Digits');
    const res = await this.symbolCall('/api/tick/last', { symbol, trans_id: 0 }, symbol);
    const tick = (Array.isArray(res.answer) ? res.answer : []).find((t: Json) => String(t?.Symbol) === symbol);
    if (!tick) throw unavailable(`MT5 has no quote for ${symbol} yet`, { symbol });
    return {
      symbol,
      digits,
      contractSize: parseScaled(String(config.ContractSize), 0, 'ContractSize'),
      ...volumeLimits(config),
      bid: parseScaled(String(tick.Bid), digits, 'Bid'),
      ask: parseScaled(String(tick.Ask), digits, 'Ask'),
      quoteTimeMsc: int(tick.DatetimeMsc ?? String(int(tick.Datetime, 'Datetime') * 1000), 'DatetimeMsc'),
    };
  }

  /** A symbol read: MT5's "13 Not found" there is about the symbol, not an account. */
  private async symbolCall(path: string, query: Query, symbol: string): Promise<Json> {
    try {
      return await this.session.call(path, query, undefined, path.slice('/api/'.length));
    } catch (e) {
      if (e instanceof TradingError && e.code === 'account_not_found')
        throw new TradingError('symbol_not_found', `MT5 has no symbol ${symbol}`, [], { symbol });
      throw e;
    }
  }

  private async execute(request: Record<string, string>): Promise<Fill> {
    const session = this.session;
    const sent = await session.call('/api/dealer/send_request', {}, request, 'dealer/send_request');
    const id = String(sent.answer?.ID ?? sent.answer?.id ?? '');
    if (!/^\d+$/.test(id)) throw unavailable(`MT5 dealer/send_request answered no request id`);
    for (let attempt = 0; attempt < 50; attempt++) {
      const res = await session.call('/api/dealer/get_request_result', { id }, undefined, 'dealer/get_request_result');
      const entry: Json[] = res[id] ?? res.answer?.[id] ?? [];
      const confirm = entry.find((e) => e?.result)?.result;
      const retcode = Number.parseInt(String(confirm?.Retcode ?? ''), 10);
      if (retcode === 10009 || retcode === 10010) {
        const order = int(confirm.OrderID, 'OrderID');
        const { digits, timeMsc } = await this.dealFacts(Number(request.Login), confirm);
        return {
          order,
          deal: int(confirm.DealID, 'DealID'),
          positionId: request.Position ? Number(request.Position) : order,
          price: parseScaled(String(confirm.Price), digits, 'Price'),
          volume: big(confirm.Volume, 'Volume'),
          ...(timeMsc === undefined ? {} : { timeMsc }),
        };
      }
      if (Number.isFinite(retcode) && ![10001, 10002, 10003, 10008].includes(retcode)) {
        throw retcodeError(`${retcode} ${String(confirm?.Comment ?? '')}`.trim(), 'dealer request');
      }
      await new Promise((r) => setTimeout(r, Math.min(50 * (attempt + 1), 500)));
    }
    throw unavailable(`MT5 dealer request ${id} has no result yet`, { requestId: id });
  }

  /**
   * Digits of the fill's price: from the confirm when present, else from the deal it created, whose time the fill
   * then carries too (IMTConfirm has none).
   */
  private async dealFacts(login: number, confirm: Json): Promise<{ digits: number; timeMsc?: number }> {
    if (confirm?.Digits !== undefined) return { digits: int(confirm.Digits, 'Digits') };
    const deal = int(confirm.DealID, 'DealID');
    const to = Math.floor(Date.now() / 1000) + 86_400;
    const res = await this.session.call('/api/deal/get_batch', { login, from: 0, to }, undefined, 'deal/get_batch');
    const row = (Array.isArray(res.answer) ? res.answer : []).find((d: Json) => String(d.Deal) === String(deal));
    if (!row) throw unavailable(`MT5 deal ${deal} of the fill is not in the account's history yet`);
    const time = row.TimeMsc ?? (row.Time === undefined ? undefined : String(int(row.Time, 'Time') * 1000));
    return { digits: int(row.Digits, 'Digits'), ...(time === undefined ? {} : { timeMsc: int(time, 'TimeMsc') }) };
  }
}

/** MT5's MarginLevel as the port's 2-decimal string ("1234.5" -> "1234.50"). */
function formatLevel(text: string): string {
  const v = parseScaled(text, 2, 'MarginLevel');
  const neg = v < 0n;
  const s = (neg ? -v : v).toString().padStart(3, '0');
  return `${neg ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`;
}

/** The adapter for one MT5 server. */
export const mt5Platform = (options: Mt5AdapterOptions): Mt5Platform => new Mt5Platform(options);

/**
 * A trade deal's value in the deposit currency: Volume / 10,000 x ContractSize x Price x RateProfit (IMTDeal),
 * in minor units rounded down; nothing when the server reports no rate or contract size (turnover then under-counts,
 * which makes the AML round-trip rule stricter, never laxer).
 */
export function dealNotional(d: Json, digits: number, currency: string): { notional?: bigint } {
  const symbol = String(d.Symbol ?? '');
  const rate = String(d.RateProfit ?? '');
  const contract = String(d.ContractSize ?? '');
  if (!symbol || !/^\d+(\.\d+)?$/.test(rate) || !/^\d+$/.test(contract) || contract === '0') return {};
  const [ri, rf = ''] = rate.split('.');
  const rateScale = 10n ** BigInt(rf.length);
  const rateUnits = BigInt(ri! + rf);
  if (rateUnits === 0n) return {};
  const price = parseScaled(d.Price ?? '0', digits, 'Price');
  const volume = big(d.Volume ?? '0', 'Volume');
  const minorScale = 10n ** BigInt(currencyOf(currency).exponent);
  const num = volume * BigInt(contract) * price * rateUnits * minorScale;
  const den = VOLUME_PER_LOT * 10n ** BigInt(digits) * rateScale;
  return { notional: num / den };
}
