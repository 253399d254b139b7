/**
 * Planning a deposit (issue 5, docs/decisions/0008-payments.md): everything decided before anything
 * is written or the provider is called. Pure: the clock, the tenant config, the client's KYC facts
 * and any FX rate are passed in.
 *
 * Invariants:
 * - the checks run in this order, each refusal its own DomainError (nothing is written on refusal):
 *   currency_mismatch (amount vs wallet), method_not_offered_in_region, the assertAmountAllowed codes
 *   (method_direction_not_supported, currency_not_supported_by_method, amount_below_minimum,
 *   amount_above_maximum), then the KYC gate (kyc_required 403, pre_verification_limit_exceeded 422)
 * - the fee is quoteFee's: taken out of the gross, net = gross - fee > 0 for every allowed gross
 * - a KYC-approved client is never subject to the pre-verification allowance (no reservation)
 * - otherwise the deposit must fit the jurisdiction's allowance, counted in the LIMIT's currency: a
 *   deposit in another currency is converted at the passed mid rate (half-even); the plan names the
 *   amount to reserve and `cap`, the largest counter value (minor units of the limit currency) the
 *   reservation may find and still succeed: counter + counted <= limit <=> counter <= cap. The store
 *   conditions the reservation on it, so concurrent intents can never exceed the limit
 * - the next action's kind follows the method kind: bank_wire -> bank_transfer, crypto ->
 *   crypto_address, card / e_wallet -> redirect
 * - the intent expires after wireIntentTtlHours for wires, intentTtlMinutes for every other kind
 */

import { DomainError } from '../errors.ts';
import { assertDepositAllowed, type PreVerificationRule, preVerificationAllowance } from '../kyc/pre-verification.ts';
import { convert, formatAmount, formatMoney, type Money, toMinor } from '../money/index.ts';
import type { PaymentMethodConfig, TenantConfig } from '../tenant/config.ts';
import type { PaymentMethodKind } from './catalog.ts';
import { type FeeQuote, quoteFee } from './fees.ts';
import { assertPaymentAllowed } from './methods.ts';
import type { NextAction } from './ports.ts';
import type { RegionConfig } from './regions.ts';

export type NextActionKind = NextAction['type'];

export const NEXT_ACTION_BY_KIND: Readonly<Record<PaymentMethodKind, NextActionKind>> = {
  bank_wire: 'bank_transfer',
  card: 'redirect',
  e_wallet: 'redirect',
  crypto: 'crypto_address',
};

export const nextActionKindFor = (kind: PaymentMethodKind): NextActionKind => NEXT_ACTION_BY_KIND[kind];

const MINUTE_MS = 60_000;

/** When an intent created at `now` through a method of `kind` expires (ISO instant). */
export function intentExpiry(policy: TenantConfig['payments']['deposits'], kind: PaymentMethodKind, now: Date): string {
  const ms = kind === 'bank_wire' ? policy.wireIntentTtlHours * 60 * MINUTE_MS : policy.intentTtlMinutes * MINUTE_MS;
  return new Date(now.getTime() + ms).toISOString();
}

export interface DepositKycFacts {
  approved: boolean;
  /** ISO instant the client registered (the pre-verification window starts here). */
  registeredAt: string;
  /** The jurisdiction's pre-verification rule; absent when it does not allow deposits before verification. */
  rule?: PreVerificationRule | undefined;
  /** Minor units already counted (reserved or completed) before verification, in the rule's limit currency. */
  counted: bigint;
  /** Units of the limit currency per one unit of the deposit currency (mid), when the two differ. */
  rateToLimit?: string | undefined;
}

export interface DepositPlanInput {
  cfg: RegionConfig & Pick<TenantConfig, 'payments'>;
  method: PaymentMethodConfig;
  /** The client's country of residence. */
  country: string;
  walletCurrency: string;
  /** The gross the client names. */
  amount: Money;
  kyc: DepositKycFacts;
  now: Date;
}

export interface PreVerificationReservation {
  /** What this deposit counts against the allowance, in the limit currency. */
  counted: Money;
  /** The limit itself. */
  limit: Money;
  /** The counter may be at most this (minor units) for the reservation to succeed. */
  cap: bigint;
}

export interface DepositPlan {
  quote: FeeQuote;
  nextActionKind: NextActionKind;
  intentExpiresAt: string;
  /** Present when the client is not KYC-approved (the deposit counts against the allowance). */
  preVerification?: PreVerificationReservation | undefined;
}

/** The amount as counted against a limit in `limitCurrency` (converted half-even at `rate` when it differs). */
export function countedInLimitCurrency(amount: Money, limitCurrency: string, rate: string | undefined): Money {
  if (amount.currency === limitCurrency) return amount;
  if (!rate) {
    throw new DomainError(
      'fx_rate_unavailable',
      'unprocessable',
      `No ${amount.currency}/${limitCurrency} rate is configured to count this deposit against the pre-verification limit`,
    );
  }
  return convert(amount, rate, limitCurrency, 'halfEven');
}

/** The KYC gate: undefined for an approved client, else the reservation to make; throws the refusals. */
export function preVerificationGate(kyc: DepositKycFacts, amount: Money, now: Date): PreVerificationReservation | undefined {
  if (kyc.approved) return undefined;
  const currency = kyc.rule?.limit.currency ?? amount.currency;
  const allowance = preVerificationAllowance({
    now,
    registeredAt: kyc.registeredAt,
    kycApproved: false,
    rule: kyc.rule,
    depositedBeforeVerification: { amount: formatAmount(kyc.counted > 0n ? kyc.counted : 0n, currency), currency },
  });
  if (!kyc.rule) {
    assertDepositAllowed(allowance, formatMoney(amount)); // throws kyc_required
    throw new DomainError('kyc_required', 'forbidden', 'Please complete verification before depositing');
  }
  const counted = countedInLimitCurrency(amount, currency, kyc.rateToLimit);
  assertDepositAllowed(allowance, formatMoney(counted));
  const limit = toMinor(kyc.rule.limit.amount, currency);
  return { counted, limit: { amount: limit, currency }, cap: limit - counted.amount };
}

/** Checks a deposit and plans it (see the module invariants). */
export function planDeposit(input: DepositPlanInput): DepositPlan {
  const { cfg, method, amount } = input;
  if (amount.currency !== input.walletCurrency) {
    throw new DomainError(
      'currency_mismatch',
      'unprocessable',
      `The amount must be in the wallet's currency (${input.walletCurrency})`,
      [{ field: 'amount.currency', code: 'currency_mismatch', message: `Expected ${input.walletCurrency}` }],
    );
  }
  assertPaymentAllowed(cfg, method, { country: input.country, direction: 'deposit', money: amount });
  const quote = quoteFee(method, 'deposit', amount);
  const preVerification = preVerificationGate(input.kyc, amount, input.now);
  return {
    quote,
    nextActionKind: nextActionKindFor(method.kind),
    intentExpiresAt: intentExpiry(cfg.payments.deposits, method.kind, input.now),
    ...(preVerification ? { preVerification } : {}),
  };
}

/** The deposit reasons a provider's failure code may map to; anything else is payment_declined. */
const PROVIDER_FAILURES: Readonly<Record<string, string>> = {
  payment_declined: 'payment_declined',
  declined: 'payment_declined',
  card_declined: 'payment_declined',
  insufficient_funds: 'payment_declined',
  provider_unavailable: 'provider_unavailable',
  expired: 'intent_expired',
  intent_expired: 'intent_expired',
  amount_mismatch: 'amount_mismatch',
};

/** A provider's failure code as a deposit reason of the catalogue (domain/payments/reasons.ts). */
export const depositFailureReason = (failureCode: string | undefined): string =>
  (failureCode && PROVIDER_FAILURES[failureCode]) || 'payment_declined';
