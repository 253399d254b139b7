/**
 * Deal ingestion job: every minute (manifest schedule 'trading-deal-ingest') and on demand (POST
 * /v1/admin/jobs/trading-deal-ingest/runs). For each platform the tenant offers, reads the deals after the stored
 * cursor and writes each once with its event (functions/app/trading/ingest-deals.ts: how, and why exactly once).
 *
 * Invariants: a platform that fails (unreachable, misconfigured) is counted in `failed` and logged, and the others
 * still run; a run with a failed platform throws after recording, so the Errors alarm fires; metrics per run:
 * TradingDealsRead, TradingDealsWritten, TradingIngestFailed (Count).
 */
import { DEAL_INGEST_JOB, ingestDeals } from '#app/trading/ingest-deals.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';

export interface DealIngestResult {
  platforms: number;
  read: number;
  written: number;
  failed: number;
}

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}): Promise<DealIngestResult & { runId?: string }> {
  return runCountingJob(event, {
    job: DEAL_INGEST_JOB,
    run: async (requestId) => {
      const out: DealIngestResult = { platforms: 0, read: 0, written: 0, failed: 0 };
      for (const platform of tenantConfig().trading.platforms) {
        out.platforms += 1;
        try {
          const r = await ingestDeals({ platform }, jobContext(requestId));
          out.read += r.read;
          out.written += r.written;
        } catch (err) {
          out.failed += 1;
          logger.error('deal ingestion failed', { platform, error: (err as Error).name, message: (err as Error).message });
        }
      }
      return out;
    },
    metrics: (r) => ({ TradingDealsRead: r.read, TradingDealsWritten: r.written, TradingIngestFailed: r.failed }),
    logged: 'deals ingested',
    failedItems: 'platforms failed',
    failureLogged: 'deal ingestion run failed',
  });
}
