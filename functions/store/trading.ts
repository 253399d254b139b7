/**
 * The trading context's items (keys: functions/store/keys.ts tradingKeys; rules: domain/trading/accounts.ts;
 * ADR 0016): trading accounts, the login index, wallet <-> account transfers, ingested deals, the deal cursor of
 * each platform server and the per-client trading turnover.
 *
 * Invariants:
 * - every item is declared once with defineEntity; reads parse; writes are CommitWrites for commit(), so a
 *   change is stored with its audit item and outbox events in one transaction
 * - money in items is a decimal string with the currency (MoneyJson), never a Number
 * - passwords are never an attribute of anything here
 * - a login item (platform, server, login) is put-if-absent when its account becomes active: one login is one
 *   account, and the deal stream finds the account and client of a deal by it
 * - a deal item is put-if-absent by (platform, server, deal) in the same transaction as the cursor that moves
 *   past it (conditioned on the cursor's version): ingestion writes each deal exactly once
 * - a transfer is on the sparse pending index exactly while its status is 'pending'
 * - at most one process talks to the platform about a pending transfer at a time (its lease, claimTransfer): the
 *   adapters' "already applied?" check by external id is a read before a write, safe only when serialised
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { ACCOUNT_KINDS } from '#domain/trading/account-types.ts';
import {
  ACCOUNT_ACCESS,
  TRADING_ACCOUNT_STATUSES,
  TRANSFER_DIRECTIONS,
  TRANSFER_STATUSES,
  turnoverHours,
} from '#domain/trading/accounts.ts';
import { PLATFORMS } from '#domain/trading/port.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { type CommitWrite, tableName } from './items.ts';
import { type Key, tradingKeys } from './keys.ts';
import { batchGet, big, queryAll } from './ledger/codec.ts';
import type { Page } from './pagination.ts';
import { MoneyJsonSchema } from './payments/types.ts';

// ------------------------------------------------------------------------------------------------ accounts

export const TradingAccountSchema = z.object({
  accountId: z.string().min(1),
  clientId: z.string().min(1),
  kind: z.enum(ACCOUNT_KINDS),
  platform: z.enum(PLATFORMS),
  server: z.string().min(1),
  typeId: z.string().min(1),
  group: z.string().min(1),
  currency: z.string().min(1),
  leverage: z.number().int().min(1),
  status: z.enum(TRADING_ACCOUNT_STATUSES),
  access: z.enum(ACCOUNT_ACCESS),
  accessReason: z.string().optional(),
  login: z.number().int().min(1).optional(),
  /** Live accounts: the ledger account holding what the client moved to it, net (kind trading_account). */
  ledgerAccountId: z.string().optional(),
  /** Set by the first completed deposit (the type's minimum applies to it). */
  firstDepositAt: z.string().optional(),
  failureReason: z.string().optional(),
  /** While 'opening': until when the request that put it may talk to the platform (claimOpening). */
  leaseUntil: z.string().optional(),
  idempotencyKey: z.string().min(1),
  requestHash: z.string().min(1),
});

export const tradingAccountEntity = defineEntity({
  type: tradingKeys.accountType,
  schema: TradingAccountSchema,
  key: (a) => tradingKeys.account(a.accountId),
  indexes: (a) => ({
    ...tradingKeys.clientAccountsIndex(a.clientId, a.createdAt, a.accountId),
    ...(a.kind === 'live' && a.status === 'active' ? tradingKeys.liveAccountsIndex(a.createdAt, a.accountId) : {}),
  }),
  what: 'trading account',
});
export type TradingAccountItem = ItemOf<typeof tradingAccountEntity>;
export const TRADING_ACCOUNT_ENTITY = tradingAccountEntity.type;

export const tradingAccountNotFound = () =>
  new DomainError('trading_account_not_found', 'not_found', 'No trading account with this id', [
    { field: 'accountId', code: 'trading_account_not_found', message: 'Unknown trading account' },
  ]);

export const getTradingAccount = (accountId: string, opts: { consistent?: boolean } = {}) =>
  tradingAccountEntity.get(tradingKeys.account(accountId), opts);

/** A client's accounts, oldest first. */
export const listClientTradingAccounts = (
  clientId: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<TradingAccountItem>> =>
  tradingAccountEntity.query({
    index: 'gsi1',
    partition: tradingKeys.clientAccountsPartition(clientId),
    limit: opts.limit,
    cursor: opts.cursor,
  });

/** Every account of a client (staff views, limits): at most `max`. */
export async function allClientTradingAccounts(clientId: string, max = 500): Promise<TradingAccountItem[]> {
  const out: TradingAccountItem[] = [];
  for await (const page of tradingAccountEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': tradingKeys.clientAccountsPartition(clientId) },
  })) {
    out.push(...page);
    if (out.length >= max) break;
  }
  return out.slice(0, max);
}

/** Every active live account, oldest first, page by page (reconciliation). */
export async function* liveAccounts(): AsyncGenerator<TradingAccountItem[]> {
  yield* tradingAccountEntity.queryPages({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :p',
    ExpressionAttributeValues: { ':p': tradingKeys.liveAccountsPartition },
  });
}

/** Every deal of an account, oldest first (reconciliation). */
export async function* accountDeals(accountId: string): AsyncGenerator<DealItem[]> {
  yield* dealEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': tradingKeys.accountDealsPartition(accountId) },
  });
}

/** An account's deals from `fromMs` (deal time, as the platform stamps it) on, oldest first (copy statistics' flows). */
export async function* accountDealsFrom(accountId: string, fromMs: number): AsyncGenerator<DealItem[]> {
  yield* dealEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p AND gsi1sk >= :from',
    ExpressionAttributeValues: {
      ':p': tradingKeys.accountDealsPartition(accountId),
      ':from': tradingKeys.accountDealsIndex(accountId, Math.max(0, Math.floor(fromMs)), 0).gsi1sk,
    },
  });
}

export const accountSnapshot = (a: TradingAccountItem) => ({
  accountId: a.accountId,
  kind: a.kind,
  platform: a.platform,
  server: a.server,
  typeId: a.typeId,
  group: a.group,
  currency: a.currency,
  leverage: a.leverage,
  status: a.status,
  access: a.access,
  ...(a.accessReason ? { accessReason: a.accessReason } : {}),
  ...(a.login ? { login: a.login } : {}),
  ...(a.failureReason ? { failureReason: a.failureReason } : {}),
});

// ------------------------------------------------------------------------------------------------ logins

export const LoginSchema = z.object({
  platform: z.enum(PLATFORMS),
  server: z.string().min(1),
  login: z.number().int().min(1),
  accountId: z.string().min(1),
  clientId: z.string().min(1),
  currency: z.string().min(1),
});
export const loginEntity = defineEntity({
  type: tradingKeys.loginType,
  schema: LoginSchema,
  key: (l) => tradingKeys.login(l.platform, l.server, l.login),
});
export type LoginItem = ItemOf<typeof loginEntity>;

export const loginTaken = () =>
  new DomainError('login_taken', 'conflict', 'The platform login belongs to another trading account');

// ------------------------------------------------------------------------------------------------ transfers

export const TransferSchema = z.object({
  transferId: z.string().min(1),
  accountId: z.string().min(1),
  clientId: z.string().min(1),
  walletId: z.string().min(1),
  ledgerAccountId: z.string().min(1),
  platform: z.enum(PLATFORMS),
  server: z.string().min(1),
  login: z.number().int().min(1),
  direction: z.enum(TRANSFER_DIRECTIONS),
  amount: MoneyJsonSchema,
  status: z.enum(TRANSFER_STATUSES),
  /** Why it failed: a stable code (a TradingError code or one of ours). */
  reason: z.string().optional(),
  /** The platform's id of the balance operation, once applied. */
  ticket: z.string().optional(),
  /** The ledger journal moving the money (deposit: posted at request; withdrawal: at completion). */
  journalId: z.string().optional(),
  /** Deposit refused: the journal moving the money back. */
  reversalJournalId: z.string().optional(),
  /** How many times the platform was asked (the first call and the resolver's retries). */
  attempts: z.number().int().min(0),
  /** The platform did not answer: the resolver asks it again (by external id) from this time on. */
  uncertainSince: z.string().optional(),
  /**
   * Until when one process may talk to the platform about this transfer (claimTransfer): the request that created
   * it holds it first; a replay or the resolver asks the platform only once it has expired. Operational: claimed
   * without a version change.
   */
  leaseUntil: z.string().optional(),
  completedAt: z.string().optional(),
  /**
   * A transfer on a copy account: the subscription whose copy-fee state it locks from its creation to its end (the
   * high-water mark moves by the amount when it completes; functions/app/copy/settle-fees.ts).
   */
  copySubscriptionId: z.string().optional(),
  idempotencyKey: z.string().min(1),
  requestHash: z.string().min(1),
});

export const transferEntity = defineEntity({
  type: tradingKeys.transferType,
  schema: TransferSchema,
  key: (t) => tradingKeys.transfer(t.transferId),
  indexes: (t) => ({
    ...tradingKeys.accountTransfersIndex(t.accountId, t.createdAt, t.transferId),
    ...(t.status === 'pending' ? tradingKeys.pendingTransfersIndex(t.createdAt, t.transferId) : {}),
  }),
  what: 'transfer',
});
export type TransferItem = ItemOf<typeof transferEntity>;
export const TRANSFER_ENTITY = transferEntity.type;

export const transferNotFound = () =>
  new DomainError('transfer_not_found', 'not_found', 'No transfer with this id on this account', [
    { field: 'transferId', code: 'transfer_not_found', message: 'Unknown transfer' },
  ]);

export const getTransfer = (transferId: string, opts: { consistent?: boolean } = {}) =>
  transferEntity.get(tradingKeys.transfer(transferId), opts);

/** An account's transfers, newest first. */
export const listAccountTransfers = (accountId: string, opts: { limit: number; cursor?: string | undefined }) =>
  transferEntity.query({
    index: 'gsi1',
    partition: tradingKeys.accountTransfersPartition(accountId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** Every transfer of an account, oldest first (reconciliation). */
export async function* accountTransfers(accountId: string): AsyncGenerator<TransferItem[]> {
  yield* transferEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': tradingKeys.accountTransfersPartition(accountId) },
  });
}

/** Claims an 'opening' account whose lease expired (a retry resuming it): false while another request holds it. */
export const claimOpening = (accountId: string, now: Date, until: Date) =>
  claimLease(tradingKeys.account(accountId), 'opening', now, until);

/**
 * Claims the right to talk to the platform about a pending transfer until `until` (module invariants): true when
 * this caller holds it now, false when the transfer is settled or another process holds an unexpired lease.
 */
export const claimTransfer = (transferId: string, now: Date, until: Date) =>
  claimLease(tradingKeys.transfer(transferId), 'pending', now, until);

/** Sets leaseUntil on an item in `status` whose lease is absent or expired; false when it is not. */
async function claimLease(key: Key, status: string, now: Date, until: Date): Promise<boolean> {
  try {
    await ddb().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: key,
        UpdateExpression: 'SET leaseUntil = :until',
        ConditionExpression: '#s = :pending AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':pending': status, ':now': now.toISOString(), ':until': until.toISOString() },
      }),
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** Pending transfers created before `before`, oldest first (the resolver's work list). */
export async function pendingTransfers(before: Date, max: number): Promise<TransferItem[]> {
  const out: TransferItem[] = [];
  for await (const page of transferEntity.queryPages({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :p AND gsi2sk < :b',
    ExpressionAttributeValues: { ':p': tradingKeys.pendingTransfersPartition, ':b': before.toISOString() },
  })) {
    out.push(...page);
    if (out.length >= max) break;
  }
  return out.slice(0, max);
}

export const transferSnapshot = (t: TransferItem) => ({
  transferId: t.transferId,
  direction: t.direction,
  status: t.status,
  amount: t.amount,
  attempts: t.attempts,
  ...(t.reason ? { reason: t.reason } : {}),
  ...(t.ticket ? { ticket: t.ticket } : {}),
  ...(t.journalId ? { journalId: t.journalId } : {}),
  ...(t.reversalJournalId ? { reversalJournalId: t.reversalJournalId } : {}),
  ...(t.uncertainSince ? { uncertainSince: t.uncertainSince } : {}),
});

export const transferEventDetail = (t: TransferItem) => ({
  transferId: t.transferId,
  accountId: t.accountId,
  clientId: t.clientId,
  walletId: t.walletId,
  direction: t.direction,
  status: t.status,
  amount: t.amount.amount,
  currency: t.amount.currency,
  ...(t.reason ? { reason: t.reason } : {}),
});

// ------------------------------------------------------------------------------------------------ deals

export const DealSchema = z.object({
  platform: z.enum(PLATFORMS),
  server: z.string().min(1),
  deal: z.number().int().min(1),
  login: z.number().int().min(1),
  accountId: z.string().optional(),
  clientId: z.string().optional(),
  currency: z.string().min(1),
  order: z.number().int().min(0),
  action: z.string().min(1),
  entry: z.string().min(1),
  reason: z.string().min(1),
  timeMsc: z.number().int().min(0),
  symbol: z.string(),
  /** Points, integer string. */
  price: z.string().regex(/^\d+$/),
  /** MT5 volume units, integer string. */
  volume: z.string().regex(/^\d+$/),
  /** Minor units of `currency`, signed integer strings. */
  profit: z.string().regex(/^-?\d+$/),
  commission: z.string().regex(/^-?\d+$/),
  storage: z.string().regex(/^-?\d+$/),
  notional: z.string().regex(/^\d+$/).optional(),
  positionId: z.number().int().min(0),
  comment: z.string(),
  externalId: z.string().optional(),
  /** Symbol digits (a price is points / 10^digits). */
  digits: z.number().int().min(0).max(12),
});
export const dealEntity = defineEntity({
  type: tradingKeys.dealType,
  schema: DealSchema,
  key: (d) => tradingKeys.deal(d.platform, d.server, d.deal),
  indexes: (d) => ({
    ...(d.accountId ? tradingKeys.accountDealsIndex(d.accountId, d.timeMsc, d.deal) : {}),
    ...(d.positionId > 0 ? tradingKeys.positionDealsIndex(d.platform, d.server, d.positionId, d.timeMsc, d.deal) : {}),
  }),
  what: 'deal',
});
export type DealItem = ItemOf<typeof dealEntity>;

/** A position's deals (its opening deal first), by the platform's time (IB commissions: hold time and price move). */
export async function positionDeals(platform: string, server: string, positionId: number): Promise<DealItem[]> {
  const out: DealItem[] = [];
  for await (const page of dealEntity.queryPages({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :p',
    ExpressionAttributeValues: { ':p': tradingKeys.positionDealsPartition(platform, server, positionId) },
  }))
    out.push(...page);
  return out;
}

/** An account's deals with deal time in [fromMs, toMs], oldest first (IB commissions: hedged volume). */
export async function accountDealsBetween(accountId: string, fromMs: number, toMs: number): Promise<DealItem[]> {
  const out: DealItem[] = [];
  for await (const page of dealEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p AND gsi1sk BETWEEN :from AND :to',
    ExpressionAttributeValues: {
      ':p': tradingKeys.accountDealsPartition(accountId),
      ':from': tradingKeys.accountDealsIndex(accountId, Math.max(0, Math.floor(fromMs)), 0).gsi1sk,
      ':to': `${tradingKeys.accountDealsIndex(accountId, Math.max(0, Math.floor(toMs)), 0).gsi1sk.split('#')[0]}#~`,
    },
  }))
    out.push(...page);
  return out;
}

/** An account's deals, newest first. */
export const listAccountDeals = (accountId: string, opts: { limit: number; cursor?: string | undefined }) =>
  dealEntity.query({
    index: 'gsi1',
    partition: tradingKeys.accountDealsPartition(accountId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

// ------------------------------------------------------------------------------------------------ cursor

export const CursorSchema = z.object({
  platform: z.enum(PLATFORMS),
  server: z.string().min(1),
  cursor: z.string(),
  /** Deals written under this cursor, all time. */
  ingested: z.number().int().min(0),
  lastRunAt: z.string().optional(),
  /**
   * When the last run that read the platform up to "now" started: every deal the platform had made by then is
   * stored (reconciliation compares only what happened before it). Operational: set without an audit entry.
   */
  checkedAt: z.string().optional(),
});
export const cursorEntity = defineEntity({
  type: tradingKeys.cursorType,
  schema: CursorSchema,
  key: (c) => tradingKeys.cursor(c.platform, c.server),
  what: 'deal cursor',
});
export type CursorItem = ItemOf<typeof cursorEntity>;

export const getCursor = (platform: string, server: string) =>
  cursorEntity.get(tradingKeys.cursor(platform, server), { consistent: true });

/** Records that a run read everything the platform had when it started (`at`); never moves it back. */
export async function markCursorChecked(platform: string, server: string, at: string): Promise<void> {
  await ddb()
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: tradingKeys.cursor(platform, server),
        UpdateExpression: 'SET checkedAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(checkedAt) OR checkedAt < :at)',
        ExpressionAttributeValues: { ':at': at },
      }),
    )
    .catch((err: unknown) => {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    });
}

// ------------------------------------------------------------------------------------------------ turnover

/**
 * A client's trading turnover in `currency` from `from` to `to` (hour buckets, so up to an hour before `from`
 * counts too): the sum of the notional of its deals in accounts of that currency, exact.
 */
export async function turnoverBetween(clientId: string, currency: string, from: Date, to: Date): Promise<bigint> {
  const hours = turnoverHours(from, to);
  if (hours.length === 0) return 0n;
  let total = 0n;
  for await (const page of queryAll({
    KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
    ExpressionAttributeValues: { ':p': tradingKeys.turnoverPartition(clientId, currency), ':a': hours[0]!, ':b': hours.at(-1)! },
  })) {
    for (const item of page) total += big(item.amount);
  }
  return total;
}

/** Adds `amount` (minor units) to a client's turnover in the hour bucket (ADD: no lost update). */
export function turnoverAdd(clientId: string, currency: string, hour: string, amount: bigint, at: string): CommitWrite {
  return {
    Update: {
      Key: tradingKeys.turnover(clientId, currency, hour),
      UpdateExpression: 'SET #type = :type, tenant = if_not_exists(tenant, :tenant), updatedAt = :at ADD amount :n',
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: { ':type': tradingKeys.turnoverType, ':tenant': env.tenant, ':at': at, ':n': amount },
    },
  };
}

/** Which of these deals are stored already (their keys' ids, keyId form). */
export async function storedDeals(keys: Key[]): Promise<Set<string>> {
  return new Set((await batchGet(keys)).keys());
}
