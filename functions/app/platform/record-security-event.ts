/**
 * Records a security event: the trace an attack leaves (docs/decisions/0010-security-events.md; rules in
 * domain/security/events.ts; the items in functions/store/security-events.ts). Called by the HTTP edge for
 * refusals (functions/middleware/security.ts) and by the use cases that see failed sign-ins and bad webhook
 * signatures; a client's events of a case rule's kinds open a compliance case at the rule's threshold.
 *
 * Invariants:
 * - one item per (kind, by, target, hour bucket), counted (the store's UpdateItem ADD): a burst is ONE item
 *   whose `count` is the burst's size, never one item (nor one audit entry) per request
 * - the recorder coalesces in memory, per event identity: the first occurrence in a COALESCE_MS window is
 *   written at once, later ones only add to a pending count that is written when the window ends (a timer,
 *   the next occurrence after it, or flushSecurityEvents). So the table sees at most one write per identity
 *   per container every COALESCE_MS, whatever the request rate. A container that ends holding a pending count
 *   loses it: counts are lower bounds, but no identity ever goes unrecorded
 * - one `by` reaches at most MAX_TARGETS_PER_BY distinct targets per kind and bucket in one container; further
 *   targets are counted under target '*' (enumerating ids does not make us write one item per id)
 * - recording never fails a request and never holds it long: errors are logged and swallowed, and a caller
 *   waits at most RECORD_BUDGET_MS for the write (which carries on in the background)
 * - an event about a client (the client who did it, else the client it was done to) is on that client's
 *   trail (GET /v1/admin/clients/{clientId}/audit); the overflow target '*' only when the client did it
 * - a client's events of a case rule's kinds are also counted per bucket (coalesced the same way, counted
 *   before the target cap); the one write whose ADD makes the count reach the rule's threshold opens the case
 *   (one per client and bucket: its id is derived from both and written put-if-absent), in one commit with
 *   its 'compliance.case.opened' audit entry and outbox event
 */
import { isDomainError } from '#domain/errors.ts';
import {
  bucketStart,
  caseRuleFor,
  crossedThreshold,
  hourBucket,
  type SecurityCaseRule,
  type SecurityEventKind,
} from '#domain/security/events.ts';
import { logger } from '#shared/powertools.ts';
import { commit, systemActor } from '#store/audit.ts';
import { openCaseCommit } from '#store/payments/cases.ts';
import { addToCaseCount, eventIdOf, type SecurityEventWrite, writeSecurityEvent } from '#store/security-events.ts';

export const COALESCE_MS = 2_000;
export const RECORD_BUDGET_MS = 250;
export const MAX_TARGETS_PER_BY = 20;
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

interface Occurrence extends SecurityEventInput, SecurityEventWrite {
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

const events = new Coalescer<Occurrence>((o, count) => guarded(o, () => writeSecurityEvent(o, count)));
const caseCounts = new Coalescer<Occurrence>((o, count) => guarded(o, () => countTowardsCase(caseRuleFor(o.kind)!, o, count)));

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

async function guarded(o: Occurrence, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    logger.warn('security event not recorded', { kind: o.kind, eventId: o.eventId, error: (err as Error).message });
  }
}

/** Counts the occurrence towards its client's case; the write that reaches the threshold opens the case. */
async function countTowardsCase(rule: SecurityCaseRule, o: Occurrence, count: number): Promise<void> {
  const total = await addToCaseCount(rule.caseKind, o.caseClientId!, o.bucket, count);
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
      kind: rule.caseKind,
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
