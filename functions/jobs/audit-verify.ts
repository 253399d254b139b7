/**
 * Audit chain verification job: nightly (manifest schedule 'audit-verify') and on demand
 * (POST /v1/admin/jobs/audit-verify/runs -> JOB_DETAIL_TYPE event with { job, runId, requestedBy }).
 * What a run verifies, repairs and records: functions/app/platform/verify-audit-chains.ts.
 *
 * Invariants:
 * - an on-demand run keeps the run id it was requested under (its job-run item exists); a scheduled run
 *   gets a new ULID; the request id of what the run writes is the event id (else the run id)
 * - metrics AuditChainsVerified, AuditChainsBroken and AuditArchiveMissing (Count) are published per
 *   run; AuditChainsBroken > 0 and AuditArchiveMissing > 0 raise alarms (infra/constructs/monitoring.ts)
 * - broken chains and missing archive objects are logged as errors (at most 20 findings each: ids and seqs,
 *   never audit content); a run that throws is recorded as 'failed' by the use case and rethrown here
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ulid } from 'ulid';
import { type RunSummary, verifyAuditChains } from '#app/platform/verify-audit-chains.ts';
import { type JobEvent, jobContext, onDemandRunId } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';
import { logger, metrics } from '#shared/powertools.ts';

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}): Promise<RunSummary> {
  const requested = onDemandRunId(event);
  const runId = requested ?? ulid();
  const summary = await verifyAuditChains(
    { runId, onDemand: requested !== undefined, startedAt: new Date().toISOString() },
    jobContext(event.id ?? runId),
  );

  metrics.addMetric('AuditChainsVerified', MetricUnit.Count, summary.chainsVerified);
  metrics.addMetric('AuditChainsBroken', MetricUnit.Count, summary.chainsBroken);
  metrics.addMetric('AuditArchiveMissing', MetricUnit.Count, summary.archivesMissing);
  metrics.publishStoredMetrics();
  const chainFindings = summary.findings.filter((f) => f.reason !== 'archive_missing');
  const archiveFindings = summary.findings.filter((f) => f.reason === 'archive_missing');
  if (chainFindings.length > 0)
    logger.error('audit chains broken', { runId, chainsBroken: chainFindings.length, findings: chainFindings.slice(0, 20) });
  if (archiveFindings.length > 0)
    logger.error('audit archive objects missing', {
      runId,
      archivesMissing: archiveFindings.length,
      findings: archiveFindings.slice(0, 20),
    });
  if (summary.findings.length === 0)
    logger.info('audit chains verified', {
      runId,
      chainsVerified: summary.chainsVerified,
      archivesChecked: summary.archivesChecked,
    });
  return summary;
}
