/**
 * PSP settlement reconciliation job: daily (manifest schedule 'psp-reconciliation') and on demand
 * (POST /v1/admin/jobs/psp-reconciliation/runs -> JOB_DETAIL_TYPE event with { job, runId, requestedBy }).
 * The event's detail may also carry { date: 'YYYY-MM-DD', provider } (a direct invocation or a replay);
 * without a date the report of yesterday (UTC) is reconciled, without a provider every provider the
 * tenant's payment methods use.
 *
 * The use case functions/app/payments/reconcile-psp-settlements.ts does the work; this handler parses the
 * event, gives a scheduled run a fresh ULID, and publishes the run's metrics and logs.
 *
 * What the use case does for report date D:
 * 1. reads every CSV under s3://$SETTLEMENTS_BUCKET/psp/<provider>/<D>/ (several files: the sandbox writes
 *    one per settled item, a real provider one per day; `psp/<provider>/<D>.csv` is read too). These are
 *    the report. The reports of the DEFAULT_MAX_LAG_DAYS + DEFAULT_MAX_LEAD_DAYS days before D are read
 *    as prior lines: they settle journals but are not reported again (domain/payments/settlement.ts)
 * 2. collects the ledger records: every journal posted from D - lag - lead up to D + 1 + lead whose
 *    metadata.psp = { provider, providerRef, kind }, with the magnitude of its psp_clearing posting
 * 3. reconciles (reconcileSettlement). A journal is due in the report of D when posted on D - maxLagDays:
 *    its settlement window closes with D, so an unmatched due journal is missing at the provider and a
 *    journal of a later day is not (it may still settle)
 * 4. stores the discrepancy lines and finishes the run's job-run item (status 'succeeded', summary with
 *    the date, the period, the counts and the totals) with its 'job.run.completed' audit item
 *
 * Invariants:
 * - read only as far as money goes: it never posts, voids or changes a journal, hold or payment
 * - every run writes a new run item (scheduled runs get a fresh ULID here); an on-demand run delivered
 *   twice (same runId) that already finished is not run again (no metrics either)
 * - an unreadable report file is never skipped silently: it becomes a report_invalid line naming the
 *   file, line and column (the file's other rows are not reconciled, so their journals may show as
 *   missing at the provider); an unreadable prior file is counted in summary.priorReportErrors
 * - discrepancies (amount mismatch, missing in ledger, missing at provider, unreadable report) raise
 *   the metric PspReconciliationDiscrepancies and an error log (ids and codes only); the run still
 *   succeeds. A run that throws records 'failed' with a 'job.run.failed' audit item, then throws
 * - metrics per run: PspSettlementLines, PspLedgerRecords, PspReconciliationMatched,
 *   PspReconciliationDiscrepancies (Count)
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ulid } from 'ulid';
import { PSP_RECONCILIATION_JOB, reconcilePspSettlements } from '#app/payments/reconcile-psp-settlements.ts';
import { type JobEvent, onDemandRunId } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';
import { logger, metrics } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';

export const JOB = PSP_RECONCILIATION_JOB;

export interface PspJobEvent extends Omit<JobEvent, 'detail'> {
  detail?: JobEvent['detail'] & { date?: string; provider?: string };
}

/** One run (see the module doc). */
export const handler = instrumented(handle);

async function handle(event: PspJobEvent = {}): Promise<{ runId: string; date: string; discrepancies: number }> {
  const requested = onDemandRunId(event as JobEvent);
  const runId = requested ?? ulid();
  const out = await reconcilePspSettlements(
    { runId, onDemand: requested !== undefined, date: event.detail?.date, provider: event.detail?.provider },
    { requestId: event.id ?? runId, locale: tenantConfig().defaultLocale },
  );
  const { date, discrepancies } = out;
  if (out.alreadyFinished || !out.counts) return { runId, date, discrepancies };

  const counts = out.counts;
  metrics.addMetric('PspSettlementLines', MetricUnit.Count, counts.lines ?? 0);
  metrics.addMetric('PspLedgerRecords', MetricUnit.Count, counts.records ?? 0);
  metrics.addMetric('PspReconciliationMatched', MetricUnit.Count, counts.matched ?? 0);
  metrics.addMetric('PspReconciliationDiscrepancies', MetricUnit.Count, discrepancies);
  metrics.publishStoredMetrics();
  if (discrepancies > 0) {
    logger.error('psp settlement discrepancies', {
      runId,
      date,
      amountMismatch: counts.amountMismatch,
      missingInLedger: counts.missingInLedger,
      missingAtProvider: counts.missingAtProvider,
      reportInvalid: counts.reportInvalid,
      first: out.firstJournalIds ?? [],
    });
  } else logger.info('psp settlement reconciled', { runId, date, matched: counts.matched });
  return { runId, date, discrepancies };
}
