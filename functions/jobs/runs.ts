/**
 * What the job edges share: the job event, the use case context of a run, and the counting jobs' handler
 * tail (outbox-sweeper, kyc-expiry, kyc-watchdog, ...: run, publish metrics, record, throw on failure).
 * Recording an on-demand run's result is a use case (functions/app/platform/complete-job-run.ts).
 *
 * Invariants:
 * - scheduled runs (no detail.runId) write no job-run item; an on-demand run gets its job-run item
 *   finished ('succeeded' | 'failed') in ONE commit with a 'job.run.completed' audit item
 * - a run that threw, or whose result counts failed items, throws after recording its result, so the
 *   function's Errors alarm fires
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { CommandContext } from '#app/context.ts';
import { completeJobRun } from '#app/platform/complete-job-run.ts';
import { JOB_DETAIL_TYPE } from '#functions/manifest.ts';
import { logger, metrics } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';

/** The EventBridge 'Scheduled Event', or the on-demand JOB_DETAIL_TYPE event with { job, runId, requestedBy }. */
export interface JobEvent {
  'detail-type'?: string;
  id?: string;
  detail?: { job?: string; runId?: string; requestedBy?: string };
}

/** The run id of an on-demand run; undefined for a scheduled one. */
export function onDemandRunId(event: JobEvent): string | undefined {
  const onDemand = event['detail-type'] === JOB_DETAIL_TYPE && typeof event.detail?.runId === 'string';
  return onDemand ? event.detail!.runId! : undefined;
}

/** The use case context of a job's run: its request id (the audit request id of what it writes), the tenant locale. */
export const jobContext = (requestId: string): CommandContext => ({ requestId, locale: tenantConfig().defaultLocale });

/** A job whose pass returns counts, `failed` among them. */
export interface CountingJob<R extends { failed: number }> {
  job: string;
  /** One pass; requestId is the audit request id of what it writes. */
  run: (requestId: string) => Promise<R>;
  /** The Count metrics of a pass. */
  metrics: (result: R) => Record<string, number>;
  /** The log line of a pass, a warning when `warnWhen` says so. */
  logged: string;
  warnWhen?: (result: R) => boolean;
  /** What the failed items are, in the run's error: `<job>: <failed> <failedItems>`. */
  failedItems: string;
  /** The log line of a failed run. */
  failureLogged: string;
  /** The audit item's `after` of an on-demand run (besides runId and status); defaults to the result. */
  auditAfter?: (result: R | undefined) => object | undefined;
}

/**
 * The handler of a counting job: runs one pass, publishes its metrics and logs it, records an on-demand
 * run, then throws when the pass threw or counted failed items.
 */
export async function runCountingJob<R extends { failed: number }>(
  event: JobEvent,
  spec: CountingJob<R>,
): Promise<R & { runId?: string }> {
  const runId = onDemandRunId(event);
  const requestId = event.id ?? runId ?? `${spec.job}:${new Date().toISOString()}`;
  const startedAt = new Date().toISOString();
  let result: R | undefined;
  let error: Error | undefined;
  try {
    result = await spec.run(requestId);
  } catch (err) {
    error = err as Error;
  }

  if (result) {
    for (const [name, value] of Object.entries(spec.metrics(result))) metrics.addMetric(name, MetricUnit.Count, value);
    metrics.publishStoredMetrics();
    if (spec.warnWhen?.(result)) logger.warn(spec.logged, { runId, ...result });
    else logger.info(spec.logged, { runId, ...result });
  }
  const failure =
    error ?? (result && result.failed > 0 ? new Error(`${spec.job}: ${result.failed} ${spec.failedItems}`) : undefined);

  if (runId) {
    await completeJobRun(
      { job: spec.job, runId, startedAt, summary: result, auditAfter: spec.auditAfter?.(result), failure },
      jobContext(requestId),
    );
  }
  if (failure) {
    logger.error(spec.failureLogged, { runId, error: failure.message });
    throw failure;
  }
  return { ...result!, ...(runId ? { runId } : {}) };
}
