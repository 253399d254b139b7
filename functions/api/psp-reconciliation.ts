/**
 * GET /v1/admin/reconciliation/psp/{runId}: one PSP settlement reconciliation run (finance, compliance,
 * admin; read only): its status, report date and period, counts and per-currency totals, and its
 * discrepancy lines (amount_mismatch, missing_in_ledger, missing_at_provider, report_invalid), paginated.
 * The use case functions/app/payments/get-psp-reconciliation-run.ts reads it; this module presents it.
 *
 * Invariants:
 * - clients and other staff roles get 403 forbidden_role at the edge
 * - an unknown run id (or a run of another job) is 404 reconciliation_run_not_found
 * - a run not yet finished shows its status and no lines; a finished run shows lines 1..linesStored only
 * - money is shown as decimal strings with their currency, never as numbers
 */
import * as z from 'zod';
import {
  getPspReconciliationRun,
  type PspReconciliationRun,
  type ReconLineView,
} from '#app/payments/get-psp-reconciliation-run.ts';
import type { Role } from '#domain/identity/roles.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam, type PageOf } from './shared/pages.ts';

const ALLOWED: readonly Role[] = ['finance', 'compliance', 'admin'];

export const RunParams = z.strictObject({
  runId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});
export const LinesQuery = z.strictObject({ limit: limitParam(500, 100), cursor: cursorParam.optional() });

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });
const LineView = z.object({
  n: z.number(),
  bucket: z.enum(['report_invalid', 'amount_mismatch', 'missing_in_ledger', 'missing_at_provider']),
  provider: z.string(),
  providerRef: z.string().optional(),
  kind: z.string().optional(),
  reason: z.string().optional(),
  differs: z.array(z.enum(['amount', 'currency'])).optional(),
  reported: z
    .object({ amount: MoneyOut, providerFee: MoneyOut, settledAt: z.string(), file: z.string(), line: z.number() })
    .optional(),
  ledger: z.object({ journalId: z.string(), amount: MoneyOut, postedAt: z.string() }).optional(),
  error: z.object({ file: z.string(), line: z.number(), column: z.string(), reason: z.string(), message: z.string() }).optional(),
});
const RunResult = z.object({
  runId: z.string(),
  status: z.string(),
  trigger: z.string(),
  requestedBy: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  date: z.string().optional(),
  period: z.record(z.string(), z.unknown()).optional(),
  summary: z.record(z.string(), z.unknown()).optional(),
  lines: z.object({ items: z.array(LineView), nextCursor: z.string().optional(), hasMore: z.boolean() }),
});

/** The run as the back office sees it: its status, period, counts and totals, and the page of lines. */
export function pspRunView(run: PspReconciliationRun, lines: PageOf<ReconLineView>) {
  const summary = (run.summary ?? {}) as Record<string, unknown>;
  const { date, period, linesStored, ...rest } = summary;
  return {
    runId: run.runId,
    status: run.status,
    trigger: run.trigger,
    requestedBy: run.requestedBy,
    ...(run.startedAt ? { startedAt: run.startedAt } : {}),
    ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
    ...(typeof date === 'string' ? { date } : {}),
    ...(period && typeof period === 'object' ? { period: period as Record<string, unknown> } : {}),
    ...(run.summary ? { summary: { ...rest, ...(typeof linesStored === 'number' ? { linesStored } : {}) } } : {}),
    lines,
  };
}

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/reconciliation/psp/{runId}',
    operationId: 'getPspReconciliationRun',
    summary: 'A PSP settlement reconciliation run: status, period, counts, totals and discrepancy lines',
    tags: ['payments'],
    auth: ALLOWED,
    params: RunParams,
    query: LinesQuery,
    responses: {
      200: { description: 'The run', schema: RunResult },
      404: { description: 'reconciliation_run_not_found' },
    },
    handler: async ({ params, query, correlationId, locale }) => {
      const { run, lines } = await getPspReconciliationRun(
        { runId: params.runId, ...query },
        { requestId: correlationId, locale },
      );
      return { status: 200, body: pspRunView(run, lines) };
    },
  }),
];

export const handler = httpHandler(...routes);
