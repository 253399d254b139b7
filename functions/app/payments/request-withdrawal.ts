/**
 * Use case: a client requests a withdrawal from its wallet (POST /v1/withdrawals).
 *
 * Invariants:
 * - the request is checked completely before anything is written, in this order, each refusal its own
 *   code: the wallet is the caller's (404 wallet_not_found, like an unknown id); the amount parses
 *   (domain/money codes) and is in the wallet's currency (422 currency_mismatch); the method exists
 *   (422 unknown_payment_method), is offered in the caller's country of residence, supports
 *   withdrawals, the currency and the amount (assertPaymentAllowed codes); KYC is approved (403
 *   kyc_required; the checks step re-checks expiry); withdrawals are not frozen (422
 *   withdrawals_frozen); the destination is valid (withdrawal-destinations.ts); net = gross - fee > 0 (422
 *   amount_below_fee). Only then the store holds the gross and records the withdrawal 'received' in one
 *   transaction, which refuses insufficient available funds (422 insufficient_funds) with nothing written
 * - the amount named is the GROSS: it is held (available down, ledger balance unchanged); the fee is
 *   taken out of it and the net is paid out. The hold outlives any review plus payout: it expires
 *   reviewTimeoutDays + payoutTimeoutHours + HOLD_MARGIN_DAYS after the request (ADR 0008)
 * - exactly once: the withdrawal id derives from (client, Idempotency-Key) and the hold carries the key in
 *   the ledger's idempotency scope `withdrawal:<client>` (ledgerScope), in its own transaction, so a retry
 *   whose edge record is gone finds the same withdrawal (answered before any check is re-run). The same
 *   key with another body is 422 idempotency_key_reused
 * - only the client itself requests (the edge allows the client role only); the audit actor is the caller
 */
import { accessibleWallet, ledgerScope, requestHash } from '#app/ledger/shared.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { formatMoney, parseMoney } from '#domain/money/index.ts';
import { quoteFee } from '#domain/payments/fees.ts';
import { assertPaymentAllowed, findMethod } from '#domain/payments/methods.ts';
import type { WithdrawalPolicy } from '#domain/tenant/config.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { reused } from '#store/ledger/journals.ts';
import { getPaymentState, listFundingSources } from '#store/payments/client-state.ts';
import { createWithdrawal, getWithdrawal, withdrawalIdFor } from '#store/payments/withdrawals.ts';
import type { CommandContext } from '../context.ts';
import { type DestinationInput, refused, resolveDestination } from './withdrawal-destinations.ts';
import type { Withdrawal } from './withdrawal-shared.ts';

const CLIENT: readonly Role[] = ['client'];

export interface RequestWithdrawalInput {
  walletId: string;
  methodId: string;
  /** The gross, in the wallet's currency (a decimal string in major units). */
  amount: { amount: string; currency: string };
  destination: DestinationInput;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The margin the hold keeps beyond the longest review plus payout (ADR 0008). */
export const HOLD_MARGIN_DAYS = 7;

/** When the withdrawal's hold expires: after any review plus payout, with a week to spare. */
export function holdExpiry(now: Date, policy: Pick<WithdrawalPolicy, 'reviewTimeoutDays' | 'payoutTimeoutHours'>): Date {
  return new Date(now.getTime() + (policy.reviewTimeoutDays + HOLD_MARGIN_DAYS) * DAY_MS + policy.payoutTimeoutHours * HOUR_MS);
}

/** Checks the request (module invariants, in order), then holds the gross and records the withdrawal. */
export async function requestWithdrawal(input: RequestWithdrawalInput, caller: Caller, ctx: CommandContext): Promise<Withdrawal> {
  const key = ctx.idempotencyKey;
  if (!key) throw new Error('request-withdrawal: an Idempotency-Key is required');
  const cfg = tenantConfig();
  const hash = requestHash(input);
  // A retry whose edge record is gone: the same withdrawal, whatever changed since (the checks ran then).
  const prior = await getWithdrawal(withdrawalIdFor(caller.sub, key), { consistent: true });
  if (prior) {
    if (prior.clientId !== caller.sub || prior.requestHash !== hash) throw reused();
    return prior;
  }
  const wallet = await accessibleWallet(caller, input.walletId);
  const gross = parseMoney(input.amount, cfg.currencies);
  if (gross.currency !== wallet.currency) {
    throw refused('currency_mismatch', `The amount must be in the wallet's currency (${wallet.currency})`, 'amount.currency', {
      expected: wallet.currency,
    });
  }
  const method = findMethod(cfg, input.methodId);
  if (!method) throw refused('unknown_payment_method', 'No payment method with this id', 'methodId');
  const profile = await getClientProfile(caller.sub);
  if (!profile) throw new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');
  assertPaymentAllowed(cfg, method, { country: profile.countryOfResidence, direction: 'withdrawal', money: gross });
  if (profile.kycStatus !== 'approved') {
    throw new DomainError('kyc_required', 'forbidden', 'Your identity must be verified before you can withdraw', [], {
      kycStatus: profile.kycStatus ?? 'not_started',
    });
  }
  const [state, sources] = await Promise.all([getPaymentState(caller.sub), listFundingSources(caller.sub)]);
  if (state.withdrawalsFrozen) {
    throw new DomainError('withdrawals_frozen', 'unprocessable', 'Withdrawals from your account are on hold', [], {
      reason: 'withdrawals_frozen',
    });
  }
  const destination = resolveDestination(method, input.destination, sources);
  const quote = quoteFee(method, 'withdrawal', gross);
  if (quote.net.amount <= 0n) {
    throw refused('amount_below_fee', 'The amount does not cover the fee', 'amount', { fee: formatMoney(quote.fee) });
  }
  const now = ctx.now ?? new Date();
  const { withdrawal } = await createWithdrawal(
    {
      clientId: caller.sub,
      walletId: wallet.accountId,
      methodId: method.id,
      methodKind: method.kind,
      provider: method.provider,
      gross: quote.gross,
      fee: quote.fee,
      net: quote.net,
      destination,
      idempotencyScope: ledgerScope('withdrawal', caller.sub),
      idempotencyKey: key,
      requestHash: hash,
      holdExpiresAt: holdExpiry(now, cfg.payments.withdrawals),
    },
    { actor: actorFrom(caller, CLIENT), requestId: ctx.requestId },
  );
  return withdrawal;
}
