/**
 * Ledger inspection for finance, compliance and admins (read only):
 * GET /v1/admin/ledger/accounts/{accountId}, GET /v1/admin/ledger/journals/{journalId},
 * GET /v1/admin/ledger/reconciliation.
 *
 * Invariants:
 * - each route calls one use case (functions/app/ledger: get-ledger-account, get-ledger-journal,
 *   get-ledger-reconciliation) and presents its result here
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
import { getLedgerAccount, type LedgerAccountDetail } from '#app/ledger/get-ledger-account.ts';
import { getLedgerJournal, type LedgerJournalDetail } from '#app/ledger/get-ledger-journal.ts';
import {
  getLedgerReconciliation,
  type LedgerReconciliation,
  type ReconciliationRun,
} from '#app/ledger/get-ledger-reconciliation.ts';
import type { ChainedRecord } from '#domain/audit/chain.ts';
import { ID_PATTERN } from '#domain/ledger/index.ts';
import { formatAmount, formatMoney } from '#domain/money/index.ts';
import type { Role } from '#functions/manifest.ts';
import { defineRoute, httpHandler } from '#middleware/http.ts';
import { cursorParam, limitParam } from './shared/pages.ts';

const ALLOWED: readonly Role[] = ['finance', 'compliance', 'admin'];

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

export function accountView(d: LedgerAccountDetail) {
  const { account } = d;
  return {
    account,
    balance: balanceView(d.balance, account.currency),
    ...(d.shardBalances
      ? { shardBalances: d.shardBalances.map((s) => ({ shard: s.shard, ...balanceView(s, account.currency) })) }
      : {}),
    lastPostings: d.lastPostings.map((p) => ({
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
    hasMorePostings: d.hasMorePostings,
  };
}

export function journalView({ journal, audit, adjustmentAudit }: LedgerJournalDetail) {
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
    audit: audit.map(auditView),
    ...(adjustmentAudit ? { adjustmentAudit: adjustmentAudit.map(auditView) } : {}),
  };
}

const runView = (r: ReconciliationRun) => ({
  runId: r.runId,
  status: r.status,
  trigger: r.trigger,
  requestedBy: r.requestedBy,
  ...(r.startedAt ? { startedAt: r.startedAt } : {}),
  ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
  ...(r.summary ? { summary: r.summary } : {}),
});

export function reconciliationView(r: LedgerReconciliation) {
  return {
    latest: r.latest ? runView(r.latest) : null,
    ...(r.inProgress ? { inProgress: runView(r.inProgress) } : {}),
    findings: r.findings,
  };
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
    handler: async ({ params, caller, correlationId, locale }) => ({
      status: 200,
      body: accountView(await getLedgerAccount(params, caller!, { requestId: correlationId, locale })),
    }),
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
    handler: async ({ params, caller, correlationId, locale }) => ({
      status: 200,
      body: journalView(await getLedgerJournal(params, caller!, { requestId: correlationId, locale })),
    }),
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
    handler: async ({ query, caller, correlationId, locale }) => ({
      status: 200,
      body: reconciliationView(await getLedgerReconciliation(query, caller!, { requestId: correlationId, locale })),
    }),
  }),
];

export const handler = httpHandler(...routes);
