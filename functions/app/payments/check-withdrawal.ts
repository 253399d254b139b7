/**
 * Use case: the withdrawal-approval step 'Checks' runs the automatic compliance checks on a received withdrawal
 * (domain/payments/withdrawal-checks.ts assessWithdrawal) and moves it to 'approved' (every check clean and
 * at most the tenant's auto-approval limit) or 'under_review' (the failing checks' reasons; nothing is
 * rejected automatically).
 *
 * Invariants:
 * - it reads what the checks need, strongly consistent where a write could have just happened: the client
 *   profile (kycStatus, kyc.identityExpiresOn; a pending document request = the latest submission's
 *   status is documents_requested), the payment state (a withdrawal freeze), the funding sources (closed
 *   loop) and the client's completed deposits in the withdrawal's currency (round trip)
 * - tradingTurnover is the client's turnover in the withdrawal's currency over the round-trip window (the
 *   notional of its deals in accounts of that currency, from the deal stream: functions/app/trading/
 *   ingest-deals.ts); deals in accounts of another currency do not count (the rule errs towards review)
 * - the checks, the new status (timeline entry with the first failing reason, or none when approved),
 *   the audit entry 'payment.withdrawal.checked' (evidence: outcome and reasons) and the event
 *   (payment.withdrawal.approved / payment.withdrawal.under_review) are one commit, conditioned on the
 *   version read: a racing cancel wins or loses as a whole, and a lost race re-reads
 * - idempotent: a withdrawal already past 'received' is not checked again; the result follows its status
 *   (approved / processing -> approve, under_review -> review, a final status -> cancelled: the
 *   execution ends)
 */
import type { Money } from '#domain/money/index.ts';
import { toMinor } from '#domain/money/index.ts';
import { isTerminalWithdrawal } from '#domain/payments/status.ts';
import { assessWithdrawal } from '#domain/payments/withdrawal-checks.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit, systemActor } from '#store/audit.ts';
import { getClientProfile } from '#store/clients.ts';
import { getKycSubmission } from '#store/kyc.ts';
import { getPaymentState, listFundingSources } from '#store/payments/client-state.ts';
import { listClientDeposits } from '#store/payments/deposits.ts';
import {
  getWithdrawal,
  replaceWithdrawal,
  retryOnRace,
  withdrawalAudit,
  withdrawalEventDetail,
  withdrawalMoved,
} from '#store/payments/withdrawal-items.ts';
import { turnoverBetween } from '#store/trading.ts';
import type { CommandContext } from '../context.ts';
import type { Withdrawal } from './withdrawal-shared.ts';

const ACTOR = systemActor('withdrawal-checks');
const PAGE = 100;
const MAX_PAGES = 20;

export interface CheckWithdrawalInput {
  withdrawalId: string;
}

export interface CheckWithdrawalResult {
  withdrawalId: string;
  outcome: 'approve' | 'review' | 'cancelled';
  reasons: string[];
  status: Withdrawal['status'];
}

const toMoney = (m: { amount: string; currency: string }): Money => ({
  amount: toMinor(m.amount, m.currency),
  currency: m.currency,
});

/**
 * The client's completed deposits (any later status they reached after completing) in `currency` that can
 * have completed at or after `since`. Deposits are listed newest first by creation; one created before
 * `since` minus the longest intent lifetime cannot have completed inside the window, so the walk stops there.
 */
async function completedDepositsSince(clientId: string, currency: string, since: Date, longestIntentMs: number) {
  const stopBefore = new Date(since.getTime() - longestIntentMs).toISOString();
  const out: { depositId: string; completedAt: string; gross: Money }[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await listClientDeposits(clientId, { limit: PAGE, cursor });
    let done = false;
    for (const d of res.items) {
      if (d.createdAt < stopBefore) {
        done = true;
        break;
      }
      if (d.completedAt && d.gross.currency === currency) {
        out.push({ depositId: d.depositId, completedAt: d.completedAt, gross: toMoney(d.gross) });
      }
    }
    if (done || !res.hasMore || !res.nextCursor) break;
    cursor = res.nextCursor;
  }
  return out;
}

async function assess(w: Withdrawal, now: Date) {
  const cfg = tenantConfig();
  const policy = cfg.payments.withdrawals;
  const gross = toMoney(w.gross);
  const profile = await getClientProfile(w.clientId, { consistent: true });
  const submissionId = profile?.kyc?.currentSubmissionId;
  const windowStart = new Date(now.getTime() - policy.roundTripHours * 3_600_000);
  const [submission, state, sources, recentDeposits, turnover] = await Promise.all([
    submissionId ? getKycSubmission(submissionId) : Promise.resolve(undefined),
    getPaymentState(w.clientId),
    listFundingSources(w.clientId),
    completedDepositsSince(
      w.clientId,
      gross.currency,
      windowStart,
      Math.max(cfg.payments.deposits.wireIntentTtlHours * 3_600_000, cfg.payments.deposits.intentTtlMinutes * 60_000),
    ),
    turnoverBetween(w.clientId, gross.currency, windowStart, now),
  ]);
  return assessWithdrawal({
    now,
    gross,
    methodId: w.methodId,
    destination: { ...(w.destination.sourceId ? { sourceId: w.destination.sourceId } : {}), account: w.destination.account },
    policy,
    kyc: {
      status: profile?.kycStatus ?? 'not_started',
      identityExpiresOn: profile?.kyc?.identityExpiresOn,
      documentsRequested: submission?.status === 'documents_requested',
    },
    frozen: state.withdrawalsFrozen,
    sources: sources.map((s) => ({
      sourceId: s.sourceId,
      methodId: s.methodId,
      display: s.display,
      account: s.account,
      deposited: s.deposited,
      returned: s.returned,
    })),
    recentDeposits,
    tradingTurnover: { amount: turnover, currency: gross.currency },
  });
}

function resultFor(w: Withdrawal): CheckWithdrawalResult {
  const failing = (w.checks ?? []).filter((c) => !c.passed).map((c) => c.reason ?? c.check);
  if (w.status === 'approved' || w.status === 'processing') {
    return { withdrawalId: w.withdrawalId, outcome: 'approve', reasons: [], status: w.status };
  }
  if (w.status === 'under_review') {
    return {
      withdrawalId: w.withdrawalId,
      outcome: 'review',
      reasons: failing.length ? failing : ['manual_review'],
      status: w.status,
    };
  }
  return { withdrawalId: w.withdrawalId, outcome: 'cancelled', reasons: [], status: w.status };
}

/** Runs the checks once on a received withdrawal and records the outcome (module invariants). */
export async function checkWithdrawal(input: CheckWithdrawalInput, ctx: CommandContext): Promise<CheckWithdrawalResult> {
  const { withdrawalId } = input;
  const now = ctx.now ?? new Date();
  return retryOnRace(async () => {
    const w = await getWithdrawal(withdrawalId, { consistent: true });
    if (!w) throw new Error(`withdrawal-checks: no withdrawal ${withdrawalId}`);
    if (w.status !== 'received' || isTerminalWithdrawal(w.status)) return resultFor(w);
    const a = await assess(w, now);
    const at = new Date().toISOString();
    const checked: Withdrawal = { ...w, checks: a.checks };
    const next =
      a.outcome === 'approve'
        ? withdrawalMoved(checked, 'approved', at)
        : withdrawalMoved(checked, 'under_review', at, a.reasons[0]);
    await commit({
      writes: [replaceWithdrawal(w, next, at)],
      audit: withdrawalAudit(w, next, 'payment.withdrawal.checked', {
        actor: ACTOR,
        requestId: ctx.requestId,
        evidence: { outcome: a.outcome, reasons: a.reasons, checks: a.checks },
      }),
      outbox: [
        a.outcome === 'approve'
          ? { detailType: 'payment.withdrawal.approved', detail: withdrawalEventDetail(next, { by: 'checks' as const }) }
          : { detailType: 'payment.withdrawal.under_review', detail: withdrawalEventDetail(next, { reasons: a.reasons }) },
      ],
      now: () => new Date(at),
    });
    logger.info('withdrawal-checks: checked', { withdrawalId, outcome: a.outcome, reasons: a.reasons.join(',') });
    return { withdrawalId, outcome: a.outcome, reasons: a.reasons, status: next.status };
  });
}
