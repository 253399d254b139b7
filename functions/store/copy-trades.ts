/**
 * Copy trading's replication items (keys: functions/store/keys.ts copyTradeKeys; rules: domain/copy/; ADR 0017):
 * the copy trade (one per provider deal and subscription, or per follower position a stop closes), the position
 * link (a provider position and the follower's copy of it) and the subscription's copy state.
 *
 * Invariants:
 * - a copy trade is put-if-absent under its copy id: two executors of the same signal cannot both own it
 * - while a copy is `executing` its lease (leaseUntil, ms) names the one executor that may talk to the platform
 *   about it; the lease is operational (claimed and released without a version change) and longer than the
 *   executor's timeout, so a lease that expired belongs to an executor that is gone
 * - a copy ends once: `filled`, `skipped` (with a reason) or `failed` (with the platform's code); the end is
 *   written conditioned on the version read, with its audit entry and event (functions/app/copy/replicate.ts)
 * - a link is written with the copy that opened the follower's position and changed by each copied close;
 *   `closedFirst` marks a provider position whose close reached this follower before its open did
 * - volumes are MT5 units and prices points, as integer strings; money decimal strings in the account currency
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { ddb } from '#shared/clients.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { type CommitWrite, tableName } from './items.ts';
import { copyTradeKeys } from './keys.ts';
import type { Page } from './pagination.ts';

const int = z.string().regex(/^-?\d+$/);

export const COPY_TRADE_KINDS = ['open', 'close', 'stop_close'] as const;
export const COPY_TRADE_STATUSES = ['executing', 'filled', 'skipped', 'failed'] as const;
export type CopyTradeStatus = (typeof COPY_TRADE_STATUSES)[number];

export const CopyTradeSchema = z.object({
  copyId: z.string().min(1),
  subscriptionId: z.string().min(1),
  strategyId: z.string().min(1),
  followerClientId: z.string().min(1),
  followerAccountId: z.string().min(1),
  followerLogin: z.number().int().min(1),
  kind: z.enum(COPY_TRADE_KINDS),
  /** The provider's deal (absent for a stop's closes). */
  providerDealKey: z.string().optional(),
  providerDeal: z.number().int().optional(),
  providerPositionId: z.number().int().min(0),
  symbol: z.string().min(1),
  /** The follower order's side. */
  side: z.enum(['buy', 'sell']),
  digits: z.number().int().min(0),
  providerVolume: int.optional(),
  providerPrice: int.optional(),
  providerTimeMsc: z.number().int().optional(),
  /** When the back office recorded the provider's deal (ms). */
  signalAtMsc: z.number().int(),
  status: z.enum(COPY_TRADE_STATUSES),
  reason: z.string().optional(),
  /** The volume asked of the platform (MT5 units). */
  volume: int.optional(),
  /** For a close: the follower position's volume before it (how a crashed close is recognised). */
  volumeBefore: int.optional(),
  fill: z
    .object({
      order: z.number().int(),
      deal: z.number().int(),
      positionId: z.number().int(),
      price: int,
      volume: int,
      timeMsc: z.number().int(),
    })
    .optional(),
  latencyMs: z.number().int().min(0).optional(),
  slippagePoints: int.optional(),
  slippageMoney: z.string().optional(),
  currency: z.string().min(1),
  leaseUntil: z.number().int().optional(),
  attempts: z.number().int().min(0),
  /** The fill was learnt from the platform after a crash, not from the order's answer. */
  recovered: z.boolean().optional(),
});

export const copyTradeEntity = defineEntity({
  type: copyTradeKeys.type,
  schema: CopyTradeSchema,
  key: (c) => copyTradeKeys.key(c.copyId),
  indexes: (c) => copyTradeKeys.subscriptionIndex(c.subscriptionId, c.createdAt, c.copyId),
  what: 'copy trade',
});
export type CopyTradeItem = ItemOf<typeof copyTradeEntity>;
export const COPY_TRADE_ENTITY = copyTradeEntity.type;

export const getCopyTrade = (copyId: string) => copyTradeEntity.get(copyTradeKeys.key(copyId), { consistent: true });

/** A subscription's copies, newest first. */
export const listSubscriptionCopies = (
  subscriptionId: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<CopyTradeItem>> =>
  copyTradeEntity.query({
    index: 'gsi1',
    partition: copyTradeKeys.subscriptionPartition(subscriptionId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** Creates the copy `executing` with a lease; false when another executor created it first. */
export async function startCopyTrade(item: CopyTradeItem): Promise<boolean> {
  try {
    await ddb().send(
      new PutCommand({
        TableName: tableName(),
        Item: copyTradeEntity.indexed(item) as unknown as Record<string, unknown>,
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** Takes an executing copy's lease when it is free or expired (one executor at a time); false when it is held. */
export async function claimCopyTrade(copyId: string, nowMs: number, leaseMs: number): Promise<boolean> {
  try {
    await ddb().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: copyTradeKeys.key(copyId),
        UpdateExpression: 'SET leaseUntil = :until, attempts = attempts + :one',
        ConditionExpression: '#s = :executing AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':until': nowMs + leaseMs, ':one': 1, ':executing': 'executing', ':now': nowMs },
      }),
    );
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** Gives the lease back when nothing was sent to the platform (another attempt may start at once). */
export async function releaseCopyTrade(copyId: string): Promise<void> {
  await ddb()
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: copyTradeKeys.key(copyId),
        UpdateExpression: 'REMOVE leaseUntil',
        ConditionExpression: '#s = :executing',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':executing': 'executing' },
      }),
    )
    .catch(() => undefined);
}

/** Records on an executing copy the close it is about to send (how a crash after sending is recognised). */
export async function markCopyIntent(copyId: string, intent: { volumeBefore: string; volume: string }): Promise<void> {
  await ddb().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: copyTradeKeys.key(copyId),
      UpdateExpression: 'SET volumeBefore = :before, #vol = :volume',
      ConditionExpression: '#s = :executing',
      ExpressionAttributeNames: { '#s': 'status', '#vol': 'volume' },
      ExpressionAttributeValues: { ':executing': 'executing', ':before': intent.volumeBefore, ':volume': intent.volume },
    }),
  );
}

// ------------------------------------------------------------------------------------------------ links

export const PositionLinkSchema = z.object({
  subscriptionId: z.string().min(1),
  providerPositionId: z.number().int().min(0),
  /** The provider's close reached this follower before its open: the open is not copied. */
  closedFirst: z.boolean().optional(),
  followerPositionId: z.number().int().optional(),
  symbol: z.string().optional(),
  digits: z.number().int().min(0).optional(),
  /** The follower position's side. */
  side: z.enum(['buy', 'sell']).optional(),
  followerInitialVolume: int.optional(),
  followerOpenVolume: int.optional(),
  /** The share of the opening notional still open (minor units; exposure, functions/store/copy-exposure.ts). */
  followerOpenNotional: int.optional(),
  providerInitialVolume: int.optional(),
  providerOpenVolume: int.optional(),
  open: z.boolean(),
  openedBy: z.string().optional(),
});

export const positionLinkEntity = defineEntity({
  type: copyTradeKeys.linkType,
  schema: PositionLinkSchema,
  key: (l) => copyTradeKeys.link(l.subscriptionId, l.providerPositionId),
  what: 'copied position',
});
export type PositionLinkItem = ItemOf<typeof positionLinkEntity>;

export const getPositionLink = (subscriptionId: string, providerPositionId: number) =>
  positionLinkEntity.get(copyTradeKeys.link(subscriptionId, providerPositionId), { consistent: true });

/** Every link of a subscription whose follower position is open. */
export async function openLinks(subscriptionId: string): Promise<PositionLinkItem[]> {
  const out: PositionLinkItem[] = [];
  for await (const page of positionLinkEntity.queryPages({
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': copyTradeKeys.linkPartition(subscriptionId) },
    ConsistentRead: true,
  })) {
    for (const l of page) if (l.open) out.push(l);
  }
  return out;
}

export const newLinkWrite = (link: PositionLinkItem): CommitWrite =>
  positionLinkEntity.putNew(link, new DomainError('conflict', 'conflict', 'The provider position was linked by another request'));

// ------------------------------------------------------------------------------------------------ copy state

export const CopyStateSchema = z.object({
  subscriptionId: z.string().min(1),
  currency: z.string().min(1),
  /** The copy account's equity when the subscription started (minor units). */
  startEquity: int,
  /** The highest equity seen since, moved by deposits and withdrawals (the trailing drawdown's base). */
  peakEquity: int,
  /** Net money put into the copy account: start equity + deposits - withdrawals (the equity stop's base). */
  invested: int,
});

export const copyStateEntity = defineEntity({
  type: copyTradeKeys.stateType,
  schema: CopyStateSchema,
  key: (s) => copyTradeKeys.state(s.subscriptionId),
  what: 'copy state',
});
export type CopyStateItem = ItemOf<typeof copyStateEntity>;

export const getCopyState = (subscriptionId: string) =>
  copyStateEntity.get(copyTradeKeys.state(subscriptionId), { consistent: true });
