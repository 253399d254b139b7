/**
 * In-process Step Functions: runs the manifest's ASL files with aws-local-stepfunctions and the same handlers.
 *
 * Keeps: StartExecution (idempotent for a running execution with the same name and input, otherwise
 * ExecutionAlreadyExists), DescribeExecution, ListExecutions (newest first, optional status filter), StopExecution,
 * SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat; AWS-shaped ARNs; `${Placeholder}` substitution from the
 * manifest `tasks` (to Lambda ARNs) plus any extra `substitutions`. Task resources: plain Lambda ARNs (the handler
 * result is the task result), `arn:aws:states:::lambda:invoke` (result `{ Payload, StatusCode, ... }`),
 * `sqs:sendMessage` and `events:putEvents`, each optionally `.waitForTaskToken`: a fresh token is exposed as
 * `$$.Task.Token`, the inner call runs, and the state waits for SendTaskSuccess (its output is the task result)
 * or SendTaskFailure (an error named by `error` with `cause`, so Retry/Catch match it). A handler that throws
 * fails the task with Error = the error's name and Cause = `{"errorType","errorMessage"}` like Lambda.
 * Retry, Catch, Wait, Choice, Parallel and Map come from aws-local-stepfunctions. `$$.Execution.Id/Name` and
 * `$$.StateMachine.Id/Name` are set. Executions (status, input, output, error, cause) are kept in memory and in
 * `<dataDir>/step-functions-executions.json`.
 *
 * Restarts: an execution that was RUNNING when the process stopped (stop(), Ctrl-C, or a kill) stays RUNNING in
 * the file, and `resume()` in the next process on the same data folder runs it again FROM ITS START, under the same
 * ARN with the same input, as AWS would have kept it running. Its in-memory progress and task tokens are gone, so
 * this is correct only for state machines whose every step is idempotent, which ours promise (the watchdogs'
 * restarts rely on the same: checks return their recorded outcome, open-review replaces a dead task token or
 * answers at once when the decision is already recorded, the payout is idempotent by withdrawal id, finalize
 * no-ops on a final item). Timers start again: Wait states and task timeouts count from the resume. Nothing is
 * audited or counted as a restart (the watchdogs' attempt counters are untouched): for the product the execution
 * simply kept running. An execution of a state machine that is no longer defined is marked ABORTED (LocalRestart).
 *
 * Does not emulate: HeartbeatSeconds, Express workflows, GetExecutionHistory (see `history()`), other service
 * integrations (`.sync` jobs, nested startExecution, DynamoDB), execution redrive, versions and aliases.
 * Task states without TimeoutSeconds get the longest timer Node allows (about 24 days) instead of the library's
 * 60 s default, as a waiting human decision has no timeout in AWS. With `timeScale`, Wait states with `Seconds`
 * and Retry intervals are scaled (Retry backoff rates are then ignored); SecondsPath/Timestamp waits are not.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { stateMachines as manifestMachines, type StateMachineSpec } from '#functions/manifest.ts';
import { toEnvSuffix } from '#functions/shared/env.ts';
import { AwsError } from '#local/aws/errors.ts';
import type { JsonService } from '#local/aws/server.ts';

export type Invoke = (fnName: string, event: unknown) => Promise<unknown>;
/** Untyped JSON: awsJson request bodies and state machine data. */
// biome-ignore lint/suspicious/noExplicitAny: request bodies and state data are untyped JSON
type Json = any;
/** One entry of the library's execution event log (its type is not exported). */
export type EventLog = Awaited<ReturnType<ReturnType<StateMachine['run']>['eventLogs']['next']>>['value'];

export interface LocalStepFunctionsOptions {
  stateMachines?: readonly StateMachineSpec[];
  invoke?: Invoke;
  /** Targets for `sqs:sendMessage` / `events:putEvents` tasks (LocalSqs, LocalEventBus). */
  sqs?: JsonService;
  bus?: JsonService;
  /** Extra `${Name}` substitutions (queue URLs, bus name, ...). */
  substitutions?: Record<string, string>;
  /** Where the executions file is kept; without it nothing is persisted. */
  dataDir?: string;
  /** Multiplies Wait `Seconds` and Retry intervals (1 = real time). */
  timeScale?: number;
  /** Repository root that definition paths are relative to. */
  root?: string;
  region?: string;
  account?: string;
  log?: (message: string, detail?: unknown) => void;
}

type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: Status;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}

interface Machine {
  spec: StateMachineSpec;
  arn: string;
  machine: StateMachine;
  waitOverrides: Record<string, number>;
  retryOverrides: Record<string, number[]>;
  tasks: Record<string, TaskKind>;
}

type TaskKind =
  | { kind: 'function'; fn: string }
  | { kind: 'lambda:invoke' | 'sqs:sendMessage' | 'events:putEvents'; wait: boolean }
  | { kind: 'unsupported'; resource: string };

interface Running {
  abort: () => void;
  events: EventLog[];
  done: Promise<void>;
}

interface PendingTask {
  executionArn: string;
  state: string;
  resolve: (output: Json) => void;
  reject: (e: Error) => void;
}

/** An error a task failed with; `name` is what Retry/Catch ErrorEquals match. */
export class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

const FILE = 'step-functions-executions.json';
const MAX_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const seconds = (ms: number) => ms / 1000;

export class LocalStepFunctions implements JsonService {
  readonly prefix = 'AWSStepFunctions';
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Map<string, Running>();
  private readonly tokens = new Map<string, PendingTask>();
  /** RUNNING in the file when this process started: to run again (resume). */
  private readonly interrupted: ExecutionRecord[] = [];
  /** Set by stop(): outcomes of the aborted runs are not recorded, so the file keeps them RUNNING. */
  private stopped = false;
  private readonly invoke: Invoke;
  private readonly region: string;
  private readonly account: string;
  private readonly log: (message: string, detail?: unknown) => void;

  constructor(private readonly options: LocalStepFunctionsOptions = {}) {
    this.invoke = options.invoke ?? (async (fn, event) => (await import('#local/lambda.ts')).invoke(fn, event));
    this.region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.log = options.log ?? ((m, d) => console.error(`[states] ${m}`, d ?? ''));
    for (const spec of options.stateMachines ?? manifestMachines) this.load(spec);
    this.restore();
  }

  /** State machine ARN per manifest name (for STATE_MACHINE_ARN_<NAME> env vars, see `envVars`). */
  arns(): Record<string, string> {
    return Object.fromEntries([...this.machines].map(([name, m]) => [name, m.arn]));
  }

  envVars(): Record<string, string> {
    return Object.fromEntries([...this.machines].map(([name, m]) => [`STATE_MACHINE_ARN_${toEnvSuffix(name)}`, m.arn]));
  }

  /** The library's event log of an execution started by this process (for debugging and tests). */
  history(executionArn: string): EventLog[] {
    return [...(this.running.get(executionArn)?.events ?? [])];
  }

  /** Resolves with the execution record once the execution has stopped. */
  async waitFor(executionArn: string): Promise<ExecutionRecord> {
    await this.running.get(executionArn)?.done;
    return this.describe(executionArn);
  }

  /** Task tokens waiting for SendTaskSuccess/Failure, optionally for one execution. */
  pendingTasks(executionArn?: string): { token: string; executionArn: string; state: string }[] {
    return [...this.tokens]
      .filter(([, t]) => !executionArn || t.executionArn === executionArn)
      .map(([token, t]) => ({ token, executionArn: t.executionArn, state: t.state }));
  }

  /**
   * Runs again, from their start, the executions that were RUNNING when the previous process stopped (see the
   * module doc). Call it once the handlers can run (environment set, emulator listening). Returns their ARNs.
   */
  resume(): string[] {
    const resumed: string[] = [];
    for (const record of this.interrupted.splice(0)) {
      if (record.status !== 'RUNNING' || this.running.has(record.executionArn)) continue;
      const m = [...this.machines.values()].find((x) => x.arn === record.stateMachineArn);
      if (!m) {
        this.finish(record, { status: 'ABORTED', error: 'LocalRestart', cause: 'The state machine is no longer defined' });
        continue;
      }
      this.run(m, record, parseJson(record.input, 'input'));
      resumed.push(record.executionArn);
    }
    if (resumed.length) this.log(`resumed ${resumed.length} execution(s) interrupted by the last stop`);
    return resumed;
  }

  /**
   * Shutdown: stops every run in this process WITHOUT recording an outcome, so the executions stay RUNNING in the
   * file and the next process on the same data folder resumes them (resume()). StopExecution is what aborts one.
   */
  stop(): void {
    this.stopped = true;
    for (const run of this.running.values()) run.abort();
    this.running.clear();
    this.tokens.clear();
  }

  async handle(operation: string, input: Json): Promise<unknown> {
    switch (operation) {
      case 'StartExecution':
        return this.start(input);
      case 'DescribeExecution':
        return toApi(this.describe(input.executionArn));
      case 'ListExecutions':
        return this.list(input);
      case 'StopExecution':
        return { stopDate: seconds(this.stopExecution(input.executionArn, input.error, input.cause)) };
      case 'SendTaskSuccess': {
        const output = parseJson(input.output, 'output');
        this.task(input.taskToken, true).resolve(output);
        return {};
      }
      case 'SendTaskFailure':
        this.task(input.taskToken, true).reject(new TaskError(input.error ?? 'States.TaskFailed', input.cause ?? ''));
        return {};
      case 'SendTaskHeartbeat':
        this.task(input.taskToken, false);
        return {};
      default:
        throw new AwsError('UnsupportedOperation', `LocalStepFunctions does not implement ${operation}`);
    }
  }

  // ---- loading ------------------------------------------------------------------------------

  private load(spec: StateMachineSpec): void {
    const root = this.options.root ?? path.resolve(import.meta.dirname, '../..');
    const raw = readFileSync(path.resolve(root, spec.definition), 'utf8');
    const fnArn = (fn: string) => `arn:aws:lambda:${this.region}:${this.account}:function:${fn}`;
    const subs: Record<string, string> = {
      ...Object.fromEntries(Object.entries(spec.tasks).map(([k, fn]) => [k, fnArn(fn)])),
      ...this.options.substitutions,
    };
    const text = raw.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => {
      const value = subs[name];
      if (value === undefined)
        throw new Error(`${spec.definition}: no substitution for ${whole} (add it to tasks or substitutions)`);
      return value;
    });
    const definition = JSON.parse(text);
    const m: Machine = {
      spec,
      arn: `arn:aws:states:${this.region}:${this.account}:stateMachine:${spec.name}`,
      machine: undefined as unknown as StateMachine,
      waitOverrides: {},
      retryOverrides: {},
      tasks: {},
    };
    this.prepare(definition.States, m);
    m.machine = new StateMachine(definition, { validationOptions: { checkArn: false } });
    this.machines.set(spec.name, m);
  }

  /** Walks every state (Parallel branches and Map processors too): task kinds, timeouts, time-scale overrides. */
  private prepare(states: Record<string, Json>, m: Machine): void {
    const scale = this.options.timeScale ?? 1;
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        m.tasks[name] = taskKind(state.Resource);
        if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
          state.TimeoutSeconds = MAX_TASK_TIMEOUT_SECONDS;
        }
      }
      if (scale !== 1 && state.Type === 'Wait' && typeof state.Seconds === 'number') {
        m.waitOverrides[name] = state.Seconds * 1000 * scale;
      }
      if (scale !== 1 && Array.isArray(state.Retry)) {
        m.retryOverrides[name] = state.Retry.map((r: Json) => (r.IntervalSeconds ?? 1) * 1000 * scale);
      }
      for (const branch of state.Branches ?? []) this.prepare(branch.States, m);
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) this.prepare(processor.States, m);
    }
  }

  // ---- executions ---------------------------------------------------------------------------

  private machineByArn(arn: string): Machine {
    for (const m of this.machines.values()) if (m.arn === arn) return m;
    throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
  }

  private start(input: Json) {
    const m = this.machineByArn(String(input?.stateMachineArn ?? ''));
    const name: string = input.name ?? randomUUID();
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new AwsError('InvalidName', `Invalid Name: '${name}'`);
    const inputText: string = input.input ?? '{}';
    const parsedInput = parseJson(inputText, 'input');
    const executionArn = `arn:aws:states:${this.region}:${this.account}:execution:${m.spec.name}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === inputText) {
        return { executionArn, startDate: seconds(existing.startDate) };
      }
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: m.arn,
      name,
      status: 'RUNNING',
      startDate: Date.now(),
      input: inputText,
    };
    this.executions.set(executionArn, record);
    this.persist();
    // Started during shutdown (a straggling handler): recorded RUNNING, so the next process resumes it.
    if (!this.stopped) this.run(m, record, parsedInput);
    return { executionArn, startDate: seconds(record.startDate) };
  }

  private run(m: Machine, record: ExecutionRecord, input: Json): void {
    // `$$.Task.Token`: a getter on a shared object (the library copies the context shallowly). Parameters are
    // evaluated synchronously right before the task override is called, which claims the token it saw.
    const slot: { token?: string } = {};
    const context = {
      Execution: { Id: record.executionArn, Name: record.name, RoleArn: `arn:aws:iam::${this.account}:role/local` },
      StateMachine: { Id: m.arn, Name: m.spec.name },
      Task: {
        get Token() {
          slot.token ??= randomBytes(48).toString('base64url');
          return slot.token;
        },
      },
    };
    const handlers = Object.fromEntries(
      Object.entries(m.tasks).map(([state, kind]) => [
        state,
        (taskInput: Json) => {
          const token = slot.token;
          slot.token = undefined;
          return this.runTask(record.executionArn, state, kind, taskInput, token);
        },
      ]),
    );
    const execution = m.machine.run(input, {
      context,
      overrides: {
        taskResourceLocalHandlers: handlers,
        waitTimeOverrides: m.waitOverrides,
        retryIntervalOverrides: m.retryOverrides,
      },
    });
    const events: EventLog[] = [];
    const collect = (async () => {
      for await (const e of execution.eventLogs) events.push(e);
    })().catch(() => undefined);
    const done = execution.result.then(
      (output) => this.finish(record, { status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
      (e: Error) => this.finish(record, failure(e)),
    );
    this.running.set(record.executionArn, { abort: execution.abort, events, done: done.then(() => collect) });
  }

  private finish(record: ExecutionRecord, outcome: Partial<ExecutionRecord>): void {
    if (record.status !== 'RUNNING') return; // already stopped
    if (this.stopped) return; // shutdown: stays RUNNING in the file, for resume()
    Object.assign(record, outcome, { stopDate: Date.now() });
    for (const [token, t] of this.tokens) if (t.executionArn === record.executionArn) this.tokens.delete(token);
    if (outcome.status !== 'SUCCEEDED')
      this.log(`${record.executionArn} ${record.status}: ${record.error} ${record.cause ?? ''}`);
    this.persist();
  }

  private stopExecution(executionArn: string, error?: string, cause?: string): number {
    const record = this.describe(executionArn);
    if (record.status !== 'RUNNING') {
      throw new AwsError('ValidationException', `Execution is not running: '${executionArn}'`);
    }
    this.finish(record, { status: 'ABORTED', ...(error ? { error } : {}), ...(cause ? { cause } : {}) });
    this.running.get(executionArn)?.abort();
    return record.stopDate!;
  }

  private describe(executionArn: string): ExecutionRecord {
    const record = this.executions.get(String(executionArn));
    if (!record) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  private list(input: Json) {
    const m = this.machineByArn(String(input?.stateMachineArn ?? ''));
    const executions = [...this.executions.values()]
      .filter((e) => e.stateMachineArn === m.arn && (!input.statusFilter || e.status === input.statusFilter))
      .sort((a, b) => b.startDate - a.startDate)
      .slice(0, input.maxResults || 1000)
      .map(({ executionArn, stateMachineArn, name, status, startDate, stopDate }) => ({
        executionArn,
        stateMachineArn,
        name,
        status,
        startDate: seconds(startDate),
        ...(stopDate ? { stopDate: seconds(stopDate) } : {}),
      }));
    return { executions };
  }

  // ---- tasks --------------------------------------------------------------------------------

  private async runTask(executionArn: string, state: string, kind: TaskKind, input: Json, token?: string): Promise<Json> {
    if (kind.kind === 'unsupported')
      throw new TaskError('States.Runtime', `Task resource ${kind.resource} is not emulated locally`);
    if (kind.kind === 'function') return this.callFunction(kind.fn, input);
    let waiting: Promise<Json> | undefined;
    if (kind.wait) {
      if (!token) throw new TaskError('States.Runtime', `${state}: .waitForTaskToken needs $$.Task.Token in Parameters`);
      waiting = new Promise((resolve, reject) => this.tokens.set(token, { executionArn, state, resolve, reject }));
    }
    let result: Json;
    try {
      result = await this.integration(kind.kind, input);
    } catch (e) {
      if (token) this.tokens.delete(token);
      throw e;
    }
    return waiting ?? result;
  }

  private async integration(kind: 'lambda:invoke' | 'sqs:sendMessage' | 'events:putEvents', input: Json): Promise<Json> {
    if (kind === 'lambda:invoke') {
      const payload = await this.callFunction(functionName(String(input.FunctionName)), input.Payload ?? {});
      return { ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200, SdkHttpMetadata: { HttpStatusCode: 200 } };
    }
    const service = kind === 'sqs:sendMessage' ? this.options.sqs : this.options.bus;
    if (!service) throw new TaskError('States.Runtime', `No local service configured for ${kind}`);
    try {
      if (kind === 'sqs:sendMessage') {
        const body = typeof input.MessageBody === 'string' ? input.MessageBody : JSON.stringify(input.MessageBody);
        return await service.handle('SendMessage', { ...input, MessageBody: body });
      }
      const Entries = (input.Entries ?? []).map((e: Json) => ({
        ...e,
        Detail: typeof e.Detail === 'string' ? e.Detail : JSON.stringify(e.Detail ?? {}),
      }));
      return await service.handle('PutEvents', { Entries });
    } catch (e) {
      const err = e as AwsError;
      throw new TaskError(
        `${kind.split(':')[0] === 'sqs' ? 'SQS' : 'EventBridge'}.${err.type ?? 'AmazonServiceException'}`,
        err.message,
      );
    }
  }

  private async callFunction(fn: string, payload: Json): Promise<Json> {
    try {
      const result = await this.invoke(fn, structuredClone(payload));
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      throw new TaskError(err.name, JSON.stringify({ errorType: err.name, errorMessage: err.message }));
    }
  }

  private task(token: string, complete: boolean): PendingTask {
    const t = this.tokens.get(String(token));
    if (!t) throw new AwsError('TaskDoesNotExist', 'Task Token does not exist or the task is no longer waiting');
    if (complete) this.tokens.delete(String(token));
    return t;
  }

  // ---- persistence --------------------------------------------------------------------------

  private persist(): void {
    const dir = this.options.dataDir;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, FILE);
    writeFileSync(`${file}.tmp`, JSON.stringify([...this.executions.values()], null, 1));
    renameSync(`${file}.tmp`, file);
  }

  private restore(): void {
    const dir = this.options.dataDir;
    if (!dir || !existsSync(path.join(dir, FILE))) return;
    const saved = JSON.parse(readFileSync(path.join(dir, FILE), 'utf8')) as ExecutionRecord[];
    for (const e of saved) {
      this.executions.set(e.executionArn, e);
      if (e.status === 'RUNNING') this.interrupted.push(e);
    }
  }
}

function taskKind(resource: string): TaskKind {
  const integration = /^arn:aws:states:::(lambda:invoke|sqs:sendMessage|events:putEvents)(\.waitForTaskToken)?$/.exec(resource);
  if (integration) return { kind: integration[1] as 'lambda:invoke', wait: Boolean(integration[2]) };
  if (/^arn:aws:lambda:[^:]*:[^:]*:function:/.test(resource)) return { kind: 'function', fn: functionName(resource) };
  return { kind: 'unsupported', resource };
}

/** A Lambda function name from a name, a function ARN or a qualified function ARN. */
function functionName(nameOrArn: string): string {
  const m = /^arn:aws:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(nameOrArn);
  return m ? m[1]! : nameOrArn;
}

function parseJson(text: unknown, field: string): Json {
  try {
    return JSON.parse(String(text ?? 'null'));
  } catch {
    throw new AwsError(field === 'input' ? 'InvalidExecutionInput' : 'InvalidOutput', `Invalid JSON in ${field}`);
  }
}

function failure(e: Error): Partial<ExecutionRecord> {
  if (e.name === 'ExecutionTimeoutError') return { status: 'TIMED_OUT', error: 'States.Timeout' };
  if (e.name === 'ExecutionAbortedError') return { status: 'ABORTED' };
  const inner = e instanceof ExecutionError && e.cause instanceof Error ? e.cause : e;
  return { status: 'FAILED', error: inner.name, cause: inner.message };
}

function toApi(r: ExecutionRecord) {
  return {
    ...r,
    startDate: seconds(r.startDate),
    ...(r.stopDate ? { stopDate: seconds(r.stopDate) } : {}),
  };
}
