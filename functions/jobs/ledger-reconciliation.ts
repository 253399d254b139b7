/**
 * Ledger reconciliation job: hourly (manifest schedule 'ledger-reconciliation') and on demand
 * (POST /v1/admin/jobs/ledger-reconciliation/runs -> JOB_DETAIL_TYPE event with { job, runId, requestedBy }).
 * Accepts both the EventBridge 'Scheduled Event' and the on-demand job event.
 *
 * What it does, in order:
 * 1. expires every pending hold whose expiresAt has passed (store expireHold: audited, releases the
 *    funds); a hold that cannot be expired is a finding (hold_expiry_failed)
 * 2. for every account and balance shard: ledger = sum of the shard's postings (seqs 1..n without gaps,
 *    each running balance = previous + amount), held = sum of the shard's open holds, available =
 *    ledger - held, seq = number of postings (domain/ledger reconcileBalance)
 * 3. every journal balances per currency (journalBalanced)
 * 4. no hold is still pending past its expiry after step 1 (holdFinding: hold_overdue)
 *
 * Invariants:
 * - the job never repairs balances: journals commit atomically, so a finding is a bug to alarm on
 * - no false findings from concurrent postings: an account is compared only on a read where its
 *   shard versions did not change while its postings were summed (else re-read, up to 3 times;
 *   accounts still moving are counted as `accountsBusy`, not as findings); a held mismatch is
 *   confirmed against a second read of the open holds (the hold index is eventually consistent)
 * - the run's result (counts) is its job-run item; each finding is an item of its own (store
 *   reconciliation-runs.ts) written with an 'ledger.reconciliation.finding' audit item on the finding's
 *   subject (with the clientId when the subject belongs to a client), in the same commits as the
 *   result and its 'job.run.completed' audit; a crash mid-run leaves the run 'requested' (or absent)
 * - metrics per run: LedgerAccountsChecked, LedgerJournalsChecked, LedgerHoldsExpired,
 *   LedgerReconciliationFindings (Count); findings are also logged (ids and codes only, no PII)
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ulid } from 'ulid';
import { DomainError, isDomainError } from '#domain/errors.ts';
import { type Account, HOUSE_OWNER, holdFinding, journalBalanced, reconcileBalance } from '#domain/ledger/index.ts';
import { JOB_DETAIL_TYPE } from '#functions/manifest.ts';
import { logger, metrics } from '#shared/powertools.ts';
import { type AuditInput, commit, systemActor } from '#store/audit.ts';
import { finishJobRun, getJobRun, type JobRunItem } from '#store/job-runs.ts';
import { accountShards, type ShardBalance, scanAccounts } from '#store/ledger/accounts.ts';
import { expireHold, type StoredHold, scanOpenHolds } from '#store/ledger/holds.ts';
import { scanJournals } from '#store/ledger/journals.ts';
import { sumPostings } from '#store/ledger/postings.ts';
import { findingWrite, RECONCILIATION_JOB, type ReconciliationFinding } from '#store/reconciliation-runs.ts';

export const JOB = RECONCILIATION_JOB;
const STABLE_READ_ATTEMPTS = 3;
/** Findings per commit: each is a finding item, an audit item and (at most) one chain head. */
const FINDINGS_PER_COMMIT = 30;
/** Findings stored per run (the counts stay exact beyond it). */
const MAX_STORED_FINDINGS = 5000;

interface JobEvent {
  'detail-type'?: string;
  id?: string;
  detail?: { job?: string; runId?: string; requestedBy?: string };
}

export interface ReconciliationSummary {
  runId: string;
  accountsChecked: number;
  accountsBusy: number;
  journalsChecked: number;
  holdsChecked: number;
  holdsExpired: number;
  findings: ReconciliationFinding[];
}

const holdKey = (accountId: string, shard: number) => `${accountId}#${shard}`;

async function openHoldsByShard(): Promise<{ sums: Map<string, bigint>; holds: StoredHold[] }> {
  const sums = new Map<string, bigint>();
  const holds: StoredHold[] = [];
  for await (const h of scanOpenHolds()) {
    if (h.status !== 'pending') continue;
    holds.push(h);
    const k = holdKey(h.accountId, h.shard);
    sums.set(k, (sums.get(k) ?? 0n) + h.amount);
  }
  return { sums, holds };
}

const clientOf = (a: Account) => (a.ownerId === HOUSE_OWNER ? undefined : a.ownerId);

/** Step 1: expire stale holds. */
async function expireStaleHolds(now: Date, requestId: string, findings: ReconciliationFinding[]): Promise<number> {
  let expired = 0;
  for await (const h of scanOpenHolds({ expiringBy: now })) {
    if (h.status !== 'pending' || Date.parse(h.expiresAt) > now.getTime()) continue;
    try {
      await expireHold(h.holdId, now, { actor: systemActor(JOB), requestId });
      expired++;
    } catch (err) {
      if (isDomainError(err) && err.code === 'hold_not_pending') continue; // closed meanwhile
      findings.push({
        code: 'hold_expiry_failed',
        subject: { type: 'ledger-hold', id: h.holdId },
        clientId: h.clientId,
        detail: { accountId: h.accountId, expiresAt: h.expiresAt, error: isDomainError(err) ? err.code : 'internal_error' },
      });
      if (!isDomainError(err)) logger.error('hold expiry failed', err as Error);
    }
  }
  return expired;
}

const versionsOf = (shards: ShardBalance[]) => shards.map((s) => `${s.shard}:${s.version}`).join(',');

/** Step 2 for one account: per-shard findings on a stable read, or 'busy'. */
async function checkAccount(account: Account, heldSums: Map<string, bigint>): Promise<ReconciliationFinding[] | 'busy'> {
  for (let attempt = 0; attempt < STABLE_READ_ATTEMPTS; attempt++) {
    const before = await accountShards(account.accountId);
    const summary = await sumPostings(account.accountId);
    const after = await accountShards(account.accountId);
    if (versionsOf(before) !== versionsOf(after)) continue;
    const out: ReconciliationFinding[] = [];
    for (const shard of after) {
      const s = summary.shards.find((x) => x.shard === shard.shard) ?? { sum: 0n, count: 0, lastSeq: 0 };
      const subject = { type: 'ledger-account' as const, id: account.accountId };
      const base = { subject, clientId: clientOf(account) };
      for (const f of reconcileBalance(shard, s.sum, heldSums.get(holdKey(account.accountId, shard.shard)) ?? 0n)) {
        out.push({
          ...base,
          code: f.code as ReconciliationFinding['code'],
          expected: f.expected,
          actual: f.actual,
          detail: { shard: String(shard.shard) },
        });
      }
      if (shard.seq !== s.count) {
        out.push({
          ...base,
          code: 'seq_mismatch',
          expected: String(s.count),
          actual: String(shard.seq),
          detail: { shard: String(shard.shard) },
        });
      }
      const sh = summary.shards.find((x) => x.shard === shard.shard);
      if (sh?.seqBreakAt !== undefined) {
        out.push({ ...base, code: 'seq_gap', detail: { shard: String(shard.shard), seq: String(sh.seqBreakAt) } });
      }
      if (sh?.runningBalanceBreakAt !== undefined) {
        out.push({
          ...base,
          code: 'running_balance_mismatch',
          detail: { shard: String(shard.shard), seq: String(sh.runningBalanceBreakAt) },
        });
      }
    }
    return out;
  }
  return 'busy';
}

/** Runs every check; writes nothing. */
export async function reconcile(now: Date, requestId: string, runId: string): Promise<ReconciliationSummary> {
  const findings: ReconciliationFinding[] = [];
  const holdsExpired = await expireStaleHolds(now, requestId, findings);

  let { sums: heldSums, holds } = await openHoldsByShard();
  let accountsChecked = 0;
  let accountsBusy = 0;
  const suspects: Account[] = [];
  for await (const account of scanAccounts()) {
    const result = await checkAccount(account, heldSums);
    if (result === 'busy') {
      accountsBusy++;
      continue;
    }
    accountsChecked++;
    if (result.some((f) => f.code === 'held_mismatch')) suspects.push(account);
    findings.push(...result.filter((f) => f.code !== 'held_mismatch'));
  }
  if (suspects.length > 0) {
    // the hold index is eventually consistent: confirm held mismatches on a fresh read
    ({ sums: heldSums, holds } = await openHoldsByShard());
    for (const account of suspects) {
      const result = await checkAccount(account, heldSums);
      if (result !== 'busy') findings.push(...result.filter((f) => f.code === 'held_mismatch'));
    }
  }

  let journalsChecked = 0;
  for await (const journal of scanJournals()) {
    journalsChecked++;
    if (!journalBalanced(journal.postings)) {
      findings.push({
        code: 'journal_unbalanced',
        subject: { type: 'ledger-journal', id: journal.journalId },
        clientId: journal.clientId,
        detail: { type: journal.type, postedAt: journal.postedAt },
      });
    }
  }

  for (const h of holds) {
    const f = holdFinding(h, now);
    if (f) {
      findings.push({
        code: 'hold_overdue',
        subject: { type: 'ledger-hold', id: h.holdId },
        clientId: h.clientId,
        expected: f.expected,
        actual: f.actual,
        detail: { accountId: h.accountId, expiresAt: h.expiresAt },
      });
    }
  }

  return { runId, accountsChecked, accountsBusy, journalsChecked, holdsChecked: holds.length, holdsExpired, findings };
}

function findingAudit(runId: string, f: ReconciliationFinding, requestId: string): AuditInput {
  return {
    actor: systemActor(JOB),
    action: 'ledger.reconciliation.finding',
    entity: f.subject,
    clientId: f.clientId,
    before: null,
    after: { runId, code: f.code, expected: f.expected, actual: f.actual, detail: f.detail },
    requestId,
  };
}

async function writeResult(
  existing: JobRunItem | undefined,
  summary: ReconciliationSummary,
  startedAt: string,
  requestId: string,
): Promise<void> {
  const finishedAt = new Date().toISOString();
  const counts = {
    accountsChecked: summary.accountsChecked,
    accountsBusy: summary.accountsBusy,
    journalsChecked: summary.journalsChecked,
    holdsChecked: summary.holdsChecked,
    holdsExpired: summary.holdsExpired,
    findings: summary.findings.length,
  };
  const stored = summary.findings.slice(0, MAX_STORED_FINDINGS);
  const first = stored.slice(0, FINDINGS_PER_COMMIT);
  await commit({
    writes: [
      finishJobRun(
        existing,
        { job: JOB, runId: summary.runId, status: 'succeeded', startedAt, finishedAt, summary: counts },
        finishedAt,
      ),
      ...first.map((f, i) => findingWrite(summary.runId, i + 1, f, finishedAt)),
    ],
    audit: [
      {
        actor: systemActor(JOB),
        action: 'job.run.completed',
        entity: { type: 'job', id: JOB },
        before: existing ? { status: existing.status } : null,
        after: { runId: summary.runId, status: 'succeeded', ...counts },
        requestId,
      },
      ...first.map((f) => findingAudit(summary.runId, f, requestId)),
    ],
  });
  for (let i = FINDINGS_PER_COMMIT; i < stored.length; i += FINDINGS_PER_COMMIT) {
    const chunk = stored.slice(i, i + FINDINGS_PER_COMMIT);
    await commit({
      writes: chunk.map((f, j) => findingWrite(summary.runId, i + j + 1, f, finishedAt)),
      audit: chunk.map((f) => findingAudit(summary.runId, f, requestId)),
    });
  }
}

export async function handler(event: JobEvent = {}): Promise<Omit<ReconciliationSummary, 'findings'> & { findings: number }> {
  const onDemand = event['detail-type'] === JOB_DETAIL_TYPE && typeof event.detail?.runId === 'string';
  const runId = onDemand ? event.detail!.runId! : ulid();
  const requestId = event.id ?? runId;
  const startedAt = new Date().toISOString();
  const existing = onDemand ? await getJobRun(JOB, runId) : undefined;

  let summary: ReconciliationSummary;
  try {
    summary = await reconcile(new Date(), requestId, runId);
  } catch (err) {
    logger.error('ledger reconciliation failed', err as Error);
    const finishedAt = new Date().toISOString();
    await commit({
      writes: [finishJobRun(existing, { job: JOB, runId, status: 'failed', startedAt, finishedAt }, finishedAt)],
      audit: {
        actor: systemActor(JOB),
        action: 'job.run.failed',
        entity: { type: 'job', id: JOB },
        before: existing ? { status: existing.status } : null,
        after: { runId, status: 'failed', error: err instanceof DomainError ? err.code : 'internal_error' },
        requestId,
      },
    }).catch((e: unknown) => logger.error('could not record the failed run', e as Error));
    throw err;
  }

  await writeResult(existing, summary, startedAt, requestId);

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
