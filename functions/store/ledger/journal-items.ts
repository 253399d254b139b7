import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import {
  type Account,
  type Balance,
  HOUSE_OWNER,
  type JournalDraft,
  type JournalType,
  type PostedJournal,
  type PostedPosting,
} from '#domain/ledger/index.ts';
import { formatAmount } from '#domain/money/index.ts';
import type { AuditInput } from '../audit.ts';
import { type CommitWrite, newItem, putNew } from '../items.ts';
import { ledgerKeys } from '../keys.ts';
import type { OutboxEvent } from '../outbox.ts';
import type { ShardBalance } from './accounts.ts';
import { batchGet, big, int, keyId, optStr, unwrap } from './codec.ts';

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

export interface IdemRecord {
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

export async function replay(i: Idempotency, rec: IdemRecord): Promise<PostJournalResult> {
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

export const maxIso = (a: string, b: string) => (a > b ? a : b);

/** The errors a journal's writes raise when their conditions fail (commit() throws the first one). */
export interface JournalErrors {
  /** A balance changed since it was read (or, on AWS, another transaction holds it). */
  race: DomainError;
  idemTaken: DomainError;
  journalTaken: DomainError;
}

export function journalErrors(journalId: string, race?: DomainError): JournalErrors {
  return {
    race: race ?? new DomainError('concurrent_modification', 'conflict', 'A balance changed while posting; retry'),
    idemTaken: new DomainError('idempotency_key_taken', 'conflict', 'The idempotency key was taken concurrently'),
    journalTaken: new DomainError('journal_id_taken', 'conflict', 'A journal with this id exists', [], { journalId }),
  };
}

/** A journal ready to commit: its own items (idempotency key, journal, postings), audit entry and event. */
export interface StagedJournal {
  journal: PostedJournal;
  writes: CommitWrite[];
  audit: AuditInput;
  outbox: OutboxEvent;
}

/**
 * Everything a posted journal writes except the balance updates (which a batch of journals shares):
 * the idempotency key, the journal, one posting per posting, its audit entry and its event.
 */
export function stageJournal(
  input: PostJournalInput,
  postings: PostedPosting[],
  at: string,
  clientId: string | undefined,
  errors: JournalErrors,
  /** The queued command this journal applies (kept on the idempotency key: its waiter knows the journal is its own). */
  commandId?: string,
): StagedJournal {
  const { draft, idempotency } = input;
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
  const idem = idempotencyWrite(idempotency, 'journal', draft.journalId, at, errors.idemTaken);
  if (commandId && 'Put' in idem) idem.Put.Item = { ...idem.Put.Item, commandId };
  const writes: CommitWrite[] = [
    idem,
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
      errors.journalTaken,
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
        errors.race,
      ),
    );
  }
  const audit: AuditInput = {
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
  };
  const outbox: OutboxEvent = {
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
  };
  return { journal, writes, audit, outbox };
}

/**
 * The update of one balance shard from the state it was read at to `after`, conditioned on the version
 * read (and, for a debit of a no-negative account checked by this write alone, on available funds).
 */
export function balanceWrite(read: ShardBalance, after: Balance, at: string, race: DomainError, debit?: bigint): CommitWrite {
  return {
    Update: {
      Key: ledgerKeys.balance(read.accountId, read.shard),
      UpdateExpression: 'SET #l = :l, #h = :h, #a = :a, #s = :s, #v = :nv, #lp = :t, #u = :t',
      ConditionExpression: debit !== undefined ? '#v = :v AND #a >= :debit' : '#v = :v',
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
        ':v': read.version,
        ':nv': read.version + 1,
        ':t': at,
        ...(debit !== undefined ? { ':debit': debit } : {}),
      },
    },
    conditionFailedError: race,
  };
}

/** The single client among the accounts' owners, if exactly one. */
export function soleClient(accounts: Account[]): string | undefined {
  const owners = new Set(accounts.map((a) => a.ownerId).filter((o) => o !== HOUSE_OWNER));
  return owners.size === 1 ? [...owners][0] : undefined;
}
