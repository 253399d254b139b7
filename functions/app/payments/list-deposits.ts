/**
 * The back office's deposit list (GET /v1/admin/deposits; finance, compliance, admin): one client's
 * deposits, or the tenant's deposits in one status.
 *
 * Invariants:
 * - with a client: its deposits newest first, optionally of one status (a filtered page is filled by
 *   reading on, so no deposit is skipped or shown twice); with a status alone: the tenant's deposits in
 *   it (created / pending oldest first, the order they need attention in; the others newest first);
 *   neither is 400 client_or_status_required
 * - paginated with an opaque cursor valid only for the list it came from (400 invalid_cursor)
 * - the deposits carry their pending refund total (refundsPending) and chargeback id for the staff view
 */

import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { DepositStatus } from '#domain/payments/status.ts';
import type { Page } from '#store/pagination.ts';
import { listClientDepositsFiltered, listDepositsByStatus } from '#store/payments/deposits.ts';
import type { DepositWithRefunds } from './deposit-shared.ts';

export interface ListDepositsInput {
  clientId?: string | undefined;
  status?: DepositStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}

const clientOrStatusRequired = () =>
  new DomainError(
    'client_or_status_required',
    'validation',
    "Name the client whose deposits to list (clientId), or a status to list the tenant's deposits in",
    [
      { field: 'clientId', code: 'client_or_status_required', message: 'A client id, or a status' },
      { field: 'status', code: 'client_or_status_required', message: 'A status, or a client id' },
    ],
  );

export async function listDeposits(
  input: ListDepositsInput,
  _caller: Caller,
  _ctx: CommandContext,
): Promise<Page<DepositWithRefunds>> {
  const page = { limit: input.limit, cursor: input.cursor };
  if (input.clientId) return listClientDepositsFiltered({ ...page, clientId: input.clientId, status: input.status });
  if (input.status) return listDepositsByStatus(input.status, page);
  throw clientOrStatusRequired();
}
