/**
 * The ledger: postJournal (read balances + one TransactWriteItems of idempotency key, journal,
 * 2 postings, 2 balance updates, audit item + head, outbox) against a raw two-item
 * TransactWriteItems on the same DynamoDB Local in the same run; then the hot-account case (every
 * journal touches one house account) with 1 shard against 8 shards.
 */
import { randomUUID } from 'node:crypto';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { transferJournal } from '#domain/ledger/index.ts';
import { ddb } from '#shared/clients.ts';
import { systemActor } from '#store/audit.ts';
import { type Account, ensureWallet, openAccount, postJournal } from '#store/ledger/index.ts';
import { measure, printComparison, type Stats } from '../lib.ts';

const actor = systemActor('bench');
const ctx = { actor, requestId: 'bench' };
const PAIRS = 32;
/** Ledger figures are slow on DynamoDB Local (4 round trips + a 9-item transaction); BENCH_LEDGER_OPS overrides the cap. */
const ledgerOps = (ops: number) => Number(process.env.BENCH_LEDGER_OPS ?? Math.min(ops, 60));

async function rawTransfer(table: string) {
  const id = randomUUID();
  await ddb().send(
    new TransactWriteCommand({
      TransactItems: ['A', 'B'].map((sk) => ({
        Put: { TableName: table, Item: { pk: `BENCH#${id}`, sk, v: 1 }, ConditionExpression: 'attribute_not_exists(pk)' },
      })),
    }),
  );
}

async function post(from: Account, to: Account, amount = 1n) {
  const id = randomUUID();
  await postJournal({
    draft: transferJournal({ journalId: id, from, to, amount: { amount, currency: from.currency } }),
    idempotency: { scope: 'bench', key: id, requestHash: id },
    actor,
    requestId: 'bench',
  });
}

export async function ledgerSuite(input: { ops: number; concurrencies: number[] }) {
  const opts = { ...input, ops: ledgerOps(input.ops) };
  const table = process.env.TABLE_NAME!;
  const run = randomUUID().slice(0, 8);
  const house = await openAccount(
    { accountId: `bench-src-${run}`, kind: 'suspense', currency: 'USD', ownerId: 'house', noNegative: false },
    ctx,
  );
  const wallets = await Promise.all(Array.from({ length: PAIRS * 2 }, (_, i) => ensureWallet(`bench-${run}-${i}`, 'USD', ctx)));
  const sources = wallets.slice(0, PAIRS);
  const sinks = wallets.slice(PAIRS);
  for (const s of sources) await post(house, s, 10n ** 12n);

  const rows: { subject: Stats; baseline: Stats }[] = [];
  for (const concurrency of opts.concurrencies) {
    const baseline = await measure('raw TransactWrite(2)', { ops: opts.ops, concurrency }, () => rawTransfer(table));
    const subject = await measure('postJournal A->B', { ops: opts.ops, concurrency }, (i) => {
      const k = Math.abs(i) % PAIRS;
      return post(sources[k]!, sinks[k]!);
    });
    rows.push({ subject, baseline });
  }
  console.log('\n## ledger: postJournal (wallet A -> wallet B, distinct pairs) vs raw two-item TransactWriteItems');
  printComparison(rows);

  // Hot account: every journal credits one house account from a distinct wallet.
  const hotOps = Math.max(20, Math.floor(opts.ops / 2));
  const hot: { subject: Stats; baseline: Stats }[] = [];
  for (const concurrency of opts.concurrencies.filter((c) => c > 1)) {
    const one = await openAccount(
      { accountId: `bench-hot1-${run}-${concurrency}`, kind: 'fee_income', currency: 'USD', ownerId: 'house', shards: 1 },
      ctx,
    );
    const eight = await openAccount(
      { accountId: `bench-hot8-${run}-${concurrency}`, kind: 'fee_income', currency: 'USD', ownerId: 'house', shards: 8 },
      ctx,
    );
    const baseline = await measure('hot account, 1 shard', { ops: hotOps, concurrency }, (i) =>
      post(sources[Math.abs(i) % PAIRS]!, one),
    );
    const subject = await measure('hot account, 8 shards', { ops: hotOps, concurrency }, (i) =>
      post(sources[Math.abs(i) % PAIRS]!, eight),
    );
    hot.push({ subject, baseline });
  }
  console.log(`\n## ledger: hot house account (every journal touches it), ${hotOps} ops per figure: 8 shards vs 1 shard`);
  printComparison(hot);
  return { rows, hot };
}
