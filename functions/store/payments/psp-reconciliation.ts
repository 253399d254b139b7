/**
 * PSP settlement reconciliation runs and their discrepancy lines.
 *
 * A run is a job-run item (pk JOB#psp-reconciliation, sk RUN#<ulid>; functions/store/job-runs.ts), for
 * scheduled and on-demand runs alike; its summary holds the report date, the period, the counts and the
 * per-currency totals (decimal strings). Each discrepancy is an item of its own
 * (paymentKeys.reconLine(runId, n): pk PSPRECON#<runId>, sk LINE#<n>), so a large report never hits the
 * 400 KB item limit. Matched lines are only counted (summary), never stored one by one.
 *
 * Invariants:
 * - lines are written before the run is finished, in commits of at most LINES_PER_COMMIT lines, each with
 *   one 'psp.reconciliation.lines_recorded' audit item (entity psp-reconciliation-run/<runId>); a run
 *   that is not 'succeeded' may have partial lines; a succeeded run shows lines 1..summary.linesStored
 *   (a retried attempt overwrites the lines of a crashed one; runLines hides any beyond linesStored)
 * - lines are numbered 1..N in a stable order: report_invalid, amount_mismatch, missing_in_ledger,
 *   missing_at_provider (each in report / journal order)
 * - money in a line is a decimal string with its currency (formatMoney), never a float
 * - nothing here moves money
 * - a line is declared once (reconLineEntity); reading one parses it (a malformed line is a StoredItemError)
 */
import * as z from 'zod';
import { formatAmount, formatMoney, type MoneyJson } from '#domain/money/index.ts';
import { SETTLEMENT_KINDS, type SettlementKind, type SettlementReconciliation } from '#domain/payments/settlement.ts';
import { type AuditInput, commit, systemActor } from '../audit.ts';
import { defineEntity, type ItemOf } from '../entity.ts';
import { getJobRun, type JobRunItem } from '../job-runs.ts';
import { paymentKeys } from '../keys.ts';
import type { Page } from '../pagination.ts';
import { MoneyJsonSchema } from './types.ts';

export const PSP_RECONCILIATION_JOB = 'psp-reconciliation';
/** The audit entity of a run's lines. */
export const RUN_ENTITY = 'psp-reconciliation-run';
/** Lines per commit: + one audit item + its chain head stays under the 100-item transaction limit. */
export const LINES_PER_COMMIT = 90;
/** Lines stored per run (the counts stay exact beyond it). */
export const MAX_STORED_LINES = 10_000;

export type ReconLineBucket = 'report_invalid' | 'amount_mismatch' | 'missing_in_ledger' | 'missing_at_provider';

/** A report that could not be read: none of its rows were reconciled. */
export interface ReportError {
  provider: string;
  file: string;
  line: number;
  column: string;
  reason: string;
  message: string;
}

export interface ReconLine {
  bucket: ReconLineBucket;
  provider: string;
  providerRef?: string;
  kind?: SettlementKind;
  /** missing_in_ledger: no_record | outside_window | duplicate. */
  reason?: string;
  /** amount_mismatch: what differs. */
  differs?: ('amount' | 'currency')[];
  /** The provider's side. */
  reported?: { amount: MoneyJson; providerFee: MoneyJson; settledAt: string; file: string; line: number };
  /** The ledger's side. */
  ledger?: { journalId: string; amount: MoneyJson; postedAt: string };
  /** report_invalid: where and why. */
  error?: { file: string; line: number; column: string; reason: string; message: string };
}

const RECON_LINE_BUCKETS = ['report_invalid', 'amount_mismatch', 'missing_in_ledger', 'missing_at_provider'] as const;

export const ReconLineSchema = z.object({
  runId: z.string().min(1),
  n: z.number().int().min(1),
  bucket: z.enum(RECON_LINE_BUCKETS),
  provider: z.string(),
  providerRef: z.string().optional(),
  kind: z.enum(SETTLEMENT_KINDS).optional(),
  reason: z.string().optional(),
  differs: z.array(z.enum(['amount', 'currency'])).optional(),
  reported: z
    .object({
      amount: MoneyJsonSchema,
      providerFee: MoneyJsonSchema,
      settledAt: z.string(),
      file: z.string(),
      line: z.number().int(),
    })
    .optional(),
  ledger: z.object({ journalId: z.string(), amount: MoneyJsonSchema, postedAt: z.string() }).optional(),
  error: z
    .object({ file: z.string(), line: z.number().int(), column: z.string(), reason: z.string(), message: z.string() })
    .optional(),
});

/** pk PSPRECON#<runId> / LINE#<n>: one discrepancy line of a run. */
export const reconLineEntity = defineEntity({
  type: paymentKeys.reconLineType,
  schema: ReconLineSchema,
  key: (l) => paymentKeys.reconLine(l.runId, l.n),
});

export type ReconLineItem = ItemOf<typeof reconLineEntity>;

export type ReconLineView = ReconLine & { n: number };

/** Per currency, the result's totals as decimal strings. */
export type TotalsJson = Record<string, Record<string, string>>;

const reportedSide = (l: SettlementReconciliation['matched'][number]['line']) => ({
  amount: formatMoney(l.amount),
  providerFee: formatMoney(l.providerFee),
  settledAt: l.settledAt,
  file: l.source.file,
  line: l.source.line,
});

const ledgerSide = (r: SettlementReconciliation['matched'][number]['record']) => ({
  journalId: r.journalId,
  amount: formatMoney(r.amount),
  postedAt: r.postedAt,
});

/** The discrepancy lines of a result, in the stored order (see the module invariants). */
export function discrepancyLines(result: SettlementReconciliation, reportErrors: readonly ReportError[] = []): ReconLine[] {
  return [
    ...reportErrors.map(
      (e): ReconLine => ({
        bucket: 'report_invalid',
        provider: e.provider,
        error: { file: e.file, line: e.line, column: e.column, reason: e.reason, message: e.message },
      }),
    ),
    ...result.amountMismatch.map(
      (m): ReconLine => ({
        bucket: 'amount_mismatch',
        provider: m.line.provider,
        providerRef: m.line.providerRef,
        kind: m.line.kind,
        differs: m.differs,
        reported: reportedSide(m.line),
        ledger: ledgerSide(m.record),
      }),
    ),
    ...result.missingInLedger.map(
      (m): ReconLine => ({
        bucket: 'missing_in_ledger',
        provider: m.line.provider,
        providerRef: m.line.providerRef,
        kind: m.line.kind,
        reason: m.reason,
        reported: reportedSide(m.line),
      }),
    ),
    ...result.missingAtProvider.map(
      (r): ReconLine => ({
        bucket: 'missing_at_provider',
        provider: r.provider,
        providerRef: r.providerRef,
        kind: r.kind,
        ledger: ledgerSide(r),
      }),
    ),
  ];
}

/** The per-currency totals of a result as decimal strings. */
export function totalsJson(result: SettlementReconciliation): TotalsJson {
  const out: TotalsJson = {};
  for (const [currency, t] of Object.entries(result.summary.totals)) {
    out[currency] = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, formatAmount(v as bigint, currency)]));
  }
  return out;
}

/**
 * Writes a run's lines (at most MAX_STORED_LINES) numbered from 1, each commit with its audit item.
 * Returns how many were stored.
 */
export async function storeReconLines(
  runId: string,
  lines: readonly ReconLine[],
  opts: { requestId: string; actor?: string },
): Promise<number> {
  const stored = lines.slice(0, MAX_STORED_LINES);
  for (let i = 0; i < stored.length; i += LINES_PER_COMMIT) {
    const chunk = stored.slice(i, i + LINES_PER_COMMIT);
    const now = new Date().toISOString();
    const audit: AuditInput = {
      actor: systemActor(opts.actor ?? PSP_RECONCILIATION_JOB),
      action: 'psp.reconciliation.lines_recorded',
      entity: { type: RUN_ENTITY, id: runId },
      before: null,
      after: {
        runId,
        from: i + 1,
        to: i + chunk.length,
        buckets: Object.fromEntries(
          [...new Set(chunk.map((l) => l.bucket))].map((b) => [b, chunk.filter((l) => l.bucket === b).length]),
        ),
      },
      requestId: opts.requestId,
      ...(i === 0 ? { newEntity: true } : {}),
    };
    await commit({
      // A plain Put: a retried attempt of the same run (EventBridge delivers at least once) overwrites
      // the lines of an attempt that crashed before finishing the run.
      writes: chunk.map((line, j) => ({ Put: { Item: reconLineEntity.item({ ...line, runId, n: i + j + 1 }, now) } })),
      audit,
    });
  }
  return stored.length;
}

function lineView(item: ReconLineItem): ReconLineView {
  const { n, bucket, provider, providerRef, kind, reason, differs, reported, ledger, error } = item;
  return {
    n,
    bucket,
    provider,
    ...(providerRef !== undefined ? { providerRef } : {}),
    ...(kind !== undefined ? { kind } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(differs !== undefined ? { differs } : {}),
    ...(reported !== undefined ? { reported } : {}),
    ...(ledger !== undefined ? { ledger } : {}),
    ...(error !== undefined ? { error } : {}),
  };
}

/**
 * A page of a run's discrepancy lines, in order. `stored` (the run's summary.linesStored) hides lines an
 * earlier, crashed attempt of the same run wrote beyond what the finished attempt stored.
 */
export async function runLines(runId: string, limit: number, cursor?: string, stored?: number): Promise<Page<ReconLineView>> {
  const page = await reconLineEntity.query({
    partition: paymentKeys.reconPartition(runId),
    sortPrefix: paymentKeys.reconLinePrefix,
    limit,
    cursor,
  });
  const items = page.items.filter((i) => stored === undefined || i.n <= stored).map(lineView);
  if (items.length < page.items.length) return { items, hasMore: false };
  return { ...page, items };
}

/** The run's job-run item, or undefined. */
export const getPspRun = (runId: string): Promise<JobRunItem | undefined> => getJobRun(PSP_RECONCILIATION_JOB, runId);
