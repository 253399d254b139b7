/**
 * Trading reconciliation job: daily (manifest schedule 'trading-reconciliation') and on demand. Ingests the deal
 * stream, then compares every active live account's platform balance operations with the ledger and our transfers
 * (functions/app/trading/reconcile-accounts.ts: what is compared).
 *
 * Invariants: every finding is logged (codes, account and transfer ids, amounts: no PII) and counted
 * (TradingReconciliationFindings); a run with findings throws after recording, so the Errors alarm fires and
 * an operator looks; the staff view of a client's accounts shows the same findings, computed when asked.
 */
import { reconcileTradingAccounts, TRADING_RECONCILIATION_JOB, type TradingFinding } from '#app/trading/reconcile-accounts.ts';
import { type JobEvent, jobContext, runCountingJob } from '#functions/jobs/runs.ts';
import { instrumented } from '#shared/handler.ts';
import { logger } from '#shared/powertools.ts';

export const handler = instrumented(handle);

async function handle(event: JobEvent = {}) {
  return runCountingJob(event, {
    job: TRADING_RECONCILIATION_JOB,
    run: async (requestId) => {
      const s = await reconcileTradingAccounts({}, jobContext(requestId));
      for (const f of s.findings.slice(0, 100))
        logger.error('trading reconciliation finding', { ...f } as TradingFinding & Record<string, unknown>);
      return {
        accountsChecked: s.accountsChecked,
        findings: s.findings.length,
        dealsWritten: s.ingested.reduce((n, i) => n + i.written, 0),
        failed: s.findings.length,
      };
    },
    metrics: (r) => ({ TradingAccountsReconciled: r.accountsChecked, TradingReconciliationFindings: r.findings }),
    logged: 'trading accounts reconciled',
    failedItems: 'reconciliation findings',
    failureLogged: 'trading reconciliation found differences',
  });
}
