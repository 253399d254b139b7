/**
 * Posting journals: ONE TransactWriteItems per journal (docs/decisions/0005-ledger-model.md).
 *
 * Invariants:
 * - a journal's transaction holds: the idempotency-key item (attribute_not_exists), the journal
 *   item (attribute_not_exists), one posting item per posting (under its account shard, sk ordered
 *   by postedAt then seq, with the shard's running balance), one balance update per posting
 *   (conditioned on the version read; for a noNegative debit also on available >= debit), the audit
 *   item + chain head of the journal and the 'ledger.journal.posted' outbox item; it commits whole
 *   or not at all, so a crash at any point leaves either the whole journal or nothing
 * - per balance shard, posting seqs run 1, 2, 3, ... and balanceAfter(n) = balanceAfter(n-1) + amount(n):
 *   every posting is written at the version it was computed from
 * - per balance shard, postedAt never decreases with seq (postedAt = max(now, last postedAt of every
 *   touched shard)), so a time bound on the sort key is a seq bound too
 * - a lost version race re-reads and retries with full-jitter backoff, at most MAX_ATTEMPTS times,
 *   then 'concurrent_modification' (409); domain failures (insufficient_funds, account_frozen, ...)
 *   are decided on a version-pinned read and never retried
 * - same idempotency scope+key and requestHash => the original journal, replayed: true; another
 *   requestHash => 'idempotency_key_reused' (422); the key item exists iff the journal does
 * - a journal with more than MAX_POSTINGS postings is rejected before any read or write
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ulid } from 'ulid';
import { DomainError, isDomainError } from '#domain/errors.ts';
import {
  type Account,
  applyJournal,
  type Balance,
  type JournalDraft,
  MAX_POSTINGS,
  type PostedJournal,
  type PostedPosting,
  validateJournal,
} from '#domain/ledger/index.ts';
import { logger, metrics } from '#shared/powertools.ts';
import { commit } from '../audit.ts';
import type { CommitWrite } from '../items.ts';
import { LEDGER_INDEX_SHARDS, ledgerKeys } from '../keys.ts';
import { type AccountFacts, accountFacts, MAX_ATTEMPTS, type ShardBalance, shardKey } from './accounts.ts';
import { jitter, queryAll, sleepMs } from './codec.ts';
import { postSerialised, readForJournal } from './serialised.ts';

export * from './journal-items.ts';

import {
  balanceWrite,
  checkIdempotency,
  type JournalExtension,
  journalErrors,
  maxIso,
  type PostJournalInput,
  type PostJournalResult,
  readIdempotency,
  replay,
  reused,
  soleClient,
  stageJournal,
  toPostedJournal,
} from './journal-items.ts';

/** Posts a journal (see the module invariants). */
export async function postJournal(input: PostJournalInput): Promise<PostJournalResult> {
  return executeJournal(input);
}

/** The account a contended journal queues on: a live lease's account, else the account whose balance lost the race. */
function contendedAccount(draft: JournalDraft, facts: Map<string, AccountFacts>, leased: readonly string[]): string {
  if (leased.length > 0) return leased[0]!;
  // the account debited under a funds check is the one a burst of commands fights over; else the least-sharded one
  const debited = draft.postings.find((p) => p.amount < 0n && (facts.get(p.accountId)?.shards ?? 1) === 1);
  if (debited) return debited.accountId;
  return [...draft.postings].sort((a, b) => (facts.get(a.accountId)?.shards ?? 1) - (facts.get(b.accountId)?.shards ?? 1))[0]!
    .accountId;
}

export async function executeJournal(input: PostJournalInput, ext?: JournalExtension): Promise<PostJournalResult> {
  const { draft, idempotency } = input;
  checkIdempotency(idempotency);
  if (draft.postings.length > MAX_POSTINGS) validateJournal(draft, new Map()); // throws journal_too_large
  const ids = draft.postings.map((p) => p.accountId);

  for (let attempt = 0; ; attempt++) {
    const facts = await accountFacts(ids);
    const targets = ids.flatMap((id) => {
      const f = facts.get(id);
      return f ? [{ accountId: id, shard: ext?.shards?.get(id) ?? ledgerKeys.shardFor(draft.journalId, f.shards) }] : [];
    });
    // One read: the balances, and for a plain journal on its first attempt the idempotency key (a replay
    // answers at once) and the touched accounts' command leases (an account whose queue is being applied
    // is contended: the journal joins the queue instead of racing it).
    const { shards, prior, leased } = await readForJournal(targets, ext ? undefined : idempotency, attempt === 0);
    if (prior) return replay(idempotency, prior);
    if (leased.length > 0) return postSerialised(input, contendedAccount(draft, facts, leased));
    const accounts = new Map<string, Account>();
    const balances = new Map<string, Balance>();
    const read = new Map<string, ShardBalance>();
    let at = new Date().toISOString();
    for (const t of targets) {
      const s = shards.get(shardKey(t.accountId, t.shard));
      if (!s) continue;
      accounts.set(t.accountId, { ...facts.get(t.accountId)!, flags: s.flags });
      balances.set(t.accountId, s);
      read.set(t.accountId, s);
      at = maxIso(at, s.lastPostedAt);
    }
    warnOnClockSkew(at);
    validateJournal(draft, accounts);
    const extra = ext ? await ext.prepare({ balances, at, journalId: draft.journalId }) : undefined;
    const next = applyJournal(balances, draft, accounts);

    const errors = journalErrors(draft.journalId);
    const postings: PostedPosting[] = draft.postings.map((p) => {
      const s = read.get(p.accountId)!;
      const after = next.get(p.accountId)!;
      return { ...p, shard: s.shard, seq: after.seq, balanceAfter: after.ledger };
    });
    const clientId = input.clientId ?? soleClient([...accounts.values()]);
    const staged = stageJournal(input, postings, at, clientId, errors);
    const writes: CommitWrite[] = [...staged.writes];
    // one race error per balance: the account that lost the race is the one whose queue the journal joins
    const raced = new Map<DomainError, string>();
    const balanceAt = new Map<number, string>();
    for (const p of postings) {
      const s = read.get(p.accountId)!;
      const funds = s.flags.noNegative && p.amount < 0n && !extra?.adjusted.has(p.accountId);
      const race = ext ? errors.race : new DomainError(errors.race.code, errors.race.kind, errors.race.message);
      raced.set(race, p.accountId);
      balanceAt.set(writes.length, p.accountId);
      writes.push(balanceWrite(s, next.get(p.accountId)!, at, race, funds ? -p.amount : undefined));
    }
    const conflictOn = (i: number) => [...raced].find(([, id]) => id === balanceAt.get(i))?.[0] ?? errors.race;
    writes.push(...(extra?.writes ?? []));

    try {
      await commit({
        writes,
        audit: [staged.audit, ...(extra?.audit ?? [])],
        outbox: [staged.outbox, ...(extra?.outbox ?? [])],
        now: () => new Date(at),
        // a plain journal does not wait out another transaction on its balances: it joins the account's queue
        ...(ext ? {} : { conflictError: conflictOn }),
      });
      return { journal: staged.journal, replayed: false };
    } catch (err) {
      if (err === errors.idemTaken) {
        const prior = await readIdempotency(idempotency.scope, idempotency.key);
        if (!prior) throw err;
        // an extension (posting a hold) re-runs its own checks: a concurrent twin is hold_not_pending, not a replay
        if (!ext) return replay(idempotency, prior);
        if (prior.resultId !== draft.journalId || prior.requestHash !== idempotency.requestHash) throw reused();
        if (attempt + 1 >= MAX_ATTEMPTS) {
          throw new DomainError('concurrent_modification', 'conflict', 'Too many concurrent changes to the same account; retry');
        }
        continue;
      }
      const lostOn = raced.get(err as DomainError);
      if (!ext && (lostOn || err === errors.race)) {
        // A plain journal that lost a race on a balance is on a contended account: it is applied by that
        // account's combiner, in order, instead of re-reading and retrying blindly (ADR 0012).
        return postSerialised(input, lostOn ?? contendedAccount(draft, facts, []));
      }
      if (err === errors.race || (isDomainError(err) && err.code === 'concurrent_modification' && err !== errors.journalTaken)) {
        if (attempt + 1 >= MAX_ATTEMPTS) {
          throw new DomainError('concurrent_modification', 'conflict', 'Too many concurrent changes to the same account; retry');
        }
        await sleepMs(jitter(attempt));
        continue;
      }
      throw err;
    }
  }
}

/** How far a shard's last posting may be ahead of this host's clock before it is reported. */
export const CLOCK_SKEW_TOLERANCE_MS = 5_000;

/**
 * A journal is stamped max(now, the touched shards' lastPostedAt) so postings stay time-ordered per
 * shard. A host with a fast clock would drag later journals into its future; that is logged and
 * counted (metric LedgerClockSkew) so it is noticed, rather than silently reordering the ledger.
 */
function warnOnClockSkew(at: string): void {
  const ahead = Date.parse(at) - Date.now();
  if (ahead > CLOCK_SKEW_TOLERANCE_MS) {
    logger.error('ledger clock skew: a shard was last posted in the future', { aheadMs: ahead });
    metrics.addMetric('LedgerClockSkew', MetricUnit.Count, 1);
  }
}

/** Every journal (or those posted at or after `since`), via the gsi1 journal list; ordered by time within each of its 16 partitions only. */
export async function* scanJournals(since?: Date): AsyncGenerator<PostedJournal> {
  for (let n = 0; n < LEDGER_INDEX_SHARDS; n++) {
    for await (const page of queryAll({
      IndexName: 'gsi1',
      KeyConditionExpression: since ? 'gsi1pk = :p AND gsi1sk >= :s' : 'gsi1pk = :p',
      ExpressionAttributeValues: since
        ? { ':p': ledgerKeys.journalListPartition(n), ':s': since.toISOString() }
        : { ':p': ledgerKeys.journalListPartition(n) },
    })) {
      for (const item of page) yield toPostedJournal(item);
    }
  }
}

/** A fresh, time-ordered journal id. */
export const newJournalId = () => ulid();
