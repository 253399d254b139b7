/**
 * The latest ledger reconciliation for finance, compliance and admins (GET /v1/admin/ledger/reconciliation).
 *
 * Invariants:
 * - read only; the edge admits finance, compliance and admins
 * - the latest finished run with its findings (paginated, in the order found) and, if one is newer and
 *   still running, that run; no finished run yet is `latest` undefined with no findings
 */
import type { CommandContext } from '#app/context.ts';
import type { Caller } from '#domain/identity/roles.ts';
import type { JobRunItem } from '#store/job-runs.ts';
import type { Page } from '#store/pagination.ts';
import { latestRuns, type ReconciliationFinding, runFindings } from '#store/reconciliation-runs.ts';

/** A reconciliation run as the use case returns it (a job run). */
export type ReconciliationRun = JobRunItem;
export type { ReconciliationFinding };

export interface LedgerReconciliation {
  latest?: ReconciliationRun;
  inProgress?: ReconciliationRun;
  findings: Page<ReconciliationFinding>;
}

export async function getLedgerReconciliation(
  input: { limit: number; cursor?: string | undefined },
  _caller: Caller,
  _ctx: CommandContext,
): Promise<LedgerReconciliation> {
  const { latest, inProgress } = await latestRuns();
  const findings = latest ? await runFindings(latest.runId, input.limit, input.cursor) : { items: [], hasMore: false };
  return { ...(latest ? { latest } : {}), ...(inProgress ? { inProgress } : {}), findings };
}
