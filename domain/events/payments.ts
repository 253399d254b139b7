/**
 * Events of the payments context: deposits, withdrawals, refunds and chargebacks (docs/decisions/0008-payments.md).
 *
 * Invariants:
 * - every definition follows domain/events/define.ts (versioning, money as strings, tolerant parsing)
 * - amounts are decimal strings in `currency`: a deposit's `gross` is what the client paid, `fee` ours, `net`
 *   (`amount` once completed) what the wallet is credited; a withdrawal's `amount` is the gross taken from the
 *   wallet, `net` what is paid out and `fee` the difference
 * - reason codes are those of domain/payments/reasons.ts as recorded (some are confidential: a consumer that
 *   shows them to a client goes through the client-safe texts)
 * - every withdrawal event carries the withdrawal as it is after the change (its `status` included)
 */
import * as z from 'zod';
import { REFUND_REASONS } from '../payments/refunds.ts';
import { WITHDRAWAL_STATUSES } from '../payments/status.ts';
import { currencyCode, decimal, defineEvent, id } from './define.ts';

// ---- deposits

const deposit = { depositId: id, clientId: id, walletId: id, methodId: id };
const depositClosed = z.object({ ...deposit, gross: decimal, currency: currencyCode, reason: z.string().min(1) });
const depositExample = {
  depositId: 'dep_01J8Z3',
  clientId: 'client-01J8Z3',
  walletId: 'wal_client-01J8Z3_EUR',
  methodId: 'card',
};

// ---- withdrawals

const withdrawal = z.object({
  withdrawalId: id,
  clientId: id,
  walletId: id,
  methodId: id,
  status: z.enum(WITHDRAWAL_STATUSES),
  amount: decimal,
  net: decimal,
  fee: decimal,
  currency: currencyCode,
});
const withdrawalExample = {
  withdrawalId: 'wd_01J8Z3',
  clientId: 'client-01J8Z3',
  walletId: 'wal_client-01J8Z3_EUR',
  methodId: 'card',
  amount: '250.00',
  net: '245.00',
  fee: '5.00',
  currency: 'EUR',
};
const withdrawalEnded = withdrawal.extend({ reason: z.string().min(1) });

// ---- refunds and chargebacks

const refund = z.object({
  refundId: id,
  depositId: id,
  clientId: id,
  walletId: id,
  amount: decimal,
  currency: currencyCode,
  reason: z.enum(REFUND_REASONS),
});
const refundExample = {
  refundId: 'rf_01J8Z3',
  depositId: 'dep_01J8Z3',
  clientId: 'client-01J8Z3',
  walletId: 'wal_client-01J8Z3_EUR',
  amount: '40.00',
  currency: 'EUR',
  reason: 'client_request' as const,
};

const chargeback = z.object({
  chargebackId: id,
  depositId: id,
  clientId: id,
  walletId: id,
  /** What the provider took back. */
  amount: decimal,
  currency: currencyCode,
  /** Debited from the wallet: min(available, amount). */
  fromWallet: decimal,
  /** The shortfall still owed by the client (amount - fromWallet). */
  receivable: decimal,
  /** The card scheme's reason code (never shown to the client). */
  reasonCode: z.string(),
  /** The compliance case the chargeback opened. */
  caseId: id,
});
const chargebackExample = {
  chargebackId: 'cb_01J8Z3',
  depositId: 'dep_01J8Z3',
  clientId: 'client-01J8Z3',
  walletId: 'wal_client-01J8Z3_EUR',
  amount: '100.00',
  currency: 'EUR',
  fromWallet: '60.00',
  receivable: '40.00',
  reasonCode: '10.4',
  caseId: 'case_01J8Z3',
};

export const PAYMENT_EVENTS = [
  defineEvent({
    detailType: 'payment.deposit.created',
    version: 1,
    context: 'payments',
    external: true,
    description: 'A client started a deposit (the payment intent); preVerification: it counts against the pre-KYC allowance.',
    schema: z.object({
      ...deposit,
      gross: decimal,
      fee: decimal,
      net: decimal,
      currency: currencyCode,
      preVerification: z.boolean(),
    }),
    example: { ...depositExample, gross: '100.00', fee: '2.50', net: '97.50', currency: 'EUR', preVerification: false },
  }),
  defineEvent({
    detailType: 'payment.deposit.completed',
    version: 1,
    context: 'payments',
    external: true,
    description:
      "A deposit was paid: `amount` (the net) was credited to the wallet by `journalId`; first: the client's first deposit.",
    schema: z.object({
      ...deposit,
      amount: decimal,
      gross: decimal,
      fee: decimal,
      currency: currencyCode,
      first: z.boolean(),
      journalId: id,
    }),
    example: {
      ...depositExample,
      amount: '97.50',
      gross: '100.00',
      fee: '2.50',
      currency: 'EUR',
      first: true,
      journalId: 'dep_01J8Z3',
    },
  }),
  defineEvent({
    detailType: 'payment.deposit.failed',
    version: 1,
    context: 'payments',
    external: true,
    description: 'A deposit failed (declined, cancelled at the provider); nothing was credited.',
    schema: depositClosed,
    example: { ...depositExample, gross: '100.00', currency: 'EUR', reason: 'payment_declined' },
  }),
  defineEvent({
    detailType: 'payment.deposit.expired',
    version: 1,
    context: 'payments',
    external: true,
    description: 'A deposit intent was never paid and expired (the deposit-expiry job); nothing was credited.',
    schema: depositClosed,
    example: { ...depositExample, gross: '100.00', currency: 'EUR', reason: 'intent_expired' },
  }),
  defineEvent({
    detailType: 'payment.withdrawal.received',
    version: 1,
    context: 'payments',
    external: false,
    description: 'A client asked for a withdrawal and its gross is held; starts the withdrawal-approval workflow.',
    schema: withdrawal,
    example: { ...withdrawalExample, status: 'received' },
  }),
  defineEvent({
    detailType: 'payment.withdrawal.under_review',
    version: 1,
    context: 'payments',
    external: true,
    description: 'The automatic checks sent a withdrawal to finance / compliance review (the reasons).',
    schema: withdrawal.extend({ reasons: z.array(z.string()) }),
    example: { ...withdrawalExample, status: 'under_review', reasons: ['aml_large_amount'] },
  }),
  defineEvent({
    detailType: 'payment.withdrawal.approved',
    version: 1,
    context: 'payments',
    external: true,
    description: 'A withdrawal was approved, by the automatic checks or by a reviewer.',
    schema: withdrawal.extend({ by: z.enum(['checks', 'review']) }),
    example: { ...withdrawalExample, status: 'approved', by: 'checks' },
  }),
  defineEvent({
    detailType: 'payment.withdrawal.processing',
    version: 1,
    context: 'payments',
    external: true,
    description: 'The payout of an approved withdrawal was sent to the provider.',
    schema: withdrawal,
    example: { ...withdrawalExample, status: 'processing' },
  }),
  defineEvent({
    detailType: 'payment.withdrawal.completed',
    version: 1,
    context: 'payments',
    external: true,
    description: 'The provider paid a withdrawal out: its hold was posted by `journalId`.',
    schema: withdrawal.extend({ journalId: id, providerRef: z.string().optional() }),
    example: { ...withdrawalExample, status: 'completed', journalId: 'wd_01J8Z3', providerRef: 'po_123' },
  }),
  defineEvent({
    detailType: 'payment.withdrawal.rejected',
    version: 1,
    context: 'payments',
    external: true,
    description: 'A withdrawal was rejected (checks or review): its hold was voided, the funds are available again.',
    schema: withdrawalEnded,
    example: { ...withdrawalExample, status: 'rejected', reason: 'closed_loop_violation' },
  }),
  defineEvent({
    detailType: 'payment.withdrawal.failed',
    version: 1,
    context: 'payments',
    external: true,
    description: 'A withdrawal failed (the payout failed, was returned or timed out): its hold was voided.',
    schema: withdrawalEnded,
    example: { ...withdrawalExample, status: 'failed', reason: 'payout_failed' },
  }),
  defineEvent({
    detailType: 'payment.withdrawal.cancelled',
    version: 1,
    context: 'payments',
    external: true,
    description: 'The client cancelled a withdrawal before a decision: its hold was voided.',
    schema: withdrawalEnded,
    example: { ...withdrawalExample, status: 'cancelled', reason: 'cancelled_by_client' },
  }),
  defineEvent({
    detailType: 'payment.refund.requested',
    version: 1,
    context: 'payments',
    external: true,
    description: "Finance asked for a deposit's refund to its original method; the amount is held on the wallet.",
    schema: refund,
    example: refundExample,
  }),
  defineEvent({
    detailType: 'payment.refund.completed',
    version: 1,
    context: 'payments',
    external: true,
    description: 'The provider refunded: the hold was posted by `journalId`; full: the deposit is refunded in full.',
    schema: refund.extend({ full: z.boolean(), journalId: id.optional() }),
    example: { ...refundExample, full: false, journalId: 'rf_01J8Z3' },
  }),
  defineEvent({
    detailType: 'payment.refund.failed',
    version: 1,
    context: 'payments',
    external: true,
    description: "The provider could not refund: the hold was voided (failureReason: the provider's answer).",
    schema: refund.extend({ failureReason: z.string() }),
    example: { ...refundExample, failureReason: 'refund_failed' },
  }),
  defineEvent({
    detailType: 'payment.chargeback.received',
    version: 1,
    context: 'payments',
    external: true,
    description:
      'A card holder disputed a deposit: the wallet was debited what it could cover, the rest is owed; a case is open.',
    schema: chargeback,
    example: chargebackExample,
  }),
  defineEvent({
    detailType: 'payment.chargeback.won',
    version: 1,
    context: 'payments',
    external: true,
    description: 'The broker won a dispute: the chargeback was reversed by `reversalJournalId`.',
    schema: chargeback.extend({ reversalJournalId: id }),
    example: { ...chargebackExample, reversalJournalId: 'cbr_cb_01J8Z3' },
  }),
  defineEvent({
    detailType: 'payment.chargeback.lost',
    version: 1,
    context: 'payments',
    external: true,
    description: 'The broker lost a dispute: no money moves (the chargeback stands).',
    schema: chargeback,
    example: chargebackExample,
  }),
] as const;
