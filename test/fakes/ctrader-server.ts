/**
 * A protocol-faithful, in-process fake of a cTrader server for contract tests: the WebServices (Manager) REST API
 * over HTTP and the Open API (framed protobuf) over TCP, sharing one state (traders, balances, balance history,
 * positions, deals; market orders fill at a settable quote). Loopback only.
 *
 * Follows Spotware's documents:
 * - "WebServices API: General Provisions" (docs.spotware.com/WebServices_API/General_Provisions) and "Authentication"
 *   (docs.spotware.com/full-integration/api-reference/authentication): POST /v2/webserv/managers/token {login,
 *   hashedPassword (md5)} -> {webservToken}; every other call carries ?token=
 * - "Operations with Accounts" (docs.spotware.com/WebServices_API/Operations_With_Accounts) and "Use Cases"
 *   (docs.spotware.com/WebServices_API/Use_Cases): POST /v2/webserv/traders with its required fields (accessRights,
 *   accountType, balance, brokerName, depositCurrency, groupName, hashedPassword, leverageInCents,
 *   totalMarginCalculationType) -> the trader JSON (login, balance, bonus, nonWithdrawableBonus, equity, usedMargin,
 *   freeMargin, moneyDigits, ...)
 * - "Balances" (docs.spotware.com/full-integration/api-reference/balances, help.ctrader.com/broker-oauth-inapp/
 *   change-trader-balance): POST /v2/webserv/traders/{login}/changebalance {login, preciseAmount (positive decimal),
 *   type DEPOSIT | WITHDRAW | DEPOSIT_NONWITHDRAWABLE_BONUS | WITHDRAW_NONWITHDRAWABLE_BONUS, comment, externalNote,
 *   externalId, source} -> {balanceHistoryId}
 * - the Open API, after Spotware's documentation on help.ctrader.com/open-api: "Sending and receiving Protobuf
 *   messages" (framing: 4-byte big-endian length + ProtoMessage), "Application and account authorization" (application
 *   then account authorisation), "Error handling" (errors as ProtoOAErrorRes / ProtoOAOrderErrorEvent) and the message
 *   reference "Common Messages", "Messages" and "Model Messages" (names, types, required fields, payload types, enum
 *   values; field numbers as in Spotware's published message definitions those pages link to). The fake has its own protobuf codec and tables (OPEN_API_WIRE below, hand-rolled
 *   wire encoding on protobufjs' Writer/Reader), written separately from the adapter's schema
 *   (functions/adapters/platforms/ctrader-messages.ts) and never importing it, so a wrong field number on either side
 *   fails the contract tests; test/integration/ctrader-adapter.test.ts also compares the two tables field by field
 *
 * Where those documents are silent the fake does what functions/adapters/platforms/ctrader.ts assumes (listed in its
 * docblock): GET/PATCH /v2/webserv/traders/{login}, POST .../changepassword {hashedPassword}, GET .../balancehistory
 * ?from=&to= -> {balanceHistory: [...]}, errors as {errorCode, description} (404 TRADER_NOT_FOUND, 400
 * NOT_ENOUGH_MONEY / INVALID_REQUEST, 401 for a bad token), no deduplication by externalId, DealListReq oldest first.
 *
 * Orders and prices: a ProtoOANewOrderReq's comment is kept on its order (ProtoOAOrder.tradeData.comment, as the
 * order reaches the execution events and ProtoOAOrderListReq, whose from / to filter the orders' utcLastUpdateTimestamp);
 * ProtoOAClosePositionReq has no comment field, so a closing order carries none. A ProtoOASubscribeSpotsReq with
 * subscribeToSpotTimestamp gets its first ProtoOASpotEvent with `timestamp` (when the quote was set, ms).
 *
 * Model (small on purpose): hedged accounts; symbols quoted in the deposit currency only (an order on another is
 * refused with TRADING_DISABLED); margin = units x open price / leverage; no commission or swap; fills at the quote
 * (buy at ask, sell at bid). Faults for tests: failNextHttp(status), hangUpOn(payloadTypeName), setMarketOpen.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import protobuf from 'protobufjs/minimal.js';

export interface FakeSymbol {
  symbolId: number;
  name: string;
  digits: number;
  /** 0.01 units per lot. */
  lotSize: bigint;
  minVolume: bigint;
  stepVolume: bigint;
  maxVolume: bigint;
  quote: string;
}

export const FAKE_SYMBOLS: readonly FakeSymbol[] = [
  {
    symbolId: 1,
    name: 'EURUSD',
    digits: 5,
    lotSize: 10_000_000n,
    minVolume: 100_000n,
    stepVolume: 100_000n,
    maxVolume: 10_000_000_000n,
    quote: 'USD',
  },
  {
    symbolId: 41,
    name: 'XAUUSD',
    digits: 2,
    lotSize: 10_000n,
    minVolume: 100n,
    stepVolume: 100n,
    maxVolume: 10_000_000n,
    quote: 'USD',
  },
];

const ASSETS: Record<string, number> = { USD: 1, EUR: 2, GBP: 3 };

export interface FakeTrader {
  login: number;
  ctid: number;
  groupName: string;
  depositCurrency: string;
  accessRights: 'FULL_ACCESS' | 'CLOSE_ONLY' | 'NO_TRADING' | 'NO_LOGIN';
  accountType: string;
  brokerName: string;
  totalMarginCalculationType: string;
  hashedPassword: string;
  leverageInCents: number;
  moneyDigits: number;
  balance: bigint;
  nonWithdrawableBonus: bigint;
  name?: string;
  description?: string;
  contactDetails: Record<string, unknown>;
  registrationTimestamp: number;
  lastUpdateTimestamp: number;
}

export interface FakeBalanceEntry {
  balanceHistoryId: number;
  login: number;
  type: string;
  delta: bigint;
  balance: bigint;
  moneyDigits: number;
  changeBalanceTimestamp: number;
  comment?: string;
  externalNote?: string;
  externalId?: string;
  source?: string;
}

export interface FakePosition {
  positionId: number;
  login: number;
  symbolId: number;
  side: 'BUY' | 'SELL';
  volume: bigint;
  /** Points. */
  price: bigint;
  openTimestamp: number;
  open: boolean;
}

export interface FakeDeal {
  dealId: number;
  orderId: number;
  positionId: number;
  login: number;
  symbolId: number;
  side: 'BUY' | 'SELL';
  volume: bigint;
  price: bigint;
  timestamp: number;
  close?: { entryPrice: bigint; grossProfit: bigint; balance: bigint; closedVolume: bigint };
}

export interface CTraderFakeOptions {
  manager?: { login: number; password: string };
  clientId?: string;
  clientSecret?: string;
  accessToken?: string;
  moneyDigits?: number;
}

export interface CTraderFake {
  webServicesUrl: string;
  openApi: { host: string; port: number };
  /** A valid webservToken (also obtainable through POST /v2/webserv/managers/token). */
  token: string;
  clientId: string;
  clientSecret: string;
  accessToken: string;
  readonly traders: Map<number, FakeTrader>;
  readonly balanceHistory: FakeBalanceEntry[];
  readonly positions: Map<number, FakePosition>;
  readonly deals: FakeDeal[];
  /** Sets a symbol's quote from decimal strings ("1.08500"). */
  setQuote(symbol: string, bid: string, ask: string): void;
  setMarketOpen(symbol: string, open: boolean): void;
  /** The next WebServices request is answered with this status and no effect. */
  failNextHttp(status: number): void;
  /** The next Open API message of this type makes the fake close the connection without answering. */
  hangUpOn(typeName: string): void;
  /** Counts of Open API requests received, by message type name. */
  readonly received: Map<string, number>;
  stop(): Promise<void>;
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const pow10 = (n: number) => 10n ** BigInt(n);

function parseDecimal(text: string, digits: number): bigint {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`bad decimal ${text}`);
  const frac = (m[2] ?? '').padEnd(digits, '0');
  if (frac.length > digits) throw new Error(`too many decimals in ${text}`);
  return BigInt(m[1]!) * pow10(digits) + BigInt(frac || '0');
}

const toPrice = (points: bigint, digits: number) => Number(points) / 10 ** digits;
const divRound = (num: bigint, den: bigint) => (num >= 0n ? (num + den / 2n) / den : -((-num + den / 2n) / den));

// biome-ignore lint/suspicious/noExplicitAny: protobuf messages as plain objects
type Msg = Record<string, any>;

class ProtoError extends Error {
  constructor(
    readonly errorCode: string,
    readonly order = false,
  ) {
    super(errorCode);
  }
}

// --- Open API wire codec ------------------------------------------------------------------------------------
//
// The fake's own tables, one line per message: `name:number:type` per field, `!` = required, `*` = repeated (unpacked
// on the wire, packed accepted). Types are the protobuf scalar names, an enum of OPEN_API_ENUMS or a message of this
// table. Only what the fake reads or writes is listed; other fields are skipped when decoding. Field 1 of payload
// messages (an optional copy of the payloadType) is neither sent nor read: the envelope carries the payloadType.

const WIRE_TEXT: Readonly<Record<string, string>> = {
  // Common Messages
  ProtoMessage: 'payloadType:1:uint32! payload:2:bytes clientMsgId:3:string',
  ProtoErrorRes: 'errorCode:2:string! description:3:string',
  ProtoHeartbeatEvent: '',
  // Messages: requests the fake answers, answers and events it sends
  ProtoOAApplicationAuthReq: 'clientId:2:string! clientSecret:3:string!',
  ProtoOAApplicationAuthRes: '',
  ProtoOAAccountAuthReq: 'ctidTraderAccountId:2:int64! accessToken:3:string!',
  ProtoOAAccountAuthRes: 'ctidTraderAccountId:2:int64!',
  ProtoOAErrorRes: 'ctidTraderAccountId:2:int64 errorCode:3:string! description:4:string',
  ProtoOAGetAccountListByAccessTokenReq: 'accessToken:2:string!',
  ProtoOAGetAccountListByAccessTokenRes:
    'accessToken:2:string! permissionScope:3:ProtoOAClientPermissionScope ctidTraderAccount:4:ProtoOACtidTraderAccount*',
  ProtoOASymbolsListReq: 'ctidTraderAccountId:2:int64!',
  ProtoOASymbolsListRes: 'ctidTraderAccountId:2:int64! symbol:3:ProtoOALightSymbol*',
  ProtoOASymbolByIdReq: 'ctidTraderAccountId:2:int64! symbolId:3:int64*',
  ProtoOASymbolByIdRes: 'ctidTraderAccountId:2:int64! symbol:3:ProtoOASymbol*',
  ProtoOANewOrderReq:
    'ctidTraderAccountId:2:int64! symbolId:3:int64! orderType:4:ProtoOAOrderType! tradeSide:5:ProtoOATradeSide! ' +
    'volume:6:int64! comment:13:string',
  ProtoOAClosePositionReq: 'ctidTraderAccountId:2:int64! positionId:3:int64! volume:4:int64!',
  ProtoOAExecutionEvent:
    'ctidTraderAccountId:2:int64! executionType:3:ProtoOAExecutionType! position:4:ProtoOAPosition ' +
    'order:5:ProtoOAOrder deal:6:ProtoOADeal errorCode:9:string',
  ProtoOAOrderErrorEvent: 'errorCode:2:string! ctidTraderAccountId:5:int64! description:7:string',
  ProtoOAReconcileReq: 'ctidTraderAccountId:2:int64!',
  ProtoOAReconcileRes: 'ctidTraderAccountId:2:int64! position:3:ProtoOAPosition* order:4:ProtoOAOrder*',
  ProtoOAGetPositionUnrealizedPnLReq: 'ctidTraderAccountId:2:int64!',
  ProtoOAGetPositionUnrealizedPnLRes:
    'ctidTraderAccountId:2:int64! positionUnrealizedPnL:3:ProtoOAPositionUnrealizedPnL* moneyDigits:4:uint32!',
  ProtoOASubscribeSpotsReq: 'ctidTraderAccountId:2:int64! symbolId:3:int64* subscribeToSpotTimestamp:4:bool',
  ProtoOASubscribeSpotsRes: 'ctidTraderAccountId:2:int64!',
  ProtoOAUnsubscribeSpotsReq: 'ctidTraderAccountId:2:int64! symbolId:3:int64*',
  ProtoOAUnsubscribeSpotsRes: 'ctidTraderAccountId:2:int64!',
  ProtoOASpotEvent: 'ctidTraderAccountId:2:int64! symbolId:3:int64! bid:4:uint64 ask:5:uint64 timestamp:8:int64',
  ProtoOADealListReq: 'ctidTraderAccountId:2:int64! fromTimestamp:3:int64 toTimestamp:4:int64 maxRows:5:int32',
  ProtoOADealListRes: 'ctidTraderAccountId:2:int64! deal:3:ProtoOADeal* hasMore:4:bool!',
  ProtoOAOrderListReq: 'ctidTraderAccountId:2:int64! fromTimestamp:3:int64 toTimestamp:4:int64',
  ProtoOAOrderListRes: 'ctidTraderAccountId:2:int64! order:3:ProtoOAOrder* hasMore:4:bool!',
  ProtoOADealListByPositionIdReq: 'ctidTraderAccountId:2:int64! positionId:3:int64! fromTimestamp:4:int64 toTimestamp:5:int64',
  ProtoOADealListByPositionIdRes: 'ctidTraderAccountId:2:int64! deal:3:ProtoOADeal* hasMore:4:bool!',
  // Model Messages
  ProtoOACtidTraderAccount: 'ctidTraderAccountId:1:uint64! isLive:2:bool traderLogin:3:int64',
  ProtoOALightSymbol: 'symbolId:1:int64! symbolName:2:string enabled:3:bool',
  ProtoOASymbol:
    'symbolId:1:int64! digits:2:int32! pipPosition:3:int32! maxVolume:9:int64 minVolume:10:int64 ' +
    'stepVolume:11:int64 lotSize:30:int64',
  ProtoOATradeData:
    'symbolId:1:int64! volume:2:int64! tradeSide:3:ProtoOATradeSide! openTimestamp:4:int64 label:5:string comment:7:string',
  ProtoOAOrder:
    'orderId:1:int64! tradeData:2:ProtoOATradeData! orderType:3:ProtoOAOrderType! orderStatus:4:ProtoOAOrderStatus! ' +
    'executionPrice:7:double executedVolume:8:int64 utcLastUpdateTimestamp:9:int64 closingOrder:12:bool positionId:19:int64',
  ProtoOAPosition:
    'positionId:1:int64! tradeData:2:ProtoOATradeData! positionStatus:3:ProtoOAPositionStatus! swap:4:int64! ' +
    'price:5:double commission:9:int64 usedMargin:13:uint64 moneyDigits:15:uint32',
  ProtoOADeal:
    'dealId:1:int64! orderId:2:int64! positionId:3:int64! volume:4:int64! filledVolume:5:int64! symbolId:6:int64! ' +
    'createTimestamp:7:int64! executionTimestamp:8:int64! executionPrice:10:double tradeSide:11:ProtoOATradeSide! ' +
    'dealStatus:12:ProtoOADealStatus! commission:14:int64 closePositionDetail:16:ProtoOAClosePositionDetail ' +
    'moneyDigits:17:uint32',
  ProtoOAClosePositionDetail:
    'entryPrice:1:double! grossProfit:2:int64! swap:3:int64! commission:4:int64! balance:5:int64! ' +
    'closedVolume:7:int64 moneyDigits:9:uint32',
  ProtoOAPositionUnrealizedPnL: 'positionId:1:int64! grossUnrealizedPnL:2:int64! netUnrealizedPnL:3:int64!',
};

/** The enum values the fake sends or reads (Model Messages). */
export const OPEN_API_ENUMS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  ProtoOAClientPermissionScope: { SCOPE_VIEW: 0, SCOPE_TRADE: 1 },
  ProtoOATradeSide: { BUY: 1, SELL: 2 },
  ProtoOAOrderType: { MARKET: 1, LIMIT: 2, STOP: 3 },
  ProtoOAOrderStatus: { ORDER_STATUS_ACCEPTED: 1, ORDER_STATUS_FILLED: 2, ORDER_STATUS_REJECTED: 3 },
  ProtoOAPositionStatus: { POSITION_STATUS_OPEN: 1, POSITION_STATUS_CLOSED: 2 },
  ProtoOADealStatus: { FILLED: 2, PARTIALLY_FILLED: 3, REJECTED: 4 },
  ProtoOAExecutionType: { ORDER_ACCEPTED: 2, ORDER_FILLED: 3, ORDER_REJECTED: 7 },
};

/** payloadType numbers (ProtoPayloadType / ProtoOAPayloadType) of the messages above. */
export const OPEN_API_PAYLOADS: Readonly<Record<string, number>> = {
  ProtoErrorRes: 50,
  ProtoHeartbeatEvent: 51,
  ProtoOAApplicationAuthReq: 2100,
  ProtoOAApplicationAuthRes: 2101,
  ProtoOAAccountAuthReq: 2102,
  ProtoOAAccountAuthRes: 2103,
  ProtoOANewOrderReq: 2106,
  ProtoOAClosePositionReq: 2111,
  ProtoOASymbolsListReq: 2114,
  ProtoOASymbolsListRes: 2115,
  ProtoOASymbolByIdReq: 2116,
  ProtoOASymbolByIdRes: 2117,
  ProtoOAReconcileReq: 2124,
  ProtoOAReconcileRes: 2125,
  ProtoOAExecutionEvent: 2126,
  ProtoOASubscribeSpotsReq: 2127,
  ProtoOASubscribeSpotsRes: 2128,
  ProtoOAUnsubscribeSpotsReq: 2129,
  ProtoOAUnsubscribeSpotsRes: 2130,
  ProtoOASpotEvent: 2131,
  ProtoOAOrderErrorEvent: 2132,
  ProtoOADealListReq: 2133,
  ProtoOADealListRes: 2134,
  ProtoOAOrderListReq: 2175,
  ProtoOAOrderListRes: 2176,
  ProtoOAErrorRes: 2142,
  ProtoOAGetAccountListByAccessTokenReq: 2149,
  ProtoOAGetAccountListByAccessTokenRes: 2150,
  ProtoOADealListByPositionIdReq: 2179,
  ProtoOADealListByPositionIdRes: 2180,
  ProtoOAGetPositionUnrealizedPnLReq: 2187,
  ProtoOAGetPositionUnrealizedPnLRes: 2188,
};

export interface WireField {
  name: string;
  id: number;
  type: string;
  required: boolean;
  repeated: boolean;
}

/** WIRE_TEXT parsed: message name -> its fields. */
export const OPEN_API_WIRE: Readonly<Record<string, readonly WireField[]>> = Object.fromEntries(
  Object.entries(WIRE_TEXT).map(([message, text]) => [
    message,
    text
      .split(' ')
      .filter(Boolean)
      .map((spec) => {
        const m = /^(\w+):(\d+):(\w+)([!*]?)$/.exec(spec);
        if (!m) throw new Error(`bad field spec ${message} ${spec}`);
        return { name: m[1]!, id: Number(m[2]), type: m[3]!, required: m[4] === '!', repeated: m[4] === '*' };
      }),
  ]),
);

const VARINT = new Set(['int32', 'uint32', 'int64', 'uint64', 'bool']);
const wireTypeOf = (type: string): number => (VARINT.has(type) || OPEN_API_ENUMS[type] ? 0 : type === 'double' ? 1 : 2);

class WireError extends Error {}

function writeFields(w: protobuf.Writer, message: string, body: Msg): void {
  const fields = OPEN_API_WIRE[message];
  if (!fields) throw new WireError(`the fake has no table for ${message}`);
  for (const key of Object.keys(body)) {
    if (!fields.some((f) => f.name === key)) throw new WireError(`${message} has no field ${key} in the fake's table`);
  }
  for (const f of fields) {
    const value = body[f.name];
    if (value === undefined || value === null) {
      if (f.required) throw new WireError(`${message}.${f.name} is required`);
      continue;
    }
    for (const v of f.repeated ? (value as unknown[]) : [value]) {
      w.uint32(((f.id << 3) | wireTypeOf(f.type)) >>> 0);
      const values = OPEN_API_ENUMS[f.type];
      if (values) {
        const n = values[String(v)];
        if (n === undefined) throw new WireError(`${message}.${f.name}: ${String(v)} is not a ${f.type}`);
        w.int32(n);
        continue;
      }
      switch (f.type) {
        case 'int32':
          w.int32(Number(v));
          break;
        case 'uint32':
          w.uint32(Number(v));
          break;
        case 'int64':
          w.int64(String(v));
          break;
        case 'uint64':
          w.uint64(String(v));
          break;
        case 'bool':
          w.bool(Boolean(v));
          break;
        case 'double':
          w.double(Number(v));
          break;
        case 'string':
          w.string(String(v));
          break;
        case 'bytes':
          w.bytes(v as Uint8Array);
          break;
        default:
          w.fork();
          writeFields(w, f.type, v as Msg);
          w.ldelim();
      }
    }
  }
}

/** Serialises `body` as `message` with the fake's tables (enums by name, int64 as string or number). */
export function encodeWire(message: string, body: Msg): Uint8Array {
  const w = protobuf.Writer.create();
  writeFields(w, message, body);
  return w.finish();
}

function readValue(r: protobuf.Reader, f: WireField): unknown {
  const values = OPEN_API_ENUMS[f.type];
  if (values) {
    const n = r.int32();
    return Object.keys(values).find((k) => values[k] === n) ?? n;
  }
  switch (f.type) {
    case 'int32':
      return r.int32();
    case 'uint32':
      return r.uint32();
    case 'int64':
      return String(r.int64());
    case 'uint64':
      return String(r.uint64());
    case 'bool':
      return r.bool();
    case 'double':
      return r.double();
    case 'string':
      return r.string();
    case 'bytes':
      return r.bytes();
    default: {
      const end = r.uint32() + r.pos;
      return readFields(r, f.type, end);
    }
  }
}

function readFields(r: protobuf.Reader, message: string, end: number): Msg {
  const fields = OPEN_API_WIRE[message];
  if (!fields) throw new WireError(`the fake has no table for ${message}`);
  const out: Msg = {};
  while (r.pos < end) {
    const tag = r.uint32();
    const id = tag >>> 3;
    const wireType = tag & 7;
    const f = fields.find((x) => x.id === id);
    if (!f) {
      r.skipType(wireType);
      continue;
    }
    const expected = wireTypeOf(f.type);
    if (f.repeated && wireType === 2 && expected !== 2) {
      // a packed list of scalars
      const stop = r.uint32() + r.pos;
      out[f.name] ??= [];
      while (r.pos < stop) out[f.name].push(readValue(r, f));
      continue;
    }
    if (wireType !== expected) throw new WireError(`${message}.${f.name} (field ${id}) came with wire type ${wireType}`);
    const v = readValue(r, f);
    if (f.repeated) {
      out[f.name] ??= [];
      out[f.name].push(v);
    } else out[f.name] = v;
  }
  if (r.pos !== end) throw new WireError(`${message} overruns its length`);
  for (const f of fields) {
    if (f.required && out[f.name] === undefined) throw new WireError(`${message}.${f.name} is missing`);
  }
  return out;
}

/** Parses `bytes` as `message` with the fake's tables (enums as names, int64 as decimal strings). */
export function decodeWire(message: string, bytes: Uint8Array): Msg {
  return readFields(protobuf.Reader.create(bytes), message, bytes.length);
}

const messageOfPayload = new Map(Object.entries(OPEN_API_PAYLOADS).map(([name, n]) => [n, name]));

export async function startCTraderFake(options: CTraderFakeOptions = {}): Promise<CTraderFake> {
  const manager = options.manager ?? { login: 30017, password: 'Manager-Pass-1' };
  const clientId = options.clientId ?? 'client-1';
  const clientSecret = options.clientSecret ?? 'secret-1';
  const accessToken = options.accessToken ?? `access-${randomUUID()}`;
  const moneyDigits = options.moneyDigits ?? 2;
  let token: string = randomUUID();

  const traders = new Map<number, FakeTrader>();
  const balanceHistory: FakeBalanceEntry[] = [];
  const positions = new Map<number, FakePosition>();
  const deals: FakeDeal[] = [];
  const quotes = new Map<number, { bid: bigint; ask: bigint; time: number }>();
  /** Every order the fake filled (ProtoOAOrder as ProtoOAOrderListReq answers it), with its account. */
  const orders: { login: number; order: Msg }[] = [];
  const closed = new Set<number>();
  const received = new Map<string, number>();
  for (const s of FAKE_SYMBOLS) {
    quotes.set(
      s.symbolId,
      s.digits === 5 ? { bid: 108_500n, ask: 108_510n, time: Date.now() } : { bid: 234_500n, ask: 234_550n, time: Date.now() },
    );
  }
  let nextLogin = 5_000_001;
  let nextOrder = 700_001;
  let nextDeal = 900_001;
  let nextHistory = 60_001;
  let failHttp: number | undefined;
  const hangUps = new Set<string>();
  let clock = Date.now();
  /** Milliseconds that never go backwards (records may share one). */
  const now = () => {
    clock = Math.max(clock, Date.now());
    return clock;
  };

  const symbol = (id: number) => FAKE_SYMBOLS.find((s) => s.symbolId === id);

  // --- accounting ---------------------------------------------------------------------------------------

  /** Money units (x 10^moneyDigits) of `points` of price difference on `volume` 0.01 units. */
  const pnl = (sym: FakeSymbol, diffPoints: bigint, volume: bigint, md: number) =>
    divRound(diffPoints * volume * pow10(md), pow10(sym.digits) * 100n);
  const floating = (p: FakePosition, md: number) => {
    const sym = symbol(p.symbolId)!;
    const q = quotes.get(p.symbolId)!;
    return p.side === 'BUY' ? pnl(sym, q.bid - p.price, p.volume, md) : pnl(sym, p.price - q.ask, p.volume, md);
  };
  const margin = (p: FakePosition, t: FakeTrader) => {
    const sym = symbol(p.symbolId)!;
    return divRound(p.volume * p.price * pow10(t.moneyDigits), pow10(sym.digits) * BigInt(t.leverageInCents));
  };
  const openOf = (login: number) => [...positions.values()].filter((p) => p.login === login && p.open);
  const figures = (t: FakeTrader) => {
    const open = openOf(t.login);
    const profit = open.reduce((s, p) => s + floating(p, t.moneyDigits), 0n);
    const used = open.reduce((s, p) => s + margin(p, t), 0n);
    const equity = t.balance + t.nonWithdrawableBonus + profit;
    return { equity, usedMargin: used, freeMargin: equity - used };
  };
  const traderJson = (t: FakeTrader) => {
    const f = figures(t);
    return {
      login: t.login,
      groupName: t.groupName,
      depositCurrency: t.depositCurrency,
      accessRights: t.accessRights,
      brokerName: t.brokerName,
      balance: Number(t.balance),
      bonus: 0,
      nonWithdrawableBonus: Number(t.nonWithdrawableBonus),
      leverageInCents: t.leverageInCents,
      contactDetails: t.contactDetails,
      ...(t.name ? { name: t.name } : {}),
      ...(t.description ? { description: t.description } : {}),
      registrationTimestamp: t.registrationTimestamp,
      lastUpdateTimestamp: t.lastUpdateTimestamp,
      equity: Number(f.equity),
      usedMargin: Number(f.usedMargin),
      freeMargin: Number(f.freeMargin),
      accountType: t.accountType,
      limitedRisk: false,
      sendOwnStatement: false,
      swapFree: false,
      totalMarginCalculationType: t.totalMarginCalculationType,
      isLimitedRisk: false,
      moneyDigits: t.moneyDigits,
    };
  };

  // --- WebServices ------------------------------------------------------------------------------------

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const fail = (res: ServerResponse, status: number, errorCode: string, description: string) =>
    send(res, status, { errorCode, description });
  const readBody = async (req: IncomingMessage): Promise<string> => {
    let text = '';
    for await (const c of req) text += c;
    return text;
  };

  const http: Server = createHttpServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://fake');
      const text = await readBody(req);
      if (failHttp !== undefined) {
        const status = failHttp;
        failHttp = undefined;
        return fail(res, status, 'INTERNAL_ERROR', 'injected failure');
      }
      const body = text === '' ? {} : JSON.parse(text);
      const path = url.pathname;
      if (req.method === 'POST' && path === '/v2/webserv/managers/token') {
        if (body.login !== manager.login || body.hashedPassword !== md5(manager.password)) {
          return fail(res, 401, 'INVALID_CREDENTIALS', 'Wrong manager login or password');
        }
        return send(res, 200, { webservToken: token });
      }
      if (!path.startsWith('/v2/webserv/')) return fail(res, 404, 'NOT_FOUND', 'No such endpoint');
      if (url.searchParams.get('token') !== token) return fail(res, 401, 'INVALID_TOKEN', 'Missing or invalid token');

      if (req.method === 'POST' && path === '/v2/webserv/traders') {
        const required = [
          'accessRights',
          'accountType',
          'balance',
          'brokerName',
          'depositCurrency',
          'groupName',
          'hashedPassword',
          'leverageInCents',
          'totalMarginCalculationType',
        ];
        const missing = required.filter((k) => body[k] === undefined);
        if (missing.length > 0) return fail(res, 400, 'INVALID_REQUEST', `Missing ${missing.join(', ')}`);
        if (!/^[0-9a-f]{32}$/.test(String(body.hashedPassword)))
          return fail(res, 400, 'INVALID_REQUEST', 'hashedPassword is not md5');
        if (ASSETS[String(body.depositCurrency)] === undefined)
          return fail(res, 400, 'INVALID_REQUEST', 'Unknown depositCurrency');
        const login = nextLogin++;
        const t: FakeTrader = {
          login,
          ctid: 40_000_000 + login,
          groupName: String(body.groupName),
          depositCurrency: String(body.depositCurrency),
          accessRights: body.accessRights,
          accountType: String(body.accountType),
          brokerName: String(body.brokerName),
          totalMarginCalculationType: String(body.totalMarginCalculationType),
          hashedPassword: String(body.hashedPassword),
          leverageInCents: Number(body.leverageInCents),
          moneyDigits,
          balance: BigInt(body.balance),
          nonWithdrawableBonus: 0n,
          ...(body.name ? { name: String(body.name) } : {}),
          ...(body.description ? { description: String(body.description) } : {}),
          contactDetails: body.contactDetails ?? {},
          registrationTimestamp: now(),
          lastUpdateTimestamp: now(),
        };
        traders.set(login, t);
        return send(res, 200, traderJson(t));
      }

      const m = /^\/v2\/webserv\/traders\/(\d+)(\/[a-z]+)?$/.exec(path);
      if (!m) return fail(res, 404, 'NOT_FOUND', 'No such endpoint');
      const t = traders.get(Number(m[1]));
      if (!t) return fail(res, 404, 'TRADER_NOT_FOUND', `Trader ${m[1]} not found`);
      const action = m[2] ?? '';

      if (req.method === 'GET' && action === '') return send(res, 200, traderJson(t));
      if (req.method === 'PATCH' && action === '') {
        if (body.leverageInCents !== undefined) {
          if (!Number.isInteger(body.leverageInCents) || body.leverageInCents <= 0) {
            return fail(res, 400, 'INVALID_REQUEST', 'Bad leverageInCents');
          }
          t.leverageInCents = body.leverageInCents;
        }
        if (body.groupName !== undefined) t.groupName = String(body.groupName);
        if (body.accessRights !== undefined) {
          if (!['FULL_ACCESS', 'CLOSE_ONLY', 'NO_TRADING', 'NO_LOGIN'].includes(body.accessRights)) {
            return fail(res, 400, 'INVALID_REQUEST', 'Bad accessRights');
          }
          t.accessRights = body.accessRights;
        }
        t.lastUpdateTimestamp = now();
        return send(res, 204);
      }
      if (req.method === 'POST' && action === '/changepassword') {
        if (!/^[0-9a-f]{32}$/.test(String(body.hashedPassword)))
          return fail(res, 400, 'INVALID_REQUEST', 'hashedPassword is not md5');
        t.hashedPassword = body.hashedPassword;
        return send(res, 204);
      }
      if (req.method === 'POST' && action === '/changebalance') {
        const raw = /"preciseAmount"\s*:\s*([0-9.eE+-]+)/.exec(text)?.[1];
        if (!raw || Number(body.login) !== t.login)
          return fail(res, 400, 'INVALID_REQUEST', 'preciseAmount and login are required');
        let units: bigint;
        try {
          units = parseDecimal(raw, t.moneyDigits);
        } catch {
          return fail(res, 400, 'INVALID_AMOUNT', `preciseAmount ${raw} has more than ${t.moneyDigits} decimals`);
        }
        if (units <= 0n) return fail(res, 400, 'INVALID_AMOUNT', 'preciseAmount must be positive');
        const type = String(body.type);
        const f = figures(t);
        if (type === 'DEPOSIT') t.balance += units;
        else if (type === 'WITHDRAW') {
          if (units > t.balance || units > f.freeMargin) return fail(res, 400, 'NOT_ENOUGH_MONEY', 'Not enough free margin');
          t.balance -= units;
        } else if (type === 'DEPOSIT_NONWITHDRAWABLE_BONUS') t.nonWithdrawableBonus += units;
        else if (type === 'WITHDRAW_NONWITHDRAWABLE_BONUS') {
          if (units > t.nonWithdrawableBonus) return fail(res, 400, 'NOT_ENOUGH_MONEY', 'Not enough bonus');
          t.nonWithdrawableBonus -= units;
        } else return fail(res, 400, 'INVALID_REQUEST', `Unknown type ${type}`);
        const entry: FakeBalanceEntry = {
          balanceHistoryId: nextHistory++,
          login: t.login,
          type,
          delta: units,
          balance: t.balance,
          moneyDigits: t.moneyDigits,
          changeBalanceTimestamp: now(),
          ...(body.comment !== undefined ? { comment: String(body.comment) } : {}),
          ...(body.externalNote !== undefined ? { externalNote: String(body.externalNote) } : {}),
          ...(body.externalId !== undefined ? { externalId: String(body.externalId) } : {}),
          ...(body.source !== undefined ? { source: String(body.source) } : {}),
        };
        balanceHistory.push(entry);
        return send(res, 200, { balanceHistoryId: entry.balanceHistoryId });
      }
      if (req.method === 'GET' && action === '/balancehistory') {
        const from = Number(url.searchParams.get('from') ?? 0);
        const to = Number(url.searchParams.get('to') ?? Number.MAX_SAFE_INTEGER);
        const rows = balanceHistory
          .filter((e) => e.login === t.login && e.changeBalanceTimestamp >= from && e.changeBalanceTimestamp <= to)
          .map((e) => ({ ...e, delta: Number(e.delta), balance: Number(e.balance) }));
        return send(res, 200, { balanceHistory: rows });
      }
      return fail(res, 404, 'NOT_FOUND', 'No such endpoint');
    } catch (e) {
      return fail(res, 500, 'INTERNAL_ERROR', (e as Error).message);
    }
  });

  // --- Open API -----------------------------------------------------------------------------------------

  const sockets = new Set<Socket>();
  const tcp: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    let appAuthed = false;
    const accounts = new Set<number>();

    const write = (typeName: string, body: Msg, clientMsgId?: string) => {
      const payloadType = OPEN_API_PAYLOADS[typeName];
      if (payloadType === undefined) throw new WireError(`no payloadType for ${typeName}`);
      const payload = encodeWire(typeName, body);
      const bytes = encodeWire('ProtoMessage', { payloadType, payload, ...(clientMsgId ? { clientMsgId } : {}) });
      const frame = Buffer.alloc(4 + bytes.length);
      frame.writeUInt32BE(bytes.length, 0);
      frame.set(bytes, 4);
      if (!socket.destroyed) socket.write(frame);
    };

    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 4) {
        const length = buffer.readUInt32BE(0);
        if (buffer.length < 4 + length) return;
        const frame = buffer.subarray(4, 4 + length);
        buffer = buffer.subarray(4 + length);
        let message: Msg;
        try {
          message = decodeWire('ProtoMessage', frame);
        } catch {
          socket.destroy(); // not a ProtoMessage: a real proxy drops such a connection too
          return;
        }
        const name = messageOfPayload.get(Number(message.payloadType));
        const clientMsgId: string | undefined = message.clientMsgId;
        if (!name) {
          write(
            'ProtoErrorRes',
            { errorCode: 'UNSUPPORTED_MESSAGE', description: `payloadType ${message.payloadType}` },
            clientMsgId,
          );
          continue;
        }
        received.set(name, (received.get(name) ?? 0) + 1);
        if (hangUps.delete(name)) {
          socket.destroy();
          return;
        }
        let msg: Msg;
        try {
          msg = decodeWire(name, message.payload ?? new Uint8Array());
        } catch (e) {
          write('ProtoErrorRes', { errorCode: 'INVALID_REQUEST', description: (e as Error).message }, clientMsgId);
          continue;
        }
        try {
          handle(name, msg, clientMsgId);
        } catch (e) {
          if (e instanceof ProtoError) {
            const ctid = msg.ctidTraderAccountId;
            if (e.order) write('ProtoOAOrderErrorEvent', { ctidTraderAccountId: ctid ?? 0, errorCode: e.errorCode }, clientMsgId);
            else
              write('ProtoOAErrorRes', { ...(ctid ? { ctidTraderAccountId: ctid } : {}), errorCode: e.errorCode }, clientMsgId);
          } else {
            write('ProtoOAErrorRes', { errorCode: 'UNKNOWN_ERROR', description: (e as Error).message }, clientMsgId);
          }
        }
      }
    });

    const traderOf = (ctid: unknown): FakeTrader => {
      const t = [...traders.values()].find((x) => String(x.ctid) === String(ctid));
      if (!t) throw new ProtoError('CH_CTID_TRADER_ACCOUNT_NOT_FOUND');
      if (!accounts.has(t.ctid)) throw new ProtoError('ACCOUNT_NOT_AUTHORIZED');
      if (t.accessRights === 'NO_LOGIN') throw new ProtoError('RET_ACCOUNT_DISABLED');
      return t;
    };
    const symbolMsg = (s: FakeSymbol) => ({
      symbolId: s.symbolId,
      digits: s.digits,
      pipPosition: s.digits - 1,
      lotSize: s.lotSize.toString(),
      minVolume: s.minVolume.toString(),
      stepVolume: s.stepVolume.toString(),
      maxVolume: s.maxVolume.toString(),
    });
    const positionMsg = (p: FakePosition, t: FakeTrader) => ({
      positionId: p.positionId,
      tradeData: {
        symbolId: p.symbolId,
        volume: p.volume.toString(),
        tradeSide: p.side,
        openTimestamp: p.openTimestamp,
      },
      positionStatus: p.open ? 'POSITION_STATUS_OPEN' : 'POSITION_STATUS_CLOSED',
      swap: 0,
      price: toPrice(p.price, symbol(p.symbolId)!.digits),
      commission: 0,
      usedMargin: p.open ? margin(p, t).toString() : '0',
      moneyDigits: t.moneyDigits,
    });
    const dealMsg = (d: FakeDeal, t: FakeTrader) => {
      const sym = symbol(d.symbolId)!;
      return {
        dealId: d.dealId,
        orderId: d.orderId,
        positionId: d.positionId,
        volume: d.volume.toString(),
        filledVolume: d.volume.toString(),
        symbolId: d.symbolId,
        createTimestamp: d.timestamp,
        executionTimestamp: d.timestamp,
        executionPrice: toPrice(d.price, sym.digits),
        tradeSide: d.side,
        dealStatus: 'FILLED',
        commission: 0,
        moneyDigits: t.moneyDigits,
        ...(d.close
          ? {
              closePositionDetail: {
                entryPrice: toPrice(d.close.entryPrice, sym.digits),
                grossProfit: d.close.grossProfit.toString(),
                swap: 0,
                commission: 0,
                balance: d.close.balance.toString(),
                closedVolume: d.close.closedVolume.toString(),
                moneyDigits: t.moneyDigits,
              },
            }
          : {}),
      };
    };
    const checkVolume = (s: FakeSymbol, volume: bigint) => {
      if (volume < s.minVolume || volume > s.maxVolume || volume % s.stepVolume !== 0n)
        throw new ProtoError('TRADING_BAD_VOLUME', true);
    };

    /** Fills an order: ORDER_ACCEPTED then ORDER_FILLED, both with the request's clientMsgId. */
    const fill = (
      t: FakeTrader,
      p: FakePosition,
      side: 'BUY' | 'SELL',
      volume: bigint,
      price: bigint,
      closing: boolean,
      id?: string,
      comment?: string,
    ) => {
      const orderId = nextOrder++;
      const timestamp = now();
      const order = {
        orderId,
        tradeData: {
          symbolId: p.symbolId,
          volume: volume.toString(),
          tradeSide: side,
          openTimestamp: timestamp,
          ...(comment ? { comment } : {}),
        },
        orderType: 'MARKET',
        orderStatus: 'ORDER_STATUS_ACCEPTED',
        utcLastUpdateTimestamp: timestamp,
        positionId: p.positionId,
        ...(closing ? { closingOrder: true } : {}),
      };
      write(
        'ProtoOAExecutionEvent',
        { ctidTraderAccountId: t.ctid, executionType: 'ORDER_ACCEPTED', order, position: positionMsg(p, t) },
        id,
      );
      const deal: FakeDeal = {
        dealId: nextDeal++,
        orderId,
        positionId: p.positionId,
        login: t.login,
        symbolId: p.symbolId,
        side,
        volume,
        price,
        timestamp,
      };
      if (closing) {
        const sym = symbol(p.symbolId)!;
        const diff = p.side === 'BUY' ? price - p.price : p.price - price;
        const grossProfit = pnl(sym, diff, volume, t.moneyDigits);
        t.balance += grossProfit;
        p.volume -= volume;
        if (p.volume === 0n) p.open = false;
        deal.close = { entryPrice: p.price, grossProfit, balance: t.balance, closedVolume: volume };
      }
      deals.push(deal);
      const filled = {
        ...order,
        orderStatus: 'ORDER_STATUS_FILLED',
        executionPrice: toPrice(price, symbol(p.symbolId)!.digits),
        executedVolume: volume.toString(),
      };
      orders.push({ login: t.login, order: filled });
      write(
        'ProtoOAExecutionEvent',
        {
          ctidTraderAccountId: t.ctid,
          executionType: 'ORDER_FILLED',
          order: filled,
          position: positionMsg(p, t),
          deal: dealMsg(deal, t),
        },
        id,
      );
    };

    const handle = (name: string, msg: Msg, id: string | undefined) => {
      if (name === 'ProtoHeartbeatEvent') return;
      if (name === 'ProtoOAApplicationAuthReq') {
        if (msg.clientId !== clientId || msg.clientSecret !== clientSecret) throw new ProtoError('CH_CLIENT_AUTH_FAILURE');
        if (appAuthed) throw new ProtoError('CH_CLIENT_ALREADY_AUTHENTICATED');
        appAuthed = true;
        return write('ProtoOAApplicationAuthRes', {}, id);
      }
      if (!appAuthed) throw new ProtoError('CH_CLIENT_NOT_AUTHENTICATED');
      if (name === 'ProtoOAGetAccountListByAccessTokenReq') {
        if (msg.accessToken !== accessToken) throw new ProtoError('CH_ACCESS_TOKEN_INVALID');
        return write(
          'ProtoOAGetAccountListByAccessTokenRes',
          {
            accessToken,
            permissionScope: 'SCOPE_TRADE',
            ctidTraderAccount: [...traders.values()].map((t) => ({
              ctidTraderAccountId: t.ctid,
              isLive: false,
              traderLogin: t.login,
            })),
          },
          id,
        );
      }
      if (name === 'ProtoOAAccountAuthReq') {
        if (msg.accessToken !== accessToken) throw new ProtoError('CH_ACCESS_TOKEN_INVALID');
        const t = [...traders.values()].find((x) => String(x.ctid) === String(msg.ctidTraderAccountId));
        if (!t) throw new ProtoError('CH_CTID_TRADER_ACCOUNT_NOT_FOUND');
        if (t.accessRights === 'NO_LOGIN') throw new ProtoError('RET_ACCOUNT_DISABLED');
        accounts.add(t.ctid);
        return write('ProtoOAAccountAuthRes', { ctidTraderAccountId: t.ctid }, id);
      }
      const t = traderOf(msg.ctidTraderAccountId);
      switch (name) {
        case 'ProtoOASymbolsListReq':
          return write(
            'ProtoOASymbolsListRes',
            {
              ctidTraderAccountId: t.ctid,
              symbol: FAKE_SYMBOLS.map((s) => ({ symbolId: s.symbolId, symbolName: s.name, enabled: true })),
            },
            id,
          );
        case 'ProtoOASymbolByIdReq': {
          const ids: string[] = msg.symbolId ?? [];
          const found = ids.map((x) => symbol(Number(x)));
          if (found.some((s) => !s)) throw new ProtoError('SYMBOL_NOT_FOUND');
          return write('ProtoOASymbolByIdRes', { ctidTraderAccountId: t.ctid, symbol: found.map((s) => symbolMsg(s!)) }, id);
        }
        case 'ProtoOASubscribeSpotsReq': {
          const ids: string[] = msg.symbolId ?? [];
          if (ids.some((x) => !symbol(Number(x)))) throw new ProtoError('SYMBOL_NOT_FOUND');
          write('ProtoOASubscribeSpotsRes', { ctidTraderAccountId: t.ctid }, id);
          for (const x of ids) {
            const s = symbol(Number(x))!;
            const q = quotes.get(s.symbolId)!;
            // spot prices are in 1/100,000 of a unit whatever the symbol's digits
            const scale = (v: bigint) => (s.digits <= 5 ? v * pow10(5 - s.digits) : v / pow10(s.digits - 5));
            write('ProtoOASpotEvent', {
              ctidTraderAccountId: t.ctid,
              symbolId: s.symbolId,
              bid: scale(q.bid).toString(),
              ask: scale(q.ask).toString(),
              ...(msg.subscribeToSpotTimestamp ? { timestamp: q.time } : {}),
            });
          }
          return;
        }
        case 'ProtoOAUnsubscribeSpotsReq':
          return write('ProtoOAUnsubscribeSpotsRes', { ctidTraderAccountId: t.ctid }, id);
        case 'ProtoOAReconcileReq':
          return write(
            'ProtoOAReconcileRes',
            { ctidTraderAccountId: t.ctid, position: openOf(t.login).map((p) => positionMsg(p, t)), order: [] },
            id,
          );
        case 'ProtoOAGetPositionUnrealizedPnLReq':
          return write(
            'ProtoOAGetPositionUnrealizedPnLRes',
            {
              ctidTraderAccountId: t.ctid,
              positionUnrealizedPnL: openOf(t.login).map((p) => ({
                positionId: p.positionId,
                grossUnrealizedPnL: floating(p, t.moneyDigits).toString(),
                netUnrealizedPnL: floating(p, t.moneyDigits).toString(),
              })),
              moneyDigits: t.moneyDigits,
            },
            id,
          );
        case 'ProtoOADealListByPositionIdReq': {
          const list = deals.filter((d) => d.login === t.login && String(d.positionId) === String(msg.positionId));
          return write(
            'ProtoOADealListByPositionIdRes',
            { ctidTraderAccountId: t.ctid, deal: list.map((d) => dealMsg(d, t)), hasMore: false },
            id,
          );
        }
        case 'ProtoOADealListReq': {
          const from = Number(msg.fromTimestamp ?? 0);
          const to = Number(msg.toTimestamp ?? 2147483646000);
          const max = Number(msg.maxRows ?? 1000);
          const list = deals.filter((d) => d.login === t.login && d.timestamp >= from && d.timestamp <= to);
          return write(
            'ProtoOADealListRes',
            { ctidTraderAccountId: t.ctid, deal: list.slice(0, max).map((d) => dealMsg(d, t)), hasMore: list.length > max },
            id,
          );
        }
        case 'ProtoOAOrderListReq': {
          const from = Number(msg.fromTimestamp ?? 0);
          const to = Number(msg.toTimestamp ?? 2147483646000);
          const list = orders.filter(
            (o) => o.login === t.login && o.order.utcLastUpdateTimestamp >= from && o.order.utcLastUpdateTimestamp <= to,
          );
          return write(
            'ProtoOAOrderListRes',
            { ctidTraderAccountId: t.ctid, order: list.map((o) => o.order), hasMore: false },
            id,
          );
        }
        case 'ProtoOANewOrderReq': {
          if (t.accessRights !== 'FULL_ACCESS') throw new ProtoError('TRADING_NOT_ALLOWED', true);
          const s = symbol(Number(msg.symbolId));
          if (!s) throw new ProtoError('SYMBOL_NOT_FOUND', true);
          if (msg.orderType !== 'MARKET') throw new ProtoError('INVALID_REQUEST');
          if (s.quote !== t.depositCurrency) throw new ProtoError('TRADING_DISABLED', true);
          if (closed.has(s.symbolId)) throw new ProtoError('MARKET_CLOSED', true);
          const volume = BigInt(msg.volume);
          checkVolume(s, volume);
          const q = quotes.get(s.symbolId)!;
          const price = msg.tradeSide === 'BUY' ? q.ask : q.bid;
          const p: FakePosition = {
            positionId: nextOrder, // the position takes the id of the order that opens it
            login: t.login,
            symbolId: s.symbolId,
            side: msg.tradeSide,
            volume,
            price,
            openTimestamp: now(),
            open: true,
          };
          const before = figures(t);
          if (before.freeMargin - margin(p, t) < 0n) throw new ProtoError('NOT_ENOUGH_MONEY', true);
          positions.set(p.positionId, p);
          return fill(t, p, p.side, volume, price, false, id, typeof msg.comment === 'string' ? msg.comment : undefined);
        }
        case 'ProtoOAClosePositionReq': {
          if (t.accessRights === 'NO_TRADING') throw new ProtoError('TRADING_NOT_ALLOWED', true);
          const p = positions.get(Number(msg.positionId));
          if (!p || p.login !== t.login || !p.open) throw new ProtoError('POSITION_NOT_FOUND', true);
          const s = symbol(p.symbolId)!;
          if (closed.has(s.symbolId)) throw new ProtoError('MARKET_CLOSED', true);
          const volume = BigInt(msg.volume);
          if (volume <= 0n || volume > p.volume || volume % s.stepVolume !== 0n) throw new ProtoError('TRADING_BAD_VOLUME', true);
          const q = quotes.get(s.symbolId)!;
          const side = p.side === 'BUY' ? 'SELL' : 'BUY';
          return fill(t, p, side, volume, side === 'BUY' ? q.ask : q.bid, true, id);
        }
        default:
          throw new ProtoError('UNSUPPORTED_MESSAGE');
      }
    };
  });

  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  const httpPort = (http.address() as { port: number }).port;
  const tcpPort = (tcp.address() as { port: number }).port;

  return {
    webServicesUrl: `http://127.0.0.1:${httpPort}`,
    openApi: { host: '127.0.0.1', port: tcpPort },
    get token() {
      return token;
    },
    set token(v: string) {
      token = v;
    },
    clientId,
    clientSecret,
    accessToken,
    traders,
    balanceHistory,
    positions,
    deals,
    received,
    setQuote(name, bid, ask) {
      const s = FAKE_SYMBOLS.find((x) => x.name === name);
      if (!s) throw new Error(`unknown symbol ${name}`);
      quotes.set(s.symbolId, { bid: parseDecimal(bid, s.digits), ask: parseDecimal(ask, s.digits), time: now() });
    },
    setMarketOpen(name, open) {
      const s = FAKE_SYMBOLS.find((x) => x.name === name);
      if (!s) throw new Error(`unknown symbol ${name}`);
      if (open) closed.delete(s.symbolId);
      else closed.add(s.symbolId);
    },
    failNextHttp(status) {
      failHttp = status;
    },
    hangUpOn(typeName) {
      hangUps.add(typeName);
    },
    async stop() {
      for (const s of sockets) s.destroy();
      http.closeAllConnections();
      await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => tcp.close(r))]);
    },
  };
}
