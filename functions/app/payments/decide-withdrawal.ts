/**
 * Use case: finance or compliance decides a withdrawal under review
 * (POST /v1/admin/withdrawals/{withdrawalId}/decision).
 *
 * Invariants:
 * - checked before anything is written: reject needs a catalogue reason (400 reason_required /
 *   unknown_rejection_reason / note_required, validateWithdrawalRejection) the deciding role may give (403
 *   reason_not_allowed_for_role); the withdrawal must wait for a decision (404 withdrawal_not_found; 409
 *   withdrawal_not_under_review for any other status or an already recorded decision: of two concurrent
 *   decisions one wins, the other gets this)
 * - the deciding role is the caller's first of finance / compliance (the edge lets only those in); it is
 *   recorded with the decision and in the audit entry 'payment.withdrawal.review_decided' with the caller
 *   as the actor
 * - a review is decided once: the decision (review block; approve also moves the status to 'approved' with
 *   the event payment.withdrawal.approved) is ONE commit conditioned on the version read; a lost race
 *   re-reads and re-checks (decisionConflict retry policy)
 * - a reject is recorded with status still 'under_review' (the hold still reserved); the finalize step voids
 *   the hold and moves it to 'rejected' in one transaction. A decided review cannot be cancelled
 * - only after the commit is the waiting execution answered (the token of the version committed over),
 *   best effort through the workflow port. A lost callback never loses the decision: AwaitReview times out
 *   after reviewTimeoutDays into Finalize 'expire', which reads the recorded decision
 * - the task token never leaves the server
 */
import { DomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { validateWithdrawalRejection } from '#domain/payments/reasons.ts';
import { withRetry } from '#shared/retry.ts';
import { actorFrom, commit } from '#store/audit.ts';
import { isWithdrawalRace } from '#store/payments/withdrawal-items.ts';
import {
  getWithdrawal,
  replaceWithdrawal,
  withdrawalAudit,
  withdrawalEventDetail,
  withdrawalMoved,
  withdrawalNotFound,
} from '#store/payments/withdrawals.ts';
import type { CommandContext } from '../context.ts';
import type { Withdrawal } from './withdrawal-shared.ts';
import { answerWithdrawalTask } from './withdrawal-task.ts';

/** The roles that decide withdrawals. */
export const WITHDRAWAL_DECIDERS: readonly Role[] = ['finance', 'compliance'];

export interface DecideWithdrawalInput {
  withdrawalId: string;
  decision: 'approve' | 'reject';
  /** A WITHDRAWAL_REJECTION_REASONS code; required for reject. */
  reason?: string | undefined;
  note?: string | undefined;
}

const notUnderReview = (w: Withdrawal) =>
  new DomainError('withdrawal_not_under_review', 'conflict', `The withdrawal is ${w.status}, not waiting for a decision`, [], {
    withdrawalId: w.withdrawalId,
    status: w.status,
    ...(w.review?.decision ? { decision: w.review.decision } : {}),
  });

/** Records the decision (module invariants), then answers the waiting execution. */
export async function decideWithdrawal(input: DecideWithdrawalInput, caller: Caller, ctx: CommandContext): Promise<Withdrawal> {
  const id = input.withdrawalId;
  const actor = actorFrom(caller, WITHDRAWAL_DECIDERS);
  const role = actor.role;
  const note = input.note?.trim() || undefined;
  let reason: string | undefined;
  if (input.decision === 'reject') {
    const entry = validateWithdrawalRejection(input.reason, note);
    if (!(entry.roles as readonly string[]).includes(role)) {
      throw new DomainError('reason_not_allowed_for_role', 'forbidden', `Role ${role} cannot reject for ${entry.code}`);
    }
    reason = entry.code;
  }
  const committed = await withRetry(
    'decisionConflict',
    async () => {
      const w = await getWithdrawal(id, { consistent: true });
      if (!w) throw withdrawalNotFound(id);
      if (w.status !== 'under_review' || w.review?.decision) throw notUnderReview(w);
      const now = new Date();
      const at = now.toISOString();
      const review = {
        openedAt: w.review?.openedAt ?? at,
        decidedAt: at,
        decidedBy: actor.id,
        decidedByRole: role,
        decision: input.decision,
        ...(reason ? { reason } : {}),
        ...(note ? { note } : {}),
      };
      const decided: Withdrawal = { ...w, review };
      const next = input.decision === 'approve' ? withdrawalMoved(decided, 'approved', at) : decided;
      await commit({
        writes: [replaceWithdrawal(w, next, at)],
        audit: withdrawalAudit(w, next, 'payment.withdrawal.review_decided', {
          actor,
          requestId: ctx.requestId,
          reason,
          evidence: { decision: input.decision, role, ...(note ? { note } : {}) },
        }),
        outbox:
          input.decision === 'approve'
            ? [{ detailType: 'payment.withdrawal.approved', detail: withdrawalEventDetail(next, { by: 'review' }) }]
            : [],
        now: () => now,
      });
      return next;
    },
    isWithdrawalRace,
  );
  if (committed.reviewTaskToken) {
    await answerWithdrawalTask(
      committed.reviewTaskToken,
      { decision: input.decision, ...(reason ? { reason } : {}) },
      { withdrawalId: id, what: 'decision' },
    );
  }
  return committed;
}
