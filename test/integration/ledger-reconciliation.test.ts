/**
 * The ledger reconciliation job against DynamoDB Local (functions/jobs/ledger-reconciliation.ts):
 * a clean ledger has no findings; each planted defect is found with its exact codes and subjects
 * (a deleted balance item, a consistent rewrite of one side of a journal, a deleted journal, a
 * deleted posting); a hot 8-shard account under concurrent postings gives no false findings.
 * Every case gets a fresh table, because the per-currency check spans the whole ledger.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Account, fxTransferJournal, transferJournal } from '#domain/ledger/index.ts';
import { JOB_DETAIL_TYPE } from '#functions/manifest.ts';
import { ddb } from '#shared/clients.ts';
import { auditItems } from '#store/audit.ts';
import { getJobRun } from '#store/job-runs.ts';
import { ledgerKeys } from '#store/keys.ts';
import { ensureWallet, houseAccount, placeHold, postJournal } from '#store/ledger/index.ts';
import { type ReconciliationFinding, runFindings } from '#store/reconciliation-runs.ts';
import { useTestTable } from '../support/dynamodb.ts';
import { useDemoTenant } from '../support/tenant.ts';

let table: string;
const actor = { id: 'staff-1', role: 'finance' };
const idem = () => ({ scope: 'test', key: randomUUID(), requestHash: 'h' });

beforeAll(() => {
  Object.assign(process.env, {
    TENANT: 'demo',
    EVENT_BUS_NAME: 'bus',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
});
beforeEach(async () => {
  table = await useTestTable('ledger-recon');
  useDemoTenant();
});

async function transfer(from: Account, to: Account, amount: bigint, type: 'deposit' | 'transfer' = 'transfer') {
  const { journal } = await postJournal({
    draft: transferJournal({
      journalId: `${type}-${randomUUID()}`,
      from,
      to,
      amount: { amount, currency: to.currency },
      type,
    }),
    idempotency: idem(),
    actor,
    requestId: 'req-test',
  });
  return journal;
}

/** Two clients' wallets, funded, a transfer between them, an FX transfer and an open hold. */
async function seed() {
  const ctx = { actor, requestId: 'req-test' };
  const a = `client-${randomUUID().slice(0, 8)}`;
  const b = `client-${randomUUID().slice(0, 8)}`;
  const aUsd = await ensureWallet(a, 'USD', ctx);
  const aEur = await ensureWallet(a, 'EUR', ctx);
  const bUsd = await ensureWallet(b, 'USD', ctx);
  const psp = await houseAccount('psp_clearing', 'USD');
  const deposit = await transfer(psp, aUsd, 50_000n, 'deposit');
  const toB = await transfer(aUsd, bUsd, 1_000n); // 10.00 USD: bUsd's only posting
  const { journal: fx } = await postJournal({
    draft: fxTransferJournal({
      journalId: `fx-${randomUUID()}`,
      from: aUsd,
      to: aEur,
      fxFrom: await houseAccount('fx_position', 'USD'),
      fxTo: await houseAccount('fx_position', 'EUR'),
      amount: { amount: 12_345n, currency: 'USD' },
      rate: '0.9137',
      rateSource: 'test',
      rateAt: new Date().toISOString(),
    }),
    idempotency: idem(),
    actor,
    requestId: 'req-test',
  });
  await placeHold({
    accountId: aUsd.accountId,
    amount: { amount: 700n, currency: 'USD' },
    expiresAt: new Date(Date.now() + 3_600_000),
    idempotency: idem(),
    actor,
    requestId: 'req-test',
  });
  return { clientA: a, clientB: b, aUsd, aEur, bUsd, psp, deposit, toB, fx };
}

/** Runs the job (on-demand event) and returns its counts and stored findings. */
async function runJob() {
  const { handler } = await import('#functions/jobs/ledger-reconciliation.ts');
  const runId = ulid();
  const out = await handler({
    'detail-type': JOB_DETAIL_TYPE,
    id: `evt-${runId}`,
    detail: { job: 'ledger-reconciliation', runId, requestedBy: 'admin-1' },
  });
  const findings = (await runFindings(runId, 100)).items;
  expect(findings).toHaveLength(out.findings);
  return { out, findings, runId };
}

const codes = (findings: ReconciliationFinding[]) => findings.map((f) => `${f.code} ${f.subject.type}:${f.subject.id}`).sort();

async function postingsOf(accountId: string, shard = 0) {
  const res = await ddb().send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': ledgerKeys.postingPartition(accountId, shard) },
      ConsistentRead: true,
    }),
  );
  return (res.Items ?? []) as { pk: string; sk: string; journalId: string; amount: number; seq: number }[];
}

describe('ledger reconciliation', () => {
  it('finds nothing on a clean ledger after transfers, an FX transfer and a hold, and records the run', async () => {
    await seed();
    const { out, findings, runId } = await runJob();
    expect(findings).toEqual([]);
    expect(out).toMatchObject({ runId, findings: 0, holdsChecked: 1, holdsExpired: 0 });
    // 3 wallets + psp_clearing USD + fx_position USD and EUR
    expect(out.accountsChecked).toBe(6);
    expect(out.journalsChecked).toBe(3);
    // deposit 2 + transfer 2 + fx 4
    expect(out.postingsChecked).toBe(8);
    expect(await getJobRun('ledger-reconciliation', runId)).toMatchObject({
      status: 'succeeded',
      summary: { findings: 0, accountsChecked: 6, journalsChecked: 3 },
    });
  });

  it('finds a deleted balance item (missing_balance) and the ledger-wide imbalance it leaves', async () => {
    const { aUsd, clientA } = await seed();
    await ddb().send(new DeleteCommand({ TableName: table, Key: ledgerKeys.balance(aUsd.accountId, 0) }));
    const { findings } = await runJob();
    expect(codes(findings)).toEqual([
      `currency_unbalanced ledger-currency:USD`,
      `missing_balance ledger-account:${aUsd.accountId}`,
    ]);
    expect(findings.find((f) => f.code === 'missing_balance')).toMatchObject({
      clientId: clientA,
      expected: '1',
      actual: '0',
      detail: { shards: '0' },
    });
    // aUsd held 50000 - 1000 - 12345 = 36655: the other ledgers sum to its negative
    expect(findings.find((f) => f.code === 'currency_unbalanced')?.detail).toEqual({
      currency: 'USD',
      ledgerSum: '-36655',
      postingSum: '0',
    });
  });

  it('finds a missing shard of a sharded account (missing_shard)', async () => {
    const { psp, deposit } = await seed();
    // a shard the deposit did not touch (its ledger is 0, so the currency sums still balance)
    const shard = (deposit.postings.find((p) => p.accountId === psp.accountId)!.shard + 1) % 8;
    await ddb().send(new DeleteCommand({ TableName: table, Key: ledgerKeys.balance(psp.accountId, shard) }));
    const { findings } = await runJob();
    expect(codes(findings)).toEqual([`missing_shard ledger-account:${psp.accountId}`]);
    expect(findings[0]).toMatchObject({ expected: '8', actual: '7', detail: { shards: String(shard) } });
  });

  it('finds a consistent rewrite of one posting and its balance (10.00 -> 10,010.00 USD): currency_unbalanced + posting_mismatch', async () => {
    const { bUsd, toB } = await seed();
    const [posting] = await postingsOf(bUsd.accountId);
    expect(posting?.journalId).toBe(toB.journalId);
    await ddb().send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: posting!.pk, sk: posting!.sk },
        UpdateExpression: 'SET amount = :v, balanceAfter = :v',
        ExpressionAttributeValues: { ':v': 1_001_000 },
      }),
    );
    await ddb().send(
      new UpdateCommand({
        TableName: table,
        Key: ledgerKeys.balance(bUsd.accountId, 0),
        UpdateExpression: 'SET ledger = :v, available = :v',
        ExpressionAttributeValues: { ':v': 1_001_000 },
      }),
    );
    const { findings } = await runJob();
    expect(codes(findings)).toEqual([
      'currency_unbalanced ledger-currency:USD',
      `posting_mismatch ledger-journal:${toB.journalId}`,
    ]);
    expect(findings.find((f) => f.code === 'currency_unbalanced')?.detail).toEqual({
      currency: 'USD',
      ledgerSum: '1000000',
      postingSum: '1000000',
    });
    expect(findings.find((f) => f.code === 'posting_mismatch')).toMatchObject({
      expected: '1000 USD',
      actual: '1001000 USD',
      detail: { accountId: bUsd.accountId, shard: '0', seq: '1', fields: 'amount,balanceAfter' },
    });
  });

  it('finds a deleted journal item (journal_missing) from its postings', async () => {
    const { toB, fx } = await seed();
    await ddb().send(new DeleteCommand({ TableName: table, Key: ledgerKeys.journal(fx.journalId) }));
    const { findings, out } = await runJob();
    expect(codes(findings)).toEqual([`journal_missing ledger-journal:${fx.journalId}`]);
    expect(out.journalsChecked).toBe(2);
    expect(toB.journalId).not.toBe(fx.journalId);
  });

  it('finds a deleted posting: posting_missing, balance_mismatch, seq_gap and the currency imbalance', async () => {
    const { bUsd, toB, clientB } = await seed();
    const [posting] = await postingsOf(bUsd.accountId);
    await ddb().send(new DeleteCommand({ TableName: table, Key: { pk: posting!.pk, sk: posting!.sk } }));
    const { findings } = await runJob();
    expect(codes(findings)).toEqual([
      `balance_mismatch ledger-account:${bUsd.accountId}`,
      'currency_unbalanced ledger-currency:USD',
      `posting_missing ledger-journal:${toB.journalId}`,
      `seq_gap ledger-account:${bUsd.accountId}`,
    ]);
    expect(findings.find((f) => f.code === 'balance_mismatch')).toMatchObject({
      clientId: clientB,
      expected: '0',
      actual: '1000',
      detail: { shard: '0', seq: '1' },
    });
    expect(findings.find((f) => f.code === 'currency_unbalanced')?.detail).toEqual({
      currency: 'USD',
      ledgerSum: '0',
      postingSum: '-1000',
    });
    // audited in the client's trail
    const trail = [];
    for await (const page of auditItems({ type: 'ledger-account', id: bUsd.accountId })) trail.push(...page);
    expect(trail.at(-1)).toMatchObject({ action: 'ledger.reconciliation.finding', clientId: clientB });
  });

  it('gives no false findings on a hot 8-shard account under concurrent postings, and a second run is clean', async () => {
    const { psp } = await seed();
    expect(psp.shards).toBe(8);
    const ctx = { actor, requestId: 'req-test' };
    const wallets = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ensureWallet(`hot-${i}-${randomUUID().slice(0, 6)}`, 'USD', ctx)),
    );
    for (const w of wallets) await transfer(psp, w, 10_000n, 'deposit');
    let stop = false;
    let posted = 0;
    // Bounded, so the run's work (which grows with every posting) cannot outgrow the test on a slow machine.
    const worker = async (n: number) => {
      for (let i = 0; !stop && i < 40; i++) {
        const w = wallets[(n + i) % wallets.length]!;
        if (i % 3 === 2) await transfer(w, wallets[(n + i + 1) % wallets.length]!, 1n);
        else await transfer(psp, w, BigInt(1 + ((n * 7 + i) % 90)), 'deposit');
        posted++;
      }
    };
    const workers = Array.from({ length: 6 }, (_, n) => worker(n));
    try {
      await new Promise((r) => setTimeout(r, 300));
      const before = posted;
      const during = await runJob();
      expect(posted).toBeGreaterThan(before); // the run really overlapped with postings
      expect(during.findings).toEqual([]);
      expect(during.out.accountsChecked).toBe(12);
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    const after = await runJob();
    expect(after.findings).toEqual([]);
    // every journal has 2 postings but the FX one (4)
    expect(after.out.postingsChecked).toBe(2 * after.out.journalsChecked + 2);
    expect(after.out.journalsChecked).toBeGreaterThan(3 + 6 + 10);
  }, 180_000);
});
