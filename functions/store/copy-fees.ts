/**
 * Copy fees' items (keys: functions/store/keys.ts copyFeeKeys; rules: domain/copy/fees.ts and settlement.ts; the use
 * case: functions/app/copy/settle-fees.ts; ADR 0017 "Settlement"): the fee state of a subscription, the fee pair of a
 * follower and a strategy, and the charges.
 *
 * Invariants:
 * - the fee state is its own item beside the copy state (SUBSCRIPTION#<id> / FEES, not / STATE): the replication
 *   executor writes the copy state on every copy, and the fee state's version-conditioned writes must not race it
 * - the fee state is on the open index until its final charge closed it (`closedAt`): the daily job's work list
 * - `busyWith` names the one charge or wallet transfer that moves money in or out of the copy account while it is
 *   set: a charge starts only when it is free (and sets it in the transaction that puts the charge `pending`), a
 *   transfer on a copy account likewise; whoever set it clears it in the transaction that ends it. So the equity a
 *   charge reads never straddles a flow the mark does not know of, and the mark moves with every flow exactly once
 * - a charge is put `pending` with a lease (leaseUntil, ms) before the platform is asked: the one process that may
 *   talk to the platform about it; the lease is operational (claimed without a version change). It ends once,
 *   `completed` (with its ledger journal and platform ticket) or `failed` (with the platform's code), conditioned
 *   on the version read
 * - money is an integer string of minor units of `currency` (decimal strings only at the edge)
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { CHARGE_POINTS } from '#domain/copy/settlement.ts';
import { ddb } from '#shared/clients.ts';
import { positionLinkEntity } from './copy-trades.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { tableName } from './items.ts';
import { COPY_FEE_OPEN_SHARDS, copyFeeKeys, copyTradeKeys } from './keys.ts';
import type { Page } from './pagination.ts';

const int = z.string().regex(/^-?\d+$/);
const nat = z.string().regex(/^\d+$/);

// ------------------------------------------------------------------------------------------------ fee state

export const FeeStateSchema = z.object({
  subscriptionId: z.string().min(1),
  strategyId: z.string().min(1),
  followerClientId: z.string().min(1),
  followerAccountId: z.string().min(1),
  currency: z.string().min(1),
  /** The high-water mark (minor units). */
  mark: int,
  /** Management accrual numerator over MANAGEMENT_DENOMINATOR (domain/copy/fees.ts; a carried residue may be < 0). */
  managementAccrued: int,
  /** The last UTC day (yyyy-mm-dd) whose management fee is accrued. */
  lastAccrualDay: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  /** The subscription's start: the calendar's anchor. */
  anchorAt: z.string().min(1),
  /** The start of the period the next charge covers. */
  periodStartAt: z.string().min(1),
  /** The next monthly anniversary of the anchor. */
  nextAnniversaryAt: z.string().min(1),
  /** The subscription fee is paid up to here (absent before the first payment). */
  paidUntil: z.string().optional(),
  /** Notional (minor units) whose volume fee is charged. */
  volumeNotionalCharged: nat,
  /** What the start mark took over from an earlier copy of the same follower and strategy (minor units). */
  carriedIn: nat.optional(),
  /** The charge (cf_...) or wallet transfer (tt_...) moving money in or out of the copy account now. */
  busyWith: z.string().optional(),
  /** Charges the platform refused so far (part of the next charge's id: a new attempt after a refusal). */
  failures: z.number().int().min(0),
  lastChargeId: z.string().optional(),
  /** The final charge (stop) is done: nothing more is charged. */
  closedAt: z.string().optional(),
});

export const feeStateEntity = defineEntity({
  type: copyFeeKeys.stateType,
  schema: FeeStateSchema,
  key: (s) => copyFeeKeys.state(s.subscriptionId),
  indexes: (s) => (s.closedAt ? {} : copyFeeKeys.openIndex(s.subscriptionId, s.createdAt)),
  what: 'copy fee state',
});
export type FeeStateItem = ItemOf<typeof feeStateEntity>;

export const getFeeState = (subscriptionId: string) =>
  feeStateEntity.get(copyFeeKeys.state(subscriptionId), { consistent: true });

/** Every fee state not finally settled, shard by shard, page by page (the daily job's work list). */
export async function* openFeeStates(): AsyncGenerator<FeeStateItem[]> {
  for (let shard = 0; shard < COPY_FEE_OPEN_SHARDS; shard++) {
    yield* feeStateEntity.queryPages({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': copyFeeKeys.openPartition(shard) },
    });
  }
}

// ------------------------------------------------------------------------------------------------ fee pair

export const FeePairSchema = z.object({
  strategyId: z.string().min(1),
  followerClientId: z.string().min(1),
  /** The mark above the equity at the last stop, not yet taken over by a restart (minor units, >= 0). */
  carry: nat,
  currency: z.string().min(1),
  /** The subscription whose stop left the carry. */
  carriedFrom: z.string().optional(),
  /** The last subscription that took the carry over. */
  takenBy: z.string().optional(),
});

export const feePairEntity = defineEntity({
  type: copyFeeKeys.pairType,
  schema: FeePairSchema,
  key: (p) => copyFeeKeys.pair(p.strategyId, p.followerClientId),
  what: 'copy fee mark',
});
export type FeePairItem = ItemOf<typeof feePairEntity>;

export const getFeePair = (strategyId: string, followerClientId: string) =>
  feePairEntity.get(copyFeeKeys.pair(strategyId, followerClientId), { consistent: true });

// ------------------------------------------------------------------------------------------------ charges

export const CHARGE_STATUSES = ['pending', 'completed', 'failed'] as const;

export const ChargeSchema = z.object({
  chargeId: z.string().min(1),
  subscriptionId: z.string().min(1),
  strategyId: z.string().min(1),
  providerClientId: z.string().min(1),
  followerClientId: z.string().min(1),
  followerAccountId: z.string().min(1),
  /** The follower account's ledger account (tacc_...), debited. */
  ledgerAccountId: z.string().min(1),
  platform: z.string().min(1),
  server: z.string().min(1),
  login: z.number().int().min(1),
  currency: z.string().min(1),
  point: z.enum(CHARGE_POINTS),
  periodKey: z.string().min(1),
  periodStart: z.string().min(1),
  periodEnd: z.string().min(1),
  /** 'withdrawal': the transfer the charge comes before, and its amount. */
  transferId: z.string().optional(),
  withdrawal: nat.optional(),
  status: z.enum(CHARGE_STATUSES),
  reason: z.string().optional(),
  fees: z.object({ management: nat, performance: nat, volume: nat, subscription: nat, total: nat }),
  split: z.object({ provider: nat, broker: nat, brokerShareBps: z.number().int().min(0).max(10_000) }),
  /** What the charge was computed from. */
  inputs: z.object({
    equityBefore: int,
    equityAfter: int,
    markBefore: int,
    markAfter: int,
    markAfterWithdrawal: int.optional(),
    gain: nat,
    managementAccrued: int,
    volumeNotional: nat,
    volumeNotionalTotal: nat,
    rates: z.object({
      performanceBps: z.number().int(),
      managementBpsPerYear: z.number().int(),
      volumePerMillion: nat,
      subscriptionPerMonth: nat,
    }),
    /** Rates the tenant's caps cut to the cap. */
    capped: z.array(z.string()),
    paidUntilBefore: z.string().optional(),
    paidUntilAfter: z.string().optional(),
    carry: nat.optional(),
  }),
  /** The fee state after the charge, applied when it completes (computed once, before the platform is asked). */
  after: z.object({
    mark: int,
    managementAccrued: int,
    periodStartAt: z.string().min(1),
    nextAnniversaryAt: z.string().min(1),
    paidUntil: z.string().optional(),
    volumeNotionalCharged: nat,
  }),
  ticket: z.string().optional(),
  journalId: z.string().optional(),
  leaseUntil: z.number().int().optional(),
  attempts: z.number().int().min(0),
  uncertainSince: z.string().optional(),
  completedAt: z.string().optional(),
});

export const chargeEntity = defineEntity({
  type: copyFeeKeys.chargeType,
  schema: ChargeSchema,
  key: (c) => copyFeeKeys.charge(c.chargeId),
  indexes: (c) => copyFeeKeys.chargeIndexes(c),
  what: 'copy fee charge',
});
export type ChargeItem = ItemOf<typeof chargeEntity>;
export const CHARGE_ENTITY = chargeEntity.type;

export const getCharge = (chargeId: string) => chargeEntity.get(copyFeeKeys.charge(chargeId), { consistent: true });

/** A subscription's charges, newest first. */
export const listSubscriptionCharges = (
  subscriptionId: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<ChargeItem>> =>
  chargeEntity.query({
    index: 'gsi1',
    partition: copyFeeKeys.subscriptionPartition(subscriptionId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** A strategy's charges (its provider's fee income), newest first. */
export const listStrategyCharges = (
  strategyId: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<ChargeItem>> =>
  chargeEntity.query({
    index: 'gsi2',
    partition: copyFeeKeys.strategyPartition(strategyId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });

/** The provider's share of a strategy's completed charges, summed (minor units of the strategy's currency). */
export async function strategyFeeIncome(strategyId: string): Promise<bigint> {
  let total = 0n;
  for await (const page of chargeEntity.queryPages({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :p',
    ExpressionAttributeValues: { ':p': copyFeeKeys.strategyPartition(strategyId) },
  })) {
    for (const c of page) if (c.status === 'completed') total += BigInt(c.split.provider);
  }
  return total;
}

/** Every charge of a copy account, oldest first (reconciliation). */
export async function* accountCharges(accountId: string): AsyncGenerator<ChargeItem[]> {
  yield* chargeEntity.queryPages({
    IndexName: 'gsi3',
    KeyConditionExpression: 'gsi3pk = :p',
    ExpressionAttributeValues: { ':p': copyFeeKeys.accountPartition(accountId) },
  });
}

/** Takes a pending charge's lease when it is free or expired (one process at a time); false when held or ended. */
export async function claimCharge(chargeId: string, nowMs: number, leaseMs: number): Promise<boolean> {
  try {
    await ddb().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: copyFeeKeys.charge(chargeId),
        UpdateExpression: 'SET leaseUntil = :until',
        ConditionExpression: '#s = :pending AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':until': nowMs + leaseMs, ':pending': 'pending', ':now': nowMs },
      }),
    );
    return true;
  } catch (err) {
    if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** Gives a pending charge's lease back when nothing was sent to the platform (another attempt may start at once). */
export async function releaseCharge(chargeId: string): Promise<void> {
  await ddb()
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: copyFeeKeys.charge(chargeId),
        UpdateExpression: 'REMOVE leaseUntil',
        ConditionExpression: '#s = :pending',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':pending': 'pending' },
      }),
    )
    .catch(() => undefined);
}

/** The follower positions a subscription copied (every link that opened one, open or closed). */
export async function copiedPositions(subscriptionId: string): Promise<Set<number>> {
  const out = new Set<number>();
  for await (const page of positionLinkEntity.queryPages({
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': copyTradeKeys.linkPartition(subscriptionId) },
    ConsistentRead: true,
  })) {
    for (const l of page) if (l.followerPositionId !== undefined && !l.closedFirst) out.add(l.followerPositionId);
  }
  return out;
}
