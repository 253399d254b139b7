/**
 * Use case: the compliance queue (GET /v1/admin/compliance/cases): cases in one status, a page at a time.
 *
 * Invariants:
 * - open cases oldest first (the order compliance works in), closed ones newest first; eventually consistent
 * - reads only, for compliance and admins (the edge's role check)
 */
import type { Caller } from '#domain/identity/roles.ts';
import type { Page } from '#store/pagination.ts';
import { type CaseItem, type CaseStatus, listCasesByStatus } from '#store/payments/cases.ts';
import type { CommandContext } from '../context.ts';

export type { CaseItem, CaseStatus };

export interface ListCasesInput {
  status: CaseStatus;
  limit: number;
  cursor?: string | undefined;
}

export function listCases(input: ListCasesInput, _caller: Caller, _ctx?: CommandContext): Promise<Page<CaseItem>> {
  return listCasesByStatus({ status: input.status, limit: input.limit, cursor: input.cursor });
}
