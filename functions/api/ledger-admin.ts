/**
 * Ledger inspection for finance, compliance and admins (read only):
 * GET /v1/admin/ledger/accounts/{accountId}, GET /v1/admin/ledger/journals/{journalId},
 * GET /v1/admin/ledger/reconciliation.
 *
 * Invariants:
 * - clients and other staff roles get 403 forbidden_role at the edge
 * - an account shows its flags, its balance (the sum of its shards) and, for a sharded account, every
 *   shard, plus its latest postings (newest first); unknown ids are 404 account_not_found
 * - a journal shows its postings (money as decimal strings) and its audit entries - who posted it,
 *   when, under which request - and, for an adjustment, the adjustment's own trail (requested by,
 *   approved by); unknown ids are 404 journal_not_found
 * - reconciliation shows the latest finished run with its findings (paginated) and, if one is
 *   newer and still running, that run
 */
import * as z from 'zod';
import type { ChainedRecord } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { ID_PATTERN } from '#domain/ledger/index.ts';
import { formatAmount, formatMoney } from '#domain/money/index.ts';
import type { Role } from '#functions/manifest.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { auditItems } from '#store/audit.ts';
import type { JobRunItem } from '#store/job-runs.ts';
import { accountShards, getAccount, sumShards } from '#store/ledger/accounts.ts';
import { getJournal, JOURNAL_ENTITY } from '#store/ledger/journals.ts';
import { listPostings } from '#store/ledger/postings.ts';
import { cursorParam, limitParam } from '#store/pagination.ts';
import { latestRuns, runFindings } from '#store/reconciliation-runs.ts';

const ALLOWED: readonly Role[] = ['finance', 'compliance', 'admin'];
const LAST_POSTINGS = 20;
const MAX_AUDIT_ENTRIES = 200;

const id = z.string().min(1).max(128).regex(ID_PATTERN);
export const AccountParams = z.strictObject({ accountId: id });
export const JournalParams = z.strictObject({ journalId: id });
export const ReconciliationQuery = z.strictObject({ limit: limitParam(500, 100), cursor: cursorParam.optional() });

const MoneyOut = z.object({ amount: z.string(), currency: z.string() });
const BalanceView = z.object({ ledger: MoneyOut, held: MoneyOut, available: MoneyOut, version: z.number(), seq: z.number() });
const AuditEntryView = z.object({
  seq: z.number(),
  at: z.string(),
  actor: z.object({ id: z.string(), role: z.string() }),
  action: z.string(),
  entity: z.object({ type: z.string(), id: z.string() }),
  reason: z.string().optional(),
  requestId: z.string(),
  hash: z.string(),
});
const PostingView = z.object({
  accountId: z.string(),
  amount: MoneyOut,
  balanceAfter: MoneyOut,
  shard: z.number(),
  seq: z.number(),
});

const AccountResult = z.object({
  account: z.object({
    accountId: z.string(),
    kind: z.string(),
    currency: z.string(),
    ownerId: z.string(),
    flags: z.object({ noNegative: z.boolean(), frozen: z.boolean() }),
    shards: z.number(),
  }),
  balance: BalanceView,
  shardBalances: z.array(BalanceView.extend({ shard: z.number() })).optional(),
  lastPostings: z.array(
    PostingView.extend({ journalId: z.string(), type: z.string(), postedAt: z.string(), reference: z.string().optional() }),
  ),
  hasMorePostings: z.boolean(),
});

const JournalResult = z.object({
  journalId: z.string(),
  type: z.string(),
  postedAt: z.string(),
  reference: z.string().optional(),
  description: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()),
  actor: z.object({ id: z.string(), role: z.string() }),
  requestId: z.string(),
  clientId: z.string().optional(),
  postings: z.array(PostingView),
  audit: z.array(AuditEntryView),
  adjustmentAudit: z.array(AuditEntryView).optional(),
});

const RunView = z.object({
  runId: z.string(),
  status: z.string(),
  trigger: z.string(),
  requestedBy: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  summary: z.record(z.string(), z.unknown()).optional(),
});
const ReconciliationResult = z.object({
  latest: RunView.nullable(),
  inProgress: RunView.optional(),
  findings: z.object({
    items: z.array(
      z.object({
        code: z.string(),
        subject: z.object({ type: z.string(), id: z.string() }),
        clientId: z.string().optional(),
        expected: z.string().optional(),
        actual: z.string().optional(),
        detail: z.record(z.string(), z.string()).optional(),
      }),
    ),
    nextCursor: z.string().optional(),
    hasMore: z.boolean(),
  }),
});

const balanceView = (b: { ledger: bigint; held: bigint; available: bigint; version: number; seq: number }, currency: string) => ({
  ledger: formatMoney({ amount: b.ledger, currency }),
  held: formatMoney({ amount: b.held, currency }),
  available: formatMoney({ amount: b.available, currency }),
  version: b.version,
  seq: b.seq,
});

const auditView = (r: ChainedRecord) => ({
  seq: r.seq,
  at: r.at,
  actor: r.actor,
  action: r.action,
  entity: r.entity,
  ...(r.reason ? { reason: r.reason } : {}),
  requestId: r.requestId,
  hash: r.hash,
});

async function trail(entity: { type: string; id: string }) {
  const out: ReturnType<typeof auditView>[] = [];
  for await (const page of auditItems(entity, { pageSize: 100 })) {
    out.push(...page.map(auditView));
    if (out.length >= MAX_AUDIT_ENTRIES) break;
  }
  return out.slice(0, MAX_AUDIT_ENTRIES);
}

export async function accountDetail(accountId: string) {
  const account = await getAccount(accountId);
  if (!account) throw new DomainError('account_not_found', 'not_found', 'No ledger account with this id');
  const shards = await accountShards(accountId);
  const sum = sumShards(shards);
  const page = await listPostings(accountId, { limit: LAST_POSTINGS });
  return {
    account,
    balance: balanceView(sum, account.currency),
    ...(account.shards > 1
      ? { shardBalances: shards.map((s) => ({ shard: s.shard, ...balanceView(s, account.currency) })) }
      : {}),
    lastPostings: page.items.map((p) => ({
      accountId: p.accountId,
      journalId: p.journalId,
      type: p.type,
      amount: { amount: formatAmount(p.amount, p.currency), currency: p.currency },
      balanceAfter: { amount: formatAmount(p.balanceAfter, p.currency), currency: p.currency },
      shard: p.shard,
      seq: p.seq,
      postedAt: p.postedAt,
      ...(p.reference ? { reference: p.reference } : {}),
    })),
    hasMorePostings: page.hasMore,
  };
}

export async function journalDetail(journalId: string) {
  const journal = await getJournal(journalId);
  if (!journal) throw new DomainError('journal_not_found', 'not_found', 'No journal with this id');
  const adjustmentId = typeof journal.metadata.adjustmentId === 'string' ? journal.metadata.adjustmentId : undefined;
  const [audit, adjustmentAudit] = await Promise.all([
    trail({ type: JOURNAL_ENTITY, id: journalId }),
    adjustmentId ? trail({ type: 'adjustment', id: adjustmentId }) : Promise.resolve(undefined),
  ]);
  return {
    journalId: journal.journalId,
    type: journal.type,
    postedAt: journal.postedAt,
    ...(journal.reference ? { reference: journal.reference } : {}),
    ...(journal.description ? { description: journal.description } : {}),
    metadata: journal.metadata,
    actor: journal.actor,
    requestId: journal.requestId,
    ...(journal.clientId ? { clientId: journal.clientId } : {}),
    postings: journal.postings.map((p) => ({
      accountId: p.accountId,
      amount: { amount: formatAmount(p.amount, p.currency), currency: p.currency },
      balanceAfter: { amount: formatAmount(p.balanceAfter, p.currency), currency: p.currency },
      shard: p.shard,
      seq: p.seq,
    })),
    audit,
    ...(adjustmentAudit ? { adjustmentAudit } : {}),
  };
}

const runView = (r: JobRunItem) => ({
  runId: r.runId,
  status: r.status,
  trigger: r.trigger,
  requestedBy: r.requestedBy,
  ...(r.startedAt ? { startedAt: r.startedAt } : {}),
  ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
  ...(r.summary ? { summary: r.summary } : {}),
});

export async function reconciliationDetail(limit: number, cursor?: string) {
  const { latest, inProgress } = await latestRuns();
  const findings = latest ? await runFindings(latest.runId, limit, cursor) : { items: [], hasMore: false };
  return { latest: latest ? runView(latest) : null, ...(inProgress ? { inProgress: runView(inProgress) } : {}), findings };
}

export const routes = [
  defineRoute({
    method: 'GET',
    path: '/v1/admin/ledger/accounts/{accountId}',
    operationId: 'getLedgerAccount',
    summary: 'A ledger account: flags, balance (per shard when sharded) and latest postings',
    tags: ['ledger'],
    auth: ALLOWED,
    params: AccountParams,
    responses: { 200: { description: 'The account', schema: AccountResult }, 404: { description: 'account_not_found' } },
    handler: async ({ params }) => ({ status: 200, body: await accountDetail(params.accountId) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/ledger/journals/{journalId}',
    operationId: 'getLedgerJournal',
    summary: 'A journal with its postings and its audit entries',
    tags: ['ledger'],
    auth: ALLOWED,
    params: JournalParams,
    responses: { 200: { description: 'The journal', schema: JournalResult }, 404: { description: 'journal_not_found' } },
    handler: async ({ params }) => ({ status: 200, body: await journalDetail(params.journalId) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/v1/admin/ledger/reconciliation',
    operationId: 'getLedgerReconciliation',
    summary: 'The latest reconciliation run and its findings',
    tags: ['ledger'],
    auth: ALLOWED,
    query: ReconciliationQuery,
    responses: { 200: { description: 'The latest run', schema: ReconciliationResult } },
    handler: async ({ query }) => ({ status: 200, body: await reconciliationDetail(query.limit, query.cursor) }),
  }),
];

export const handler = httpHandler(...routes);
