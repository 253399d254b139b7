/**
 * Contended accounts (functions/store/ledger/serialised.ts, ADR 0012) against DynamoDB Local: a burst
 * on one wallet is queued and applied in batches, with the same outcomes the fast path gives, and
 * nothing is lost or applied twice when waiters time out, combiners crash or two combiners overlap.
 */
import { randomUUID } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DomainError } from '#domain/errors.ts';
import { type Account, transferJournal } from '#domain/ledger/index.ts';
import { ddb } from '#shared/clients.ts';
import { ledgerKeys } from '#store/keys.ts';
import { ensureWallet, getBalance, getJournal, postJournal } from '#store/ledger/index.ts';
import type { PostJournalInput } from '#store/ledger/journals.ts';
import { __test, contention } from '#store/ledger/serialised.ts';
import { useTestTable } from '../support/dynamodb.ts';
import { assertGapFree, fund, liftWaitDeadline } from '../support/ledger.ts';

let table: string;
beforeAll(async () => {
  table = await useTestTable('ledger-contention');
});
const defaults = { ...contention };
afterEach(() => {
  Object.assign(contention, defaults);
  vi.restoreAllMocks();
});

const actor = { id: 'client-1', role: 'client' };
const ctx = { actor, requestId: 'req-test' };
const usd = (amount: bigint) => ({ amount, currency: 'USD' });
const outcome = async (p: Promise<{ replayed: boolean }>) => {
  try {
    return (await p).replayed ? 'replayed' : 'posted';
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
};

const transfer = (from: Account, to: Account, amount: bigint, key: string = randomUUID(), hash = 'h'): PostJournalInput => ({
  draft: transferJournal({ journalId: `tr-${key}`, from, to, amount: usd(amount) }),
  idempotency: { scope: 'test', key, requestHash: hash },
  actor,
  requestId: `req-${key}`,
  clientId: from.ownerId,
});

async function queued(accountId: string) {
  const res = await ddb().send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :p',
      ExpressionAttributeValues: { ':p': ledgerKeys.commandQueuePartition(accountId) },
      ConsistentRead: true,
    }),
  );
  return res.Items ?? [];
}

async function idempotencyItems(prefix: string) {
  const res = await ddb().send(
    new ScanCommand({
      TableName: table,
      FilterExpression: 'begins_with(pk, :p)',
      ExpressionAttributeValues: { ':p': `LIDEM#test#${prefix}` },
      ConsistentRead: true,
    }),
  );
  return res.Items ?? [];
}

async function pair(funds: bigint) {
  const run = randomUUID();
  const a = await ensureWallet(`ca-${run}`, 'USD', ctx);
  const b = await ensureWallet(`cb-${run}`, 'USD', ctx);
  if (funds > 0n) await fund(a, funds, actor);
  return { run, a, b };
}

describe('a burst of 40 transfers out of one wallet funded for 33', () => {
  it('posts exactly 33, refuses 7 with insufficient_funds, goes through the queue and leaves it empty', async () => {
    liftWaitDeadline(); // load shedding is tested on its own below
    const { run, a, b } = await pair(3300n);
    const keys = Array.from({ length: 40 }, (_, i) => `burst-${run}-${i}`);
    const results = await Promise.all(keys.map((k) => outcome(postJournal(transfer(a, b, 100n, k)))));
    expect(results.filter((r) => r === 'posted')).toHaveLength(33);
    expect(results.filter((r) => r === 'insufficient_funds')).toHaveLength(7);
    expect(await getBalance(a.accountId)).toMatchObject({ ledger: 0n, held: 0n, available: 0n, seq: 34 });
    expect((await getBalance(b.accountId)).ledger).toBe(3300n);
    await assertGapFree(a.accountId);
    await assertGapFree(b.accountId);
    // the burst was serialised: some journals were applied by a combiner (their key names the command)
    const idems = await idempotencyItems(`burst-${run}-`);
    expect(idems).toHaveLength(33);
    expect(idems.filter((i) => typeof i.commandId === 'string').length).toBeGreaterThan(0);
    expect(await queued(a.accountId)).toEqual([]);
  }, 180_000);

  it('duplicates inside the burst (4 requests per key) post once per key; the others replay it', async () => {
    liftWaitDeadline();
    const { run, a, b } = await pair(100_000n);
    const inputs = Array.from({ length: 40 }, (_, i) => transfer(a, b, 100n, `dup-${run}-${i % 10}`, `hash-${i % 10}`));
    const results = await Promise.all(inputs.map((x) => outcome(postJournal(x))));
    expect(results.filter((r) => r === 'posted')).toHaveLength(10);
    expect(results.filter((r) => r === 'replayed')).toHaveLength(30);
    expect((await getBalance(a.accountId)).ledger).toBe(100_000n - 1000n);
    expect((await getBalance(b.accountId)).seq).toBe(10);
    await assertGapFree(a.accountId);
  }, 180_000);

  it('a reused key with another body is refused from the queue too', async () => {
    const { run, a, b } = await pair(10_000n);
    const key = `reuse-${run}`;
    const results = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => outcome(postJournal(transfer(a, b, 100n, `reuse-other-${run}-${i}`)))),
      outcome(postJournal(transfer(a, b, 100n, key, 'first'))),
      outcome(
        postJournal({
          ...transfer(a, b, 200n, key, 'second'),
          draft: transferJournal({ journalId: `x-${run}`, from: a, to: b, amount: usd(200n) }),
        }),
      ),
    ]);
    const last = results.slice(10);
    expect(last.sort()).toEqual(['idempotency_key_reused', 'posted']);
    await assertGapFree(a.accountId);
  }, 180_000);
});

describe('crashes and timeouts', () => {
  it('a combiner that died holding the lease delays its queue until the lease expires; then a waiter applies it', async () => {
    contention.leaseMs = 1_500;
    const { run, a, b } = await pair(1_000n);
    expect(await __test.tryLease(a.accountId, 'dead-combiner')).toBe(true);
    const started = Date.now();
    const res = await postJournal(transfer(a, b, 100n, `after-crash-${run}`));
    expect(res.replayed).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect((await getBalance(b.accountId)).ledger).toBe(100n);
    expect(await queued(a.accountId)).toEqual([]);
  }, 60_000);

  it('a waiter that times out withdraws its command: 409 account_busy and nothing posted, ever', async () => {
    contention.leaseMs = 60_000;
    contention.waitDeadlineMs = 800;
    const { run, a, b } = await pair(1_000n);
    expect(await __test.tryLease(a.accountId, 'stuck-combiner')).toBe(true);
    expect(await outcome(postJournal(transfer(a, b, 100n, `timeout-${run}`)))).toBe('account_busy');
    expect(await queued(a.accountId)).toEqual([]);
    // even a combiner running now finds nothing to apply
    await __test.combine(a.accountId, 'stuck-combiner', 'none');
    expect((await getBalance(b.accountId)).ledger).toBe(0n);
    expect(await getJournal(`tr-timeout-${run}`)).toBeUndefined();
  }, 60_000);

  it('a command queued by a waiter that crashed is applied exactly once by the next combiner', async () => {
    const { run, a, b } = await pair(1_000n);
    const orphan = transfer(a, b, 300n, `orphan-${run}`);
    await __test.enqueue(orphan, a.accountId); // its waiter is gone
    const res = await Promise.all([
      postJournal(transfer(a, b, 100n, `next-${run}`)),
      postJournal(transfer(a, b, 100n, `next2-${run}`)),
    ]);
    expect(res.every((r) => !r.replayed)).toBe(true);
    // the orphan is applied by whichever combiner reads the queue (now or at the latest with the next command)
    if (await queued(a.accountId).then((q) => q.length > 0)) {
      expect(await __test.tryLease(a.accountId, 'sweeper')).toBe(true);
      await __test.combine(a.accountId, 'sweeper', 'none');
    }
    expect(await getJournal(`tr-orphan-${run}`)).toBeDefined();
    expect((await getBalance(b.accountId)).ledger).toBe(500n);
    await assertGapFree(a.accountId);
  }, 60_000);

  it('two combiners applying the same queue at once (an expired lease) apply every command once', async () => {
    const { run, a, b } = await pair(10_000n);
    const inputs = Array.from({ length: 12 }, (_, i) => transfer(a, b, 100n, `overlap-${run}-${i}`));
    for (const x of inputs) await __test.enqueue(x, a.accountId);
    // c1 takes the lease, it lapses, c2 takes it over: both believe they hold it and start at once
    contention.leaseMs = 1;
    expect(await __test.tryLease(a.accountId, 'c1')).toBe(true);
    await new Promise((r) => setTimeout(r, 5));
    expect(await __test.tryLease(a.accountId, 'c2')).toBe(true);
    contention.leaseMs = defaults.leaseMs;
    await Promise.all([__test.combine(a.accountId, 'c1', 'none'), __test.combine(a.accountId, 'c2', 'none')]);
    expect(await queued(a.accountId)).toEqual([]);
    expect((await getBalance(b.accountId)).ledger).toBe(1_200n);
    expect((await getBalance(a.accountId)).seq).toBe(13);
    await assertGapFree(a.accountId);
    await assertGapFree(b.accountId);
  }, 60_000);

  it('on AWS a TransactionConflict on a balance sends the journal to the queue instead of retrying blindly', async () => {
    const { run, a, b } = await pair(1_000n);
    const send = ddb().send.bind(ddb());
    let conflicts = 0;
    vi.spyOn(ddb(), 'send').mockImplementation((async (cmd: unknown) => {
      if (cmd instanceof TransactWriteCommand && conflicts === 0) {
        conflicts++;
        const n = cmd.input.TransactItems?.length ?? 0;
        throw new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: Array.from({ length: n }, (_, i) => ({ Code: i === 5 ? 'TransactionConflict' : 'None' })),
        });
      }
      return send(cmd as never);
    }) as never);
    const res = await postJournal(transfer(a, b, 100n, `conflict-${run}`));
    expect(conflicts).toBe(1);
    expect(res.replayed).toBe(false);
    const [idem] = await idempotencyItems(`conflict-${run}`);
    expect(typeof idem?.commandId).toBe('string'); // applied by a combiner
    expect((await getBalance(b.accountId)).ledger).toBe(100n);
  }, 60_000);
});

describe('queued commands round-trip exactly', () => {
  it('bigints, metadata and optional fields survive the queue encoding', () => {
    const a = { accountId: 'wal_a_USD', currency: 'USD' } as Account;
    const b = { accountId: 'wal_b_USD', currency: 'USD' } as Account;
    const input = transfer(a, b, 12_345_678_901_234_567_890n, 'k');
    input.draft.metadata = { nested: { list: [1, 'two'] }, note: 'é' };
    expect(__test.decode(__test.encode(input))).toEqual(input);
  });
});
