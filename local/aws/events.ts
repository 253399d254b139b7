/**
 * In-process EventBridge bus with the manifest's rules, for `npm start` and tests.
 *
 * Keeps: PutEvents (Source, DetailType, Detail as a JSON object string, EventBusName, Resources, Time) with
 * per-entry validation, FailedEntryCount and EventIds; rule matching with EventBridge pattern semantics - arrays
 * of exact values (an array field in the event matches if any element matches), nested objects, `prefix`,
 * `suffix`, `equals-ignore-case`, `anything-but` (value, list, {prefix}/{suffix}), `exists`, `numeric` and
 * `$or`; function targets (invoked with the EventBridge envelope) and queue targets (the envelope JSON is sent
 * to LocalSqs; FIFO queue targets use the rule name as MessageGroupId and the event id for deduplication).
 * Delivery is asynchronous (PutEvents never waits for targets) and retried with exponential backoff; a target
 * that still fails is logged and dropped (no target DLQ). The last 500 events are kept for `recent()`.
 *
 * Does not emulate: several buses, archives and replay, input transformers, wildcard/cidr matchers, the
 * 256 KB entry limit, or at-least-once duplicates.
 */
import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { rules as manifestRules, type RuleSpec } from '#functions/manifest.ts';
import { AwsError } from '#local/aws/errors.ts';
import type { JsonService } from '#local/aws/server.ts';

/** An awsJson request body: untyped JSON, validated field by field. */
// biome-ignore lint/suspicious/noExplicitAny: request bodies are untyped JSON
type Json = any;

export type Invoke = (fnName: string, event: unknown) => Promise<unknown>;
export type BusEvent = EventBridgeEvent<string, Record<string, unknown>>;

/** What a queue target needs from LocalSqs. */
export interface QueueSender {
  send(queue: string, body: string, extra?: { groupId?: string; dedupId?: string }): unknown;
}

export interface LocalEventBusOptions {
  rules?: readonly RuleSpec[];
  invoke?: Invoke;
  sqs?: QueueSender;
  /** When set, entries for another bus name fail; otherwise any name is accepted as the one bus. */
  busName?: string;
  region?: string;
  account?: string;
  /** Delivery attempts per target (default 4) and the first backoff delay (default 200 ms, doubling). */
  attempts?: number;
  backoffMs?: number;
  log?: (message: string, detail?: unknown) => void;
}

export interface RecentEvent {
  event: BusEvent;
  matchedRules: string[];
}

const RECENT_LIMIT = 500;

export class LocalEventBus implements JsonService {
  readonly prefix = 'AWSEvents';
  private readonly rules: RuleSpec[];
  private readonly invoke: Invoke;
  private readonly sqs: QueueSender | undefined;
  private readonly region: string;
  private readonly account: string;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly log: (message: string, detail?: unknown) => void;
  private readonly log500: RecentEvent[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: LocalEventBusOptions = {}) {
    this.rules = [...(options.rules ?? manifestRules)];
    this.invoke = options.invoke ?? (async (fn, event) => (await import('#local/lambda.ts')).invoke(fn, event));
    this.sqs = options.sqs;
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.attempts = options.attempts ?? 4;
    this.backoffMs = options.backoffMs ?? 200;
    this.log = options.log ?? ((m, d) => console.error(`[events] ${m}`, d ?? ''));
  }

  /** Adds a rule at run time (the scheduler adds one per job for on-demand runs). */
  addRule(rule: RuleSpec): void {
    if (this.rules.some((r) => r.name === rule.name)) throw new Error(`LocalEventBus: duplicate rule ${rule.name}`);
    this.rules.push(rule);
  }

  /** The most recent events (oldest first), with the rules each one matched. */
  recent(): RecentEvent[] {
    return [...this.log500];
  }

  /** Resolves when every delivery started so far has finished (including retries). */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async handle(operation: string, input: Json): Promise<unknown> {
    if (operation !== 'PutEvents') throw new AwsError('UnsupportedOperation', `LocalEventBus does not implement ${operation}`);
    const entries: Json[] = input?.Entries ?? [];
    if (entries.length === 0 || entries.length > 10)
      throw new AwsError('ValidationException', 'PutEvents takes 1 to 10 entries.');
    const results = entries.map((entry) => this.putOne(entry));
    return { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results };
  }

  /** Publishes one event (the same path PutEvents takes); returns its id. */
  publish(entry: { source: string; detailType: string; detail: Record<string, unknown>; resources?: string[] }): string {
    const event = this.envelope(entry.source, entry.detailType, entry.detail, entry.resources ?? []);
    this.dispatch(event);
    return event.id;
  }

  private putOne(entry: Json): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    const busName = String(entry.EventBusName ?? 'default')
      .split('/')
      .pop();
    if (this.options.busName && busName !== this.options.busName && busName !== 'default') {
      return { ErrorCode: 'NotFoundException', ErrorMessage: `Event bus ${entry.EventBusName} does not exist.` };
    }
    if (!entry.Source || !entry.DetailType) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source and DetailType are required.' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail ?? '{}');
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON.' };
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object.' };
    }
    // The SDK's JSON protocol sends a timestamp as epoch seconds (a number); a string is an ISO date.
    const time =
      entry.Time === undefined || entry.Time === null
        ? new Date()
        : typeof entry.Time === 'number'
          ? new Date(entry.Time * 1000)
          : new Date(entry.Time);
    const event = this.envelope(entry.Source, entry.DetailType, detail as Record<string, unknown>, entry.Resources ?? [], time);
    this.dispatch(event);
    return { EventId: event.id };
  }

  private envelope(source: string, detailType: string, detail: Record<string, unknown>, resources: string[], time = new Date()) {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': detailType,
      source,
      account: this.account,
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.region,
      resources,
      detail,
    } satisfies BusEvent;
  }

  private dispatch(event: BusEvent): void {
    const matched = this.rules.filter((r) => matches(r.pattern, event));
    this.log500.push({ event, matchedRules: matched.map((r) => r.name) });
    if (this.log500.length > RECENT_LIMIT) this.log500.splice(0, this.log500.length - RECENT_LIMIT);
    for (const rule of matched) {
      const delivery = this.deliver(rule, event).finally(() => this.pending.delete(delivery));
      this.pending.add(delivery);
    }
  }

  private async deliver(rule: RuleSpec, event: BusEvent): Promise<void> {
    // Never synchronously inside PutEvents: the caller gets its EventIds first.
    await new Promise((r) => setImmediate(r));
    for (let attempt = 1; ; attempt++) {
      try {
        if ('function' in rule.target) {
          await this.invoke(rule.target.function, event);
        } else {
          if (!this.sqs) throw new Error(`rule ${rule.name} targets queue ${rule.target.queue} but no LocalSqs was given`);
          // Group and dedup ids only apply when the queue is FIFO; standard queues ignore them.
          await this.sqs.send(rule.target.queue, JSON.stringify(event), { groupId: rule.name, dedupId: event.id });
        }
        return;
      } catch (e) {
        if (attempt >= this.attempts) {
          this.log(`rule ${rule.name}: delivery of event ${event.id} failed after ${attempt} attempts; dropped`, e);
          return;
        }
        this.log(`rule ${rule.name}: delivery of event ${event.id} failed (attempt ${attempt}), retrying`, (e as Error).message);
        await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)));
      }
    }
  }
}

// ---- pattern matching -------------------------------------------------------------------------

/** EventBridge pattern matching: every field in the pattern must match the event. */
export function matches(pattern: Record<string, unknown>, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const obj = event as Record<string, unknown>;
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(rule) || !rule.some((alt) => matches(alt as Record<string, unknown>, event))) return false;
      continue;
    }
    const value = obj[key];
    if (Array.isArray(rule)) {
      if (!matchesField(rule, value, key in obj)) return false;
    } else if (typeof rule === 'object' && rule !== null) {
      if (!matches(rule as Record<string, unknown>, value)) return false;
    } else {
      throw new Error(`Invalid event pattern at "${key}": leaf values must be arrays`);
    }
  }
  return true;
}

function matchesField(matchers: unknown[], value: unknown, present: boolean): boolean {
  const existsMatcher = matchers.find((m) => isObject(m) && 'exists' in m) as { exists: boolean } | undefined;
  if (existsMatcher && matchers.length === 1) return existsMatcher.exists === (present && value !== undefined);
  if (!present || value === undefined) return false;
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((m) => values.some((v) => matchOne(m, v)));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function matchOne(matcher: unknown, v: unknown): boolean {
  if (!isObject(matcher)) return matcher === v;
  if ('prefix' in matcher) return typeof v === 'string' && matchString(matcher.prefix, v, (a, b) => a.startsWith(b));
  if ('suffix' in matcher) return typeof v === 'string' && matchString(matcher.suffix, v, (a, b) => a.endsWith(b));
  if ('equals-ignore-case' in matcher) {
    return typeof v === 'string' && String(matcher['equals-ignore-case']).toLowerCase() === v.toLowerCase();
  }
  if ('anything-but' in matcher) return anythingBut(matcher['anything-but'], v);
  if ('numeric' in matcher) return typeof v === 'number' && numeric(matcher.numeric as unknown[], v);
  if ('exists' in matcher) return matcher.exists === true;
  throw new Error(`Unsupported event pattern matcher ${JSON.stringify(matcher)}`);
}

function matchString(spec: unknown, v: string, test: (value: string, s: string) => boolean): boolean {
  if (isObject(spec) && 'equals-ignore-case' in spec)
    return test(v.toLowerCase(), String(spec['equals-ignore-case']).toLowerCase());
  return test(v, String(spec));
}

function anythingBut(spec: unknown, v: unknown): boolean {
  if (Array.isArray(spec)) return !spec.includes(v);
  if (isObject(spec)) {
    if ('prefix' in spec) return typeof v === 'string' && !v.startsWith(String(spec.prefix));
    if ('suffix' in spec) return typeof v === 'string' && !v.endsWith(String(spec.suffix));
    throw new Error(`Unsupported anything-but matcher ${JSON.stringify(spec)}`);
  }
  return v !== spec;
}

function numeric(ops: unknown[], v: number): boolean {
  for (let i = 0; i + 1 < ops.length; i += 2) {
    const n = Number(ops[i + 1]);
    const ok = { '<': v < n, '<=': v <= n, '=': v === n, '>': v > n, '>=': v >= n }[String(ops[i])];
    if (ok === undefined) throw new Error(`Unsupported numeric operator ${String(ops[i])}`);
    if (!ok) return false;
  }
  return true;
}
