/**
 * Events of the trading context: trading accounts, the money moved between wallets and accounts, and the deal
 * stream ingested from each platform (docs/decisions/0016-trading-accounts.md). The deal events are the input of
 * IB commissions, copy trading and CRM activity.
 *
 * Invariants:
 * - every definition follows domain/events/define.ts (versioning, money as strings, tolerant parsing)
 * - a deal event is written once per (platform, server, deal), in the transaction that stores the deal; `dealKey`
 *   is that triple, so a consumer de-duplicates a redelivery by it (or by the outbox's eventId)
 * - amounts are decimal strings in the account currency (`currency`); profit, commission and swap are signed
 * - volume is in MT5 units (lots x 10,000) as an integer string; price a decimal string with the symbol's digits
 * - accountId and clientId are present when the login belongs to an account opened through the back office;
 *   deals of other logins on the same server are ingested and published without them
 */
import * as z from 'zod';
import { ACCOUNT_ACCESS, TRANSFER_DIRECTIONS, TRANSFER_STATUSES } from '../trading/accounts.ts';
import { currencyCode, decimal, defineEvent, id, minorUnits, signedDecimal } from './define.ts';

const account = {
  accountId: id,
  clientId: id,
  kind: z.enum(['live', 'demo']),
  platform: id,
  server: id,
  typeId: id,
  group: id,
  currency: currencyCode,
  leverage: z.number().int().min(1),
};
const accountExample = {
  accountId: 'ta_01J8Z3',
  clientId: 'client-01J8Z3',
  kind: 'live' as const,
  platform: 'mt5',
  server: 'local-simulator',
  typeId: 'standard',
  group: 'real\\standard-usd',
  currency: 'USD',
  leverage: 30,
};

const deal = z.object({
  dealKey: id,
  platform: id,
  server: id,
  deal: z.number().int().min(1),
  login: z.number().int().min(1),
  accountId: id.optional(),
  clientId: id.optional(),
  currency: currencyCode,
  action: id,
  entry: id,
  reason: id,
  symbol: z.string(),
  /** Integer string, MT5 volume units. */
  volume: minorUnits,
  price: decimal,
  profit: signedDecimal,
  commission: signedDecimal,
  swap: signedDecimal,
  positionId: z.number().int().min(0),
  /** Milliseconds since the epoch, the platform's time of the deal. */
  timeMsc: z.number().int().min(0),
  /** The deal's value in the account currency, when the platform reports its rate. */
  notional: decimal.optional(),
  externalId: id.optional(),
});
const dealExample = {
  dealKey: 'mt5#local-simulator#42',
  platform: 'mt5',
  server: 'local-simulator',
  deal: 42,
  login: 500001,
  accountId: 'ta_01J8Z3',
  clientId: 'client-01J8Z3',
  currency: 'USD',
  action: 'sell',
  entry: 'out',
  reason: 'client',
  symbol: 'EURUSD',
  volume: '10000',
  price: '1.08512',
  profit: '12.40',
  commission: '-3.50',
  swap: '0.00',
  positionId: 41,
  timeMsc: 1_733_500_000_000,
  notional: '108512.00',
};

const transfer = z.object({
  transferId: id,
  accountId: id,
  clientId: id,
  walletId: id,
  direction: z.enum(TRANSFER_DIRECTIONS),
  status: z.enum(TRANSFER_STATUSES),
  amount: decimal,
  currency: currencyCode,
  reason: id.optional(),
});
const transferExample = {
  transferId: 'tt_01J8Z3',
  accountId: 'ta_01J8Z3',
  clientId: 'client-01J8Z3',
  walletId: 'wal_client-01J8Z3_USD',
  direction: 'deposit' as const,
  status: 'completed' as const,
  amount: '500.00',
  currency: 'USD',
};

export const TRADING_EVENTS = [
  defineEvent({
    detailType: 'trading.account.opened',
    version: 1,
    context: 'trading',
    external: true,
    description: 'A trading account was opened on its platform (it has a login).',
    schema: z.object({ ...account, login: z.number().int().min(1) }),
    example: { ...accountExample, login: 500001 },
  }),
  defineEvent({
    detailType: 'trading.account.changed',
    version: 1,
    context: 'trading',
    external: true,
    description: "A trading account's leverage or access changed (the new values; a reason for access changes).",
    schema: z.object({
      ...account,
      login: z.number().int().min(1),
      access: z.enum(ACCOUNT_ACCESS),
      reason: z.string().optional(),
    }),
    example: { ...accountExample, login: 500001, access: 'read_only' as const, reason: 'AML review' },
  }),
  defineEvent({
    detailType: 'trading.transfer.completed',
    version: 1,
    context: 'trading',
    external: true,
    description: 'Money moved between a wallet and a trading account: the ledger and the platform both have it.',
    schema: transfer,
    example: transferExample,
  }),
  defineEvent({
    detailType: 'trading.transfer.failed',
    version: 1,
    context: 'trading',
    external: true,
    description: 'A transfer between a wallet and a trading account failed; whatever moved was moved back.',
    schema: transfer,
    example: { ...transferExample, status: 'failed' as const, reason: 'no_money' },
  }),
  defineEvent({
    detailType: 'trading.position.opened',
    version: 1,
    context: 'trading',
    external: true,
    description: 'A deal opened a position (entry in), as the platform reported it.',
    schema: deal,
    example: { ...dealExample, action: 'buy', entry: 'in', profit: '0.00', positionId: 41 },
  }),
  defineEvent({
    detailType: 'trading.deal.closed',
    version: 1,
    context: 'trading',
    external: true,
    description: 'A deal closed (part of) a position (entry out, inout or out_by), with its realised profit.',
    schema: deal,
    example: dealExample,
  }),
  defineEvent({
    detailType: 'trading.balance.changed',
    version: 1,
    context: 'trading',
    external: true,
    description:
      'A balance operation on a trading account (deposit, withdrawal, credit, bonus, charge, correction, stop-out compensation).',
    schema: deal,
    example: {
      ...dealExample,
      action: 'balance',
      entry: 'in',
      symbol: '',
      volume: '0',
      price: '0',
      profit: '500.00',
      commission: '0.00',
      positionId: 0,
      externalId: 'tt_01J8Z3',
    },
  }),
] as const;
