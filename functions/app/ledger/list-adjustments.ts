/**
 * Adjustment requests, newest first, optionally in one status (GET /v1/admin/adjustments).
 *
 * Invariants:
 * - finance only (the edge checks the role); cursor-paginated (the store validates the cursor)
 * - each request reads as its record: a pending request past its expiry reads 'expired'
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import { type StoredAdjustmentStatus, listAdjustments as storedAdjustments } from '#store/adjustments.ts';
import type { Page } from '#store/pagination.ts';
import { type AdjustmentRecord, adjustmentRecord } from './adjustments.ts';

export interface ListAdjustmentsInput {
  status?: StoredAdjustmentStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}

export async function listAdjustments(
  input: ListAdjustmentsInput,
  _caller: Caller,
  _ctx: CommandContext,
): Promise<Page<AdjustmentRecord>> {
  const page = await storedAdjustments(input.status, input.limit, input.cursor);
  const now = new Date();
  return { ...page, items: page.items.map((a) => adjustmentRecord(a, now)) };
}
