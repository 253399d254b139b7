/**
 * Security event items: the trace an attack leaves, counted per hour (docs/decisions/0010-security-events.md;
 * rules in domain/security/events.ts; keys in securityEventKeys). Recording (coalescing, the target cap, the
 * time budget) and opening a compliance case at a threshold are the use case's
 * (functions/app/platform/record-security-event.ts); this module reads and writes the items.
 *
 * Invariants:
 * - declared once as an entity (securityEventEntity): its index attributes come from securityEventIndexes on
 *   every write (the UpdateItem below), every item read is parsed; the case counters (SECCOUNT) are bare
 *   counters read only through their UpdateItem's answer
 * - one item per (kind, by, target, hour bucket) (eventIdOf), counted with UpdateItem ADD: a burst is ONE item
 *   whose `count` is the burst's size, never one item (nor one audit entry) per request
 * - an event about a client carries that client's trail index (gsi1 CLIENTAUDIT#<clientId>), so the client's
 *   trail returns it beside the client's audit entries; it is not an audit entry (not hash-chained, not archived)
 * - items expire (TTL) RETENTION_DAYS after their bucket; case counters (SECCOUNT) CASE_COUNT_TTL_SECONDS after it
 * - no email is ever stored (an unknown account is a hash); sources are the addresses API Gateway saw
 */
import { createHash } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { bucketStart, SECURITY_EVENT_KINDS, type SecurityEventKind } from '#domain/security/events.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { defineEntity, type IndexAttributes, type ItemOf } from './entity.ts';
import { tableName } from './items.ts';
import { securityEventKeys } from './keys.ts';
import { type Page, queryPages } from './pagination.ts';
import { parsePart, stringMap } from './schemas.ts';

export const RETENTION_DAYS = 400;
/** Case counters outlive their hour by a day (late, coalesced writes still land in the right bucket). */
const CASE_COUNT_TTL_SECONDS = 25 * 3600;

/** One occurrence of an event as written: its identity (eventId: kind, by, target, bucket) and what it says. */
export interface SecurityEventWrite {
  eventId: string;
  kind: SecurityEventKind;
  by: string;
  target: string;
  /** The client whose trail shows it (absent: on no trail). */
  clientId?: string | undefined;
  bucket: string;
  at: Date;
  source: string;
  requestId: string;
  /** A few facts as strings; the first occurrence's are kept. */
  detail?: Record<string, string> | undefined;
}

const securityEventSchema = z.object({
  eventId: z.string().min(1),
  kind: z.enum(SECURITY_EVENT_KINDS),
  by: z.string(),
  target: z.string(),
  /** The client whose trail shows it (absent: on no trail). */
  clientId: z.string().min(1).optional(),
  bucket: z.string().min(1),
  count: z.number().int(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  lastSource: z.string(),
  lastRequestId: z.string(),
  detail: stringMap().optional(),
  /** TTL (epoch seconds): RETENTION_DAYS after the bucket. */
  expiresAt: z.number().int(),
});

/**
 * The event's indexes: every event by time (gsi2) and by kind (gsi3); an event about a client also on that
 * client's trail (gsi1, at its first occurrence). Used by the entity and by writeSecurityEvent's UpdateItem.
 */
const securityEventIndexes = (
  e: Pick<z.output<typeof securityEventSchema>, 'eventId' | 'kind' | 'bucket' | 'clientId' | 'firstSeenAt'>,
): IndexAttributes => ({
  ...securityEventKeys.listIndex(e.bucket, e.kind, e.eventId),
  ...securityEventKeys.kindIndex(e.kind, e.bucket, e.eventId),
  ...(e.clientId ? securityEventKeys.clientTrailIndex(e.clientId, e.firstSeenAt, e.eventId) : {}),
});

/** A counted security event. Written only by writeSecurityEvent's UpdateItem ADD (one item per burst), read parsed. */
export const securityEventEntity = defineEntity({
  type: securityEventKeys.type,
  schema: securityEventSchema,
  key: (e) => securityEventKeys.key(e.eventId),
  indexes: securityEventIndexes,
});

export type SecurityEventItem = ItemOf<typeof securityEventEntity>;

export const eventIdOf = (kind: string, by: string, target: string, bucket: string) =>
  createHash('sha256').update(`${kind}\u0000${by}\u0000${target}\u0000${bucket}`, 'utf8').digest('hex').slice(0, 32);

// ------------------------------------------------------------------------------------------------ writing

/** Adds `count` occurrences to the event's item (created on its first write). */
export async function writeSecurityEvent(o: SecurityEventWrite, count: number): Promise<void> {
  const iso = o.at.toISOString();
  const names: Record<string, string> = {
    '#type': 'type',
    '#tenant': 'tenant',
    '#eventId': 'eventId',
    '#kind': 'kind',
    '#by': 'by',
    '#target': 'target',
    '#bucket': 'bucket',
    '#first': 'firstSeenAt',
    '#last': 'lastSeenAt',
    '#source': 'lastSource',
    '#request': 'lastRequestId',
    '#expires': 'expiresAt',
    '#detail': 'detail',
    '#created': 'createdAt',
    '#updated': 'updatedAt',
    '#count': 'count',
    '#version': 'version',
  };
  const values: Record<string, unknown> = {
    ':type': securityEventKeys.type,
    ':tenant': env.tenant,
    ':eventId': o.eventId,
    ':kind': o.kind,
    ':by': o.by,
    ':target': o.target,
    ':bucket': o.bucket,
    ':iso': iso,
    ':source': o.source,
    ':request': o.requestId,
    ':expires': Math.floor(Date.parse(bucketStart(o.bucket)) / 1000) + RETENTION_DAYS * 86_400,
    ':detail': o.detail ?? {},
    ':count': count,
    ':one': 1,
  };
  const set = [
    '#type = :type',
    '#tenant = :tenant',
    '#eventId = :eventId',
    '#kind = :kind',
    '#by = :by',
    '#target = :target',
    '#bucket = :bucket',
    '#first = if_not_exists(#first, :iso)',
    '#last = :iso',
    '#source = :source',
    '#request = :request',
    '#expires = :expires',
    '#detail = if_not_exists(#detail, :detail)',
    '#created = if_not_exists(#created, :iso)',
    '#updated = :iso',
  ];
  if (o.clientId) {
    Object.assign(names, { '#client': 'clientId' });
    Object.assign(values, { ':client': o.clientId });
    set.push('#client = :client');
  }
  // The entity's indexes, as of a first write (firstSeenAt = now); the trail's sort key is the first
  // occurrence's time, so it is kept from the first write (if_not_exists) like firstSeenAt itself.
  const indexes = securityEventIndexes({ ...o, firstSeenAt: iso });
  for (const [attr, value] of Object.entries(indexes)) {
    names[`#${attr}`] = attr;
    values[`:${attr}`] = value;
    set.push(attr === 'gsi1sk' ? `#${attr} = if_not_exists(#${attr}, :${attr})` : `#${attr} = :${attr}`);
  }
  await ddb().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: securityEventKeys.key(o.eventId),
      UpdateExpression: `SET ${set.join(', ')} ADD #count :count, #version :one`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
}

/** Adds `count` to a client's case counter for one kind of case and bucket; returns the counter's new total. */
export async function addToCaseCount(caseKind: string, clientId: string, bucket: string, count: number): Promise<number> {
  const res = await ddb().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: securityEventKeys.caseCount(caseKind, clientId, bucket),
      UpdateExpression: 'SET #type = :type, #tenant = :tenant, #expires = :expires ADD #count :count',
      ExpressionAttributeNames: { '#type': 'type', '#tenant': 'tenant', '#expires': 'expiresAt', '#count': 'count' },
      ExpressionAttributeValues: {
        ':type': securityEventKeys.caseCountType,
        ':tenant': env.tenant,
        ':expires': Math.floor(Date.parse(bucketStart(bucket)) / 1000) + CASE_COUNT_TTL_SECONDS,
        ':count': count,
      },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(res.Attributes?.count ?? 0);
}

// ------------------------------------------------------------------------------------------------ reading

export interface SecurityEventQuery {
  kind?: SecurityEventKind | undefined;
  /** Inclusive hour buckets. */
  fromBucket: string;
  toBucket: string;
}

function partitionOf(q: SecurityEventQuery) {
  return q.kind
    ? { index: 'gsi3' as const, partition: securityEventKeys.kindPartition(q.kind), pk: 'gsi3pk', sk: 'gsi3sk' }
    : { index: 'gsi2' as const, partition: securityEventKeys.listPartition, pk: 'gsi2pk', sk: 'gsi2sk' };
}

const rangeOf = (q: SecurityEventQuery): [string, string] => [q.fromBucket, `${q.toBucket}#\uffff`];

/** One page of events in the window, newest bucket first (eventually consistent). */
export function listSecurityEvents(
  q: SecurityEventQuery & { limit: number; cursor?: string | undefined },
): Promise<Page<SecurityEventItem>> {
  const p = partitionOf(q);
  return securityEventEntity.query({
    index: p.index,
    partition: p.partition,
    sortBetween: rangeOf(q),
    limit: q.limit,
    cursor: q.cursor,
    forward: false,
  });
}

export interface SecuritySummary {
  total: number;
  byKind: Partial<Record<SecurityEventKind, number>>;
  topSources: { source: string; count: number }[];
  topTargets: { target: string; count: number }[];
  eventsScanned: number;
  /** More than `max` events in the window: the figures cover the newest `max`. */
  truncated: boolean;
}

/** The attributes the summary projects, parsed by their part of the event's schema. */
const summaryFields = securityEventSchema.pick({ kind: true, by: true, target: true, count: true });
const parseSummaryFields = (raw: Record<string, unknown>) => parsePart(securityEventEntity.type, summaryFields, raw);

const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);

/** Counts per kind and the top sources (`by`) and targets in the window, over at most `max` events. */
export async function summarizeSecurityEvents(q: SecurityEventQuery, max = 5_000, topN = 10): Promise<SecuritySummary> {
  const p = partitionOf(q);
  const [lo, hi] = rangeOf(q);
  const byKind = new Map<SecurityEventKind, number>();
  const sources = new Map<string, number>();
  const targets = new Map<string, number>();
  let scanned = 0;
  let total = 0;
  let truncated = false;
  const pages = queryPages<Record<string, unknown>>({
    IndexName: p.index,
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
    ExpressionAttributeNames: { '#pk': p.pk, '#sk': p.sk, '#kind': 'kind', '#by': 'by', '#target': 'target', '#count': 'count' },
    ExpressionAttributeValues: { ':pk': p.partition, ':lo': lo, ':hi': hi },
    ProjectionExpression: '#kind, #by, #target, #count',
    ScanIndexForward: false,
    Limit: 1_000,
  });
  outer: for await (const page of pages) {
    for (const raw of page) {
      const e = parseSummaryFields(raw);
      if (scanned >= max) {
        truncated = true;
        break outer;
      }
      scanned++;
      const n = e.count;
      total += n;
      byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + n);
      sources.set(e.by, (sources.get(e.by) ?? 0) + n);
      targets.set(e.target, (targets.get(e.target) ?? 0) + n);
    }
  }
  return {
    total,
    byKind: Object.fromEntries(byKind),
    topSources: top(sources, topN).map(([source, count]) => ({ source, count })),
    topTargets: top(targets, topN).map(([target, count]) => ({ target, count })),
    eventsScanned: scanned,
    truncated,
  };
}
