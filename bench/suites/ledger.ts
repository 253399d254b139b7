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
/** Distinct source->sink pairs: at least 4x the highest concurrency, so concurrent journals never share a wallet (the figure is the uncontended cost; contention has its own figures). */
const PAIRS = 128;
/** Ledger figures are slow on DynamoDB Local (a read + a 9-item transaction); BENCH_LEDGER_OPS overrides the cap. */
const ledgerOps = (ops: number) => Number(process.env.BENCH_LEDGER_OPS ?? Math.min(ops, 200));
/**
 * Unmeasured operations of each kind before the first figure. DynamoDB Local's JVM reaches its compiled code
 * only after a few thousand requests: with 20 warm-up operations the first figures measured the JIT (46 ms per
 * journal at one writer against 23 ms once warm), and whichever kind ran first paid for it.
 */
const WARMUP_OPS = Number(process.env.BENCH_LEDGER_WARMUP ?? 600);

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

/**
 * The same number of items as a two-posting journal, of about the same sizes and index attributes (measured
 * from a journal's TransactWriteItems: idempotency key 0.5 KB, journal 1 KB with gsi1, 2 postings 0.6 KB, 2
 * balances 0.55 KB, audit item 1.1 KB with gsi1, audit head 0.55 KB with gsi2, outbox 0.9 KB with gsi2), as
 * plain Puts: what DynamoDB Local charges for a journal's writes alone, without the ledger's read and logic.
 */
const SHAPE: { bytes: number; gsi?: 'gsi1' | 'gsi2' }[] = [
  { bytes: 400 },
  { bytes: 850, gsi: 'gsi1' },
  { bytes: 480 },
  { bytes: 480 },
  { bytes: 450 },
  { bytes: 420 },
  { bytes: 950, gsi: 'gsi1' },
  { bytes: 400, gsi: 'gsi2' },
  { bytes: 750, gsi: 'gsi2' },
];
async function rawJournalShaped(table: string) {
  const id = randomUUID();
  await ddb().send(
    new TransactWriteCommand({
      TransactItems: SHAPE.map((item, k) => ({
        Put: {
          TableName: table,
          Item: {
            pk: `BENCHJ#${id}#${k}`,
            sk: 'X',
            pad: 'x'.repeat(item.bytes),
            ...(item.gsi
              ? { [`${item.gsi}pk`]: `BENCHJ#${k % 16}`, [`${item.gsi}sk`]: `${new Date().toISOString()}#${id}` }
              : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
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

/**
 * `settle` waits until the runtime's event pipeline (stream relay, outbox relay, bus, queues) is idle. Each
 * figure starts from an idle pipeline: journals publish an event each and the raw baseline does not, so without
 * it a figure would also pay for the backlog the previous figure left (in AWS the relay runs on its own Lambdas;
 * here it shares the 2 cores). The pipeline still runs during each figure for that figure's own journals.
 */
export async function ledgerSuite(input: { ops: number; concurrencies: number[]; settle: () => Promise<void> }) {
  const opts = { ...input, ops: ledgerOps(input.ops) };
  const table = process.env.TABLE_NAME!;
  const run = randomUUID().slice(0, 8);
  const house = await openAccount(
    { accountId: `bench-src-${run}`, kind: 'suspense', currency: 'USD', ownerId: 'house', noNegative: false },
    ctx,
  );
  const wallets: Account[] = [];
  for (let i = 0; i < PAIRS * 2; i += 32) {
    const ids = Array.from({ length: 32 }, (_, k) => `bench-${run}-${i + k}`);
    wallets.push(...(await Promise.all(ids.map((id) => ensureWallet(id, 'USD', ctx)))));
  }
  const sources = wallets.slice(0, PAIRS);
  const sinks = wallets.slice(PAIRS);
  for (const s of sources) await post(house, s, 10n ** 12n);

  const pair = (i: number) => {
    const k = Math.abs(i) % PAIRS;
    return post(sources[k]!, sinks[k]!);
  };
  await measure('warm-up raw', { ops: WARMUP_OPS, concurrency: 8, warmup: 0 }, () => rawTransfer(table));
  await measure('warm-up raw journal-shaped', { ops: WARMUP_OPS / 2, concurrency: 8, warmup: 0 }, () => rawJournalShaped(table));
  await measure('warm-up postJournal', { ops: WARMUP_OPS, concurrency: 8, warmup: 0 }, pair);
  await input.settle();

  const rows: { subject: Stats; baseline: Stats }[] = [];
  const shaped: { subject: Stats; baseline: Stats }[] = [];
  for (const concurrency of opts.concurrencies) {
    const baseline = await measure('raw TransactWrite(2)', { ops: opts.ops, concurrency }, () => rawTransfer(table));
    await input.settle();
    const nine = await measure('raw TransactWrite(9), journal-shaped', { ops: opts.ops, concurrency }, () =>
      rawJournalShaped(table),
    );
    await input.settle();
    const subject = await measure('postJournal A->B', { ops: opts.ops, concurrency }, pair);
    await input.settle();
    rows.push({ subject, baseline });
    shaped.push({ subject, baseline: nine });
  }
  console.log('\n## ledger: postJournal (wallet A -> wallet B, distinct pairs) vs raw two-item TransactWriteItems');
  printComparison(rows);
  console.log('\n## ledger: the same postJournal figures vs a raw TransactWriteItems of 9 journal-shaped items (same run)');
  printComparison(shaped);

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
    await input.settle();
    const subject = await measure('hot account, 8 shards', { ops: hotOps, concurrency }, (i) =>
      post(sources[Math.abs(i) % PAIRS]!, eight),
    );
    await input.settle();
    hot.push({ subject, baseline });
  }
  console.log(`\n## ledger: hot house account (every journal touches it), ${hotOps} ops per figure: 8 shards vs 1 shard`);
  printComparison(hot);
  return { rows, hot };
}
