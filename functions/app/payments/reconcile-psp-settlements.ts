/**
 * Reconcile one day's PSP settlement reports against the ledger (the psp-reconciliation job: daily, on
 * demand, or replayed for a date / provider). Without a date the report of yesterday (UTC) is reconciled,
 * without a provider every provider the tenant's payment methods use.
 *
 * What it does for report date D:
 * 1. reads every CSV under s3://$SETTLEMENTS_BUCKET/psp/<provider>/<D>/ (several files: the sandbox writes
 *    one per settled item, a real provider one per day; `psp/<provider>/<D>.csv` is read too). These are
 *    the report. The reports of the DEFAULT_MAX_LAG_DAYS + DEFAULT_MAX_LEAD_DAYS days before D are read
 *    as prior lines: they settle journals but are not reported again (domain/payments/settlement.ts)
 * 2. collects the ledger records: every journal posted from D - lag - lead up to D + 1 + lead whose
 *    metadata.psp = { provider, providerRef, kind }, with the magnitude of its psp_clearing posting
 * 3. reconciles (reconcileSettlement). A journal is due in the report of D when posted on D - maxLagDays:
 *    its settlement window closes with D, so an unmatched due journal is missing at the provider and a
 *    journal of a later day is not (it may still settle)
 * 4. stores the discrepancy lines and finishes the run's job-run item (status 'succeeded', summary with
 *    the date, the period, the counts and the totals) with its 'job.run.completed' audit item
 *
 * Invariants:
 * - read only as far as money goes: it never posts, voids or changes a journal, hold or payment
 * - every run writes a new run item (the edge gives scheduled runs a fresh ULID); an on-demand run
 *   delivered twice (same runId) that already finished is not run again ({ alreadyFinished: true })
 * - an unreadable report file is never skipped silently: it becomes a report_invalid line naming the
 *   file, line and column (the file's other rows are not reconciled, so their journals may show as
 *   missing at the provider); an unreadable prior file is counted in summary.priorReportErrors
 * - discrepancies (amount mismatch, missing in ledger, missing at provider, unreadable report) are an
 *   error log (ids and codes only); the run still succeeds. A run that throws records 'failed' with a
 *   'job.run.failed' audit item, then throws
 * - the actor of every audit item is the job (system:psp-reconciliation)
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { CommandContext } from '#app/context.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import type { PostedJournal } from '#domain/ledger/index.ts';
import { reportDate } from '#domain/payments/report-date.ts';
import {
  DEFAULT_MAX_LAG_DAYS,
  DEFAULT_MAX_LEAD_DAYS,
  type LedgerRecord,
  parseSettlementCsv,
  type ReportLine,
  reconcileSettlement,
  SETTLEMENT_KINDS,
  type SettlementKind,
  type SettlementReconciliation,
} from '#domain/payments/settlement.ts';
import { s3 } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { commit, systemActor } from '#store/audit.ts';
import { finishJobRun, getJobRun, type JobRunItem } from '#store/job-runs.ts';
import { houseAccountId, scanJournals } from '#store/ledger/index.ts';
import {
  discrepancyLines,
  PSP_RECONCILIATION_JOB,
  type ReportError,
  storeReconLines,
  totalsJson,
} from '#store/payments/psp-reconciliation.ts';

const JOB = PSP_RECONCILIATION_JOB;

export { PSP_RECONCILIATION_JOB };

const DAY_MS = 86_400_000;
const READ_CONCURRENCY = 16;

export interface PspReconciliationOutcome {
  runId: string;
  date: string;
  providers: string[];
  result: SettlementReconciliation;
  reportErrors: ReportError[];
  priorReportErrors: number;
  files: number;
  journalsWithoutClearing: number;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const dayStart = (day: string) => Date.parse(`${day}T00:00:00.000Z`);

/** The providers the tenant's payment methods use (sorted), or the one asked for. */
export function providersFor(requested?: string): string[] {
  const used = [...new Set(tenantConfig().payments.methods.map((m) => m.provider))].sort();
  if (requested === undefined) return used;
  if (!used.includes(requested)) {
    throw new DomainError('unknown_provider', 'validation', 'No payment method of this tenant uses this provider');
  }
  return [requested];
}

async function listReportKeys(bucket: string, provider: string, day: string): Promise<string[]> {
  const prefix = `psp/${provider}/${day}`;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) {
      const k = o.Key ?? '';
      if (k === `${prefix}.csv` || (k.startsWith(`${prefix}/`) && k.endsWith('.csv'))) keys.push(k);
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Every report file of one provider and day, parsed; unreadable files become report errors. */
async function readReports(
  bucket: string,
  provider: string,
  day: string,
): Promise<{ lines: ReportLine[]; errors: ReportError[]; files: number }> {
  const keys = await listReportKeys(bucket, provider, day);
  const lines: ReportLine[] = [];
  const errors: ReportError[] = [];
  for (let i = 0; i < keys.length; i += READ_CONCURRENCY) {
    const parsed = await Promise.all(
      keys.slice(i, i + READ_CONCURRENCY).map(async (key) => {
        const res = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const text = (await res.Body?.transformToString('utf8')) ?? '';
        try {
          return { lines: parseSettlementCsv(text, { file: key, provider }) };
        } catch (err) {
          if (!isDomainError(err) || err.code !== 'settlement_report_invalid') throw err;
          const m = err.meta as { line: number; column: string; reason: string };
          return { error: { provider, file: key, line: m.line, column: m.column, reason: m.reason, message: err.message } };
        }
      }),
    );
    for (const p of parsed) {
      if (p.lines) lines.push(...p.lines);
      if (p.error) errors.push(p.error);
    }
  }
  return { lines, errors, files: keys.length };
}

/** A journal's PSP record: metadata.psp plus the magnitude of its psp_clearing posting. */
export function recordOf(journal: PostedJournal): LedgerRecord | 'no_clearing' | undefined {
  const psp = journal.metadata.psp as { provider?: unknown; providerRef?: unknown; kind?: unknown } | undefined;
  if (!psp || typeof psp !== 'object') return undefined;
  const { provider, providerRef, kind } = psp;
  if (typeof provider !== 'string' || typeof providerRef !== 'string' || typeof kind !== 'string') return undefined;
  if (!(SETTLEMENT_KINDS as readonly string[]).includes(kind)) return undefined;
  const clearing = journal.postings.filter((p) => p.accountId === houseAccountId('psp_clearing', p.currency));
  if (clearing.length === 0) return 'no_clearing';
  const currency = clearing[0]!.currency;
  const sum = clearing.filter((p) => p.currency === currency).reduce((s, p) => s + p.amount, 0n);
  return {
    journalId: journal.journalId,
    provider,
    providerRef,
    kind: kind as SettlementKind,
    amount: { amount: sum < 0n ? -sum : sum, currency },
    postedAt: journal.postedAt,
  };
}

/** Reads the reports and the journals around `date` and reconciles them (writes nothing). */
export async function reconcileDay(
  date: string,
  providers: readonly string[],
): Promise<Omit<PspReconciliationOutcome, 'runId' | 'providers' | 'date'>> {
  const lag = DEFAULT_MAX_LAG_DAYS;
  const lead = DEFAULT_MAX_LEAD_DAYS;
  const start = dayStart(date);
  const bucket = env.settlementsBucket;

  const lines: ReportLine[] = [];
  const priorLines: ReportLine[] = [];
  const reportErrors: ReportError[] = [];
  let priorReportErrors = 0;
  let files = 0;
  for (const provider of providers) {
    const report = await readReports(bucket, provider, date);
    lines.push(...report.lines);
    reportErrors.push(...report.errors);
    files += report.files;
    for (let back = lag + lead; back >= 1; back--) {
      const prior = await readReports(bucket, provider, isoDay(start - back * DAY_MS));
      priorLines.push(...prior.lines);
      priorReportErrors += prior.errors.length;
      files += prior.files;
    }
  }

  const since = new Date(start - (lag + lead) * DAY_MS);
  const until = new Date(start + (1 + lead) * DAY_MS).toISOString();
  const wanted = new Set(providers);
  const records: LedgerRecord[] = [];
  let journalsWithoutClearing = 0;
  for await (const journal of scanJournals(since)) {
    if (journal.postedAt >= until) continue;
    const r = recordOf(journal);
    if (r === 'no_clearing') {
      journalsWithoutClearing++;
      logger.warn('psp journal without a psp_clearing posting', { journalId: journal.journalId });
    } else if (r && wanted.has(r.provider)) records.push(r);
  }

  const due = start - lag * DAY_MS;
  const result = reconcileSettlement({
    lines,
    priorLines,
    records,
    period: { from: new Date(due).toISOString(), to: new Date(due + DAY_MS).toISOString() },
    window: { maxLagDays: lag, maxLeadDays: lead },
  });
  return { result, reportErrors, priorReportErrors, files, journalsWithoutClearing };
}

function summaryOf(o: PspReconciliationOutcome, linesStored: number): Record<string, unknown> {
  const due = dayStart(o.date) - DEFAULT_MAX_LAG_DAYS * DAY_MS;
  const c = o.result.summary.counts;
  return {
    date: o.date,
    providers: o.providers,
    period: {
      report: { from: `${o.date}T00:00:00.000Z`, to: new Date(dayStart(o.date) + DAY_MS).toISOString() },
      dueJournals: { from: new Date(due).toISOString(), to: new Date(due + DAY_MS).toISOString() },
      maxLagDays: DEFAULT_MAX_LAG_DAYS,
      maxLeadDays: DEFAULT_MAX_LEAD_DAYS,
    },
    counts: { ...c, reportInvalid: o.reportErrors.length, discrepancies: c.discrepancies + o.reportErrors.length },
    totals: totalsJson(o.result),
    files: o.files,
    priorReportErrors: o.priorReportErrors,
    journalsWithoutClearing: o.journalsWithoutClearing,
    linesStored,
  };
}

async function recordFailure(
  existing: JobRunItem | undefined,
  runId: string,
  startedAt: string,
  requestId: string,
  err: unknown,
) {
  const finishedAt = new Date().toISOString();
  const code = isDomainError(err) ? err.code : 'internal_error';
  await commit({
    writes: [
      finishJobRun(existing, { job: JOB, runId, status: 'failed', startedAt, finishedAt, summary: { error: code } }, finishedAt),
    ],
    audit: {
      actor: systemActor(JOB),
      action: 'job.run.failed',
      entity: { type: 'job', id: JOB },
      before: existing ? { status: existing.status } : null,
      after: { runId, status: 'failed', error: code },
      requestId,
    },
  }).catch((e: unknown) => logger.error('could not record the failed run', e as Error));
}

export interface ReconcilePspSettlementsInput {
  /** The run's id: an on-demand run's own, else a fresh ULID. */
  runId: string;
  /** Asked for by someone (POST .../runs): a run of this id that already finished is not run again. */
  onDemand: boolean;
  /** The report date YYYY-MM-DD (validated: domain/payments/report-date.ts); default yesterday (UTC). */
  date?: string | undefined;
  /** One provider; default every provider the tenant's payment methods use (400 unknown_provider for another). */
  provider?: string | undefined;
}

export interface ReconcilePspSettlementsResult {
  runId: string;
  date: string;
  discrepancies: number;
  /** The run had already finished: nothing was done (counts absent). */
  alreadyFinished: boolean;
  /** The run's counts (lines, records, matched, amountMismatch, missingInLedger, missingAtProvider, reportInvalid, discrepancies). */
  counts?: Record<string, number>;
  /** The first journals with a discrepancy (at most 20), for the log. */
  firstJournalIds?: string[];
}

/** One run (see the module doc). */
export async function reconcilePspSettlements(
  input: ReconcilePspSettlementsInput,
  ctx: CommandContext,
): Promise<ReconcilePspSettlementsResult> {
  const { runId } = input;
  const { requestId } = ctx;
  const startedAt = new Date().toISOString();
  const existing = input.onDemand ? await getJobRun(JOB, runId) : undefined;
  if (existing && (existing.status === 'succeeded' || existing.status === 'failed')) {
    logger.info('psp reconciliation run already finished', { runId });
    const s = existing.summary as { date?: string; counts?: { discrepancies?: number } } | undefined;
    return { runId, date: s?.date ?? '', discrepancies: s?.counts?.discrepancies ?? 0, alreadyFinished: true };
  }

  let outcome: PspReconciliationOutcome;
  let linesStored: number;
  try {
    const date = reportDate(input.date, ctx.now ?? new Date());
    const providers = providersFor(input.provider);
    outcome = { runId, date, providers, ...(await reconcileDay(date, providers)) };
    linesStored = await storeReconLines(runId, discrepancyLines(outcome.result, outcome.reportErrors), { requestId });
  } catch (err) {
    logger.error('psp reconciliation failed', { runId, error: isDomainError(err) ? err.code : (err as Error).message });
    await recordFailure(existing, runId, startedAt, requestId, err);
    throw err;
  }

  const summary = summaryOf(outcome, linesStored);
  const counts = summary.counts as Record<string, number>;
  const finishedAt = new Date().toISOString();
  await commit({
    writes: [finishJobRun(existing, { job: JOB, runId, status: 'succeeded', startedAt, finishedAt, summary }, finishedAt)],
    audit: {
      actor: systemActor(JOB),
      action: 'job.run.completed',
      entity: { type: 'job', id: JOB },
      before: existing ? { status: existing.status } : null,
      after: { runId, status: 'succeeded', date: outcome.date, ...counts },
      requestId,
    },
  });

  const firstJournalIds = outcome.result.amountMismatch
    .map((m) => m.record.journalId)
    .concat(outcome.result.missingAtProvider.map((r) => r.journalId))
    .slice(0, 20);
  return { runId, date: outcome.date, discrepancies: counts.discrepancies ?? 0, alreadyFinished: false, counts, firstJournalIds };
}
