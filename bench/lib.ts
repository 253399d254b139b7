/**
 * Tiny benchmark harness: runs an async operation a fixed number of times with a fixed number of
 * concurrent workers, and reports throughput and latency percentiles. Every figure is printed beside
 * a baseline measured in the same run on the same machine, so ratios stay meaningful across machines.
 */
export interface Stats {
  name: string;
  ops: number;
  concurrency: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export async function measure(
  name: string,
  opts: { ops: number; concurrency: number; warmup?: number },
  op: (i: number) => Promise<unknown>,
): Promise<Stats> {
  for (let i = 0; i < (opts.warmup ?? Math.min(20, opts.ops)); i++) await op(-1 - i);
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.ops) return;
      const t = performance.now();
      try {
        await op(i);
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    ops: opts.ops,
    concurrency: opts.concurrency,
    errors,
    seconds,
    perSecond: opts.ops / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const fmt = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');

/** Prints a measured figure and its baseline side by side, with the ratios. */
export function printComparison(rows: { subject: Stats; baseline: Stats }[]): void {
  console.log(
    [
      'subject',
      'conc',
      'ops/s',
      'p50 ms',
      'p99 ms',
      'errors',
      '| baseline',
      'ops/s',
      'p50 ms',
      'p99 ms',
      '| thrpt ratio',
      'p50 ratio',
    ].join('\t'),
  );
  for (const { subject: s, baseline: b } of rows) {
    console.log(
      [
        s.name,
        s.concurrency,
        fmt(s.perSecond),
        fmt(s.p50, 2),
        fmt(s.p99, 2),
        s.errors,
        `| ${b.name}`,
        fmt(b.perSecond),
        fmt(b.p50, 2),
        fmt(b.p99, 2),
        `| ${fmt(s.perSecond / b.perSecond, 2)}`,
        fmt(s.p50 / b.p50, 2),
      ].join('\t'),
    );
  }
}

/** Puts items with BatchWriteItem, 25 at a time, into the environment's table (bench fixtures: no audit, no events). */
export async function batchPut(items: Record<string, unknown>[]): Promise<void> {
  const { BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const { ddb } = await import('#shared/clients.ts');
  const { env } = await import('#shared/env.ts');
  for (let i = 0; i < items.length; i += 25) {
    await ddb().send(
      new BatchWriteCommand({
        RequestItems: { [env.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) },
      }),
    );
  }
}

/** Runs `work` over `items` with at most `concurrency` at a time. */
export async function pool<T>(items: readonly T[], concurrency: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * Puts items with BatchWriteItem, 25 per call, `concurrency` writers at a time, retrying what DynamoDB leaves
 * unprocessed (until nothing is left), into the environment's table. Returns each call's latency in ms (a baseline's
 * p50/p99).
 */
export async function batchWriteAll(items: readonly object[], opts: { concurrency?: number } = {}): Promise<number[]> {
  const { BatchWriteCommand } = await import('@aws-sdk/lib-dynamodb');
  const { ddb } = await import('#shared/clients.ts');
  const { env } = await import('#shared/env.ts');
  const table = env.tableName;
  const chunks: object[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  const latencies: number[] = [];
  await pool(chunks, opts.concurrency ?? 1, async (chunk) => {
    const t = performance.now();
    let pending: { PutRequest: { Item: Record<string, unknown> } }[] | undefined = chunk.map((Item) => ({
      PutRequest: { Item: Item as Record<string, unknown> },
    }));
    while (pending && pending.length > 0) {
      const res = await ddb().send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = res.UnprocessedItems?.[table] as typeof pending;
    }
    latencies.push(performance.now() - t);
  });
  return latencies;
}

/**
 * Runs `fn` against a table of its own on the runtime's DynamoDB Local (TABLE_NAME switched for its duration, the
 * table deleted after), so the runtime's stream relay and audit archiver do not compete with what is measured.
 * `stream: false` creates it without a stream (nothing reads it, and DynamoDB Local pays for recording one).
 */
export async function onOwnTable<T>(prefix: string, fn: () => Promise<T>, opts: { stream?: boolean } = {}): Promise<T> {
  const { CreateTableCommand, DeleteTableCommand, waitUntilTableExists } = await import('@aws-sdk/client-dynamodb');
  const { ensureTable, localClient, tableDefinition } = await import('#local/dynamodb.ts');
  const table = `${prefix}-${Date.now().toString(36)}`;
  const admin = localClient(process.env.AWS_ENDPOINT_URL_DYNAMODB!);
  if (opts.stream === false) {
    const { StreamSpecification: _stream, ...definition } = tableDefinition(table);
    await admin.send(new CreateTableCommand(definition));
    await waitUntilTableExists({ client: admin, maxWaitTime: 60 }, { TableName: table });
  } else {
    await ensureTable(admin, table);
  }
  const previous = process.env.TABLE_NAME;
  process.env.TABLE_NAME = table;
  try {
    return await fn();
  } finally {
    process.env.TABLE_NAME = previous;
    await admin.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    admin.destroy();
  }
}

/** Median, p99 and mean of latencies in ms (sorted in place). */
export function latencySummary(ms: number[]): { p50: number; p99: number; mean: number } {
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), mean: ms.reduce((s, x) => s + x, 0) / (ms.length || 1) };
}
