/**
 * THE AUDIT PRIMITIVE. `commit()` turns a command's state changes into one DynamoDB transaction
 * that also holds one audit item per AuditInput, the hash-chain head of every audited entity and
 * the command's outbox events.
 *
 * Invariants:
 * - all or nothing: the state change, its audit items, the chain heads and the outbox items are
 *   written by ONE TransactWriteItems, so no change is ever stored without its audit item and no
 *   event is ever published for a change that did not commit
 * - per entity, audit seqs run 1, 2, 3, ... without gaps: the head item (sk HEAD) is written in the
 *   same transaction, conditioned on the seq read just before (optimistic concurrency); a race on
 *   the head is retried (re-read, re-link) under the auditHead retry policy (MAX_ATTEMPTS attempts)
 * - each audit item stores hash = H(prevHash + canonical(record)) (domain/audit/chain.ts, SHA-256)
 * - a failed condition on one of the caller's own writes is never retried: the caller's
 *   `conditionFailedError` for that write (or a generic 'conflict') is thrown, chosen by the
 *   index of the CancellationReasons entry
 * - audit items about a client carry gsi1pk = CLIENTAUDIT#<clientId>, so a client's trail is one query
 * - a transaction holds at most 100 items; a larger commit is rejected before anything is sent
 * - nothing here logs: audit content contains PII
 */

import { createHash } from 'node:crypto';
import { TransactionCanceledException, TransactionInProgressException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AuditActor,
  type AuditEntityRef,
  type AuditRecord,
  type ChainedRecord,
  type ChainHead,
  type HashFn,
  link,
  normalizeForAudit,
} from '#domain/audit/chain.ts';
import { DomainError } from '#domain/errors.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { RETRY_POLICIES, withRetry } from '#shared/retry.ts';
import { queryPages } from '#store/pagination.ts';
import { type CommitWrite, type TransactItem, tableName } from './items.ts';
import { auditKeys } from './keys.ts';
import { type OutboxEvent, outboxItem } from './outbox.ts';

export const MAX_TRANSACTION_ITEMS = 100;
export const MAX_ATTEMPTS = RETRY_POLICIES.auditHead.attempts;

export const sha256Hex: HashFn = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

/** What a caller says about a change; commit() adds seq, at, tenant and the chain hashes. */
export interface AuditInput extends Omit<AuditRecord, 'seq' | 'at' | 'tenant'> {
  /**
   * The entity is created by this very commit (a new journal, say), so its chain starts here: the
   * head is not read first but written with attribute_not_exists. Saves a round trip on hot paths;
   * if a head exists after all, the transaction fails on it and the retry reads it as usual.
   */
  newEntity?: boolean;
}

export interface CommitInput {
  writes: CommitWrite[];
  audit: AuditInput | AuditInput[];
  outbox?: OutboxEvent[];
  /** Clock, for tests. */
  now?: () => Date;
  /**
   * Thrown instead of retrying when one of `writes` conflicts with another transaction in flight
   * (TransactionConflict on a state-change item, not on an audit head): for callers that serialise
   * contended work themselves rather than wait it out (the ledger's contended accounts, ADR 0012).
   * A function is given the index (in `writes`) of the first conflicting write.
   */
  conflictError?: Error | ((writeIndex: number) => Error);
}

export interface CommitResult {
  audit: { entity: AuditEntityRef; seq: number; hash: string }[];
  events: { eventId: string; detailType: string }[];
  at: string;
}

export class TransactionTooLargeError extends Error {
  constructor(readonly items: number) {
    super(`commit: ${items} items exceed the DynamoDB limit of ${MAX_TRANSACTION_ITEMS} items per transaction`);
    this.name = 'TransactionTooLargeError';
  }
}

/** The stored audit item (keys + hashed record + chain fields + envelope). */
export interface AuditItem extends ChainedRecord {
  pk: string;
  sk: string;
  type: 'audit';
  createdAt: string;
  updatedAt: string;
  version: number;
  gsi1pk?: string;
  gsi1sk?: string;
}

export interface AuditHeadItem {
  pk: string;
  sk: string;
  type: 'audit-head';
  entityType: string;
  entityId: string;
  clientId?: string;
  seq: number;
  hash: string;
  gsi2pk: string;
  gsi2sk: string;
  tenant: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

const entityId = (e: AuditEntityRef) => `${e.type}#${e.id}`;

function groupByEntity(inputs: AuditInput[]): Map<string, AuditInput[]> {
  const groups = new Map<string, AuditInput[]>();
  for (const a of inputs) {
    const k = entityId(a.entity);
    const g = groups.get(k);
    if (g) g.push(a);
    else groups.set(k, [a]);
  }
  return groups;
}

/** Counts the items a commit would put in its transaction. */
export function transactionSize(input: Pick<CommitInput, 'writes' | 'audit' | 'outbox'>): number {
  const audits = Array.isArray(input.audit) ? input.audit : [input.audit];
  return input.writes.length + audits.length + groupByEntity(audits).size + (input.outbox?.length ?? 0);
}

export async function readHead(entity: AuditEntityRef): Promise<AuditHeadItem | undefined> {
  const res = await ddb().send(
    new GetCommand({ TableName: tableName(), Key: auditKeys.head(entity.type, entity.id), ConsistentRead: true }),
  );
  return res.Item as AuditHeadItem | undefined;
}

function toTransactItem(w: CommitWrite, table: string): TransactItem {
  if ('Put' in w) return { Put: { ...w.Put, TableName: w.Put.TableName ?? table } };
  if ('Update' in w) return { Update: { ...w.Update, TableName: w.Update.TableName ?? table } };
  if ('Delete' in w) return { Delete: { ...w.Delete, TableName: w.Delete.TableName ?? table } };
  return { ConditionCheck: { ...w.ConditionCheck, TableName: w.ConditionCheck.TableName ?? table } };
}

function buildAudit(
  groups: Map<string, AuditInput[]>,
  heads: Map<string, AuditHeadItem | undefined>,
  at: string,
  table: string,
): { items: TransactItem[]; results: CommitResult['audit'] } {
  const tenant = env.tenant;
  const items: TransactItem[] = [];
  const results: CommitResult['audit'] = [];
  for (const [k, inputs] of groups) {
    const head = heads.get(k);
    const first = inputs[0]!;
    let prev: ChainHead | undefined = head ? { seq: head.seq, hash: head.hash } : undefined;
    for (const a of inputs) {
      const rec = link(
        prev,
        {
          at,
          tenant,
          actor: { id: a.actor.id, role: a.actor.role },
          action: a.action,
          entity: { type: a.entity.type, id: a.entity.id },
          clientId: a.clientId,
          before: normalizeForAudit(a.before),
          after: normalizeForAudit(a.after),
          reason: a.reason,
          evidence: a.evidence === undefined ? undefined : normalizeForAudit(a.evidence),
          requestId: a.requestId,
        },
        sha256Hex,
      );
      const item: AuditItem = {
        ...auditKeys.item(a.entity.type, a.entity.id, rec.seq),
        type: 'audit',
        ...rec,
        createdAt: at,
        updatedAt: at,
        version: 1,
        ...(a.clientId ? auditKeys.clientTrailIndex(a.clientId, at, a.entity.type, a.entity.id, rec.seq) : {}),
      };
      items.push({ Put: { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } });
      results.push({ entity: a.entity, seq: rec.seq, hash: rec.hash });
      prev = { seq: rec.seq, hash: rec.hash };
    }
    const newHead: AuditHeadItem = {
      ...auditKeys.head(first.entity.type, first.entity.id),
      type: 'audit-head',
      entityType: first.entity.type,
      entityId: first.entity.id,
      ...(head?.clientId || first.clientId ? { clientId: head?.clientId ?? first.clientId } : {}),
      seq: prev!.seq,
      hash: prev!.hash,
      ...auditKeys.headIndex(first.entity.type, first.entity.id),
      tenant,
      createdAt: head?.createdAt ?? at,
      updatedAt: at,
      version: prev!.seq,
    };
    items.push({
      Put: head
        ? {
            TableName: table,
            Item: newHead,
            ConditionExpression: '#seq = :seq',
            ExpressionAttributeNames: { '#seq': 'seq' },
            ExpressionAttributeValues: { ':seq': head.seq },
          }
        : { TableName: table, Item: newHead, ConditionExpression: 'attribute_not_exists(pk)' },
    });
  }
  return { items, results };
}

/** A cancellation worth another attempt (RETRY_POLICIES.auditHead); ends as concurrent_modification. */
class Contended extends Error {}

/** Writes state changes + audit items + chain heads + outbox items in one transaction. */
export async function commit(input: CommitInput): Promise<CommitResult> {
  const audits = Array.isArray(input.audit) ? input.audit : [input.audit];
  if (audits.length === 0) throw new Error('commit: at least one audit input is required');
  const size = transactionSize(input);
  if (size > MAX_TRANSACTION_ITEMS) throw new TransactionTooLargeError(size);

  const clock = input.now ?? (() => new Date());
  const table = tableName();
  const groups = groupByEntity(audits);
  const writes = input.writes.map((w) => toTransactItem(w, table));
  const firstAt = clock();
  const outbox = (input.outbox ?? []).map((e) => outboxItem(e, firstAt));
  const outboxWrites: TransactItem[] = outbox.map((item) => ({
    Put: { TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
  }));

  const once = async (attempt: number): Promise<CommitResult> => {
    const heads = new Map<string, AuditHeadItem | undefined>();
    await Promise.all(
      [...groups].map(async ([k, inputs]) => {
        const fresh = attempt === 1 && inputs.every((a) => a.newEntity);
        heads.set(k, fresh ? undefined : await readHead(inputs[0]!.entity));
      }),
    );
    const at = (attempt === 1 ? firstAt : clock()).toISOString();
    const audit = buildAudit(groups, heads, at, table);
    try {
      await ddb().send(new TransactWriteCommand({ TransactItems: [...writes, ...audit.items, ...outboxWrites] }));
      return { audit: audit.results, events: outbox.map((o) => ({ eventId: o.eventId, detailType: o.detailType })), at };
    } catch (err) {
      // An SDK retry of a transaction whose first attempt is still running (same client token).
      const inProgress = err instanceof TransactionInProgressException;
      if (!(err instanceof TransactionCanceledException) && !inProgress) throw err;
      const reasons = inProgress ? [] : ((err as TransactionCanceledException).CancellationReasons ?? []);
      for (let i = 0; i < input.writes.length; i++) {
        if (reasons[i]?.Code === 'ConditionalCheckFailed') {
          throw (
            input.writes[i]!.conditionFailedError ??
            new DomainError('conflict', 'conflict', 'The resource was changed by another request; reload and retry')
          );
        }
      }
      const conflicted = reasons.findIndex((r, i) => i < input.writes.length && r.Code === 'TransactionConflict');
      if (input.conflictError && conflicted >= 0) {
        throw typeof input.conflictError === 'function' ? input.conflictError(conflicted) : input.conflictError;
      }
      // Conflicts with another transaction, a throttled hot partition, or a lost race on an audit chain
      // head are worth another attempt; anything else (validation, the caller's own conditions) is not.
      const retryable =
        inProgress ||
        reasons.some(
          (r, i) =>
            r.Code === 'TransactionConflict' ||
            r.Code === 'ThrottlingError' ||
            r.Code === 'ProvisionedThroughputExceeded' ||
            (i >= input.writes.length && r.Code === 'ConditionalCheckFailed'),
        );
      if (!retryable) throw err;
      throw new Contended('commit: contended', { cause: err });
    }
  };
  try {
    return await withRetry('auditHead', once, (err) => err instanceof Contended);
  } catch (err) {
    if (!(err instanceof Contended)) throw err;
    throw new DomainError('concurrent_modification', 'conflict', 'Too many concurrent changes to the same record; retry');
  }
}

/** A stored audit item as a chained record (storage attributes dropped). */
export function toChainedRecord(item: Record<string, unknown>): ChainedRecord {
  const i = item as unknown as AuditItem;
  return {
    seq: i.seq,
    at: i.at,
    tenant: i.tenant,
    actor: i.actor,
    action: i.action,
    entity: i.entity,
    clientId: i.clientId,
    before: i.before,
    after: i.after,
    reason: i.reason,
    evidence: i.evidence,
    requestId: i.requestId,
    hash: i.hash,
    prevHash: i.prevHash,
  };
}

/** Pages through one entity's audit items in seq order, up to `maxSeq` (inclusive) when given. */
export async function* auditItems(entity: AuditEntityRef, opts: { maxSeq?: number; pageSize?: number } = {}) {
  const pk = auditKeys.partition(entity.type, entity.id);
  const upper = opts.maxSeq === undefined ? undefined : auditKeys.item(entity.type, entity.id, opts.maxSeq).sk;
  const pages = queryPages({
    KeyConditionExpression: upper ? 'pk = :pk AND sk BETWEEN :lo AND :hi' : 'pk = :pk AND begins_with(sk, :lo)',
    ExpressionAttributeValues: upper
      ? { ':pk': pk, ':lo': auditKeys.seqPrefix, ':hi': upper }
      : { ':pk': pk, ':lo': auditKeys.seqPrefix },
    ConsistentRead: true,
    Limit: opts.pageSize ?? 500,
  });
  for await (const page of pages) yield page.map(toChainedRecord);
}

/** The audit actor for a signed-in caller: its sub and the first of its roles that the route admits. */
export function actorFrom(caller: { sub: string; roles: readonly string[] }, allowed: readonly string[]): AuditActor {
  const role = caller.roles.find((r) => allowed.includes(r)) ?? caller.roles[0] ?? 'unknown';
  return { id: caller.sub, role };
}

/** The actor for work a system component does on its own (scheduled jobs, workers). */
export const systemActor = (component: string): AuditActor => ({ id: `system:${component}`, role: 'system' });
