/**
 * Deposits (pk DEPOSIT#<depositId>, sk DEPOSIT; keys.ts paymentKeys): the stored item, its
 * transitions, its lists and the view the API shows.
 *
 * Invariants:
 * - a deposit id is derived from (client, Idempotency-Key): `dep_<hash>`, so a retried create finds
 *   the deposit it made; the item holds the request hash, and another body under the same key is
 *   422 idempotency_key_reused
 * - status moves only along domain/payments/status.ts DEPOSIT_TRANSITIONS (depositTransition asserts
 *   it), each change a whole-item replace conditioned on the version read, appending exactly one
 *   timeline entry { status, at, reason? } per status entered
 * - the sparse open index (gsi2 DEPOSITSOPEN#<n>, by intentExpiresAt) is present exactly while the
 *   deposit is created or pending: every transition to another status drops it
 * - gsi1 lists a client's deposits by creation time (DEPOSITS#<clientId>)
 * - the view never shows storage attributes; a client sees reasons as localised text besides the code;
 *   provider, providerRef, clientId and journalId are for staff only
 */
import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditActor } from '#domain/audit/chain.ts';
import { canonicalJson } from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { type MoneyJson, toMinor } from '#domain/money/index.ts';
import { findMethod, labelFor } from '#domain/payments/methods.ts';
import type { NextAction } from '#domain/payments/ports.ts';
import { paymentReasonText } from '#domain/payments/reasons.ts';
import { assertTransition, DEPOSIT_TRANSITIONS, type DepositStatus } from '#domain/payments/status.ts';
import { ddb } from '#shared/clients.ts';
import { tenantConfig } from '#shared/tenant.ts';
import { type Page, queryPage, queryPages } from '#store/pagination.ts';
import type { AuditInput } from '../audit.ts';
import { type CommitWrite, newItem, putNew, replaceVersioned, tableName } from '../items.ts';
import { paymentKeys } from '../keys.ts';
import type { OutboxEvent } from '../outbox.ts';
import { releasePreVerification } from './client-state.ts';
import type { DepositItem, TimelineEntry } from './types.ts';

/**
 * The stored deposit: DepositItem plus what this module keeps besides it.
 * - payerAccount: the account the client said it pays from (bank wire IBAN), the funding source when
 *   the provider's event names none
 * - preVerificationCounted: what the deposit reserved of the pre-verification allowance, in the
 *   limit's currency (released on failed / expired)
 */
export type StoredDeposit = DepositItem & {
  payerAccount?: string | undefined;
  preVerificationCounted?: MoneyJson | undefined;
};

export const DEPOSIT_ENTITY = paymentKeys.depositType;

/** The deterministic deposit id of a client's create request with this Idempotency-Key. */
export const depositIdFor = (clientId: string, idempotencyKey: string) =>
  `dep_${createHash('sha256').update(`${clientId}\u0000${idempotencyKey}`, 'utf8').digest('hex').slice(0, 32)}`;

/** sha256 of a request's canonical JSON (the same request hashes the same whatever its key order). */
export const depositRequestHash = (body: unknown) => createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');

/** 404 for a missing deposit and for another client's: indistinguishable. */
export const depositNotFound = () => new DomainError('deposit_not_found', 'not_found', 'No deposit with this id');

export async function getDeposit(depositId: string, opts: { consistent?: boolean } = {}): Promise<StoredDeposit | undefined> {
  const res = await ddb().send(
    new GetCommand({ TableName: tableName(), Key: paymentKeys.deposit(depositId), ConsistentRead: opts.consistent ?? false }),
  );
  return res.Item as StoredDeposit | undefined;
}

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

/** A new deposit in 'created', in the client's list and the open index. */
export function newDeposit(f: NewDepositFields, now: string): StoredDeposit {
  const item = newItem(
    {
      ...paymentKeys.deposit(f.depositId),
      type: paymentKeys.depositType,
      ...f,
      status: 'created' as DepositStatus,
      timeline: [{ status: 'created' as DepositStatus, at: now }],
      ...(f.preVerificationCounted ? { preVerification: true } : {}),
      ...paymentKeys.clientDepositsIndex(f.clientId, now, f.depositId),
      ...paymentKeys.openDepositIndex(f.depositId, f.intentExpiresAt),
      ...paymentKeys.depositStatusIndex('created', now, f.depositId),
    },
    now,
  );
  return stripUndefined(item) as StoredDeposit;
}

const stripUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Puts a new deposit (409 deposit_exists when the id is taken: the caller re-reads it). */
export const putDeposit = (d: StoredDeposit): CommitWrite =>
  putNew(d, new DomainError('deposit_exists', 'conflict', 'A deposit with this id exists'));

const isOpen = (s: DepositStatus) => s === 'created' || s === 'pending';

export interface DepositTransition {
  at: string;
  reason?: string | undefined;
  /** Other attributes changed with the status (providerRef, journalId, ...). */
  patch?: Partial<StoredDeposit>;
}

/**
 * `read` moved to `to`: the next item and its versioned write. Throws invalid_status_transition (409)
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
  const { gsi2pk: _p, gsi2sk: _s, ...rest } = read;
  const next = stripUndefined({
    ...rest,
    ...(t.patch ?? {}),
    status: to,
    timeline: [...read.timeline, ...entries],
    ...(to === 'failed' || to === 'expired' ? { failureReason: t.reason } : {}),
    ...(isOpen(to) ? paymentKeys.openDepositIndex(read.depositId, t.patch?.intentExpiresAt ?? read.intentExpiresAt) : {}),
    ...paymentKeys.depositStatusIndex(to, t.at, read.depositId),
  }) as StoredDeposit;
  return { next, write: replaceVersioned(read, next, t.at, 'deposit') };
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
        detailType: `payment.deposit.${to}`,
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

/** The deposit as the API shows it (see the module invariants). */
export function depositView(d: StoredDeposit, locale: string, opts: { staff?: boolean } = {}) {
  const cfg = tenantConfig();
  const method = findMethod(cfg, d.methodId);
  return {
    depositId: d.depositId,
    status: d.status,
    walletId: d.walletId,
    method: {
      id: d.methodId,
      kind: d.methodKind,
      label: method ? labelFor(method, locale, cfg.defaultLocale) : d.methodId,
    },
    gross: d.gross,
    fee: d.fee,
    net: d.net,
    ...(d.nextAction && isOpen(d.status) ? { nextAction: d.nextAction as NextAction } : {}),
    intentExpiresAt: d.intentExpiresAt,
    firstDeposit: d.firstDeposit ?? false,
    ...(d.refunded ? { refunded: d.refunded } : {}),
    ...(d.sourceDisplay ? { source: d.sourceDisplay } : {}),
    timeline: d.timeline.map((e) => ({
      status: e.status,
      at: e.at,
      ...(e.reason ? { reason: e.reason, reasonText: paymentReasonText(e.reason, locale) } : {}),
    })),
    ...(d.completedAt ? { completedAt: d.completedAt } : {}),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    ...(opts.staff
      ? {
          clientId: d.clientId,
          provider: d.provider,
          ...(d.providerRef ? { providerRef: d.providerRef } : {}),
          ...(d.journalId ? { journalId: d.journalId } : {}),
        }
      : {}),
  };
}

export type DepositView = ReturnType<typeof depositView>;

/** A client's deposits, newest first. */
export function listClientDeposits(
  clientId: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<StoredDeposit>> {
  return queryPage<StoredDeposit>({
    index: 'gsi1',
    partition: paymentKeys.clientDepositsPartition(clientId),
    limit: opts.limit,
    cursor: opts.cursor,
    forward: false,
  });
}

/**
 * One page of the tenant's deposits in `status` (gsi3, eventually consistent): the open ones (created,
 * pending) oldest first, the order they need attention in; the others newest first.
 */
export function listDepositsByStatus(
  status: DepositStatus,
  opts: { limit: number; cursor?: string | undefined },
): Promise<Page<StoredDeposit>> {
  return queryPage<StoredDeposit>({
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
    yield* queryPages<StoredDeposit>(
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
