/**
 * Create a deposit intent (POST /v1/deposits; docs/decisions/0008-payments.md): the client's deposit of
 * `amount` into its wallet by a payment method, the fee shown and the provider's next action returned.
 *
 * Invariants:
 * - every check runs before anything is written, each refusal its own code: wallet_not_found (404,
 *   another client's wallet included), the money codes of parseMoney, currency_mismatch,
 *   unknown_payment_method, method_not_offered_in_region, the method's direction / currency / limit
 *   codes, kyc_required (403) and pre_verification_limit_exceeded (422)
 * - the pre-verification allowance is reserved with a DynamoDB condition in the deposit's creation
 *   transaction, so concurrent intents cannot exceed it (released when the deposit fails or expires)
 * - exactly once: the deposit id is derived from (client, Idempotency-Key) and the item holds the
 *   request hash: the same key and input give the same deposit (a deposit a crash left 'created' is
 *   resumed: its intent is asked for again, idempotent at the provider by the deposit id); the same key
 *   with another input is 422 idempotency_key_reused
 * - creation commits 'created' (+ audit + outbox) BEFORE calling the provider; the provider's answer
 *   commits 'pending' with its reference (and the reference item) or 'failed' with the reason; a
 *   provider error fails the deposit with provider_unavailable and throws PaymentProviderUnavailable
 * - the actor of every audit entry is the caller, as a client
 */
import { pspFor } from '#adapters/psp/index.ts';
import type { CommandContext } from '#app/context.ts';
import type { MoneyInput } from '#app/ledger/schemas.ts';
import { accessibleWallet } from '#app/ledger/shared.ts';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { formatMoney, type Money, parseMoney, toMinor } from '#domain/money/index.ts';
import { depositFailureReason, planDeposit } from '#domain/payments/deposits.ts';
import { findMethod } from '#domain/payments/methods.ts';
import { fxQuote } from '#domain/tenant/config.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { reused } from '#store/ledger/journals.ts';
import { getPaymentState, reservePreVerification } from '#store/payments/client-state.ts';
import {
  DEPOSIT_ENTITY,
  depositClosing,
  depositIdFor,
  depositRequestHash,
  depositSnapshot,
  depositTransition,
  getDeposit,
  newDeposit,
  putDeposit,
  type StoredDeposit,
} from '#store/payments/deposits.ts';
import { providerRefWrite } from '#store/payments/webhook-events.ts';
import { type Deposit, settleRace } from './deposit-shared.ts';
import { PaymentProviderUnavailable } from './provider-unavailable.ts';

/** The roles a deposit is created as (the audit actor's role). */
const CLIENT: readonly Role[] = ['client'];

export interface CreateDepositInput {
  walletId: string;
  methodId: string;
  amount: MoneyInput;
  /** Bank wire: the IBAN the client pays from. */
  account?: string | undefined;
}

const unknownMethod = (id: string) =>
  new DomainError('unknown_payment_method', 'unprocessable', `No payment method ${id.slice(0, 40)}`, [
    { field: 'methodId', code: 'unknown_payment_method', message: 'Unknown payment method' },
  ]);

const providerUnavailable = () => new PaymentProviderUnavailable('The payment provider is unavailable; please try again later');

/** The mid rate (units of `to` per one `from`) the pre-verification counter converts at, if any. */
function rateBetween(from: string, to: string): string | undefined {
  if (from === to) return undefined;
  return fxQuote(tenantConfig(), from, to, { markup: false })?.rate;
}

/** Checks, plans and writes the deposit 'created' (see the module invariants); undefined when it exists. */
async function createNew(
  input: CreateDepositInput,
  caller: Caller,
  ctx: CommandContext & { idempotencyKey: string },
  depositId: string,
  requestHash: string,
) {
  const cfg = tenantConfig();
  const now = ctx.now ?? new Date();
  const amount = parseMoney(input.amount, cfg.currencies);
  const wallet = await accessibleWallet(caller, input.walletId);
  if (amount.currency !== wallet.currency) {
    throw new DomainError(
      'currency_mismatch',
      'unprocessable',
      `The amount must be in the wallet's currency (${wallet.currency})`,
      [{ field: 'amount.currency', code: 'currency_mismatch', message: `Expected ${wallet.currency}` }],
    );
  }
  const method = findMethod(cfg, input.methodId);
  if (!method) throw unknownMethod(input.methodId);
  const profile = await getClientProfile(caller.sub, { consistent: true });
  if (!profile) throw new DomainError('profile_not_found', 'not_found', 'No profile exists for this user');
  const approved = profile.kycStatus === 'approved';
  const pvd = cfg.onboarding.jurisdictions[profile.jurisdiction]?.preVerificationDeposit;
  const rule = pvd?.enabled ? { limit: pvd.limit, maxDays: pvd.maxDays } : undefined;

  const plan = async () => {
    const counted = approved || !rule ? 0n : ((await getPaymentState(caller.sub)).preVerification[rule.limit.currency] ?? 0n);
    return planDeposit({
      cfg,
      method,
      country: profile.countryOfResidence,
      walletCurrency: wallet.currency,
      amount,
      kyc: {
        approved,
        registeredAt: profile.createdAt,
        rule,
        counted,
        rateToLimit: rule ? rateBetween(amount.currency, rule.limit.currency) : undefined,
      },
      now,
    });
  };
  const p = await plan();
  const at = now.toISOString();
  const pv = p.preVerification;
  const deposit = newDeposit(
    {
      depositId,
      clientId: caller.sub,
      walletId: wallet.accountId,
      methodId: method.id,
      methodKind: method.kind,
      provider: method.provider,
      gross: formatMoney(p.quote.gross),
      fee: formatMoney(p.quote.fee),
      net: formatMoney(p.quote.net),
      idempotencyKey: ctx.idempotencyKey,
      requestHash,
      intentExpiresAt: p.intentExpiresAt,
      payerAccount: input.account,
      preVerificationCounted: pv ? formatMoney(pv.counted) : undefined,
    },
    at,
  );
  try {
    await commit({
      writes: [
        putDeposit(deposit),
        ...(pv
          ? [reservePreVerification(caller.sub, { minor: pv.counted.amount, currency: pv.counted.currency, cap: pv.cap })]
          : []),
      ],
      audit: {
        actor: actorFrom(caller, CLIENT),
        action: 'payment.deposit.created',
        entity: { type: DEPOSIT_ENTITY, id: depositId },
        newEntity: true,
        clientId: caller.sub,
        before: null,
        after: depositSnapshot(deposit),
        requestId: ctx.requestId,
      },
      outbox: [
        {
          detailType: 'payment.deposit.created',
          detail: {
            depositId,
            clientId: caller.sub,
            walletId: wallet.accountId,
            methodId: method.id,
            gross: deposit.gross.amount,
            fee: deposit.fee.amount,
            net: deposit.net.amount,
            currency: amount.currency,
            preVerification: pv !== undefined,
          },
        },
      ],
      now: () => now,
    });
  } catch (err) {
    if (isDomainError(err) && err.code === 'deposit_exists') return undefined;
    // A concurrent intent took the allowance: the fresh state gives the exact refusal (remaining).
    if (isDomainError(err) && err.code === 'pre_verification_limit_exceeded') await plan();
    throw err;
  }
  return deposit;
}

/** Fails the deposit (provider refusal or outage): the reservation is released with it. */
async function failDeposit(d: StoredDeposit, reason: string, actor: AuditActor, requestId: string): Promise<StoredDeposit> {
  const at = new Date().toISOString();
  const change = depositClosing(d, 'failed', { at, reason, actor, requestId });
  await commit({ writes: change.writes, audit: change.audit, outbox: change.outbox, now: () => new Date(at) });
  return change.next;
}

/**
 * Asks the provider for the intent of a 'created' deposit and records its answer. A concurrent change
 * (the provider's webhook settling it first) wins: the deposit is re-read and returned as it is.
 */
async function startIntent(d: StoredDeposit, actor: AuditActor, requestId: string): Promise<StoredDeposit> {
  const gross: Money = { amount: toMinor(d.gross.amount, d.gross.currency), currency: d.gross.currency };
  let intent: Awaited<ReturnType<ReturnType<typeof pspFor>['createDepositIntent']>>;
  try {
    intent = await pspFor(d.provider).createDepositIntent({
      depositId: d.depositId,
      clientId: d.clientId,
      methodId: d.methodId,
      amount: gross,
      idempotencyKey: d.depositId,
    });
  } catch {
    await settleRace(() => failDeposit(d, 'provider_unavailable', actor, requestId), d.depositId);
    throw providerUnavailable();
  }
  if (intent.status === 'failed') {
    return settleRace(() => failDeposit(d, depositFailureReason(intent.failureCode), actor, requestId), d.depositId);
  }
  const at = new Date().toISOString();
  const { next, write } = depositTransition(d, 'pending', {
    at,
    patch: { providerRef: intent.providerRef, ...(intent.nextAction ? { nextAction: intent.nextAction } : {}) },
  });
  return settleRace(async () => {
    await commit({
      writes: [write, providerRefWrite(d.provider, intent.providerRef, { paymentKind: 'deposit', paymentId: d.depositId }, at)],
      audit: {
        actor,
        action: 'payment.deposit.pending',
        entity: { type: DEPOSIT_ENTITY, id: d.depositId },
        clientId: d.clientId,
        before: depositSnapshot(d),
        after: depositSnapshot(next),
        requestId,
      },
      now: () => new Date(at),
    });
    return next;
  }, d.depositId);
}

/** A create request whose deposit exists: the same request resumes or shows it; another input is refused. */
async function resume(d: StoredDeposit, requestHash: string, actor: AuditActor, requestId: string): Promise<StoredDeposit> {
  if (d.requestHash !== requestHash) throw reused();
  if (d.status === 'created') return startIntent(d, actor, requestId);
  if (d.status === 'failed' && d.failureReason === 'provider_unavailable') throw providerUnavailable();
  return d;
}

/** Creates (or resumes) the caller's deposit for this Idempotency-Key (see the module invariants). */
export async function createDeposit(input: CreateDepositInput, caller: Caller, ctx: CommandContext): Promise<Deposit> {
  const key = ctx.idempotencyKey;
  if (!key) throw new DomainError('idempotency_key_required', 'validation', 'A deposit needs an Idempotency-Key');
  const depositId = depositIdFor(caller.sub, key);
  const requestHash = depositRequestHash(input);
  const actor = actorFrom(caller, CLIENT);
  const existing = await getDeposit(depositId, { consistent: true });
  if (existing) return resume(existing, requestHash, actor, ctx.requestId);
  const created = await createNew(input, caller, { ...ctx, idempotencyKey: key }, depositId, requestHash);
  if (!created) {
    const raced = await getDeposit(depositId, { consistent: true });
    if (!raced) throw new Error(`deposit ${depositId} exists but cannot be read`);
    return resume(raced, requestHash, actor, ctx.requestId);
  }
  return startIntent(created, actor, ctx.requestId);
}
