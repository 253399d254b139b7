/**
 * Audit chain verification job: nightly (manifest schedule 'audit-verify') and on demand
 * (POST /v1/admin/jobs/audit-verify/runs -> JOB_DETAIL_TYPE event with { job, runId, requestedBy }).
 *
 * How chains are found: every chain head item (sk HEAD) carries gsi2pk = AUDITHEAD#<00..15>
 * (sharded by entity), so the job queries 16 small index partitions that hold ONLY heads. A Scan
 * with a filter on type = 'audit-head' would read (and pay for) every item in the table - ledger,
 * audit items and all - to find a small fraction; sharding keeps the head index from becoming one
 * hot partition on the write path.
 *
 * Invariants:
 * - each chain is verified against its head as read first, up to the head's seq (no false breaks
 *   from concurrent appends); a break is the first bad seq and its reason
 * - the run's result (status, counts, findings) is written to its job-run item, with an audit item
 *   'job.run.completed'; every broken chain also gets an 'audit.chain.broken' audit item (entity
 *   audit-chain/<entityType>:<entityId>, with the clientId when the chain concerns a client, so the
 *   finding appears in that client's trail)
 * - metrics AuditChainsVerified and AuditChainsBroken (Count) are published per run
 * - findings name entities and seqs only, never audit content (PII)
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ulid } from 'ulid';
import { JOB_DETAIL_TYPE } from '#functions/manifest.ts';
import { logger, metrics } from '#shared/powertools.ts';
import { type AuditInput, commit, MAX_TRANSACTION_ITEMS, systemActor } from '#store/audit.ts';
import { type ChainVerification, chainHeads, verifyEntityChain } from '#store/audit-trail.ts';
import { finishJobRun, getJobRun } from '#store/job-runs.ts';

export const JOB = 'audit-verify';

interface JobEvent {
  'detail-type'?: string;
  id?: string;
  detail?: { job?: string; runId?: string; requestedBy?: string };
}

export interface Finding {
  entityType: string;
  entityId: string;
  clientId?: string | undefined;
  seq: number;
  reason: string;
}

export interface RunSummary {
  runId: string;
  chainsVerified: number;
  chainsBroken: number;
  itemsVerified: number;
  findings: Finding[];
}

export async function verifyAllChains(): Promise<{ results: ChainVerification[] }> {
  const results: ChainVerification[] = [];
  for await (const heads of chainHeads()) {
    for (const h of heads) results.push(await verifyEntityChain(h.entityType, h.entityId));
  }
  return { results };
}

export async function handler(event: JobEvent = {}): Promise<RunSummary> {
  const onDemand = event['detail-type'] === JOB_DETAIL_TYPE && typeof event.detail?.runId === 'string';
  const runId = onDemand ? event.detail!.runId! : ulid();
  const requestId = event.id ?? runId;
  const startedAt = new Date().toISOString();
  const existing = onDemand ? await getJobRun(JOB, runId) : undefined;

  const { results } = await verifyAllChains();
  const findings: Finding[] = results
    .filter((r) => r.break)
    .map((r) => ({
      entityType: r.entityType,
      entityId: r.entityId,
      clientId: r.clientId,
      seq: r.break!.seq,
      reason: r.break!.reason,
    }));
  const summary: RunSummary = {
    runId,
    chainsVerified: results.length,
    chainsBroken: findings.length,
    itemsVerified: results.reduce((n, r) => n + r.headSeq, 0),
    findings,
  };

  const finishedAt = new Date().toISOString();
  const completion: AuditInput = {
    actor: systemActor(JOB),
    action: 'job.run.completed',
    entity: { type: 'job', id: JOB },
    before: existing ? { status: existing.status } : null,
    after: { runId, status: 'succeeded', chainsVerified: summary.chainsVerified, chainsBroken: summary.chainsBroken },
    requestId,
  };
  const breaks: AuditInput[] = findings.map((f) => ({
    actor: systemActor(JOB),
    action: 'audit.chain.broken',
    entity: { type: 'audit-chain', id: `${f.entityType}:${f.entityId}` },
    clientId: f.clientId,
    before: null,
    after: { runId, entityType: f.entityType, entityId: f.entityId, seq: f.seq, reason: f.reason },
    requestId,
  }));
  // First commit: the run result, its completion audit and as many findings as fit (2 items each).
  const perCommit = Math.floor((MAX_TRANSACTION_ITEMS - 3) / 2);
  await commit({
    writes: [
      finishJobRun(
        existing,
        {
          job: JOB,
          runId,
          status: 'succeeded',
          startedAt,
          finishedAt,
          summary: {
            chainsVerified: summary.chainsVerified,
            chainsBroken: summary.chainsBroken,
            itemsVerified: summary.itemsVerified,
          },
          findings: findings.slice(0, 500),
        },
        finishedAt,
      ),
    ],
    audit: [completion, ...breaks.slice(0, perCommit)],
  });
  for (let i = perCommit; i < breaks.length; i += perCommit + 1) {
    await commit({ writes: [], audit: breaks.slice(i, i + perCommit + 1) });
  }

  metrics.addMetric('AuditChainsVerified', MetricUnit.Count, summary.chainsVerified);
  metrics.addMetric('AuditChainsBroken', MetricUnit.Count, summary.chainsBroken);
  metrics.publishStoredMetrics();
  if (findings.length > 0)
    logger.error('audit chains broken', { runId, chainsBroken: findings.length, findings: findings.slice(0, 20) });
  else logger.info('audit chains verified', { runId, chainsVerified: summary.chainsVerified });
  return summary;
}
