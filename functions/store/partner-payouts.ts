/**
 * Partner payouts (issue 16 part 4, ADR 0018; keys: functions/store/keys.ts partnerKeys; rules:
 * domain/partners/payouts.ts; use cases: functions/app/partners/payouts.ts).
 *
 * Invariants:
 * - one item per payout id (po_<partnerId>_<yyyy-mm-dd>_<CUR>), put-if-absent; a 'held' or 'below_minimum' item of
 *   the day may be replaced by a later run of the same day (conditioned on its version); a 'paid' one never changes
 * - a 'paid' item is written in the transaction of its journal (journalId set), with the partner's paidThrough
 * - `from` (exclusive) and `periodEnd` (inclusive) bound the accruedAt of its lines: the statement re-lists them
 * - amount is a signed integer string of minor units of `currency`; lines is the count of lines in the window
 * - a partner's payouts are listed newest run date first (gsi1 PARTNERPAYOUTS#partnerId / localDate#payoutId)
 */
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { PAYOUT_STATUSES } from '#domain/partners/payouts.ts';
import { defineEntity, type ItemOf } from './entity.ts';
import { partnerKeys } from './keys.ts';
import type { Page } from './pagination.ts';

const int = z.string().regex(/^-?\d+$/);

export const payoutEntity = defineEntity({
  type: partnerKeys.payoutType,
  schema: z.object({
    payoutId: z.string().min(1),
    partnerId: z.string().min(1),
    /** The partner's client: its wallet is paid. */
    clientId: z.string().min(1),
    currency: z.string().min(3),
    /** The tenant-local run date (yyyy-mm-dd) the id names. */
    localDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    /** Exclusive accruedAt bound: the previous paid payout's periodEnd, or the epoch. */
    from: z.string().min(1),
    /** Inclusive accruedAt bound: the run time less the tenant's payoutSafetySeconds. */
    periodEnd: z.string().min(1),
    /** The window's net, signed minor units. */
    amount: int,
    lines: z.number().int().min(0),
    status: z.enum(PAYOUT_STATUSES),
    /** 'below_minimum': the tenant's minimum it was below (minor units). */
    minimum: int.optional(),
    /** 'held': the hold's reason. */
    holdReason: z.string().optional(),
    /** 'paid': the ledger journal (commission_expense -> the partner's wallet). */
    journalId: z.string().optional(),
    paidAt: z.string().optional(),
    /** 'paid' written from a journal found without its payout record (a crash recovered). */
    recovered: z.boolean().optional(),
  }),
  key: (p) => partnerKeys.payout(p.payoutId),
  indexes: (p) => ({ gsi1pk: partnerKeys.payoutsPartition(p.partnerId), gsi1sk: `${p.localDate}#${p.payoutId}` }),
  what: 'payout',
});
export type PayoutItem = ItemOf<typeof payoutEntity>;

export const payoutNotFound = () =>
  new DomainError('payout_not_found', 'not_found', 'No payout with this id', [
    { field: 'payoutId', code: 'payout_not_found', message: 'Unknown payout' },
  ]);

/** A payout by id. */
export const getPayout = (payoutId: string, opts: { consistent?: boolean } = {}) =>
  payoutEntity.get(partnerKeys.payout(payoutId), opts);

/** A partner's payouts, newest run date first. */
export const partnerPayouts = (
  partnerId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<PayoutItem>> =>
  payoutEntity.query({
    index: 'gsi1',
    partition: partnerKeys.payoutsPartition(partnerId),
    limit: page.limit,
    cursor: page.cursor,
    forward: false,
  });

/** The audit snapshot of a payout (no envelope). */
export const payoutSnapshot = (p: PayoutItem) => ({
  payoutId: p.payoutId,
  partnerId: p.partnerId,
  clientId: p.clientId,
  currency: p.currency,
  localDate: p.localDate,
  from: p.from,
  periodEnd: p.periodEnd,
  amount: p.amount,
  lines: p.lines,
  status: p.status,
  ...(p.minimum !== undefined ? { minimum: p.minimum } : {}),
  ...(p.holdReason ? { holdReason: p.holdReason } : {}),
  ...(p.journalId ? { journalId: p.journalId } : {}),
  ...(p.paidAt ? { paidAt: p.paidAt } : {}),
  ...(p.recovered ? { recovered: true } : {}),
});
