/**
 * Apply a provider's deposit.* webhook event to our deposit (the WebhookEffect contract in
 * webhook-effect.ts; postings in docs/decisions/0008-payments.md).
 *
 * Invariants:
 * - the deposit is found by the event's merchantRef (our deposit id, same provider), else by the
 *   provider reference item; none -> ignored 'unknown_payment'
 * - deposit.succeeded settles a created / pending deposit whose gross equals the event's amount
 *   (else ignored 'amount_mismatch') with ONE journal `dep_<depositId>` (scope 'psp-deposit', key
 *   depositId): psp_clearing -gross, wallet +net, fee_income +fee (no zero posting). In the journal's
 *   own transaction: the deposit 'completed' (versioned), the webhook marker, the funding source's
 *   credit, the first-deposit claim, the audit entry and the outbox event payment.deposit.completed.
 *   The pre-verification reservation made at creation stays counted
 * - the first deposit is claimed with a condition: of concurrent first deposits exactly one is first,
 *   the others retry as ordinary deposits (first_deposit_taken)
 * - deposit.failed / deposit.expired close a created / pending deposit (reason from the failure code /
 *   intent_expired), release its reservation, with the marker, audit and outbox in one commit
 * - a deposit already past created / pending is never moved (a late or out-of-order event): ignored
 *   'invalid_transition'; decisions are taken on consistent reads inside each attempt, so a concurrent
 *   event for the same deposit loses its version race, re-reads, and is ignored (attempts:
 *   RETRY_POLICIES.webhookEffect; when they run out the error propagates and the provider redelivers)
 * - a concurrent duplicate of the SAME event fails on the marker: webhook_duplicate propagates
 */
import { createHash } from 'node:crypto';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { JournalDraft } from '#domain/ledger/index.ts';
import { toMinor } from '#domain/money/index.ts';
import { depositFailureReason } from '#domain/payments/deposits.ts';
import { findMethod, labelFor } from '#domain/payments/methods.ts';
import type { PspEvent } from '#domain/payments/ports.ts';
import { withRetry } from '#shared/retry.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type AuditInput, commit } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { houseAccount } from '#store/ledger/accounts.ts';
import { executeJournal } from '#store/ledger/journals.ts';
import { fundingSourceDeposit, fundingSourceId, getPaymentState, paymentStateOnDeposit } from '#store/payments/client-state.ts';
import {
  DEPOSIT_ENTITY,
  depositClosing,
  depositSnapshot,
  depositTransition,
  getDeposit,
  type StoredDeposit,
} from '#store/payments/deposits.ts';
import { lookupProviderRef, providerRefWrite } from '#store/payments/webhook-events.ts';
import { isOpenDeposit } from './deposit-shared.ts';
import type { WebhookContext, WebhookEffect, WebhookOutcome } from './webhook-effect.ts';

export const DEPOSIT_JOURNAL_SCOPE = 'psp-deposit';
export const depositJournalId = (depositId: string) => `dep_${depositId}`;

/** Errors that mean the deposit or the payment state changed under the effect: re-read and re-apply. */
const RETRIED = new Set(['conflict', 'provider_ref_taken', 'first_deposit_taken', 'concurrent_modification']);

/** Thrown inside an attempt when the event changes nothing; becomes { outcome: 'ignored' }. */
class Ignored extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

async function findDeposit(ctx: WebhookContext): Promise<StoredDeposit | undefined> {
  const { event, provider } = ctx;
  if (event.merchantRef) {
    const d = await getDeposit(event.merchantRef, { consistent: true });
    if (d && d.provider === provider && (!d.providerRef || d.providerRef === event.providerRef)) return d;
  }
  const ref = await lookupProviderRef(provider, event.providerRef);
  if (ref?.paymentKind !== 'deposit') return undefined;
  return getDeposit(ref.paymentId, { consistent: true });
}

/** Runs `run` under RETRY_POLICIES.webhookEffect; an Ignored refusal becomes { outcome: 'ignored' }. */
async function attempts(
  depositId: string,
  run: (attempt: number, firstTaken: boolean) => Promise<void>,
): Promise<WebhookOutcome> {
  let firstTaken = false;
  try {
    await withRetry(
      'webhookEffect',
      (attempt) => run(attempt, firstTaken),
      (err) => {
        if (!isDomainError(err) || !RETRIED.has(err.code)) return false;
        if (err.code === 'first_deposit_taken') firstTaken = true;
        return true;
      },
    );
    return { outcome: 'applied', paymentId: depositId };
  } catch (err) {
    if (err instanceof Ignored) return { outcome: 'ignored', reason: err.reason, paymentId: depositId };
    throw err;
  }
}

const mask = (account: string) => {
  const a = account.replace(/\s+/g, '').toUpperCase();
  return a.length <= 8 ? `•••• ${a.slice(-4)}` : `${a.slice(0, 4)} •••• ${a.slice(-4)}`;
};

/**
 * The funding source the money came from: the provider's source (card fingerprint, e-wallet, address);
 * else the account the client said it pays from (a wire's IBAN); else, when the provider names no
 * source, ONE source per (provider, method, client), so the closed loop still sends money back
 * through the same method and provider.
 */
function sourceOf(d: StoredDeposit, event: PspEvent) {
  if (event.source) return { account: event.source.fingerprint, display: event.source.display };
  if (d.payerAccount) return { account: d.payerAccount, display: mask(d.payerAccount) };
  const cfg = tenantConfig();
  const method = findMethod(cfg, d.methodId);
  return { account: `client:${d.clientId}`, display: method ? labelFor(method, cfg.defaultLocale) : d.methodId };
}

async function complete(ctx: WebhookContext, found: StoredDeposit): Promise<WebhookOutcome> {
  const { event } = ctx;
  const gross = toMinor(found.gross.amount, found.gross.currency);
  if (event.amount.currency !== found.gross.currency || event.amount.amount !== gross) {
    return { outcome: 'ignored', reason: 'amount_mismatch', paymentId: found.depositId };
  }
  if (!isOpenDeposit(found)) return { outcome: 'ignored', reason: 'invalid_transition', paymentId: found.depositId };
  const currency = found.gross.currency;
  const net = toMinor(found.net.amount, currency);
  const fee = toMinor(found.fee.amount, currency);
  const [clearing, feeIncome] = await Promise.all([houseAccount('psp_clearing', currency), houseAccount('fee_income', currency)]);
  const journalId = depositJournalId(found.depositId);
  const draft: JournalDraft = {
    journalId,
    type: 'deposit',
    postings: [
      { accountId: clearing.accountId, amount: -gross, currency },
      { accountId: found.walletId, amount: net, currency },
      ...(fee > 0n ? [{ accountId: feeIncome.accountId, amount: fee, currency }] : []),
    ],
    reference: found.depositId,
    metadata: {
      psp: { provider: ctx.provider, providerRef: event.providerRef, kind: 'deposit' },
      depositId: found.depositId,
      methodId: found.methodId,
    },
  };
  const requestHash = createHash('sha256').update(`${found.depositId}\u0000${gross}\u0000${currency}`).digest('hex');

  return attempts(found.depositId, async (_attempt, firstTaken) => {
    await executeJournal(
      {
        draft,
        idempotency: { scope: DEPOSIT_JOURNAL_SCOPE, key: found.depositId, requestHash },
        actor: ctx.actor,
        requestId: ctx.requestId,
        clientId: found.clientId,
      },
      {
        prepare: async ({ at }) => {
          const [cur, state] = await Promise.all([
            getDeposit(found.depositId, { consistent: true }),
            getPaymentState(found.clientId),
          ]);
          if (!cur) throw new Ignored('unknown_payment');
          if (!isOpenDeposit(cur)) throw new Ignored('invalid_transition');
          const first = !firstTaken && !state.firstDepositId;
          const src = sourceOf(cur, event);
          const sourceId = fundingSourceId(cur.provider, cur.methodId, src.account);
          const { next, write } = depositTransition(cur, 'completed', {
            at,
            patch: {
              journalId,
              completedAt: at,
              firstDeposit: first,
              sourceId,
              sourceDisplay: src.display,
              providerRef: cur.providerRef ?? event.providerRef,
            },
          });
          const writes: CommitWrite[] = [
            write,
            ctx.marker,
            fundingSourceDeposit(
              {
                clientId: cur.clientId,
                sourceId,
                methodId: cur.methodId,
                methodKind: cur.methodKind,
                provider: cur.provider,
                account: src.account,
                display: src.display,
              },
              { minor: net, currency },
              at,
            ),
          ];
          const claim = first ? paymentStateOnDeposit(cur.clientId, { first: { depositId: cur.depositId, at } }) : undefined;
          if (claim) writes.push(claim);
          // A deposit still 'created' (the intent's answer not yet recorded) gets its reference item here.
          if (!cur.providerRef) {
            writes.push(
              providerRefWrite(cur.provider, event.providerRef, { paymentKind: 'deposit', paymentId: cur.depositId }, at),
            );
          }
          const audit: AuditInput = {
            actor: ctx.actor,
            action: 'payment.deposit.completed',
            entity: { type: DEPOSIT_ENTITY, id: cur.depositId },
            clientId: cur.clientId,
            before: depositSnapshot(cur),
            after: depositSnapshot(next),
            evidence: { provider: ctx.provider, eventId: event.eventId, providerRef: event.providerRef },
            requestId: ctx.requestId,
          };
          return {
            adjusted: new Set<string>(),
            writes,
            audit: [audit],
            outbox: [
              {
                detailType: 'payment.deposit.completed',
                detail: {
                  depositId: cur.depositId,
                  clientId: cur.clientId,
                  walletId: cur.walletId,
                  amount: cur.net.amount,
                  gross: cur.gross.amount,
                  fee: cur.fee.amount,
                  currency,
                  first,
                  methodId: cur.methodId,
                  journalId,
                },
              },
            ],
          };
        },
      },
    );
  });
}

async function close(
  ctx: WebhookContext,
  found: StoredDeposit,
  to: 'failed' | 'expired',
  reason: string,
): Promise<WebhookOutcome> {
  return attempts(found.depositId, async (attempt) => {
    const cur = attempt === 1 ? found : await getDeposit(found.depositId, { consistent: true });
    if (!cur) throw new Ignored('unknown_payment');
    if (!isOpenDeposit(cur)) throw new Ignored('invalid_transition');
    const at = new Date().toISOString();
    const change = depositClosing(cur, to, { at, reason, actor: ctx.actor, requestId: ctx.requestId });
    await commit({
      writes: [...change.writes, ctx.marker],
      audit: {
        ...change.audit,
        evidence: { provider: ctx.provider, eventId: ctx.event.eventId, providerRef: ctx.event.providerRef },
      },
      outbox: change.outbox,
      now: () => new Date(at),
    });
  });
}

/** deposit.succeeded / deposit.failed / deposit.expired (see the module invariants). */
export const applyDepositEvent: WebhookEffect = async (ctx) => {
  const found = await findDeposit(ctx);
  if (!found) return { outcome: 'ignored', reason: 'unknown_payment' };
  switch (ctx.event.type) {
    case 'deposit.succeeded':
      return complete(ctx, found);
    case 'deposit.failed':
      return close(ctx, found, 'failed', depositFailureReason(ctx.event.failureCode));
    case 'deposit.expired':
      return close(ctx, found, 'expired', 'intent_expired');
    default:
      throw new DomainError('webhook_unsupported', 'unprocessable', `Not a deposit event: ${ctx.event.type}`);
  }
};
