/**
 * Use case: the withdrawal-approval step 'Payout' sends the payout to the provider and waits for its
 * confirmation. The execution resumes with { outcome: 'paid' | 'failed', failureCode? } from here (a
 * synchronous answer), from the payout webhook or, when neither comes, times out into Finalize 'check'.
 *
 * Invariants:
 * - the first call moves the withdrawal approved -> processing (own commit with its audit entry and the event
 *   payment.withdrawal.processing) BEFORE the provider is called, so a webhook arriving at any time after
 *   the call finds it processing
 * - the payout is idempotent by withdrawal id (idempotencyKey = withdrawalId): a retried step never pays twice
 * - after the call, one commit stores payout.providerRef / sentAt (the first ones are kept), the task
 *   token, a synchronous outcome when the provider gave one, the provider reference item (first time only,
 *   store/payments/webhook-events.ts providerRefWrite) and the audit entry 'payment.withdrawal.payout_sent'
 * - an outcome already recorded (synchronous, or a webhook that beat this commit) is answered to the token
 *   at once through the workflow port, so the execution never waits for a confirmation that already came
 * - provider errors and timeouts THROW (error name PspUnavailable; the ASL retries with backoff); a request
 *   the provider refuses as invalid throws PspRejected (not retried: the execution fails the withdrawal).
 *   Nothing is recorded for a call that threw
 * - a withdrawal that is final already is answered with its outcome and nothing is sent
 */
import { pspFor } from '#adapters/psp/index.ts';
import { workflows } from '#app/ports/workflow.ts';
import { isDomainError } from '#domain/errors.ts';
import { toMinor } from '#domain/money/index.ts';
import type { Payout } from '#domain/payments/ports.ts';
import { isTerminalWithdrawal } from '#domain/payments/status.ts';
import { logger } from '#shared/powertools.ts';
import { commit, systemActor } from '#store/audit.ts';
import type { CommitWrite } from '#store/items.ts';
import { providerRefWrite } from '#store/payments/webhook-events.ts';
import {
  getWithdrawal,
  replaceWithdrawal,
  retryOnRace,
  withdrawalAudit,
  withdrawalEventDetail,
  withdrawalMoved,
} from '#store/payments/withdrawal-items.ts';
import type { CommandContext } from '../context.ts';
import type { Withdrawal } from './withdrawal-shared.ts';

const ACTOR = systemActor('withdrawal-payout');

export interface SendWithdrawalPayoutInput {
  withdrawalId: string;
  taskToken: string;
}

export interface SendWithdrawalPayoutResult {
  withdrawalId: string;
  providerRef?: string;
  status: Withdrawal['status'];
  /** answered = the token was answered by this call (an outcome is known). */
  payout: 'sent' | 'answered' | 'final';
}

function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** Resumes the payout task with the outcome (through the workflow port; a failure throws: the state retries). */
async function answer(taskToken: string, outcome: 'paid' | 'failed', failureCode?: string) {
  await workflows().answer(taskToken, { output: { outcome, ...(failureCode ? { failureCode } : {}) } });
}

/** approved -> processing, once (a lost race re-reads: someone else may have moved it). */
async function markProcessing(withdrawalId: string, ctx: CommandContext): Promise<Withdrawal> {
  return retryOnRace(async () => {
    const w = await getWithdrawal(withdrawalId, { consistent: true });
    if (!w) throw new Error(`withdrawal-payout: no withdrawal ${withdrawalId}`);
    if (w.status !== 'approved') return w;
    const now = new Date();
    const at = now.toISOString();
    const next = withdrawalMoved(w, 'processing', at);
    await commit({
      writes: [replaceWithdrawal(w, next, at)],
      audit: withdrawalAudit(w, next, 'payment.withdrawal.processing', { actor: ACTOR, requestId: ctx.requestId }),
      outbox: [{ detailType: 'payment.withdrawal.processing', detail: withdrawalEventDetail(next) }],
      now: () => now,
    });
    return next;
  });
}

async function callProvider(w: Withdrawal): Promise<Payout> {
  try {
    return await pspFor(w.provider).createPayout({
      withdrawalId: w.withdrawalId,
      clientId: w.clientId,
      methodId: w.methodId,
      amount: { amount: toMinor(w.net.amount, w.net.currency), currency: w.net.currency },
      destination: { account: w.destination.account },
      idempotencyKey: w.withdrawalId,
    });
  } catch (err) {
    const permanent = isDomainError(err) && (err.kind === 'validation' || err.kind === 'unprocessable');
    const name = permanent ? 'PspRejected' : 'PspUnavailable';
    logger.warn('withdrawal-payout: provider call failed', {
      withdrawalId: w.withdrawalId,
      error: (err as Error)?.name,
      as: name,
    });
    throw named(name, `${w.provider}: ${(err as Error)?.message ?? 'payout failed'}`);
  }
}

/** Records the provider's answer and the token; returns the withdrawal as committed. */
async function record(withdrawalId: string, payout: Payout, taskToken: string, ctx: CommandContext): Promise<Withdrawal> {
  return retryOnRace(async () => {
    const w = await getWithdrawal(withdrawalId, { consistent: true });
    if (!w) throw new Error(`withdrawal-payout: no withdrawal ${withdrawalId}`);
    if (w.status !== 'processing') return w;
    const now = new Date();
    const at = now.toISOString();
    const known = w.payout?.outcome;
    const syncOutcome = payout.status === 'paid' || payout.status === 'failed' ? payout.status : undefined;
    const next: Withdrawal = {
      ...w,
      payoutTaskToken: taskToken,
      payout: {
        ...(w.payout ?? {}),
        providerRef: w.payout?.providerRef ?? payout.providerRef,
        sentAt: w.payout?.sentAt ?? at,
        ...(!known && syncOutcome
          ? { outcome: syncOutcome, outcomeAt: at, ...(payout.failureCode ? { failureCode: payout.failureCode } : {}) }
          : {}),
      },
    };
    const writes: CommitWrite[] = [replaceWithdrawal(w, next, at)];
    if (!w.payout?.providerRef) {
      writes.push(providerRefWrite(w.provider, payout.providerRef, { paymentKind: 'withdrawal', paymentId: withdrawalId }, at));
    }
    await commit({
      writes,
      audit: withdrawalAudit(w, next, 'payment.withdrawal.payout_sent', {
        actor: ACTOR,
        requestId: ctx.requestId,
        evidence: { providerRef: payout.providerRef, providerStatus: payout.status },
      }),
      now: () => now,
    });
    return next;
  });
}

/** Sends the payout once and answers the task when its outcome is known (module invariants). */
export async function sendWithdrawalPayout(
  input: SendWithdrawalPayoutInput,
  ctx: CommandContext,
): Promise<SendWithdrawalPayoutResult> {
  const { withdrawalId, taskToken } = input;
  const w = await markProcessing(withdrawalId, ctx);
  if (isTerminalWithdrawal(w.status)) {
    await answer(taskToken, w.status === 'completed' ? 'paid' : 'failed');
    return { withdrawalId, status: w.status, payout: 'final' };
  }
  if (w.status !== 'processing') throw new Error(`withdrawal-payout: ${withdrawalId} is ${w.status}, not approved`);
  if (w.payout?.outcome) {
    await answer(taskToken, w.payout.outcome, w.payout.failureCode);
    return { withdrawalId, providerRef: w.payout.providerRef, status: w.status, payout: 'answered' };
  }
  const payout = await callProvider(w);
  const stored = await record(withdrawalId, payout, taskToken, ctx);
  if (stored.payout?.outcome) {
    await answer(taskToken, stored.payout.outcome, stored.payout.failureCode);
    logger.info('withdrawal-payout: outcome known; task answered', { withdrawalId, outcome: stored.payout.outcome });
    return { withdrawalId, providerRef: stored.payout.providerRef, status: stored.status, payout: 'answered' };
  }
  if (isTerminalWithdrawal(stored.status)) {
    await answer(taskToken, stored.status === 'completed' ? 'paid' : 'failed');
    return { withdrawalId, status: stored.status, payout: 'final' };
  }
  logger.info('withdrawal-payout: payout sent; waiting for the provider', { withdrawalId });
  return { withdrawalId, providerRef: payout.providerRef, status: stored.status, payout: 'sent' };
}
