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

export interface DepositIntent {
  providerRef: string;
  status: 'pending' | 'succeeded' | 'failed';
  /** Where the client completes the payment (card page, wallet login), when the method needs it. */
  redirectUrl?: string;
  /** Bank wire: the reference and account details the client must quote. */
  instructions?: Record<string, string>;
  expiresAt?: string;
  failureCode?: string;
}

export interface PayoutRequest {
  withdrawalId: string;
  clientId: string;
  methodId: string;
  /** The net paid out. */
  amount: Money;
  /** Method-specific destination (IBAN, card token, wallet address), already validated. */
  destination: Record<string, string>;
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
  providerRef: string;
  amount: Money;
  occurredAt: string;
  failureCode?: string;
}

export interface WebhookInput {
  headers: Record<string, string>;
  rawBody: string;
  /** The clock, passed in (the domain has no clock of its own). */
  now: Date;
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
  /** Throws DomainError webhook_signature_invalid / webhook_timestamp_out_of_tolerance (401). */
  verifyWebhook(input: WebhookInput): PspEvent;
  settlementReport(period: { from: Date; to: Date }): Promise<SettlementLine[]>;
}
