/**
 * Ledger reconciliation job: hourly (manifest schedule 'ledger-reconciliation') and on demand
 * (POST /v1/admin/jobs/ledger-reconciliation/runs -> JOB_DETAIL_TYPE event with { job, runId, requestedBy }).
 * Accepts both the EventBridge 'Scheduled Event' and the on-demand job event, and runs the
 * reconcile-ledger use case (functions/app/ledger/reconcile-ledger.ts: what is checked, and how).
 *
 * Invariants:
 * - an on-demand event names its run (its job-run item exists); a scheduled run gets a new ULID
 * - the request id is the event's id, else the run id
 * - metrics per run: LedgerAccountsChecked, LedgerJournalsChecked, LedgerHoldsExpired,
 *   LedgerReconciliationFindings (Count); findings are also logged (ids and codes only, no PII)
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ulid } from 'ulid';
import { RECONCILIATION_JOB, type ReconciliationSummary, reconcileLedger } from '#app/ledger/reconcile-ledger.ts';
import { type JobEvent, onDemandRunId } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';
import { logger, metrics } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';

export const JOB = RECONCILIATION_JOB;

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}): Promise<Omit<ReconciliationSummary, 'findings'> & { findings: number }> {
  const requested = onDemandRunId(event);
  const runId = requested ?? ulid();
  const summary = await reconcileLedger(
    { runId, onDemand: requested !== undefined },
    { requestId: event.id ?? runId, locale: tenantConfig().defaultLocale },
  );

  metrics.addMetric('LedgerAccountsChecked', MetricUnit.Count, summary.accountsChecked);
  metrics.addMetric('LedgerJournalsChecked', MetricUnit.Count, summary.journalsChecked);
  metrics.addMetric('LedgerHoldsExpired', MetricUnit.Count, summary.holdsExpired);
  metrics.addMetric('LedgerReconciliationFindings', MetricUnit.Count, summary.findings.length);
  metrics.publishStoredMetrics();
  const brief = summary.findings.slice(0, 20).map((f) => ({ code: f.code, subject: f.subject }));
  if (summary.findings.length > 0)
    logger.error('ledger reconciliation findings', { runId, findings: summary.findings.length, first: brief });
  else logger.info('ledger reconciled', { runId, accounts: summary.accountsChecked, journals: summary.journalsChecked });
  return { ...summary, findings: summary.findings.length };
}
