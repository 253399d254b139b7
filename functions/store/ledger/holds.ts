/**
 * Holds (two-phase movements) in the store. See domain/ledger/holds.ts for the state machine.
 *
 * Invariants:
 * - placing a hold is one transaction: idempotency key + hold item + the account shard's balance
 *   (held += amount, available -= amount, conditioned on the version read) + audit + outbox
 * - posting a hold is one journal transaction (journals.ts) that also moves the hold to 'posted'
 *   (conditioned on its version and status = pending) and releases it on the same balance shard:
 *   the debit happens once, or not at all
 * - voiding / expiring a hold is one transaction: hold -> voided/expired + release + audit + outbox
 * - a hold touches the balance shard ledgerKeys.shardFor(holdId, shards), recorded on the hold
 * - only pending holds carry the open-holds index (gsi2 LOPENHOLDS#nn); closing one removes it
 * - the hold's expiry is stored as `holdExpiresAt` (ISO text), never in the table's TTL attribute,
 *   so DynamoDB never deletes a hold
 */
import { ulid } from 'ulid';
import type { AuditActor } from '#domain/audit/chain.ts';
import { DomainError, isDomainError } from '#domain/errors.ts';
import {
  type Account,
  expireHoldTransition,
  HOUSE_OWNER,
  type Hold,
  type HoldStatus,
  ID_PATTERN,
  type JournalType,
  newHold,
  type PostedJournal,
  postHoldTransition,
  release,
  reserve,
  voidHoldTransition,
} from '#domain/ledger/index.ts';
import { formatAmount, type Money } from '#domain/money/index.ts';
import { withRetry } from '#shared/retry.ts';
import { type AuditInput, commit, systemActor } from '../audit.ts';
import { type CommitWrite, newItem, putNew } from '../items.ts';
import { LEDGER_INDEX_SHARDS, ledgerKeys } from '../keys.ts';
import type { OutboxEvent } from '../outbox.ts';
import { accountFacts, readShards, type ShardBalance, shardKey } from './accounts.ts';
import { batchGet, big, int, keyId, optStr, queryAll } from './codec.ts';
import {
  checkIdempotency,
  executeJournal,
  getJournal,
  type Idempotency,
  idempotencyWrite,
  readIdempotency,
  reused,
} from './journals.ts';

export const HOLD_ENTITY = 'hold';

/**
 * More work committed in the hold's own transaction: the state change of whatever owns the hold (a
 * withdrawal moving to received / completed / cancelled) with its audit entries and events, so the
 * money and the owner's status can never disagree. Called on every attempt with the commit time.
 */
export type HoldExtra = (
  at: string,
) =>
  | Promise<{ writes: CommitWrite[]; audit: AuditInput[]; outbox: OutboxEvent[] }>
  | { writes: CommitWrite[]; audit: AuditInput[]; outbox: OutboxEvent[] };

export interface StoredHold extends Hold {
  shard: number;
}

export function toHold(item: Record<string, unknown>): StoredHold {
  return {
    holdId: String(item.holdId),
    accountId: String(item.accountId),
    amount: big(item.amount),
    currency: String(item.currency),
    status: item.status as HoldStatus,
    expiresAt: String(item.holdExpiresAt),
    reference: optStr(item.reference),
    createdAt: String(item.createdAt),
    closedAt: optStr(item.closedAt),
    journalId: optStr(item.journalId),
    reason: optStr(item.reason),
    clientId: optStr(item.clientId),
    version: int(item.version),
    shard: int(item.shard),
  };
}

export async function getHold(holdId: string): Promise<StoredHold | undefined> {
  const k = ledgerKeys.hold(holdId);
  const item = (await batchGet([k])).get(keyId(k));
  return item ? toHold(item) : undefined;
}

const notFound = (holdId: string) => new DomainError('hold_not_found', 'not_found', 'No such hold', [], { holdId });

const snapshot = (h: Hold) => ({
  holdId: h.holdId,
  accountId: h.accountId,
  amount: h.amount,
  currency: h.currency,
  status: h.status,
  expiresAt: h.expiresAt,
  journalId: h.journalId,
  reason: h.reason,
});

function balanceUpdate(
  s: ShardBalance,
  next: { held: bigint; available: bigint },
  at: string,
  race: DomainError,
  funds?: bigint,
): CommitWrite {
  return {
    Update: {
      Key: ledgerKeys.balance(s.accountId, s.shard),
      UpdateExpression: 'SET #h = :h, #a = :a, #v = :nv, #u = :t',
      ConditionExpression: funds === undefined ? '#v = :v' : '#v = :v AND #a >= :need',
      ExpressionAttributeNames: { '#h': 'held', '#a': 'available', '#v': 'version', '#u': 'updatedAt' },
      ExpressionAttributeValues: {
        ':h': next.held,
        ':a': next.available,
        ':v': s.version,
        ':nv': s.version + 1,
        ':t': at,
        ...(funds === undefined ? {} : { ':need': funds }),
      },
    },
    conditionFailedError: race,
  };
}

function closeHoldWrite(before: StoredHold, after: Hold, at: string, race: DomainError): CommitWrite {
  return {
    Update: {
      Key: ledgerKeys.hold(before.holdId),
      UpdateExpression: 'SET #st = :st, #c = :c, #j = :j, #r = :r, #v = :nv, #u = :c REMOVE gsi2pk, gsi2sk',
      ConditionExpression: '#v = :v AND #st = :pending',
      ExpressionAttributeNames: {
        '#st': 'status',
        '#c': 'closedAt',
        '#j': 'journalId',
        '#r': 'reason',
        '#v': 'version',
        '#u': 'updatedAt',
      },
      ExpressionAttributeValues: {
        ':st': after.status,
        ':c': at,
        ':j': after.journalId ?? null,
        ':r': after.reason ?? null,
        ':v': before.version,
        ':nv': before.version + 1,
        ':pending': 'pending',
      },
    },
    conditionFailedError: race,
  };
}

/** A lost version race on the hold or its balance shard (both fail as concurrent_modification). */
const isRace = (err: unknown) => isDomainError(err) && err.code === 'concurrent_modification';

export interface PlaceHoldInput {
  /** Default: a fresh ULID. */
  holdId?: string;
  accountId: string;
  amount: Money;
  expiresAt: Date;
  reference?: string | undefined;
  idempotency: Idempotency;
  actor: AuditActor;
  requestId: string;
  clientId?: string | undefined;
  extra?: HoldExtra;
}

async function holdAccount(accountId: string, shardOf: string): Promise<{ account: Account; shard: ShardBalance }> {
  const f = (await accountFacts([accountId])).get(accountId);
  if (!f) throw new DomainError('account_not_found', 'unprocessable', 'No such account', [], { accountId });
  const shard = ledgerKeys.shardFor(shardOf, f.shards);
  const s = (await readShards([{ accountId, shard }])).get(shardKey(accountId, shard));
  if (!s) throw new DomainError('account_not_found', 'unprocessable', 'No such account', [], { accountId });
  return { account: { ...f, flags: s.flags }, shard: s };
}

/** Reserves funds on an account. Same idempotency key + hash => the original hold, replayed. */
export async function placeHold(input: PlaceHoldInput): Promise<{ hold: StoredHold; replayed: boolean }> {
  checkIdempotency(input.idempotency);
  const holdId = input.holdId ?? ulid();
  if (!ID_PATTERN.test(holdId)) throw new DomainError('invalid_hold_id', 'validation', 'Invalid hold id');
  const replayOf = async () => {
    const prior = await readIdempotency(input.idempotency.scope, input.idempotency.key);
    if (!prior) return undefined;
    if (prior.requestHash !== input.idempotency.requestHash || prior.resultType !== 'hold') throw reused();
    const hold = await getHold(prior.resultId);
    if (!hold) throw new Error(`ledger: idempotency key names missing hold ${prior.resultId}`);
    return { hold, replayed: true };
  };
  const early = await replayOf();
  if (early) return early;

  const once = async (): Promise<{ hold: StoredHold; replayed: boolean }> => {
    const { account, shard } = await holdAccount(input.accountId, holdId);
    if (account.currency !== input.amount.currency) {
      throw new DomainError('currency_mismatch', 'unprocessable', `Account ${account.accountId} is in ${account.currency}`, [
        { field: 'amount.currency', code: 'currency_mismatch', message: 'Currency differs from the account currency' },
      ]);
    }
    const at = new Date().toISOString();
    const clientId = input.clientId ?? (account.ownerId === HOUSE_OWNER ? undefined : account.ownerId);
    const hold = newHold({
      holdId,
      accountId: account.accountId,
      amount: input.amount.amount,
      currency: input.amount.currency,
      expiresAt: input.expiresAt.toISOString(),
      reference: input.reference,
      clientId,
      at,
    });
    const next = reserve(shard, account, hold.amount);
    const race = new DomainError('concurrent_modification', 'conflict', 'The balance changed; retry');
    const idemTaken = new DomainError('idempotency_key_taken', 'conflict', 'Idempotency key taken');
    const holdTaken = new DomainError('hold_id_taken', 'conflict', 'A hold with this id exists', [], { holdId });
    const writes: CommitWrite[] = [
      idempotencyWrite(input.idempotency, 'hold', holdId, at, idemTaken),
      putNew(
        newItem(
          {
            ...ledgerKeys.hold(holdId),
            type: ledgerKeys.holdType,
            holdId,
            accountId: hold.accountId,
            shard: shard.shard,
            amount: hold.amount,
            currency: hold.currency,
            status: hold.status,
            holdExpiresAt: hold.expiresAt,
            reference: hold.reference,
            clientId,
            ...ledgerKeys.accountHoldsIndex(hold.accountId, at, holdId),
            ...ledgerKeys.openHoldIndex(holdId, hold.expiresAt),
          },
          at,
        ),
        holdTaken,
      ),
      balanceUpdate(shard, next, at, race, hold.amount),
    ];
    const extra = input.extra ? await input.extra(at) : { writes: [], audit: [], outbox: [] };
    try {
      await commit({
        writes: [...writes, ...extra.writes],
        audit: [
          {
            actor: input.actor,
            action: 'ledger.hold.placed',
            entity: { type: HOLD_ENTITY, id: holdId },
            clientId,
            before: null,
            after: snapshot(hold),
            requestId: input.requestId,
          },
          ...extra.audit,
        ],
        outbox: [
          ...extra.outbox,
          {
            detailType: 'ledger.hold.placed',
            detail: {
              holdId,
              accountId: hold.accountId,
              amount: formatAmount(hold.amount, hold.currency),
              currency: hold.currency,
              expiresAt: hold.expiresAt,
              clientId,
            },
          },
        ],
        now: () => new Date(at),
      });
      return { hold: { ...hold, createdAt: at, shard: shard.shard }, replayed: false };
    } catch (err) {
      if (err === idemTaken) {
        const r = await replayOf();
        if (r) return r;
      }
      throw err;
    }
  };
  return withRetry('ledgerVersion', once, isRace);
}

export interface PostHoldInput {
  /** Where the held amount goes: one account, or `counterPostings` to split it. */
  counterAccountId?: string;
  /** Split destination (e.g. PSP clearing gets the net, fee income the fee); must sum to the hold's amount. */
  counterPostings?: { accountId: string; amount: bigint }[];
  /** Default: hp_<holdId>. */
  journalId?: string;
  type?: JournalType;
  reference?: string;
  description?: string;
  metadata?: Record<string, unknown>;
  /** Default: scope 'hold-post', key = holdId. */
  idempotency?: Idempotency;
  actor: AuditActor;
  requestId: string;
  clientId?: string;
  extra?: HoldExtra;
}

/**
 * Posts a pending hold: one journal debiting the held account by the hold's amount and crediting
 * `counterAccountId`, with the hold released and marked posted in the same transaction.
 * A hold that is not pending is 'hold_not_pending' (meta.journalId names the posting journal).
 */
export async function postHold(holdId: string, input: PostHoldInput): Promise<{ journal: PostedJournal; hold: StoredHold }> {
  const first = await getHold(holdId);
  if (!first) throw notFound(holdId);
  const journalId = input.journalId ?? `hp_${holdId}`;
  const counters =
    input.counterPostings ?? (input.counterAccountId ? [{ accountId: input.counterAccountId, amount: first.amount }] : []);
  if (counters.length === 0 || counters.reduce((sum, c) => sum + c.amount, 0n) !== first.amount) {
    throw new DomainError('invalid_hold_posting', 'unprocessable', 'The counter postings must add up to the held amount', [], {
      holdId,
    });
  }
  let closed: StoredHold | undefined;
  const { journal } = await executeJournal(
    {
      draft: {
        journalId,
        type: input.type ?? 'hold_post',
        postings: [
          { accountId: first.accountId, amount: -first.amount, currency: first.currency },
          ...counters
            .filter((c) => c.amount !== 0n)
            .map((c) => ({ accountId: c.accountId, amount: c.amount, currency: first.currency })),
        ],
        reference: input.reference ?? first.reference,
        description: input.description,
        metadata: { ...(input.metadata ?? {}), holdId },
      },
      idempotency: input.idempotency ?? { scope: 'hold-post', key: holdId, requestHash: holdId },
      actor: input.actor,
      requestId: input.requestId,
      clientId: input.clientId ?? first.clientId,
    },
    {
      shards: new Map([[first.accountId, first.shard]]),
      async prepare({ balances, at }) {
        const hold = await getHold(holdId);
        if (!hold) throw notFound(holdId);
        const after = postHoldTransition(hold, journalId, at);
        const b = balances.get(hold.accountId);
        if (!b) throw notFound(holdId);
        balances.set(hold.accountId, release(b, hold.amount));
        closed = { ...after, shard: hold.shard };
        const race = new DomainError('concurrent_modification', 'conflict', 'The hold changed; retry');
        const extra = input.extra ? await input.extra(at) : { writes: [], audit: [], outbox: [] };
        return {
          adjusted: new Set([hold.accountId]),
          writes: [closeHoldWrite(hold, after, at, race), ...extra.writes],
          audit: [
            ...extra.audit,
            {
              actor: input.actor,
              action: 'ledger.hold.posted',
              entity: { type: HOLD_ENTITY, id: holdId },
              clientId: hold.clientId,
              before: snapshot(hold),
              after: snapshot(after),
              requestId: input.requestId,
            } satisfies AuditInput,
          ],
          outbox: [
            ...extra.outbox,
            {
              detailType: 'ledger.hold.posted',
              detail: { holdId, journalId, accountId: hold.accountId, clientId: hold.clientId },
            },
          ],
        };
      },
    },
  );
  return { journal, hold: closed! };
}

async function closeHold(
  holdId: string,
  transition: (h: Hold, at: string) => Hold,
  ctx: { actor: AuditActor; requestId: string; action: 'voided' | 'expired'; reason?: string; extra?: HoldExtra | undefined },
): Promise<StoredHold> {
  const once = async (): Promise<StoredHold> => {
    const hold = await getHold(holdId);
    if (!hold) throw notFound(holdId);
    const at = new Date().toISOString();
    const after = transition(hold, at);
    const s = (await readShards([{ accountId: hold.accountId, shard: hold.shard }])).get(shardKey(hold.accountId, hold.shard));
    if (!s) throw notFound(holdId);
    const next = release(s, hold.amount);
    const race = new DomainError('concurrent_modification', 'conflict', 'The hold or balance changed; retry');
    const extra = ctx.extra ? await ctx.extra(at) : { writes: [], audit: [], outbox: [] };
    await commit({
      writes: [closeHoldWrite(hold, after, at, race), balanceUpdate(s, next, at, race), ...extra.writes],
      audit: [
        {
          actor: ctx.actor,
          action: `ledger.hold.${ctx.action}`,
          entity: { type: HOLD_ENTITY, id: holdId },
          clientId: hold.clientId,
          before: snapshot(hold),
          after: snapshot(after),
          reason: ctx.reason,
          requestId: ctx.requestId,
        },
        ...extra.audit,
      ],
      outbox: [
        ...extra.outbox,
        {
          detailType: ctx.action === 'voided' ? 'ledger.hold.voided' : 'ledger.hold.expired',
          detail: { holdId, accountId: hold.accountId, clientId: hold.clientId },
        },
      ],
      now: () => new Date(at),
    });
    return { ...after, shard: hold.shard };
  };
  return withRetry('ledgerVersion', once, isRace);
}

/** Releases a pending hold ('hold_not_pending' otherwise). */
export async function voidHold(
  holdId: string,
  input: { reason: string; actor: AuditActor; requestId: string; extra?: HoldExtra },
): Promise<StoredHold> {
  return closeHold(holdId, (h, at) => voidHoldTransition(h, input.reason, at), { ...input, action: 'voided' });
}

/** Expires a pending hold whose expiresAt is at or before `now` ('hold_not_expired' / 'hold_not_pending' otherwise). */
export async function expireHold(
  holdId: string,
  now: Date,
  ctx: { actor?: AuditActor; requestId?: string } = {},
): Promise<StoredHold> {
  return closeHold(holdId, (h) => expireHoldTransition(h, now.toISOString()), {
    actor: ctx.actor ?? systemActor('ledger-hold-expiry'),
    requestId: ctx.requestId ?? `expire:${holdId}`,
    action: 'expired',
  });
}

/** Pending holds (optionally only those expiring at or before `expiringBy`), via the sparse gsi2 index. Eventually consistent. */
export async function* scanOpenHolds(opts: { expiringBy?: Date } = {}): AsyncGenerator<StoredHold> {
  for (let n = 0; n < LEDGER_INDEX_SHARDS; n++) {
    for await (const page of queryAll({
      IndexName: 'gsi2',
      KeyConditionExpression: opts.expiringBy ? 'gsi2pk = :p AND gsi2sk <= :s' : 'gsi2pk = :p',
      ExpressionAttributeValues: opts.expiringBy
        ? { ':p': ledgerKeys.openHoldPartition(n), ':s': `${opts.expiringBy.toISOString()}#~` }
        : { ':p': ledgerKeys.openHoldPartition(n) },
    })) {
      for (const item of page) yield toHold(item);
    }
  }
}

/**
 * The sum of an account shard's pending holds, read through the account's holds index (gsi1): eventually
 * consistent, so a caller comparing it with the shard's held amount re-reads the shard around it.
 */
export async function pendingHeldOnShard(accountId: string, shard: number): Promise<bigint> {
  let held = 0n;
  for await (const page of queryAll({
    IndexName: 'gsi1',
    KeyConditionExpression: 'gsi1pk = :p',
    ExpressionAttributeValues: { ':p': ledgerKeys.accountHoldsIndex(accountId, '', '').gsi1pk },
  })) {
    for (const item of page) {
      if (item.type !== ledgerKeys.holdType) continue;
      const h = toHold(item);
      if (h.status === 'pending' && h.shard === shard) held += h.amount;
    }
  }
  return held;
}

export { getJournal };
