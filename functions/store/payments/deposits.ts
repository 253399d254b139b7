/**
 * Deposits (pk DEPOSIT#<depositId>, sk DEPOSIT; keys.ts paymentKeys; the item is declared once in
 * types.ts depositEntity): its transitions and its lists (the view the API shows is
 * functions/api/shared/deposit-view.ts).
 *
 * Invariants:
 * - a deposit id is derived from (client, Idempotency-Key): `dep_<hash>`, so a retried create finds
 *   the deposit it made; the item holds the request hash, and another body under the same key is
 *   422 idempotency_key_reused
 * - status moves only along domain/payments/status.ts DEPOSIT_TRANSITIONS (depositTransition asserts
 *   it), each change a whole-item replace conditioned on the version read, appending exactly one
 *   timeline entry { status, at, reason? } per status entered
 * - the sparse open index (gsi2 DEPOSITSOPEN#<n>, by intentExpiresAt) is present exactly while the
 *   deposit is created or pending: the entity recomputes it on every write, so a transition to another
 *   status drops it; reads parse (a malformed item is a StoredItemError, never a cast)
 * - gsi1 lists a client's deposits by creation time (DEPOSITS#<clientId>)
 */
import { createHash } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditActor } from '#domain/audit/chain.ts';
import { canonicalJson } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { toMinor } from '#domain/money/index.ts';
import { assertTransition, DEPOSIT_TRANSITIONS, type DepositStatus } from '#domain/payments/status.ts';
import { ddb } from '#shared/clients.ts';
import { decodeCursor, encodeCursor, type Page } from '#store/pagination.ts';
import type { AuditInput } from '../audit.ts';
import type { CommitWrite } from '../items.ts';
import { tableName } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import type { OutboxEvent } from '../outbox.ts';
import { releasePreVerification } from './client-state.ts';
import { type DepositItem, depositEntity, type TimelineEntry } from './types.ts';

/** The stored deposit (types.ts DepositSchema: payerAccount, preVerificationCounted and refundsPending included). */
export type StoredDeposit = DepositItem;

export const DEPOSIT_ENTITY = depositEntity.type;

/** The deterministic deposit id of a client's create request with this Idempotency-Key. */
export const depositIdFor = (clientId: string, idempotencyKey: string) =>
  `dep_${createHash('sha256').update(`${clientId}\u0000${idempotencyKey}`, 'utf8').digest('hex').slice(0, 32)}`;

/** sha256 of a request's canonical JSON (the same request hashes the same whatever its key order). */
export const depositRequestHash = (body: unknown) => createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');

/** 404 for a missing deposit and for another client's: indistinguishable. */
export const depositNotFound = () => new DomainError('deposit_not_found', 'not_found', 'No deposit with this id');

export const getDeposit = (depositId: string, opts: { consistent?: boolean } = {}): Promise<StoredDeposit | undefined> =>
  depositEntity.get(paymentKeys.deposit(depositId), opts);

/** What the create route decides; the status, timeline, keys and envelope are added here. */
export type NewDepositFields = Pick<
  StoredDeposit,
  | 'depositId'
  | 'clientId'
  | 'walletId'
  | 'methodId'
  | 'methodKind'
  | 'provider'
  | 'gross'
  | 'fee'
  | 'net'
  | 'idempotencyKey'
  | 'requestHash'
  | 'intentExpiresAt'
  | 'payerAccount'
  | 'preVerificationCounted'
>;

/** A new deposit in 'created' (the entity puts it in the client's list, the open index and the status index). */
export function newDeposit(f: NewDepositFields, now: string): StoredDeposit {
  return depositEntity.item(
    {
      ...f,
      status: 'created',
      timeline: [{ status: 'created', at: now }],
      ...(f.preVerificationCounted ? { preVerification: true } : {}),
    },
    now,
  );
}

const stripUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Puts a new deposit (409 deposit_exists when the id is taken: the caller re-reads it). */
export const putDeposit = (d: StoredDeposit): CommitWrite =>
  depositEntity.putNew(d, new DomainError('deposit_exists', 'conflict', 'A deposit with this id exists'));

const isOpen = (s: DepositStatus) => s === 'created' || s === 'pending';

export interface DepositTransition {
  at: string;
  reason?: string | undefined;
  /** Other attributes changed with the status (providerRef, journalId, ...). */
  patch?: Partial<StoredDeposit>;
}

/**
 * `read` moved to `to`: the next item (as written: version + 1, indexes recomputed by the entity) and its
 * versioned write. Throws invalid_status_transition (409)
 * for a move DEPOSIT_TRANSITIONS does not allow. A created deposit completing directly gets a
 * 'pending' entry first (the provider had it), so the timeline always shows created -> pending -> ...
 */
export function depositTransition(
  read: StoredDeposit,
  to: DepositStatus,
  t: DepositTransition,
): { next: StoredDeposit; write: CommitWrite } {
  const entries: TimelineEntry<DepositStatus>[] = [];
  if (read.status === 'created' && to === 'completed') {
    entries.push({ status: 'pending', at: t.at });
    assertTransition('deposit', DEPOSIT_TRANSITIONS, 'pending', to);
  } else {
    assertTransition('deposit', DEPOSIT_TRANSITIONS, read.status, to);
  }
  entries.push(t.reason ? { status: to, at: t.at, reason: t.reason } : { status: to, at: t.at });
  const changed: StoredDeposit = {
    ...read,
    ...(t.patch ?? {}),
    status: to,
    timeline: [...read.timeline, ...entries],
    ...(to === 'failed' || to === 'expired' ? { failureReason: t.reason } : {}),
  };
  return { next: depositEntity.replaced(read, changed, t.at), write: depositEntity.replace(read, changed, t.at) };
}

export interface DepositChange {
  next: StoredDeposit;
  writes: CommitWrite[];
  audit: AuditInput;
  outbox: OutboxEvent[];
}

/**
 * A deposit ending 'failed' or 'expired': the versioned replace, the release of its pre-verification
 * reservation (if it made one), the audit entry 'payment.deposit.<to>' and the outbox event
 * 'payment.deposit.<to>'. The caller commits them together (adding e.g. the webhook marker).
 */
export function depositClosing(
  read: StoredDeposit,
  to: 'failed' | 'expired',
  c: { at: string; reason: string; actor: AuditActor; requestId: string },
): DepositChange {
  const { next, write } = depositTransition(read, to, { at: c.at, reason: c.reason });
  const writes: CommitWrite[] = [write];
  const pv = read.preVerificationCounted;
  if (pv) writes.push(releasePreVerification(read.clientId, { minor: toMinor(pv.amount, pv.currency), currency: pv.currency }));
  return {
    next,
    writes,
    audit: {
      actor: c.actor,
      action: `payment.deposit.${to}`,
      entity: { type: DEPOSIT_ENTITY, id: read.depositId },
      clientId: read.clientId,
      before: depositSnapshot(read),
      after: depositSnapshot(next),
      reason: c.reason,
      requestId: c.requestId,
    },
    outbox: [
      {
        detailType: to === 'failed' ? 'payment.deposit.failed' : 'payment.deposit.expired',
        detail: {
          depositId: read.depositId,
          clientId: read.clientId,
          walletId: read.walletId,
          methodId: read.methodId,
          gross: read.gross.amount,
          currency: read.gross.currency,
          reason: c.reason,
        },
      },
    ],
  };
}

/** The payment's audit snapshot (no keys, no timeline: the audit chain is the history). */
export function depositSnapshot(d: StoredDeposit) {
  return stripUndefined({
    depositId: d.depositId,
    status: d.status,
    walletId: d.walletId,
    methodId: d.methodId,
    provider: d.provider,
    providerRef: d.providerRef,
    gross: d.gross,
    fee: d.fee,
    net: d.net,
    journalId: d.journalId,
    firstDeposit: d.firstDeposit,
    failureReason: d.failureReason,
    preVerificationCounted: d.preVerificationCounted,
  });
}

/** A client's deposits, newest first. */
export function listClientDeposits(
  clientId: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<StoredDeposit>> {
  return depositEntity.query({
    index: 'gsi1',
    partition: paymentKeys.clientDepositsPartition(clientId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });
}

/**
 * One page of a client's deposits, newest first, optionally of one status. With a status filter a page
 * is filled by reading on (the filter applies after DynamoDB's Limit), and the cursor is the last
 * returned item's key, so no item is skipped or shown twice.
 */
export async function listClientDepositsFiltered(q: {
  clientId: string;
  status?: DepositStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}): Promise<Page<StoredDeposit>> {
  const partition = paymentKeys.clientDepositsPartition(q.clientId);
  let start: Record<string, unknown> | undefined = q.cursor ? decodeCursor(q.cursor, { index: 'gsi1', partition }) : undefined;
  const items: StoredDeposit[] = [];
  let more = false;
  do {
    const res = await ddb().send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :p',
        ...(q.status
          ? {
              FilterExpression: '#s = :s',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':p': partition, ':s': q.status },
            }
          : { ExpressionAttributeValues: { ':p': partition } }),
        ScanIndexForward: false,
        Limit: q.limit + 1,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of (res.Items ?? []).map(depositEntity.parse)) {
      if (items.length === q.limit) {
        more = true;
        break;
      }
      items.push(item);
    }
    start = res.LastEvaluatedKey;
  } while (!more && start);
  if (!more && !start) return { items, hasMore: false };
  const last = items[items.length - 1];
  if (!last) return { items, hasMore: false };
  const { pk, sk, gsi1pk, gsi1sk } = depositEntity.indexed(last);
  const key = { pk, sk, gsi1pk, gsi1sk };
  return { items, hasMore: true, nextCursor: encodeCursor(key) };
}

/**
 * One page of the tenant's deposits in `status` (gsi3, eventually consistent): the open ones (created,
 * pending) oldest first, the order they need attention in; the others newest first.
 */
export function listDepositsByStatus(
  status: DepositStatus,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<StoredDeposit>> {
  return depositEntity.query({
    index: 'gsi3',
    partition: paymentKeys.depositStatusPartition(status),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: isOpen(status),
  });
}

/**
 * Open (created / pending) deposits whose intent expires before `dueBy` (all open ones without it),
 * page by page over the open index's shards. The index copy is eventually consistent: decide on a
 * consistent re-read (getDeposit(id, { consistent: true })).
 */
export async function* openDeposits(opts: { dueBy?: Date } = {}): AsyncGenerator<StoredDeposit[]> {
  for (let n = 0; n < paymentKeys.openDepositShards; n++) {
    const partition = paymentKeys.openDepositPartition(n);
    yield* depositEntity.queryPages(
      opts.dueBy
        ? {
            IndexName: 'gsi2',
            KeyConditionExpression: 'gsi2pk = :p AND gsi2sk < :due',
            ExpressionAttributeValues: { ':p': partition, ':due': opts.dueBy.toISOString() },
          }
        : {
            IndexName: 'gsi2',
            KeyConditionExpression: 'gsi2pk = :p',
            ExpressionAttributeValues: { ':p': partition },
          },
    );
  }
}
