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
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import {
  type Account,
  applyJournal,
  type Balance,
  HOUSE_OWNER,
  type JournalDraft,
  type JournalType,
  MAX_POSTINGS,
  type PostedJournal,
  type PostedPosting,
  validateJournal,
} from '#domain/ledger/index.ts';
import { formatAmount } from '#domain/money/index.ts';
import { logger, metrics } from '#shared/powertools.ts';
import { type AuditInput, commit } from '../audit.ts';
import { type CommitWrite, newItem, putNew } from '../items.ts';
import { LEDGER_INDEX_SHARDS, ledgerKeys } from '../keys.ts';
import type { OutboxEvent } from '../outbox.ts';
import { accountFacts, MAX_ATTEMPTS, readShards, type ShardBalance, shardKey } from './accounts.ts';
import { batchGet, big, int, jitter, keyId, optStr, queryAll, sleepMs, unwrap } from './codec.ts';

export const JOURNAL_ENTITY = 'journal';

export interface Idempotency {
  scope: string;
  key: string;
  requestHash: string;
}

export interface PostJournalInput {
  draft: JournalDraft;
  idempotency: Idempotency;
  actor: AuditActor;
  requestId: string;
  clientId?: string | undefined;
}

export interface PostJournalResult {
  journal: PostedJournal;
  replayed: boolean;
}

const SCOPE = /^[A-Za-z0-9_.:-]{1,64}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const KEY = /^[^\u0000-\u001f\u007f]{1,255}$/;

export function checkIdempotency(i: Idempotency): void {
  if (
    !SCOPE.test(i.scope) ||
    !KEY.test(i.key) ||
    typeof i.requestHash !== 'string' ||
    i.requestHash.length < 1 ||
    i.requestHash.length > 256
  ) {
    throw new DomainError('invalid_idempotency_key', 'validation', 'The idempotency key is missing or malformed', [
      { field: 'Idempotency-Key', code: 'invalid_idempotency_key', message: 'Invalid idempotency key' },
    ]);
  }
}

interface IdemRecord {
  requestHash: string;
  resultType: 'journal' | 'hold';
  resultId: string;
}

export async function readIdempotency(scope: string, key: string): Promise<IdemRecord | undefined> {
  const k = ledgerKeys.idempotency(scope, key);
  const item = (await batchGet([k])).get(keyId(k));
  if (!item) return undefined;
  return {
    requestHash: String(item.requestHash),
    resultType: item.resultType as 'journal' | 'hold',
    resultId: String(item.resultId),
  };
}

export const reused = () =>
  new DomainError('idempotency_key_reused', 'unprocessable', 'This idempotency key was used with a different request', [
    { field: 'Idempotency-Key', code: 'idempotency_key_reused', message: 'Key already used for another request' },
  ]);

export function idempotencyWrite(
  i: Idempotency,
  resultType: 'journal' | 'hold',
  resultId: string,
  now: string,
  err: DomainError,
): CommitWrite {
  return putNew(
    newItem(
      {
        ...ledgerKeys.idempotency(i.scope, i.key),
        type: ledgerKeys.idempotencyType,
        scope: i.scope,
        key: i.key,
        requestHash: i.requestHash,
        resultType,
        resultId,
      },
      now,
    ),
    err,
  );
}

export function toPostedJournal(item: Record<string, unknown>): PostedJournal {
  const postings = (item.postings as Record<string, unknown>[]).map(
    (p): PostedPosting => ({
      accountId: String(p.accountId),
      amount: big(p.amount),
      currency: String(p.currency),
      shard: int(p.shard),
      seq: int(p.seq),
      balanceAfter: big(p.balanceAfter),
    }),
  );
  return {
    journalId: String(item.journalId),
    type: item.journalType as JournalType,
    postings,
    reference: optStr(item.reference),
    description: optStr(item.description),
    metadata: (unwrap(item.metadata) ?? {}) as Record<string, unknown>,
    actor: item.actor as AuditActor,
    requestId: String(item.requestId),
    clientId: optStr(item.clientId),
    idempotency: { scope: String(item.idempotencyScope), key: String(item.idempotencyKey) },
    postedAt: String(item.postedAt),
  };
}

/** One journal with its postings, or undefined. */
export async function getJournal(journalId: string): Promise<PostedJournal | undefined> {
  const k = ledgerKeys.journal(journalId);
  const item = (await batchGet([k])).get(keyId(k));
  return item ? toPostedJournal(item) : undefined;
}

async function replay(i: Idempotency, rec: IdemRecord): Promise<PostJournalResult> {
  if (rec.requestHash !== i.requestHash || rec.resultType !== 'journal') throw reused();
  const journal = await getJournal(rec.resultId);
  if (!journal) throw new Error(`ledger: idempotency key ${i.scope}/${i.key} names missing journal ${rec.resultId}`);
  return { journal, replayed: true };
}

/** Extra work done inside a journal's transaction (posting a hold). */
export interface JournalExtension {
  /** Balance shard to use per account (default: ledgerKeys.shardFor(journalId, shards)). */
  shards?: Map<string, number>;
  /**
   * Called on every attempt after the balances are read: may adjust them (e.g. release a hold)
   * and add writes, audit entries and events. Accounts it adjusts get no funds condition of their
   * own (their version condition still applies).
   */
  prepare(ctx: { balances: Map<string, Balance>; at: string; journalId: string }): Promise<{
    adjusted: Set<string>;
    writes: CommitWrite[];
    audit: AuditInput[];
    outbox: OutboxEvent[];
  }>;
}

const maxIso = (a: string, b: string) => (a > b ? a : b);

/** Posts a journal (see the module invariants). */
export async function postJournal(input: PostJournalInput): Promise<PostJournalResult> {
  return executeJournal(input);
}

export async function executeJournal(input: PostJournalInput, ext?: JournalExtension): Promise<PostJournalResult> {
  const { draft, idempotency } = input;
  checkIdempotency(idempotency);
  if (draft.postings.length > MAX_POSTINGS) validateJournal(draft, new Map()); // throws journal_too_large
  // The replay check runs beside the first balance read instead of before it (one round trip less).
  const priorRead = ext ? undefined : readIdempotency(idempotency.scope, idempotency.key);
  priorRead?.catch(() => undefined); // awaited below; this only keeps an early rejection from being unhandled
  const ids = draft.postings.map((p) => p.accountId);

  for (let attempt = 0; ; attempt++) {
    const facts = await accountFacts(ids);
    const targets = ids.flatMap((id) => {
      const f = facts.get(id);
      return f ? [{ accountId: id, shard: ext?.shards?.get(id) ?? ledgerKeys.shardFor(draft.journalId, f.shards) }] : [];
    });
    const [shards, prior] = await Promise.all([readShards(targets), attempt === 0 ? priorRead : undefined]);
    if (prior) return replay(idempotency, prior);
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

    const race = new DomainError('concurrent_modification', 'conflict', 'A balance changed while posting; retry');
    const idemTaken = new DomainError('idempotency_key_taken', 'conflict', 'The idempotency key was taken concurrently');
    const journalTaken = new DomainError('journal_id_taken', 'conflict', 'A journal with this id exists', [], {
      journalId: draft.journalId,
    });

    const postings: PostedPosting[] = draft.postings.map((p) => {
      const s = read.get(p.accountId)!;
      const after = next.get(p.accountId)!;
      return { ...p, shard: s.shard, seq: after.seq, balanceAfter: after.ledger };
    });
    const clientId = input.clientId ?? soleClient([...accounts.values()]);
    const journal: PostedJournal = {
      journalId: draft.journalId,
      type: draft.type,
      postings,
      reference: draft.reference,
      description: draft.description,
      metadata: draft.metadata,
      actor: input.actor,
      requestId: input.requestId,
      clientId,
      idempotency: { scope: idempotency.scope, key: idempotency.key },
      postedAt: at,
    };

    const writes: CommitWrite[] = [
      idempotencyWrite(idempotency, 'journal', draft.journalId, at, idemTaken),
      putNew(
        newItem(
          {
            ...ledgerKeys.journal(draft.journalId),
            type: ledgerKeys.journalType,
            journalId: draft.journalId,
            journalType: draft.type,
            postings,
            reference: draft.reference,
            description: draft.description,
            metadata: draft.metadata,
            actor: input.actor,
            requestId: input.requestId,
            clientId,
            idempotencyScope: idempotency.scope,
            idempotencyKey: idempotency.key,
            postedAt: at,
            ...ledgerKeys.journalListIndex(at, draft.journalId),
          },
          at,
        ),
        journalTaken,
      ),
    ];
    for (const p of postings) {
      writes.push(
        putNew(
          newItem(
            {
              ...ledgerKeys.posting(p.accountId, p.shard, at, p.seq),
              type: ledgerKeys.postingType,
              accountId: p.accountId,
              shard: p.shard,
              seq: p.seq,
              journalId: draft.journalId,
              journalType: draft.type,
              amount: p.amount,
              currency: p.currency,
              balanceAfter: p.balanceAfter,
              postedAt: at,
              reference: draft.reference,
              description: draft.description,
              metadata: draft.metadata,
              clientId,
            },
            at,
          ),
          race,
        ),
      );
    }
    for (const p of postings) {
      const s = read.get(p.accountId)!;
      const after = next.get(p.accountId)!;
      const funds = s.flags.noNegative && p.amount < 0n && !extra?.adjusted.has(p.accountId);
      writes.push({
        Update: {
          Key: ledgerKeys.balance(p.accountId, s.shard),
          UpdateExpression: 'SET #l = :l, #h = :h, #a = :a, #s = :s, #v = :nv, #lp = :t, #u = :t',
          ConditionExpression: funds ? '#v = :v AND #a >= :debit' : '#v = :v',
          ExpressionAttributeNames: {
            '#l': 'ledger',
            '#h': 'held',
            '#a': 'available',
            '#s': 'seq',
            '#v': 'version',
            '#lp': 'lastPostedAt',
            '#u': 'updatedAt',
          },
          ExpressionAttributeValues: {
            ':l': after.ledger,
            ':h': after.held,
            ':a': after.available,
            ':s': after.seq,
            ':v': s.version,
            ':nv': s.version + 1,
            ':t': at,
            ...(funds ? { ':debit': -p.amount } : {}),
          },
        },
        conditionFailedError: race,
      });
    }
    writes.push(...(extra?.writes ?? []));

    const audit: AuditInput[] = [
      {
        actor: input.actor,
        action: 'ledger.journal.posted',
        entity: { type: JOURNAL_ENTITY, id: draft.journalId },
        newEntity: true,
        clientId,
        before: null,
        after: {
          type: draft.type,
          postings,
          reference: draft.reference,
          description: draft.description,
          // empty maps are left out: the local stream emulation turns {M:{}} into {} (archiver cannot read it)
          metadata: Object.keys(draft.metadata).length > 0 ? draft.metadata : undefined,
          idempotency: journal.idempotency,
          postedAt: at,
        },
        requestId: input.requestId,
      },
      ...(extra?.audit ?? []),
    ];
    const outbox: OutboxEvent[] = [
      {
        detailType: 'ledger.journal.posted',
        detail: {
          journalId: draft.journalId,
          type: draft.type,
          postedAt: at,
          clientId,
          reference: draft.reference,
          postings: postings.map((p) => ({
            accountId: p.accountId,
            amount: formatAmount(p.amount, p.currency),
            amountMinor: p.amount.toString(),
            currency: p.currency,
          })),
        },
      },
      ...(extra?.outbox ?? []),
    ];

    try {
      await commit({ writes, audit, outbox, now: () => new Date(at) });
      return { journal, replayed: false };
    } catch (err) {
      if (err === idemTaken) {
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
      if (err === race || (isDomainError(err) && err.code === 'concurrent_modification' && err !== journalTaken)) {
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

/** The single client among the accounts' owners, if exactly one. */
function soleClient(accounts: Account[]): string | undefined {
  const owners = new Set(accounts.map((a) => a.ownerId).filter((o) => o !== HOUSE_OWNER));
  return owners.size === 1 ? [...owners][0] : undefined;
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
