/**
 * Relays the table's DynamoDB stream (on DynamoDB Local) to the manifest's stream consumers, the way Lambda
 * event source mappings with filter criteria do in AWS.
 *
 * Keeps: one independent position per consumer and shard; the same filter infra sets (INSERT records whose
 * NewImage.type.S equals the function's `stream` value; filtered-out records are skipped); Lambda-shaped
 * DynamoDBStreamEvent records (eventID, eventName, eventSourceARN, dynamodb.Keys/NewImage/OldImage/SequenceNumber,
 * ApproximateCreationDateTime in epoch seconds, binary values as base64); batches of up to 100 in stream order;
 * partial batch responses (`batchItemFailures` by SequenceNumber: processing resumes at the first failed record)
 * and retry with exponential backoff (capped) while a batch throws, which blocks that consumer's shard as in AWS;
 * parent shards are finished before their children. Positions are checkpointed per consumer and shard in a
 * JSON file (when `checkpointFile` is given), written at most every CHECKPOINT_FLUSH_MS and on stop(): a
 * restart never skips records, and after a crash (no stop) it re-delivers at most that window's records, which
 * the consumers must tolerate anyway (Lambda's stream delivery is at-least-once); without a checkpoint, shards present at start begin at `startingPosition` (default LATEST) and shards found later at
 * TRIM_HORIZON. A new stream ARN (table recreated) discards the old checkpoints.
 *
 * The shard list is described once for all consumers and reused for SHARD_LIST_TTL_MS, or until a consumer
 * reaches the end of a closed shard (its children must be found): DescribeStream on every poll of every
 * consumer was a third of DynamoDB Local's calls under load.
 *
 * Consumers at the same position share one GetRecords page (kept until every consumer took it, at most
 * PAGE_TTL_MS): each consumer reading and parsing every record of the table was the relay's largest cost.
 *
 * Does not emulate: batching windows, bisect-on-error, maximum retry attempts / record age and on-failure
 * destinations (a poison batch is retried until `stop()`), parallelization factor, tumbling windows.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { type FunctionSpec, functions as manifestFunctions } from '#functions/manifest.ts';

export type Invoke = (fnName: string, event: unknown) => Promise<unknown>;

export interface StreamRelayOptions {
  /** DynamoDB Local endpoint, e.g. http://127.0.0.1:8000 */
  endpoint: string;
  tableName: string;
  invoke?: Invoke;
  /** Functions to consider (default: the manifest); only those with `stream` set are consumers. */
  functions?: readonly FunctionSpec[];
  /** Where shards without a checkpoint start when the relay starts (default LATEST). */
  startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** JSON file holding each consumer's position per shard; without it positions live in memory only. */
  checkpointFile?: string;
  pollIntervalMs?: number;
  batchSize?: number;
  /** First retry delay after a failed batch (doubles up to 30 s). */
  retryBackoffMs?: number;
  region?: string;
  log?: (message: string, detail?: unknown) => void;
}

export interface StreamRelay {
  /** Stops polling and waits for the consumer loops to exit. */
  stop(): Promise<void>;
  /** Resolves once every record written before the call has been delivered (or filtered out). */
  drain(timeoutMs?: number): Promise<void>;
}

interface ShardPosition {
  /** Last sequence number fully handled (delivered or filtered out). */
  seq?: string;
  /** The shard is closed and every record in it has been handled. */
  done?: boolean;
}

interface Checkpoints {
  streamArn?: string;
  consumers: Record<string, Record<string, ShardPosition>>;
}

const MAX_BACKOFF_MS = 30_000;
/** How long a described shard list is reused (a closed shard's end forces a fresh one). */
export const SHARD_LIST_TTL_MS = 1_000;
/** Checkpoint writes are coalesced into one file write per window (and one on stop). */
export const CHECKPOINT_FLUSH_MS = 200;
/** How long a GetRecords page read for one consumer waits for the others at the same position. */
const PAGE_TTL_MS = 10_000;

export async function startStreamRelay(options: StreamRelayOptions): Promise<StreamRelay> {
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const clientConfig = { endpoint: options.endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const dynamo = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);
  const invoke = options.invoke ?? (async (fn, event) => (await import('#local/lambda.ts')).invoke(fn, event));
  const log = options.log ?? ((m, d) => console.error(`[streams] ${m}`, d ?? ''));
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const batchSize = options.batchSize ?? 100;
  const backoffMs = options.retryBackoffMs ?? 500;

  const table = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
  const latest = table.Table?.LatestStreamArn;
  if (!latest) throw new Error(`Table ${options.tableName} has no stream enabled`);
  const streamArn: string = latest;

  const consumers = (options.functions ?? manifestFunctions).filter((f) => f.stream);
  const consumerCount = consumers.length;
  const checkpoints = loadCheckpoints(options.checkpointFile, streamArn);
  let flushTimer: NodeJS.Timeout | undefined;
  const flushCheckpoints = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = undefined;
    writeCheckpoints(options.checkpointFile, checkpoints);
  };
  const saveCheckpoints = () => {
    if (options.checkpointFile && !flushTimer) flushTimer = setTimeout(flushCheckpoints, CHECKPOINT_FLUSH_MS);
  };

  // one shard list for every consumer, described at most once per SHARD_LIST_TTL_MS (or when stale)
  let shardList: { at: number; shards: Promise<Shard[]> } | undefined;
  const listShards = (): Promise<Shard[]> => {
    if (!shardList || Date.now() - shardList.at > SHARD_LIST_TTL_MS) {
      const shards = describeShards(streams, streamArn);
      shards.catch(() => {
        if (shardList?.shards === shards) shardList = undefined;
      });
      shardList = { at: Date.now(), shards };
    }
    return shardList.shards;
  };
  const shardListStale = () => {
    shardList = undefined;
  };
  const initialShards = new Set((await listShards()).map((s) => s.ShardId!));

  let stopped = false;
  const sleepers = new Set<() => void>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(t);
        sleepers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      sleepers.add(wake);
    });

  // Consumers at the same position of a shard share one GetRecords page (DynamoDB Local returns every
  // record to every consumer; AWS filters server-side): a page read after sequence number N is kept until
  // every consumer has taken it, or PAGE_TTL_MS. Empty pages are never shared (the next poll must look again).
  const pages = new Map<string, { page: Promise<GetRecordsCommandOutput>; takers: number; at: number }>();
  const readPage = (shardId: string, after: string | undefined, iterator: string): Promise<GetRecordsCommandOutput> => {
    const now = Date.now();
    for (const [k, v] of pages) if (now - v.at > PAGE_TTL_MS) pages.delete(k);
    const read = () => streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    if (after === undefined) return read();
    const key = `${shardId}|${after}`;
    let entry = pages.get(key);
    if (!entry) {
      const page = read();
      entry = { page, takers: 0, at: now };
      pages.set(key, entry);
      const mine = entry;
      page.then(
        (p) => {
          if ((p.Records ?? []).length === 0 && pages.get(key) === mine) pages.delete(key);
        },
        () => {
          if (pages.get(key) === mine) pages.delete(key);
        },
      );
    }
    entry.takers += 1;
    if (entry.takers >= consumerCount && pages.get(key) === entry) pages.delete(key);
    return entry.page;
  };

  /** Per consumer: completed idle passes (nothing new to read anywhere), for drain(). */
  const idlePasses = new Map<string, number>();

  async function consume(fn: FunctionSpec): Promise<void> {
    checkpoints.consumers[fn.name] ??= {};
    const positions = checkpoints.consumers[fn.name]!;
    const iterators = new Map<string, string | undefined>();
    /** Per shard: the sequence number the current iterator reads after (unknown for LATEST / TRIM_HORIZON). */
    const iteratorAfter = new Map<string, string | undefined>();
    let failures = 0;

    const iteratorFor = async (shardId: string): Promise<string | undefined> => {
      const pos = positions[shardId];
      const input = pos?.seq
        ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: pos.seq }
        : { ShardIteratorType: initialShards.has(shardId) ? (options.startingPosition ?? 'LATEST') : ('TRIM_HORIZON' as const) };
      const out = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ...input }));
      iteratorAfter.set(shardId, pos?.seq);
      return out.ShardIterator;
    };

    /** Reads one page of a shard and delivers it; returns whether anything was read. */
    const pumpShard = async (shardId: string): Promise<boolean> => {
      let iterator = iterators.has(shardId) ? iterators.get(shardId) : await iteratorFor(shardId);
      if (!iterator) {
        positions[shardId] = { ...positions[shardId], done: true };
        saveCheckpoints();
        shardListStale();
        return false;
      }
      const page = await readPage(shardId, iteratorAfter.get(shardId), iterator);
      const records = page.Records ?? [];
      const matching = records.filter((r) => r.eventName === 'INSERT' && r.dynamodb?.NewImage?.type?.S === fn.stream);
      for (let i = 0; i < matching.length && !stopped; ) {
        const batch = matching.slice(i, i + batchSize);
        const done = await deliver(batch);
        i += done;
        if (done > 0) {
          positions[shardId] = { seq: batch[done - 1]!.dynamodb!.SequenceNumber! };
          saveCheckpoints();
        }
      }
      if (stopped) return false;
      const last = records.at(-1)?.dynamodb?.SequenceNumber;
      if (last) {
        positions[shardId] = { seq: last };
        saveCheckpoints();
      }
      iterator = page.NextShardIterator;
      iterators.set(shardId, iterator);
      if (last) iteratorAfter.set(shardId, last);
      if (!iterator) {
        positions[shardId] = { ...positions[shardId], done: true };
        saveCheckpoints();
        shardListStale(); // the closed shard's children are found at once
      }
      return records.length > 0;
    };

    /** Delivers a batch until some prefix of it succeeds; returns how many leading records are done. */
    const deliver = async (batch: StreamRecord[]): Promise<number> => {
      for (;;) {
        if (stopped) return 0;
        const event: DynamoDBStreamEvent = { Records: batch.map((r) => toLambdaRecord(r, streamArn, region)) };
        try {
          const result = (await invoke(fn.name, event)) as { batchItemFailures?: { itemIdentifier?: string }[] } | undefined;
          const failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
          const firstFailed = batch.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber));
          const succeeded = failed.size === 0 ? batch.length : firstFailed;
          if (succeeded > 0) {
            failures = 0;
            return succeeded;
          }
          if (firstFailed < 0) log(`${fn.name}: batchItemFailures names unknown records; retrying the batch`);
          else log(`${fn.name}: record ${batch[0]!.dynamodb?.SequenceNumber} failed; retrying`);
        } catch (e) {
          log(`${fn.name}: batch of ${batch.length} failed; retrying`, e);
        }
        failures += 1;
        await sleep(Math.min(MAX_BACKOFF_MS, backoffMs * 2 ** (failures - 1)));
      }
    };

    while (!stopped) {
      let readSomething = false;
      try {
        const shards = await listShards();
        const known = new Set(shards.map((s) => s.ShardId!));
        for (const shard of shards) {
          const id = shard.ShardId!;
          if (stopped || positions[id]?.done) continue;
          const parent = shard.ParentShardId;
          if (parent && known.has(parent) && !positions[parent]?.done) continue;
          readSomething = (await pumpShard(id)) || readSomething;
        }
      } catch (e) {
        log(`${fn.name}: polling the stream failed`, e);
        iterators.clear(); // expired or invalid iterators are re-created from the checkpoints
        iteratorAfter.clear();
        shardListStale();
      }
      if (!readSomething) idlePasses.set(fn.name, (idlePasses.get(fn.name) ?? 0) + 1);
      if (!stopped && !readSomething) await sleep(pollIntervalMs);
    }
  }

  const loops = consumers.map((fn) => consume(fn));

  return {
    async stop() {
      stopped = true;
      for (const wake of [...sleepers]) wake();
      await Promise.allSettled(loops);
      flushCheckpoints();
      dynamo.destroy();
      streams.destroy();
    },
    async drain(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      // Two idle passes that began after this call: everything written before it has been read and handled.
      const target = new Map(consumers.map((fn) => [fn.name, (idlePasses.get(fn.name) ?? 0) + 2]));
      while (consumers.some((fn) => (idlePasses.get(fn.name) ?? 0) < target.get(fn.name)!)) {
        if (stopped) return;
        if (Date.now() > deadline) throw new Error('StreamRelay.drain: timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

async function describeShards(client: DynamoDBStreamsClient, streamArn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let start: string | undefined;
  do {
    const out = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
    shards.push(...(out.StreamDescription?.Shards ?? []));
    start = out.StreamDescription?.LastEvaluatedShardId;
  } while (start);
  return shards;
}

function loadCheckpoints(file: string | undefined, streamArn: string): Checkpoints {
  if (file && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Checkpoints;
    if (saved.streamArn === streamArn) return saved;
  }
  return { streamArn, consumers: {} };
}

function writeCheckpoints(file: string | undefined, checkpoints: Checkpoints): void {
  if (!file) return;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(checkpoints));
  renameSync(`${file}.tmp`, file);
}

/** A stream record as Lambda delivers it: plain JSON attribute values, binary as base64, dates as epoch seconds. */
export function toLambdaRecord(r: StreamRecord, streamArn: string, region: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: r.eventID!,
    eventName: r.eventName as DynamoDBRecord['eventName'],
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: r.awsRegion ?? region,
    eventSourceARN: streamArn,
    dynamodb: plain({
      ApproximateCreationDateTime: created instanceof Date ? Math.floor(created.getTime() / 1000) : created,
      Keys: d.Keys,
      NewImage: restoreEmptyMaps(d.NewImage),
      OldImage: restoreEmptyMaps(d.OldImage),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    }) as DynamoDBRecord['dynamodb'],
    ...(r.userIdentity ? { userIdentity: { type: r.userIdentity.Type, principalId: r.userIdentity.PrincipalId } } : {}),
  };
}

/**
 * The Streams client hands an empty map attribute back as `{}` (no type key), where Lambda's event has
 * `{ M: {} }`; unmarshalling `{}` fails. Restores the type, recursively, so handlers see what AWS sends.
 */
export function restoreEmptyMaps<T>(image: T): T {
  if (!image || typeof image !== 'object') return image;
  const fix = (av: unknown): unknown => {
    if (!av || typeof av !== 'object' || av instanceof Uint8Array) return av;
    const o = av as Record<string, unknown>;
    if (Object.keys(o).filter((k) => o[k] !== undefined && k !== '$unknown').length === 0) return { M: {} };
    if (o.M && typeof o.M === 'object') return { ...o, M: restoreEmptyMaps(o.M) };
    if (Array.isArray(o.L)) return { ...o, L: o.L.map(fix) };
    return av;
  };
  return Object.fromEntries(Object.entries(image as Record<string, unknown>).map(([k, v]) => [k, fix(v)])) as T;
}

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k, x]) => x !== undefined && k !== '$unknown')
        .map(([k, x]) => [k, plain(x)]),
    );
  }
  return v;
}
