/**
 * Social exposure (issue 15): per symbol, direction and account currency, the open volume and notional of strategy
 * providers and of their followers' copies, for the dealing desk (keys: functions/store/keys.ts exposureKeys).
 *
 * Invariants:
 * - a read model of open positions: follower figures move in the same transaction as the copy that opens or closes
 *   (functions/app/copy/replicate.ts), so each copy counts exactly once; a provider deal counts once through its
 *   counted-deal marker, put-if-absent in the same transaction as the ADD (a re-delivered deal event adds nothing)
 * - volumes are MT5 units, notionals minor units of the currency (integer strings); a close subtracts the share of
 *   the opening notional it closes, so a position opened and closed nets to zero
 * - `alerted` is set by the exposure alert job when the followers' notional reaches the tenant threshold, and
 *   cleared when it falls below again: one alert per crossing
 */
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { type CommitWrite, tableName } from './items.ts';
import { exposureKeys } from './keys.ts';

const int = z.string().regex(/^-?\d+$/);

export const exposureEntity = defineEntity({
  type: exposureKeys.type,
  schema: z.object({
    symbol: z.string().min(1),
    side: z.enum(['buy', 'sell']),
    currency: z.string().min(1),
    providerVolume: z.coerce.string().pipe(int),
    providerNotional: z.coerce.string().pipe(int),
    followerVolume: z.coerce.string().pipe(int),
    followerNotional: z.coerce.string().pipe(int),
    alerted: z.boolean().optional(),
  }),
  key: (e) => exposureKeys.key(e.symbol, e.side, e.currency),
  what: 'exposure',
});
export type ExposureItem = ItemOf<typeof exposureEntity>;

export interface ExposureDelta {
  symbol: string;
  side: 'buy' | 'sell';
  currency: string;
  volume: bigint;
  notional: bigint;
}

const add = (who: 'provider' | 'follower', d: ExposureDelta) => ({
  Key: exposureKeys.key(d.symbol, d.side, d.currency),
  UpdateExpression: `SET #t = :type, #sym = :symbol, #side = :side, #cur = :currency, tenant = :tenant, createdAt = if_not_exists(createdAt, :now), updatedAt = :now, version = if_not_exists(version, :one) ADD #v :v, #n :n, #ov :zero, #on :zero`,
  ExpressionAttributeNames: {
    '#t': 'type',
    '#sym': 'symbol',
    '#side': 'side',
    '#cur': 'currency',
    '#v': `${who}Volume`,
    '#n': `${who}Notional`,
    '#ov': `${who === 'provider' ? 'follower' : 'provider'}Volume`,
    '#on': `${who === 'provider' ? 'follower' : 'provider'}Notional`,
  },
  ExpressionAttributeValues: {
    ':type': exposureKeys.type,
    ':symbol': d.symbol,
    ':side': d.side,
    ':currency': d.currency,
    ':tenant': env.tenant,
    ':now': new Date().toISOString(),
    ':one': 1,
    ':v': d.volume,
    ':n': d.notional,
    ':zero': 0,
  },
});

/** A follower's copy moving the exposure (a CommitWrite for the copy's transaction). */
export const followerExposure = (d: ExposureDelta): CommitWrite => ({ Update: add('follower', d) });

const positionKey = (positionRef: string) => ({ pk: `COPYEXPOSUREPOS#${positionRef}`, sk: 'POSITION' });

/**
 * Counts a provider's deal once (false: it was counted before). An opening deal records the position's volume and
 * notional; a closing deal takes off the share of that notional it closes (nothing for a position opened before
 * it was counted).
 */
export async function addProviderExposure(
  dealKey: string,
  positionRef: string,
  deal: { kind: 'open' | 'close'; symbol: string; side: 'buy' | 'sell'; currency: string; volume: bigint; notional: bigint },
): Promise<boolean> {
  const table = tableName();
  const marker = {
    Put: {
      TableName: table,
      Item: { ...exposureKeys.countedDeal(dealKey), type: 'copy-exposure-deal', tenant: env.tenant, dealKey },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
  let items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;
  if (deal.kind === 'open') {
    const d = { ...deal };
    items = [
      marker,
      {
        Put: {
          TableName: table,
          Item: {
            ...positionKey(positionRef),
            type: 'copy-exposure-position',
            tenant: env.tenant,
            symbol: d.symbol,
            side: d.side,
            currency: d.currency,
            volume: d.volume.toString(),
            notional: d.notional.toString(),
          },
        },
      },
      { Update: { TableName: table, ...add('provider', d) } },
    ];
  } else {
    const pos = (await ddb().send(new GetCommand({ TableName: table, Key: positionKey(positionRef), ConsistentRead: true })))
      .Item;
    if (!pos) return false;
    const volume = BigInt(pos.volume as string);
    const notional = BigInt(pos.notional as string);
    const closed = deal.volume >= volume ? volume : deal.volume;
    const share = volume > 0n ? (notional * closed) / volume : 0n;
    const side = pos.side as 'buy' | 'sell';
    items = [
      marker,
      {
        Update: {
          TableName: table,
          Key: positionKey(positionRef),
          UpdateExpression: 'SET volume = :v, notional = :n',
          ConditionExpression: 'volume = :before',
          ExpressionAttributeValues: {
            ':v': (volume - closed).toString(),
            ':n': (notional - share).toString(),
            ':before': pos.volume,
          },
        },
      },
      {
        Update: {
          TableName: table,
          ...add('provider', {
            symbol: pos.symbol as string,
            side,
            currency: pos.currency as string,
            volume: -closed,
            notional: -share,
          }),
        },
      },
    ];
  }
  try {
    await ddb().send(new TransactWriteCommand({ TransactItems: items }));
    return true;
  } catch (err) {
    const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    if (reasons[0]?.Code === 'ConditionalCheckFailed') return false;
    // another close of the same position counted between the read and the write: read it again
    if (reasons[1]?.Code === 'ConditionalCheckFailed') return addProviderExposure(dealKey, positionRef, deal);
    throw err;
  }
}

/** Every exposure row. */
export async function allExposure(): Promise<ExposureItem[]> {
  const out: ExposureItem[] = [];
  for await (const page of exposureEntity.queryPages({
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': exposureKeys.partition },
  })) {
    out.push(...page);
  }
  return out;
}
