/**
 * Reconciles the ledger (the ledger-reconciliation job: hourly, and on demand through
 * POST /v1/admin/jobs/ledger-reconciliation/runs) and records the run's result.
 *
 * What it does, in order:
 * 1. expires every pending hold whose expiresAt has passed (store expireHold: audited, releases the
 *    funds); a hold that cannot be expired is a finding (hold_expiry_failed)
 * 2. for every account: its balance items must number account.shards (missing_balance when none,
 *    missing_shard when some are absent); per balance shard read once (seq S, ledger L, held H):
 *    the shard's postings up to seq S sum to L (balance_mismatch), run 1..S without gaps (seq_gap)
 *    with consistent running balances (running_balance_mismatch), available = L - H
 *    (available_mismatch), H = the shard's open holds (held_mismatch); every counted posting's
 *    journal exists (journal_missing, read by key)
 * 3. double entry across the ledger: per currency, the sum of every shard's L and the sum of every
 *    counted posting are both 0 (currency_unbalanced; ledger-currency subject)
 * 4. every journal balances per currency (journal_unbalanced), and every posting it lists exists
 *    under its key with the same account, journalId, amount, currency and running balance
 *    (posting_missing, posting_mismatch)
 * 5. no hold is still pending past its expiry after step 1 (holdFinding: hold_overdue)
 *
 * Invariants:
 * - it never repairs balances: journals commit atomically, so a finding is a bug to alarm on
 * - no false findings from concurrent postings, without stable double reads: postings are
 *   append-only and carry their shard's seq, so each shard is compared at the seq of its one balance
 *   read (postings past it are not counted). The per-currency sums are taken over that cut; a journal
 *   committed while the shards were being read can be inside the cut on some shards and outside on
 *   others, so the postings of such journals outside the cut (known from the journal item, read by key)
 *   are added to both sums. Only journals posted within RECENT_MS of the run's start can straddle the
 *   cut, so only theirs are kept in memory.
 * - a held mismatch is confirmed on a fresh read of the account's holds between two equal reads of
 *   the shard's version (the hold indexes are eventually consistent; RETRY_POLICIES.heldConfirm); if no
 *   such read succeeds it is a finding of its own (held_unverified), never skipped silently
 * - the run's result (counts) is its job-run item; each finding is an item of its own (store
 *   reconciliation-runs.ts) written with an 'ledger.reconciliation.finding' audit item on the finding's
 *   subject (with the clientId when the subject belongs to a client), in the same commits as the
 *   result and its 'job.run.completed' audit; a failed run is recorded 'failed' ('job.run.failed') and
 *   its error rethrown; a crash mid-run leaves the run 'requested' (or absent)
 */
import type { CommandContext } from '#app/context.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import {
  type Account,
  currencyFindings,
  HOUSE_OWNER,
  holdFinding,
  journalBalanced,
  type PostedJournal,
} from '#domain/ledger/index.ts';
import { logger } from '#shared/powertools.ts';
import { withRetry } from '#shared/retry.ts';
import { type AuditInput, commit, systemActor } from '#store/audit.ts';
import { finishJobRun, getJobRun, type JobRunItem } from '#store/job-runs.ts';
import { readShards, type ShardBalance, scanAccounts, shardKey } from '#store/ledger/accounts.ts';
import { expireHold, pendingHeldOnShard, type StoredHold, scanOpenHolds } from '#store/ledger/holds.ts';
import { scanJournals } from '#store/ledger/journals.ts';
import { type PostingView, readJournals, readPostings, sumShardPostingsUpTo } from '#store/ledger/postings.ts';
import { findingWrite, RECONCILIATION_JOB, type ReconciliationFinding } from '#store/reconciliation-runs.ts';

export type { ReconciliationFinding };
export { RECONCILIATION_JOB };

const JOB = RECONCILIATION_JOB;
/** Journals posted this long before the run started cannot straddle its read cut. */
const RECENT_MS = 15 * 60 * 1000;
/** Bound on the journal-existence cache (cleared when full: a miss only costs a re-read). */
const KNOWN_JOURNALS_MAX = 200_000;
/** Posting keys per BatchGet in the journal cross-check. */
const POSTING_BATCH = 100;
/** Findings per commit: each is a finding item, an audit item and (at most) one chain head. */
const FINDINGS_PER_COMMIT = 30;
/** Findings stored per run (the counts stay exact beyond it). */
const MAX_STORED_FINDINGS = 5000;

export interface ReconciliationSummary {
  runId: string;
  accountsChecked: number;
  postingsChecked: number;
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
const add = (m: Map<string, bigint>, k: string, v: bigint) => m.set(k, (m.get(k) ?? 0n) + v);

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

/** The postings of a recent journal, kept to account for journals straddling the read cut. */
type CompactPosting = { accountId: string; shard: number; seq: number; amount: bigint; currency: string };

/** State of one run's ledger pass (steps 2 and 3). */
class LedgerPass {
  /** Per balance shard: the seq the shard was compared at (Infinity: no balance item, every posting counted). */
  readonly cut = new Map<string, number>();
  readonly ledgerSums = new Map<string, bigint>();
  readonly postingSums = new Map<string, bigint>();
  postingsChecked = 0;
  private readonly known = new Set<string>();
  private readonly missingReported = new Set<string>();
  private readonly recent = new Map<string, CompactPosting[]>();

  constructor(
    private readonly recentSince: string,
    private readonly findings: ReconciliationFinding[],
  ) {}

  /** Counts one page of a shard's postings and checks that each one's journal exists. */
  async visit(page: PostingView[]): Promise<void> {
    this.postingsChecked += page.length;
    for (const p of page) add(this.postingSums, p.currency, p.amount);
    const unknown = [...new Set(page.map((p) => p.journalId))].filter((id) => !this.known.has(id));
    if (unknown.length === 0) return;
    const got = await readJournals(unknown);
    if (this.known.size + unknown.length > KNOWN_JOURNALS_MAX) this.known.clear();
    for (const id of unknown) {
      const j = got.get(id);
      if (!j) {
        if (this.missingReported.has(id)) continue;
        this.missingReported.add(id);
        const p = page.find((x) => x.journalId === id)!;
        this.findings.push({
          code: 'journal_missing',
          subject: { type: 'ledger-journal', id },
          detail: { accountId: p.accountId, shard: String(p.shard), seq: String(p.seq), postedAt: p.postedAt },
        });
        continue;
      }
      this.known.add(id);
      if (j.postedAt >= this.recentSince && !this.recent.has(id)) {
        this.recent.set(
          id,
          j.postings.map((x) => ({ accountId: x.accountId, shard: x.shard, seq: x.seq, amount: x.amount, currency: x.currency })),
        );
      }
    }
  }

  /** Per currency, the postings outside the cut of recent journals that are partly inside it. */
  inFlight(): Map<string, bigint> {
    const out = new Map<string, bigint>();
    for (const postings of this.recent.values()) {
      for (const p of postings) {
        const upTo = this.cut.get(shardKey(p.accountId, p.shard));
        if (upTo === undefined || p.seq > upTo) add(out, p.currency, p.amount);
      }
    }
    return out;
  }
}

/** Thrown inside the confirming read to read again: the shard moved meanwhile, or the mismatch is to be confirmed. */
class ReadAgain extends Error {}

/** Re-reads a shard's held amount against the account's pending holds, between two equal versions. */
async function confirmHeld(account: Account, shard: number): Promise<ReconciliationFinding | undefined> {
  const key = shardKey(account.accountId, shard);
  let mismatch: { expected: bigint; actual: bigint } | undefined;
  try {
    return await withRetry(
      'heldConfirm',
      async () => {
        const before = (await readShards([{ accountId: account.accountId, shard }])).get(key);
        if (!before) return undefined; // reported as missing_shard / missing_balance
        const held = await pendingHeldOnShard(account.accountId, shard);
        const after = (await readShards([{ accountId: account.accountId, shard }])).get(key);
        if (!after || after.version !== before.version) throw new ReadAgain();
        if (after.held === held) return undefined;
        mismatch = { expected: held, actual: after.held };
        throw new ReadAgain();
      },
      (err) => err instanceof ReadAgain,
    );
  } catch (err) {
    if (!(err instanceof ReadAgain)) throw err;
  }
  const base = { subject: { type: 'ledger-account' as const, id: account.accountId }, clientId: clientOf(account) };
  if (!mismatch) return { ...base, code: 'held_unverified', detail: { shard: String(shard) } };
  return {
    ...base,
    code: 'held_mismatch',
    expected: String(mismatch.expected),
    actual: String(mismatch.actual),
    detail: { shard: String(shard) },
  };
}

/** Step 2 for one account: its balance items, each shard at its own seq, and its counted postings. */
async function checkAccount(account: Account, heldSums: Map<string, bigint>, pass: LedgerPass): Promise<ReconciliationFinding[]> {
  const base = { subject: { type: 'ledger-account' as const, id: account.accountId }, clientId: clientOf(account) };
  const out: ReconciliationFinding[] = [];
  const got = await readShards(Array.from({ length: account.shards }, (_, shard) => ({ accountId: account.accountId, shard })));
  const present: ShardBalance[] = [];
  const absent: number[] = [];
  for (let shard = 0; shard < account.shards; shard++) {
    const b = got.get(shardKey(account.accountId, shard));
    if (b) present.push(b);
    else absent.push(shard);
  }
  if (absent.length > 0) {
    out.push({
      ...base,
      code: present.length === 0 ? 'missing_balance' : 'missing_shard',
      expected: String(account.shards),
      actual: String(present.length),
      detail: { shards: absent.join(',') },
    });
  }
  const visit = (page: PostingView[]) => pass.visit(page);
  const held: number[] = [];
  await Promise.all([
    ...present.map(async (b) => {
      pass.cut.set(shardKey(account.accountId, b.shard), b.seq);
      add(pass.ledgerSums, b.currency, b.ledger);
      const s = await sumShardPostingsUpTo(account.accountId, b.shard, b.seq, {
        untilPostedAt: b.lastPostedAt || undefined,
        visit,
      });
      const detail = { shard: String(b.shard), seq: String(b.seq) };
      if (b.ledger !== s.sum)
        out.push({ ...base, code: 'balance_mismatch', expected: String(s.sum), actual: String(b.ledger), detail });
      if (b.available !== b.ledger - b.held) {
        out.push({
          ...base,
          code: 'available_mismatch',
          expected: String(b.ledger - b.held),
          actual: String(b.available),
          detail,
        });
      }
      if (s.seqBreakAt !== undefined || s.lastSeq !== b.seq) {
        out.push({
          ...base,
          code: 'seq_gap',
          expected: String(b.seq),
          actual: String(s.count),
          detail: { ...detail, at: String(s.seqBreakAt ?? s.lastSeq + 1) },
        });
      }
      if (s.runningBalanceBreakAt !== undefined) {
        out.push({ ...base, code: 'running_balance_mismatch', detail: { ...detail, at: String(s.runningBalanceBreakAt) } });
      }
      if (b.held !== (heldSums.get(holdKey(account.accountId, b.shard)) ?? 0n)) held.push(b.shard);
    }),
    // no balance item: nothing can post to the shard, so every posting it has is counted
    ...absent.map(async (shard) => {
      pass.cut.set(shardKey(account.accountId, shard), Number.POSITIVE_INFINITY);
      await sumShardPostingsUpTo(account.accountId, shard, Number.POSITIVE_INFINITY, { visit });
    }),
  ]);
  for (const shard of held.sort((x, y) => x - y)) {
    const f = await confirmHeld(account, shard);
    if (f) out.push(f);
  }
  return out;
}

/** Step 4 for a batch of journals: every posting each lists exists under its key, unchanged. */
async function checkJournalPostings(journals: PostedJournal[], findings: ReconciliationFinding[]): Promise<void> {
  const got = await readPostings(
    journals.flatMap((j) =>
      j.postings.map((p) => ({ accountId: p.accountId, shard: p.shard, postedAt: j.postedAt, seq: p.seq })),
    ),
  );
  let at = 0;
  for (const j of journals) {
    const subject = { type: 'ledger-journal' as const, id: j.journalId };
    for (const p of j.postings) {
      const detail = { accountId: p.accountId, shard: String(p.shard), seq: String(p.seq), postedAt: j.postedAt };
      const stored = got[at++];
      if (!stored) {
        findings.push({ code: 'posting_missing', subject, clientId: j.clientId, expected: String(p.amount), detail });
        continue;
      }
      const fields = [
        stored.accountId !== p.accountId && 'accountId',
        stored.journalId !== j.journalId && 'journalId',
        stored.amount !== p.amount && 'amount',
        stored.currency !== p.currency && 'currency',
        stored.balanceAfter !== p.balanceAfter && 'balanceAfter',
      ].filter((f): f is string => typeof f === 'string');
      if (fields.length > 0) {
        findings.push({
          code: 'posting_mismatch',
          subject,
          clientId: j.clientId,
          expected: `${p.amount} ${p.currency}`,
          actual: `${stored.amount} ${stored.currency}`,
          detail: { ...detail, fields: fields.join(',') },
        });
      }
    }
  }
}

/** Runs every check; writes nothing but the expiries of stale holds. */
export async function reconcile(now: Date, requestId: string, runId: string): Promise<ReconciliationSummary> {
  const findings: ReconciliationFinding[] = [];
  const holdsExpired = await expireStaleHolds(now, requestId, findings);

  const { sums: heldSums, holds } = await openHoldsByShard();
  const pass = new LedgerPass(new Date(now.getTime() - RECENT_MS).toISOString(), findings);
  let accountsChecked = 0;
  for await (const account of scanAccounts()) {
    accountsChecked++;
    findings.push(...(await checkAccount(account, heldSums, pass)));
  }
  for (const f of currencyFindings(pass.ledgerSums, pass.postingSums, pass.inFlight())) {
    findings.push({ ...f, code: 'currency_unbalanced', subject: { type: 'ledger-currency', id: f.detail?.currency ?? '' } });
  }

  let journalsChecked = 0;
  let batch: PostedJournal[] = [];
  let batchKeys = 0;
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
    if (batchKeys + journal.postings.length > POSTING_BATCH) {
      await checkJournalPostings(batch, findings);
      batch = [];
      batchKeys = 0;
    }
    batch.push(journal);
    batchKeys += journal.postings.length;
  }
  if (batch.length > 0) await checkJournalPostings(batch, findings);

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

  return {
    runId,
    accountsChecked,
    postingsChecked: pass.postingsChecked,
    journalsChecked,
    holdsChecked: holds.length,
    holdsExpired,
    findings,
  };
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
    postingsChecked: summary.postingsChecked,
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

export interface ReconcileLedgerInput {
  runId: string;
  /** An on-demand run (its job-run item exists, 'requested'); else a scheduled run (its item is created). */
  onDemand: boolean;
}

/** Runs every check and records the run's result (or its failure, then rethrows). */
export async function reconcileLedger(input: ReconcileLedgerInput, ctx: CommandContext): Promise<ReconciliationSummary> {
  const { runId, onDemand } = input;
  const requestId = ctx.requestId;
  const startedAt = new Date().toISOString();
  const existing = onDemand ? await getJobRun(JOB, runId) : undefined;

  let summary: ReconciliationSummary;
  try {
    summary = await reconcile(ctx.now ?? new Date(), requestId, runId);
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
  return summary;
}
