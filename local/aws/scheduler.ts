/**
 * Runs the manifest's scheduled jobs in-process, the way EventBridge Scheduler schedules do.
 *
 * Keeps: EventBridge cron syntax `cron(min hour day-of-month month day-of-week year)`, evaluated in the
 * schedule's time zone (the tenant's `timezone` for `timezone: 'tenant'` schedules, else UTC), with
 * `?`, the year field, day-of-week 1-7 = SUN-SAT (and SUN-SAT names), `L` (last day of month; in day-of-week
 * alone: Saturday; `5L`: last Thursday of the month) and `#` (`2#1`: first Monday); exactly one of day-of-month
 * and day-of-week must be `?`, as EventBridge requires. The target gets the payload infra's schedules send
 * (infra/constructs/messaging.ts): detail-type `Scheduled Event`, source `aws.scheduler`, an execution id,
 * time = the scheduled minute, detail.schedule = the schedule's name.
 * On-demand runs: with a bus given, one extra rule per job matches `{source: JOB_SOURCE, detail-type:
 * JOB_DETAIL_TYPE, detail.job: <schedule name>}` and invokes the job's function with that event (the same
 * rule infra creates).
 *
 * Does not emulate: `W` (nearest weekday) and `LW` (rejected with an error), `rate(...)` expressions (rejected),
 * flexible time windows, and catch-up of runs missed while the process was down.
 * A run that fails is logged and not retried.
 */
import { randomUUID } from 'node:crypto';
import { CronExpressionParser } from 'cron-parser';
import {
  JOB_DETAIL_TYPE,
  JOB_SOURCE,
  schedules as manifestSchedules,
  type RuleSpec,
  type ScheduleSpec,
} from '#functions/manifest.ts';

export type Invoke = (fnName: string, event: unknown) => Promise<unknown>;

export interface LocalSchedulerOptions {
  schedules?: readonly ScheduleSpec[];
  invoke?: Invoke;
  /** Adds the on-demand rule per job (LocalEventBus). */
  bus?: { addRule(rule: RuleSpec): void };
  /** Arm timers for the cron schedules (default true; tests turn them off and use runNow). */
  timers?: boolean;
  /** The tenant's IANA time zone, for `timezone: 'tenant'` schedules (default UTC). */
  tenantTimezone?: string;
  region?: string;
  account?: string;
  log?: (message: string, detail?: unknown) => void;
}

/** The longest setTimeout Node accepts; later runs are re-armed when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class LocalScheduler {
  private readonly schedules: readonly ScheduleSpec[];
  private readonly invoke: Invoke;
  private readonly region: string;
  private readonly account: string;
  private readonly log: (message: string, detail?: unknown) => void;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly tenantTimezone: string;
  private stopped = false;

  constructor(options: LocalSchedulerOptions = {}) {
    this.schedules = options.schedules ?? manifestSchedules;
    this.invoke = options.invoke ?? (async (fn, event) => (await import('#local/lambda.ts')).invoke(fn, event));
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.log = options.log ?? ((m, d) => console.error(`[scheduler] ${m}`, d ?? ''));
    this.tenantTimezone = options.tenantTimezone ?? 'UTC';
    for (const s of this.schedules) parseEventBridgeCron(s.cron); // fail fast on a bad expression
    for (const s of this.schedules) options.bus?.addRule(onDemandRule(s));
    if (options.timers ?? true) for (const s of this.schedules) this.arm(s);
  }

  /** The next `n` run times of a schedule. */
  nextRuns(name: string, n = 5, from = new Date()): Date[] {
    const s = this.schedule(name);
    return nextRunTimes(s.cron, n, from, this.timezoneOf(s));
  }

  /** The IANA zone a schedule's cron is evaluated in. */
  timezoneOf(s: ScheduleSpec): string {
    return s.timezone === 'tenant' ? this.tenantTimezone : 'UTC';
  }

  /** Runs a job now with a Scheduled Event, as its timer would; resolves with the handler's result. */
  runNow(name: string, time = new Date()): Promise<unknown> {
    const s = this.schedule(name);
    return this.invoke(s.function, this.scheduledEvent(s, time));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(name: string): ScheduleSpec {
    const s = this.schedules.find((x) => x.name === name);
    if (!s) throw new Error(`No schedule named ${name}`);
    return s;
  }

  private arm(s: ScheduleSpec): void {
    if (this.stopped) return;
    const [next] = nextRunTimes(s.cron, 1, new Date(), this.timezoneOf(s));
    if (!next) return;
    const delay = next.getTime() - Date.now();
    const timer = setTimeout(
      () => {
        if (delay > MAX_TIMER_MS) return this.arm(s);
        this.runNow(s.name, next).catch((e) => this.log(`schedule ${s.name} (${s.function}) failed`, e));
        this.arm(s);
      },
      Math.min(Math.max(delay, 0), MAX_TIMER_MS),
    );
    timer.unref();
    this.timers.set(s.name, timer);
  }

  private scheduledEvent(s: ScheduleSpec, time: Date) {
    return {
      'detail-type': 'Scheduled Event',
      source: 'aws.scheduler',
      id: randomUUID(),
      time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      detail: { schedule: s.name },
    };
  }
}

/** The rule that runs a job on demand: an event from the jobs API naming the job. */
export function onDemandRule(s: ScheduleSpec): RuleSpec {
  return {
    name: `${s.name}-on-demand`,
    pattern: { source: [JOB_SOURCE], 'detail-type': [JOB_DETAIL_TYPE], detail: { job: [s.name] } },
    target: { function: s.function },
  };
}

// ---- cron -------------------------------------------------------------------------------------

export interface ParsedCron {
  /** The equivalent 5-field cron-parser expression (minute hour day-of-month month day-of-week, Sunday = 0). */
  expression: string;
  /** Whether a year is allowed by the year field. */
  year: (y: number) => boolean;
}

/** Converts an EventBridge `cron(...)` expression; throws a descriptive Error for what it cannot run. */
export function parseEventBridgeCron(input: string): ParsedCron {
  const m = /^cron\((.*)\)$/.exec(input.trim());
  if (!m) throw new Error(`Unsupported schedule "${input}": only cron(...) expressions are supported`);
  const fields = m[1]!.trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`Invalid cron "${input}": expected 6 fields (min hour dom month dow year)`);
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) {
    throw new Error(`Invalid cron "${input}": exactly one of day-of-month and day-of-week must be "?"`);
  }
  if (/W/i.test(dom)) throw new Error(`Unsupported cron "${input}": W (nearest weekday) is not supported locally`);
  const expression = [min, hour, dom === '?' ? '*' : dom, month, dow === '?' ? '*' : convertDayOfWeek(dow, input)].join(' ');
  const parsed = { expression, year: yearMatcher(year, input) };
  CronExpressionParser.parse(expression, { tz: 'UTC' }); // validates the converted fields
  return parsed;
}

const DOW_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** EventBridge day-of-week 1-7 (SUN-SAT) to cron-parser 0-6. */
function convertDayOfWeek(field: string, input: string): string {
  const day = (d: string) => {
    if (DOW_NAMES.includes(d.toUpperCase())) return d.toUpperCase();
    const n = Number(d);
    if (!Number.isInteger(n) || n < 1 || n > 7)
      throw new Error(`Invalid cron "${input}": day-of-week "${d}" is not 1-7 or SUN-SAT`);
    return String(n - 1);
  };
  return field
    .split(',')
    .map((item) => {
      if (item === '*') return item;
      if (item.toUpperCase() === 'L') return '6'; // last day of the week: Saturday
      const last = /^(\w+)L$/i.exec(item);
      if (last) return `${day(last[1]!)}L`;
      const nth = /^(\w+)#([1-5])$/.exec(item);
      if (nth) return `${day(nth[1]!)}#${nth[2]}`;
      const step = /^([^/]+)\/(\d+)$/.exec(item);
      const [range, stepPart] = step ? [step[1]!, `/${step[2]}`] : [item, ''];
      const base = range === '*' ? '*' : range.split('-').map(day).join('-');
      return base + stepPart;
    })
    .join(',');
}

function yearMatcher(field: string, input: string): (y: number) => boolean {
  if (field === '*' || field === '?') return () => true;
  const parts = field.split(',').map((item) => {
    const mm = /^(\*|\d{4})(?:-(\d{4}))?(?:\/(\d+))?$/.exec(item);
    if (!mm) throw new Error(`Invalid cron "${input}": year "${item}"`);
    const from = mm[1] === '*' ? 1970 : Number(mm[1]);
    const to = mm[2] ? Number(mm[2]) : mm[1] === '*' || mm[3] ? 2199 : from;
    const stepN = mm[3] ? Number(mm[3]) : 1;
    return (y: number) => y >= from && y <= to && (y - from) % stepN === 0;
  });
  return (y) => parts.some((p) => p(y));
}

/** The next `n` times (after `from`) an EventBridge cron expression fires, evaluated in `tz` (default UTC). */
export function nextRunTimes(cron: string, n: number, from = new Date(), tz = 'UTC'): Date[] {
  const { expression, year } = parseEventBridgeCron(cron);
  const out: Date[] = [];
  let it = CronExpressionParser.parse(expression, { tz, currentDate: from });
  while (out.length < n) {
    const d = it.next().toDate();
    const y = d.getUTCFullYear();
    if (year(y)) {
      out.push(d);
      continue;
    }
    let next = y + 1;
    while (next <= 2199 && !year(next)) next++;
    if (next > 2199) break;
    it = CronExpressionParser.parse(expression, { tz, currentDate: new Date(Date.UTC(next, 0, 1) - 1) });
  }
  return out;
}
