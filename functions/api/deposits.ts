/**
 * A client's deposits: POST /v1/deposits (Idempotency-Key required), GET /v1/deposits and
 * GET /v1/deposits/{depositId} (docs/decisions/0008-payments.md).
 *
 * Invariants:
 * - every check runs before anything is written, each refusal its own code: wallet_not_found (404,
 *   another client's wallet included), the money codes of parseMoney, currency_mismatch,
 *   unknown_payment_method, method_not_offered_in_region, the method's direction / currency / limit
 *   codes, kyc_required (403) and pre_verification_limit_exceeded (422)
 * - the pre-verification allowance is reserved with a DynamoDB condition in the deposit's creation
 *   transaction, so concurrent intents cannot exceed it (released when the deposit fails or expires)
 * - exactly once: the deposit id is derived from (client, Idempotency-Key) and the item holds the
 *   request hash: the same key and body give the same deposit (a deposit a crash left 'created' is
 *   resumed: its intent is asked for again, idempotent at the provider by the deposit id); the same key
 *   with another body is 422 idempotency_key_reused
 * - creation commits 'created' (+ audit + outbox) BEFORE calling the provider; the provider's answer
 *   commits 'pending' with its reference (and the reference item) or 'failed' with the reason; a
 *   provider error fails the deposit with provider_unavailable and answers 502 payment_provider_unavailable
 * - a client reads only its own deposits: another client's id is 404 deposit_not_found, exactly like a
 *   missing one (and recorded as a cross_client_probe security event); finance, compliance and admins read any
 *   deposit (with the staff fields)
 */
import * as z from 'zod';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { formatMoney, type Money, parseMoney, toMinor } from '#domain/money/index.ts';
import { depositFailureReason, planDeposit } from '#domain/payments/deposits.ts';
import { findMethod } from '#domain/payments/methods.ts';
import { fxQuote } from '#domain/tenant/config.ts';
import { pspFor } from '#functions/adapters/psp/index.ts';
import type { Role } from '#functions/manifest.ts';
import { type Caller, crossClientProbe, defineRoute, EdgeError, httpHandler } from '#middleware/http.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { reused } from '#store/ledger/journals.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';
import { getPaymentState, reservePreVerification } from '#store/payments/client-state.ts';
import {
  DEPOSIT_ENTITY,
  depositClosing,
  depositIdFor,
  depositNotFound,
  depositRequestHash,
  depositSnapshot,
  depositTransition,
  depositView,
  getDeposit,
  listClientDeposits,
  newDeposit,
  putDeposit,
  type StoredDeposit,
} from '#store/payments/deposits.ts';
import { providerRefWrite } from '#store/payments/webhook-events.ts';
import { pageBody, pageSchema } from './shared/pages.ts';
import { accessibleWallet, MoneyJson, WalletId } from './wallets.ts';

const CLIENT: readonly Role[] = ['client'];
const STAFF: readonly Role[] = ['finance', 'compliance', 'admin'];

export const DepositBody = z.strictObject({
  walletId: WalletId,
  methodId: z.string().min(1).max(40),
  amount: MoneyJson,
  /** Bank wire: the IBAN the client pays from. */
  account: z.string().trim().min(1).max(64).optional(),
});
export type DepositInput = z.infer<typeof DepositBody>;

const DepositParams = z.strictObject({ depositId: z.string().min(1).max(64) });
const ListQuery = z.strictObject({ cursor: cursorParam.optional(), limit: limitParam(100, 20) });

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });
const DepositOut = z.object({
  depositId: z.string(),
  status: z.string(),
  walletId: z.string(),
  method: z.object({ id: z.string(), kind: z.string(), label: z.string() }),
  gross: MoneyOut,
  fee: MoneyOut,
  net: MoneyOut,
  nextAction: z.record(z.string(), z.string()).optional(),
  intentExpiresAt: z.string(),
  firstDeposit: z.boolean(),
  refunded: MoneyOut.optional(),
  timeline: z.array(
    z.object({ status: z.string(), at: z.string(), reason: z.string().optional(), reasonText: z.string().optional() }),
  ),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const unknownMethod = (id: string) =>
  new DomainError('unknown_payment_method', 'unprocessable', `No payment method ${id.slice(0, 40)}`, [
    { field: 'methodId', code: 'unknown_payment_method', message: 'Unknown payment method' },
  ]);

const providerUnavailable = () =>
  new EdgeError('payment_provider_unavailable', 502, [], {}, 'The payment provider is unavailable; please try again later');

interface Ctx {
  key: string;
  requestId: string;
  now?: Date;
}

/** The mid rate (units of `to` per one `from`) the pre-verification counter converts at, if any. */
function rateBetween(from: string, to: string): string | undefined {
  if (from === to) return undefined;
  return fxQuote(tenantConfig(), from, to, { markup: false })?.rate;
}

/** Checks, plans and writes the deposit 'created' (see the module invariants); undefined when it exists. */
async function createNew(input: DepositInput, caller: Caller, ctx: Ctx, depositId: string, requestHash: string) {
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
      idempotencyKey: ctx.key,
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
 * (the provider's webhook settling it first) wins: the deposit is re-read and shown as it is.
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

/** Runs a transition; when the deposit changed meanwhile (409), the change that won is shown instead. */
async function settleRace(run: () => Promise<StoredDeposit>, depositId: string): Promise<StoredDeposit> {
  try {
    return await run();
  } catch (err) {
    if (!isDomainError(err) || (err.code !== 'conflict' && err.code !== 'provider_ref_taken')) throw err;
    const now = await getDeposit(depositId, { consistent: true });
    if (!now) throw err;
    return now;
  }
}

/** A create request whose deposit exists: the same request resumes or shows it; another body is refused. */
async function resume(d: StoredDeposit, requestHash: string, actor: AuditActor, requestId: string): Promise<StoredDeposit> {
  if (d.requestHash !== requestHash) throw reused();
  if (d.status === 'created') return startIntent(d, actor, requestId);
  if (d.status === 'failed' && d.failureReason === 'provider_unavailable') throw providerUnavailable();
  return d;
}

/** POST /v1/deposits (see the module invariants). */
export async function createDeposit(input: DepositInput, caller: Caller, ctx: Ctx): Promise<StoredDeposit> {
  const depositId = depositIdFor(caller.sub, ctx.key);
  const requestHash = depositRequestHash(input);
  const actor = actorFrom(caller, CLIENT);
  const existing = await getDeposit(depositId, { consistent: true });
  if (existing) return resume(existing, requestHash, actor, ctx.requestId);
  const created = await createNew(input, caller, ctx, depositId, requestHash);
  if (!created) {
    const raced = await getDeposit(depositId, { consistent: true });
    if (!raced) throw new Error(`deposit ${depositId} exists but cannot be read`);
    return resume(raced, requestHash, actor, ctx.requestId);
  }
  return startIntent(created, actor, ctx.requestId);
}

/** The deposit `depositId` if `caller` may read it: its owner, or finance / compliance / admin. Else 404. */
export async function readableDeposit(caller: Caller, depositId: string): Promise<{ deposit: StoredDeposit; staff: boolean }> {
  const deposit = await getDeposit(depositId);
  if (!deposit) throw depositNotFound();
  const staff = caller.roles.some((r) => STAFF.includes(r));
  if (staff) return { deposit, staff };
  if (deposit.clientId !== caller.sub) throw crossClientProbe(depositNotFound(), caller, deposit.clientId);
  return { deposit, staff: false };
}

export const routes = [
  defineRoute({
    method: 'POST',
    path: '/v1/deposits',
    operationId: 'createDeposit',
    summary: "Create a deposit intent: the fee is shown and the provider's next action returned",
    tags: ['payments'],
    auth: CLIENT,
    body: DepositBody,
    idempotency: 'required',
    responses: {
      201: { description: 'The deposit (status pending with its next action, or failed with the reason)', schema: DepositOut },
      403: { description: 'kyc_required' },
      404: { description: 'wallet_not_found, profile_not_found' },
      422: {
        description:
          'currency_mismatch, unknown_payment_method, method_not_offered_in_region, method_direction_not_supported, currency_not_supported_by_method, amount_below_minimum, amount_above_maximum, pre_verification_limit_exceeded, idempotency_key_reused, amount_too_precise, amount_not_positive, unknown_currency, currency_not_enabled',
      },
      502: { description: 'payment_provider_unavailable' },
    },
    handler: async ({ body, caller, idempotencyKey, correlationId, locale }) => {
      const d = await createDeposit(body, caller!, { key: idempotencyKey!, requestId: correlationId });
      return { status: 201, body: depositView(d, locale) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/deposits',
    operationId: 'listDeposits',
    summary: "The caller's deposits, newest first",
    tags: ['payments'],
    auth: CLIENT,
    query: ListQuery,
    responses: {
      200: {
        description: 'A page of deposits',
        schema: pageSchema(DepositOut),
      },
    },
    handler: async ({ caller, query, locale }) => {
      const page = await listClientDeposits(caller!.sub, { limit: query.limit, cursor: query.cursor });
      return { status: 200, body: pageBody(page, (d) => depositView(d, locale)) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/deposits/{depositId}',
    operationId: 'getDeposit',
    summary: 'One deposit with its whole timeline (reasons in the caller’s language)',
    tags: ['payments'],
    auth: [...CLIENT, ...STAFF],
    params: DepositParams,
    responses: { 200: { description: 'The deposit', schema: DepositOut }, 404: { description: 'deposit_not_found' } },
    handler: async ({ caller, params, locale }) => {
      const { deposit, staff } = await readableDeposit(caller!, params.depositId);
      return { status: 200, body: depositView(deposit, locale, { staff }) };
    },
  }),
];

export const handler = httpHandler(...routes);
