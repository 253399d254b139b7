/**
 * One PSP settlement reconciliation run and a page of its discrepancy lines
 * (GET /v1/admin/reconciliation/psp/{runId}; finance, compliance, admin; read only).
 *
 * Invariants:
 * - an unknown run id (or a run of another job) is 404 reconciliation_run_not_found
 * - a run not yet finished ('succeeded') has no lines; a finished run shows lines 1..summary.linesStored only
 *   (lines an earlier, crashed attempt of the same run wrote beyond that are hidden)
 */

import type { CommandContext } from '#app/context.ts';
import { DomainError } from '#domain/errors.ts';
import type { JobRunItem } from '#store/job-runs.ts';
import type { Page } from '#store/pagination.ts';
import { getPspRun, type ReconLineView, runLines } from '#store/payments/psp-reconciliation.ts';

export type { ReconLineView };
/** A run as the use case returns it (the job-run item). */
export type PspReconciliationRun = JobRunItem;

export interface GetPspReconciliationRunInput {
  runId: string;
  limit: number;
  cursor?: string | undefined;
}

export async function getPspReconciliationRun(
  input: GetPspReconciliationRunInput,
  _ctx: CommandContext,
): Promise<{ run: PspReconciliationRun; lines: Page<ReconLineView> }> {
  const run = await getPspRun(input.runId);
  if (!run) throw new DomainError('reconciliation_run_not_found', 'not_found', 'No PSP reconciliation run with this id');
  const stored = (run.summary as { linesStored?: unknown } | undefined)?.linesStored;
  const lines =
    run.status === 'succeeded'
      ? await runLines(input.runId, input.limit, input.cursor, typeof stored === 'number' ? stored : undefined)
      : { items: [], hasMore: false };
  return { run, lines };
}
