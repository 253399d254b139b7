/**
 * A client's withdrawals: POST /v1/withdrawals (Idempotency-Key required), GET /v1/withdrawals,
 * GET /v1/withdrawals/{withdrawalId}, POST /v1/withdrawals/{withdrawalId}/cancellation and
 * GET /v1/funding-sources (where money must go back first). Thin: validate, authorise, call the store
 * (functions/store/payments/withdrawals.ts), render.
 *
 * Invariants:
 * - a request is checked completely before anything is written, in this order, each refusal its own
 *   code: the wallet is the caller's (404 wallet_not_found, like an unknown id); the amount parses
 *   (domain/money codes) and is in the wallet's currency (422 currency_mismatch); the method exists
 *   (422 unknown_payment_method), is offered in the caller's country of residence, supports
 *   withdrawals, the currency and the amount (assertPaymentAllowed codes); KYC is approved (403
 *   kyc_required; the checks step re-checks expiry); withdrawals are not frozen (422
 *   withdrawals_frozen); the destination is valid (resolveDestination); net = gross - fee > 0 (422
 *   amount_below_fee). Only then the store holds the gross and records the withdrawal 'received' in one
 *   transaction, which refuses insufficient available funds (422 insufficient_funds) with nothing written
 * - the amount named is the GROSS: it is held (available down, ledger balance unchanged); the fee is
 *   taken out of it and the net is paid out. The hold outlives any review plus payout: it expires
 *   reviewTimeoutDays + payoutTimeoutHours + 7 days after the request (ADR 0008)
 * - exactly once: the edge replays a retried request; independently the withdrawal id derives from
 *   (client, Idempotency-Key) and the hold carries the key in its own transaction, so a retry whose edge
 *   record is gone finds the same withdrawal (answered before any check is re-run). The same key with
 *   another body is 422 idempotency_key_reused
 * - a client reaches only its own withdrawals and funding sources: another client's withdrawal is 404
 *   withdrawal_not_found, indistinguishable from an unknown id (and recorded as a cross_client_probe security
 *   event, middleware/security.ts); finance, compliance and admins may read
 *   any withdrawal (with the staff view) but only the owner can request or cancel
 * - a cancellation (owner only, while received or under review and undecided; 409
 *   withdrawal_not_cancellable otherwise) voids the hold and records 'cancelled' in one transaction
 * - card and e-wallet payouts go only to a funding source of the same method; a bank wire or crypto
 *   payout may name an account (a valid IBAN / a plausible address for the method's network), which is
 *   stored in its electronic form and shown masked
 */

import { electronicFormatIBAN, isValidIBAN } from 'ibantools';
import * as z from 'zod';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { formatAmount, formatMoney, parseMoney } from '#domain/money/index.ts';
import { quoteFee } from '#domain/payments/fees.ts';
import { assertPaymentAllowed, findMethod, labelFor } from '#domain/payments/methods.ts';
import { closedLoopPlan, isSameAccount } from '#domain/payments/withdrawal-checks.ts';
import type { PaymentMethodConfig } from '#domain/tenant/config.ts';
import type { Role } from '#functions/manifest.ts';
import { type Caller, crossClientProbe, defineRoute, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { reused } from '#store/ledger/journals.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';
import { type FundingSource, getPaymentState, listFundingSources } from '#store/payments/client-state.ts';
import {
  cancelWithdrawal,
  createWithdrawal,
  getWithdrawal,
  listClientWithdrawals,
  withdrawalIdFor,
  withdrawalNotFound,
  withdrawalView,
} from '#store/payments/withdrawals.ts';
import { pageBody, pageSchema } from './shared/pages.ts';
import { requestHash } from './transfers.ts';
import { accessibleWallet, MoneyJson, WALLET_STAFF_ROLES, WalletId } from './wallets.ts';

const CLIENT: readonly Role[] = ['client'];
const READERS: readonly Role[] = ['client', ...WALLET_STAFF_ROLES];

// ------------------------------------------------------------------------------------------------ schemas

const Id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/);

export const WithdrawalParams = z.strictObject({ withdrawalId: Id });

export const Destination = z.union([
  z.strictObject({ sourceId: Id.meta({ description: 'One of your funding sources (GET /v1/funding-sources)' }) }),
  z.strictObject({
    account: z
      .string()
      .trim()
      .min(1)
      .max(128)
      .meta({ description: 'Bank wire: an IBAN; crypto: an address on the method network' }),
  }),
]);

export const WithdrawalBody = z.strictObject({
  walletId: WalletId,
  methodId: z.string().min(1).max(64),
  amount: MoneyJson.meta({ description: "The gross, in the wallet's currency: held now, the fee is taken out of it" }),
  destination: Destination,
});
export type WithdrawalInput = z.infer<typeof WithdrawalBody>;

export const ListQuery = z.strictObject({ limit: limitParam(100, 50), cursor: cursorParam.optional() });

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });

export const WithdrawalViewSchema = z.object({
  withdrawalId: z.string(),
  status: z.string(),
  walletId: z.string(),
  method: z.object({ id: z.string(), kind: z.string(), label: z.string() }),
  gross: MoneyOut,
  fee: MoneyOut,
  net: MoneyOut,
  destination: z.object({ display: z.string(), account: z.string().optional(), sourceId: z.string().optional() }),
  timeline: z.array(
    z.object({ status: z.string(), at: z.string(), reason: z.string().optional(), reasonText: z.string().optional() }),
  ),
  cancellable: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const OwedView = z.object({
  currency: z.string(),
  outstanding: MoneyOut.meta({ description: 'Deposited from this source and not yet returned to it' }),
  text: z.string().meta({ example: 'Withdraw to your Visa •4242 first, up to 100.00 EUR' }),
});

export const FundingSourceView = z.object({
  sourceId: z.string(),
  method: z.object({ id: z.string(), kind: z.string(), label: z.string() }),
  display: z.string(),
  withdrawable: z.boolean().meta({ description: 'The method still pays out (it supports withdrawals)' }),
  firstUsedAt: z.string(),
  lastUsedAt: z.string(),
  owed: z.array(OwedView),
});

// ------------------------------------------------------------------------------------------------ errors

const refused = (code: string, message: string, field: string, meta: Record<string, unknown> = {}) =>
  new DomainError(code, 'unprocessable', message, [{ field, code, message }], meta);

// ---------------------------------------------------------------------------------------- destinations

/** The crypto networks a method id names, with a plausible address shape for each. */
const NETWORKS: { name: string; names: RegExp; address: RegExp }[] = [
  { name: 'TRC20', names: /trc-?20|tron/i, address: /^T[1-9A-HJ-NP-Za-km-z]{33}$/ },
  { name: 'ERC20', names: /erc-?20|ethereum/i, address: /^0x[0-9a-fA-F]{40}$/ },
  { name: 'BEP20', names: /bep-?20|bsc/i, address: /^0x[0-9a-fA-F]{40}$/ },
  { name: 'SOL', names: /\bsol|solana/i, address: /^[1-9A-HJ-NP-Za-km-z]{32,44}$/ },
  {
    name: 'BTC',
    names: /btc|bitcoin/i,
    address: /^(bc1[02-9ac-hj-np-z]{11,71}|[13][1-9A-HJ-NP-Za-km-z]{25,34})$/,
  },
];
/** A method naming no known network: any address of 20..128 URL-safe characters. */
const ANY_ADDRESS = /^[A-Za-z0-9_:-]{20,128}$/;

/** True when `address` has the usual shape of an address on the network the method id names. */
export function isPlausibleCryptoAddress(methodId: string, address: string): boolean {
  const network = NETWORKS.find((n) => n.names.test(methodId));
  return (network?.address ?? ANY_ADDRESS).test(address);
}

/** 'DE89 •••• 3000' */
export const maskIban = (iban: string) => `${iban.slice(0, 4)} •••• ${iban.slice(-4)}`;
/** 'TXyz12…abcd' */
export const maskAddress = (address: string) => `${address.slice(0, 6)}…${address.slice(-4)}`;

export interface ResolvedDestination {
  sourceId?: string | undefined;
  account: string;
  display: string;
}

/**
 * Where the payout goes. `{ sourceId }`: one of the client's funding sources of this method (422
 * unknown_funding_source otherwise, another client's included). `{ account }`: bank wire (a valid IBAN,
 * 422 invalid_iban) or crypto (a plausible address, 422 invalid_crypto_address); card and e-wallet pay
 * out only to a funding source (422 destination_must_be_funding_source). An account that is one of the
 * client's sources of this method carries that source's id.
 */
export function resolveDestination(
  method: PaymentMethodConfig,
  destination: WithdrawalInput['destination'],
  sources: readonly FundingSource[],
): ResolvedDestination {
  const ofMethod = sources.filter((s) => s.methodId === method.id);
  if ('sourceId' in destination) {
    const source = ofMethod.find((s) => s.sourceId === destination.sourceId);
    if (!source) {
      throw refused('unknown_funding_source', `No funding source of ${method.id} with this id`, 'destination.sourceId', {
        methodId: method.id,
      });
    }
    return { sourceId: source.sourceId, account: source.account, display: source.display };
  }
  let account: string;
  let display: string;
  switch (method.kind) {
    case 'bank_wire': {
      account = electronicFormatIBAN(destination.account) ?? '';
      if (!isValidIBAN(account)) throw refused('invalid_iban', 'Not a valid IBAN', 'destination.account');
      display = maskIban(account);
      break;
    }
    case 'crypto': {
      account = destination.account;
      if (!isPlausibleCryptoAddress(method.id, account)) {
        throw refused('invalid_crypto_address', `Not an address for ${method.id}`, 'destination.account', {
          methodId: method.id,
        });
      }
      display = maskAddress(account);
      break;
    }
    default:
      throw refused(
        'destination_must_be_funding_source',
        `${method.id} pays out only to an account you deposited from: name its sourceId`,
        'destination',
        { methodId: method.id },
      );
  }
  const known = ofMethod.find((s) => isSameAccount(s.account, account));
  return known ? { sourceId: known.sourceId, account, display: known.display } : { account, display };
}

// ------------------------------------------------------------------------------------------------ create

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The margin the hold keeps beyond the longest review plus payout (ADR 0008). */
export const HOLD_MARGIN_DAYS = 7;

/** When the withdrawal's hold expires: after any review plus payout, with a week to spare. */
export function holdExpiry(now: Date, policy: { reviewTimeoutDays: number; payoutTimeoutHours: number }): Date {
  return new Date(now.getTime() + (policy.reviewTimeoutDays + HOLD_MARGIN_DAYS) * DAY_MS + policy.payoutTimeoutHours * HOUR_MS);
}

/** Checks the request (module invariants, in order), then holds the gross and records the withdrawal. */
export async function requestWithdrawal(
  input: WithdrawalInput,
  caller: Caller,
  ctx: { key: string; requestId: string; locale: string; now?: Date },
) {
  const cfg = tenantConfig();
  const hash = requestHash(input);
  // A retry whose edge record is gone: the same withdrawal, whatever changed since (the checks ran then).
  const prior = await getWithdrawal(withdrawalIdFor(caller.sub, ctx.key), { consistent: true });
  if (prior) {
    if (prior.clientId !== caller.sub || prior.requestHash !== hash) throw reused();
    return withdrawalView(prior, ctx.locale);
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
      idempotencyKey: ctx.key,
      requestHash: hash,
      holdExpiresAt: holdExpiry(now, cfg.payments.withdrawals),
    },
    { actor: actorFrom(caller, CLIENT), requestId: ctx.requestId },
  );
  return withdrawalView(withdrawal, ctx.locale);
}

// ------------------------------------------------------------------------------------------------ reads

/** The withdrawal if the caller may read it: its owner, or staff with a reader role; else 404. */
export async function readableWithdrawal(caller: Caller, withdrawalId: string) {
  const w = await getWithdrawal(withdrawalId, { consistent: true });
  if (!w) throw withdrawalNotFound(withdrawalId);
  if (w.clientId === caller.sub) return { withdrawal: w, staff: false };
  if (caller.roles.some((r) => WALLET_STAFF_ROLES.includes(r))) return { withdrawal: w, staff: true };
  throw crossClientProbe(withdrawalNotFound(withdrawalId), caller, w.clientId);
}

const OWED_TEXT: Record<'en' | 'de' | 'es', (display: string, amount: string, currency: string) => string> = {
  en: (d, a, c) => `Withdraw to your ${d} first, up to ${a} ${c}`,
  de: (d, a, c) => `Zahlen Sie zuerst auf ${d} aus, bis zu ${a} ${c}`,
  es: (d, a, c) => `Retire primero a su ${d}, hasta ${a} ${c}`,
};

/** "Withdraw to your Visa •4242 first, up to 100.00 EUR" in the locale (en for an unknown one). */
export function owedText(display: string, outstanding: { amount: bigint; currency: string }, locale: string): string {
  const lang = (locale.toLowerCase().split('-')[0] ?? 'en') as keyof typeof OWED_TEXT;
  const text = OWED_TEXT[lang] ?? OWED_TEXT.en;
  return text(display, formatAmount(outstanding.amount, outstanding.currency), outstanding.currency);
}

/**
 * The client's funding sources (oldest first), each with what it is still owed back per currency
 * (closedLoopPlan: deposited - returned, never below 0; only currencies with something owed).
 */
export function fundingSourceViews(sources: readonly FundingSource[], locale: string): z.infer<typeof FundingSourceView>[] {
  const cfg = tenantConfig();
  const currencies = [...new Set(sources.flatMap((s) => Object.keys(s.deposited)))].sort();
  const owedBy = new Map<string, z.infer<typeof OwedView>[]>();
  for (const currency of currencies) {
    for (const o of closedLoopPlan(sources, currency, { account: '' }, 0n).owed) {
      const list = owedBy.get(o.sourceId) ?? [];
      list.push({
        currency,
        outstanding: formatMoney({ amount: o.outstanding, currency }),
        text: owedText(o.display, { amount: o.outstanding, currency }, locale),
      });
      owedBy.set(o.sourceId, list);
    }
  }
  return sources.map((s) => {
    const method = findMethod(cfg, s.methodId);
    return {
      sourceId: s.sourceId,
      method: { id: s.methodId, kind: s.methodKind, label: method ? labelFor(method, locale, cfg.defaultLocale) : s.methodId },
      display: s.display,
      withdrawable: method?.directions.includes('withdrawal') ?? false,
      firstUsedAt: s.firstUsedAt,
      lastUsedAt: s.lastUsedAt,
      owed: owedBy.get(s.sourceId) ?? [],
    };
  });
}

// ------------------------------------------------------------------------------------------------ routes

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/withdrawals',
    operationId: 'createWithdrawal',
    summary: 'Request a withdrawal: the gross is held, the fee taken out of it, the net paid out after the checks',
    tags: ['withdrawals'],
    auth: CLIENT,
    body: WithdrawalBody,
    idempotency: 'required',
    responses: {
      201: { description: 'Received: funds held', schema: WithdrawalViewSchema },
      403: { description: 'kyc_required' },
      404: { description: 'wallet_not_found, profile_not_found' },
      422: {
        description:
          'currency_mismatch, unknown_payment_method, method_not_offered_in_region, method_direction_not_supported, currency_not_supported_by_method, amount_below_minimum, amount_above_maximum, withdrawals_frozen, unknown_funding_source, invalid_iban, invalid_crypto_address, destination_must_be_funding_source, amount_below_fee, insufficient_funds, account_frozen, amount_too_precise, amount_not_positive, unknown_currency, currency_not_enabled, idempotency_key_reused',
      },
    },
    handler: async ({ body, caller, idempotencyKey, correlationId, locale }) => ({
      status: 201,
      body: await requestWithdrawal(body, caller!, { key: idempotencyKey!, requestId: correlationId, locale }),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/withdrawals',
    operationId: 'listWithdrawals',
    summary: "The caller's withdrawals, newest first",
    tags: ['withdrawals'],
    auth: CLIENT,
    query: ListQuery,
    responses: { 200: { description: 'A page of withdrawals', schema: pageSchema(WithdrawalViewSchema) } },
    handler: async ({ caller, query, locale }) => {
      const page = await listClientWithdrawals(caller!.sub, { limit: query.limit, cursor: query.cursor });
      return { status: 200, body: pageBody(page, (w) => withdrawalView(w, locale)) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/withdrawals/{withdrawalId}',
    operationId: 'getWithdrawal',
    summary: 'One withdrawal with its whole timeline (reasons in the caller’s locale)',
    tags: ['withdrawals'],
    auth: READERS,
    params: WithdrawalParams,
    responses: {
      200: { description: 'The withdrawal', schema: WithdrawalViewSchema },
      404: { description: 'withdrawal_not_found' },
    },
    handler: async ({ caller, params, locale }) => {
      const { withdrawal, staff } = await readableWithdrawal(caller!, params.withdrawalId);
      return { status: 200, body: withdrawalView(withdrawal, locale, { staff }) };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/v1/withdrawals/{withdrawalId}/cancellation',
    operationId: 'cancelWithdrawal',
    summary: 'Cancel a withdrawal still received or under review: the hold is released',
    tags: ['withdrawals'],
    auth: CLIENT,
    params: WithdrawalParams,
    idempotency: 'optional',
    responses: {
      200: { description: 'Cancelled', schema: WithdrawalViewSchema },
      404: { description: 'withdrawal_not_found' },
      409: { description: 'withdrawal_not_cancellable' },
    },
    handler: async ({ caller, params, correlationId, locale }) => {
      const w = await cancelWithdrawal(params.withdrawalId, {
        clientId: caller!.sub,
        actor: actorFrom(caller!, CLIENT),
        requestId: correlationId,
      }).catch(async (err: unknown) => {
        // The store answers "not yours" as not found; whether it was someone else's is a security event.
        if (isDomainError(err) && err.code === 'withdrawal_not_found') {
          const other = await getWithdrawal(params.withdrawalId);
          if (other) throw crossClientProbe(err, caller!, other.clientId);
        }
        throw err;
      });
      return { status: 200, body: withdrawalView(w, locale) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/funding-sources',
    operationId: 'listFundingSources',
    summary: 'The accounts the caller deposited from, and what each must get back first (closed loop)',
    tags: ['withdrawals'],
    auth: CLIENT,
    responses: { 200: { description: 'Funding sources, oldest first', schema: z.object({ items: z.array(FundingSourceView) }) } },
    handler: async ({ caller, locale }) => ({
      status: 200,
      body: { items: fundingSourceViews(await listFundingSources(caller!.sub), locale) },
    }),
  }),
];

export const handler = httpHandler(...routes);
