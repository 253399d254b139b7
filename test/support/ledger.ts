/**
 * Ledger helpers shared by the ledger store tests: funding a wallet with a deposit journal, and checking
 * an account's postings are gap-free and sum to its balance.
 */
import { randomUUID } from 'node:crypto';
import { expect, onTestFinished } from 'vitest';
import { type Account, transferJournal } from '#domain/ledger/index.ts';
import { getBalance, houseAccount, postJournal, sumPostings } from '#store/ledger/index.ts';
import { contention } from '#store/ledger/serialised.ts';

/** Deposits `amount` (minor units) into `to` from the PSP clearing account. */
export async function fund(to: Account, amount: bigint, actor = { id: 'staff-1', role: 'finance' }) {
  const psp = await houseAccount('psp_clearing', to.currency);
  return postJournal({
    draft: transferJournal({
      journalId: `dep-${randomUUID()}`,
      from: psp,
      to,
      amount: { amount, currency: to.currency },
      type: 'deposit',
    }),
    idempotency: { scope: 'test', key: randomUUID(), requestHash: 'h' },
    actor,
    requestId: 'req-fund',
  });
}

/** Per shard: seqs without gaps and running balances that add up; the balance equals the postings' sum. */
export async function assertGapFree(accountId: string) {
  const s = await sumPostings(accountId);
  for (const sh of s.shards) {
    expect(sh.seqBreakAt).toBeUndefined();
    expect(sh.runningBalanceBreakAt).toBeUndefined();
  }
  const b = await getBalance(accountId);
  expect(b.ledger).toBe(s.sum);
  expect(b.seq).toBe(s.count);
  return s;
}

const DEFAULT_WAIT_DEADLINE_MS = contention.waitDeadlineMs;

/**
 * For the rest of the current test, queued journals wait as long as it takes instead of withdrawing after
 * the production deadline (load shedding, tested on its own in ledger-contention.test.ts): a concurrency test
 * on a slow, shared CI machine then checks the ledger's outcomes rather than the machine's speed.
 */
export function liftWaitDeadline(ms = 120_000) {
  contention.waitDeadlineMs = ms;
  onTestFinished(() => {
    contention.waitDeadlineMs = DEFAULT_WAIT_DEADLINE_MS;
  });
}
