/**
 * The caller's own deposits, newest first (GET /v1/deposits).
 *
 * Invariants:
 * - only the caller's deposits (its client list, gsi1 DEPOSITS#<sub>): there is no client id to name
 * - paginated with an opaque cursor that is valid only for the caller's own list (400 invalid_cursor)
 */

import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { Page } from '#store/pagination.ts';
import { listClientDeposits } from '#store/payments/deposits.ts';
import type { Deposit } from './deposit-shared.ts';

export interface ListOwnDepositsInput {
  limit: number;
  cursor?: string | undefined;
}

export function listOwnDeposits(input: ListOwnDepositsInput, caller: Caller, _ctx: CommandContext): Promise<Page<Deposit>> {
  return listClientDeposits(caller.sub, { limit: input.limit, cursor: input.cursor });
}
