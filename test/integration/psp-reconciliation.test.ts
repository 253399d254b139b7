/**
 * PSP settlement reconciliation against DynamoDB Local with S3 mocked (functions/jobs/psp-reconciliation.ts,
 * functions/api/psp-reconciliation.ts): a crafted settlement report (one file per settled item, like the
 * sandbox, plus an unreadable one) holding a matched deposit, a matched payout (a posted hold), a line
 * missing in the ledger, an amount mismatch and a currency mismatch, against ledger journals carrying
 * metadata.psp (one of them never settled). The job stores each discrepancy with both sides; the route
 * shows the run (paginated) to finance / compliance / admin only, 404 for an unknown run; a re-run for
 * the same date is a new run with the same result and moves no money; a repeated on-demand event does
 * not run twice.
 */
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Account } from '#domain/ledger/index.ts';
import { JOB_DETAIL_TYPE } from '#functions/manifest.ts';
import { auditItems, commit } from '#store/audit.ts';
import { getJobRun, newJobRun, putJobRun } from '#store/job-runs.ts';
import { ensureWallet, getBalance, houseAccount, houseAccountId, placeHold, postHold, postJournal } from '#store/ledger/index.ts';
import { useHandlerEnv } from '../support/api-env.ts';
import { apiEvent, bodyOf, claimsFor, lambdaContext } from '../support/events.ts';

const s3mock = mockClient(S3Client);
const objects = new Map<string, string>();
const BUCKET = 'demo-settlements';
const HEADER = 'provider_ref,kind,amount,currency,provider_fee,settled_at';
const DAY_MS = 86_400_000;

type Handler = (
  e: ReturnType<typeof apiEvent>,
  c: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode: number; body: string }>;
let api: Handler;
let job: typeof import('#functions/jobs/psp-reconciliation.ts').handler;

const actor = { id: 'system:test', role: 'system' };
const uid = () => randomUUID().slice(0, 8);
const finance = claimsFor(`finance-${uid()}`, ['finance']);
const compliance = claimsFor(`compliance-${uid()}`, ['compliance']);
const admin = claimsFor(`admin-${uid()}`, ['admin']);
const client = claimsFor(`client-${uid()}`, ['client']);
const sales = claimsFor(`sales-${uid()}`, ['sales']);

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
// Journals are posted today; the report of today + 3 days is the one whose window closes on them.
const today = isoDay(Date.now());
const reportDay = isoDay(Date.parse(`${today}T00:00:00Z`) + 3 * DAY_MS);
const priorDay = isoDay(Date.parse(`${today}T00:00:00Z`) + 1 * DAY_MS);
const settledAt = `${reportDay}T09:30:00.000Z`;
const ref = (name: string) => `sbx_${name}_${uid()}`;

const refs = {
  deposit: ref('dep_ok'),
  payout: ref('po_ok'),
  ghost: ref('dep_ghost'),
  unsettled: ref('dep_unsettled'),
  amount: ref('dep_amt'),
  currency: ref('dep_cur'),
  earlier: ref('dep_earlier'),
};
const journals: Record<string, string> = {};
let wallet: Account;

const getRun = (claims: Record<string, string>, runId: string, query?: Record<string, string>) =>
  api(
    apiEvent({
      method: 'GET',
      resource: '/v1/admin/reconciliation/psp/{runId}',
      pathParameters: { runId },
      claims,
      ...(query ? { query } : {}),
    }),
    lambdaContext(),
  );

/** A deposit journal as the webhook posts it: psp_clearing -gross, wallet +net, fee_income +fee. */
async function deposit(name: string, providerRef: string, gross: bigint, fee: bigint) {
  const journalId = `dep_${name}_${uid()}`;
  const clearing = await houseAccount('psp_clearing', 'USD');
  const income = await houseAccount('fee_income', 'USD');
  await postJournal({
    draft: {
      journalId,
      type: 'deposit',
      postings: [
        { accountId: clearing.accountId, amount: -gross, currency: 'USD' },
        { accountId: wallet.accountId, amount: gross - fee, currency: 'USD' },
        ...(fee > 0n ? [{ accountId: income.accountId, amount: fee, currency: 'USD' }] : []),
      ],
      metadata: { psp: { provider: 'sandbox', providerRef, kind: 'deposit' } },
    },
    idempotency: { scope: 'psp-deposit', key: journalId, requestHash: 'h' },
    actor,
    requestId: 'req-test',
    clientId: wallet.ownerId,
  });
  journals[name] = journalId;
}

const csv = (...rows: string[]) => `${HEADER}\n${rows.join('\n')}\n`;

beforeAll(async () => {
  await useHandlerEnv('psp-recon', { SETTLEMENTS_BUCKET: BUCKET });
  s3mock.on(ListObjectsV2Command).callsFake((input: { Bucket: string; Prefix: string }) => {
    expect(input.Bucket).toBe(BUCKET);
    return {
      Contents: [...objects.keys()].filter((k) => k.startsWith(input.Prefix)).map((Key) => ({ Key })),
      IsTruncated: false,
    };
  });
  s3mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const text = objects.get(input.Key);
    if (text === undefined) throw new Error(`no object ${input.Key}`);
    return { Body: { transformToString: async () => text } };
  });
  api = (await import('#functions/api/psp-reconciliation.ts')).handler as unknown as Handler;
  job = (await import('#functions/jobs/psp-reconciliation.ts')).handler;

  wallet = await ensureWallet(`client-${uid()}`, 'USD', { actor, requestId: 'req-test' });
  await deposit('ok', refs.deposit, 10_000n, 200n);
  await deposit('unsettled', refs.unsettled, 3_000n, 0n);
  await deposit('amount', refs.amount, 2_000n, 0n);
  await deposit('currency', refs.currency, 1_500n, 0n);
  await deposit('earlier', refs.earlier, 700n, 0n);
  // A transfer without metadata.psp is not a PSP journal.
  const other = await ensureWallet(`client-${uid()}`, 'USD', { actor, requestId: 'req-test' });
  await postJournal({
    draft: {
      journalId: `trf_${uid()}`,
      type: 'transfer',
      postings: [
        { accountId: wallet.accountId, amount: -100n, currency: 'USD' },
        { accountId: other.accountId, amount: 100n, currency: 'USD' },
      ],
      metadata: {},
    },
    idempotency: { scope: 'test', key: uid(), requestHash: 'h' },
    actor,
    requestId: 'req-test',
  });
  // A withdrawal paid out: the hold on the wallet posted to psp_clearing (net) and fee_income (fee).
  const holdId = `wd_${uid()}`;
  await placeHold({
    holdId,
    accountId: wallet.accountId,
    amount: { amount: 5_000n, currency: 'USD' },
    expiresAt: new Date(Date.now() + 30 * DAY_MS),
    idempotency: { scope: 'test', key: holdId, requestHash: 'h' },
    actor,
    requestId: 'req-test',
  });
  const posted = await postHold(holdId, {
    counterPostings: [
      { accountId: houseAccountId('psp_clearing', 'USD'), amount: 4_900n },
      { accountId: houseAccountId('fee_income', 'USD'), amount: 100n },
    ],
    type: 'withdrawal',
    metadata: { psp: { provider: 'sandbox', providerRef: refs.payout, kind: 'payout' } },
    actor,
    requestId: 'req-test',
  });
  journals.payout = posted.journal.journalId;

  const dir = `psp/sandbox/${reportDay}`;
  objects.set(`${dir}/evt-1.csv`, csv(`${refs.deposit},deposit,100.00,USD,0.50,${settledAt}`));
  objects.set(`${dir}/evt-2.csv`, csv(`${refs.payout},payout,49.00,USD,0.00,${settledAt}`));
  objects.set(`${dir}/evt-3.csv`, csv(`${refs.ghost},deposit,12.00,USD,0.00,${settledAt}`));
  objects.set(`${dir}/evt-4.csv`, csv(`${refs.amount},deposit,20.01,USD,0.00,${settledAt}`));
  objects.set(`${dir}/evt-5.csv`, csv(`${refs.currency},deposit,15.00,EUR,0.00,${settledAt}`));
  objects.set(`${dir}/evt-6.csv`, csv(`sbx_broken,deposit,12.3.4,USD,0.00,${settledAt}`));
  objects.set(`${dir}/notes.txt`, 'not a report');
  // Settled in an earlier report (inside the lag window): not reported again, not missing.
  objects.set(`psp/sandbox/${priorDay}/evt-0.csv`, csv(`${refs.earlier},deposit,7.00,USD,0.00,${priorDay}T08:00:00Z`));
  // Another day's report is not read into this one.
  objects.set(
    `psp/sandbox/${isoDay(Date.parse(`${reportDay}T00:00:00Z`) + DAY_MS)}/evt-9.csv`,
    csv(`x,deposit,1.00,USD,0,${reportDay}`),
  );
});

afterAll(() => {
  s3mock.restore();
});

async function requestRun(): Promise<string> {
  const runId = ulid();
  const now = new Date().toISOString();
  await commit({
    writes: [
      putJobRun(
        newJobRun({ job: 'psp-reconciliation', runId, status: 'requested', requestedBy: admin.sub!, trigger: 'on_demand' }, now),
      ),
    ],
    audit: {
      actor: { id: admin.sub!, role: 'admin' },
      action: 'job.run.requested',
      entity: { type: 'job', id: 'psp-reconciliation' },
      before: null,
      after: { runId },
      requestId: 'req-test',
    },
  });
  return runId;
}

const onDemand = (runId: string, extra: Record<string, string> = {}) => ({
  'detail-type': JOB_DETAIL_TYPE,
  id: `evt-${runId}`,
  detail: { job: 'psp-reconciliation', runId, requestedBy: admin.sub!, date: reportDay, ...extra },
});

type Line = Record<string, unknown> & { bucket: string; n: number };
const allLines = async (runId: string, limit = 100) => {
  const out: Line[] = [];
  let cursor: string | undefined;
  do {
    const res = await getRun(finance, runId, { limit: String(limit), ...(cursor ? { cursor } : {}) });
    expect(res.statusCode, res.body).toBe(200);
    const body = bodyOf<{ lines: { items: Line[]; nextCursor?: string; hasMore: boolean } }>(res);
    out.push(...body.lines.items);
    cursor = body.lines.nextCursor;
  } while (cursor);
  return out;
};

describe('psp reconciliation', () => {
  let runId: string;

  it('stores every kind of discrepancy of the report with both sides', async () => {
    runId = await requestRun();
    const out = await job(onDemand(runId));
    expect(out).toEqual({ runId, date: reportDay, discrepancies: 5 });

    const run = await getJobRun('psp-reconciliation', runId);
    expect(run?.status).toBe('succeeded');
    expect(run?.summary).toMatchObject({
      date: reportDay,
      providers: ['sandbox'],
      counts: {
        lines: 5,
        matched: 2,
        amountMismatch: 2,
        missingInLedger: 1,
        missingAtProvider: 1,
        reportInvalid: 1,
        settledEarlier: 1,
        discrepancies: 5,
      },
      totals: {
        USD: {
          settled: '181.01',
          providerFees: '0.50',
          matched: '149.00',
          mismatchReported: '20.01',
          mismatchLedger: '35.00',
          missingInLedger: '12.00',
          missingAtProvider: '30.00',
        },
        EUR: { settled: '15.00', mismatchReported: '15.00' },
      },
      linesStored: 5,
    });

    const lines = await allLines(runId);
    expect(lines.map((l) => [l.n, l.bucket])).toEqual([
      [1, 'report_invalid'],
      [2, 'amount_mismatch'],
      [3, 'amount_mismatch'],
      [4, 'missing_in_ledger'],
      [5, 'missing_at_provider'],
    ]);
    expect(lines[0]).toMatchObject({
      provider: 'sandbox',
      error: { file: `psp/sandbox/${reportDay}/evt-6.csv`, line: 2, column: 'amount', reason: 'invalid_amount' },
    });
    expect(lines[1]).toMatchObject({
      providerRef: refs.amount,
      kind: 'deposit',
      differs: ['amount'],
      reported: { amount: { amount: '20.01', currency: 'USD' }, settledAt, file: `psp/sandbox/${reportDay}/evt-4.csv`, line: 2 },
      ledger: { journalId: journals.amount, amount: { amount: '20.00', currency: 'USD' } },
    });
    expect(lines[2]).toMatchObject({
      providerRef: refs.currency,
      differs: ['currency'],
      reported: { amount: { amount: '15.00', currency: 'EUR' } },
      ledger: { journalId: journals.currency, amount: { amount: '15.00', currency: 'USD' } },
    });
    expect(lines[3]).toMatchObject({
      providerRef: refs.ghost,
      reason: 'no_record',
      reported: { amount: { amount: '12.00', currency: 'USD' } },
    });
    expect(lines[3]).not.toHaveProperty('ledger');
    expect(lines[4]).toMatchObject({
      providerRef: refs.unsettled,
      ledger: { journalId: journals.unsettled, amount: { amount: '30.00', currency: 'USD' } },
    });
    expect(lines[4]).not.toHaveProperty('reported');
    // the matched deposit and payout are counted, not listed
    const listed = lines.map((l) => l.providerRef);
    expect(listed).not.toContain(refs.deposit);
    expect(listed).not.toContain(refs.payout);

    const audit: string[] = [];
    for await (const page of auditItems({ type: 'job', id: 'psp-reconciliation' })) audit.push(...page.map((a) => a.action));
    expect(audit).toContain('job.run.completed');
  });

  it('shows the run with its period and pages through its lines', async () => {
    const res = await getRun(compliance, runId, { limit: '2' });
    expect(res.statusCode, res.body).toBe(200);
    const body = bodyOf<Record<string, unknown> & { lines: { items: Line[]; hasMore: boolean; nextCursor?: string } }>(res);
    expect(body).toMatchObject({
      runId,
      status: 'succeeded',
      trigger: 'on_demand',
      date: reportDay,
      period: {
        report: { from: `${reportDay}T00:00:00.000Z` },
        dueJournals: { from: `${today}T00:00:00.000Z` },
        maxLagDays: 3,
      },
      summary: { counts: { discrepancies: 5 } },
    });
    expect(body.lines.items.map((l) => l.n)).toEqual([1, 2]);
    expect(body.lines.hasMore).toBe(true);
    expect((await allLines(runId, 2)).map((l) => l.n)).toEqual([1, 2, 3, 4, 5]);
    expect((await getRun(admin, runId)).statusCode).toBe(200);
  });

  it('refuses clients and other staff, and answers 404 for an unknown run', async () => {
    for (const claims of [client, sales]) {
      const res = await getRun(claims, runId);
      expect(res.statusCode).toBe(403);
      expect(bodyOf(res).code).toBe('forbidden_role');
    }
    const missing = await getRun(finance, ulid());
    expect(missing.statusCode).toBe(404);
    expect(bodyOf(missing).code).toBe('reconciliation_run_not_found');
  });

  it('re-runs the same date as a new run with the same result, moving no money', async () => {
    const balances = async () =>
      Promise.all([wallet.accountId, houseAccountId('psp_clearing', 'USD'), houseAccountId('fee_income', 'USD')].map(getBalance));
    const before = await balances();

    const again = await job({ detail: { date: reportDay } }); // a scheduled-style run: a fresh run id
    expect(again.runId).not.toBe(runId);
    expect(again.discrepancies).toBe(5);
    const run = await getJobRun('psp-reconciliation', again.runId);
    expect(run).toMatchObject({ status: 'succeeded', trigger: 'schedule' });
    expect((await allLines(again.runId)).map((l) => [l.bucket, l.providerRef])).toEqual(
      (await allLines(runId)).map((l) => [l.bucket, l.providerRef]),
    );
    expect(await balances()).toEqual(before);

    // the same on-demand event delivered twice: the finished run is not run again
    const replay = await job(onDemand(runId));
    expect(replay).toEqual({ runId, date: reportDay, discrepancies: 5 });
    expect((await getJobRun('psp-reconciliation', runId))?.version).toBe(2);
  });

  it('reconciles yesterday by default and records a bad request as a failed run', async () => {
    const yesterday = await job({});
    expect(yesterday.date).toBe(isoDay(Date.now() - DAY_MS));
    expect(yesterday.discrepancies).toBe(0);

    const bad = await requestRun();
    await expect(job(onDemand(bad, { provider: 'nobody' }))).rejects.toMatchObject({ code: 'unknown_provider' });
    const run = await getJobRun('psp-reconciliation', bad);
    expect(run).toMatchObject({ status: 'failed', summary: { error: 'unknown_provider' } });
    const res = await getRun(finance, bad);
    expect(bodyOf<{ status: string; lines: { items: unknown[] } }>(res)).toMatchObject({
      status: 'failed',
      lines: { items: [] },
    });
  });
});
