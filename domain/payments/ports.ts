/**
 * The payment service provider (PSP) port: what the back office needs from any PSP. Adapters live in
 * functions/adapters (a sandbox provider is the local default); the domain only sees these types.
 *
 * Contract every adapter keeps:
 * - every call that creates something carries our idempotency key; repeating it returns the same
 *   provider object (no second intent or payout)
 * - money crosses the port as bigint minor units of one currency (domain/money), never floats
 * - verifyWebhook authenticates before it parses: HMAC over `timestamp.rawBody` with the provider
 *   secret, compared in constant time, refused outside the tolerance window (replays), and the
 *   event id is what the caller de-duplicates on
 * - a provider reference (`providerRef`) is unique per provider and is how webhooks and settlement
 *   lines find our deposit / withdrawal
 */
import type { Money } from '../money/index.ts';

export interface DepositIntentRequest {
  depositId: string;
  clientId: string;
  methodId: string;
  /** The gross the client pays. */
  amount: Money;
  idempotencyKey: string;
  returnUrl?: string;
}

/** What the client does next to pay: the provider's hosted page, a wire with our reference, or a crypto transfer. */
export type NextAction =
  | { type: 'redirect'; url: string }
  | { type: 'bank_transfer'; reference: string; beneficiary: string; iban: string; bic: string }
  | { type: 'crypto_address'; network: string; address: string };

export interface DepositIntent {
  providerRef: string;
  status: 'pending' | 'failed';
  nextAction?: NextAction;
  failureCode?: string;
}

export interface PayoutRequest {
  withdrawalId: string;
  clientId: string;
  methodId: string;
  /** The net paid out. */
  amount: Money;
  /** Where the money goes: the funding source's provider fingerprint (card, wallet) or an IBAN / address. */
  destination: { account: string };
  idempotencyKey: string;
}

export interface Payout {
  providerRef: string;
  status: 'processing' | 'paid' | 'failed';
  failureCode?: string;
}

export interface RefundRequest {
  depositProviderRef: string;
  amount: Money;
  idempotencyKey: string;
  reason: string;
}

export interface Refund {
  providerRef: string;
  status: 'pending' | 'succeeded' | 'failed';
}

export type PspEventType =
  | 'deposit.succeeded'
  | 'deposit.failed'
  | 'deposit.expired'
  | 'payout.paid'
  | 'payout.failed'
  | 'refund.succeeded'
  | 'refund.failed'
  | 'chargeback.opened'
  | 'chargeback.won'
  | 'chargeback.lost';

export interface PspEvent {
  /** The provider's event id: the de-duplication key. */
  eventId: string;
  type: PspEventType;
  /** The provider's id of the payment (deposit, payout or refund) the event is about. */
  providerRef: string;
  /** Our id of that payment (depositId / withdrawalId / refundId), echoed back by the provider. */
  merchantRef?: string;
  amount: Money;
  occurredAt: string;
  failureCode?: string;
  /** deposit.succeeded: the account the money came from (closed loop keys on `fingerprint`). */
  source?: { fingerprint: string; display: string };
  /** chargeback.*: the provider's dispute id and the scheme's reason code. */
  dispute?: { id: string; reasonCode: string };
}

export interface WebhookInput {
  /** Lower-cased header names. */
  headers: Record<string, string>;
  rawBody: string;
  /** The clock, passed in (the domain has no clock of its own). */
  now: Date;
  /** The provider's current webhook secrets (more than one while rotating). */
  secrets: readonly string[];
}

export interface SettlementLine {
  providerRef: string;
  kind: 'deposit' | 'payout' | 'refund' | 'chargeback' | 'fee';
  amount: Money;
  /** The provider's own fee on this line (what the PSP keeps, not the client fee). */
  providerFee: Money;
  settledAt: string;
}

export interface PspPort {
  /** The provider id methods name in the tenant config (`payments.methods[].provider`). */
  readonly provider: string;
  createDepositIntent(req: DepositIntentRequest): Promise<DepositIntent>;
  createPayout(req: PayoutRequest): Promise<Payout>;
  refund(req: RefundRequest): Promise<Refund>;
  /**
   * Authenticates, then parses: throws the 401 DomainErrors of webhook-signature.ts (signature_missing,
   * signature_malformed, signature_expired, signature_invalid) before looking at the body, and 400
   * webhook_malformed for a signed body it cannot read. Pure: no I/O.
   */
  verifyWebhook(input: WebhookInput): PspEvent;
  settlementReport(period: { from: Date; to: Date }): Promise<SettlementLine[]>;
}
