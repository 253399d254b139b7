/**
 * Commission accrual lines and deal results (issue 16, ADR 0018; keys: functions/store/keys.ts partnerKeys).
 *
 * Invariants:
 * - a line is put-if-absent under (source, partner, rule, seq) and never changed: a correction is a new line of the
 *   same source with the next seq (kind 'adjustment'), a clawback a new line under its cause (kind 'clawback')
 * - a line's amount is a signed integer string of minor units of its currency; every line names the plan version,
 *   the rate and the inputs it was computed from, so it can be explained and recomputed
 * - a source's lines and its result are one partition: one query reads what a deal earned and why
 * - a partner's lines are listed in accrual order (gsi1): a payout is a window of that order, never a flag on a line
 * - a client's lines are listed by deal time (gsi2): a clawback reads the window before its cause
 */
import * as z from 'zod';
import { defineEntity, type ItemOf } from './entity.ts';
import { partnerKeys } from './keys.ts';
import { queryPages } from './pagination.ts';

const int = z.string().regex(/^-?\d+$/);

export const LINE_KINDS = ['accrual', 'adjustment', 'clawback'] as const;

export const lineEntity = defineEntity({
  type: partnerKeys.lineType,
  schema: z.object({
    lineId: z.string().min(1),
    sourceKey: z.string().min(1),
    kind: z.enum(LINE_KINDS),
    seq: z.number().int().min(0),
    partnerId: z.string().min(1),
    tier: z.number().int().min(0),
    rule: z.string().min(1),
    amount: int,
    currency: z.string().min(3),
    rate: z.string(),
    inputs: z.record(z.string(), z.string()),
    planId: z.string(),
    planVersion: z.number().int().min(0),
    clientId: z.string().min(1),
    accountId: z.string().optional(),
    dealTimeMsc: z.number().int().min(0),
    accruedAt: z.string().min(1),
    /** The line a clawback reverses. */
    clawsBack: z.string().optional(),
  }),
  key: (l) => partnerKeys.line(l.sourceKey, l.partnerId, l.rule, l.seq),
  indexes: (l) => ({
    gsi1pk: partnerKeys.partnerLinesPartition(l.partnerId),
    gsi1sk: `${l.accruedAt}#${l.lineId}`,
    gsi2pk: partnerKeys.clientLinesPartition(l.clientId),
    gsi2sk: `${String(l.dealTimeMsc).padStart(15, '0')}#${l.lineId}`,
  }),
  what: 'commission line',
});
export type LineItem = ItemOf<typeof lineEntity>;

export const lineIdOf = (sourceKey: string, partnerId: string, rule: string, seq: number) =>
  `${sourceKey}/${partnerId}/${rule}/${seq}`;

const reason = z.object({ code: z.string(), detail: z.string() });

export const resultEntity = defineEntity({
  type: partnerKeys.resultType,
  schema: z.object({
    sourceKey: z.string().min(1),
    clientId: z.string().min(1),
    accountId: z.string().optional(),
    dealTimeMsc: z.number().int().min(0),
    symbol: z.string().optional(),
    lots: z.string(),
    volume: int,
    qualifyingVolume: int,
    hedgedVolume: int,
    chain: z.array(
      z.object({
        partnerId: z.string(),
        tier: z.number().int().min(0),
        planId: z.string(),
        planVersion: z.number().int().min(0),
        qualified: z.boolean(),
        reasons: z.array(reason),
      }),
    ),
    /** Why nothing at all was evaluated (no partner at the deal's time, no opening deal, ...). */
    reasons: z.array(reason),
    lines: z.number().int().min(0),
    evaluatedAt: z.string(),
  }),
  key: (r) => partnerKeys.result(r.sourceKey),
  what: 'deal result',
});
export type ResultItem = ItemOf<typeof resultEntity>;

/** A source's lines and result (one partition, strongly consistent: a re-evaluation reads what it will add to). */
export async function sourceLines(sourceKey: string): Promise<{ lines: LineItem[]; result: ResultItem | undefined }> {
  const lines: LineItem[] = [];
  let result: ResultItem | undefined;
  for await (const page of queryPages({
    KeyConditionExpression: 'pk = :p',
    ExpressionAttributeValues: { ':p': partnerKeys.sourcePartition(sourceKey) },
    ConsistentRead: true,
  })) {
    for (const raw of page) {
      if (lineEntity.is(raw)) lines.push(lineEntity.parse(raw));
      else if (resultEntity.is(raw)) result = resultEntity.parse(raw);
    }
  }
  return { lines, result };
}

/** A partner's lines accrued in (fromExclusive, toInclusive] (ISO instants), in accrual order. */
export async function* partnerLines(partnerId: string, fromExclusive: string, toInclusive: string): AsyncGenerator<LineItem[]> {
  yield* lineEntity.queryPages({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p AND gsi1sk BETWEEN :from AND :to',
    ExpressionAttributeValues: {
      ':p': partnerKeys.partnerLinesPartition(partnerId),
      // '#' sorts before every character of an id, '~' after: the bounds are exclusive / inclusive of the instant.
      ':from': `${fromExclusive}#~`,
      ':to': `${toInclusive}#~`,
    },
  });
}

/** A client's lines whose deal time is at or after `fromMsc`, by deal time. */
export async function* clientLinesFrom(clientId: string, fromMsc: number): AsyncGenerator<LineItem[]> {
  yield* lineEntity.queryPages({
    IndexName: 'gsi2',
    KeyConditionExpression: 'gsi2pk = :p AND gsi2sk >= :from',
    ExpressionAttributeValues: {
      ':p': partnerKeys.clientLinesPartition(clientId),
      ':from': String(Math.max(0, Math.floor(fromMsc))).padStart(15, '0'),
    },
  });
}
