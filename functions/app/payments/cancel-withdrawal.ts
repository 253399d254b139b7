/**
 * Use case: a client cancels its own withdrawal (POST /v1/withdrawals/{withdrawalId}/cancellation).
 *
 * Invariants:
 * - only the owner cancels: another client's withdrawal is 404 withdrawal_not_found, like an unknown id,
 *   marked as a cross-client probe (the edge records it); the edge lets only clients in
 * - only while received, or under review without a recorded decision; 409 withdrawal_not_cancellable
 *   otherwise (re-checked inside the transaction, so a racing decision or finalize wins or loses whole)
 * - the hold is voided and the withdrawal 'cancelled' (reason cancelled_by_client) with its audit entry and
 *   the event payment.withdrawal.cancelled in ONE transaction (voidHold `extra`)
 * - then an execution waiting in review is answered { decision: 'cancelled' }, best effort: otherwise its
 *   review timeout ends it, and finalize finds it already cancelled
 */

import { isDomainError } from '#domain/errors.ts';
import type { Caller, Role } from '#domain/identity/roles.ts';
import { crossClientProbe } from '#domain/security/probes.ts';
import { actorFrom } from '#store/audit.ts';
import { voidHold } from '#store/ledger/holds.ts';
import {
  getWithdrawal,
  replaceWithdrawal,
  withdrawalAudit,
  withdrawalEventDetail,
  withdrawalMoved,
  withdrawalNotFound,
} from '#store/payments/withdrawals.ts';
import type { CommandContext } from '../context.ts';
import { isCancellable, notCancellable, type Withdrawal } from './withdrawal-shared.ts';
import { answerWithdrawalTask } from './withdrawal-task.ts';

const CLIENT: readonly Role[] = ['client'];
const REASON = 'cancelled_by_client';

export interface CancelWithdrawalInput {
  withdrawalId: string;
}

export async function cancelWithdrawal(input: CancelWithdrawalInput, caller: Caller, ctx: CommandContext): Promise<Withdrawal> {
  const id = input.withdrawalId;
  const first = await getWithdrawal(id, { consistent: true });
  if (!first) throw withdrawalNotFound(id);
  if (first.clientId !== caller.sub) throw crossClientProbe(withdrawalNotFound(id), caller, first.clientId);
  if (!isCancellable(first)) throw notCancellable(first);
  const audit = { actor: actorFrom(caller, CLIENT), requestId: ctx.requestId };
  let committed: Withdrawal | undefined;
  try {
    await voidHold(first.holdId, {
      reason: REASON,
      ...audit,
      extra: async (at) => {
        const w = (await getWithdrawal(id, { consistent: true }))!;
        if (!isCancellable(w)) throw notCancellable(w);
        const next = withdrawalMoved(w, 'cancelled', at, REASON);
        committed = next;
        return {
          writes: [replaceWithdrawal(w, next, at)],
          audit: [withdrawalAudit(w, next, 'payment.withdrawal.cancelled', { ...audit, reason: REASON })],
          outbox: [
            {
              detailType: 'payment.withdrawal.cancelled',
              detail: withdrawalEventDetail(next, { reason: 'cancelled_by_client' }),
            },
          ],
        };
      },
    });
  } catch (err) {
    if (isDomainError(err) && err.code === 'hold_not_pending') {
      const now = await getWithdrawal(id, { consistent: true });
      throw notCancellable(now ?? first);
    }
    throw err;
  }
  const done = committed!;
  if (done.reviewTaskToken) {
    await answerWithdrawalTask(done.reviewTaskToken, { decision: 'cancelled' }, { withdrawalId: id, what: 'cancel' });
  }
  return (await getWithdrawal(id, { consistent: true })) ?? done;
}
