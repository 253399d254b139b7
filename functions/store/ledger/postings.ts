/**
 * Reading postings: account history pages, statements, balance-as-of and reconciliation sums.
 *
 * Invariants:
 * - postings are read from the account's shard partitions; within a shard the sort key
 *   P#<postedAt>#<seq> orders by time and by seq at once (postedAt never decreases with seq)
 * - history order across shards is (postedAt, shard, seq); listPostings pages newest first with a
 *   cursor that is exclusive, names the account, and is validated (invalid_cursor, 400)
 * - time ranges are inclusive at both ends: [from, to]; balanceAsOf(at) counts postings at or before `at`
 * - balanceAsOf sums, per shard, the running balance of the shard's last posting at or before `at`
 *   (never snapshots); sumPostings re-adds every posting and checks seqs and running balances
 * - reconciliation reads postings and journals by key (readPostings, readJournals: strongly consistent
 *   BatchGets), so a missing item is a finding, never an eventually consistent miss
 */

import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '#domain/errors.ts';
import type { JournalType, PostedJournal } from '#domain/ledger/index.ts';
import { tableName } from '../items.ts';
import { ledgerKeys } from '../keys.ts';
import { encodeCursor, type Page } from '../pagination.ts';
import { accountFacts } from './accounts.ts';
import { batchGet, big, int, keyId, ledgerDdb, optStr, queryAll, unwrap } from './codec.ts';
import { toPostedJournal } from './journals.ts';

export interface PostingView {
  accountId: string;
  shard: number;
  seq: number;
  journalId: string;
  type: JournalType;
  /** Signed minor units (+ = into the account). */
  amount: bigint;
  currency: string;
  /** The shard's ledger balance after this posting (the account's, when it has one shard). */
  balanceAfter: bigint;
  postedAt: string;
  reference?: string | undefined;
  description?: string | undefined;
  metadata: Record<string, unknown>;
}

export const MAX_PAGE = 500;

export function toPostingView(item: Record<string, unknown>): PostingView {
  return {
    accountId: String(item.accountId),
    shard: int(item.shard),
    seq: int(item.seq),
    journalId: String(item.journalId),
    type: item.journalType as JournalType,
    amount: big(item.amount),
    currency: String(item.currency),
    balanceAfter: big(item.balanceAfter),
    postedAt: String(item.postedAt),
    reference: optStr(item.reference),
    description: optStr(item.description),
    metadata: (unwrap(item.metadata) ?? {}) as Record<string, unknown>,
  };
}

async function shardsOf(accountId: string): Promise<number> {
  const f = (await accountFacts([accountId])).get(accountId);
  if (!f) throw new DomainError('account_not_found', 'not_found', 'No such account', [], { accountId });
  return f.shards;
}

/** Sort-key bounds for [from, to]. */
const lowerSk = (from?: Date) => (from ? ledgerKeys.postingSk(from.toISOString()) : ledgerKeys.postingPrefix);
const upperSk = (to?: Date) => (to ? `${ledgerKeys.postingSk(to.toISOString())}#~` : `${ledgerKeys.postingPrefix}~`);

interface CursorPos {
  a: string;
  t: string;
  s: number;
  q: number;
}
const invalidCursor = () => new DomainError('invalid_cursor', 'validation', 'The cursor is not valid for this list');

function decodePos(cursor: string, accountId: string, shards: number): CursorPos {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  const c = v as CursorPos;
  if (
    !c ||
    typeof c !== 'object' ||
    c.a !== accountId ||
    typeof c.t !== 'string' ||
    !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(c.t) ||
    !Number.isSafeInteger(c.s) ||
    c.s < 0 ||
    c.s >= shards ||
    !Number.isSafeInteger(c.q) ||
    c.q < 1
  ) {
    throw invalidCursor();
  }
  return c;
}

/** Composite order key across shards: (postedAt, shard, seq). */
const order = (p: PostingView) => `${p.postedAt}#${String(p.shard).padStart(3, '0')}#${String(p.seq).padStart(12, '0')}`;

/** One page of an account's postings, newest first, optionally within [from, to]. */
export async function listPostings(
  accountId: string,
  opts: { from?: Date; to?: Date; cursor?: string | undefined; limit: number },
): Promise<Page<PostingView>> {
  const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(opts.limit)));
  const shards = await shardsOf(accountId);
  const pos = opts.cursor ? decodePos(opts.cursor, accountId, shards) : undefined;
  const lo = lowerSk(opts.from);
  let candidates: PostingView[] = [];
  let cutoff = '';
  let truncated = false;
  await Promise.all(
    Array.from({ length: shards }, async (_, shard) => {
      let hi = upperSk(opts.to);
      if (pos) {
        const bound =
          shard < pos.s
            ? `${ledgerKeys.postingSk(pos.t)}#~`
            : shard === pos.s
              ? ledgerKeys.postingSk(pos.t, pos.q)
              : ledgerKeys.postingSk(pos.t);
        if (bound < hi) hi = bound;
      }
      if (hi < lo) return;
      const res = await ledgerDdb().send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues: { ':pk': ledgerKeys.postingPartition(accountId, shard), ':lo': lo, ':hi': hi },
          ScanIndexForward: false,
          Limit: limit + 2,
        }),
      );
      const rows = (res.Items ?? []).map((i) => toPostingView(i as Record<string, unknown>));
      // BETWEEN is inclusive: drop the cursor's own posting
      const kept = pos && shard === pos.s ? rows.filter((r) => !(r.postedAt === pos.t && r.seq === pos.q)) : rows;
      candidates.push(...kept);
      if (res.LastEvaluatedKey && rows.length > 0) {
        truncated = true;
        const last = order(rows[rows.length - 1]!);
        if (last > cutoff) cutoff = last;
      }
    }),
  );
  // a shard that stopped early (page or 1 MB limit) may hold older postings than other shards' rows
  if (cutoff) candidates = candidates.filter((p) => order(p) >= cutoff);
  candidates.sort((x, y) => (order(x) < order(y) ? 1 : order(x) > order(y) ? -1 : 0));
  const items = candidates.slice(0, limit);
  const hasMore = candidates.length > limit || truncated;
  if (!hasMore || items.length === 0) return { items, hasMore: false };
  const last = items[items.length - 1]!;
  return { items, hasMore: true, nextCursor: encodeCursor({ a: accountId, t: last.postedAt, s: last.shard, q: last.seq }) };
}

async function* shardAscending(accountId: string, shard: number, from?: Date, to?: Date): AsyncGenerator<PostingView> {
  for await (const page of queryAll({
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
    ExpressionAttributeValues: { ':pk': ledgerKeys.postingPartition(accountId, shard), ':lo': lowerSk(from), ':hi': upperSk(to) },
    ScanIndexForward: true,
    ConsistentRead: true,
    Limit: 500,
  })) {
    for (const item of page) yield toPostingView(item);
  }
}

/** Every posting of the account in [from, to], oldest first (merged across shards), for statements. */
export async function* allPostings(accountId: string, from?: Date, to?: Date): AsyncGenerator<PostingView> {
  const shards = await shardsOf(accountId);
  const its = Array.from({ length: shards }, (_, s) => shardAscending(accountId, s, from, to));
  const heads = await Promise.all(its.map((it) => it.next()));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (h.done) continue;
      if (best < 0 || order(h.value) < order((heads[best] as IteratorYieldResult<PostingView>).value)) best = i;
    }
    if (best < 0) return;
    yield (heads[best] as IteratorYieldResult<PostingView>).value;
    heads[best] = await its[best]!.next();
  }
}

/** The account's ledger balance at `at` (postings at or before it), from the postings' running balances. */
export async function balanceAsOf(accountId: string, at: Date): Promise<bigint> {
  const shards = await shardsOf(accountId);
  const parts = await Promise.all(
    Array.from({ length: shards }, async (_, shard) => {
      const res = await ledgerDdb().send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues: {
            ':pk': ledgerKeys.postingPartition(accountId, shard),
            ':lo': ledgerKeys.postingPrefix,
            ':hi': upperSk(at),
          },
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: 1,
        }),
      );
      const item = res.Items?.[0];
      return item ? big(item.balanceAfter) : 0n;
    }),
  );
  return parts.reduce((a, b) => a + b, 0n);
}

export interface ShardPostingSummary {
  shard: number;
  sum: bigint;
  count: number;
  lastSeq: number;
  /** balanceAfter of the last posting (0 when none). */
  lastBalanceAfter: bigint;
  /** First seq where seqs stop running 1, 2, 3, ... (undefined when gap-free). */
  seqBreakAt?: number;
  /** First seq whose balanceAfter != previous balanceAfter + amount (undefined when consistent). */
  runningBalanceBreakAt?: number;
}

export interface PostingSummary {
  /** Sum of every posting of the account (all shards). */
  sum: bigint;
  count: number;
  shards: ShardPostingSummary[];
}

/** Re-adds every posting of the account and checks each shard's seqs and running balances. */
export async function sumPostings(accountId: string): Promise<PostingSummary> {
  const n = await shardsOf(accountId);
  const shards = await Promise.all(
    Array.from({ length: n }, async (_, shard): Promise<ShardPostingSummary> => {
      const s: ShardPostingSummary = { shard, sum: 0n, count: 0, lastSeq: 0, lastBalanceAfter: 0n };
      for await (const p of shardAscending(accountId, shard)) {
        if (s.seqBreakAt === undefined && p.seq !== s.lastSeq + 1) s.seqBreakAt = p.seq;
        if (s.runningBalanceBreakAt === undefined && p.balanceAfter !== s.sum + p.amount) s.runningBalanceBreakAt = p.seq;
        s.sum += p.amount;
        s.count++;
        s.lastSeq = p.seq;
        s.lastBalanceAfter = p.balanceAfter;
      }
      return s;
    }),
  );
  return { sum: shards.reduce((a, s) => a + s.sum, 0n), count: shards.reduce((a, s) => a + s.count, 0), shards };
}

/**
 * One shard's postings up to `upToSeq` (inclusive), oldest first: their sum, count, seq gaps and
 * running-balance breaks, for reconciliation against a balance item read with seq = upToSeq.
 * Postings are append-only and carry their seq, so postings written after the balance read (seq >
 * upToSeq) are simply not counted: no stable double read is needed. `untilPostedAt` (the balance's
 * lastPostedAt) bounds the query, so the shard's newer tail is not even read; `visit` sees each
 * page of counted postings. `upToSeq` Infinity counts every posting (a shard without a balance item).
 */
export async function sumShardPostingsUpTo(
  accountId: string,
  shard: number,
  upToSeq: number,
  opts: { untilPostedAt?: string; visit?: (page: PostingView[]) => Promise<void> | void } = {},
): Promise<ShardPostingSummary> {
  const s: ShardPostingSummary = { shard, sum: 0n, count: 0, lastSeq: 0, lastBalanceAfter: 0n };
  if (upToSeq <= 0) return s;
  const hi = opts.untilPostedAt ? `${ledgerKeys.postingSk(opts.untilPostedAt)}#~` : upperSk();
  let done = false;
  for await (const page of queryAll({
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
    ExpressionAttributeValues: {
      ':pk': ledgerKeys.postingPartition(accountId, shard),
      ':lo': ledgerKeys.postingPrefix,
      ':hi': hi,
    },
    ScanIndexForward: true,
    ConsistentRead: true,
    Limit: 500,
  })) {
    const counted: PostingView[] = [];
    for (const item of page) {
      const p = toPostingView(item);
      if (p.seq > upToSeq) {
        done = true;
        break;
      }
      if (s.seqBreakAt === undefined && p.seq !== s.lastSeq + 1) s.seqBreakAt = p.seq;
      if (s.runningBalanceBreakAt === undefined && p.balanceAfter !== s.sum + p.amount) s.runningBalanceBreakAt = p.seq;
      s.sum += p.amount;
      s.count++;
      s.lastSeq = p.seq;
      s.lastBalanceAfter = p.balanceAfter;
      counted.push(p);
    }
    if (opts.visit && counted.length > 0) await opts.visit(counted);
    if (done) break;
  }
  return s;
}

/** Where a posting is stored: its account shard, time and seq (as a journal lists it). */
export interface PostingRef {
  accountId: string;
  shard: number;
  postedAt: string;
  seq: number;
}

/** The postings at `refs`, in the same order (undefined where none is stored). Strongly consistent. */
export async function readPostings(refs: readonly PostingRef[]): Promise<(PostingView | undefined)[]> {
  const keys = refs.map((r) => ledgerKeys.posting(r.accountId, r.shard, r.postedAt, r.seq));
  const got = await batchGet(keys);
  return keys.map((k) => {
    const item = got.get(keyId(k));
    return item ? toPostingView(item) : undefined;
  });
}

/** The journals with these ids that exist, by id (the journals postings name). Strongly consistent. */
export async function readJournals(journalIds: readonly string[]): Promise<Map<string, PostedJournal>> {
  const got = await batchGet(journalIds.map((id) => ledgerKeys.journal(id)));
  const out = new Map<string, PostedJournal>();
  for (const id of journalIds) {
    const item = got.get(keyId(ledgerKeys.journal(id)));
    if (item) out.set(id, toPostedJournal(item));
  }
  return out;
}
