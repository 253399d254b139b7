/**
 * Every key in the single table, declared once per entity. Call sites never concatenate key parts:
 * they call these functions. Prefixes are unique per entity so overloaded indexes never collide.
 *
 * Invariants:
 * - each entity's pk/sk (and index keys) are composed only here
 * - seqs are zero-padded to SEQ_WIDTH digits, so lexical sk order is numeric order
 * - emails are used in keys only in their normalised form (domain/identity normalizeEmail)
 * - index partitions that gather many items (CLIENTS, STAFF, AUDITHEAD#n) are listed here, so their
 *   write heat is visible in one place; audit heads are sharded over AUDIT_HEAD_SHARDS partitions
 */
import { normalizeEmail } from '#domain/identity/rules.ts';

export const SEQ_WIDTH = 12;
export const padSeq = (seq: number) => String(seq).padStart(SEQ_WIDTH, '0');

export const AUDIT_HEAD_SHARDS = 16;

/** Small, stable string hash (FNV-1a 32-bit) for shard selection. */
function shardOf(s: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export interface Key {
  pk: string;
  sk: string;
}

export const clientKeys = {
  type: 'client',
  key: (clientId: string): Key => ({ pk: `CLIENT#${clientId}`, sk: 'PROFILE' }),
  /** gsi1: all clients by creation time. */
  listIndex: (createdAt: string, clientId: string) => ({ gsi1pk: clientKeys.listPartition, gsi1sk: `${createdAt}#${clientId}` }),
  listPartition: 'CLIENTS',
} as const;

export const staffKeys = {
  type: 'staff',
  key: (staffId: string): Key => ({ pk: `STAFF#${staffId}`, sk: 'PROFILE' }),
  /** gsi1: all staff users by creation time. */
  listIndex: (createdAt: string, staffId: string) => ({ gsi1pk: staffKeys.listPartition, gsi1sk: `${createdAt}#${staffId}` }),
  listPartition: 'STAFF',
} as const;

export const uniqueEmailKeys = {
  type: 'unique-email',
  key: (email: string): Key => ({ pk: `UNIQUE#EMAIL#${normalizeEmail(email)}`, sk: 'UNIQUE' }),
} as const;

export const auditKeys = {
  type: 'audit',
  headType: 'audit-head',
  partition: (entityType: string, entityId: string) => `AUDIT#${entityType}#${entityId}`,
  item: (entityType: string, entityId: string, seq: number): Key => ({
    pk: auditKeys.partition(entityType, entityId),
    sk: `SEQ#${padSeq(seq)}`,
  }),
  seqPrefix: 'SEQ#',
  head: (entityType: string, entityId: string): Key => ({ pk: auditKeys.partition(entityType, entityId), sk: 'HEAD' }),
  /** gsi1 on audit items that concern a client: that client's whole trail in one query. */
  clientTrailIndex: (clientId: string, at: string, entityType: string, entityId: string, seq: number) => ({
    gsi1pk: auditKeys.clientTrailPartition(clientId),
    gsi1sk: `${at}#${entityType}#${entityId}#${padSeq(seq)}`,
  }),
  clientTrailPartition: (clientId: string) => `CLIENTAUDIT#${clientId}`,
  /** gsi2 on chain heads: every chain, spread over AUDIT_HEAD_SHARDS partitions (read by the verify job). */
  headIndex: (entityType: string, entityId: string) => ({
    gsi2pk: auditKeys.headShardPartition(shardOf(`${entityType}#${entityId}`, AUDIT_HEAD_SHARDS)),
    gsi2sk: `${entityType}#${entityId}`,
  }),
  headShardPartition: (shard: number) => `AUDITHEAD#${String(shard).padStart(2, '0')}`,
} as const;

export const outboxKeys = {
  type: 'outbox',
  key: (eventId: string): Key => ({ pk: `OUTBOX#${eventId}`, sk: 'OUTBOX' }),
} as const;

export const emailKeys = {
  type: 'email',
  key: (messageId: string): Key => ({ pk: `EMAIL#${messageId}`, sk: 'EMAIL' }),
  /** gsi1: messages to one recipient, oldest first (lets the local runtime and tests find them). */
  recipientIndex: (to: string, createdAt: string, messageId: string) => ({
    gsi1pk: emailKeys.recipientPartition(to),
    gsi1sk: `${createdAt}#${messageId}`,
  }),
  recipientPartition: (to: string) => `EMAILTO#${normalizeEmail(to)}`,
} as const;

export const notifiedKeys = {
  type: 'notified',
  key: (eventId: string): Key => ({ pk: `NOTIFIED#${eventId}`, sk: 'NOTIFIED' }),
} as const;

export const jobRunKeys = {
  type: 'job-run',
  key: (job: string, runId: string): Key => ({ pk: `JOB#${job}`, sk: `RUN#${runId}` }),
  runPrefix: 'RUN#',
  partition: (job: string) => `JOB#${job}`,
} as const;
