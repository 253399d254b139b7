/**
 * Staff users, newest first (GET /v1/admin/staff).
 *
 * Invariants:
 * - cursor-paginated: a page of at most `limit` items, `nextCursor` iff `hasMore` (functions/store/pagination.ts)
 * - the edge lets admins only and presents each item (no keys)
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { Page } from '#store/pagination.ts';
import { listStaffPage, type StaffItem } from '#store/staff.ts';

export interface ListStaffInput {
  limit: number;
  cursor?: string | undefined;
}

export async function listStaff(input: ListStaffInput, _caller: Caller, _ctx: CommandContext): Promise<Page<StaffItem>> {
  return listStaffPage(input.limit, input.cursor);
}
