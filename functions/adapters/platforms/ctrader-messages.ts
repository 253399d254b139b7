/**
 * The part of the cTrader Open API protobuf schema that the adapter speaks, written by us for interoperability:
 * a protobufjs JSON descriptor (`Root.fromJSON`, so only protobufjs/light is bundled and nothing is parsed or read
 * from disk at cold start) declaring only the messages, fields and enum values that
 * functions/adapters/platforms/ctrader-open-api.ts and ctrader.ts send or read. It is a subset, not the full schema:
 * a field or message the server sends and this file does not declare is skipped when decoding.
 *
 * Facts follow Spotware's published Open API message reference, "Common Messages", "Messages" and "Model Messages"
 * (help.ctrader.com/open-api; formerly connect.spotware.com/docs "Open API Common Messages" / "Open API Messages" /
 * "Open API Model Messages"): message and field names, types, required / optional / repeated, payload-type numbers
 * and enum values. Those tables do not print field numbers; the numbers are those of Spotware's published Open API
 * message definitions that the reference pages link to. Framing after "Sending and receiving Protobuf messages"
 * (help.ctrader.com/open-api). Field numbers and payload types are wire facts: they must equal the server's.
 *
 * Conventions of this file:
 * - the proto2 rules apply (protobufjs' default edition): `required` fields must be present on encode and decode,
 *   repeated scalars are unpacked on the wire (packed ones are still accepted when decoding)
 * - every payload message (a *Req, *Res or *Event) has, as field 1, an optional copy of its own payloadType; the
 *   ProtoMessage envelope carries the payloadType that matters, so field 1 is not declared here (it is skipped when
 *   received and never sent). PAYLOAD_TYPES maps each payload message to its number instead
 * - int64 / uint64 fields are read as decimal strings by the caller (`longs: String`), never as doubles
 * - test/integration/ctrader-adapter.test.ts checks that the fake server's own tables (test/fakes/ctrader-server.ts,
 *   written separately) agree with this file on every payload type and field number they share
 */
import type protobuf from 'protobufjs/light.js';

/** A field present in every message of its kind (encoding without it fails; so does decoding a message without it). */
const req = (id: number, type: string): protobuf.IField => ({ id, type, rule: 'required' });
/** An optional field. */
const opt = (id: number, type: string): protobuf.IField => ({ id, type });
/** A list of messages. */
const list = (id: number, type: string): protobuf.IField => ({ id, type, rule: 'repeated' });
/** A list of int64 (proto2: one key/value pair per element, not packed). */
const int64s = (id: number): protobuf.IField => ({ id, type: 'int64', rule: 'repeated', options: { packed: false } });

/** The trading account id most requests and answers start with (field 2 of the message). */
const account = { ctidTraderAccountId: req(2, 'int64') };

/** payloadType of each payload message used (ProtoPayloadType 50-51, ProtoOAPayloadType 2100-2193). */
export const PAYLOAD_TYPES: Readonly<Record<string, number>> = {
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
  ProtoOAErrorRes: 2142,
  ProtoOAAccountsTokenInvalidatedEvent: 2147,
  ProtoOAClientDisconnectEvent: 2148,
  ProtoOAGetAccountListByAccessTokenReq: 2149,
  ProtoOAGetAccountListByAccessTokenRes: 2150,
  ProtoOAAccountDisconnectEvent: 2164,
  ProtoOAOrderListReq: 2175,
  ProtoOAOrderListRes: 2176,
  ProtoOADealListByPositionIdReq: 2179,
  ProtoOADealListByPositionIdRes: 2180,
  ProtoOAGetPositionUnrealizedPnLReq: 2187,
  ProtoOAGetPositionUnrealizedPnLRes: 2188,
};

/** The descriptor handed to `protobuf.Root.fromJSON`. */
export const OPEN_API_SCHEMA: protobuf.INamespace = {
  nested: {
    // --- envelope and connection-level messages (Common Messages) -------------------------------------------
    /** Every frame's body: the payload message serialised into `payload`, its number in `payloadType`. */
    ProtoMessage: {
      fields: { payloadType: req(1, 'uint32'), payload: opt(2, 'bytes'), clientMsgId: opt(3, 'string') },
    },
    ProtoErrorRes: {
      fields: { errorCode: req(2, 'string'), description: opt(3, 'string'), maintenanceEndTimestamp: opt(4, 'uint64') },
    },
    ProtoHeartbeatEvent: { fields: {} },

    // --- authorisation and session events ------------------------------------------------------------------
    ProtoOAApplicationAuthReq: { fields: { clientId: req(2, 'string'), clientSecret: req(3, 'string') } },
    ProtoOAApplicationAuthRes: { fields: {} },
    ProtoOAAccountAuthReq: { fields: { ...account, accessToken: req(3, 'string') } },
    ProtoOAAccountAuthRes: { fields: { ...account } },
    ProtoOAErrorRes: {
      fields: {
        ctidTraderAccountId: opt(2, 'int64'), // optional here, unlike most messages
        errorCode: req(3, 'string'),
        description: opt(4, 'string'),
        maintenanceEndTimestamp: opt(5, 'int64'),
        retryAfter: opt(6, 'uint64'),
      },
    },
    ProtoOAClientDisconnectEvent: { fields: { reason: opt(2, 'string') } },
    ProtoOAAccountsTokenInvalidatedEvent: { fields: { ctidTraderAccountIds: int64s(2), reason: opt(3, 'string') } },
    ProtoOAAccountDisconnectEvent: { fields: { ...account } },
    ProtoOAGetAccountListByAccessTokenReq: { fields: { accessToken: req(2, 'string') } },
    ProtoOAGetAccountListByAccessTokenRes: {
      fields: {
        accessToken: req(2, 'string'),
        permissionScope: opt(3, 'ProtoOAClientPermissionScope'),
        ctidTraderAccount: list(4, 'ProtoOACtidTraderAccount'),
      },
    },

    // --- symbols -------------------------------------------------------------------------------------------
    ProtoOASymbolsListReq: { fields: { ...account } },
    ProtoOASymbolsListRes: { fields: { ...account, symbol: list(3, 'ProtoOALightSymbol') } },
    ProtoOASymbolByIdReq: { fields: { ...account, symbolId: int64s(3) } },
    ProtoOASymbolByIdRes: { fields: { ...account, symbol: list(3, 'ProtoOASymbol') } },

    // --- trading -------------------------------------------------------------------------------------------
    ProtoOANewOrderReq: {
      fields: {
        ...account,
        symbolId: req(3, 'int64'),
        orderType: req(4, 'ProtoOAOrderType'),
        tradeSide: req(5, 'ProtoOATradeSide'),
        volume: req(6, 'int64'), // in 0.01 of a unit
        comment: opt(13, 'string'),
      },
    },
    ProtoOAClosePositionReq: { fields: { ...account, positionId: req(3, 'int64'), volume: req(4, 'int64') } },
    /** The answers to an order request: ORDER_ACCEPTED, then ORDER_FILLED (or ORDER_REJECTED). */
    ProtoOAExecutionEvent: {
      fields: {
        ...account,
        executionType: req(3, 'ProtoOAExecutionType'),
        position: opt(4, 'ProtoOAPosition'),
        order: opt(5, 'ProtoOAOrder'),
        deal: opt(6, 'ProtoOADeal'),
        errorCode: opt(9, 'string'),
        isServerEvent: opt(10, 'bool'),
      },
    },
    /** Note the numbering: the account id is field 5 here, not 2. */
    ProtoOAOrderErrorEvent: {
      fields: {
        errorCode: req(2, 'string'),
        orderId: opt(3, 'int64'),
        ctidTraderAccountId: req(5, 'int64'),
        positionId: opt(6, 'int64'),
        description: opt(7, 'string'),
      },
    },
    ProtoOAReconcileReq: { fields: { ...account } },
    ProtoOAReconcileRes: { fields: { ...account, position: list(3, 'ProtoOAPosition'), order: list(4, 'ProtoOAOrder') } },
    ProtoOAGetPositionUnrealizedPnLReq: { fields: { ...account } },
    ProtoOAGetPositionUnrealizedPnLRes: {
      fields: {
        ...account,
        positionUnrealizedPnL: list(3, 'ProtoOAPositionUnrealizedPnL'),
        moneyDigits: req(4, 'uint32'),
      },
    },

    // --- prices --------------------------------------------------------------------------------------------
    ProtoOASubscribeSpotsReq: { fields: { ...account, symbolId: int64s(3), subscribeToSpotTimestamp: opt(4, 'bool') } },
    ProtoOASubscribeSpotsRes: { fields: { ...account } },
    ProtoOAUnsubscribeSpotsReq: { fields: { ...account, symbolId: int64s(3) } },
    ProtoOAUnsubscribeSpotsRes: { fields: { ...account } },
    /** bid / ask in 1/100,000 of a unit; either may be absent when unchanged; timestamp (ms) when subscribed with it. */
    ProtoOASpotEvent: {
      fields: {
        ...account,
        symbolId: req(3, 'int64'),
        bid: opt(4, 'uint64'),
        ask: opt(5, 'uint64'),
        timestamp: opt(8, 'int64'),
      },
    },

    // --- history -------------------------------------------------------------------------------------------
    ProtoOADealListReq: {
      fields: { ...account, fromTimestamp: opt(3, 'int64'), toTimestamp: opt(4, 'int64'), maxRows: opt(5, 'int32') },
    },
    ProtoOADealListRes: { fields: { ...account, deal: list(3, 'ProtoOADeal'), hasMore: req(4, 'bool') } },
    /** The account's orders whose last update falls in [fromTimestamp, toTimestamp] (ms). */
    ProtoOAOrderListReq: { fields: { ...account, fromTimestamp: opt(3, 'int64'), toTimestamp: opt(4, 'int64') } },
    ProtoOAOrderListRes: { fields: { ...account, order: list(3, 'ProtoOAOrder'), hasMore: req(4, 'bool') } },
    ProtoOADealListByPositionIdReq: {
      fields: {
        ...account,
        positionId: req(3, 'int64'),
        fromTimestamp: opt(4, 'int64'),
        toTimestamp: opt(5, 'int64'),
      },
    },
    ProtoOADealListByPositionIdRes: { fields: { ...account, deal: list(3, 'ProtoOADeal'), hasMore: req(4, 'bool') } },

    // --- entities (Model Messages) -------------------------------------------------------------------------
    ProtoOACtidTraderAccount: {
      fields: { ctidTraderAccountId: req(1, 'uint64'), isLive: opt(2, 'bool'), traderLogin: opt(3, 'int64') },
    },
    ProtoOALightSymbol: { fields: { symbolId: req(1, 'int64'), symbolName: opt(2, 'string'), enabled: opt(3, 'bool') } },
    ProtoOASymbol: {
      fields: {
        symbolId: req(1, 'int64'),
        digits: req(2, 'int32'),
        pipPosition: req(3, 'int32'),
        maxVolume: opt(9, 'int64'),
        minVolume: opt(10, 'int64'),
        stepVolume: opt(11, 'int64'),
        lotSize: opt(30, 'int64'), // in 0.01 of a unit
      },
    },
    ProtoOATradeData: {
      fields: {
        symbolId: req(1, 'int64'),
        volume: req(2, 'int64'),
        tradeSide: req(3, 'ProtoOATradeSide'),
        openTimestamp: opt(4, 'int64'),
        label: opt(5, 'string'),
        comment: opt(7, 'string'), // the order's comment (ProtoOANewOrderReq.comment)
      },
    },
    ProtoOAOrder: {
      fields: {
        orderId: req(1, 'int64'),
        tradeData: req(2, 'ProtoOATradeData'),
        orderType: req(3, 'ProtoOAOrderType'),
        orderStatus: req(4, 'ProtoOAOrderStatus'),
        executionPrice: opt(7, 'double'),
        executedVolume: opt(8, 'int64'),
        utcLastUpdateTimestamp: opt(9, 'int64'),
        closingOrder: opt(12, 'bool'),
        positionId: opt(19, 'int64'),
      },
    },
    ProtoOAPosition: {
      fields: {
        positionId: req(1, 'int64'),
        tradeData: req(2, 'ProtoOATradeData'),
        positionStatus: req(3, 'ProtoOAPositionStatus'),
        swap: req(4, 'int64'),
        price: opt(5, 'double'),
        commission: opt(9, 'int64'),
        usedMargin: opt(13, 'uint64'),
        moneyDigits: opt(15, 'uint32'),
      },
    },
    ProtoOADeal: {
      fields: {
        dealId: req(1, 'int64'),
        orderId: req(2, 'int64'),
        positionId: req(3, 'int64'),
        volume: req(4, 'int64'),
        filledVolume: req(5, 'int64'),
        symbolId: req(6, 'int64'),
        createTimestamp: req(7, 'int64'),
        executionTimestamp: req(8, 'int64'),
        executionPrice: opt(10, 'double'),
        tradeSide: req(11, 'ProtoOATradeSide'),
        dealStatus: req(12, 'ProtoOADealStatus'),
        commission: opt(14, 'int64'),
        closePositionDetail: opt(16, 'ProtoOAClosePositionDetail'),
        moneyDigits: opt(17, 'uint32'),
      },
    },
    /** Present on a deal that closed (part of) a position. */
    ProtoOAClosePositionDetail: {
      fields: {
        entryPrice: req(1, 'double'),
        grossProfit: req(2, 'int64'),
        swap: req(3, 'int64'),
        commission: req(4, 'int64'),
        balance: req(5, 'int64'),
        closedVolume: opt(7, 'int64'),
        moneyDigits: opt(9, 'uint32'),
      },
    },
    ProtoOAPositionUnrealizedPnL: {
      fields: { positionId: req(1, 'int64'), grossUnrealizedPnL: req(2, 'int64'), netUnrealizedPnL: req(3, 'int64') },
    },

    // --- enums (complete value lists of the enums above) ---------------------------------------------------
    ProtoOAClientPermissionScope: { values: { SCOPE_VIEW: 0, SCOPE_TRADE: 1 } },
    ProtoOATradeSide: { values: { BUY: 1, SELL: 2 } },
    ProtoOAOrderType: {
      values: { MARKET: 1, LIMIT: 2, STOP: 3, STOP_LOSS_TAKE_PROFIT: 4, MARKET_RANGE: 5, STOP_LIMIT: 6 },
    },
    ProtoOAOrderStatus: {
      values: {
        ORDER_STATUS_ACCEPTED: 1,
        ORDER_STATUS_FILLED: 2,
        ORDER_STATUS_REJECTED: 3,
        ORDER_STATUS_EXPIRED: 4,
        ORDER_STATUS_CANCELLED: 5,
      },
    },
    ProtoOAPositionStatus: {
      values: { POSITION_STATUS_OPEN: 1, POSITION_STATUS_CLOSED: 2, POSITION_STATUS_CREATED: 3, POSITION_STATUS_ERROR: 4 },
    },
    ProtoOADealStatus: {
      values: { FILLED: 2, PARTIALLY_FILLED: 3, REJECTED: 4, INTERNALLY_REJECTED: 5, ERROR: 6, MISSED: 7 },
    },
    ProtoOAExecutionType: {
      values: {
        ORDER_ACCEPTED: 2,
        ORDER_FILLED: 3,
        ORDER_REPLACED: 4,
        ORDER_CANCELLED: 5,
        ORDER_EXPIRED: 6,
        ORDER_REJECTED: 7,
        ORDER_CANCEL_REJECTED: 8,
        SWAP: 9,
        DEPOSIT_WITHDRAW: 10,
        ORDER_PARTIAL_FILL: 11,
        BONUS_DEPOSIT_WITHDRAW: 12,
      },
    },
  },
};
