/**
 * Verifies every audit chain and the archive of each chain's tip, and records the run (the audit-verify
 * job, functions/jobs/audit-verify.ts: nightly and on demand).
 *
 * How chains are found: every chain head item (sk HEAD) carries gsi2pk = AUDITHEAD#<00..15>
 * (sharded by entity), so the job queries 16 small index partitions that hold ONLY heads. A Scan
 * with a filter on type = 'audit-head' would read (and pay for) every item in the table - ledger,
 * audit items and all - to find a small fraction; sharding keeps the head index from becoming one
 * hot partition on the write path.
 *
 * Archive check (the Object Lock copy): for every intact chain, the archived object of the chain's
 * latest item (the key the audit archiver writes, functions/store/audit-archive.ts archiveKey)
 * must exist in the audit bucket. A missing one - the archiver's stream delivery was
 * lost - is an 'archive_missing' finding, and the item (still in the table, its chain just
 * verified) is archived again with the archiver's exact key and line. This is deliberately simple:
 * only each chain's TIP is checked, so a hole at an older seq of a chain that was appended to
 * afterwards is not detected here. Tips younger than ARCHIVE_GRACE_MINUTES are skipped (the archiver
 * may simply not have run yet); broken chains are not re-archived (their content is suspect).
 *
 * Invariants:
 * - each chain is verified against its head as read first, up to the head's seq (no false breaks
 *   from concurrent appends); a break is the first bad seq and its reason
 * - the run's result (status, counts, findings) is written to its job-run item, with an audit item
 *   'job.run.completed'; every broken chain also gets an 'audit.chain.broken' audit item and every
 *   missing archive object an 'audit.archive.missing' one (entity audit-chain/<entityType>:<entityId>,
 *   with the clientId when the chain concerns a client, so the finding appears in that client's trail)
 * - a run that throws is recorded as 'failed' (error message on the run, 'job.run.failed' audit
 *   item) and the error is rethrown; infra sets async retries to 0 for scheduled jobs, so a failure
 *   is not re-run under a new run id
 * - findings name entities and seqs only, never audit content (PII)
 */
import type { CommandContext } from '#app/context.ts';
import { logger } from '#shared/powertools.ts';
import { type AuditInput, commit, MAX_TRANSACTION_ITEMS, systemActor } from '#store/audit.ts';
import { archiveAuditItem, archiveKey, archiveObjectExists } from '#store/audit-archive.ts';
import { type ChainVerification, chainHeads, getAuditItem, verifyEntityChain } from '#store/audit-trail.ts';
import { finishJobRun, getJobRun, type JobRunItem } from '#store/job-runs.ts';

export const JOB = 'audit-verify';
/** Chain tips younger than this are not checked against the archive (the archiver may not have run yet). */
export const ARCHIVE_GRACE_MINUTES = 15;

export interface Finding {
  entityType: string;
  entityId: string;
  clientId?: string | undefined;
  seq: number;
  /** A chain break reason (domain/audit/chain.ts) or 'archive_missing'. */
  reason: string;
  /** archive_missing only: whether the item was archived again by this run. */
  rearchived?: boolean;
}

export interface RunSummary {
  runId: string;
  chainsVerified: number;
  chainsBroken: number;
  itemsVerified: number;
  /** Chain tips checked against the audit bucket, and how many were missing there. */
  archivesChecked: number;
  archivesMissing: number;
  findings: Finding[];
}

export interface ArchiveCheck {
  checked: boolean;
  missing: boolean;
  rearchived: boolean;
}

export async function verifyAllChains(
  opts: { archive?: boolean; now?: Date } = {},
): Promise<{ results: (ChainVerification & { archive?: ArchiveCheck })[] }> {
  const now = opts.now ?? new Date();
  const results: (ChainVerification & { archive?: ArchiveCheck })[] = [];
  for await (const heads of chainHeads()) {
    for (const h of heads) {
      const r = await verifyEntityChain(h.entityType, h.entityId);
      results.push(opts.archive === false ? r : { ...r, archive: await checkArchive(r, now) });
    }
  }
  return { results };
}

/**
 * Whether the archive holds the object of the chain's tip; a missing object is written again from the
 * table (same key and line as the archiver). Skipped for broken chains and for young tips.
 * Any S3 error other than 404 (e.g. access denied) is thrown: it is not evidence of a hole.
 */
export async function checkArchive(r: ChainVerification, now: Date): Promise<ArchiveCheck> {
  const none: ArchiveCheck = { checked: false, missing: false, rearchived: false };
  if (r.break || !r.tip) return none;
  if (now.getTime() - Date.parse(r.tip.at) < ARCHIVE_GRACE_MINUTES * 60_000) return none;
  const key = archiveKey({ at: r.tip.at, entity: { type: r.entityType, id: r.entityId }, seq: r.tip.seq });
  if (await archiveObjectExists(key)) return { checked: true, missing: false, rearchived: false };
  const item = await getAuditItem(r.entityType, r.entityId, r.tip.seq);
  if (!item) return { checked: true, missing: true, rearchived: false };
  await archiveAuditItem(item);
  return { checked: true, missing: true, rearchived: true };
}

export interface VerifyAuditChainsInput {
  /** The run id: an on-demand run's (its job-run item exists), or a new ULID for a scheduled run. */
  runId: string;
  onDemand: boolean;
  /** When the run started (ISO), as recorded on its job-run item. */
  startedAt: string;
}

/**
 * One run: verifies every chain and archive, records the result (job run, completion and finding audit
 * items) and returns its summary; a run that throws is recorded as 'failed' and the error rethrown.
 */
export async function verifyAuditChains(input: VerifyAuditChainsInput, ctx: CommandContext): Promise<RunSummary> {
  const { runId, onDemand, startedAt } = input;
  try {
    return await run(runId, ctx.requestId, startedAt, onDemand);
  } catch (err) {
    await recordFailure(runId, ctx.requestId, startedAt, onDemand, err as Error);
    throw err;
  }
}

async function run(runId: string, requestId: string, startedAt: string, onDemand: boolean): Promise<RunSummary> {
  const existing = onDemand ? await getJobRun(JOB, runId) : undefined;

  const { results } = await verifyAllChains();
  const chainFindings: Finding[] = results
    .filter((r) => r.break)
    .map((r) => ({
      entityType: r.entityType,
      entityId: r.entityId,
      clientId: r.clientId,
      seq: r.break!.seq,
      reason: r.break!.reason,
    }));
  const archiveFindings: Finding[] = results
    .filter((r) => r.archive?.missing)
    .map((r) => ({
      entityType: r.entityType,
      entityId: r.entityId,
      clientId: r.clientId,
      seq: r.tip!.seq,
      reason: 'archive_missing',
      rearchived: r.archive!.rearchived,
    }));
  const findings = [...chainFindings, ...archiveFindings];
  const summary: RunSummary = {
    runId,
    chainsVerified: results.length,
    chainsBroken: chainFindings.length,
    itemsVerified: results.reduce((n, r) => n + r.headSeq, 0),
    archivesChecked: results.filter((r) => r.archive?.checked).length,
    archivesMissing: archiveFindings.length,
    findings,
  };

  const finishedAt = new Date().toISOString();
  const completion: AuditInput = {
    actor: systemActor(JOB),
    action: 'job.run.completed',
    entity: { type: 'job', id: JOB },
    before: existing ? { status: existing.status } : null,
    after: {
      runId,
      status: 'succeeded',
      chainsVerified: summary.chainsVerified,
      chainsBroken: summary.chainsBroken,
      archivesMissing: summary.archivesMissing,
    },
    requestId,
  };
  const findingAudits: AuditInput[] = findings.map((f) => ({
    actor: systemActor(JOB),
    action: f.reason === 'archive_missing' ? 'audit.archive.missing' : 'audit.chain.broken',
    entity: { type: 'audit-chain', id: `${f.entityType}:${f.entityId}` },
    clientId: f.clientId,
    before: null,
    after: {
      runId,
      entityType: f.entityType,
      entityId: f.entityId,
      seq: f.seq,
      reason: f.reason,
      ...(f.rearchived === undefined ? {} : { rearchived: f.rearchived }),
    },
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
            archivesChecked: summary.archivesChecked,
            archivesMissing: summary.archivesMissing,
          },
          findings: findings.slice(0, 500),
        },
        finishedAt,
      ),
    ],
    audit: [completion, ...findingAudits.slice(0, perCommit)],
  });
  for (let i = perCommit; i < findingAudits.length; i += perCommit + 1) {
    await commit({ writes: [], audit: findingAudits.slice(i, i + perCommit + 1) });
  }

  return summary;
}

/** Records a run that threw as 'failed' (best effort: a failure to record is logged, the original error wins). */
async function recordFailure(runId: string, requestId: string, startedAt: string, onDemand: boolean, error: Error) {
  logger.error('audit-verify run failed', { runId, error: error.message });
  try {
    const existing: JobRunItem | undefined = await getJobRun(JOB, runId);
    if (!onDemand && existing) return; // a scheduled run that already recorded its result
    const finishedAt = new Date().toISOString();
    const message = `${error.name}: ${error.message}`.slice(0, 1000);
    await commit({
      writes: [
        finishJobRun(
          existing,
          { job: JOB, runId, status: 'failed', startedAt, finishedAt, summary: { error: message } },
          finishedAt,
        ),
      ],
      audit: {
        actor: systemActor(JOB),
        action: 'job.run.failed',
        entity: { type: 'job', id: JOB },
        before: existing ? { status: existing.status } : null,
        after: { runId, status: 'failed', error: message },
        requestId,
      },
    });
  } catch (err) {
    logger.error('audit-verify failure not recorded', { runId, error: (err as Error).message });
  }
}
