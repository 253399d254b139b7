/**
 * Chargebacks (pk CHARGEBACK#<chargebackId>, sk CHARGEBACK; gsi1 CHARGEBACKS#<clientId>): a disputed
 * deposit taken back by the provider. The stored item, its reads and its writes; opening and resolving
 * one are use cases (functions/app/payments/open-chargeback.ts, resolve-chargeback.ts). Money rules:
 * domain/payments/chargebacks.ts; ADR 0008.
 *
 * Invariants:
 * - a chargeback id is derived from (provider, dispute id): `chb_<hash>`; one dispute is one
 *   chargeback and one journal (`cb_<chargebackId>`; its reversal `cbr_<chargebackId>`)
 * - a new chargeback is put-if-absent (409 chargeback_exists) with status 'open' and one timeline entry
 *   naming the dispute's reason code
 * - reads are strongly consistent (a dispute delivered twice must see the first one's chargeback) and parsed
 *   (chargebackEntity: a malformed item is a StoredItemError)
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { DomainError } from '#domain/errors.ts';
import { CHARGEBACK_STATUSES } from '#domain/payments/chargebacks.ts';
import { defineEntity, type ItemOf } from '../entity.ts';
import type { CommitWrite } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import { MoneyJsonSchema, timelineEntrySchema } from './types.ts';

export const ChargebackSchema = z.object({
  chargebackId: z.string().min(1),
  provider: z.string().min(1),
  disputeId: z.string().min(1),
  reasonCode: z.string(),
  depositId: z.string().min(1),
  depositProviderRef: z.string().min(1),
  clientId: z.string().min(1),
  walletId: z.string().min(1),
  /** A: what the provider took back. */
  amount: MoneyJsonSchema,
  /** Debited from the wallet: min(available, A). */
  fromWallet: MoneyJsonSchema,
  /** The shortfall booked to chargeback_receivable: A - fromWallet. */
  receivable: MoneyJsonSchema,
  status: z.enum(CHARGEBACK_STATUSES),
  timeline: z.array(timelineEntrySchema(CHARGEBACK_STATUSES)).min(1),
  journalId: z.string().min(1),
  reversalJournalId: z.string().optional(),
  caseId: z.string().min(1),
  openedAt: z.string().min(1),
  resolvedAt: z.string().optional(),
});

/**
 * pk CHARGEBACK#<chargebackId> / CHARGEBACK
 * gsi1 CHARGEBACKS#<clientId> / <createdAt>#<chargebackId>   (a client's chargebacks)
 */
export const chargebackEntity = defineEntity({
  type: paymentKeys.chargebackType,
  schema: ChargebackSchema,
  key: (c) => paymentKeys.chargeback(c.chargebackId),
  indexes: (c) => paymentKeys.clientChargebacksIndex(c.clientId, c.createdAt, c.chargebackId),
});

export const CHARGEBACK_ENTITY = chargebackEntity.type;

export type ChargebackItem = ItemOf<typeof chargebackEntity>;

export const chargebackIdFor = (provider: string, disputeId: string) =>
  `chb_${createHash('sha256').update(`${provider}\u0000${disputeId}`, 'utf8').digest('hex').slice(0, 32)}`;
export const chargebackJournalId = (chargebackId: string) => `cb_${chargebackId}`;
export const chargebackReversalJournalId = (chargebackId: string) => `cbr_${chargebackId}`;

export const getChargeback = (chargebackId: string): Promise<ChargebackItem | undefined> =>
  chargebackEntity.get(paymentKeys.chargeback(chargebackId), { consistent: true });

export const chargebackSnapshot = (c: ChargebackItem) => ({
  chargebackId: c.chargebackId,
  depositId: c.depositId,
  disputeId: c.disputeId,
  reasonCode: c.reasonCode,
  status: c.status,
  amount: c.amount,
  fromWallet: c.fromWallet,
  receivable: c.receivable,
  journalId: c.journalId,
  ...(c.reversalJournalId ? { reversalJournalId: c.reversalJournalId } : {}),
  caseId: c.caseId,
});

/** The detail of a chargeback's outbox events. */
export const chargebackEventDetail = (c: ChargebackItem) => ({
  chargebackId: c.chargebackId,
  depositId: c.depositId,
  clientId: c.clientId,
  walletId: c.walletId,
  amount: c.amount.amount,
  currency: c.amount.currency,
  fromWallet: c.fromWallet.amount,
  receivable: c.receivable.amount,
  reasonCode: c.reasonCode,
  caseId: c.caseId,
});

/** What a new chargeback is made of; the status 'open', its timeline, keys and envelope are added here. */
export type NewChargebackFields = Omit<z.output<typeof ChargebackSchema>, 'status' | 'timeline'>;

/** A new chargeback in 'open' (the dispute's reason code on its timeline) and its put (409 chargeback_exists). */
export function newChargeback(f: NewChargebackFields, at: string): { chargeback: ChargebackItem; write: CommitWrite } {
  const chargeback = chargebackEntity.item(
    { ...f, status: 'open', timeline: [{ status: 'open', at, reason: f.reasonCode }] },
    at,
  );
  return {
    chargeback,
    write: chargebackEntity.putNew(
      chargeback,
      new DomainError('chargeback_exists', 'conflict', 'This chargeback is already recorded'),
    ),
  };
}
