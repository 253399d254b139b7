/**
 * Contended accounts: journals that would fight over one balance are queued on that account and
 * applied in order, in batches, by one combiner at a time (docs/decisions/0012-contended-accounts.md).
 *
 * A plain journal first takes the fast path (read the balances, one transaction). When it loses a
 * race on a balance (a version mismatch locally; on AWS also a TransactionConflict), or when the
 * account's queue is being applied already, it does not re-read and retry: it writes a command item
 * to the account's queue and either becomes the account's combiner (a lease item) or waits for the
 * combiner to apply it. The combiner reads the queue in order, reads the touched balances once,
 * applies the journals one after another in memory (each succeeds or is refused on its own: funds,
 * frozen account, idempotency key reused) and commits up to 100 items of them in ONE transaction:
 * every journal's own items, one update per touched balance shard (at the version it read), the
 * deletion of each applied command, and a refusal item for each refused one. A burst on one wallet
 * therefore costs a few transactions instead of one lost race per command.
 *
 * Invariants:
 * - a queued command is applied at most once: its queue item is deleted in the transaction that
 *   applies or refuses it (condition attribute_exists), so a withdrawn or already applied command
 *   cancels the batch, which is re-planned without it
 * - the lease is an optimisation, not the guard: two combiners at once (an expired lease) still
 *   apply every command at most once, because of the conditions above and the balance versions
 * - a combiner serves the queue in order up to and including its own command (or until the queue is
 *   empty or contention.combineBudgetMs passed), then releases the lease; a waiter whose poll finds the lease
 *   free or expired takes it, so a crashed combiner delays its queue by at most contention.leaseMs
 * - a waiter learns its outcome from the journal's idempotency item (posted: same key, same request
 *   hash) or the command's refusal item (the DomainError, TTL REFUSAL_TTL_DAYS); after
 *   contention.waitDeadlineMs it withdraws its command (delete, attribute_exists): if that succeeds nothing
 *   was posted and it answers 409 account_busy; if not, the command was applied and it reads the outcome
 * - the outcome of a queued command is the one the fast path would have given: the posted journal
 *   (replayed when a twin with the same idempotency key and request posted first),
 *   idempotency_key_reused, or the domain error of the journal (insufficient_funds, account_frozen, ...)
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import { DomainError, type ErrorKind, isDomainError } from '#domain/errors.ts';
import { type Account, applyJournal, type Balance, type PostedPosting } from '#domain/ledger/index.ts';
import { logger } from '#shared/powertools.ts';
import { commit } from '../audit.ts';
import { type CommitWrite, epochSeconds, newItem, tableName } from '../items.ts';
import { ledgerKeys } from '../keys.ts';
import { accountFacts, readShards, type ShardBalance, shardKey, toShardBalance } from './accounts.ts';
import { batchGet, jitter, keyId, ledgerDdb, sleepMs } from './codec.ts';
import {
  balanceWrite,
  getJournal,
  type Idempotency,
  type IdemRecord,
  journalErrors,
  maxIso,
  type PostJournalInput,
  type PostJournalResult,
  reused,
  type StagedJournal,
  soleClient,
  stageJournal,
} from './journal-items.ts';

/** The contention timings (tests shorten them). */
export const contention = {
  /** How long a combiner may hold an account's queue before a waiter may take it over. */
  leaseMs: 5_000,
  /** A combiner stops taking new batches after this long (it has served its own command by then, or the queue is long). */
  combineBudgetMs: 2_000,
  /** A waiter withdraws its command after this long (well inside the 30 s function timeout). */
  waitDeadlineMs: 20_000,
};
/** Commands read per batch (a batch holds as many of them as fit in one transaction). */
const QUERY_LIMIT = 25;
/** DynamoDB's TransactWriteItems limit. */
const MAX_BATCH_ITEMS = 100;
/** Re-plans of one batch after a balance changed under it (a fast-path straggler, another account's combiner). */
const BATCH_ATTEMPTS = 12;
const REFUSAL_TTL_DAYS = 1;
const POLL_FIRST_MS = 10;
const POLL_MAX_MS = 200;

interface QueuedCommand {
  commandId: string;
  accountId: string;
  input: PostJournalInput;
}

// ---------------------------------------------------------------------------------------------
// encoding: a command is stored as JSON with bigints tagged, so drafts round-trip exactly

const BIG = '$bigint';
const encode = (input: PostJournalInput): string =>
  JSON.stringify(input, (_k, v) => (typeof v === 'bigint' ? { [BIG]: v.toString() } : v));
const decode = (payload: string): PostJournalInput =>
  JSON.parse(payload, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v[BIG] === 'string'
      ? BigInt(v[BIG])
      : v,
  ) as PostJournalInput;

interface Refusal {
  code: string;
  kind: ErrorKind;
  message: string;
  errors: DomainError['errors'];
  meta: Record<string, unknown>;
}
const toRefusal = (e: DomainError): Refusal => ({
  code: e.code,
  kind: e.kind,
  message: e.message,
  errors: e.errors,
  meta: e.meta,
});
const fromRefusal = (r: Refusal) => new DomainError(r.code, r.kind, r.message, r.errors ?? [], r.meta ?? {});

const accountBusy = () =>
  new DomainError('account_busy', 'conflict', 'The account is processing too many requests at once; retry shortly');

// ---------------------------------------------------------------------------------------------
// the lease

const leaseLive = (lease: Record<string, unknown> | undefined, now: number) =>
  lease?.holder !== undefined && Number(lease.expiresAtMs) > now;

/**
 * The read a journal starts with, in one BatchGet: its balance shards and, for a plain journal, the
 * touched accounts' command leases (those live are returned in `leased`) and, on the first attempt,
 * its idempotency key (`prior`: a replay answers at once).
 */
export async function readForJournal(
  targets: readonly { accountId: string; shard: number }[],
  idempotency: Idempotency | undefined,
  first: boolean,
): Promise<{ shards: Map<string, ShardBalance>; prior: IdemRecord | undefined; leased: string[] }> {
  const accounts = idempotency ? [...new Set(targets.map((t) => t.accountId))] : [];
  const idemKey = idempotency && first ? ledgerKeys.idempotency(idempotency.scope, idempotency.key) : undefined;
  const got = await batchGet([
    ...targets.map((t) => ledgerKeys.balance(t.accountId, t.shard)),
    ...accounts.map((id) => ledgerKeys.commandLease(id)),
    ...(idemKey ? [idemKey] : []),
  ]);
  const shards = new Map<string, ShardBalance>();
  for (const t of targets) {
    const item = got.get(keyId(ledgerKeys.balance(t.accountId, t.shard)));
    if (item) shards.set(shardKey(t.accountId, t.shard), toShardBalance(item));
  }
  const now = Date.now();
  const leased = accounts.filter((id) => leaseLive(got.get(keyId(ledgerKeys.commandLease(id))), now));
  const idem = idemKey ? got.get(keyId(idemKey)) : undefined;
  const prior = idem
    ? {
        requestHash: String(idem.requestHash),
        resultType: idem.resultType as 'journal' | 'hold',
        resultId: String(idem.resultId),
      }
    : undefined;
  return { shards, prior, leased };
}

async function tryLease(accountId: string, holder: string): Promise<boolean> {
  const now = Date.now();
  try {
    await ledgerDdb().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: ledgerKeys.commandLease(accountId),
        UpdateExpression: 'SET #h = :h, #e = :e, #t = :t, #a = :a',
        ConditionExpression: 'attribute_not_exists(#h) OR #e < :now',
        ExpressionAttributeNames: { '#h': 'holder', '#e': 'expiresAtMs', '#t': 'type', '#a': 'accountId' },
        ExpressionAttributeValues: {
          ':h': holder,
          ':e': now + contention.leaseMs,
          ':now': now,
          ':t': ledgerKeys.commandLeaseType,
          ':a': accountId,
        },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

async function renewLease(accountId: string, holder: string): Promise<boolean> {
  try {
    await ledgerDdb().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: ledgerKeys.commandLease(accountId),
        UpdateExpression: 'SET #e = :e',
        ConditionExpression: '#h = :h',
        ExpressionAttributeNames: { '#h': 'holder', '#e': 'expiresAtMs' },
        ExpressionAttributeValues: { ':h': holder, ':e': Date.now() + contention.leaseMs },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false; // expired and taken over
    throw err;
  }
}

async function releaseLease(accountId: string, holder: string): Promise<void> {
  try {
    await ledgerDdb().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: ledgerKeys.commandLease(accountId),
        UpdateExpression: 'REMOVE #h SET #e = :zero',
        ConditionExpression: '#h = :h',
        ExpressionAttributeNames: { '#h': 'holder', '#e': 'expiresAtMs' },
        ExpressionAttributeValues: { ':h': holder, ':zero': 0 },
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err; // expired and taken over: nothing to release
  }
}

// ---------------------------------------------------------------------------------------------
// the waiter

/** Posts a plain journal through `accountId`'s queue (see the module invariants). */
export async function postSerialised(input: PostJournalInput, accountId: string): Promise<PostJournalResult> {
  const deadline = Date.now() + contention.waitDeadlineMs;
  const commandId = await enqueue(input, accountId);
  return awaitOutcome(input, accountId, commandId, deadline);
}

async function enqueue(input: PostJournalInput, accountId: string): Promise<string> {
  const commandId = ulid();
  const at = new Date();
  await ledgerDdb().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...ledgerKeys.command(accountId, commandId),
        type: ledgerKeys.commandType,
        commandId,
        accountId,
        payload: encode(input),
        enqueuedAt: at.toISOString(),
        // a command is applied within seconds; this only clears what a vanished waiter and combiner left
        expiresAt: epochSeconds(at) + REFUSAL_TTL_DAYS * 86_400,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return commandId;
}

/** Waits for a queued command's outcome, combining the account's queue whenever its lease is free. */
async function awaitOutcome(
  input: PostJournalInput,
  accountId: string,
  commandId: string,
  deadline: number,
): Promise<PostJournalResult> {
  let pause = POLL_FIRST_MS;
  let leaseFree = true;
  for (;;) {
    if (leaseFree && (await tryLease(accountId, commandId))) {
      // a failed batch leaves its commands queued (nothing was written); our own outcome decides our answer
      await combine(accountId, commandId, commandId).catch((err: unknown) =>
        logger.error('ledger: applying a queue failed; its commands stay queued', { accountId, err }),
      );
    }
    const outcome = await readOutcome(input, commandId, accountId);
    if (outcome.result) return outcome.result;
    if (Date.now() > deadline) {
      if (await withdraw(accountId, commandId)) throw accountBusy();
      continue; // applied meanwhile: the next read has its outcome
    }
    leaseFree = !outcome.leaseLive;
    if (!leaseFree) {
      await sleepMs(pause);
      pause = Math.min(POLL_MAX_MS, Math.round(pause * 1.6));
    }
  }
}

/** The command's outcome if it has one (throws a refusal), and whether its account's lease is live. */
async function readOutcome(
  input: PostJournalInput,
  commandId: string,
  accountId: string,
): Promise<{ result?: PostJournalResult; leaseLive: boolean }> {
  const { scope, key, requestHash } = input.idempotency;
  const keys = {
    idem: ledgerKeys.idempotency(scope, key),
    refusal: ledgerKeys.commandResult(commandId),
    lease: ledgerKeys.commandLease(accountId),
  };
  const got = await batchGet(Object.values(keys));
  const refusal = got.get(keyId(keys.refusal));
  if (refusal) throw fromRefusal(JSON.parse(String(refusal.refusal)) as Refusal);
  const idem = got.get(keyId(keys.idem));
  if (idem) {
    if (idem.requestHash !== requestHash || idem.resultType !== 'journal') throw reused();
    const journal = await getJournal(String(idem.resultId));
    if (!journal) throw new Error(`ledger: idempotency key ${scope}/${key} names missing journal ${String(idem.resultId)}`);
    return { result: { journal, replayed: idem.commandId !== commandId }, leaseLive: true };
  }
  const lease = got.get(keyId(keys.lease));
  return { leaseLive: leaseLive(lease, Date.now()) };
}

/** Withdraws a command still queued; false when a combiner applied (or refused) it first. */
async function withdraw(accountId: string, commandId: string): Promise<boolean> {
  try {
    await ledgerDdb().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Delete: {
              TableName: tableName(),
              Key: ledgerKeys.command(accountId, commandId),
              ConditionExpression: 'attribute_exists(pk)',
            },
          },
        ],
      }),
    );
    logger.warn('ledger: a queued journal was withdrawn after waiting too long', { accountId, commandId });
    return true;
  } catch (err) {
    if (err instanceof TransactionCanceledException) return false;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// the combiner

/** Applies the account's queue in batches up to and including `own` (or until it is empty or the budget is spent). */
async function combine(accountId: string, holder: string, own: string): Promise<void> {
  const until = Date.now() + contention.combineBudgetMs;
  try {
    for (let batch = 0; Date.now() < until; batch++) {
      // a slow batch must not let the lease lapse under us: renewed before every batch but the first (and
      // before every transaction inside a batch: applyBatch's `keep`)
      if (batch > 0 && !(await renewLease(accountId, holder))) return;
      const page = await ledgerDdb().send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': ledgerKeys.commandQueuePartition(accountId) },
          ConsistentRead: true,
          Limit: QUERY_LIMIT,
        }),
      );
      const items = page.Items ?? [];
      if (items.length === 0) return;
      const commands: QueuedCommand[] = [];
      for (const item of items) {
        try {
          commands.push({ commandId: String(item.commandId), accountId, input: decode(String(item.payload)) });
        } catch (err) {
          logger.error('ledger: an unreadable queued command is refused', { accountId, commandId: item.commandId, err });
          await refuseUnreadable(accountId, String(item.commandId));
        }
      }
      // serve the queue up to and including our own command; waiters take over the rest
      const applied = await applyBatch(commands, () => renewLease(accountId, holder));
      if (applied.has(own)) return;
    }
  } finally {
    await releaseLease(accountId, holder);
  }
}

async function refuseUnreadable(accountId: string, commandId: string): Promise<void> {
  const e = new DomainError('command_unreadable', 'conflict', 'The queued command could not be read; retry');
  await plainTransaction([dequeue(accountId, commandId, e), refusalWrite(commandId, e, new Date().toISOString())]);
}

const dequeue = (accountId: string, commandId: string, gone: DomainError): CommitWrite => ({
  Delete: { Key: ledgerKeys.command(accountId, commandId), ConditionExpression: 'attribute_exists(pk)' },
  conditionFailedError: gone,
});

function refusalWrite(commandId: string, e: DomainError, at: string): CommitWrite {
  return {
    Put: {
      Item: {
        ...newItem({ ...ledgerKeys.commandResult(commandId), type: ledgerKeys.commandResultType }, at),
        commandId,
        refusal: JSON.stringify(toRefusal(e)),
        expiresAt: epochSeconds(new Date(at)) + REFUSAL_TTL_DAYS * 86_400,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** A transaction with no audit entry (a batch in which every command was refused or replayed). */
async function plainTransaction(writes: CommitWrite[]): Promise<void> {
  const table = tableName();
  try {
    await ledgerDdb().send(
      new TransactWriteCommand({
        TransactItems: writes.map((w) => {
          if ('Put' in w) return { Put: { ...w.Put, TableName: table } };
          if ('Delete' in w) return { Delete: { ...w.Delete, TableName: table } };
          throw new Error('plainTransaction: only puts and deletes');
        }),
      }),
    );
  } catch (err) {
    if (!(err instanceof TransactionCanceledException)) throw err;
    const i = (err.CancellationReasons ?? []).findIndex((r) => r.Code === 'ConditionalCheckFailed');
    throw (i >= 0 ? writes[i]?.conditionFailedError : undefined) ?? err;
  }
}

/**
 * Applies as many of `commands` (in order) as fit in one transaction, re-planning when a balance
 * changed under it; returns the ids of the commands it applied, refused or found already done.
 */
async function applyBatch(commands: QueuedCommand[], keep: () => Promise<boolean>): Promise<Set<string>> {
  const done = new Set<string>();
  let pending = commands;
  // after an unexpected failure the next batch holds one command, so one bad command cannot block the queue
  let isolate = false;
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt >= BATCH_ATTEMPTS) {
      logger.warn('ledger: a queued batch kept racing; left queued for the next combiner', { commands: pending.length });
      return done;
    }
    // every transaction after the first renews the lease; a combiner that lost it stops (another one took over)
    if ((attempt > 0 || done.size > 0) && !(await keep())) return done;
    const plan = await planBatch(isolate ? pending.slice(0, 1) : pending);
    try {
      if (plan.staged.length > 0) {
        await commit({
          writes: plan.writes,
          audit: plan.staged.map((s) => s.audit),
          outbox: plan.staged.map((s) => s.outbox),
          now: () => new Date(plan.at),
          conflictError: plan.race,
        });
      } else {
        await plainTransaction(plan.writes);
      }
      for (const c of plan.taken) done.add(c.commandId);
      pending = pending.slice(plan.taken.length);
      attempt = -1;
      isolate = false;
    } catch (err) {
      const owner = plan.owners.get(err as DomainError);
      if (err === plan.race) {
        await sleepMs(jitter(attempt));
      } else if (owner && (err as DomainError).code === 'command_gone') {
        done.add(owner.commandId); // withdrawn by its waiter (or applied by a second combiner)
        pending = pending.filter((c) => c !== owner);
      } else if (!owner && plan.taken.length > 1) {
        logger.error('ledger: a queued batch failed; applying its commands one by one', { err });
        isolate = true;
      } else if (!owner) {
        // one command the table will not take (e.g. an item over 400 KB): refused, so the queue moves on
        const c = plan.taken[0]!;
        logger.error('ledger: a queued journal could not be written; refused', { commandId: c.commandId, err });
        const e = new DomainError('journal_rejected', 'unprocessable', 'The journal could not be written');
        const gone = new DomainError('command_gone', 'conflict', 'The queued command was withdrawn or applied');
        await plainTransaction([dequeue(c.accountId, c.commandId, gone), refusalWrite(c.commandId, e, plan.at)]).catch(
          (again: unknown) => {
            if (again !== gone) throw again;
          },
        );
        done.add(c.commandId);
        pending = pending.slice(1);
      }
      // an idempotency key or journal id taken by a concurrent twin shows in the next plan's read
    }
  }
  return done;
}

interface BatchPlan {
  at: string;
  race: DomainError;
  taken: QueuedCommand[];
  staged: StagedJournal[];
  writes: CommitWrite[];
  /** Which command a per-command condition error belongs to. */
  owners: Map<DomainError, QueuedCommand>;
}

async function planBatch(pending: QueuedCommand[]): Promise<BatchPlan> {
  const facts = await accountFacts([...new Set(pending.flatMap((c) => c.input.draft.postings.map((p) => p.accountId)))]);
  const targetsOf = (c: QueuedCommand) =>
    [...new Set(c.input.draft.postings.map((p) => p.accountId))].flatMap((accountId) => {
      const f = facts.get(accountId);
      return f ? [{ accountId, shard: ledgerKeys.shardFor(c.input.draft.journalId, f.shards) }] : [];
    });
  const allTargets = new Map<string, { accountId: string; shard: number }>();
  for (const c of pending) for (const t of targetsOf(c)) allTargets.set(shardKey(t.accountId, t.shard), t);
  const idemKeys = [
    ...new Map(
      pending.map((c) => {
        const k = ledgerKeys.idempotency(c.input.idempotency.scope, c.input.idempotency.key);
        return [keyId(k), k] as const;
      }),
    ).values(),
  ];
  const [read, idems] = await Promise.all([readShards([...allTargets.values()]), batchGet(idemKeys)]);

  let at = new Date().toISOString();
  for (const s of read.values()) at = maxIso(at, s.lastPostedAt);
  const state = new Map<string, Balance>(read);
  const seen = new Map<string, { requestHash: string; journal: boolean }>();
  for (const item of idems.values()) {
    seen.set(`${String(item.scope)}\u0000${String(item.key)}`, {
      requestHash: String(item.requestHash),
      journal: item.resultType === 'journal',
    });
  }

  const race = new DomainError('concurrent_modification', 'conflict', 'A balance changed while posting; retry');
  const plan: BatchPlan = { at, race, taken: [], staged: [], writes: [], owners: new Map() };
  const touched = new Set<string>();
  let items = 0;
  for (const c of pending) {
    const { draft, idempotency } = c.input;
    const gone = new DomainError('command_gone', 'conflict', 'The queued command was withdrawn or applied');
    plan.owners.set(gone, c);
    const k = `${idempotency.scope}\u0000${idempotency.key}`;
    const prior = seen.get(k);
    if (prior) {
      // posted already (a twin with the same key): the waiter reads the journal from the key; another request is refused
      const refusal = prior.requestHash === idempotency.requestHash && prior.journal ? undefined : reused();
      if (items + (refusal ? 2 : 1) > MAX_BATCH_ITEMS) break;
      plan.writes.push(dequeue(c.accountId, c.commandId, gone), ...(refusal ? [refusalWrite(c.commandId, refusal, at)] : []));
      items += refusal ? 2 : 1;
      plan.taken.push(c);
      continue;
    }
    const targets = targetsOf(c);
    const fresh = targets.filter((t) => !touched.has(shardKey(t.accountId, t.shard))).length;
    // idempotency key, journal, postings, audit item + head, event, dequeue; plus any balance shard not yet updated
    const cost = 6 + draft.postings.length + fresh;
    if (items + Math.max(cost, 2) > MAX_BATCH_ITEMS) break;
    const accounts = new Map<string, Account>();
    const balances = new Map<string, Balance>();
    for (const t of targets) {
      const s = read.get(shardKey(t.accountId, t.shard));
      if (!s) continue;
      accounts.set(t.accountId, { ...facts.get(t.accountId)!, flags: s.flags });
      balances.set(t.accountId, state.get(shardKey(t.accountId, t.shard))!);
    }
    let next: Map<string, Balance>;
    try {
      next = applyJournal(balances, draft, accounts);
    } catch (err) {
      if (!isDomainError(err)) throw err;
      plan.writes.push(dequeue(c.accountId, c.commandId, gone), refusalWrite(c.commandId, err, at));
      items += 2;
      plan.taken.push(c);
      continue;
    }
    const errors = journalErrors(draft.journalId, race);
    plan.owners.set(errors.idemTaken, c);
    plan.owners.set(errors.journalTaken, c);
    const shardOf = new Map(targets.map((t) => [t.accountId, t.shard]));
    const postings: PostedPosting[] = draft.postings.map((p) => {
      const after = next.get(p.accountId)!;
      return { ...p, shard: shardOf.get(p.accountId)!, seq: after.seq, balanceAfter: after.ledger };
    });
    for (const t of targets) {
      state.set(shardKey(t.accountId, t.shard), next.get(t.accountId)!);
      touched.add(shardKey(t.accountId, t.shard));
    }
    const staged = stageJournal(
      c.input,
      postings,
      at,
      c.input.clientId ?? soleClient([...accounts.values()]),
      errors,
      c.commandId,
    );
    plan.staged.push(staged);
    plan.writes.push(...staged.writes, dequeue(c.accountId, c.commandId, gone));
    items += cost;
    plan.taken.push(c);
    seen.set(k, { requestHash: idempotency.requestHash, journal: true });
  }
  for (const key of touched) plan.writes.push(balanceWrite(read.get(key) as ShardBalance, state.get(key)!, at, race));
  return plan;
}

export const __test = { encode, decode, enqueue, awaitOutcome, combine, tryLease };
