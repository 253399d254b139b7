/**
 * Use case: the back office's withdrawal lists (GET /v1/admin/withdrawals): the review queue of one status,
 * or the "needs attention" list.
 *
 * Invariants:
 * - the queue lists one status (default under_review) oldest first by the time the withdrawal entered it,
 *   paginated
 * - the attention list: every withdrawal that is not final (received, under_review, approved, processing;
 *   `status` narrows it to one of them) and has been in its status for more than `olderThanMinutes`
 *   (default ATTENTION_AFTER_MINUTES) or was marked stalled by the watchdog, oldest first across the
 *   statuses, paginated
 * - reads only: finance, compliance and admins (the edge's role check); never a scan
 */
import type { Caller } from '#domain/identity/roles.ts';
import type { WithdrawalStatus } from '#domain/payments/status.ts';
import type { Page } from '#store/pagination.ts';
import {
  listWithdrawalsByStatus,
  listWithdrawalsNeedingAttention,
  OPEN_WITHDRAWAL_STATUSES,
} from '#store/payments/withdrawals.ts';
import type { CommandContext } from '../context.ts';
import type { Withdrawal } from './withdrawal-shared.ts';

export { OPEN_WITHDRAWAL_STATUSES };

/**
 * The attention list's default threshold: a withdrawal longer than this in a status that is not final. The same
 * window as the withdrawal watchdog's STALE_AFTER_MINUTES (repair-withdrawal-workflows.ts; a test keeps them
 * equal), so the list shows what the watchdog is looking at.
 */
export const ATTENTION_AFTER_MINUTES = 15;

export interface ListWithdrawalQueueInput {
  view: 'queue' | 'attention';
  status?: WithdrawalStatus | undefined;
  /** view=attention only. */
  olderThanMinutes?: number | undefined;
  limit: number;
  cursor?: string | undefined;
}

export function listWithdrawalQueue(
  input: ListWithdrawalQueueInput,
  _caller: Caller,
  ctx: CommandContext,
): Promise<Page<Withdrawal>> {
  const now = ctx.now ?? new Date();
  if (input.view === 'attention') {
    return listWithdrawalsNeedingAttention({
      before: new Date(now.getTime() - (input.olderThanMinutes ?? ATTENTION_AFTER_MINUTES) * 60_000).toISOString(),
      ...(input.status ? { statuses: [input.status] } : {}),
      limit: input.limit,
      cursor: input.cursor,
    });
  }
  return listWithdrawalsByStatus(input.status ?? 'under_review', { limit: input.limit, cursor: input.cursor });
}
