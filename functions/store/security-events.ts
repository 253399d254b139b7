/**
 * Security events: the trace an attack leaves (docs/decisions/0010-security-events.md; rules in
 * domain/security/events.ts; keys in securityEventKeys).
 *
 * Invariants:
 * - one item per (kind, by, target, hour bucket), counted with UpdateItem ADD: a burst is ONE item whose
 *   `count` is the burst's size, never one item (nor one audit entry) per request
 * - the recorder coalesces in memory, per event identity: the first occurrence in a COALESCE_MS window is
 *   written at once, later ones only add to a pending count that is written when the window ends (a timer,
 *   the next occurrence after it, or flushSecurityEvents). So the table sees at most one write per identity
 *   per container every COALESCE_MS, whatever the request rate. A container that ends holding a pending count
 *   loses it: counts are lower bounds, but no identity ever goes unrecorded
 * - one `by` reaches at most MAX_TARGETS_PER_BY distinct targets per kind and bucket in one container; further
 *   targets are counted under target '*' (enumerating ids does not make us write one item per id)
 * - recording never fails a request and never holds it long: errors are logged and swallowed, and a caller
 *   waits at most RECORD_BUDGET_MS for the write (which carries on in the background)
 * - an event about a client (the client who did it, else the client it was done to) carries that client's
 *   trail index (gsi1 CLIENTAUDIT#<clientId>), so GET /v1/admin/clients/{clientId}/audit returns it beside the
 *   client's audit entries; it is not an audit entry (not hash-chained, not archived): see the ADR
 * - items expire (TTL) RETENTION_DAYS after their bucket; what must be kept longer is the compliance case a
 *   threshold opens, which is audited and holds the counts as evidence
 * - a client's events of a case rule's kinds are also counted per bucket (SECCOUNT, UpdateItem ADD, coalesced
 *   the same way, counted before the target cap); the one write whose ADD makes the count reach the rule's
 *   threshold opens the case (one per client and bucket: its id is derived from both and written
 *   put-if-absent), in one commit with its 'compliance.case.opened' audit entry and outbox event
 * - no email is ever stored (an unknown account is a hash); sources are the addresses API Gateway saw
 */
import { createHash } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isDomainError } from '#domain/errors.ts';
import {
  bucketStart,
  caseRuleFor,
  crossedThreshold,
  hourBucket,
  type SecurityCaseRule,
  type SecurityEventKind,
} from '#domain/security/events.ts';
import { ddb } from '#shared/clients.ts';
import { env } from '#shared/env.ts';
import { logger } from '#shared/powertools.ts';
import { commit, systemActor } from './audit.ts';
import { tableName } from './items.ts';
import { securityEventKeys } from './keys.ts';
import { type Page, queryPage, queryPages } from './pagination.ts';
import { type CaseKind, openCaseCommit } from './payments/cases.ts';
import type { BaseItem } from './table.ts';

export const COALESCE_MS = 2_000;
export const RECORD_BUDGET_MS = 250;
export const MAX_TARGETS_PER_BY = 20;
export const RETENTION_DAYS = 400;
/** Case counters outlive their hour by a day (late, coalesced writes still land in the right bucket). */
const CASE_COUNT_TTL_SECONDS = 25 * 3600;
const MAX_SLOTS = 5_000;
export const OVERFLOW_TARGET = '*';

export interface SecurityEventInput {
  kind: SecurityEventKind;
  /** Who did it: `user:<sub>` when signed in, else the source (`ip:...`). */
  by: string;
  /** What it aimed at: `client:<id>`, `staff:<id>`, `account:<hash>`, a route key, `psp:<provider>`. */
  target: string;
  /** The client whose trail shows it: the client who did it, else the client it was done to. */
  clientId?: string | undefined;
  /** The request's source (domain/security sourceOf). */
  source: string;
  requestId: string;
  /** A few facts as strings (route, code, roles); the first occurrence's are kept. */
  detail?: Record<string, string> | undefined;
  at?: Date;
}

export type SecurityEventItem = BaseItem & {
  type: 'security-event';
  eventId: string;
  kind: SecurityEventKind;
  by: string;
  target: string;
  clientId?: string;
  bucket: string;
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
  lastSource: string;
  lastRequestId: string;
  detail?: Record<string, string>;
  expiresAt: number;
};

interface Occurrence extends SecurityEventInput {
  eventId: string;
  bucket: string;
  at: Date;
  /** The client the event counts towards a case for (before the target cap). */
  caseClientId?: string | undefined;
}

/**
 * Per-key coalescing: the first add in a COALESCE_MS window is written at once, later ones add to a pending
 * count written when the window ends (timer), on the next add after it, or on flush.
 */
class Coalescer<T> {
  private readonly slots = new Map<
    string,
    { writtenAt: number; pending?: { value: T; count: number }; timer?: NodeJS.Timeout }
  >();

  constructor(private readonly write: (value: T, count: number) => Promise<void>) {}

  /** Writes now (returns the write) or adds to the key's pending count (returns undefined). */
  add(key: string, value: T, now: number): Promise<void> | undefined {
    const slot = this.slots.get(key);
    if (slot && now - slot.writtenAt < COALESCE_MS) {
      slot.pending = { value, count: (slot.pending?.count ?? 0) + 1 };
      if (!slot.timer) {
        slot.timer = setTimeout(() => void this.flush(key), COALESCE_MS - (now - slot.writtenAt));
        slot.timer.unref?.();
      }
      return undefined;
    }
    const count = 1 + (slot?.pending?.count ?? 0);
    if (slot?.timer) clearTimeout(slot.timer);
    this.slots.set(key, { writtenAt: now });
    this.evict(now);
    return track(this.write(value, count));
  }

  flush(key: string): Promise<void> | undefined {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    const pending = slot.pending;
    if (!pending) return undefined;
    slot.pending = undefined;
    slot.writtenAt = Date.now();
    return track(this.write(pending.value, pending.count));
  }

  flushAll(): void {
    for (const key of [...this.slots.keys()]) this.flush(key);
  }

  clear(): void {
    for (const slot of this.slots.values()) if (slot.timer) clearTimeout(slot.timer);
    this.slots.clear();
  }

  private evict(now: number) {
    if (this.slots.size <= MAX_SLOTS) return;
    for (const [key, s] of this.slots) if (!s.pending && now - s.writtenAt >= COALESCE_MS) this.slots.delete(key);
  }
}

const inflight = new Set<Promise<void>>();
const targetsSeen = new Map<string, Set<string>>();
let targetsBucket = '';

function track(p: Promise<void>): Promise<void> {
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
  return p;
}

const events = new Coalescer<Occurrence>((o, count) => guarded(o, () => writeEvent(o, count)));
const caseCounts = new Coalescer<Occurrence>((o, count) => guarded(o, () => countTowardsCase(caseRuleFor(o.kind)!, o, count)));

export const eventIdOf = (kind: string, by: string, target: string, bucket: string) =>
  createHash('sha256').update(`${kind}\u0000${by}\u0000${target}\u0000${bucket}`, 'utf8').digest('hex').slice(0, 32);

/** Caps the distinct targets one `by` reaches per kind and bucket (in this container). */
function cappedTarget(kind: string, by: string, target: string, bucket: string): string {
  if (bucket !== targetsBucket) {
    targetsSeen.clear();
    targetsBucket = bucket;
  }
  const k = `${kind}\u0000${by}`;
  let seen = targetsSeen.get(k);
  if (!seen) {
    seen = new Set();
    targetsSeen.set(k, seen);
  }
  if (seen.has(target)) return target;
  if (seen.size >= MAX_TARGETS_PER_BY) return OVERFLOW_TARGET;
  seen.add(target);
  return target;
}

function occurrenceOf(input: SecurityEventInput): Occurrence {
  const at = input.at ?? new Date();
  const bucket = hourBucket(at);
  const target = cappedTarget(input.kind, input.by, input.target, bucket);
  // The overflow item gathers many targets: it stays on a trail only when the client is the one who did it.
  const clientId = target === input.target || input.by === `user:${input.clientId}` ? input.clientId : undefined;
  return {
    ...input,
    target,
    clientId,
    caseClientId: input.clientId,
    at,
    bucket,
    eventId: eventIdOf(input.kind, input.by, target, bucket),
  };
}

const withinBudget = (p: Promise<void>) =>
  Promise.race([
    p,
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, RECORD_BUDGET_MS);
      t.unref?.();
    }),
  ]);

/** Records one occurrence (best effort: never throws, waits at most RECORD_BUDGET_MS). */
export async function recordSecurityEvent(input: SecurityEventInput): Promise<void> {
  const writes: Promise<void>[] = [];
  try {
    const o = occurrenceOf(input);
    const now = Date.now();
    const write = events.add(o.eventId, o, now);
    if (write) writes.push(write);
    const rule = caseRuleFor(o.kind);
    if (rule && o.caseClientId) {
      const counted = caseCounts.add(`${rule.caseKind}\u0000${o.caseClientId}\u0000${o.bucket}`, o, now);
      if (counted) writes.push(counted);
    }
  } catch (err) {
    logger.warn('security event not recorded', { kind: input.kind, error: (err as Error).message });
  }
  if (writes.length > 0) await withinBudget(Promise.all(writes).then(() => undefined));
}

/** Writes every pending count now and waits for all writes in flight (tests; a process about to stop). */
export async function flushSecurityEvents(): Promise<void> {
  events.flushAll();
  caseCounts.flushAll();
  while (inflight.size > 0) await Promise.all([...inflight]);
}

/** Forgets the recorder's memory (tests: the next occurrence of every identity is written at once). */
export async function resetSecurityRecorder(): Promise<void> {
  await flushSecurityEvents();
  events.clear();
  caseCounts.clear();
  targetsSeen.clear();
}

// ------------------------------------------------------------------------------------------------ writing

async function guarded(o: Occurrence, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    logger.warn('security event not recorded', { kind: o.kind, eventId: o.eventId, error: (err as Error).message });
  }
}

async function writeEvent(o: Occurrence, count: number): Promise<void> {
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
  const indexes: Record<string, string> = {
    ...securityEventKeys.listIndex(o.bucket, o.kind, o.eventId),
    ...securityEventKeys.kindIndex(o.kind, o.bucket, o.eventId),
  };
  for (const [attr, value] of Object.entries(indexes)) {
    names[`#${attr}`] = attr;
    values[`:${attr}`] = value;
    set.push(`#${attr} = :${attr}`);
  }
  if (o.clientId) {
    const trail = securityEventKeys.clientTrailIndex(o.clientId, iso, o.eventId);
    Object.assign(names, { '#client': 'clientId', '#g1pk': 'gsi1pk', '#g1sk': 'gsi1sk' });
    Object.assign(values, { ':client': o.clientId, ':g1pk': trail.gsi1pk, ':g1sk': trail.gsi1sk });
    set.push('#client = :client', '#g1pk = :g1pk', '#g1sk = if_not_exists(#g1sk, :g1sk)');
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

/** Counts the occurrence towards its client's case; the write that reaches the threshold opens the case. */
async function countTowardsCase(rule: SecurityCaseRule, o: Occurrence, count: number): Promise<void> {
  const clientId = o.caseClientId!;
  const res = await ddb().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: securityEventKeys.caseCount(rule.caseKind, clientId, o.bucket),
      UpdateExpression: 'SET #type = :type, #tenant = :tenant, #expires = :expires ADD #count :count',
      ExpressionAttributeNames: { '#type': 'type', '#tenant': 'tenant', '#expires': 'expiresAt', '#count': 'count' },
      ExpressionAttributeValues: {
        ':type': securityEventKeys.caseCountType,
        ':tenant': env.tenant,
        ':expires': Math.floor(Date.parse(bucketStart(o.bucket)) / 1000) + CASE_COUNT_TTL_SECONDS,
        ':count': count,
      },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  const total = Number(res.Attributes?.count ?? 0);
  if (crossedThreshold(total, count, rule.threshold)) await openSecurityCase(rule, o, total);
}

/** The case a client's events open for one bucket (kind + client + bucket: once per window). */
export const securityCaseSubject = (clientId: string, bucket: string) => ({
  type: 'security-window',
  id: `${clientId}:${bucket}`,
});

async function openSecurityCase(rule: SecurityCaseRule, o: Occurrence, total: number): Promise<void> {
  const at = new Date().toISOString();
  const clientId = o.caseClientId!;
  const opened = await openCaseCommit(
    {
      // store/payments/cases.ts's CaseKind does not list the security kinds yet (that module is being changed
      // elsewhere); the case model itself takes any kind (the case API shows it as a string).
      kind: rule.caseKind as unknown as CaseKind,
      clientId,
      subject: securityCaseSubject(clientId, o.bucket),
      evidence: {
        rule: rule.description,
        eventKinds: [...rule.kinds],
        window: { from: bucketStart(o.bucket), hours: 1 },
        count: total,
        threshold: rule.threshold,
      },
    },
    { actor: systemActor('security-events'), requestId: o.requestId },
    at,
    { freeze: false },
  );
  try {
    await commit({ writes: opened.writes, audit: opened.audit, outbox: opened.outbox, now: () => new Date(at) });
    logger.warn('security case opened', { caseKind: rule.caseKind, caseId: opened.item.caseId, clientId, count: total });
  } catch (err) {
    if (isDomainError(err) && err.code === 'case_exists') return;
    throw err;
  }
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
  return queryPage<SecurityEventItem>({
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
  const pages = queryPages<Pick<SecurityEventItem, 'kind' | 'by' | 'target' | 'count'>>({
    IndexName: p.index,
    KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
    ExpressionAttributeNames: { '#pk': p.pk, '#sk': p.sk, '#kind': 'kind', '#by': 'by', '#target': 'target', '#count': 'count' },
    ExpressionAttributeValues: { ':pk': p.partition, ':lo': lo, ':hi': hi },
    ProjectionExpression: '#kind, #by, #target, #count',
    ScanIndexForward: false,
    Limit: 1_000,
  });
  outer: for await (const page of pages) {
    for (const e of page) {
      if (scanned >= max) {
        truncated = true;
        break outer;
      }
      scanned++;
      const n = Number(e.count ?? 0);
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

/** An event as compliance sees it. */
export function securityEventView(i: SecurityEventItem) {
  return {
    eventId: i.eventId,
    kind: i.kind,
    by: i.by,
    target: i.target,
    ...(i.clientId ? { clientId: i.clientId } : {}),
    count: Number(i.count),
    bucket: i.bucket,
    firstSeenAt: i.firstSeenAt,
    lastSeenAt: i.lastSeenAt,
    lastSource: i.lastSource,
    ...(i.detail && Object.keys(i.detail).length > 0 ? { detail: i.detail } : {}),
  };
}
export type SecurityEventView = ReturnType<typeof securityEventView>;
