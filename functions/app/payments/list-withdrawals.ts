/**
 * Use case: the caller's own withdrawals, newest first, a page at a time (GET /v1/withdrawals).
 *
 * Invariants:
 * - a client lists only its own withdrawals (the list is keyed by the caller, never by an input id)
 * - the cursor is the store's opaque page cursor (400 invalid_cursor when it does not belong to this list)
 */
import type { Caller } from '#domain/identity/roles.ts';
import type { Page } from '#store/pagination.ts';
import { listClientWithdrawals } from '#store/payments/withdrawals.ts';
import type { CommandContext } from '../context.ts';
import type { Withdrawal } from './withdrawal-shared.ts';

export interface ListWithdrawalsInput {
  limit: number;
  cursor?: string | undefined;
}

export function listWithdrawals(input: ListWithdrawalsInput, caller: Caller, _ctx?: CommandContext): Promise<Page<Withdrawal>> {
  return listClientWithdrawals(caller.sub, { limit: input.limit, cursor: input.cursor });
}
