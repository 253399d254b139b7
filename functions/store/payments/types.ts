/**
 * The stored shapes of deposits and withdrawals, declared once each (functions/store/entity.ts): the zod
 * schema of the attributes, the key (functions/store/keys.ts `paymentKeys`) and the index attributes computed
 * on every write. Amounts are money JSON ({ amount: '100.00', currency: 'EUR' }: canonical decimal strings,
 * domain/money), never floats; arithmetic goes through toMinor / formatAmount.
 *
 * Invariants shared by every payment item:
 * - `status` moves only along domain/payments/status.ts, each change conditioned on the version read
 *   (the entity's replace) and committed with its audit entry (entity type = the item's `type`, id = its id)
 * - `timeline` only grows: one entry per status entered, with its time and, when delayed or refused,
 *   a machine reason code (shown to clients through the message catalogue in their locale)
 * - the status indexes are derived from the status and the time it was entered (the timeline's last entry),
 *   never set by a write site; the deposit's open index (gsi2) exists exactly while it is created or pending
 */
import * as z from 'zod';
import { DEPOSIT_STATUSES, type DepositStatus, WITHDRAWAL_STATUSES, type WithdrawalStatus } from '#domain/payments/status.ts';
import { defineEntity, type ItemOf } from '../entity.ts';
import { paymentKeys } from '../keys.ts';

export const MoneyJsonSchema = z.object({ amount: z.string().min(1), currency: z.string().min(1) });

export const timelineEntrySchema = <S extends readonly [string, ...string[]]>(statuses: S) =>
  z.object({ status: z.enum(statuses), at: z.string().min(1), reason: z.string().optional() });

export interface TimelineEntry<S extends string = string> {
  status: S;
  at: string;
  /** A stable machine code (reason catalogue); present when the status is a delay or a refusal. */
  reason?: string | undefined;
}

/** The time the item entered its current status. */
export const statusAt = (i: { timeline: readonly { at: string }[]; createdAt: string }) => i.timeline.at(-1)?.at ?? i.createdAt;

const NextActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('redirect'), url: z.string() }),
  z.object({
    type: z.literal('bank_transfer'),
    reference: z.string(),
    beneficiary: z.string(),
    iban: z.string(),
    bic: z.string(),
  }),
  z.object({ type: z.literal('crypto_address'), network: z.string(), address: z.string() }),
]);

// ------------------------------------------------------------------------------------------------ deposit

export const DepositSchema = z.object({
  depositId: z.string().min(1),
  clientId: z.string().min(1),
  walletId: z.string().min(1),
  methodId: z.string().min(1),
  methodKind: z.string().min(1),
  provider: z.string().min(1),
  /** What the client pays. */
  gross: MoneyJsonSchema,
  /** The tenant's fee (domain/payments quoteFee), into fee income. */
  fee: MoneyJsonSchema,
  /** What reaches the wallet: gross - fee. */
  net: MoneyJsonSchema,
  status: z.enum(DEPOSIT_STATUSES),
  timeline: z.array(timelineEntrySchema(DEPOSIT_STATUSES)).min(1),
  /** The request's Idempotency-Key and body hash (a retried create finds this deposit). */
  idempotencyKey: z.string(),
  requestHash: z.string(),
  providerRef: z.string().optional(),
  nextAction: NextActionSchema.optional(),
  /** When an unpaid intent expires (not the table TTL attribute). */
  intentExpiresAt: z.string().min(1),
  /** Set on completion. */
  journalId: z.string().optional(),
  completedAt: z.string().optional(),
  /** The client's first completed deposit (IB CPA keys on it). */
  firstDeposit: z.boolean().optional(),
  /** deposit.succeeded's source account: the closed-loop funding source. */
  sourceId: z.string().optional(),
  sourceDisplay: z.string().optional(),
  /** Counted against the pre-verification allowance (the client was not KYC-approved when it was created). */
  preVerification: z.boolean().optional(),
  /** Refunded so far (completed refunds), in the deposit's currency. */
  refunded: MoneyJsonSchema.optional(),
  /** Reserved by pending refunds (functions/store/payments/refunds.ts), in the deposit's currency. */
  refundsPending: MoneyJsonSchema.optional(),
  chargebackId: z.string().optional(),
  failureReason: z.string().optional(),
  /** The account the client said it pays from (bank wire IBAN): the funding source when the provider's event names none. */
  payerAccount: z.string().optional(),
  /** What the deposit reserved of the pre-verification allowance, in the limit's currency (released on failed / expired). */
  preVerificationCounted: MoneyJsonSchema.optional(),
});

const isOpenDepositStatus = (s: DepositStatus) => s === 'created' || s === 'pending';

/**
 * pk DEPOSIT#<depositId> / DEPOSIT
 * gsi1 DEPOSITS#<clientId> / <createdAt>#<depositId>                (a client's deposits)
 * gsi2 DEPOSITSOPEN#<n> / <intentExpiresAt>#<depositId>             (sparse: created / pending only; the expiry job)
 * gsi3 DEPOSITQ#<status> / <statusAt>#<depositId>                   (the back office by status)
 */
export const depositEntity = defineEntity({
  type: paymentKeys.depositType,
  schema: DepositSchema,
  key: (d) => paymentKeys.deposit(d.depositId),
  indexes: (d) => ({
    ...paymentKeys.clientDepositsIndex(d.clientId, d.createdAt, d.depositId),
    ...(isOpenDepositStatus(d.status) ? paymentKeys.openDepositIndex(d.depositId, d.intentExpiresAt) : {}),
    ...paymentKeys.depositStatusIndex(d.status, statusAt(d), d.depositId),
  }),
});

export type DepositItem = ItemOf<typeof depositEntity>;

// ------------------------------------------------------------------------------------------------ withdrawal

const WITHDRAWAL_CHECKS = [
  'kyc_valid',
  'closed_loop',
  'aml_large_amount',
  'aml_round_trip',
  'documents_requested',
  'withdrawals_frozen',
] as const;

/** One automatic check's outcome (domain/payments/withdrawal-checks.ts). */
export const WithdrawalCheckResultSchema = z.object({
  check: z.enum(WITHDRAWAL_CHECKS),
  passed: z.boolean(),
  /** The machine reason when it failed (withdrawal reason catalogue). */
  reason: z.string().optional(),
  /** What the check saw (amounts as money JSON, dates ISO): shown to reviewers. */
  evidence: z.record(z.string(), z.unknown()),
});
export type WithdrawalCheckResult = z.infer<typeof WithdrawalCheckResultSchema>;

export const WithdrawalSchema = z.object({
  withdrawalId: z.string().min(1),
  clientId: z.string().min(1),
  walletId: z.string().min(1),
  methodId: z.string().min(1),
  methodKind: z.string().min(1),
  provider: z.string().min(1),
  /** Held and debited from the wallet. */
  gross: MoneyJsonSchema,
  fee: MoneyJsonSchema,
  /** Paid out: gross - fee. */
  net: MoneyJsonSchema,
  /** Where the payout goes: a funding source id (card, e-wallet) or an account (IBAN, crypto address). */
  destination: z.object({ sourceId: z.string().optional(), account: z.string(), display: z.string() }),
  holdId: z.string().min(1),
  status: z.enum(WITHDRAWAL_STATUSES),
  timeline: z.array(timelineEntrySchema(WITHDRAWAL_STATUSES)).min(1),
  idempotencyKey: z.string(),
  requestHash: z.string(),
  checks: z.array(WithdrawalCheckResultSchema).optional(),
  /** The approval execution waiting in manual review / for the payout confirmation. */
  reviewTaskToken: z.string().optional(),
  payoutTaskToken: z.string().optional(),
  review: z
    .object({
      openedAt: z.string(),
      decidedAt: z.string().optional(),
      decidedBy: z.string().optional(),
      decidedByRole: z.string().optional(),
      decision: z.enum(['approve', 'reject']).optional(),
      reason: z.string().optional(),
      note: z.string().optional(),
    })
    .optional(),
  payout: z
    .object({
      providerRef: z.string(),
      sentAt: z.string(),
      /** Recorded by the payout webhook; the finalize step acts on it. */
      outcome: z.enum(['paid', 'failed']).optional(),
      outcomeAt: z.string().optional(),
      failureCode: z.string().optional(),
      /** The provider paid after the withdrawal had failed (a late_payout case was opened). */
      latePaidAt: z.string().optional(),
      /** The provider reported the completed payout failed / returned (a payout_returned case was opened). */
      returnedAt: z.string().optional(),
    })
    .optional(),
  journalId: z.string().optional(),
  /** The approval execution when the watchdog restarted it (else its name is the withdrawal id). */
  execution: z.object({ name: z.string(), attempt: z.number().int() }).optional(),
  /** The watchdog gave up restarting its execution (alarmed; people take over). */
  stalledAt: z.string().optional(),
});

/**
 * pk WITHDRAWAL#<withdrawalId> / WITHDRAWAL
 * gsi1 WITHDRAWALS#<clientId> / <createdAt>#<withdrawalId>          (a client's withdrawals)
 * gsi2 WITHDRAWALQ#<status> / <statusAt>#<withdrawalId>             (the back office by status, oldest first)
 */
export const withdrawalEntity = defineEntity({
  type: paymentKeys.withdrawalType,
  schema: WithdrawalSchema,
  key: (w) => paymentKeys.withdrawal(w.withdrawalId),
  indexes: (w) => ({
    ...paymentKeys.clientWithdrawalsIndex(w.clientId, w.createdAt, w.withdrawalId),
    ...paymentKeys.withdrawalStatusIndex(w.status, statusAt(w), w.withdrawalId),
  }),
});

export type WithdrawalItem = ItemOf<typeof withdrawalEntity>;
export type { DepositStatus, WithdrawalStatus };
