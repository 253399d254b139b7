/**
 * A cTrader Open API session: the framed protobuf protocol over TCP (or TLS), with protobufjs. Protocol after
 * Spotware's Open API documentation (help.ctrader.com/open-api: "Sending and receiving Protobuf messages",
 * "Application and account authorization", "Error handling") and its message reference ("Common Messages",
 * "Messages", "Model Messages"), of which ./ctrader-messages.ts declares the part used here. Used by
 * functions/adapters/platforms/ctrader.ts; local twin: test/fakes/ctrader-server.ts.
 *
 * Wire details:
 * - a frame is a 4-byte big-endian length followed by that many bytes of `ProtoMessage{payloadType, payload,
 *   clientMsgId}`; `payload` is the serialised message that `payloadType` names (PAYLOAD_TYPES in
 *   ./ctrader-messages.ts: 2100 ProtoOAApplicationAuthReq, ..., 2142 ProtoOAErrorRes, 50 ProtoErrorRes,
 *   51 ProtoHeartbeatEvent)
 * - every request carries a fresh `clientMsgId`; the server echoes it on the answers to that request (the response,
 *   the ProtoOAExecutionEvents of an order, a ProtoOAOrderErrorEvent or a ProtoOAErrorRes), which is how answers are
 *   matched. Messages with another or no clientMsgId (spot events, heartbeats) go to event waiters or are dropped
 * - a connection is authorised once (ProtoOAApplicationAuthReq with clientId/clientSecret) and then each trading
 *   account once (ProtoOAAccountAuthReq with ctidTraderAccountId and the access token) before the account's requests
 * - a ProtoHeartbeatEvent goes out every `heartbeatMs` (default 10 s, the documented maximum silence); the timer is
 *   unref'd so it never keeps a Lambda or a test process alive
 * - schema: the protobufjs JSON descriptor of ./ctrader-messages.ts (a TypeScript module, so esbuild bundles it with
 *   the handler: no file to copy, no .proto parser at run time (protobufjs/light), no fs read at cold start). A
 *   message type it does not declare is not decoded (an event of that type is dropped)
 *
 * Invariants:
 * - a socket error, an end of the connection, a frame longer than MAX_FRAME or a request without an answer within
 *   `timeoutMs` (default 10 s) fails every pending request with platform_unavailable (retryable) and drops the
 *   connection (the next request connects and authorises again). A request is never sent twice by this module
 * - a ProtoOAErrorRes / ProtoErrorRes / ProtoOAOrderErrorEvent answer, or a ProtoOAExecutionEvent of type
 *   ORDER_REJECTED, rejects with errorFor(errorCode): a TradingError for codes about the request, platform_unavailable
 *   for "try later" codes, a plain Error for authorisation and configuration faults (wrong client credentials, an
 *   invalid or expired access token)
 * - int64 fields are read as decimal strings (never as doubles) and converted by the caller
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import protobuf from 'protobufjs/light.js';
import { TradingError, type TradingErrorCode } from '#domain/trading/errors.ts';
import { OPEN_API_SCHEMA, PAYLOAD_TYPES } from './ctrader-messages.ts';

export interface OpenApiOptions {
  host: string;
  /** 5035 for protobuf on Spotware's proxies (live.ctraderapi.com / demo.ctraderapi.com). */
  port: number;
  /** TLS (the proxies' only mode); plain TCP for a local fake. Default true. */
  tls?: boolean;
  clientId: string;
  clientSecret: string;
  /** The OAuth access token granted to the application for the accounts it trades. */
  accessToken: string;
  /** Per request (and per connect); default 10,000 ms. */
  timeoutMs?: number;
  /** Default 10,000 ms. */
  heartbeatMs?: number;
}

/** Frames larger than this are refused (Spotware's proxies cap frames far below it). */
export const MAX_FRAME = 16 * 1024 * 1024;

// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf messages are plain objects read field by field
export type Msg = Record<string, any>;

let rootCache: protobuf.Root | undefined;
/** The Open API protobuf root, built once per process from ./ctrader-messages.ts. */
export function openApiRoot(): protobuf.Root {
  rootCache ??= protobuf.Root.fromJSON(OPEN_API_SCHEMA);
  return rootCache;
}

let typesCache: { byPayload: Map<number, protobuf.Type>; payloadOf: Map<string, number> } | undefined;
/** payloadType number <-> message type (PAYLOAD_TYPES of ./ctrader-messages.ts). */
export function payloadTypes(): { byPayload: Map<number, protobuf.Type>; payloadOf: Map<string, number> } {
  if (typesCache) return typesCache;
  const root = openApiRoot();
  const byPayload = new Map<number, protobuf.Type>();
  const payloadOf = new Map<string, number>();
  for (const [name, n] of Object.entries(PAYLOAD_TYPES)) {
    byPayload.set(n, root.lookupType(name));
    payloadOf.set(name, n);
  }
  typesCache = { byPayload, payloadOf };
  return typesCache;
}

const unavailable = (message: string, meta: Record<string, unknown> = {}) =>
  new TradingError('platform_unavailable', message, [], meta);

/** Open API error codes (ProtoErrorCode, ProtoOAErrorCode) about the request or the market. */
export const OPEN_API_ERRORS: Readonly<Record<string, TradingErrorCode>> = {
  NOT_ENOUGH_MONEY: 'no_money',
  TRADING_BAD_VOLUME: 'invalid_volume',
  TRADING_BAD_STAKE: 'invalid_volume',
  MAX_EXPOSURE_REACHED: 'invalid_volume',
  TRADING_BAD_PRICES: 'invalid_price',
  TRADING_BAD_STOPS: 'invalid_price',
  PROTECTION_IS_TOO_CLOSE_TO_MARKET: 'invalid_price',
  MARKET_CLOSED: 'market_closed',
  SYMBOL_HAS_HOLIDAY: 'market_closed',
  POSITION_NOT_FOUND: 'position_not_found',
  POSITION_NOT_OPEN: 'position_not_found',
  SYMBOL_NOT_FOUND: 'symbol_not_found',
  UNKNOWN_SYMBOL: 'symbol_not_found',
  TRADING_NOT_ALLOWED: 'trade_disabled',
  TRADING_DISABLED: 'trade_disabled',
  SHORT_SELLING_NOT_ALLOWED: 'trade_disabled',
  CHANNEL_IS_BLOCKED: 'trade_disabled',
  RET_ACCOUNT_DISABLED: 'trade_disabled',
  TOO_MANY_POSITIONS: 'trade_disabled',
  RET_NO_SUCH_LOGIN: 'account_not_found',
  CH_CTID_TRADER_ACCOUNT_NOT_FOUND: 'account_not_found',
  // try later: the platform, not the request
  TIMEOUT_ERROR: 'platform_unavailable',
  CANT_ROUTE_REQUEST: 'platform_unavailable',
  BLOCKED_PAYLOAD_TYPE: 'platform_unavailable',
  REQUEST_FREQUENCY_EXCEEDED: 'platform_unavailable',
  SERVER_IS_UNDER_MAINTENANCE: 'platform_unavailable',
  CH_SERVER_NOT_REACHABLE: 'platform_unavailable',
  CONNECTIONS_LIMIT_EXCEEDED: 'platform_unavailable',
  CONCURRENT_MODIFICATION: 'platform_unavailable',
  PENDING_EXECUTION: 'platform_unavailable',
  POSITION_LOCKED: 'platform_unavailable',
  NO_QUOTES: 'platform_unavailable',
};

/** The error for an Open API errorCode: a TradingError when mapped, else a plain Error (configuration/authorisation). */
export function errorFor(errorCode: string, description: string | undefined, what: string, meta: Msg = {}): Error {
  const mapped = OPEN_API_ERRORS[errorCode];
  const text = `cTrader ${what}: ${errorCode}${description ? ` (${description})` : ''}`;
  if (mapped) return new TradingError(mapped, text, [], { errorCode, ...meta });
  return new Error(text);
}

interface Pending {
  /** Called with each answer carrying this request's clientMsgId: a value ends the request, undefined waits on. */
  accept: (payloadType: number, msg: Msg) => Msg | undefined;
  resolve: (m: Msg) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  what: string;
}

interface Waiter {
  match: (typeName: string, msg: Msg) => boolean;
  resolve: (m: Msg) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, enums: String, defaults: false, bytes: Buffer };

/** One Open API connection, authorised lazily; requests may overlap (answers are matched by clientMsgId). */
export class OpenApiSession {
  private socket: Socket | undefined;
  private connecting: Promise<void> | undefined;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending = new Map<string, Pending>();
  private readonly waiters = new Set<Waiter>();
  private readonly accounts = new Map<string, Promise<void>>();
  private heartbeat: NodeJS.Timeout | undefined;
  private seq = 0;
  readonly timeoutMs: number;

  constructor(private readonly options: OpenApiOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Closes the connection; pending requests fail with platform_unavailable. */
  close(): void {
    this.drop(unavailable('cTrader Open API session closed'));
  }

  /**
   * Sends `typeName` (a ProtoOA*Req) and resolves with what `accept` returns for the first answer it accepts;
   * by default the first answer that is not an error. `account` authorises that ctidTraderAccountId first.
   */
  async request(
    typeName: string,
    body: Msg,
    options: { account?: string; what?: string; accept?: (typeName: string, msg: Msg) => Msg | undefined } = {},
  ): Promise<Msg> {
    await this.ready();
    if (options.account !== undefined) await this.authoriseAccount(options.account);
    return this.send(typeName, body, options.what ?? typeName, options.accept);
  }

  /** Waits for an event (a message without our clientMsgId) that `match` accepts, for at most timeoutMs. */
  waitForEvent(match: (typeName: string, msg: Msg) => boolean, what: string): { promise: Promise<Msg>; cancel: () => void } {
    let waiter: Waiter | undefined;
    const promise = new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (waiter) this.waiters.delete(waiter);
        reject(unavailable(`cTrader Open API: no ${what} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      waiter = { match, resolve, reject, timer };
      this.waiters.add(waiter);
    });
    return {
      promise,
      cancel: () => {
        if (!waiter) return;
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
      },
    };
  }

  private async ready(): Promise<void> {
    if (this.socket && !this.connecting) return;
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    await this.connecting;
  }

  private async open(): Promise<void> {
    const { host, port } = this.options;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const timer = setTimeout(() => {
        s.destroy();
        reject(unavailable(`cTrader Open API ${host}:${port}: no connection within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const onError = (e: Error) => {
        clearTimeout(timer);
        reject(unavailable(`cTrader Open API ${host}:${port}: ${e.message}`, { cause: (e as NodeJS.ErrnoException).code }));
      };
      const s: Socket =
        this.options.tls === false
          ? netConnect({ host, port }, () => {
              clearTimeout(timer);
              s.off('error', onError);
              resolve(s);
            })
          : tlsConnect({ host, port, servername: host }, () => {
              clearTimeout(timer);
              s.off('error', onError);
              resolve(s);
            });
      s.once('error', onError);
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (e) => this.drop(unavailable(`cTrader Open API connection error: ${e.message}`), socket));
    socket.on('close', () => this.drop(unavailable('cTrader Open API connection closed by the server'), socket));
    this.heartbeat = setInterval(() => this.write('ProtoHeartbeatEvent', {}), this.options.heartbeatMs ?? 10_000);
    this.heartbeat.unref();
    try {
      await this.send(
        'ProtoOAApplicationAuthReq',
        { clientId: this.options.clientId, clientSecret: this.options.clientSecret },
        'application auth',
      );
    } catch (e) {
      this.drop(e instanceof Error ? e : new Error(String(e)), socket);
      throw e;
    }
  }

  private authoriseAccount(ctid: string): Promise<void> {
    let auth = this.accounts.get(ctid);
    if (!auth) {
      auth = this.send(
        'ProtoOAAccountAuthReq',
        { ctidTraderAccountId: ctid, accessToken: this.options.accessToken },
        `account auth ${ctid}`,
      ).then(() => undefined);
      auth.catch(() => this.accounts.delete(ctid));
      this.accounts.set(ctid, auth);
    }
    return auth;
  }

  private send(
    typeName: string,
    body: Msg,
    what: string,
    accept?: (typeName: string, msg: Msg) => Msg | undefined,
  ): Promise<Msg> {
    const clientMsgId = `bo-${++this.seq}`;
    const { byPayload } = payloadTypes();
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(clientMsgId);
        reject(unavailable(`cTrader Open API ${what}: no answer within ${this.timeoutMs} ms`, { clientMsgId }));
        // a late answer must not be taken for another request's: start over on a new connection
        this.drop(unavailable(`cTrader Open API ${what}: connection reset after a timeout`));
      }, this.timeoutMs);
      this.pending.set(clientMsgId, {
        what,
        timer,
        resolve,
        reject,
        accept: (payloadType, msg) => {
          const name = byPayload.get(payloadType)?.name ?? String(payloadType);
          if (name === 'ProtoOAErrorRes' || name === 'ProtoErrorRes' || name === 'ProtoOAOrderErrorEvent') {
            throw errorFor(String(msg.errorCode), msg.description, what, {
              ...(msg.retryAfter ? { retryAfter: msg.retryAfter } : {}),
            });
          }
          if (name === 'ProtoOAExecutionEvent' && msg.executionType === 'ORDER_REJECTED') {
            throw errorFor(String(msg.errorCode ?? 'ORDER_REJECTED'), undefined, what);
          }
          return accept ? accept(name, msg) : msg;
        },
      });
      if (!this.write(typeName, body, clientMsgId)) {
        clearTimeout(timer);
        this.pending.delete(clientMsgId);
        reject(unavailable(`cTrader Open API ${what}: not connected`));
      }
    });
  }

  private write(typeName: string, body: Msg, clientMsgId?: string): boolean {
    const socket = this.socket;
    if (!socket || socket.destroyed) return false;
    const root = openApiRoot();
    const { payloadOf } = payloadTypes();
    const type = root.lookupType(typeName);
    const payloadType = payloadOf.get(typeName);
    if (payloadType === undefined) throw new Error(`${typeName} has no payloadType`);
    const problem = type.verify(type.fromObject(body));
    if (problem) throw new Error(`cTrader ${typeName}: ${problem}`);
    const payload = type.encode(type.fromObject(body)).finish();
    const envelope = root.lookupType('ProtoMessage');
    const bytes = envelope
      .encode(envelope.fromObject({ payloadType, payload, ...(clientMsgId ? { clientMsgId } : {}) }))
      .finish();
    const frame = Buffer.alloc(4 + bytes.length);
    frame.writeUInt32BE(bytes.length, 0);
    frame.set(bytes, 4);
    socket.write(frame);
    return true;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 4) {
      const length = this.buffer.readUInt32BE(0);
      if (length > MAX_FRAME) {
        this.drop(unavailable(`cTrader Open API frame of ${length} bytes refused`), socket);
        return;
      }
      if (this.buffer.length < 4 + length) return;
      const bytes = this.buffer.subarray(4, 4 + length);
      this.buffer = this.buffer.subarray(4 + length);
      try {
        this.dispatch(bytes);
      } catch (e) {
        this.drop(unavailable(`cTrader Open API sent an unreadable message: ${(e as Error).message}`), socket);
        return;
      }
    }
  }

  private dispatch(bytes: Uint8Array): void {
    const root = openApiRoot();
    const envelope = root.lookupType('ProtoMessage');
    const message = envelope.toObject(envelope.decode(bytes), TO_OBJECT) as Msg;
    const payloadType = Number(message.payloadType);
    const type = payloadTypes().byPayload.get(payloadType);
    const msg: Msg = type ? (type.toObject(type.decode(message.payload ?? new Uint8Array()), TO_OBJECT) as Msg) : {};
    const pending = message.clientMsgId ? this.pending.get(String(message.clientMsgId)) : undefined;
    if (pending) {
      let done: Msg | undefined;
      try {
        done = pending.accept(payloadType, msg);
      } catch (e) {
        this.settle(String(message.clientMsgId), pending);
        pending.reject(e as Error);
        return;
      }
      if (done !== undefined) {
        this.settle(String(message.clientMsgId), pending);
        pending.resolve(done);
      }
      return;
    }
    if (!type) return;
    if (type.name === 'ProtoOAClientDisconnectEvent') {
      this.drop(unavailable(`cTrader Open API disconnected the application: ${String(msg.reason ?? '')}`));
      return;
    }
    if (type.name === 'ProtoOAAccountsTokenInvalidatedEvent' || type.name === 'ProtoOAAccountDisconnectEvent') {
      const ids: string[] = msg.ctidTraderAccountIds ?? (msg.ctidTraderAccountId ? [msg.ctidTraderAccountId] : []);
      for (const id of ids) this.accounts.delete(String(id));
      return;
    }
    for (const w of this.waiters) {
      if (w.match(type.name, msg)) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(msg);
      }
    }
  }

  private settle(clientMsgId: string, pending: Pending): void {
    clearTimeout(pending.timer);
    this.pending.delete(clientMsgId);
  }

  /** Forgets the connection (if `socket` is given, only when it is still the current one) and fails what waits. */
  private drop(error: Error, socket?: Socket): void {
    if (socket && socket !== this.socket) return;
    const current = this.socket;
    this.socket = undefined;
    this.accounts.clear();
    this.buffer = Buffer.alloc(0);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    current?.destroy();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(error);
    }
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      this.waiters.delete(w);
      w.reject(error);
    }
  }
}
