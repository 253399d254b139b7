/**
 * Reading the audit trail: a client's trail (one gsi1 query, newest first), chain heads (gsi2,
 * sharded) and whole-chain verification.
 *
 * Invariants:
 * - audit items and chain heads are written by commit() only (functions/store/audit.ts); their entities here
 *   (auditItemEntity, auditHeadEntity) declare their keys and indexes and parse every item read, so a
 *   malformed one is a StoredItemError, never a silent cast
 * - a client's trail is exactly the audit items whose clientId is that client, and the security events about
 *   that client (store/security-events.ts: counted items, not chained), newest first in one gsi1 query; an
 *   item's `type` says which it is ('audit' | 'security-event')
 * - a chain is verified against its head as read BEFORE its items (consistent reads), and only up
 *   to the head's seq, so concurrent appends never produce a false break
 */

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { type ChainBreak, type ChainedRecord, type ChainHead, findChainBreak, GENESIS_HASH } from '#domain/audit/chain.ts';
import { ddb } from '#shared/clients.ts';
import { type AuditHeadItem, type AuditItem, auditItems, readHead, sha256Hex } from './audit.ts';
import { defineEntity, StoredItemError } from './entity.ts';
import { tableName } from './items.ts';
import { AUDIT_HEAD_SHARDS, auditKeys } from './keys.ts';
import { type Page, queryPage, queryPages } from './pagination.ts';
import { nested } from './schemas.ts';
import { type SecurityEventItem, securityEventEntity } from './security-events.ts';

const refSchema = nested({ type: z.string().min(1), id: z.string().min(1) });

/**
 * An audit item as commit() (functions/store/audit.ts) writes it: the hashed record and its chain fields.
 * Read side only: audit items are written by commit() alone, never through this entity. The record is
 * parsed without being changed (before / after / evidence are kept as stored), so its hash still verifies.
 */
export const auditItemEntity = defineEntity({
  type: auditKeys.type,
  schema: z.object({
    seq: z.number().int().min(1),
    at: z.string().min(1),
    actor: nested({ id: z.string(), role: z.string() }),
    action: z.string().min(1),
    entity: refSchema,
    clientId: z.string().min(1).optional(),
    before: z.unknown(),
    after: z.unknown(),
    reason: z.string().optional(),
    evidence: z.unknown().optional(),
    requestId: z.string(),
    hash: z.string().min(1),
    prevHash: z.string().min(1),
  }) satisfies z.ZodType<Omit<ChainedRecord, 'tenant'>>,
  key: (a) => auditKeys.item(a.entity.type, a.entity.id, a.seq),
  indexes: (a) => (a.clientId ? auditKeys.clientTrailIndex(a.clientId, a.at, a.entity.type, a.entity.id, a.seq) : {}),
});

/** A chain head (sk HEAD): written by commit() alone; gsi2 spreads every head over AUDIT_HEAD_SHARDS partitions. */
export const auditHeadEntity = defineEntity({
  type: auditKeys.headType,
  schema: z.object({
    entityType: z.string().min(1),
    entityId: z.string().min(1),
    clientId: z.string().min(1).optional(),
    seq: z.number().int().min(1),
    hash: z.string().min(1),
  }),
  key: (h) => auditKeys.head(h.entityType, h.entityId),
  indexes: (h) => auditKeys.headIndex(h.entityType, h.entityId),
});

/*
 * An audit item is validated by its entity and then returned AS READ (same object, same attribute order): the
 * archived line of an item (audit-archive.ts archiveLine) must not depend on whether it came from the stream or
 * from a GetItem, and the record's hash is over exactly what was stored. The types are commit()'s own
 * declarations (audit.ts); the assertion only bridges what zod cannot say (an `unknown` before/after reads as
 * optional, and the head's gsi2 attributes, always computed on write, are optional on any entity item).
 */

/** A raw audit item (e.g. a stream record's NewImage), validated; StoredItemError when it is not a well-formed one. */
export function parseAuditItem(raw: unknown): AuditItem {
  auditItemEntity.parse(raw);
  return raw as AuditItem;
}

const parseAuditHead = (raw: unknown): AuditHeadItem => auditHeadEntity.parse(raw) as AuditHeadItem;

/** An entry of a client's trail: one of its audit items, or a security event about it. */
export type TrailItem = AuditItem | SecurityEventItem;

function parseTrailItem(raw: Record<string, unknown>): TrailItem {
  if (auditItemEntity.is(raw)) return parseAuditItem(raw);
  if (securityEventEntity.is(raw)) return securityEventEntity.parse(raw);
  throw new StoredItemError(String(raw.type ?? 'unknown'), undefined, [
    { path: 'type', message: 'not an entry of a client trail (audit | security-event)' },
  ]);
}

/** One page of a client's trail, newest first (one gsi1 query); each entry parsed by its own entity. */
export async function clientTrail(clientId: string, limit: number, cursor?: string): Promise<Page<TrailItem>> {
  const page = await queryPage<Record<string, unknown>>({
    index: 'gsi1',
    partition: auditKeys.clientTrailPartition(clientId),
    limit,
    cursor,
    forward: false,
  });
  return { ...page, items: page.items.map(parseTrailItem) };
}

/** Every chain head, shard by shard. */
export async function* chainHeads(pageSize = 200): AsyncGenerator<AuditHeadItem[]> {
  for (let shard = 0; shard < AUDIT_HEAD_SHARDS; shard++) {
    for await (const page of queryPages<unknown>({
      IndexName: 'gsi2',
      KeyConditionExpression: 'gsi2pk = :p',
      ExpressionAttributeValues: { ':p': auditKeys.headShardPartition(shard) },
      Limit: pageSize,
    })) {
      yield page.map(parseAuditHead);
    }
  }
}

export interface ChainVerification {
  entityType: string;
  entityId: string;
  clientId?: string | undefined;
  headSeq: number;
  break: ChainBreak | null;
  /** The item at headSeq as read (seq and at, which place its archive object), when it was read. */
  tip?: { seq: number; at: string } | undefined;
}

/** Verifies one entity's chain, page by page, against its (freshly re-read) head. */
export async function verifyEntityChain(entityType: string, entityId: string): Promise<ChainVerification> {
  const headItem = await readHead({ type: entityType, id: entityId });
  const head: ChainHead = { seq: headItem?.seq ?? 0, hash: headItem?.hash ?? GENESIS_HASH };
  let from: ChainHead = { seq: 0, hash: GENESIS_HASH };
  let found: ChainBreak | null = null;
  let clientId = headItem?.clientId;
  let tip: ChainVerification['tip'];
  for await (const page of auditItems({ type: entityType, id: entityId }, { maxSeq: head.seq })) {
    if (page.length === 0) continue;
    clientId ??= page.find((r) => r.clientId)?.clientId;
    found = findChainBreak(page, sha256Hex, { from });
    if (found) break;
    const last = page[page.length - 1]!;
    from = { seq: last.seq, hash: last.hash };
    if (last.seq === head.seq) tip = { seq: last.seq, at: last.at };
  }
  // Items missing at the tail (or a head that does not match the last item) break the chain too.
  if (!found) found = findChainBreak([], sha256Hex, { from, head });
  return { entityType, entityId, clientId, headSeq: head.seq, break: found, tip };
}

/** One stored audit item, as stored (storage attributes included), read consistently. */
export async function getAuditItem(entityType: string, entityId: string, seq: number): Promise<AuditItem | undefined> {
  const res = await ddb().send(
    new GetCommand({ TableName: tableName(), Key: auditKeys.item(entityType, entityId, seq), ConsistentRead: true }),
  );
  return res.Item === undefined ? undefined : parseAuditItem(res.Item);
}
