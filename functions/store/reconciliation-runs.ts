/**
 * Ledger reconciliation runs and their findings.
 *
 * A run is a job-run item (pk JOB#ledger-reconciliation, sk RUN#<ulid>; functions/store/job-runs.ts),
 * so on-demand requests (POST /v1/admin/jobs/ledger-reconciliation/runs) and scheduled runs share one
 * shape; its summary holds the counts. Findings are items of their own (pk RECON#<runId>,
 * sk FINDING#<n>), so a run with many findings never hits the 400 KB item limit.
 *
 * Invariants:
 * - a finding is declared once as an entity (reconciliationFindingEntity), runs are job-run items
 *   (jobRunEntity); every item read is parsed
 * - findings are written with their audit items in the same commits as the run's result
 * - the latest run is the newest run item (ULIDs sort by time) that has finished; a run still
 *   'requested' or 'running' is reported beside it as `inProgress`
 */
import * as z from 'zod';
import { defineEntity, type ItemOf } from './entity.ts';
import type { CommitWrite } from './items.ts';
import { type JobRunItem, jobRunEntity } from './job-runs.ts';
import { jobRunKeys, reconciliationKeys } from './keys.ts';
import type { Page } from './pagination.ts';
import { nested, oneOf, optionalString, stringMap } from './schemas.ts';

export const RECONCILIATION_JOB = 'ledger-reconciliation';

export type ReconciliationFindingCode =
  // a balance shard vs its own postings (up to the shard's seq) and open holds
  | 'balance_mismatch'
  | 'held_mismatch'
  | 'held_unverified'
  | 'available_mismatch'
  | 'seq_gap'
  | 'running_balance_mismatch'
  // an account's balance items
  | 'missing_balance'
  | 'missing_shard'
  // double entry: per journal, and per currency across the whole ledger
  | 'journal_unbalanced'
  | 'currency_unbalanced'
  // journal <-> posting cross-check
  | 'posting_missing'
  | 'posting_mismatch'
  | 'journal_missing'
  | 'hold_overdue'
  | 'hold_expiry_failed'
  // written by runs before balance_mismatch / seq_gap replaced them (still readable)
  | 'ledger_mismatch'
  | 'seq_mismatch';

export interface ReconciliationFinding {
  code: ReconciliationFindingCode;
  /** A 'ledger-currency' subject (id = the currency code) is a ledger-wide finding. */
  subject: { type: 'ledger-account' | 'ledger-journal' | 'ledger-hold' | 'ledger-currency'; id: string };
  /** Set when the finding concerns a client's account (it then appears in that client's audit trail). */
  clientId?: string | undefined;
  expected?: string | undefined;
  actual?: string | undefined;
  detail?: Record<string, string> | undefined;
}

const findingSchema = z.object({
  runId: z.string().min(1),
  n: z.number().int().min(0),
  code: oneOf<ReconciliationFindingCode>({
    balance_mismatch: true,
    held_mismatch: true,
    held_unverified: true,
    available_mismatch: true,
    seq_gap: true,
    running_balance_mismatch: true,
    missing_balance: true,
    missing_shard: true,
    journal_unbalanced: true,
    currency_unbalanced: true,
    posting_missing: true,
    posting_mismatch: true,
    journal_missing: true,
    hold_overdue: true,
    hold_expiry_failed: true,
    ledger_mismatch: true,
    seq_mismatch: true,
  }),
  subject: nested({
    type: z.enum(['ledger-account', 'ledger-journal', 'ledger-hold', 'ledger-currency']),
    id: z.string(),
  }),
  clientId: optionalString(),
  expected: optionalString(),
  actual: optionalString(),
  detail: stringMap().optional(),
}) satisfies z.ZodType<ReconciliationFinding>;

export const reconciliationFindingEntity = defineEntity({
  type: reconciliationKeys.type,
  schema: findingSchema,
  key: (f) => reconciliationKeys.finding(f.runId, f.n),
});

export type FindingItem = ItemOf<typeof reconciliationFindingEntity>;

export function findingWrite(runId: string, n: number, f: ReconciliationFinding, now: string): CommitWrite {
  return reconciliationFindingEntity.putNew(reconciliationFindingEntity.item({ runId, n, ...f }, now));
}

/** A stored finding as the domain-level finding (no keys, no absent fields). */
export function toFinding(f: FindingItem | (ReconciliationFinding & { n?: number })): ReconciliationFinding {
  return {
    code: f.code,
    subject: f.subject,
    ...(f.clientId ? { clientId: f.clientId } : {}),
    ...(f.expected !== undefined ? { expected: f.expected } : {}),
    ...(f.actual !== undefined ? { actual: f.actual } : {}),
    ...(f.detail ? { detail: f.detail } : {}),
  };
}

/** A run's findings in the order they were found. */
export async function runFindings(runId: string, limit: number, cursor?: string): Promise<Page<ReconciliationFinding>> {
  const page = await reconciliationFindingEntity.query({
    partition: reconciliationKeys.partition(runId),
    sortPrefix: reconciliationKeys.findingPrefix,
    limit,
    cursor,
  });
  return { ...page, items: page.items.map(toFinding) };
}

/** The newest finished run, and the newest unfinished one if it is newer. */
export async function latestRuns(): Promise<{ latest?: JobRunItem; inProgress?: JobRunItem }> {
  let inProgress: JobRunItem | undefined;
  let pages = 0;
  for await (const page of jobRunEntity.queryPages({
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :run)',
    ExpressionAttributeValues: { ':pk': jobRunKeys.partition(RECONCILIATION_JOB), ':run': jobRunKeys.runPrefix },
    ScanIndexForward: false,
    Limit: 10,
    ConsistentRead: true,
  })) {
    for (const item of page) {
      if (item.status === 'succeeded' || item.status === 'failed') return { latest: item, ...(inProgress ? { inProgress } : {}) };
      inProgress ??= item;
    }
    if (++pages >= 10) break;
  }
  return inProgress ? { inProgress } : {};
}
