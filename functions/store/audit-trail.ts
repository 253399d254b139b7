/**
 * Reading the audit trail: a client's trail (one gsi1 query, newest first), chain heads (gsi2,
 * sharded) and whole-chain verification.
 *
 * Invariants:
 * - a client's trail is exactly the audit items whose clientId is that client, and the security events about
 *   that client (store/security-events.ts: counted items, not chained), newest first in one gsi1 query; each
 *   entry says which it is (`entryType` 'audit' | 'security-event')
 * - a chain is verified against its head as read BEFORE its items (consistent reads), and only up
 *   to the head's seq, so concurrent appends never produce a false break
 */

import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { type ChainBreak, type ChainHead, findChainBreak, GENESIS_HASH } from '#domain/audit/chain.ts';
import { ddb } from '#shared/clients.ts';
import { queryPages } from '#store/pagination.ts';
import { type AuditHeadItem, type AuditItem, auditItems, readHead, sha256Hex } from './audit.ts';
import { tableName } from './items.ts';
import { AUDIT_HEAD_SHARDS, auditKeys, securityEventKeys } from './keys.ts';
import { type Page, queryPage } from './pagination.ts';
import { type SecurityEventItem, type SecurityEventView, securityEventView } from './security-events.ts';

export function auditEntryView(i: AuditItem) {
  return {
    seq: i.seq,
    at: i.at,
    actor: i.actor,
    action: i.action,
    entity: i.entity,
    clientId: i.clientId,
    before: i.before ?? null,
    after: i.after ?? null,
    reason: i.reason,
    evidence: i.evidence,
    requestId: i.requestId,
    hash: i.hash,
    prevHash: i.prevHash,
  };
}
export type AuditEntryView = ReturnType<typeof auditEntryView>;

export type TrailEntryView = ({ entryType: 'audit' } & AuditEntryView) | ({ entryType: 'security-event' } & SecurityEventView);

/** One entry of a client's trail: an audit entry, or a security event about the client. */
export function trailEntryView(i: AuditItem | SecurityEventItem): TrailEntryView {
  return i.type === securityEventKeys.type
    ? { entryType: 'security-event', ...securityEventView(i as SecurityEventItem) }
    : { entryType: 'audit', ...auditEntryView(i as AuditItem) };
}

export async function clientTrail(clientId: string, limit: number, cursor?: string): Promise<Page<TrailEntryView>> {
  const page = await queryPage<AuditItem | SecurityEventItem>({
    index: 'gsi1',
    partition: auditKeys.clientTrailPartition(clientId),
    limit,
    cursor,
    forward: false,
  });
  return { ...page, items: page.items.map(trailEntryView) };
}

/** Every chain head, shard by shard. */
export async function* chainHeads(pageSize = 200): AsyncGenerator<AuditHeadItem[]> {
  for (let shard = 0; shard < AUDIT_HEAD_SHARDS; shard++) {
    yield* queryPages<AuditHeadItem>({
      IndexName: 'gsi2',
      KeyConditionExpression: 'gsi2pk = :p',
      ExpressionAttributeValues: { ':p': auditKeys.headShardPartition(shard) },
      Limit: pageSize,
    });
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
  return res.Item as AuditItem | undefined;
}
