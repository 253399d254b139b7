/**
 * The stored shapes of payments (keys in functions/store/keys.ts `paymentKeys`). Amounts are money
 * JSON ({ amount: '100.00', currency: 'EUR' }: canonical decimal strings, domain/money), never floats;
 * arithmetic goes through toMinor / formatAmount.
 *
 * Invariants shared by every payment item:
 * - `status` moves only along domain/payments/status.ts, each change conditioned on the version read
 *   (replaceVersioned) and committed with its audit entry (entity type = the item's `type`, id = its id)
 * - `timeline` only grows: one entry per status entered, with its time and, when delayed or refused,
 *   a machine reason code (shown to clients through the message catalogue in their locale)
 */
import type { MoneyJson } from '#domain/money/index.ts';
import type { NextAction } from '#domain/payments/ports.ts';
import type { DepositStatus, WithdrawalStatus } from '#domain/payments/status.ts';
import type { BaseItem } from '../table.ts';

export interface TimelineEntry<S extends string = string> {
  status: S;
  at: string;
  /** A stable machine code (reason catalogue); present when the status is a delay or a refusal. */
  reason?: string | undefined;
}

export type DepositItem = BaseItem & {
  type: 'deposit';
  depositId: string;
  clientId: string;
  walletId: string;
  methodId: string;
  methodKind: string;
  provider: string;
  /** What the client pays. */
  gross: MoneyJson;
  /** The tenant's fee (domain/payments quoteFee), into fee income. */
  fee: MoneyJson;
  /** What reaches the wallet: gross - fee. */
  net: MoneyJson;
  status: DepositStatus;
  timeline: TimelineEntry<DepositStatus>[];
  /** The request's Idempotency-Key and body hash (a retried create finds this deposit). */
  idempotencyKey: string;
  requestHash: string;
  providerRef?: string | undefined;
  nextAction?: NextAction | undefined;
  /** When an unpaid intent expires (not the table TTL attribute). */
  intentExpiresAt: string;
  /** Set on completion. */
  journalId?: string | undefined;
  completedAt?: string | undefined;
  /** The client's first completed deposit (IB CPA keys on it). */
  firstDeposit?: boolean | undefined;
  /** deposit.succeeded's source account: the closed-loop funding source. */
  sourceId?: string | undefined;
  sourceDisplay?: string | undefined;
  /** Counted against the pre-verification allowance (the client was not KYC-approved when it was created). */
  preVerification?: boolean | undefined;
  /** Refunded so far (completed refunds), in the deposit's currency. */
  refunded?: MoneyJson | undefined;
  chargebackId?: string | undefined;
  failureReason?: string | undefined;
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk?: string | undefined;
  gsi2sk?: string | undefined;
  /** The back office's list by status (absent on deposits written before the index existed). */
  gsi3pk?: string | undefined;
  gsi3sk?: string | undefined;
};

/** One automatic check's outcome (domain/payments/withdrawal-checks.ts). */
export interface WithdrawalCheckResult {
  check: 'kyc_valid' | 'closed_loop' | 'aml_large_amount' | 'aml_round_trip' | 'documents_requested' | 'withdrawals_frozen';
  passed: boolean;
  /** The machine reason when it failed (withdrawal reason catalogue). */
  reason?: string | undefined;
  /** What the check saw (amounts as money JSON, dates ISO): shown to reviewers. */
  evidence: Record<string, unknown>;
}

export type WithdrawalItem = BaseItem & {
  type: 'withdrawal';
  withdrawalId: string;
  clientId: string;
  walletId: string;
  methodId: string;
  methodKind: string;
  provider: string;
  /** Held and debited from the wallet. */
  gross: MoneyJson;
  fee: MoneyJson;
  /** Paid out: gross - fee. */
  net: MoneyJson;
  /** Where the payout goes: a funding source id (card, e-wallet) or an account (IBAN, crypto address). */
  destination: { sourceId?: string | undefined; account: string; display: string };
  holdId: string;
  status: WithdrawalStatus;
  timeline: TimelineEntry<WithdrawalStatus>[];
  idempotencyKey: string;
  requestHash: string;
  checks?: WithdrawalCheckResult[] | undefined;
  /** The approval execution waiting in manual review / for the payout confirmation. */
  reviewTaskToken?: string | undefined;
  payoutTaskToken?: string | undefined;
  review?:
    | {
        openedAt: string;
        decidedAt?: string | undefined;
        decidedBy?: string | undefined;
        decidedByRole?: string | undefined;
        decision?: 'approve' | 'reject' | undefined;
        reason?: string | undefined;
        note?: string | undefined;
      }
    | undefined;
  payout?:
    | {
        providerRef: string;
        sentAt: string;
        /** Recorded by the payout webhook; the finalize step acts on it. */
        outcome?: 'paid' | 'failed' | undefined;
        outcomeAt?: string | undefined;
        failureCode?: string | undefined;
        /** The provider paid after the withdrawal had failed (a late_payout case was opened). */
        latePaidAt?: string | undefined;
        /** The provider reported the completed payout failed / returned (a payout_returned case was opened). */
        returnedAt?: string | undefined;
      }
    | undefined;
  journalId?: string | undefined;
  /** The approval execution when the watchdog restarted it (else its name is the withdrawal id). */
  execution?: { name: string; attempt: number } | undefined;
  /** The watchdog gave up restarting its execution (alarmed; people take over). */
  stalledAt?: string | undefined;
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk: string;
  gsi2sk: string;
};
